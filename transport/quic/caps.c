/* caps.c — inbound admission caps (local policy): a global count and a per-source-IP count,
 * checked when the first Initial of a new connection arrives, before anything is allocated for
 * it. Half-open handshakes count, so a flood from one IP stops at the per-IP cap and a flood
 * from many stops at the global one. The table is a flat array of at most `max` IPs (one per
 * counted connection at worst), scanned linearly: 256 entries by default. */
#include <stdlib.h>
#include <string.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"

int nn_quic_caps_init(nn_quic_caps *c, uint32_t max, uint32_t per_ip)
{
	memset(c, 0, sizeof *c);
	c->max = max;
	c->per_ip = per_ip;
	c->ips = calloc(max ? max : 1, sizeof *c->ips);
	return c->ips ? 0 : NN_ENOMEM;
}

void nn_quic_caps_fini(nn_quic_caps *c)
{
	free(c->ips);
	c->ips = NULL;
}

void nn_quic_ip_key(const struct sockaddr *sa, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		/* v4-mapped addresses are already in the mapped form: one key per IPv4 source */
		memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static nn_quic_ipcount *find(nn_quic_caps *c, const uint8_t ip[16])
{
	for (uint32_t i = 0; i < c->n; i++)
		if (!memcmp(c->ips[i].ip, ip, 16))
			return &c->ips[i];
	return NULL;
}

int nn_quic_caps_admit(nn_quic_caps *c, const uint8_t ip[16], int *which)
{
	if (c->total >= c->max) {
		*which = 1;
		return NN_ELIMIT;
	}
	nn_quic_ipcount *e = find(c, ip);
	if (e && e->n >= c->per_ip) {
		*which = 2;
		return NN_ELIMIT;
	}
	if (!e) {
		e = &c->ips[c->n++]; /* n <= total < max */
		memcpy(e->ip, ip, 16);
		e->n = 0;
	}
	e->n++;
	c->total++;
	return 0;
}

void nn_quic_caps_release(nn_quic_caps *c, const uint8_t ip[16])
{
	nn_quic_ipcount *e = find(c, ip);
	if (!e || !c->total)
		return;
	c->total--;
	if (--e->n == 0)
		*e = c->ips[--c->n];
}
