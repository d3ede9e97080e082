/* keepalive.c — the NAT mapping-lifetime estimator (rules in keepalive.h). */
#include "nat/keepalive.h"

#include <string.h>

void nn_nat_ka_init(nn_nat_ka *k, nn_time now)
{
	memset(k, 0, sizeof *k);
	k->next_probe = now;
}

bool nn_nat_ka_survived(nn_nat_ka *k, nn_time silence)
{
	if (silence <= k->survived)
		return false;
	k->survived = silence;
	if (k->failed && k->failed <= silence)
		k->failed = 0; /* contradicted: the NAT changed, or the failure was a lie */
	return true;
}

nn_time nn_nat_ka_interval(const nn_nat_ka *k)
{
	nn_time t = NN_NAT_KA_DEFAULT;
	if (k->survived / 10 * 9 > t)
		t = k->survived / 10 * 9;
	if (k->failed && k->failed / 5 * 4 < t)
		t = k->failed / 5 * 4;
	if (t < NN_NAT_KA_FLOOR)
		t = NN_NAT_KA_FLOOR;
	if (t > NN_NAT_KA_MAX)
		t = NN_NAT_KA_MAX;
	return t;
}

/* The next silence worth probing, or 0 when the bounds are close enough (or at the cap). */
static nn_time next_gap(const nn_nat_ka *k)
{
	nn_time lo = k->survived;
	if (k->failed) {
		nn_time slack = k->failed / 10 > 5 * NN_SEC ? k->failed / 10 : 5 * NN_SEC;
		return k->failed - lo > slack ? lo + (k->failed - lo) / 2 : 0;
	}
	if (lo >= NN_NAT_KA_MAX_GAP)
		return 0;
	nn_time base = lo > NN_NAT_KA_DEFAULT ? lo : NN_NAT_KA_DEFAULT;
	nn_time g = base + base / 2;
	return g > NN_NAT_KA_MAX_GAP ? NN_NAT_KA_MAX_GAP : g;
}

nn_time nn_nat_ka_probe_start(nn_nat_ka *k, nn_time now)
{
	if (k->probing || now < k->next_probe)
		return 0;
	nn_time g = next_gap(k);
	if (!g) {
		/* nothing left to learn (probe_done deferred us by NN_NAT_KA_RECHECK): re-check
		 * the silence we rely on */
		g = k->failed ? k->failed / 5 * 4 : k->survived;
		if (g < NN_NAT_KA_FLOOR)
			return 0;
	}
	k->probing = g;
	return g;
}

void nn_nat_ka_probe_done(nn_nat_ka *k, nn_time now, nn_nat_ka_outcome o, nn_time silence)
{
	nn_time g = k->probing;
	k->probing = 0;
	switch (o) {
	case NN_NAT_KA_SURVIVED:
		k->probes_survived++;
		(void)nn_nat_ka_survived(k, silence);
		k->next_probe = now;
		break;
	case NN_NAT_KA_FAILED:
		k->probes_failed++;
		if (g && (!k->failed || g < k->failed))
			k->failed = g;
		if (k->survived >= k->failed)
			k->survived = 0; /* contradicted: trust the newer evidence */
		k->next_probe = now;
		break;
	default:
		k->probes_none++;
		k->next_probe = now + NN_NAT_KA_RETRY;
		return;
	}
	if (!next_gap(k))
		k->next_probe = now + NN_NAT_KA_RECHECK;
}
