/* test_decide.c — decide against an exhaustive ranking oracle; deliver-before-TTL, TTL clamp,
 * drop at 0, avoid set, local optimum; disjoint launch plan; ties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "routing/decide.h"
#include "tests/routing/rt_util.h"

static nn_routing_edges *new_edges(const nn_id *self)
{
	nn_routing_edges_opts o = {.max_outgoing = 512, .inbound_cap = 512};
	nn_routing_edges *e;
	assert_int_equal(nn_routing_edges_new(&e, self, &o), 0);
	return e;
}

static const nn_id *g_t;
static int by_dist(const void *a, const void *b)
{
	return nn_kad_cmp_distance(g_t, (const nn_id *)a, (const nn_id *)b);
}

/* Oracle: rank every edge; keep those strictly closer than self and not avoided; first 8. */
static size_t oracle(const nn_routing_edges *e, const nn_id *t, const nn_id *avoid, size_t navoid,
		     nn_id *out)
{
	size_t n = 0;
	static nn_id all[1024];
	for (size_t i = 0; i < nn_routing_edges_len(e); i++) {
		const nn_id *id = &nn_routing_edges_at(e, i)->id;
		if (nn_kad_cmp_distance(t, id, nn_routing_edges_self(e)) >= 0)
			continue;
		bool av = false;
		for (size_t j = 0; j < navoid; j++)
			av |= nn_kad_id_eq(id, &avoid[j]);
		if (!av)
			all[n++] = *id;
	}
	g_t = t;
	qsort(all, n, sizeof *all, by_dist);
	if (n > NN_ROUTING_CANDIDATES)
		n = NN_ROUTING_CANDIDATES;
	memcpy(out, all, n * sizeof *out);
	return n;
}

static void test_decide_vs_oracle(void **state)
{
	nn_test_rng r = {101};
	for (int round = 0; round < 30; round++) {
		nn_id self;
		rt_random_id(&r, &self);
		nn_routing_edges *e = new_edges(&self);
		size_t nedges = (size_t)(nn_test_rng_next(&r) % 300);
		for (size_t i = 0; i < nedges; i++) {
			nn_id id;
			uint64_t kind = nn_test_rng_next(&r) % 4;
			if (kind == 0)
				rt_random_id(&r, &id);
			else if (kind == 1) /* same top word as self: the slow path */
				rt_id_with_cpl(&r, &self, 64 + (unsigned)(nn_test_rng_next(&r) % 100), &id);
			else
				rt_id_with_cpl(&r, &self, (unsigned)(nn_test_rng_next(&r) % 40), &id);
			nn_routing_edges_add(e, &id, (void *)(uintptr_t)(i + 1), i % 2, 0, NULL, 0);
		}
		/* Removals reshuffle the dense and sorted views; decide must not care. */
		for (size_t i = 0; i < nedges / 3 && nn_routing_edges_len(e); i++) {
			size_t k = (size_t)(nn_test_rng_next(&r) % nn_routing_edges_len(e));
			nn_id gone = nn_routing_edges_at(e, k)->id;
			assert_int_equal(nn_routing_edges_remove(e, &gone), 0);
		}
		for (int q = 0; q < 200; q++) {
			nn_id t, avoid[3];
			uint64_t kind = nn_test_rng_next(&r) % 4;
			if (kind == 0 || nn_routing_edges_len(e) == 0)
				rt_random_id(&r, &t);
			else if (kind == 1)
				t = nn_routing_edges_at(e, (size_t)(nn_test_rng_next(&r) %
							     nn_routing_edges_len(e)))->id;
			else
				rt_id_with_cpl(&r, &self, (unsigned)(nn_test_rng_next(&r) % 120), &t);
			size_t navoid = (size_t)(nn_test_rng_next(&r) % 4);
			for (size_t j = 0; j < navoid; j++) {
				if (nn_routing_edges_len(e) && j % 2 == 0)
					avoid[j] = nn_routing_edges_at(e, (size_t)(nn_test_rng_next(&r) %
								  nn_routing_edges_len(e)))->id;
				else
					rt_random_id(&r, &avoid[j]);
			}
			nn_id want[8];
			size_t wn = oracle(e, &t, avoid, navoid, want);
			nn_routing_decision d;
			nn_routing_action a = nn_routing_decide(e, &t, 16, avoid, navoid, &d);
			assert_int_equal(a, wn ? NN_ROUTING_FORWARD : NN_ROUTING_DROP);
			assert_int_equal(d.n, wn);
			for (size_t j = 0; j < wn; j++) {
				assert_true(nn_kad_id_eq(&d.cand[j].id, &want[j]));
				assert_ptr_equal(d.cand[j].conn,
						 nn_routing_edges_find(e, &want[j])->conn);
			}
			if (wn)
				assert_int_equal(d.ttl, 15);
		}
		nn_routing_edges_free(e);
	}
}

static void test_deliver_ttl_and_clamp(void **state)
{
	nn_test_rng r = {102};
	nn_id self, a, t;
	rt_random_id(&r, &self);
	nn_routing_edges *e = new_edges(&self);
	rt_id_with_cpl(&r, &self, 0, &a);
	nn_routing_edges_add(e, &a, NULL, true, 0, NULL, 0);
	nn_routing_decision d;
	/* Deliver is checked before the TTL. */
	assert_int_equal(nn_routing_decide(e, &self, 0, NULL, 0, &d), NN_ROUTING_DELIVER);
	assert_int_equal(nn_routing_decide(e, &self, 200, NULL, 0, &d), NN_ROUTING_DELIVER);
	t = a; /* a is strictly closer to itself than self is */
	assert_int_equal(nn_routing_decide(e, &t, 0, NULL, 0, &d), NN_ROUTING_DROP);
	assert_int_equal(nn_routing_decide(e, &t, 1, NULL, 0, &d), NN_ROUTING_FORWARD);
	assert_int_equal(d.ttl, 0);
	/* Any TTL above 16 is clamped to 16: the next hop sees 15. */
	for (unsigned ttl = 16; ttl <= 255; ttl++) {
		assert_int_equal(nn_routing_decide(e, &t, (uint8_t)ttl, NULL, 0, &d), NN_ROUTING_FORWARD);
		assert_int_equal(d.ttl, 15);
	}
	/* The avoid set removes the only candidate: a local optimum, Drop. */
	assert_int_equal(nn_routing_decide(e, &t, 16, &a, 1, &d), NN_ROUTING_DROP);
	/* A target in the far half with an edge only in self's half: no strictly closer edge. */
	nn_id near;
	rt_id_with_cpl(&r, &self, 3, &near);
	nn_routing_edges_remove(e, &a);
	nn_routing_edges_add(e, &near, NULL, true, 0, NULL, 0);
	t = self;
	t.b[0] ^= 0x80; /* self with bit 0 flipped: near differs from t at bits 0 and 3 */
	assert_int_equal(nn_routing_decide(e, &t, 16, NULL, 0, &d), NN_ROUTING_DROP);
	/* navoid above 3 is read as 3. */
	nn_id av[5];
	for (int i = 0; i < 5; i++)
		rt_random_id(&r, &av[i]);
	av[4] = near;
	assert_int_equal(nn_routing_decide(e, &near, 16, av, 5, &d), NN_ROUTING_FORWARD);
	nn_routing_edges_free(e);
}

static void test_launch_plan(void **state)
{
	nn_test_rng r = {103};
	nn_id self, t;
	rt_random_id(&r, &self);
	rt_random_id(&r, &t);
	nn_routing_edges *e = new_edges(&self);
	nn_routing_launch L;
	assert_int_equal(nn_routing_launch_plan(e, &t, 3, NULL, 0, &L), NN_EUNROUTABLE);
	assert_int_equal(nn_routing_launch_plan(e, &t, 4, NULL, 0, &L), NN_EINVAL);
	nn_id ids[10];
	for (int i = 0; i < 10; i++) {
		rt_random_id(&r, &ids[i]);
		nn_routing_edges_add(e, &ids[i], (void *)(uintptr_t)(i + 1), true, 0, NULL, 0);
	}
	g_t = &t;
	nn_id sorted[10];
	memcpy(sorted, ids, sizeof ids);
	qsort(sorted, 10, sizeof *sorted, by_dist);
	assert_int_equal(nn_routing_launch_plan(e, &t, 3, NULL, 0, &L), 3);
	assert_int_equal(L.navoid, 2);
	for (int i = 0; i < 3; i++) {
		assert_true(nn_kad_id_eq(&L.hop[i].id, &sorted[i]));
		/* each copy avoids the other first hops, never its own */
		for (size_t j = 0; j < L.navoid; j++)
			assert_false(nn_kad_id_eq(&L.avoid[i][j], &L.hop[i].id));
		assert_true(nn_kad_id_eq(&L.avoid[i][0], &sorted[i == 0 ? 1 : 0]));
		assert_true(nn_kad_id_eq(&L.avoid[i][1], &sorted[i == 2 ? 1 : 2]));
	}
	/* A relaunch with fresh first hops. */
	nn_id used[3] = {L.hop[0].id, L.hop[1].id, L.hop[2].id};
	assert_int_equal(nn_routing_launch_plan(e, &t, 3, used, 3, &L), 3);
	for (int i = 0; i < 3; i++)
		assert_true(nn_kad_id_eq(&L.hop[i].id, &sorted[3 + i]));
	/* The target is a live edge: it is the first hop and no copy's avoid set names it, so
	 * the other copies can still end at it. */
	nn_routing_edges_add(e, &t, (void *)(uintptr_t)99, true, 0, NULL, 0);
	assert_int_equal(nn_routing_launch_plan(e, &t, 3, NULL, 0, &L), 3);
	assert_true(nn_kad_id_eq(&L.hop[0].id, &t));
	assert_int_equal(L.navoid, 1);
	assert_true(nn_kad_id_eq(&L.avoid[0][0], &sorted[0]));
	assert_true(nn_kad_id_eq(&L.avoid[1][0], &sorted[1]));
	assert_true(nn_kad_id_eq(&L.avoid[2][0], &sorted[0]));
	/* One edge: one copy, no avoid set. */
	nn_routing_edges *one = new_edges(&self);
	nn_routing_edges_add(one, &ids[0], NULL, true, 0, NULL, 0);
	assert_int_equal(nn_routing_launch_plan(one, &t, 3, NULL, 0, &L), 1);
	assert_int_equal(L.navoid, 0);
	nn_routing_edges_free(one);
	nn_routing_edges_free(e);
}

static void test_ties(void **state)
{
	nn_test_rng r = {104};
	nn_id self, t;
	rt_random_id(&r, &self);
	rt_id_with_cpl(&r, &self, 0, &t);
	nn_routing_edges *e = new_edges(&self);
	/* Three edges sharing 10 bits with the target, two sharing 4. */
	unsigned cpls[] = {10, 10, 10, 4, 4};
	for (int i = 0; i < 5; i++) {
		nn_id id;
		rt_id_with_cpl(&r, &t, cpls[i], &id);
		nn_routing_edges_add(e, &id, NULL, true, 0, NULL, 0);
	}
	nn_routing_decision d;
	assert_int_equal(nn_routing_decide(e, &t, 16, NULL, 0, &d), NN_ROUTING_FORWARD);
	assert_int_equal(d.n, 5);
	assert_int_equal(nn_routing_decision_ties(&d, &t), 3);
	d.n = 0;
	assert_int_equal(nn_routing_decision_ties(&d, &t), 0);
	nn_routing_edges_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_vs_oracle),
		cmocka_unit_test(test_deliver_ttl_and_clamp),
		cmocka_unit_test(test_launch_plan),
		cmocka_unit_test(test_ties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
