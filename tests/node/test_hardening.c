/* test_hardening.c — defects an outside review and a live attack found (issue 12), each as a
 * test that failed before its fix: wire randomness from the CSPRNG, authenticity and replay
 * checks at the first honest transit hop, one answer budget per Lookup nonce, one copy to a
 * live-edge target. In-memory transport, virtual time; a raw endpoint plays the attacker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/control.h"
#include "tests/node/cluster.h"
#include "tests/support/alloc_count.h"

/* Connect a raw endpoint (the attacker) with identity `seed` to node `to`, registered there. */
static void raw_connect(cluster *cl, cl_raw *r, const uint8_t seed[32], uint32_t to)
{
	cl_raw_connect(cl, r, seed, to);
	uint8_t ping[3] = {1, NN_T_PING, 0};
	assert_int_equal(nn_tp_send(r->tp, r->c, ping, 3), 0);
	cl_run(cl, 10 * NN_MS);
}

static void seed_of(uint8_t seed[32], uint64_t s)
{
	nn_test_rng r = {s};
	nn_test_rng_fill(&r, seed, 32);
}

/* A routed frame of `type` to target, with ed_pub claimed in the envelope, signed by `signer`
 * (a forgery when signer's key is not ed_pub). */
static int frame_of(uint8_t *out, size_t cap, uint8_t type, const nn_id *target, uint8_t ttl,
		    const uint8_t ed_pub[32], const uint8_t signer_seed[32], nn_time sent,
		    const uint8_t *payload, size_t plen)
{
	nn_identity s;
	assert_int_equal(nn_identity_from_seed(&s, signer_seed), 0);
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	env.target = *target;
	env.ttl = ttl;
	memcpy(env.ed_pub, ed_pub, 32);
	env.sent = sent;
	env.payload = payload;
	env.plen = plen;
	uint8_t sig[64];
	assert_int_equal(nn_routing_env_sign(&s, type, target, sent, payload, plen, sig), 0);
	env.sig = sig;
	nn_identity_wipe(&s);
	return nn_routing_frame_encode(out, cap, type, &env);
}

static nn_node_stats stats_of(cluster *cl, uint32_t i)
{
	nn_node_stats st;
	nn_node_get_stats(cl->nodes[i].node, &st);
	return st;
}

/* ---- 1. randomness on the wire ---- */

/* Two nodes built from the same seeds on clocks with the same virtual-time seed (the whole
 * simulation identical) still draw different nonces and keys: the node's random source is the
 * CSPRNG, not the clock's seeded stream, which an observer of four outputs could predict. */
static void test_nonces_come_from_the_csprng(void **state)
{
	cluster *a = cl_new(1, 77, 0, NULL), *b = cl_new(1, 77, 0, NULL);
	assert_int_equal(cl_start(a, 0), 0);
	assert_int_equal(cl_start(b, 0), 0);
	assert_memory_equal(a->nodes[0].seed, b->nodes[0].seed, 32);
	assert_int_equal(nn_clock_rand(a->clk), nn_clock_rand(b->clk)); /* same seeded stream */
	uint8_t na[NN_ROUTING_NONCE_LEN], nb[NN_ROUTING_NONCE_LEN];
	nn_node_nonce_new(a->nodes[0].node, na, 1);
	nn_node_nonce_new(b->nodes[0].node, nb, 1);
	assert_memory_not_equal(na, nb, sizeof na);
	uint8_t ka[32], kb[32];
	nn_node_rand_bytes(a->nodes[0].node, ka, sizeof ka);
	nn_node_rand_bytes(b->nodes[0].node, kb, sizeof kb);
	assert_memory_not_equal(ka, kb, sizeof ka);
	cl_free(a);
	cl_free(b);
}

/* ---- 2. authenticity and replay at the first honest hop ---- */

/* Line S? - 0 - 2 (maintenance off): the attacker A has one edge to node 0; node 2 is the
 * target behind it; node 1 is a real node whose key A abuses. */
static cluster *line(uint64_t seed)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(3, seed, 0, &o);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(cl_start(cl, i), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	assert_int_equal(cl_bootstrap(cl, 2, 0), 0);
	cl_run(cl, 100 * NN_MS);
	return cl;
}

static void test_forged_envelope_dies_at_first_hop(void **state)
{
	cluster *cl = line(31);
	uint8_t att[32];
	seed_of(att, 9001);
	cl_raw r;
	raw_connect(cl, &r, att, 0);
	nn_identity victim;
	assert_int_equal(nn_identity_from_seed(&victim, cl->nodes[1].seed), 0);
	static uint8_t frame[1024];
	uint8_t payload[8] = "forged!!";
	uint64_t tag;
	memcpy(&tag, payload, 8);
	nn_node_stats h0 = stats_of(cl, 0), t0 = stats_of(cl, 2);
	nn_time now = nn_clock_wall(cl->clk);

	/* (a) the victim's key in the envelope, the attacker's signature */
	int len = frame_of(frame, sizeof frame, NN_T_ROUTE, &cl->nodes[2].id, 16, victim.ed_pub,
			   att, now, payload, sizeof payload);
	assert_true(len > 0);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	/* (b) the attacker's own key with a signature that does not verify */
	nn_identity a;
	assert_int_equal(nn_identity_from_seed(&a, att), 0);
	len = frame_of(frame, sizeof frame, NN_T_ROUTE, &cl->nodes[2].id, 16, a.ed_pub, att, now,
		       payload, sizeof payload);
	frame[len - 7] ^= 0x20; /* inside the signature, the frame's last 64 bytes */
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	/* (c) a forgery toward an ID nobody has: it must not even buy a repair lookup */
	nn_id nowhere;
	memset(&nowhere, 0, sizeof nowhere);
	nowhere.b[0] = cl->nodes[0].id.b[0]; /* closer to node 0 than to any of its edges */
	nowhere.b[31] = 1;
	len = frame_of(frame, sizeof frame, NN_T_ROUTE, &nowhere, 16, victim.ed_pub, att, now,
		       payload, sizeof payload);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 50 * NN_MS);

	nn_node_stats h1 = stats_of(cl, 0), t1 = stats_of(cl, 2);
	assert_int_equal(h1.dropped_bad_sig - h0.dropped_bad_sig, 3); /* all three at hop one */
	assert_int_equal(h1.forwarded, h0.forwarded);
	assert_int_equal(h1.repairs, h0.repairs);
	assert_int_equal(t1.dropped_bad_sig, t0.dropped_bad_sig); /* nothing reached the target */
	assert_int_equal(cl_count(cl, 2, tag), 0);

	/* (d) a genuine frame of the victim (captured by A) goes through once; its replay by A
	 * dies at node 0, which forwarded the original, and never reaches the target */
	len = frame_of(frame, sizeof frame, NN_T_ROUTE, &cl->nodes[2].id, 16, victim.ed_pub,
		       cl->nodes[1].seed, now, payload, sizeof payload);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 20 * NN_MS);
	assert_int_equal(cl_count(cl, 2, tag), 1);
	nn_node_stats h2 = stats_of(cl, 0);
	assert_int_equal(h2.forwarded, h1.forwarded + 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 20 * NN_MS);
	nn_node_stats h3 = stats_of(cl, 0), t3 = stats_of(cl, 2);
	assert_int_equal(h3.dropped_transit_replay - h2.dropped_transit_replay, 5);
	assert_int_equal(h3.forwarded, h2.forwarded);
	assert_int_equal(t3.dropped_dup, t1.dropped_dup); /* the target never saw a replay */
	assert_int_equal(cl_count(cl, 2, tag), 1);

	nn_identity_wipe(&a);
	nn_identity_wipe(&victim);
	nn_tp_destroy(r.tp);
	cl_free(cl);
}

/* Honest forwarding still works hop by hop, and the transit checks allocate nothing once the
 * forwarded-envelope tables have grown to the traffic (they start small and double while a
 * generation fills before its period: a warm-up of as many sends as the measured run, then a
 * period of quiet so the measured sends land in a fresh generation of that size). */
static void test_transit_checks_allocate_nothing(void **state)
{
	cluster *cl = line(32);
	for (uint64_t i = 0; i < 300; i++) { /* warm-up: the tables grow to 300 records */
		assert_int_equal(cl_send(cl, 1, 2, 1 + i), 0);
		cl_run(cl, 3 * NN_MS);
	}
	cl_run(cl, 2 * NN_ROUTING_MAX_AGE + NN_SEC);
	assert_int_equal(cl_count(cl, 2, 1), 1);
	uint64_t before = nn_test_allocs();
	for (uint64_t i = 0; i < 300; i++) {
		assert_int_equal(cl_send(cl, 1, 2, 100 + i), 0);
		cl_run(cl, 3 * NN_MS);
	}
	uint64_t allocs = nn_test_allocs() - before;
	nn_node_stats h = stats_of(cl, 0);
	assert_true(h.forwarded >= 600);
	assert_int_equal(h.dropped_bad_sig, 0);
	assert_int_equal(cl_count(cl, 2, 399), 1);
	assert_int_equal(allocs, 0);
	cl_free(cl);
}

/* ---- 3. one answer budget per Lookup nonce ---- */

/* Node 0 sends a one-hop Lookup to the attacker's edge (one copy: one answer). The attacker
 * answers it with Neighbors signed by five different identities, each listing itself: one is
 * taken, four are dropped and counted, and only one of the five is learned. */
static void test_one_answer_per_lookup_copy(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(1, 33, 0, &o);
	assert_int_equal(cl_start(cl, 0), 0);
	uint8_t att[32];
	seed_of(att, 9100);
	cl_raw r;
	raw_connect(cl, &r, att, 0);
	nn_node *n = cl->nodes[0].node;
	nn_id att_id;
	nn_identity_id_from_seed(&att_id, NULL, att);
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &att_id);
	assert_non_null(e);
	nn_id target;
	memset(&target, 0x42, sizeof target);
	size_t before_frames = r.frames;
	assert_int_equal(nn_node_lookup_via(n, &target, e->conn), 0);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(r.frames, before_frames + 1);
	/* the Lookup's nonce, from the frame the attacker received */
	uint8_t t;
	nn_routing_env env;
	assert_int_equal(nn_routing_frame_decode(r.last, r.last_len, &t, &env), 0);
	assert_int_equal(t, NN_T_LOOKUP);
	assert_int_equal(env.plen, NN_ROUTING_NONCE_LEN);
	uint8_t nonce[NN_ROUTING_NONCE_LEN];
	memcpy(nonce, env.payload, sizeof nonce);

	size_t known0 = nn_routing_kt_size(n->kt);
	nn_node_stats s0 = stats_of(cl, 0);
	for (uint64_t i = 0; i < 5; i++) {
		uint8_t sseed[32];
		seed_of(sseed, 9200 + i);
		nn_identity id;
		assert_int_equal(nn_identity_from_seed(&id, sseed), 0);
		nn_routing_contact c;
		memset(&c, 0, sizeof c);
		c.id = id.id;
		memcpy(c.ed_pub, id.ed_pub, 32);
		c.naddrs = 1;
		char name[16];
		snprintf(name, sizeof name, "sybil%u", (unsigned)i);
		nn_addr_set(&c.addrs[0], "mem", name);
		nn_routing_neighbors nb;
		nn_routing_neighbors_init(&nb, nonce);
		assert_int_equal(nn_routing_neighbors_append(&nb, &c), 0);
		uint8_t pl[512], frame[1024];
		int plen = nn_routing_neighbors_encode(pl, sizeof pl, &nb);
		assert_true(plen > 0);
		int len = frame_of(frame, sizeof frame, NN_T_NEIGHBORS, &cl->nodes[0].id, 1,
				   id.ed_pub, sseed, nn_clock_wall(cl->clk), pl, (size_t)plen);
		assert_true(len > 0);
		assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
		nn_identity_wipe(&id);
	}
	cl_run(cl, 20 * NN_MS);
	nn_node_stats s1 = stats_of(cl, 0);
	assert_int_equal(s1.dropped_extra_answers - s0.dropped_extra_answers, 4);
	assert_int_equal(s1.dropped_unsolicited, s0.dropped_unsolicited);
	/* one answer learned: its signer, on its own word */
	assert_int_equal(nn_routing_kt_size(n->kt), known0 + 1);
	nn_tp_destroy(r.tp);
	cl_free(cl);
}

/* ---- 8. origination to a live-edge target ---- */

/* Four nodes in a full mesh. A message from 0 to 1 travels as one copy over the edge 0-1: no
 * copy detours through 2 or 3, and node 1 sees no duplicate to suppress (a reference receiver,
 * which does not suppress duplicates, would otherwise deliver it three times). */
static void test_one_copy_to_a_live_edge(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(4, 34, 0, &o);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(cl_start(cl, i), 0);
	for (uint32_t i = 0; i < 4; i++)
		for (uint32_t j = i + 1; j < 4; j++)
			assert_int_equal(cl_bootstrap(cl, j, i), 0);
	cl_run(cl, 200 * NN_MS);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(cl_edges(cl, i), 3);
	nn_node_stats b[4], a[4];
	for (uint32_t i = 0; i < 4; i++)
		b[i] = stats_of(cl, i);
	for (uint64_t k = 0; k < 10; k++)
		assert_int_equal(cl_send(cl, 0, 1, 500 + k), 0);
	cl_run(cl, 50 * NN_MS);
	for (uint32_t i = 0; i < 4; i++)
		a[i] = stats_of(cl, i);
	for (uint64_t k = 0; k < 10; k++)
		assert_int_equal(cl_count(cl, 1, 500 + k), 1);
	assert_int_equal(a[1].dropped_dup - b[1].dropped_dup, 0);
	assert_int_equal(a[2].forwarded - b[2].forwarded, 0);
	assert_int_equal(a[3].forwarded - b[3].forwarded, 0);
	cl_free(cl);
}

/* ---- 9. attacks of the survival suite (issue 17): replay to the originator, forged contacts ---- */

/* A frame node 1 signed to node 2, sent back to node 1 by the attacker (a first hop that
 * captured it). Node 1 keeps no transit record of its own envelopes, so before the fix it
 * launched the replay again over its edges (the target got it once more); now both copies die
 * at node 1 as replays and the target never sees them. */
static void test_replay_to_originator_dies_there(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(3, 35, 0, &o);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(cl_start(cl, i), 0);
	for (uint32_t i = 0; i < 3; i++)
		for (uint32_t j = i + 1; j < 3; j++)
			assert_int_equal(cl_bootstrap(cl, j, i), 0);
	cl_run(cl, 100 * NN_MS);
	uint8_t att[32];
	seed_of(att, 9300);
	cl_raw r;
	raw_connect(cl, &r, att, 1);
	nn_identity origin;
	assert_int_equal(nn_identity_from_seed(&origin, cl->nodes[1].seed), 0);
	uint8_t payload[8] = "replay!!";
	uint64_t tag;
	memcpy(&tag, payload, 8);
	static uint8_t frame[1024];
	int len = frame_of(frame, sizeof frame, NN_T_ROUTE, &cl->nodes[2].id, 15, origin.ed_pub,
			   cl->nodes[1].seed, nn_clock_wall(cl->clk), payload, sizeof payload);
	assert_true(len > 0);
	nn_node_stats o0 = stats_of(cl, 1);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 50 * NN_MS);
	nn_node_stats o1 = stats_of(cl, 1);
	assert_int_equal(o1.dropped_transit_replay - o0.dropped_transit_replay, 2);
	assert_int_equal(o1.forwarded, o0.forwarded);
	assert_int_equal(cl_count(cl, 2, tag), 0);
	nn_identity_wipe(&origin);
	nn_tp_destroy(r.tp);
	cl_free(cl);
}

/* The attacker answers node 0's one-hop Lookup (solicited: the right nonce, within budget) with
 * three contacts whose ed_pub does not hash to their ID — one claims node 1's ID with the
 * attacker's key and address (a hijack), two claim made-up IDs — and itself. The forged ones
 * are refused and counted (before: refused silently), node 1's entry keeps its key and
 * address, the made-up IDs stay unknown, and the attacker itself is learned. */
static void test_forged_contacts_refused_and_counted(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(2, 36, 0, &o);
	for (uint32_t i = 0; i < 2; i++)
		assert_int_equal(cl_start(cl, i), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	cl_run(cl, 100 * NN_MS);
	uint8_t att[32];
	seed_of(att, 9400);
	cl_raw r;
	raw_connect(cl, &r, att, 0);
	nn_node *n = cl->nodes[0].node;
	nn_identity a;
	assert_int_equal(nn_identity_from_seed(&a, att), 0);
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &a.id);
	assert_non_null(e);
	nn_id target;
	memset(&target, 0x42, sizeof target);
	assert_int_equal(nn_node_lookup_via(n, &target, e->conn), 0);
	cl_run(cl, 10 * NN_MS);
	uint8_t t;
	nn_routing_env env;
	assert_int_equal(nn_routing_frame_decode(r.last, r.last_len, &t, &env), 0);
	assert_int_equal(t, NN_T_LOOKUP);
	nn_routing_neighbors nb;
	nn_routing_neighbors_init(&nb, env.payload);
	nn_id made_up[2];
	for (int i = 0; i < 3; i++) {
		nn_routing_contact c;
		memset(&c, 0, sizeof c);
		if (i == 0)
			c.id = cl->nodes[1].id;
		else
			memset(c.id.b, 0x60 + i, sizeof c.id.b);
		if (i)
			made_up[i - 1] = c.id;
		memcpy(c.ed_pub, a.ed_pub, 32); /* does not hash to c.id */
		c.naddrs = 1;
		nn_addr_set(&c.addrs[0], "mem", "evil");
		assert_int_equal(nn_routing_neighbors_append(&nb, &c), 0);
	}
	nn_routing_contact me;
	memset(&me, 0, sizeof me);
	me.id = a.id;
	memcpy(me.ed_pub, a.ed_pub, 32);
	me.naddrs = 1;
	nn_addr_set(&me.addrs[0], "mem", "raw");
	assert_int_equal(nn_routing_neighbors_append(&nb, &me), 0);
	uint8_t pl[1024], frame[2048];
	int plen = nn_routing_neighbors_encode(pl, sizeof pl, &nb);
	assert_true(plen > 0);
	int len = frame_of(frame, sizeof frame, NN_T_NEIGHBORS, &cl->nodes[0].id, 1, a.ed_pub, att,
			   nn_clock_wall(cl->clk), pl, (size_t)plen);
	assert_true(len > 0);
	nn_node_stats s0 = stats_of(cl, 0);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 20 * NN_MS);
	nn_node_stats s1 = stats_of(cl, 0);
	assert_int_equal(s1.dropped_forged_contact - s0.dropped_forged_contact, 3);
	assert_int_equal(s1.dropped_extra_answers, s0.dropped_extra_answers);
	const nn_routing_kc *k1 = nn_routing_kt_get(n->kt, &cl->nodes[1].id, NULL);
	assert_non_null(k1);
	nn_routing_contact c1v, *c1 = &c1v;
	nn_routing_kc_contact(c1, k1);
	assert_int_equal(nn_routing_contact_check_key(c1), 0);
	for (size_t i = 0; i < c1->naddrs; i++)
		assert_string_not_equal(c1->addrs[i].ep, "evil");
	for (int i = 0; i < 2; i++) {
		assert_null(nn_routing_kt_get(n->kt, &made_up[i], NULL));
		assert_false(nn_routing_kt_is_cached(n->kt, &made_up[i]));
	}
	assert_non_null(nn_routing_kt_get(n->kt, &a.id, NULL));
	nn_identity_wipe(&a);
	nn_tp_destroy(r.tp);
	cl_free(cl);
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonces_come_from_the_csprng),
		cmocka_unit_test(test_forged_envelope_dies_at_first_hop),
		cmocka_unit_test(test_transit_checks_allocate_nothing),
		cmocka_unit_test(test_one_answer_per_lookup_copy),
		cmocka_unit_test(test_one_copy_to_a_live_edge),
		cmocka_unit_test(test_replay_to_originator_dies_there),
		cmocka_unit_test(test_forged_contacts_refused_and_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
