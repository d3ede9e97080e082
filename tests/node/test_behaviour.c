/* test_behaviour.c — node behaviour under churn, leave, stalls, hostile peers; hot-path
 * allocations. In-memory transport, virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "pow/pow.h"
#include "routing/control.h"
#include "tests/node/cluster.h"
#include "tests/support/alloc_count.h"

static cluster *ring_up(uint32_t n, uint64_t seed, int pow, const nn_node_opts *base,
			nn_time settle)
{
	cluster *cl = cl_new(n, seed, pow, base);
	assert_int_equal(cl_join(cl, 0, n), 0);
	cl_run(cl, settle);
	return cl;
}

/* Send one tagged message between random live pairs; return the fraction delivered once. */
static double sample_delivery(cluster *cl, nn_test_rng *r, size_t pairs, uint64_t tag0)
{
	uint32_t a[512], b[512];
	size_t k = 0;
	while (k < pairs && k < 512) {
		uint32_t x = (uint32_t)(nn_test_rng_next(r) % cl->n), y = (uint32_t)(nn_test_rng_next(r) % cl->n);
		if (x == y || !cl->nodes[x].up || !cl->nodes[y].up)
			continue;
		a[k] = x;
		b[k] = y;
		(void)cl_send(cl, x, y, tag0 + k);
		k++;
	}
	cl_run(cl, 2 * NN_SEC);
	size_t ok = 0, shown = 0;
	for (size_t i = 0; i < k; i++) {
		size_t c = cl_count(cl, b[i], tag0 + i);
		ok += c == 1;
		if (c != 1 && shown++ < 3) {
			uint32_t at = a[i];
			printf("# lost %u->%u (%zu copies): path", a[i], b[i], c);
			for (int hop = 0; hop < 20; hop++) {
				printf(" %u[%zu]", at, cl_edges(cl, at));
				if (at == b[i])
					break;
				nn_routing_decision d;
				if (nn_routing_decide(nn_node_edges(cl->nodes[at].node), &cl->nodes[b[i]].id, 16,
						      NULL, 0, &d) != NN_ROUTING_FORWARD) {
					const nn_id *J = &cl->nodes[b[i]].id, *Y = &cl->nodes[at].id;
					nn_routing_kt *ky = nn_node_knowledge(cl->nodes[at].node);
					nn_routing_kt *kj = nn_node_knowledge(cl->nodes[b[i]].node);
					const nn_routing_kc *cj = nn_routing_kt_get(ky, J, NULL);
					const nn_routing_kc *cy = nn_routing_kt_get(kj, Y, NULL);
					const nn_routing_kc *close[16];
					size_t nc = nn_routing_kt_closest(kj, J, 16, close), rank = 99;
					for (size_t q = 0; q < nc; q++)
						if (nn_kad_id_eq(&close[q]->id, Y))
							rank = q;
					nn_node_stats js;
					nn_node_get_stats(cl->nodes[b[i]].node, &js);
					printf(" STUCK cpl(Y,J)=%u Y knows J:%d(%d addrs) J knows Y:%d rank %zu; J out %zu dials %llu fail %llu",
					       nn_kad_cpl(Y, J), cj != NULL, cj ? cj->naddrs : -1, cy != NULL, rank,
					       nn_routing_edges_outgoing(nn_node_edges(cl->nodes[b[i]].node)),
					       (unsigned long long)js.dials, (unsigned long long)js.dial_failures);
					break;
				}
				for (uint32_t z = 0; z < cl->n; z++)
					if (cl->nodes[z].up && nn_kad_id_eq(&cl->nodes[z].id, &d.cand[0].id))
						at = z;
			}
			printf("\n");
		}
	}
	return k ? (double)ok / (double)k : 1.0;
}

static void test_churn_keeps_delivery(void **state)
{
	/* 200 live nodes; every virtual minute 10% crash and as many fresh nodes join */
	const uint32_t live = 200, rounds = 5, per = live / 10;
	cluster *cl = cl_new(live + rounds * per, 11, 0, NULL);
	assert_int_equal(cl_join(cl, 0, live), 0);
	cl_run(cl, 120 * NN_SEC); /* a settled overlay first; then churn every minute */
	nn_test_rng r = {99};
	double base = sample_delivery(cl, &r, 300, 90000);
	printf("# before churn: delivery %.2f%%\n", 100 * base);
	uint32_t next = live;
	double worst = 1.0, sum = 0;
	for (uint32_t round = 0; round < rounds; round++) {
		for (uint32_t k = 0; k < per; k++) {
			uint32_t v;
			do
				v = 1 + (uint32_t)(nn_test_rng_next(&r) % (next - 1));
			while (!cl->nodes[v].up);
			cl_kill(cl, v, false);
		}
		for (uint32_t k = 0; k < per; k++, next++) {
			assert_int_equal(cl_start(cl, next), 0);
			uint32_t via;
			do
				via = (uint32_t)(nn_test_rng_next(&r) % next);
			while (!cl->nodes[via].up);
			assert_int_equal(cl_bootstrap(cl, next, via), 0);
		}
		cl_run(cl, 60 * NN_SEC);
		double d = sample_delivery(cl, &r, 300, 100000 + round * 1000);
		printf("# churn round %u: delivery %.2f%%\n", round, 100 * d);
		if (d < worst)
			worst = d;
		sum += d;
	}
	printf("# churn: worst round %.2f%%, mean %.2f%% (issue goal: >= 99%%)\n", 100 * worst,
	       100 * sum / rounds);
	/* Every round, not just the mean. Before joining nodes walked to their neighbourhood over
	 * their edges (one-hop self-lookups, nn_node_edge_up) the worst round was 98.3% (seed 99):
	 * the misses were messages to nodes that had joined up to a minute earlier and knew none
	 * of their 8 closest live nodes, because the answers to their routed self-lookups were
	 * routed back toward them through a neighbourhood that had not met them. */
	assert_true(base >= 0.99);
	assert_true(worst >= 0.99);
	assert_true(sum / rounds >= 0.99);
	cl_free(cl);
}

static uint64_t lookups_of(cluster *cl, uint32_t i)
{
	nn_node_stats s;
	nn_node_get_stats(cl->nodes[i].node, &s);
	return s.lookups_tx;
}

static void test_idle_discovery_backs_off_and_news_resets_it(void **state)
{
	/* Two nodes never reach Normal (64 outgoing edges), so they stay below it for ever: their
	 * discovery must still go quiet once its rounds bring nothing new, and come back to the
	 * tick's pace as soon as something changes (a third node joins). */
	cluster *cl = cl_new(3, 19, 0, NULL);
	assert_int_equal(cl_join(cl, 0, 2), 0);
	cl_run(cl, 5 * 60 * NN_SEC);
	uint64_t l0 = lookups_of(cl, 0);
	cl_run(cl, 5 * 60 * NN_SEC);
	uint64_t idle = lookups_of(cl, 0) - l0;
	/* backed off toward 16 times the configured periods (16 min): one or two self-lookups and
	 * bucket sweeps in these 5 minutes (before issue 16 it was 5 + 5, at the configured
	 * periods; a tick-paced node sends 120) */
	printf("# idle pair: %llu lookups in 5 virtual minutes\n", (unsigned long long)idle);
	assert_true(idle <= 4);
	assert_true(idle >= 1); /* backed off, not stopped */
	/* news: node 2 joins through node 1 and dials node 0, which learns a new contact */
	assert_int_equal(cl_start(cl, 2), 0);
	assert_int_equal(cl_bootstrap(cl, 2, 1), 0);
	l0 = lookups_of(cl, 0);
	cl_run(cl, 12 * NN_SEC);
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[0].node), &cl->nodes[2].id));
	uint64_t after = lookups_of(cl, 0) - l0;
	printf("# after a join: %llu lookups in the next 12 s\n", (unsigned long long)after);
	assert_true(after >= 2); /* back at the tick's pace (5 s), not 60 s away */
	cl_free(cl);
}

static uint64_t discovery_of(cluster *cl, uint32_t i)
{
	nn_node_stats s;
	nn_node_get_stats(cl->nodes[i].node, &s);
	return s.lookups_tx + s.siblings_tx + s.neighbors_tx;
}

/* Every live node sends a tagged message to `to` (and `to` to each of them); the number of
 * those delivered exactly once within 50 virtual ms. */
static size_t all_to_one_within_50ms(cluster *cl, uint32_t to, uint64_t tag0)
{
	size_t sent = 0, ok = 0;
	for (uint32_t i = 0; i < cl->n; i++) {
		if (i == to || !cl->nodes[i].up)
			continue;
		assert_int_equal(cl_send(cl, i, to, tag0 + 2 * i), 0);
		assert_int_equal(cl_send(cl, to, i, tag0 + 2 * i + 1), 0);
		sent += 2;
	}
	cl_run(cl, 50 * NN_MS);
	for (uint32_t i = 0; i < cl->n; i++) {
		if (i == to || !cl->nodes[i].up)
			continue;
		ok += cl_count(cl, to, tag0 + 2 * i) == 1;
		ok += cl_count(cl, i, tag0 + 2 * i + 1) == 1;
	}
	printf("# %zu of %zu routed sends to/from node %u delivered within 50 ms\n", ok, sent, to);
	return sent - ok;
}

static void test_quiet_overlay_still_routes(void **state)
{
	/* issue 16: a stable 20-node overlay (below Normal for ever: too small) goes quiet; a
	 * routed send after 10 idle virtual minutes is delivered at once, and a node joining the
	 * quiet overlay is found and routable within seconds. Before the quiet pace every node sent
	 * ~16 Siblings requests every 30 s and a 3-copy lookup every 30 s, for ever: about 400
	 * discovery frames (requests + answers) per node in 10 minutes. */
	cluster *cl = cl_new(21, 23, 0, NULL);
	assert_int_equal(cl_join(cl, 0, 20), 0);
	cl_run(cl, 5 * 60 * NN_SEC);
	for (uint32_t i = 0; i < 20; i++)
		assert_true(cl_edges(cl, i) >= 16);
	uint64_t d0 = 0, d1 = 0;
	for (uint32_t i = 0; i < 20; i++)
		d0 += discovery_of(cl, i);
	cl_run(cl, 10 * 60 * NN_SEC);
	for (uint32_t i = 0; i < 20; i++)
		d1 += discovery_of(cl, i);
	double per_node = (double)(d1 - d0) / 20;
	printf("# quiet overlay: %.1f discovery frames per node in 10 idle minutes\n", per_node);
	assert_true(per_node <= 20);
	/* after the idle 10 minutes: every node reaches node 7 and node 7 every node, at once */
	assert_int_equal(all_to_one_within_50ms(cl, 7, 500000), 0);
	/* a newcomer joins the quiet overlay through node 3: within 10 s it is routable from
	 * everyone and reaches everyone */
	assert_int_equal(cl_start(cl, 20), 0);
	assert_int_equal(cl_bootstrap(cl, 20, 3), 0);
	cl_run(cl, 10 * NN_SEC);
	printf("# newcomer: %zu edges after 10 s\n", cl_edges(cl, 20));
	assert_int_equal(all_to_one_within_50ms(cl, 20, 600000), 0);
	/* and the overlay goes quiet again */
	cl_run(cl, 5 * 60 * NN_SEC);
	d0 = 0, d1 = 0;
	for (uint32_t i = 0; i < 21; i++)
		d0 += discovery_of(cl, i);
	cl_run(cl, 10 * 60 * NN_SEC);
	for (uint32_t i = 0; i < 21; i++)
		d1 += discovery_of(cl, i);
	printf("# quiet again: %.1f discovery frames per node in 10 idle minutes\n",
	       (double)(d1 - d0) / 21);
	assert_true((double)(d1 - d0) / 21 <= 20);
	assert_int_equal(all_to_one_within_50ms(cl, 11, 700000), 0);
	cl_free(cl);
}

static void test_graceful_leave_triggers_replacement(void **state)
{
	cluster *cl = ring_up(30, 12, 0, NULL, 40 * NN_SEC);
	/* pick a node with edges and a peer of it */
	uint32_t v = 5;
	size_t before = 0;
	for (uint32_t i = 0; i < cl->n; i++)
		if (i != v && nn_routing_edges_find(nn_node_edges(cl->nodes[i].node), &cl->nodes[v].id))
			before++;
	assert_true(before > 0);
	cl_kill(cl, v, true);
	/* every former peer dropped the edge at once (Leave), not after the reaper's 45-75 s */
	cl_run(cl, 100 * NN_MS);
	for (uint32_t i = 0; i < cl->n; i++)
		if (i != v && cl->nodes[i].up)
			assert_null(nn_routing_edges_find(nn_node_edges(cl->nodes[i].node), &cl->nodes[v].id));
	/* and refill: outgoing edges come back by the next ticks */
	size_t out_after_leave = 0, out_later = 0;
	for (uint32_t i = 0; i < cl->n; i++)
		if (cl->nodes[i].up)
			out_after_leave += nn_routing_edges_outgoing(nn_node_edges(cl->nodes[i].node));
	cl_run(cl, 15 * NN_SEC);
	size_t dials_after = 0;
	(void)dials_after;
	for (uint32_t i = 0; i < cl->n; i++)
		if (cl->nodes[i].up) {
			out_later += nn_routing_edges_outgoing(nn_node_edges(cl->nodes[i].node));
			nn_node_stats s;
			nn_node_get_stats(cl->nodes[i].node, &s);
			dials_after += s.dials;
		}
	printf("# leave: %zu peers saw it; outgoing %zu -> %zu after 15 s\n", before,
	       out_after_leave, out_later);
	assert_true(out_later >= out_after_leave);
	nn_test_rng r = {5};
	assert_true(sample_delivery(cl, &r, 200, 5000) >= 0.99);
	cl_free(cl);
}

static void test_stalled_peer_does_not_slow_forwarding(void **state)
{
	/* A - T - B and A - T - C (line topology by hand, no maintenance): T's link to B stops
	 * delivering. Messages A -> C through T keep flowing at once. */
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(4, 13, 0, &o);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(cl_start(cl, i), 0);
	enum { A = 0, T = 1, B = 2, C = 3 };
	assert_int_equal(cl_bootstrap(cl, A, T), 0);
	assert_int_equal(cl_bootstrap(cl, B, T), 0);
	assert_int_equal(cl_bootstrap(cl, C, T), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(cl_edges(cl, T), 3);
	nn_mem_link stall = nn_mem_link_default();
	stall.stall = true;
	nn_mem_link_set(cl->hub, cl->nodes[T].tp, cl->nodes[B].tp, &stall);
	/* flood B until T's queue to B is full, interleaved with messages to C */
	for (int i = 0; i < 200; i++) {
		(void)cl_send(cl, A, B, 1 + (uint64_t)i);
		assert_int_equal(cl_send(cl, A, C, 10000 + (uint64_t)i), 0);
		cl_run(cl, 1 * NN_MS);
	}
	cl_run(cl, 50 * NN_MS);
	size_t to_c = 0;
	for (int i = 0; i < 200; i++)
		to_c += cl_count(cl, C, 10000 + (uint64_t)i);
	nn_node_stats st;
	nn_node_get_stats(cl->nodes[T].node, &st);
	printf("# stalled B: %zu/200 to C delivered within 50 ms; T refused %llu sends to B\n", to_c,
	       (unsigned long long)st.dropped_queue_full);
	assert_int_equal(to_c, 200);
	assert_true(st.dropped_queue_full > 0);
	cl_free(cl);
}

static void mint(uint8_t seed[32], int d, uint64_t s)
{
	nn_test_rng r = {s};
	for (;;) {
		nn_test_rng_fill(&r, seed, 32);
		nn_id id;
		nn_identity_id_from_seed(&id, NULL, seed);
		if (d < 0 ? !nn_pow_ok(&id, -d) : nn_pow_ok(&id, d))
			return; /* d < 0: mint one that FAILS difficulty -d */
	}
}

static void test_sub_pow_dropped_at_first_hop(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(3, 14, 6, &o);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(cl_start(cl, i), 0);
	assert_int_equal(cl_bootstrap(cl, 1, 0), 0);
	assert_int_equal(cl_bootstrap(cl, 2, 0), 0);
	cl_run(cl, 100 * NN_MS);

	/* 1. an edge from a sub-PoW identity is refused and counted */
	uint8_t weak[32];
	mint(weak, -6, 1);
	cl_raw r;
	cl_raw_connect(cl, &r, weak, 0);
	uint8_t ping[3] = {1, NN_T_PING, 0};
	assert_int_equal(nn_tp_send(r.tp, r.c, ping, 3), 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_stats st;
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.dropped_sub_pow, 1);
	assert_int_equal(r.closed, 1);
	nn_tp_destroy(r.tp);

	/* 2. an honest-PoW edge relays a Route frame signed by a sub-PoW originator toward node 2:
	 * node 0 (the first hop) drops it and does not forward */
	uint8_t strong[32];
	mint(strong, 6, 2);
	cl_raw_connect(cl, &r, strong, 0);
	assert_int_equal(nn_tp_send(r.tp, r.c, ping, 3), 0);
	cl_run(cl, 10 * NN_MS);
	nn_identity w;
	nn_identity_from_seed(&w, weak);
	nn_node_get_stats(cl->nodes[0].node, &st);
	uint64_t fwd0 = st.forwarded;
	static uint8_t frame[512];
	uint8_t payload[8] = "subpow!!";
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	env.target = cl->nodes[2].id;
	env.ttl = 16;
	memcpy(env.ed_pub, w.ed_pub, 32);
	env.sent = nn_clock_wall(cl->clk);
	env.payload = payload;
	env.plen = sizeof payload;
	uint8_t sig[64];
	nn_routing_env_sign(&w, NN_T_ROUTE, &env.target, env.sent, payload, sizeof payload, sig);
	env.sig = sig;
	int len = nn_routing_frame_encode(frame, sizeof frame, NN_T_ROUTE, &env);
	assert_true(len > 0);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.dropped_sub_pow, 2);
	assert_int_equal(st.forwarded, fwd0);
	assert_int_equal(cl_count(cl, 2, 0x2121776f70627573ull), 0);

	/* 3. the same frame from a strong originator is forwarded and delivered */
	nn_identity s;
	nn_identity_from_seed(&s, strong);
	memcpy(env.ed_pub, s.ed_pub, 32);
	nn_routing_env_sign(&s, NN_T_ROUTE, &env.target, env.sent, payload, sizeof payload, sig);
	len = nn_routing_frame_encode(frame, sizeof frame, NN_T_ROUTE, &env);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.forwarded, fwd0 + 1);
	uint64_t tag;
	memcpy(&tag, payload, 8);
	assert_int_equal(cl_count(cl, 2, tag), 1);
	/* 4. a replay of the very same frame dies at the first hop, which forwarded the original
	 * (exactly once at the target) */
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(cl_count(cl, 2, tag), 1);
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.dropped_transit_replay, 1);
	/* 5. a stale frame (sent 31 s ago) is dropped and counted */
	env.sent = nn_clock_wall(cl->clk) - 31 * NN_SEC;
	nn_routing_env_sign(&s, NN_T_ROUTE, &env.target, env.sent, payload, sizeof payload, sig);
	len = nn_routing_frame_encode(frame, sizeof frame, NN_T_ROUTE, &env);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.dropped_stale, 1);
	/* 6. a bad signature dies at the first hop (DESIGN §5.10), not at the terminal */
	env.sent = nn_clock_wall(cl->clk);
	sig[5] ^= 1;
	len = nn_routing_frame_encode(frame, sizeof frame, NN_T_ROUTE, &env);
	assert_int_equal(nn_tp_send(r.tp, r.c, frame, (size_t)len), 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.dropped_bad_sig, 1);
	nn_node_get_stats(cl->nodes[2].node, &st);
	assert_int_equal(st.dropped_bad_sig, 0);
	assert_int_equal(cl_count(cl, 2, tag), 1);
	nn_identity_wipe(&w);
	nn_identity_wipe(&s);
	nn_tp_destroy(r.tp);
	cl_free(cl);
}

static void test_malformed_and_unknown_frames(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(1, 15, 0, &o);
	assert_int_equal(cl_start(cl, 0), 0);
	uint8_t seed[32];
	mint(seed, 0, 3);
	cl_raw r;
	/* malformed first frame: the connection is closed, nothing registers */
	cl_raw_connect(cl, &r, seed, 0);
	const uint8_t bad_version[3] = {2, NN_T_PING, 0};
	assert_int_equal(nn_tp_send(r.tp, r.c, bad_version, 3), 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_stats st;
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.dropped_malformed, 1);
	assert_int_equal(st.edges_up, 0);
	assert_int_equal(r.closed, 1);
	nn_tp_destroy(r.tp);
	/* registered edge: malformed frames are dropped, unknown types ignored, edge stays */
	cl_raw_connect(cl, &r, seed, 0);
	const uint8_t ping[3] = {1, NN_T_PING, 0};
	assert_int_equal(nn_tp_send(r.tp, r.c, ping, 3), 0);
	const uint8_t trailing[4] = {1, NN_T_PING, 0, 0};
	const uint8_t unknown[4] = {1, 42, 1, 7};
	const uint8_t bad_pong[5] = {1, NN_T_PONG, 2, 0, 0};
	assert_int_equal(nn_tp_send(r.tp, r.c, trailing, 4), 0);
	assert_int_equal(nn_tp_send(r.tp, r.c, unknown, 4), 0);
	assert_int_equal(nn_tp_send(r.tp, r.c, bad_pong, 5), 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.dropped_malformed, 3);
	assert_int_equal(st.dropped_unknown_type, 1);
	assert_int_equal(cl_edges(cl, 0), 1);
	assert_int_equal(r.closed, 0);
	assert_true(r.frames >= 1); /* the Pong */
	/* Leave drops the edge; frames after it cannot resurrect it */
	const uint8_t leave[3] = {1, NN_T_LEAVE, 0};
	assert_int_equal(nn_tp_send(r.tp, r.c, leave, 3), 0);
	(void)nn_tp_send(r.tp, r.c, ping, 3);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(cl_edges(cl, 0), 0);
	nn_tp_destroy(r.tp);
	cl_free(cl);
}

/* A dial that authenticates but whose peer never says a word (it gave the handshake up on its
 * side) is a failed dial after dial_timeout_ms: dropped, counted, backed off. */
static void test_silent_dial_times_out(void **state)
{
	cluster *cl = cl_new(1, 16, 0, NULL);
	assert_int_equal(cl_start(cl, 0), 0);
	uint8_t seed[32];
	mint(seed, 0, 4);
	nn_identity id;
	nn_identity_from_seed(&id, seed);
	cl_raw r;
	cl_raw_listen(cl, &r, "mute", seed);
	nn_addr a;
	nn_addr_set(&a, "mem", "mute");
	assert_int_equal(nn_node_bootstrap_addr(cl->nodes[0].node, &id.id, &a), 0);
	cl_run(cl, 100 * NN_MS);
	assert_non_null(r.c);
	assert_true(r.frames >= 1); /* our Ping (and the join's requests) went unanswered */
	assert_int_equal(cl_edges(cl, 0), 1);
	cl_run(cl, 9 * NN_SEC);
	assert_int_equal(cl_edges(cl, 0), 1); /* within the 10 s default: still waiting */
	cl_run(cl, 7 * NN_SEC);
	nn_node_stats st;
	nn_node_get_stats(cl->nodes[0].node, &st);
	assert_int_equal(st.dials_unanswered, 1);
	assert_int_equal(st.dial_failures, 1);
	assert_int_equal(r.closed, 1); /* the silent edge is gone (a backed-off re-dial may follow) */
	assert_true(st.dials <= 2);
	nn_identity_wipe(&id);
	nn_tp_destroy(r.tp);
	cl_free(cl);
}

static void test_ping_flood_is_rate_limited(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(1, 16, 0, &o);
	assert_int_equal(cl_start(cl, 0), 0);
	uint8_t seed[32];
	mint(seed, 0, 4);
	cl_raw r;
	cl_raw_connect(cl, &r, seed, 0);
	const uint8_t ping[3] = {1, NN_T_PING, 0};
	for (int i = 0; i < 60; i++)
		(void)nn_tp_send(r.tp, r.c, ping, 3);
	cl_run(cl, 10 * NN_MS);
	nn_node_stats st;
	nn_node_get_stats(cl->nodes[0].node, &st);
	/* the control bucket's burst is 32: the rest are refused and counted */
	assert_int_equal(r.frames, 32);
	assert_int_equal(st.dropped_rate_limited, 60 - 32);
	nn_tp_destroy(r.tp);
	cl_free(cl);
}

static void test_bootstrap_with_pow_16(void **state)
{
	cluster *cl = ring_up(4, 17, 16, NULL, 10 * NN_SEC);
	for (uint32_t i = 0; i < 4; i++)
		assert_true(cl_edges(cl, i) >= 2);
	assert_int_equal(cl_send(cl, 3, 1, 77), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(cl_count(cl, 1, 77), 1);
	cl_free(cl);
}

static void test_forwarding_allocates_nothing(void **state)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(3, 18, 0, &o);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(cl_start(cl, i), 0);
	assert_int_equal(cl_bootstrap(cl, 0, 1), 0); /* A - T - B */
	assert_int_equal(cl_bootstrap(cl, 2, 1), 0);
	cl_run(cl, 100 * NN_MS);
	cl->capmsgs = 4096;
	cl->msgs = realloc(cl->msgs, cl->capmsgs * sizeof *cl->msgs);
	/* warm up pools and caches: as many sends as the measured run, so the envelope tables
	 * (which start small) grow to it, then a period of quiet so the measured sends land in a
	 * fresh generation of that size */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(cl_send(cl, 0, 2, (uint64_t)i), 0);
		cl_run(cl, 2 * NN_MS);
	}
	cl_run(cl, 2 * NN_ROUTING_MAX_AGE + NN_SEC);
	uint64_t before = nn_test_allocs();
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(cl_send(cl, 0, 2, 2000 + (uint64_t)i), 0);
		cl_run(cl, 2 * NN_MS);
	}
	uint64_t allocs = nn_test_allocs() - before;
	nn_node_stats st;
	nn_node_get_stats(cl->nodes[1].node, &st);
	printf("# 1000 sends A->T->B: %llu forwarded by T, %llu allocations in total\n",
	       (unsigned long long)st.forwarded, (unsigned long long)allocs);
	assert_true(st.forwarded >= 2000);
	assert_int_equal(cl_count(cl, 2, 2999), 1);
	assert_int_equal(allocs, 0);
	cl_free(cl);
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_and_unknown_frames),
		cmocka_unit_test(test_silent_dial_times_out),
		cmocka_unit_test(test_ping_flood_is_rate_limited),
		cmocka_unit_test(test_sub_pow_dropped_at_first_hop),
		cmocka_unit_test(test_stalled_peer_does_not_slow_forwarding),
		cmocka_unit_test(test_forwarding_allocates_nothing),
		cmocka_unit_test(test_graceful_leave_triggers_replacement),
		cmocka_unit_test(test_bootstrap_with_pow_16),
		cmocka_unit_test(test_idle_discovery_backs_off_and_news_resets_it),
		cmocka_unit_test(test_quiet_overlay_still_routes),
		cmocka_unit_test(test_churn_keeps_delivery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
