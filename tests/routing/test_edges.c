/* test_edges.c — the live-edge table: admission, roles vs an oracle, phases with hysteresis,
 * idle by role, per-edge token buckets, and the fill policy (siblings, then fingers across
 * buckets, subnet diversity, skip hook). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "routing/edges.h"
#include "tests/routing/rt_util.h"

static nn_routing_edges *new_edges(const nn_id *self, size_t max_out, size_t in_cap)
{
	nn_routing_edges_opts o = {.max_outgoing = max_out, .inbound_cap = in_cap};
	nn_routing_edges *e;
	assert_int_equal(nn_routing_edges_new(&e, self, &o), 0);
	return e;
}

static void test_admission(void **state)
{
	nn_test_rng r = {201};
	nn_id self, a, zero = {{0}};
	rt_random_id(&r, &self);
	nn_routing_edges *e = new_edges(&self, 2, 3);
	assert_int_equal(nn_routing_edges_add(e, &self, NULL, true, 0, NULL, 0), NN_EINVAL);
	assert_int_equal(nn_routing_edges_add(e, &zero, NULL, true, 0, NULL, 0), NN_EINVAL);
	rt_random_id(&r, &a);
	assert_int_equal(nn_routing_edges_add(e, &a, (void *)1, true, 5, NULL, 10), 0);
	assert_int_equal(nn_routing_edges_add(e, &a, NULL, false, 0, NULL, 0), NN_EEXIST);
	const nn_routing_edge *ed = nn_routing_edges_find(e, &a);
	assert_non_null(ed);
	assert_ptr_equal(ed->conn, (void *)1);
	assert_int_equal(ed->caps, 5);
	assert_true(ed->outgoing);
	for (int i = 0; i < 3; i++) {
		nn_id b;
		rt_random_id(&r, &b);
		assert_int_equal(nn_routing_edges_add(e, &b, NULL, false, 0, NULL, 0), 0);
	}
	nn_id c;
	rt_random_id(&r, &c);
	assert_int_equal(nn_routing_edges_add(e, &c, NULL, false, 0, NULL, 0), NN_ELIMIT);
	assert_int_equal(nn_routing_edges_inbound(e), 3);
	assert_int_equal(nn_routing_edges_add(e, &c, NULL, true, 0, NULL, 0), 0);
	nn_id d;
	rt_random_id(&r, &d);
	assert_int_equal(nn_routing_edges_add(e, &d, NULL, true, 0, NULL, 0), NN_ELIMIT);
	assert_int_equal(nn_routing_edges_remove(e, &a), 0);
	assert_int_equal(nn_routing_edges_remove(e, &a), NN_ENOENT);
	assert_null(nn_routing_edges_find(e, &a));
	assert_int_equal(nn_routing_edges_len(e), 4);
	assert_int_equal(nn_routing_edges_touch(e, &a, 5), NN_ENOENT);
	assert_int_equal(nn_routing_edges_set_caps(e, &c, 3), 0);
	assert_int_equal(nn_routing_edges_find(e, &c)->caps, 3);
	/* The remote address gives the edge its subnet. */
	nn_addr ra;
	nn_addr_set(&ra, "quic", "198.51.100.7:9");
	nn_routing_edges_remove(e, &c);
	assert_int_equal(nn_routing_edges_add(e, &c, NULL, true, 0, &ra, 0), 0);
	assert_true(nn_routing_edges_find(e, &c)->has_subnet);
	nn_routing_edges_free(e);
}

static const nn_id *g_self;
static int by_self(const void *a, const void *b)
{
	return nn_kad_cmp_distance(g_self, (const nn_id *)a, (const nn_id *)b);
}

static void test_roles_vs_oracle(void **state)
{
	nn_test_rng r = {202};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_edges *e = new_edges(&self, 200, 200);
	static nn_id ids[300];
	size_t n = 0;
	for (int step = 0; step < 600; step++) {
		if (n > 0 && nn_test_rng_next(&r) % 3 == 0) {
			size_t k = (size_t)(nn_test_rng_next(&r) % n);
			assert_int_equal(nn_routing_edges_remove(e, &ids[k]), 0);
			ids[k] = ids[--n];
		} else if (n < 300) {
			rt_id_with_cpl(&r, &self, (unsigned)(nn_test_rng_next(&r) % 20), &ids[n]);
			if (nn_routing_edges_add(e, &ids[n], NULL, n % 2, 0, NULL, 0) == 0)
				n++;
		}
		assert_int_equal(nn_routing_edges_len(e), n);
		nn_id sorted[300];
		memcpy(sorted, ids, n * sizeof *ids);
		g_self = &self;
		qsort(sorted, n, sizeof *sorted, by_self);
		for (size_t i = 0; i < n; i++) {
			const nn_routing_edge *ed = nn_routing_edges_find(e, &sorted[i]);
			assert_non_null(ed);
			assert_int_equal(ed->role, i < NN_ROUTING_SIBLINGS ? NN_ROUTING_ROLE_SIBLING
									   : NN_ROUTING_ROLE_FINGER);
			assert_int_equal(ed->bucket, nn_kad_cpl(&self, &sorted[i]));
		}
	}
	nn_routing_edges_free(e);
}

static void test_phases_and_hysteresis(void **state)
{
	nn_test_rng r = {203};
	nn_id self, ids[70];
	rt_random_id(&r, &self);
	nn_routing_edges *e = new_edges(&self, 0, 0);
	assert_int_equal(nn_routing_edges_phase(e), NN_ROUTING_PHASE_BOOTSTRAP);
	assert_int_equal(nn_routing_edges_want(e), 8);
	/* Inbound edges do not count. */
	nn_id in;
	rt_random_id(&r, &in);
	nn_routing_edges_add(e, &in, NULL, false, 0, NULL, 0);
	assert_int_equal(nn_routing_edges_phase(e), NN_ROUTING_PHASE_BOOTSTRAP);
	for (int i = 0; i < 64; i++) {
		rt_random_id(&r, &ids[i]);
		nn_routing_edges_add(e, &ids[i], NULL, true, 0, NULL, 0);
		size_t n = (size_t)i + 1;
		nn_routing_phase want = n <= 3 ? NN_ROUTING_PHASE_CRITICAL
				      : n <= 8 ? NN_ROUTING_PHASE_URGENT
				      : n < 64 ? NN_ROUTING_PHASE_NEEDS_FILL
					       : NN_ROUTING_PHASE_NORMAL;
		assert_int_equal(nn_routing_edges_phase(e), want);
	}
	assert_int_equal(nn_routing_edges_want(e), 0);
	assert_true(nn_routing_edges_may_shed(e, &ids[0]));
	assert_true(nn_routing_edges_may_shed(e, &in));
	/* Normal holds down to 60 ... */
	for (int i = 63; i >= 60; i--) {
		nn_routing_edges_remove(e, &ids[i]);
		assert_int_equal(nn_routing_edges_phase(e), i >= 60 ? NN_ROUTING_PHASE_NORMAL
								   : NN_ROUTING_PHASE_NEEDS_FILL);
	}
	assert_int_equal(nn_routing_edges_outgoing(e), 60);
	assert_int_equal(nn_routing_edges_phase(e), NN_ROUTING_PHASE_NORMAL);
	nn_routing_edges_remove(e, &ids[59]);
	assert_int_equal(nn_routing_edges_phase(e), NN_ROUTING_PHASE_NEEDS_FILL);
	assert_int_equal(nn_routing_edges_want(e), 2);
	/* ... and does not come back before 64. */
	for (int i = 59; i < 63; i++) {
		nn_routing_edges_add(e, &ids[i], NULL, true, 0, NULL, 0);
		assert_int_equal(nn_routing_edges_phase(e), NN_ROUTING_PHASE_NEEDS_FILL);
	}
	nn_routing_edges_add(e, &ids[63], NULL, true, 0, NULL, 0);
	assert_int_equal(nn_routing_edges_phase(e), NN_ROUTING_PHASE_NORMAL);
	assert_string_equal(nn_routing_phase_name(NN_ROUTING_PHASE_URGENT), "urgent");
	/* The KMin floor: with 3 outgoing edges none may be shed voluntarily; inbound ones may. */
	for (int i = 63; i >= 3; i--)
		nn_routing_edges_remove(e, &ids[i]);
	assert_int_equal(nn_routing_edges_phase(e), NN_ROUTING_PHASE_CRITICAL);
	assert_false(nn_routing_edges_may_shed(e, &ids[0]));
	assert_true(nn_routing_edges_may_shed(e, &in));
	nn_id nobody;
	rt_random_id(&r, &nobody);
	assert_false(nn_routing_edges_may_shed(e, &nobody));
	nn_routing_edges_free(e);
}

static void test_idle_by_role(void **state)
{
	nn_test_rng r = {204};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_edges *e = new_edges(&self, 0, 0);
	nn_id sib, fin;
	rt_id_with_cpl(&r, &self, 30, &sib);
	nn_routing_edges_add(e, &sib, NULL, true, 0, NULL, 0);
	for (int i = 0; i < NN_ROUTING_SIBLINGS; i++) { /* fill the sibling set */
		nn_id x;
		rt_id_with_cpl(&r, &self, 20, &x);
		nn_routing_edges_add(e, &x, NULL, true, 0, NULL, 100 * NN_SEC);
	}
	rt_id_with_cpl(&r, &self, 0, &fin);
	nn_routing_edges_add(e, &fin, NULL, true, 0, NULL, 0);
	assert_int_equal(nn_routing_edges_find(e, &sib)->role, NN_ROUTING_ROLE_SIBLING);
	assert_int_equal(nn_routing_edges_find(e, &fin)->role, NN_ROUTING_ROLE_FINGER);
	nn_id out[32];
	const nn_time S = 45 * NN_SEC, F = 75 * NN_SEC;
	assert_int_equal(nn_routing_edges_idle(e, 44 * NN_SEC, S, F, out, 32), 0);
	assert_int_equal(nn_routing_edges_idle(e, 45 * NN_SEC, S, F, out, 32), 1);
	assert_true(nn_kad_id_eq(&out[0], &sib));
	assert_int_equal(nn_routing_edges_idle(e, 75 * NN_SEC, S, F, out, 32), 2);
	nn_routing_edges_touch(e, &fin, 70 * NN_SEC);
	assert_int_equal(nn_routing_edges_idle(e, 75 * NN_SEC, S, F, out, 32), 1);
	nn_routing_edges_touch(e, &fin, 10 * NN_SEC); /* never goes back */
	assert_int_equal(nn_routing_edges_find(e, &fin)->last_seen, 70 * NN_SEC);
	assert_int_equal(nn_routing_edges_idle(e, 75 * NN_SEC, S, F, out, 0), 0);
	nn_routing_edges_free(e);
}

static void test_rate_buckets(void **state)
{
	nn_test_rng r = {205};
	nn_id self, a, stranger, zero = {{0}};
	rt_random_id(&r, &self);
	rt_random_id(&r, &a);
	rt_random_id(&r, &stranger);
	nn_routing_edges *e = new_edges(&self, 0, 0);
	nn_routing_edges_add(e, &a, NULL, true, 0, NULL, 0);
	const nn_time t0 = 1000 * NN_SEC;
	int ok = 0;
	for (int i = 0; i < 2000; i++)
		ok += nn_routing_edges_allow_forward(e, &a, t0);
	assert_int_equal(ok, 1024);
	ok = 0;
	for (int i = 0; i < 2000; i++)
		ok += nn_routing_edges_allow_forward(e, &a, t0 + NN_SEC);
	assert_int_equal(ok, 512);
	ok = 0;
	for (int i = 0; i < 100; i++)
		ok += nn_routing_edges_allow_control(e, &a, t0);
	assert_int_equal(ok, 32);
	ok = 0;
	for (int i = 0; i < 100; i++)
		ok += nn_routing_edges_allow_control(e, &a, t0 + NN_SEC);
	assert_int_equal(ok, 16);
	assert_true(nn_routing_edges_allow_forward(e, &zero, t0));
	assert_true(nn_routing_edges_allow_control(e, &zero, t0));
	assert_false(nn_routing_edges_allow_forward(e, &stranger, t0));
	assert_false(nn_routing_edges_allow_control(e, &stranger, t0));
	nn_routing_edges_free(e);
}

/* ---- fill ---- */

static nn_routing_kt *kt_with_network(const nn_id *self, nn_test_rng *r, size_t n, bool addrs)
{
	nn_routing_kt_opts o = {.capacity = 8192};
	nn_routing_kt *kt;
	assert_int_equal(nn_routing_kt_new(&kt, self, &o), 0);
	for (size_t i = 0; i < n; i++) {
		nn_routing_contact c;
		nn_id id;
		rt_random_id(r, &id);
		char ip[32];
		snprintf(ip, sizeof ip, "10.%zu.%zu.1", i / 250, i % 250);
		rt_contact(&c, &id, addrs ? ip : NULL, 1);
		nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL);
	}
	return kt;
}

static bool skip_odd_first_byte(void *user, const nn_id *id)
{
	(*(int *)user)++;
	return id->b[31] & 1;
}

static void test_fill_siblings_then_fingers(void **state)
{
	nn_test_rng r = {206};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt *kt = kt_with_network(&self, &r, 20000, true);
	nn_routing_edges *e = new_edges(&self, 0, 0);
	nn_id out[64];
	size_t n = nn_routing_edges_fill(e, kt, 64, NULL, NULL, out);
	assert_int_equal(n, 64);
	/* The first 16 are the 16 closest known contacts to self. */
	const nn_routing_kc *sib[16];
	assert_int_equal(nn_routing_kt_closest(kt, &self, 16, sib), 16);
	for (int i = 0; i < 16; i++)
		assert_true(nn_kad_id_eq(&out[i], &sib[i]->id));
	/* The fingers cover every non-empty far bucket, evenly: no bucket with 2 more picks than
	 * another non-exhausted one. */
	unsigned per[256] = {0};
	for (size_t i = 16; i < n; i++)
		per[nn_kad_cpl(&self, &out[i])]++;
	unsigned nonempty = 0, minp = 999, maxp = 0;
	for (unsigned b = 0; b < 256; b++) {
		if (nn_routing_kt_bucket_len(kt, b) < NN_ROUTING_K)
			continue; /* only full (far) buckets: deep ones are covered by siblings */
		nonempty++;
		minp = per[b] < minp ? per[b] : minp;
		maxp = per[b] > maxp ? per[b] : maxp;
	}
	assert_true(nonempty >= 8);
	assert_true(minp >= 1);
	assert_true(maxp - minp <= 1);
	/* Inside a bucket the picks open different sub-prefixes: in bucket 0, the first picks
	 * differ in bit 1. */
	nn_id b0[8];
	size_t nb0 = 0;
	for (size_t i = 16; i < n; i++)
		if (nn_kad_cpl(&self, &out[i]) == 0 && nb0 < 8)
			b0[nb0++] = out[i];
	assert_true(nb0 >= 2);
	assert_true(nn_kad_cpl(&b0[0], &b0[1]) == 1);

	/* Live edges are not proposed again; later fills balance around them. */
	for (size_t i = 0; i < n; i++)
		nn_routing_edges_add(e, &out[i], NULL, true, 0, NULL, 0);
	nn_id more[8];
	size_t m = nn_routing_edges_fill(e, kt, 8, NULL, NULL, more);
	assert_int_equal(m, 8);
	for (size_t i = 0; i < m; i++)
		assert_null(nn_routing_edges_find(e, &more[i]));

	/* The skip hook is honoured. */
	int calls = 0;
	m = nn_routing_edges_fill(e, kt, 8, skip_odd_first_byte, &calls, more);
	assert_true(calls > 0);
	for (size_t i = 0; i < m; i++)
		assert_false(more[i].b[31] & 1);
	nn_routing_edges_free(e);
	nn_routing_kt_free(kt);

	/* Contacts without an address are never proposed. */
	kt = kt_with_network(&self, &r, 100, false);
	e = new_edges(&self, 0, 0);
	assert_int_equal(nn_routing_edges_fill(e, kt, 8, NULL, NULL, out), 0);
	nn_routing_edges_free(e);
	nn_routing_kt_free(kt);
}

static void test_fill_prefers_other_subnets(void **state)
{
	nn_test_rng r = {207};
	nn_id self;
	rt_random_id(&r, &self);
	nn_routing_kt_opts o = {.capacity = 256};
	nn_routing_kt *kt;
	nn_routing_kt_new(&kt, &self, &o);
	nn_routing_edges *e = new_edges(&self, 0, 0);
	/* Two live edges already in 198.51.100.0/24. */
	for (int i = 0; i < 2; i++) {
		nn_id id;
		rt_id_with_cpl(&r, &self, 0, &id);
		nn_addr ra;
		nn_addr_set(&ra, "quic", "198.51.100.1:1");
		nn_routing_edges_add(e, &id, NULL, true, 0, &ra, 0);
	}
	/* Knowledge: 3 contacts in that /24 (fresher), 1 elsewhere (older), all in bucket 0. */
	nn_id other;
	rt_id_with_cpl(&r, &self, 0, &other);
	nn_routing_contact c;
	rt_contact(&c, &other, "203.0.113.1", 1);
	nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL);
	for (int i = 0; i < 3; i++) {
		nn_id id;
		rt_id_with_cpl(&r, &self, 0, &id);
		char ip[32];
		snprintf(ip, sizeof ip, "198.51.100.%d", 10 + i);
		rt_contact(&c, &id, ip, 1);
		nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 10 + i, NULL);
	}
	nn_id out[4];
	/* siblings stage first: with 4 contacts all are "closest"; the other subnet goes first */
	size_t n = nn_routing_edges_fill(e, kt, 1, NULL, NULL, out);
	assert_int_equal(n, 1);
	assert_true(nn_kad_id_eq(&out[0], &other));
	/* With more wanted, the saturated subnet is the fallback. */
	n = nn_routing_edges_fill(e, kt, 4, NULL, NULL, out);
	assert_int_equal(n, 4);
	assert_true(nn_kad_id_eq(&out[0], &other));
	nn_routing_edges_free(e);
	nn_routing_kt_free(kt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission),
		cmocka_unit_test(test_roles_vs_oracle),
		cmocka_unit_test(test_phases_and_hysteresis),
		cmocka_unit_test(test_idle_by_role),
		cmocka_unit_test(test_rate_buckets),
		cmocka_unit_test(test_fill_siblings_then_fingers),
		cmocka_unit_test(test_fill_prefers_other_subnets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
