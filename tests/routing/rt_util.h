/* rt_util.h — helpers shared by the routing unit tests: random IDs, IDs at a chosen prefix
 * length, contacts with addresses, keyed contacts from seeds. */
#ifndef NN_TEST_RT_UTIL_H
#define NN_TEST_RT_UTIL_H

#include <stdio.h>
#include <string.h>

#include "routing/routing.h"
#include "tests/support/testutil.h"

static inline void rt_random_id(nn_test_rng *r, nn_id *id) { nn_test_rng_fill(r, id->b, NN_ID_LEN); }

/* An ID sharing exactly k leading bits with a (k < 256). */
static inline void rt_id_with_cpl(nn_test_rng *r, const nn_id *a, unsigned k, nn_id *b)
{
	rt_random_id(r, b);
	for (unsigned i = 0; i < k; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));
		b->b[i / 8] = (uint8_t)((b->b[i / 8] & ~m) | (a->b[i / 8] & m));
	}
	uint8_t m = (uint8_t)(0x80 >> (k % 8));
	b->b[k / 8] = (uint8_t)((b->b[k / 8] & ~m) | (~a->b[k / 8] & m));
}

/* A keyless contact with one quic address "ip:port" (ip may be NULL: no address). */
static inline void rt_contact(nn_routing_contact *c, const nn_id *id, const char *ip, unsigned port)
{
	memset(c, 0, sizeof *c);
	c->id = *id;
	if (ip) {
		char ep[64];
		snprintf(ep, sizeof ep, "%.46s:%u", ip, port); /* an IPv6 literal fits */
		nn_addr_set(&c->addrs[0], "quic", ep);
		c->naddrs = 1;
	}
}

/* A keyed contact derived from a seed filled with byte s (and index i). */
static inline void rt_keyed(nn_routing_contact *c, uint32_t i, const char *ip, unsigned port)
{
	uint8_t seed[32] = {0};
	memcpy(seed, &i, sizeof i);
	seed[31] = 0x5a;
	nn_id id;
	uint8_t pub[32];
	nn_identity_id_from_seed(&id, pub, seed);
	rt_contact(c, &id, ip, port);
	memcpy(c->ed_pub, pub, 32);
}

#endif
