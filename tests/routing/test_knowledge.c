/* test_knowledge.c — the knowledge table: closest vs a full-scan oracle, probe-before-evict,
 * subnet caps, key binding, PoW, source rules (third-party rewrite refused), refresh targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pow/pow.h"
#include "routing/knowledge.h"
#include "tests/routing/rt_util.h"


/* Endpoint i of a stored contact, as text (four buffers in turn: up to four in one call). */
static const char *ep_of(const nn_routing_kc *k, size_t i)
{
	static nn_addr a[4];
	static unsigned turn;
	nn_addr *p = &a[turn++ % 4];
	nn_routing_kc_addr(k, i, p);
	return p->ep;
}

static nn_routing_kt *new_kt(const nn_id *self, int pow, size_t cap)
{
	nn_routing_kt_opts o = {.pow_difficulty = pow, .capacity = cap};
	nn_routing_kt *kt = NULL;
	assert_int_equal(nn_routing_kt_new(&kt, self, &o), 0);
	return kt;
}

/* ---- closest vs oracle ---- */

static const nn_id *g_target;
static int by_distance(const void *a, const void *b)
{
	return nn_kad_cmp_distance(g_target, (const nn_id *)a, (const nn_id *)b);
}

static size_t all_entries(const nn_routing_kt *kt, nn_id *out)
{
	size_t n = 0;
	for (unsigned b = 0; b < NN_ROUTING_BUCKETS; b++)
		for (size_t i = 0; i < nn_routing_kt_bucket_len(kt, b); i++)
			out[n++] = nn_routing_kt_bucket_at(kt, b, i)->id;
	return n;
}

static void check_closest(const nn_routing_kt *kt, const nn_id *target, size_t n, nn_id *scan)
{
	size_t total = all_entries(kt, scan);
	assert_int_equal(total, nn_routing_kt_size(kt));
	g_target = target;
	qsort(scan, total, sizeof *scan, by_distance);
	const nn_routing_kc *got[64];
	size_t k = nn_routing_kt_closest(kt, target, n, got);
	assert_int_equal(k, n < total ? n : total);
	for (size_t i = 0; i < k; i++)
		assert_true(nn_kad_id_eq(&got[i]->id, &scan[i]));
}

static void test_closest_vs_full_scan(void **state)
{
	nn_test_rng r = {7};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt = new_kt(&self, 0, 8192);
	nn_routing_contact c;
	/* Random IDs fill the far buckets; IDs at every prefix length fill the deep ones. */
	for (int i = 0; i < 3000; i++) {
		nn_id id;
		if (i % 3)
			rt_random_id(&r, &id);
		else
			rt_id_with_cpl(&r, &self, (unsigned)(nn_test_rng_next(&r) % 64), &id);
		rt_contact(&c, &id, NULL, 0);
		assert_true(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, i, NULL) >= 0);
	}
	nn_id *scan = malloc(8192 * sizeof *scan);
	size_t sizes[] = {1, 3, 8, 16, 20, 33, 64};
	for (int t = 0; t < 400; t++) {
		nn_id target;
		if (t == 0)
			target = self;
		else if (t % 4 == 1)
			rt_id_with_cpl(&r, &self, (unsigned)(nn_test_rng_next(&r) % 70), &target);
		else if (t % 4 == 2)
			target = nn_routing_kt_bucket_at(kt, 0, (size_t)t % nn_routing_kt_bucket_len(kt, 0))->id;
		else
			rt_random_id(&r, &target);
		check_closest(kt, &target, sizes[t % 7], scan);
	}
	/* A sparse table (fewer entries than n). */
	nn_routing_kt *small = new_kt(&self, 0, 64);
	for (int i = 0; i < 5; i++) {
		nn_id id;
		rt_random_id(&r, &id);
		rt_contact(&c, &id, NULL, 0);
		nn_routing_kt_observe(small, &c, NN_ROUTING_SRC_SELF, 0, NULL);
	}
	check_closest(small, &self, 16, scan);
	free(scan);
	nn_routing_kt_free(small);
	nn_routing_kt_free(kt);
}

/* ---- probe before evict ---- */

static void test_probe_before_evict(void **state)
{
	nn_test_rng r = {11};
	nn_id self, ids[NN_ROUTING_K + 3];
	rt_random_id(&r, &self);
	nn_routing_kt *kt = new_kt(&self, 0, 0);
	nn_routing_contact c;
	for (int i = 0; i < NN_ROUTING_K + 3; i++)
		rt_id_with_cpl(&r, &self, 0, &ids[i]);
	for (int i = 0; i < NN_ROUTING_K; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "10.%d.0.1", i); /* distinct /24s: the subnet cap stays out */
		rt_contact(&c, &ids[i], ip, 1000 + (unsigned)i);
		assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 100 + i, NULL),
				 NN_ROUTING_OBS_ADDED);
	}
	assert_int_equal(nn_routing_kt_bucket_len(kt, 0), NN_ROUTING_K);
	/* MRU order: the last observed is first. */
	assert_true(nn_kad_id_eq(&nn_routing_kt_bucket_at(kt, 0, 0)->id, &ids[NN_ROUTING_K - 1]));

	/* A newcomer to a full bucket evicts nobody: it waits, naming the LRU incumbent. */
	nn_id inc;
	rt_contact(&c, &ids[NN_ROUTING_K], "10.0.1.1", 1);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 200, &inc),
			 NN_ROUTING_OBS_NEED_PROBE);
	assert_true(nn_kad_id_eq(&inc, &ids[0]));
	assert_true(nn_routing_kt_is_cached(kt, &ids[NN_ROUTING_K]));
	assert_null(nn_routing_kt_get(kt, &ids[NN_ROUTING_K], NULL));
	assert_int_equal(nn_routing_kt_bucket_len(kt, 0), NN_ROUTING_K);

	/* Alive: the incumbent stays and moves to the front; the next probe names the next LRU. */
	assert_int_equal(nn_routing_kt_confirm(kt, &ids[0], true, 300), 0);
	assert_true(nn_kad_id_eq(&nn_routing_kt_bucket_at(kt, 0, 0)->id, &ids[0]));
	rt_contact(&c, &ids[NN_ROUTING_K + 1], "10.0.2.1", 1);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 310, &inc),
			 NN_ROUTING_OBS_NEED_PROBE);
	assert_true(nn_kad_id_eq(&inc, &ids[1]));

	/* Dead: the incumbent goes, the freshest cached candidate takes its place. */
	assert_int_equal(nn_routing_kt_confirm(kt, &ids[1], false, 320), 0);
	assert_null(nn_routing_kt_get(kt, &ids[1], NULL));
	assert_non_null(nn_routing_kt_get(kt, &ids[NN_ROUTING_K + 1], NULL));
	assert_int_equal(nn_routing_kt_cache_len(kt, 0), 1);
	assert_int_equal(nn_routing_kt_confirm(kt, &ids[1], false, 320), NN_ENOENT);

	/* mark_dead promotes too, and removes cached entries. */
	assert_int_equal(nn_routing_kt_mark_dead(kt, &ids[2]), 0);
	assert_non_null(nn_routing_kt_get(kt, &ids[NN_ROUTING_K], NULL));
	assert_int_equal(nn_routing_kt_cache_len(kt, 0), 0);
	rt_contact(&c, &ids[NN_ROUTING_K + 2], "10.0.3.1", 1);
	nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 400, NULL);
	assert_true(nn_routing_kt_is_cached(kt, &ids[NN_ROUTING_K + 2]));
	assert_int_equal(nn_routing_kt_mark_dead(kt, &ids[NN_ROUTING_K + 2]), 0);
	assert_false(nn_routing_kt_is_cached(kt, &ids[NN_ROUTING_K + 2]));
	assert_int_equal(nn_routing_kt_mark_dead(kt, &ids[NN_ROUTING_K + 2]), NN_ENOENT);
	nn_routing_kt_free(kt);
}

static void test_cache_is_bounded(void **state)
{
	nn_test_rng r = {12};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt = new_kt(&self, 0, 0);
	nn_routing_contact c;
	nn_id last;
	for (int i = 0; i < 5 * NN_ROUTING_K; i++) {
		rt_id_with_cpl(&r, &self, 1, &last);
		rt_contact(&c, &last, NULL, 0);
		nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, i, NULL);
	}
	assert_int_equal(nn_routing_kt_bucket_len(kt, 1), NN_ROUTING_K);
	assert_int_equal(nn_routing_kt_cache_len(kt, 1), NN_ROUTING_K);
	assert_true(nn_routing_kt_is_cached(kt, &last));
	/* Re-observing a cached entry does not duplicate it. */
	rt_contact(&c, &last, NULL, 0);
	nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 1000, NULL);
	assert_int_equal(nn_routing_kt_cache_len(kt, 1), NN_ROUTING_K);
	nn_routing_kt_free(kt);
}

static void test_pool_exhaustion_recycles_cache(void **state)
{
	nn_test_rng r = {13};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt = new_kt(&self, 0, 30); /* 20 live + 10 more */
	nn_routing_contact c;
	for (int i = 0; i < 30; i++) {
		nn_id id;
		rt_id_with_cpl(&r, &self, 0, &id);
		rt_contact(&c, &id, NULL, 0);
		assert_true(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, i, NULL) >= 0);
	}
	assert_int_equal(nn_routing_kt_cache_len(kt, 0), 10);
	/* A newcomer to an empty bucket recycles a cache slot. */
	nn_id id;
	rt_id_with_cpl(&r, &self, 5, &id);
	rt_contact(&c, &id, NULL, 0);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 50, NULL),
			 NN_ROUTING_OBS_ADDED);
	assert_int_equal(nn_routing_kt_cache_len(kt, 0), 9);
	/* With no cache left at all, a newcomer is refused. */
	nn_routing_kt *tiny = new_kt(&self, 0, 2);
	for (int i = 0; i < 2; i++) {
		rt_id_with_cpl(&r, &self, (unsigned)i, &id);
		rt_contact(&c, &id, NULL, 0);
		assert_int_equal(nn_routing_kt_observe(tiny, &c, NN_ROUTING_SRC_SELF, 0, NULL),
				 NN_ROUTING_OBS_ADDED);
	}
	rt_id_with_cpl(&r, &self, 9, &id);
	rt_contact(&c, &id, NULL, 0);
	assert_int_equal(nn_routing_kt_observe(tiny, &c, NN_ROUTING_SRC_SELF, 0, NULL), NN_ENOSPC);
	nn_routing_kt_free(tiny);
	nn_routing_kt_free(kt);
}

/* The table starts small and grows with use, never past its capacity: a flood of distinct
 * newcomers leaves at most `capacity` entries (buckets + caches), the rest is refused or
 * recycles cache entries. */
static void test_growth_stops_at_capacity(void **state)
{
	nn_test_rng r = {14};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt = new_kt(&self, 0, 100);
	nn_routing_contact c;
	size_t refused = 0;
	for (int i = 0; i < 3000; i++) {
		nn_id id;
		rt_id_with_cpl(&r, &self, (unsigned)i % 40, &id);
		char ip[32];
		snprintf(ip, sizeof ip, "10.%d.%d.1", i / 200, i % 200);
		rt_contact(&c, &id, ip, 1);
		if (nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, i, NULL) == NN_ENOSPC)
			refused++;
	}
	size_t held = 0;
	for (unsigned b = 0; b < NN_ROUTING_BUCKETS; b++)
		held += nn_routing_kt_bucket_len(kt, b) + nn_routing_kt_cache_len(kt, b);
	printf("# 3000 newcomers, capacity 100: %zu held, %zu refused\n", held, refused);
	assert_true(held <= 100);
	assert_true(held >= 90);
	nn_routing_kt_free(kt);
}

/* An entry whose addresses outgrow its block moves to a bigger one: every address survives,
 * other entries and the subnet counts are untouched, and a copy holds exactly them. */
static void test_addresses_grow_and_shrink(void **state)
{
	nn_test_rng r = {15};
	nn_id self, a, b;
	rt_random_id(&r, &self);
	rt_id_with_cpl(&r, &self, 1, &a);
	rt_id_with_cpl(&r, &self, 1, &b);
	nn_routing_kt *kt = new_kt(&self, 0, 0);
	nn_routing_contact c;
	rt_contact(&c, &b, "192.0.2.9", 9);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 1, NULL),
			 NN_ROUTING_OBS_ADDED);
	rt_contact(&c, &a, "192.0.2.1", 1);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 1, NULL),
			 NN_ROUTING_OBS_ADDED);
	for (unsigned k = 1; k < NN_ROUTING_CONTACT_ADDRS + 2; k++) {
		rt_contact(&c, &a, "198.51.100.1", 1);
		for (unsigned j = 1; j < k && j < NN_ROUTING_CONTACT_ADDRS + 1; j++) {
			char ep[32];
			snprintf(ep, sizeof ep, "203.0.113.%u:%u", j, j);
			if (j < NN_ROUTING_CONTACT_ADDRS) {
				nn_addr_set(&c.addrs[j], "quic", ep);
				c.naddrs++;
			}
		}
		assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 2 + k, NULL),
				 NN_ROUTING_OBS_REFRESHED);
		const nn_routing_kc *g = nn_routing_kt_get(kt, &a, NULL);
		assert_non_null(g);
		assert_int_equal(g->naddrs, c.naddrs);
		for (unsigned j = 0; j < c.naddrs; j++) {
			nn_addr got;
			nn_routing_kc_addr(g, j, &got);
			assert_true(nn_addr_eq(&got, &c.addrs[j]));
		}
		nn_routing_contact copy;
		memset(&copy, 0xee, sizeof copy);
		nn_routing_kc_contact(&copy, g);
		assert_int_equal(copy.naddrs, c.naddrs);
		assert_true(nn_kad_id_eq(&copy.id, &a));
		for (unsigned j = 0; j < NN_ROUTING_CONTACT_ADDRS; j++)
			assert_true(j < c.naddrs ? nn_addr_eq(&copy.addrs[j], &c.addrs[j])
						 : copy.addrs[j].net_len == 0);
	}
	/* back to one address (the block stays big), then the other entry is intact */
	rt_contact(&c, &a, "192.0.2.1", 1);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 20, NULL),
			 NN_ROUTING_OBS_REFRESHED);
	assert_int_equal(nn_routing_kt_get(kt, &a, NULL)->naddrs, 1);
	const nn_routing_kc *g = nn_routing_kt_get(kt, &b, NULL);
	assert_int_equal(g->naddrs, 1);
	nn_addr want;
	nn_addr_set(&want, "quic", "192.0.2.9:9");
	assert_string_equal(ep_of(g, 0), want.ep);
	uint8_t key[16];
	assert_int_equal(nn_addr_subnet(&want, key), 0);
	assert_int_equal(nn_routing_kt_subnet_count(kt, key), 2); /* a and b share 192.0.2/24 */
	nn_routing_kt_free(kt);
}

/* ---- subnet caps ---- */

static void test_subnet_cap(void **state)
{
	nn_test_rng r = {21};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt = new_kt(&self, 0, 0);
	nn_routing_contact c;
	nn_id ids[NN_ROUTING_SUBNET_CAP + 1];
	for (int i = 0; i <= NN_ROUTING_SUBNET_CAP; i++) {
		rt_random_id(&r, &ids[i]);
		char ip[32];
		snprintf(ip, sizeof ip, "198.51.100.%d", 10 + i); /* one /24 */
		rt_contact(&c, &ids[i], ip, 4000);
		int rc = nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, i, NULL);
		if (i < NN_ROUTING_SUBNET_CAP)
			assert_int_equal(rc, NN_ROUTING_OBS_ADDED);
		else
			assert_int_equal(rc, NN_ELIMIT);
	}
	uint8_t key[16];
	assert_int_equal(nn_routing_kt_subnet_count(kt, (nn_addr_subnet(&c.addrs[0], key), key)),
			 NN_ROUTING_SUBNET_CAP);
	/* IPv6: a /64 is one subnet, the next /64 another. */
	for (int i = 0; i <= NN_ROUTING_SUBNET_CAP; i++) {
		nn_id id;
		rt_random_id(&r, &id);
		char ip[64];
		snprintf(ip, sizeof ip, "[2001:db8:0:1::%x]", i + 1);
		rt_contact(&c, &id, ip, 5);
		int rc = nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL);
		assert_int_equal(rc, i < NN_ROUTING_SUBNET_CAP ? NN_ROUTING_OBS_ADDED : NN_ELIMIT);
	}
	nn_id v6;
	rt_random_id(&r, &v6);
	rt_contact(&c, &v6, "[2001:db8:0:2::1]", 5);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL),
			 NN_ROUTING_OBS_ADDED);

	/* An address update that would move a contact into a full subnet is refused; the old
	 * address stays. Another subnet is fine. */
	rt_contact(&c, &v6, "198.51.100.200", 1);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 10, NULL),
			 NN_ROUTING_OBS_REFRESHED);
	const nn_routing_kc *got = nn_routing_kt_get(kt, &v6, NULL);
	assert_string_equal(ep_of(got, 0), "[2001:db8:0:2::1]:5");
	rt_contact(&c, &v6, "203.0.113.9", 1);
	nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 11, NULL);
	assert_string_equal(ep_of(nn_routing_kt_get(kt, &v6, NULL), 0), "203.0.113.9:1");

	/* Removing one frees a place in the subnet. */
	assert_int_equal(nn_routing_kt_mark_dead(kt, &ids[0]), 0);
	rt_contact(&c, &ids[NN_ROUTING_SUBNET_CAP], "198.51.100.99", 4000);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 20, NULL),
			 NN_ROUTING_OBS_ADDED);
	/* Names and mem hubs have no subnet: caps are inert. */
	for (int i = 0; i < 2 * NN_ROUTING_SUBNET_CAP; i++) {
		nn_id id;
		rt_random_id(&r, &id);
		rt_contact(&c, &id, NULL, 0);
		nn_addr_set(&c.addrs[0], "mem", "hub");
		c.naddrs = 1;
		assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL),
				 NN_ROUTING_OBS_ADDED);
	}
	nn_routing_kt_free(kt);
}

/* An injected subnet function: mem names "a-…" and "b-…" form two subnets. */
static int first_char_subnet(void *user, const nn_addr *a, uint8_t key[16])
{
	(*(int *)user)++;
	if (a->ep_len < 2 || a->ep[1] != '-')
		return -1;
	memset(key, 0, 16);
	key[0] = (uint8_t)a->ep[0];
	return 0;
}

static void test_injected_subnet_fn(void **state)
{
	nn_test_rng r = {22};
	nn_id self;
	rt_random_id(&r, &self);
	int calls = 0;
	nn_routing_kt_opts o = {.subnet = first_char_subnet, .subnet_user = &calls, .subnet_cap = 2};
	nn_routing_kt *kt;
	assert_int_equal(nn_routing_kt_new(&kt, &self, &o), 0);
	nn_routing_contact c;
	const char *names[] = {"a-1", "a-2", "a-3", "b-1", "x"};
	int want[] = {NN_ROUTING_OBS_ADDED, NN_ROUTING_OBS_ADDED, NN_ELIMIT, NN_ROUTING_OBS_ADDED,
		      NN_ROUTING_OBS_ADDED};
	for (int i = 0; i < 5; i++) {
		nn_id id;
		rt_random_id(&r, &id);
		rt_contact(&c, &id, NULL, 0);
		nn_addr_set(&c.addrs[0], "mem", names[i]);
		c.naddrs = 1;
		assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL), want[i]);
	}
	assert_true(calls >= 5);
	nn_routing_kt_free(kt);
}

/* ---- key binding, PoW, x_pub ---- */

/* An address too long to pack (a long host name) is left out and counted; the others of the
 * contact are kept in order, and a contact with no other address is kept without one. */
static void test_unpacked_addresses_left_out(void **state)
{
	(void)state;
	nn_test_rng r = {17};
	nn_id self, a, b;
	rt_random_id(&r, &self);
	rt_id_with_cpl(&r, &self, 2, &a);
	rt_id_with_cpl(&r, &self, 3, &b);
	nn_routing_kt *kt = new_kt(&self, 0, 0);
	nn_routing_contact c;
	rt_contact(&c, &a, "192.0.2.1", 1);
	assert_int_equal(nn_addr_set(&c.addrs[1], "quic", "a-rather-long-bootstrap-host.example.org:1"), 0);
	assert_int_equal(nn_addr_set(&c.addrs[2], "mem", "short"), 0);
	c.naddrs = 3;
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 1, NULL),
			 NN_ROUTING_OBS_ADDED);
	assert_int_equal(nn_routing_kt_unpacked(kt), 1);
	const nn_routing_kc *got = nn_routing_kt_get(kt, &a, NULL);
	assert_int_equal(got->naddrs, 2);
	assert_string_equal(ep_of(got, 0), "192.0.2.1:1");
	assert_string_equal(ep_of(got, 1), "short");
	/* the same observation again: no change, counted again (a drop per observation) */
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 2, NULL),
			 NN_ROUTING_OBS_REFRESHED);
	assert_int_equal(nn_routing_kt_unpacked(kt), 2);
	assert_int_equal(nn_routing_kt_get(kt, &a, NULL)->naddrs, 2);
	/* only the long name: kept, with no address; the stored one is not replaced by nothing */
	rt_contact(&c, &b, "192.0.2.2", 2);
	assert_int_equal(nn_addr_set(&c.addrs[0], "quic", "a-rather-long-bootstrap-host.example.org:2"), 0);
	c.naddrs = 1;
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 3, NULL),
			 NN_ROUTING_OBS_ADDED);
	assert_int_equal(nn_routing_kt_get(kt, &b, NULL)->naddrs, 0);
	rt_contact(&c, &a, "192.0.2.1", 1);
	assert_int_equal(nn_addr_set(&c.addrs[0], "quic", "a-rather-long-bootstrap-host.example.org:3"), 0);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 4, NULL),
			 NN_ROUTING_OBS_REFRESHED);
	assert_int_equal(nn_routing_kt_get(kt, &a, NULL)->naddrs, 2);
	assert_int_equal(nn_routing_kt_unpacked(kt), 4);
	nn_routing_kt_free(kt);
}

static void test_key_binding_and_xpub(void **state)
{
	nn_test_rng r = {31};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt = new_kt(&self, 0, 0);
	nn_routing_contact c;
	rt_keyed(&c, 1, "192.0.2.1", 1);
	/* A key that does not hash to the ID is refused. */
	nn_routing_contact bad = c;
	bad.ed_pub[0] ^= 1;
	assert_int_equal(nn_routing_kt_observe(kt, &bad, NN_ROUTING_SRC_SELF, 0, NULL),
			 NN_EIDMISMATCH);
	assert_int_equal(nn_routing_kt_size(kt), 0);
	/* x_pub is never stored by observe. */
	memset(c.x_pub, 0x77, sizeof c.x_pub);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL),
			 NN_ROUTING_OBS_ADDED);
	const nn_routing_kc *got = nn_routing_kt_get(kt, &c.id, NULL);
	assert_memory_equal(got->ed_pub, c.ed_pub, 32);
	nn_routing_contact out;
	nn_routing_kc_contact(&out, got);
	uint8_t zero[32] = {0};
	assert_memory_equal(out.x_pub, zero, 32);
	assert_memory_equal(out.ed_pub, c.ed_pub, 32);
	assert_true(nn_addr_eq(&out.addrs[0], &c.addrs[0]));
	/* Self is ignored. */
	rt_contact(&c, &self, "192.0.2.2", 1);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL),
			 NN_ROUTING_OBS_IGNORED);
	nn_routing_kt_free(kt);
}

static void test_pow_for_newcomers(void **state)
{
	nn_test_rng r = {32};
	nn_id self;
	rt_random_id(&r, &self);
	const int d = 3;
	nn_routing_kt *kt = new_kt(&self, d, 0);
	nn_routing_contact c;
	int passed = 0, failed = 0;
	for (uint32_t i = 0; i < 64; i++) {
		rt_keyed(&c, 100 + i, "192.0.2.1", (unsigned)i);
		int rc = nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL);
		if (nn_pow_ok(&c.id, d)) {
			assert_int_equal(rc, NN_ROUTING_OBS_ADDED);
			passed++;
		} else {
			assert_int_equal(rc, NN_EPOW);
			failed++;
		}
	}
	assert_true(passed > 0 && failed > 0);
	/* Keyless newcomers are refused while PoW is on, even with a passing ID. */
	nn_id id;
	rt_random_id(&r, &id);
	id.b[0] = 0;
	rt_contact(&c, &id, "192.0.2.9", 1);
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL), NN_EPOW);
	nn_routing_kt_free(kt);
}

/* ---- source rules: a third party cannot rewrite a keyed contact ---- */

static void test_third_party_rewrite_refused(void **state)
{
	nn_test_rng r = {41};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt = new_kt(&self, 0, 0);
	nn_routing_contact x;
	rt_keyed(&x, 7, "192.0.2.10", 7000);
	assert_int_equal(nn_routing_kt_observe(kt, &x, NN_ROUTING_SRC_SELF, 100, NULL),
			 NN_ROUTING_OBS_ADDED);

	/* A keyed hint (ed_pub is public) with another address and PublicAnchor: refused. */
	nn_routing_contact h = x;
	nn_addr_set(&h.addrs[0], "quic", "203.0.113.66:6666");
	h.caps = NN_ROUTING_CAP_ANCHOR | NN_ROUTING_CAP_RELAY;
	assert_int_equal(nn_routing_kt_observe(kt, &h, NN_ROUTING_SRC_HINT, 200, NULL),
			 NN_ROUTING_OBS_IGNORED);
	nn_time seen;
	const nn_routing_kc *got = nn_routing_kt_get(kt, &x.id, &seen);
	assert_string_equal(ep_of(got, 0), "192.0.2.10:7000");
	assert_int_equal(got->caps, 0);
	assert_int_equal(seen, 100); /* hints do not refresh */
	/* A keyless hint for the same ID: refused too. */
	memset(h.ed_pub, 0, sizeof h.ed_pub);
	assert_int_equal(nn_routing_kt_observe(kt, &h, NN_ROUTING_SRC_HINT, 200, NULL),
			 NN_ROUTING_OBS_IGNORED);
	assert_string_equal(ep_of(nn_routing_kt_get(kt, &x.id, NULL), 0), "192.0.2.10:7000");

	/* The contact itself may move and change caps. */
	h = x;
	nn_addr_set(&h.addrs[0], "quic", "203.0.113.5:7001");
	h.caps = NN_ROUTING_CAP_RELAY;
	assert_int_equal(nn_routing_kt_observe(kt, &h, NN_ROUTING_SRC_SELF, 300, NULL),
			 NN_ROUTING_OBS_REFRESHED);
	got = nn_routing_kt_get(kt, &x.id, &seen);
	assert_string_equal(ep_of(got, 0), "203.0.113.5:7001");
	assert_int_equal(got->caps, NN_ROUTING_CAP_RELAY);
	assert_int_equal(seen, 300);

	/* Keyless stored contact (e.g. a bootstrap entry): a keyed hint binds the key but does not
	 * replace its address; an empty address list may be filled. */
	nn_routing_contact y;
	rt_keyed(&y, 8, "192.0.2.20", 1);
	nn_routing_contact y_keyless = y;
	memset(y_keyless.ed_pub, 0, 32);
	nn_routing_kt_observe(kt, &y_keyless, NN_ROUTING_SRC_SELF, 0, NULL);
	h = y;
	nn_addr_set(&h.addrs[0], "quic", "203.0.113.66:6666");
	assert_int_equal(nn_routing_kt_observe(kt, &h, NN_ROUTING_SRC_HINT, 5, NULL),
			 NN_ROUTING_OBS_REFRESHED);
	got = nn_routing_kt_get(kt, &y.id, NULL);
	assert_memory_equal(got->ed_pub, y.ed_pub, 32);
	assert_string_equal(ep_of(got, 0), "192.0.2.20:1");

	nn_routing_contact z;
	rt_keyed(&z, 9, NULL, 0); /* e.g. a routed originator: keyless of address */
	memset(z.ed_pub, 0, 32);
	nn_routing_kt_observe(kt, &z, NN_ROUTING_SRC_SELF, 0, NULL);
	rt_contact(&h, &z.id, "192.0.2.30", 3);
	assert_int_equal(nn_routing_kt_observe(kt, &h, NN_ROUTING_SRC_HINT, 1, NULL),
			 NN_ROUTING_OBS_REFRESHED);
	assert_int_equal(nn_routing_kt_get(kt, &z.id, NULL)->naddrs, 1);

	/* The hint sanitizer strips keyless hints' addresses and every x_pub. */
	nn_routing_contact s;
	rt_contact(&s, &z.id, "192.0.2.40", 4);
	memset(s.x_pub, 1, 32);
	nn_routing_contact_sanitize_hint(&s);
	assert_int_equal(s.naddrs, 0);
	uint8_t zero[32] = {0};
	assert_memory_equal(s.x_pub, zero, 32);
	rt_keyed(&s, 10, "192.0.2.41", 4);
	nn_routing_contact_sanitize_hint(&s);
	assert_int_equal(s.naddrs, 1);
	nn_routing_kt_free(kt);
}

static void test_self_observation_refreshes_mru(void **state)
{
	nn_test_rng r = {42};
	nn_id self, a, b;
	rt_random_id(&r, &self);
	rt_id_with_cpl(&r, &self, 2, &a);
	rt_id_with_cpl(&r, &self, 2, &b);
	nn_routing_kt *kt = new_kt(&self, 0, 0);
	nn_routing_contact c;
	rt_contact(&c, &a, "192.0.2.1", 1);
	nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 1, NULL);
	rt_contact(&c, &b, "192.0.2.2", 1);
	nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 2, NULL);
	assert_true(nn_kad_id_eq(&nn_routing_kt_bucket_at(kt, 2, 0)->id, &b));
	rt_contact(&c, &a, NULL, 0); /* no address: addresses kept */
	assert_int_equal(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 3, NULL),
			 NN_ROUTING_OBS_REFRESHED);
	assert_true(nn_kad_id_eq(&nn_routing_kt_bucket_at(kt, 2, 0)->id, &a));
	assert_int_equal(nn_routing_kt_get(kt, &a, NULL)->naddrs, 1);
	/* A hint does not reorder. */
	rt_contact(&c, &b, NULL, 0);
	nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_HINT, 4, NULL);
	assert_true(nn_kad_id_eq(&nn_routing_kt_bucket_at(kt, 2, 0)->id, &a));
	nn_routing_kt_free(kt);
}

/* ---- refresh targets ---- */

/* A table for a random self (seeded) holding one contact in each of buckets[0..n). */
static nn_routing_kt *refresh_kt(uint64_t seed, const unsigned *buckets, size_t n, nn_id *self,
				 uint8_t rnd[32])
{
	nn_test_rng r = {seed};
	rt_random_id(&r, self);
	nn_routing_kt *kt = new_kt(self, 0, 0);
	nn_test_rng_fill(&r, rnd, 32);
	nn_id t;
	assert_int_equal(nn_routing_kt_refresh_target(kt, 0, NN_SEC, rnd, &t), NN_ENOENT);
	for (size_t i = 0; i < n; i++) {
		nn_id id;
		nn_routing_contact c;
		rt_id_with_cpl(&r, self, buckets[i], &id);
		rt_contact(&c, &id, NULL, 0);
		nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL);
	}
	return kt;
}

static void test_refresh_target(void **state)
{
	nn_id self, t;
	uint8_t rnd[32];
	unsigned buckets[] = {3, 9, 40};
	nn_routing_kt *kt = refresh_kt(51, buckets, 3, &self, rnd);
	const nn_time stale = 15 * 60 * NN_SEC;
	/* Never-refreshed buckets first, then none until stale_after passes. */
	for (int i = 0; i < 3; i++) {
		int b = nn_routing_kt_refresh_target(kt, 1000 + i, stale, rnd, &t);
		assert_int_equal(b, (int)buckets[i]);
		assert_int_equal(nn_kad_cpl(&self, &t), buckets[i]);
	}
	assert_int_equal(nn_routing_kt_refresh_target(kt, 1000 + stale - 1, stale, rnd, &t),
			 NN_ENOENT);
	/* The one refreshed longest ago comes first. */
	assert_int_equal(nn_routing_kt_refresh_target(kt, 1003 + stale, stale, rnd, &t), 3);
	assert_int_equal(nn_routing_kt_refresh_target(kt, 1003 + stale, stale, rnd, &t), 9);
	assert_int_equal(nn_routing_kt_refresh_target(kt, 1003 + stale, stale, rnd, &t), 40);
	assert_int_equal(nn_routing_kt_refresh_target(kt, 1003 + stale, stale, rnd, &t), NN_ENOENT);
	/* Extreme times do not wrap. */
	assert_int_equal(nn_routing_kt_refresh_target(kt, INT64_MIN, stale, rnd, &t), NN_ENOENT);
	assert_true(nn_routing_kt_refresh_target(kt, INT64_MAX, stale, rnd, &t) >= 0);
	nn_routing_kt_free(kt);
}

/* Empty buckets farther out than the deepest bucket holding two or more contacts are gaps in
 * our knowledge and get refreshed too (farthest first); a lone deep contact (bucket 40) opens
 * no gap before it. Without this a node whose table holds no far contacts (a joiner that met
 * only its region) never learns any once it is out of the joining phase. */
static void test_refresh_target_fills_gaps(void **state)
{
	nn_id self, t;
	uint8_t rnd[32];
	unsigned buckets[] = {3, 3, 40};
	nn_routing_kt *kt = refresh_kt(52, buckets, 3, &self, rnd);
	assert_int_equal(nn_routing_kt_bucket_len(kt, 3), 2);
	const nn_time stale = 15 * 60 * NN_SEC;
	int want[] = {0, 1, 2, 3, 40};
	for (int i = 0; i < 5; i++) {
		int b = nn_routing_kt_refresh_target(kt, 1000 + i, stale, rnd, &t);
		assert_int_equal(b, want[i]);
		assert_int_equal(nn_kad_cpl(&self, &t), (unsigned)want[i]);
	}
	assert_int_equal(nn_routing_kt_refresh_target(kt, 1000 + stale - 1, stale, rnd, &t),
			 NN_ENOENT);
	/* stale again: the gaps with the rest, oldest first */
	for (int i = 0; i < 5; i++)
		assert_int_equal(nn_routing_kt_refresh_target(kt, 1005 + stale, stale, rnd, &t),
				 want[i]);
	nn_routing_kt_free(kt);
}

static void test_reset(void **state)
{
	nn_test_rng r = {61};
	nn_id self, other;
	rt_random_id(&r, &self);
	rt_random_id(&r, &other);
	nn_routing_kt *kt = new_kt(&self, 0, 64);
	nn_routing_contact c;
	for (int i = 0; i < 100; i++) {
		nn_id id;
		rt_random_id(&r, &id);
		rt_contact(&c, &id, "198.51.100.1", 1);
		nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL);
	}
	assert_int_equal(nn_routing_kt_size(kt), NN_ROUTING_SUBNET_CAP);
	nn_routing_kt_reset(kt, &other);
	assert_int_equal(nn_routing_kt_size(kt), 0);
	assert_true(nn_kad_id_eq(nn_routing_kt_self(kt), &other));
	uint8_t key[16];
	nn_addr_subnet(&c.addrs[0], key);
	assert_int_equal(nn_routing_kt_subnet_count(kt, key), 0);
	for (int i = 0; i < 64; i++) { /* the whole pool is usable again */
		nn_id id;
		rt_id_with_cpl(&r, &other, (unsigned)(i % 3), &id);
		rt_contact(&c, &id, NULL, 0);
		assert_true(nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL) > 0);
	}
	nn_routing_kt_free(kt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closest_vs_full_scan),
		cmocka_unit_test(test_probe_before_evict),
		cmocka_unit_test(test_cache_is_bounded),
		cmocka_unit_test(test_pool_exhaustion_recycles_cache),
		cmocka_unit_test(test_growth_stops_at_capacity),
		cmocka_unit_test(test_addresses_grow_and_shrink),
		cmocka_unit_test(test_subnet_cap),
		cmocka_unit_test(test_injected_subnet_fn),
		cmocka_unit_test(test_unpacked_addresses_left_out),
		cmocka_unit_test(test_key_binding_and_xpub),
		cmocka_unit_test(test_pow_for_newcomers),
		cmocka_unit_test(test_third_party_rewrite_refused),
		cmocka_unit_test(test_self_observation_refreshes_mru),
		cmocka_unit_test(test_refresh_target),
		cmocka_unit_test(test_refresh_target_fills_gaps),
		cmocka_unit_test(test_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
