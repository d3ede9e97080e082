/* test_alloc.c — the hot path allocates nothing: decode, decide, TTL patch, routed-frame
 * encode, avoid patch, launch plan, dedup check, control decoders (counted through the
 * --wrap allocation counter). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "routing/control.h"
#include "routing/decide.h"
#include "routing/dedup.h"
#include "routing/knowledge.h"
#include "tests/routing/rt_util.h"
#include "tests/support/alloc_count.h"

static uint8_t g_frame[NN_WIRE_MAX_FRAME], g_out[NN_WIRE_MAX_FRAME];
static nn_routing_neighbors g_nb;

static void test_zero_allocations(void **state)
{
	nn_test_rng r = {301};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_edges *e;
	assert_int_equal(nn_routing_edges_new(&e, &self, NULL), 0);
	for (int i = 0; i < 100; i++) {
		nn_id id;
		rt_random_id(&r, &id);
		nn_routing_edges_add(e, &id, NULL, i % 2, 0, NULL, 0);
	}
	nn_routing_dedup d;
	uint8_t key[16] = {0};
	assert_int_equal(nn_routing_dedup_init(&d, 1024, 0, key), 0);
	uint8_t seed[32] = {1};
	nn_identity me;
	nn_identity_from_seed(&me, seed);
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	rt_random_id(&r, &env.target);
	env.ttl = 16;
	memcpy(env.ed_pub, me.ed_pub, 32);
	env.sent = 123;
	env.navoid = 2;
	static uint8_t payload[1200];
	env.payload = payload;
	env.plen = sizeof payload;
	uint8_t sig[64];
	nn_routing_env_sign(&me, NN_T_ROUTE, &env.target, env.sent, payload, sizeof payload, sig);
	env.sig = sig;
	int n = nn_routing_frame_encode(g_frame, sizeof g_frame, NN_T_ROUTE, &env);
	assert_true(n > 0);
	nn_addr a;
	nn_addr_set(&a, "quic", "192.0.2.1:1");
	static uint8_t pong[128];
	int pn = nn_routing_pong_encode(pong, sizeof pong, &a);
	uint8_t nonce[8] = {0};
	nn_routing_neighbors_init(&g_nb, nonce);
	nn_routing_contact c;
	rt_contact(&c, &self, "192.0.2.2", 2);
	nn_routing_neighbors_append(&g_nb, &c);
	static uint8_t nbuf[4096];
	int nbn = nn_routing_neighbors_encode(nbuf, sizeof nbuf, &g_nb);

	/* The counter sees our allocations (the proof below means something). */
	uint64_t c0 = nn_test_allocs();
	void *volatile probe = malloc(16); /* volatile: the optimizer may not elide it */
	assert_int_equal(nn_test_allocs() - c0, 1);
	free(probe);

	uint64_t before = nn_test_allocs();
	for (int i = 0; i < 1000; i++) {
		nn_routing_env got;
		uint8_t type;
		assert_int_equal(nn_routing_frame_decode(g_frame, (size_t)n, &type, &got), 0);
		nn_routing_decision dec;
		nn_routing_decide_env(e, &got, &dec);
		assert_int_equal(nn_routing_frame_set_ttl(g_frame, (size_t)n, dec.ttl), 0);
		nn_routing_launch L;
		nn_routing_launch_plan(e, &got.target, 3, NULL, 0, &L);
		assert_int_equal(nn_routing_frame_set_avoid(g_frame, (size_t)n, L.avoid[0], 2), 0);
		assert_int_equal(nn_routing_frame_encode(g_out, sizeof g_out, NN_T_ROUTE, &env), n);
		uint8_t s[64] = {0};
		memcpy(s, &i, sizeof i);
		nn_routing_dedup_check(&d, s, i);
		assert_true(nn_routing_env_fresh(got.sent, 124));
		nn_addr oa;
		assert_int_equal(nn_routing_pong_decode(pong, (size_t)pn, &oa), 0);
		assert_int_equal(nn_routing_neighbors_decode(nbuf, (size_t)nbn, &g_nb), 0);
		assert_int_equal(nn_routing_nonce_decode(nonce, 8, nonce), 0);
		nn_routing_env_digest(s, NN_T_ROUTE, &got.target, got.ed_pub, got.sent, got.payload,
				      got.plen);
	}
	assert_int_equal(nn_test_allocs() - before, 0);
	nn_routing_dedup_free(&d);
	nn_routing_edges_free(e);
}

/* Tables allocate at creation and while they grow: once the knowledge table has grown to its
 * capacity and the edge table to the edges it holds, learning (with its evictions and
 * recycling), queries, fill and edge churn allocate nothing. */
static void test_tables_allocate_only_while_growing(void **state)
{
	nn_test_rng r = {302};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt;
	nn_routing_kt_opts ko = {.capacity = 256};
	assert_int_equal(nn_routing_kt_new(&kt, &self, &ko), 0);
	nn_routing_edges *e;
	assert_int_equal(nn_routing_edges_new(&e, &self, NULL), 0);
	nn_routing_dedup d;
	uint8_t key[16] = {0};
	assert_int_equal(nn_routing_dedup_init(&d, 64, 0, key), 0);
	nn_id tmp[64];
	for (int i = 0; i < 64; i++) { /* the edge table grows to 64 edges (fill wants <= 64) */
		rt_random_id(&r, &tmp[i]);
		assert_int_equal(nn_routing_edges_add(e, &tmp[i], NULL, true, 0, NULL, 0), 0);
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(nn_routing_edges_remove(e, &tmp[i]), 0);
	nn_routing_contact c;
	uint64_t before = 0;
	for (int i = 0; i < 10000; i++) {
		if (i == 5000) /* 5000 newcomers filled the table (buckets + caches) to capacity */
			before = nn_test_allocs();
		nn_id id, inc;
		rt_id_with_cpl(&r, &self, (unsigned)i % 12, &id); /* 12 buckets: 480 > capacity */
		char ip[32];
		snprintf(ip, sizeof ip, "10.%d.%d.1", i / 200 % 250, i % 200);
		rt_contact(&c, &id, ip, 1);
		if (nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, i, &inc) ==
		    NN_ROUTING_OBS_NEED_PROBE)
			nn_routing_kt_confirm(kt, &inc, i % 2, i);
	}
	const nn_routing_kc *cl[32];
	assert_true(nn_routing_kt_closest(kt, &self, 32, cl) > 0);
	nn_addr a0;
	nn_routing_kc_addr(cl[0], 0, &a0);
	nn_id want[64];
	size_t n = nn_routing_edges_fill(e, kt, 64, NULL, NULL, want);
	for (size_t i = 0; i < n; i++)
		nn_routing_edges_add(e, &want[i], NULL, true, 0, &a0, 0);
	for (size_t i = 0; i < n; i += 2)
		nn_routing_edges_remove(e, &want[i]);
	nn_id idle[64];
	nn_routing_edges_idle(e, NN_SEC * 100, NN_SEC, NN_SEC, idle, 64);
	uint8_t rnd[32] = {0};
	nn_id t;
	nn_routing_kt_refresh_target(kt, 0, 0, rnd, &t);
	for (int i = 0; i < 500; i++) {
		uint8_t s[64] = {0};
		memcpy(s, &i, sizeof i);
		nn_routing_dedup_check(&d, s, i);
	}
	nn_routing_kt_reset(kt, &t);
	assert_int_equal(nn_test_allocs() - before, 0);
	nn_routing_dedup_free(&d);
	nn_routing_edges_free(e);
	nn_routing_kt_free(kt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_allocations),
		cmocka_unit_test(test_tables_allocate_only_while_growing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
