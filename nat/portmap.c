/* portmap.c — port-mapping policy (see portmap.h). Pure. */
#include "nat/portmap.h"

void nn_nat_portmap_init(nn_nat_portmap *p, nn_time now)
{
	p->state = NN_PM_IDLE;
	p->next = now;
	p->expires = 0;
	p->backoff = NN_PM_BACKOFF_BASE;
	p->failures = 0;
}

bool nn_nat_portmap_valid(const nn_nat_portmap *p, nn_time now)
{
	return p->state == NN_PM_MAPPED && now < p->expires;
}

int nn_nat_portmap_due(nn_nat_portmap *p, nn_time now)
{
	if (p->state == NN_PM_STOPPED)
		return NN_PM_NOTHING;
	if (p->state == NN_PM_MAPPED && now >= p->expires)
		p->state = NN_PM_IDLE; /* lapsed: stop advertising, map afresh when next is due */
	if (now < p->next)
		return NN_PM_NOTHING;
	return p->state == NN_PM_MAPPED ? NN_PM_RENEW : NN_PM_MAP;
}

void nn_nat_portmap_ok(nn_nat_portmap *p, nn_time now, uint32_t lifetime_s)
{
	if (p->state == NN_PM_STOPPED)
		return;
	p->state = NN_PM_MAPPED;
	p->failures = 0;
	p->backoff = NN_PM_BACKOFF_BASE;
	if (lifetime_s == 0) {
		p->expires = INT64_MAX;
		p->next = now + NN_PM_PERMANENT_RENEW;
		return;
	}
	nn_time life = (nn_time)lifetime_s * NN_SEC;
	p->expires = now + life;
	nn_time renew = life / 2;
	if (renew < NN_PM_MIN_RENEW)
		renew = NN_PM_MIN_RENEW;
	p->next = now + renew;
}

void nn_nat_portmap_fail(nn_nat_portmap *p, nn_time now)
{
	if (p->state == NN_PM_STOPPED)
		return;
	p->failures++;
	nn_time wait = p->backoff;
	p->backoff = p->backoff * 2 > NN_PM_BACKOFF_MAX ? NN_PM_BACKOFF_MAX : p->backoff * 2;
	p->next = now + wait;
	if (p->state == NN_PM_MAPPED) {
		if (now >= p->expires)
			p->state = NN_PM_IDLE;
		else if (p->next > p->expires)
			p->next = p->expires; /* one last try as it lapses, then map afresh */
	}
}

void nn_nat_portmap_reset(nn_nat_portmap *p, nn_time now)
{
	if (p->state == NN_PM_STOPPED)
		return;
	nn_nat_portmap_init(p, now);
}

void nn_nat_portmap_stop(nn_nat_portmap *p)
{
	p->state = NN_PM_STOPPED;
	p->expires = 0;
}
