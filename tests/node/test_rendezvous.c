/* test_rendezvous.c — rendezvous, the connect cascade, send_direct and sealed boxes at the node
 * level: in-memory transport, virtual time, a raw endpoint playing the attacker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "rendezvous/rdv.h"
#include "routing/control.h"
#include "tests/node/cluster.h"

/* ---- completion recorders ---- */
struct done {
	int calls, status;
	nn_peer_keys keys;
	char how[16], addr[64];
	nn_time at;
	nn_clock *clk;
};

static void on_rdv(void *user, int status, const nn_id *target, const nn_peer_keys *k)
{
	struct done *d = user;
	(void)target;
	d->calls++;
	d->status = status;
	d->at = nn_clock_now(d->clk);
	if (k)
		d->keys = *k;
	else
		assert_int_not_equal(status, 0);
}

static void on_conn(void *user, int status, const nn_id *target, const char *how,
		    const char *addr)
{
	struct done *d = user;
	(void)target;
	d->calls++;
	d->status = status;
	d->at = nn_clock_now(d->clk);
	if (status == 0) {
		snprintf(d->how, sizeof d->how, "%s", how);
		snprintf(d->addr, sizeof d->addr, "%s", addr);
	} else {
		assert_null(how);
		assert_null(addr);
	}
}

static void on_done(void *user, int status, const nn_id *target)
{
	struct done *d = user;
	(void)target;
	d->calls++;
	d->status = status;
	d->at = nn_clock_now(d->clk);
}

static nn_node_stats stats(cluster *cl, uint32_t i)
{
	nn_node_stats s;
	nn_node_get_stats(cl->nodes[i].node, &s);
	return s;
}

static cluster *overlay(uint32_t n, uint64_t seed)
{
	cluster *cl = cl_new(n, seed, 0, NULL);
	assert_int_equal(cl_join(cl, 0, n), 0);
	cl_run(cl, 20 * NN_SEC);
	return cl;
}

/* Keep node x from dialling y for maintenance (as if a dial had just failed, for ever); an edge
 * between them is dropped. Calls (connect, send_direct) still dial. */
static void hold_apart(cluster *cl, uint32_t x, uint32_t y)
{
	nn_node *nx = cl->nodes[x].node;
	nn_node_drop_edge(nx, &cl->nodes[y].id, NN_TP_REASON_NORMAL);
	bool fresh;
	struct dialstate *d = nn_idmap_put(&nx->dials, &cl->nodes[y].id, &fresh);
	assert_non_null(d);
	d->next_attempt = INT64_MAX / 2;
}

/* Two nodes of the cluster without an edge between them, kept apart by maintenance: a small
 * overlay below Normal dials every contact it knows, so it tends to a full mesh. */
static void far_pair(cluster *cl, uint32_t *a, uint32_t *b)
{
	*a = 1;
	*b = 2;
	for (uint32_t i = 1; i < cl->n; i++)
		for (uint32_t j = 1; j < cl->n; j++)
			if (i != j && !nn_routing_edges_find(nn_node_edges(cl->nodes[i].node),
							      &cl->nodes[j].id)) {
				*a = i;
				*b = j;
				i = j = cl->n;
			}
	hold_apart(cl, *a, *b);
	hold_apart(cl, *b, *a);
	cl_run(cl, 10 * NN_MS); /* the close reaches the other end */
	assert_null(nn_routing_edges_find(nn_node_edges(cl->nodes[*a].node), &cl->nodes[*b].id));
	assert_null(nn_routing_edges_find(nn_node_edges(cl->nodes[*b].node), &cl->nodes[*a].id));
}

/* ---- rendezvous ---- */
static void test_rendezvous_returns_verified_keys_once(void **state)
{
	(void)state;
	cluster *cl = overlay(40, 71);
	uint32_t a, b;
	far_pair(cl, &a, &b);
	nn_node_stats sb0 = stats(cl, b);
	struct done d = {.clk = cl->clk};
	assert_int_equal(nn_node_rendezvous(cl->nodes[a].node, &cl->nodes[b].id, 2000, on_rdv, &d), 0);
	assert_int_equal(d.calls, 0); /* never from inside the call */
	cl_run(cl, 500 * NN_MS);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	nn_identity ib;
	nn_identity_from_seed(&ib, cl->nodes[b].seed);
	assert_memory_equal(d.keys.ed_pub, ib.ed_pub, 32);
	assert_memory_equal(d.keys.x_pub, ib.x_pub, 32);
	assert_true(nn_kad_id_eq(&d.keys.id, &cl->nodes[b].id));
	char want[32];
	snprintf(want, sizeof want, "n%u", b);
	assert_int_equal(d.keys.naddrs, 1);
	assert_string_equal(d.keys.addrs[0], want);
	/* one Hello (three copies) → exactly one Reply, one verified answer */
	nn_node_stats sa = stats(cl, a), sb = stats(cl, b);
	assert_int_equal(sa.hellos_tx, 1);
	assert_int_equal(sb.replies_tx - sb0.replies_tx, 1);
	assert_int_equal(sa.rendezvous_ok, 1);
	/* the keys are learned with x_pub (kept with the verified keys, sealed boxes take it
	 * from there) */
	const struct vkey *vk = nn_node_vkey(cl->nodes[a].node, &cl->nodes[b].id);
	assert_non_null(vk);
	assert_memory_equal(vk->x_pub, ib.x_pub, 32);
	cl_run(cl, 5 * NN_SEC);
	assert_int_equal(d.calls, 1); /* exactly once */
	nn_identity_wipe(&ib);
	cl_free(cl);
}

static void test_rendezvous_to_nobody_times_out(void **state)
{
	(void)state;
	cluster *cl = overlay(12, 72);
	nn_id ghost;
	memset(&ghost, 0x5a, sizeof ghost);
	struct done d = {.clk = cl->clk};
	nn_time t0 = nn_clock_now(cl->clk);
	assert_int_equal(nn_node_rendezvous(cl->nodes[3].node, &ghost, 3000, on_rdv, &d), 0);
	cl_run(cl, 2900 * NN_MS);
	assert_int_equal(d.calls, 0);
	cl_run(cl, 200 * NN_MS);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, NN_ETIMEDOUT);
	assert_true(d.at - t0 <= 3000 * NN_MS);
	/* resent 1 s after the first (then 3 s, 7 s): two Hellos in 3 s */
	assert_int_equal(stats(cl, 3).hellos_tx, 2);
	/* bad arguments fail now and never call back */
	assert_int_equal(nn_node_rendezvous(cl->nodes[3].node, &cl->nodes[3].id, 0, on_rdv, &d),
			 NN_EINVAL);
	assert_int_equal(nn_node_rendezvous(cl->nodes[3].node, &ghost, -1, on_rdv, &d), NN_EINVAL);
	/* a node without edges: unroutable, through the callback */
	nn_node_opts o;
	nn_node_opts_init(&o);
	cluster *lone = cl_new(1, 73, 0, &o);
	assert_int_equal(cl_start(lone, 0), 0);
	struct done e = {.clk = lone->clk};
	assert_int_equal(nn_node_rendezvous(lone->nodes[0].node, &ghost, 1000, on_rdv, &e), 0);
	cl_run(lone, 10 * NN_MS);
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.status, NN_EUNROUTABLE);
	cl_free(lone);
	cl_free(cl);
}

static void test_pending_calls_cancelled_on_free(void **state)
{
	(void)state;
	cluster *cl = overlay(8, 74);
	nn_id ghost;
	memset(&ghost, 0x6b, sizeof ghost);
	struct done d[3];
	for (int i = 0; i < 3; i++)
		d[i] = (struct done){.clk = cl->clk};
	assert_int_equal(nn_node_rendezvous(cl->nodes[2].node, &ghost, 5000, on_rdv, &d[0]), 0);
	assert_int_equal(nn_node_connect(cl->nodes[2].node, &ghost, 5000, on_conn, &d[1]), 0);
	assert_int_equal(nn_node_send_direct(cl->nodes[2].node, &ghost, "x", 1, 5000, on_done, &d[2]),
			 0);
	cl_run(cl, 100 * NN_MS);
	cl_kill(cl, 2, false);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].status, NN_ECANCELED);
	}
	cl_free(cl);
}

static void test_op_table_is_bounded(void **state)
{
	(void)state;
	cluster *cl = overlay(6, 75);
	nn_id ghost;
	memset(&ghost, 0x33, sizeof ghost);
	struct done d = {.clk = cl->clk};
	for (int i = 0; i < NN_NODE_MAX_OPS; i++)
		assert_int_equal(nn_node_rendezvous(cl->nodes[1].node, &ghost, 500, on_rdv, &d), 0);
	assert_int_equal(nn_node_rendezvous(cl->nodes[1].node, &ghost, 500, on_rdv, &d), NN_ELIMIT);
	cl_run(cl, 600 * NN_MS);
	assert_int_equal(d.calls, NN_NODE_MAX_OPS);
	assert_int_equal(nn_node_rendezvous(cl->nodes[1].node, &ghost, 500, on_rdv, &d), 0);
	cl_run(cl, 600 * NN_MS);
	cl_free(cl);
}

/* ---- the attacker: a raw endpoint that is the victim's only edge ---- */
struct raw {
	nn_tp *tp;
	nn_conn *c;
	nn_identity id;
	uint8_t last[4096];
	size_t last_len;
	uint8_t last_type;
	size_t frames;
};

static void raw_on_conn(void *ctx, nn_conn *c) { ((struct raw *)ctx)->c = c; }
static void raw_on_frame(void *ctx, nn_conn *c, nn_pkt **p)
{
	struct raw *r = ctx;
	(void)c;
	r->frames++;
	if ((*p)->len <= sizeof r->last && (*p)->len > 2 && (*p)->data[1] != NN_T_PING &&
	    (*p)->data[1] != NN_T_PONG) {
		memcpy(r->last, (*p)->data, (*p)->len);
		r->last_len = (*p)->len;
		r->last_type = (*p)->data[1];
	}
}
static void raw_on_closed(void *ctx, nn_conn *c, int err, uint64_t reason)
{
	(void)c;
	(void)err;
	(void)reason;
	((struct raw *)ctx)->c = NULL;
}

static void raw_connect(cluster *cl, struct raw *r, uint64_t seed, uint32_t to)
{
	uint8_t s[32];
	nn_test_rng rng = {seed};
	nn_test_rng_fill(&rng, s, sizeof s);
	memset(r, 0, sizeof *r);
	nn_identity_from_seed(&r->id, s);
	char name[16];
	snprintf(name, sizeof name, "raw%llu", (unsigned long long)seed);
	assert_int_equal(nn_mem_endpoint_new(cl->hub, name, &r->id.id, 0, &r->tp), 0);
	nn_mem_endpoint_set_key(r->tp, r->id.ed_pub);
	nn_tp_sink sk = {.ctx = r, .on_conn = raw_on_conn, .on_frame = raw_on_frame,
			 .on_closed = raw_on_closed};
	nn_tp_set_sink(r->tp, &sk);
	nn_addr a;
	snprintf(name, sizeof name, "n%u", to);
	nn_addr_set(&a, "mem", name);
	assert_int_equal(nn_tp_dial(r->tp, &cl->nodes[to].id, &a, NULL), 0);
	cl_run(cl, 10 * NN_MS);
	assert_non_null(r->c);
	uint8_t ping[3] = {1, NN_T_PING, 0}; /* register as an edge */
	assert_int_equal(nn_tp_send(r->tp, r->c, ping, 3), 0);
	cl_run(cl, 10 * NN_MS);
}

static void raw_free(struct raw *r)
{
	nn_tp_destroy(r->tp);
	nn_identity_wipe(&r->id);
}

/* Wrap payload in a routed envelope signed by `by`, toward target, and send it on r's edge. */
static void raw_route(cluster *cl, struct raw *r, const nn_identity *by, uint8_t type,
		      const nn_id *target, const uint8_t *payload, size_t plen, nn_time sent)
{
	static uint8_t frame[4096];
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	env.target = *target;
	env.ttl = 16;
	memcpy(env.ed_pub, by->ed_pub, 32);
	env.sent = sent;
	env.payload = payload;
	env.plen = plen;
	uint8_t sig[64];
	assert_int_equal(nn_routing_env_sign(by, type, target, env.sent, payload, plen, sig), 0);
	env.sig = sig;
	int len = nn_routing_frame_encode(frame, sizeof frame, type, &env);
	assert_true(len > 0);
	assert_int_equal(nn_tp_send(r->tp, r->c, frame, (size_t)len), 0);
	cl_run(cl, 10 * NN_MS);
}

static int reply_payload(uint8_t *buf, size_t cap, const nn_identity *who, const char *addr,
			 const uint8_t nonce[16])
{
	nn_addr a;
	nn_addr_set(&a, "mem", addr);
	nn_rdv_reply rep;
	assert_int_equal(nn_rdv_reply_make(&rep, who, &a, 1, nonce), 0);
	return nn_rdv_reply_encode(&rep, buf, cap);
}

static void test_mitm_forwarder_and_reply_attacks(void **state)
{
	(void)state;
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(2, 76, 0, &o);
	assert_int_equal(cl_start(cl, 0), 0);
	assert_int_equal(cl_start(cl, 1), 0); /* the target B: never connected to A */
	struct raw m;
	raw_connect(cl, &m, 9001, 0); /* the forwarder M is A's only edge */
	nn_node *A = cl->nodes[0].node;
	const nn_id *B = &cl->nodes[1].id;
	struct done d = {.clk = cl->clk};
	assert_int_equal(nn_node_rendezvous(A, B, 5000, on_rdv, &d), 0);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(m.last_type, NN_T_HELLO); /* A's Hello reached M */
	nn_routing_env env;
	uint8_t t;
	assert_int_equal(nn_routing_frame_decode(m.last, m.last_len, &t, &env), 0);
	nn_rdv_hello h;
	assert_int_equal(nn_rdv_hello_decode(&h, env.payload, env.plen), 0);
	nn_time now = nn_clock_wall(cl->clk);
	uint8_t p[1024];

	/* 1. M answers with its own keys (the MITM): WrongTarget, the rendezvous stays open */
	int plen = reply_payload(p, sizeof p, &m.id, "raw9001", h.nonce);
	raw_route(cl, &m, &m.id, NN_T_REPLY, &cl->nodes[0].id, p, (size_t)plen, now);
	nn_node_stats s = stats(cl, 0);
	assert_int_equal(s.dropped_wrong_target, 1);
	assert_int_equal(s.rendezvous_ok, 0);
	assert_int_equal(d.calls, 0);

	/* 2. a Reply for a Hello never sent (B's genuine keys, another nonce) */
	nn_identity ib;
	nn_identity_from_seed(&ib, cl->nodes[1].seed);
	uint8_t other[16];
	memset(other, 0xee, sizeof other);
	plen = reply_payload(p, sizeof p, &ib, "n1", other);
	raw_route(cl, &m, &m.id, NN_T_REPLY, &cl->nodes[0].id, p, (size_t)plen, now);
	assert_int_equal(stats(cl, 0).dropped_unsolicited, 1);

	/* 3. a Reply whose signature was tampered with */
	plen = reply_payload(p, sizeof p, &ib, "n1", h.nonce);
	p[plen - 1] ^= 1;
	raw_route(cl, &m, &m.id, NN_T_REPLY, &cl->nodes[0].id, p, (size_t)plen, now);
	assert_int_equal(stats(cl, 0).dropped_bad_sig, 1);
	assert_int_equal(d.calls, 0);

	/* 4. the genuine Reply (M merely relays B's answer) is accepted */
	p[plen - 1] ^= 1;
	raw_route(cl, &m, &ib, NN_T_REPLY, &cl->nodes[0].id, p, (size_t)plen, now);
	assert_int_equal(stats(cl, 0).rendezvous_ok, 1);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_memory_equal(d.keys.ed_pub, ib.ed_pub, 32);

	/* 5. replays: the same frame again (terminal dedup) and re-wrapped by M (the pending
	 * Hello is answered already) */
	raw_route(cl, &m, &ib, NN_T_REPLY, &cl->nodes[0].id, p, (size_t)plen, now);
	raw_route(cl, &m, &m.id, NN_T_REPLY, &cl->nodes[0].id, p, (size_t)plen, now + 1);
	s = stats(cl, 0);
	assert_int_equal(s.dropped_dup, 1);
	assert_int_equal(s.dropped_replay, 1);
	assert_int_equal(s.rendezvous_ok, 1);
	cl_run(cl, 6 * NN_SEC);
	assert_int_equal(d.calls, 1);
	nn_identity_wipe(&ib);
	raw_free(&m);
	cl_free(cl);
}

static void test_hello_replay_and_flood_limited(void **state)
{
	(void)state;
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(1, 77, 0, &o);
	assert_int_equal(cl_start(cl, 0), 0);
	struct raw m;
	raw_connect(cl, &m, 9002, 0);
	const nn_id *B = &cl->nodes[0].id;
	nn_addr a;
	nn_addr_set(&a, "mem", "raw9002");
	uint8_t nonce[16] = {1, 2, 3};
	nn_rdv_hello h;
	uint8_t p[1024];
	assert_int_equal(nn_rdv_hello_make(&h, &m.id, B, &a, 1, nonce), 0);
	int plen = nn_rdv_hello_encode(&h, p, sizeof p);
	nn_time now = nn_clock_wall(cl->clk);
	raw_route(cl, &m, &m.id, NN_T_HELLO, B, p, (size_t)plen, now);
	nn_node_stats s = stats(cl, 0);
	assert_int_equal(s.replies_tx, 1);
	assert_int_equal(m.last_type, NN_T_REPLY);
	/* B learned M's keys from the Hello (it can seal to M) */
	assert_non_null(nn_node_vkey(cl->nodes[0].node, &m.id.id));
	/* the same Hello in a fresh envelope (another timestamp, so another signature): one Reply
	 * per Hello all the same */
	raw_route(cl, &m, &m.id, NN_T_HELLO, B, p, (size_t)plen, now + 7);
	s = stats(cl, 0);
	assert_int_equal(s.replies_tx, 1);
	assert_int_equal(s.dropped_replay, 1);
	/* a Hello signed for someone else */
	nn_id other;
	memset(&other, 0x44, sizeof other);
	nonce[0] = 9;
	assert_int_equal(nn_rdv_hello_make(&h, &m.id, &other, &a, 1, nonce), 0);
	plen = nn_rdv_hello_encode(&h, p, sizeof p);
	raw_route(cl, &m, &m.id, NN_T_HELLO, B, p, (size_t)plen, now + 8);
	assert_int_equal(stats(cl, 0).dropped_bad_sig, 1);
	/* a flood of distinct Hellos from one originator: the per-originator limiter answers a
	 * burst and counts the rest */
	uint64_t rl0 = stats(cl, 0).dropped_rate_limited;
	for (int i = 0; i < 100; i++) {
		nonce[0] = 100;
		nonce[1] = (uint8_t)i;
		assert_int_equal(nn_rdv_hello_make(&h, &m.id, B, &a, 1, nonce), 0);
		plen = nn_rdv_hello_encode(&h, p, sizeof p);
		raw_route(cl, &m, &m.id, NN_T_HELLO, B, p, (size_t)plen, now + 100 + i);
	}
	s = stats(cl, 0);
	printf("# flood of 100 Hellos in 1 s: %llu Replies, %llu rate-limited\n",
	       (unsigned long long)s.replies_tx - 1,
	       (unsigned long long)(s.dropped_rate_limited - rl0));
	assert_int_equal(s.replies_tx - 1 + (s.dropped_rate_limited - rl0), 100);
	assert_true(s.replies_tx - 1 <= 60);  /* burst 32 + 16/s */
	assert_true(s.dropped_rate_limited - rl0 >= 40);
	/* malformed Hello payload */
	uint64_t mal = s.dropped_malformed;
	raw_route(cl, &m, &m.id, NN_T_HELLO, B, p, (size_t)plen - 1, now + 300);
	cl_run(cl, 3 * NN_SEC); /* let the limiter refill */
	raw_route(cl, &m, &m.id, NN_T_HELLO, B, p, 5, now + 301);
	assert_true(stats(cl, 0).dropped_malformed > mal);
	raw_free(&m);
	cl_free(cl);
}

/* ---- connect and direct ---- */
static void test_connect_then_direct_both_ways(void **state)
{
	(void)state;
	cluster *cl = overlay(40, 78);
	uint32_t a, b;
	far_pair(cl, &a, &b);
	struct done d = {.clk = cl->clk};
	nn_time t0 = nn_clock_now(cl->clk);
	assert_int_equal(nn_node_connect(cl->nodes[a].node, &cl->nodes[b].id, 3000, on_conn, &d), 0);
	cl_run(cl, 500 * NN_MS);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.how, "direct");
	char want[16];
	snprintf(want, sizeof want, "n%u", b);
	assert_string_equal(d.addr, want);
	printf("# connect (rendezvous + dial) took %.1f ms virtual\n",
	       (double)(d.at - t0) / (double)NN_MS);
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[a].node), &cl->nodes[b].id));
	cl_run(cl, 50 * NN_MS);
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[b].node), &cl->nodes[a].id));
	assert_int_equal(stats(cl, a).connects_ok, 1);
	/* a second connect finds the edge */
	struct done d2 = {.clk = cl->clk};
	assert_int_equal(nn_node_connect(cl->nodes[a].node, &cl->nodes[b].id, 3000, on_conn, &d2), 0);
	uint64_t hellos = stats(cl, a).hellos_tx;
	cl_run(cl, 1 * NN_MS);
	assert_int_equal(d2.calls, 1);
	assert_int_equal(d2.status, 0);
	assert_int_equal(stats(cl, a).hellos_tx, hellos);
	/* direct both ways over the edge */
	uint64_t rx0 = cl->direct_rx;
	struct done e = {.clk = cl->clk}, f = {.clk = cl->clk};
	assert_int_equal(nn_node_send_direct(cl->nodes[a].node, &cl->nodes[b].id, "ping!", 5, 0,
					     on_done, &e), 0);
	assert_int_equal(nn_node_send_direct(cl->nodes[b].node, &cl->nodes[a].id, "pong!", 5, 0,
					     on_done, &f), 0);
	cl_run(cl, 50 * NN_MS);
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.status, 0);
	assert_int_equal(f.calls, 1);
	assert_int_equal(cl->direct_rx - rx0, 2);
	cl_free(cl);
}

static void test_send_direct_connects_first(void **state)
{
	(void)state;
	cluster *cl = overlay(30, 79);
	uint32_t a, b;
	far_pair(cl, &a, &b);
	uint64_t rx0 = cl->direct_rx;
	struct done e = {.clk = cl->clk};
	assert_int_equal(nn_node_send_direct(cl->nodes[a].node, &cl->nodes[b].id, "hello", 5, 3000,
					     on_done, &e), 0);
	cl_run(cl, 500 * NN_MS);
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.status, 0);
	assert_int_equal(cl->direct_rx - rx0, 1);
	assert_int_equal(stats(cl, b).direct_rx, 1);
	/* bad input: too big, to ourselves */
	static uint8_t big[NN_NODE_MAX_DIRECT + 1];
	assert_int_equal(nn_node_send_direct(cl->nodes[a].node, &cl->nodes[b].id, big, sizeof big, 0,
					     NULL, NULL), NN_ETOOBIG);
	assert_int_equal(nn_node_send_direct(cl->nodes[a].node, &cl->nodes[a].id, "x", 1, 0, NULL,
					     NULL), NN_EINVAL);
	/* the largest direct payload goes through */
	assert_int_equal(nn_node_send_direct(cl->nodes[a].node, &cl->nodes[b].id, big,
					     NN_NODE_MAX_DIRECT, 0, NULL, NULL), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(cl->direct_rx - rx0, 2);
	cl_free(cl);
}

/* The direct stage: candidates in order, the next one at once after a failure, the first that
 * authenticates as the target wins, and a bound when none does. */
static void test_connect_cascade_happy_eyeballs(void **state)
{
	(void)state;
	cluster *cl = overlay(30, 80);
	uint32_t a, b;
	far_pair(cl, &a, &b);
	nn_node *A = cl->nodes[a].node;
	uint32_t x = 1; /* somebody else: its address answers with the wrong ID */
	while (x == a || x == b)
		x++;
	struct vkey k;
	memset(&k, 0, sizeof k);
	char name[16];
	nn_addr_set(&k.addrs[0], "mem", "nowhere"); /* unreachable */
	snprintf(name, sizeof name, "n%u", x);
	nn_addr_set(&k.addrs[1], "mem", name);        /* identity mismatch */
	k.addrs[2] = k.addrs[0];                      /* duplicate: dialled once */
	snprintf(name, sizeof name, "n%u", b);
	nn_addr_set(&k.addrs[3], "mem", name);        /* the real one */
	k.naddrs = 4;
	struct done d = {.clk = cl->clk};
	nn_node_stats s0 = stats(cl, a);
	assert_int_equal(nn_node_connect(A, &cl->nodes[b].id, 3000, on_conn, &d), 0);
	nn_node_ops_keys(A, &cl->nodes[b].id, &k); /* as if the Reply had arrived */
	nn_time t0 = nn_clock_now(cl->clk);
	cl_run(cl, 200 * NN_MS);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.addr, name);
	/* failures moved on at once: well inside one stagger step per candidate */
	assert_true(d.at - t0 < NN_OP_STAGGER);
	nn_node_stats s = stats(cl, a);
	/* (maintenance may dial too: at least the race's own three attempts, two failed) */
	assert_true(s.dials - s0.dials >= 3);
	assert_true(s.dial_failures - s0.dial_failures >= 2);

	/* no candidate works: the stage ends when every attempt failed, long before the deadline,
	 * with the most meaningful error */
	uint32_t c2 = 0;
	for (uint32_t i = 1; i < cl->n; i++)
		if (i != a && i != b && i != x && (!c2 || !nn_routing_edges_find(nn_node_edges(A), &cl->nodes[i].id)))
			c2 = i;
	hold_apart(cl, a, c2);
	hold_apart(cl, c2, a);
	cl_run(cl, 10 * NN_MS);
	assert_null(nn_routing_edges_find(nn_node_edges(A), &cl->nodes[c2].id));
	struct done e = {.clk = cl->clk};
	k.naddrs = 2; /* nowhere, wrong identity */
	assert_int_equal(nn_node_connect(A, &cl->nodes[c2].id, 8000, on_conn, &e), 0);
	nn_node_ops_keys(A, &cl->nodes[c2].id, &k);
	t0 = nn_clock_now(cl->clk);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.status, NN_EIDMISMATCH);
	assert_true(e.at - t0 < NN_OP_STAGGER);
	assert_int_equal(stats(cl, a).connects_failed - s0.connects_failed, 1);

	/* the real path blocked (A's dials to the target are black-holed): rendezvous succeeds
	 * over the overlay, the direct stage fails, bounded */
	nn_mem_link cut = nn_mem_link_default();
	cut.blackhole = true;
	nn_mem_link_set(cl->hub, cl->nodes[a].tp, cl->nodes[c2].tp, &cut);
	nn_mem_link_set(cl->hub, cl->nodes[c2].tp, cl->nodes[a].tp, &cut);
	struct done g = {.clk = cl->clk};
	t0 = nn_clock_now(cl->clk);
	assert_int_equal(nn_node_connect(A, &cl->nodes[c2].id, 8000, on_conn, &g), 0);
	cl_run(cl, 3 * NN_SEC);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, NN_EUNREACH);
	printf("# connect with the direct path cut failed after %.1f ms (deadline 8000)\n",
	       (double)(g.at - t0) / (double)NN_MS);
	assert_true(g.at - t0 < 2 * NN_SEC);
	cl_free(cl);
}

/* ---- sealed boxes through the node ---- */
static void test_sealed_box_roundtrip_and_rejections(void **state)
{
	(void)state;
	cluster *cl = overlay(20, 81);
	uint32_t a = 1, b = 2, c = 3;
	nn_node *A = cl->nodes[a].node, *B = cl->nodes[b].node, *C = cl->nodes[c].node;
	uint8_t box[256], out[256];
	const char *msg = "meet at noon";
	size_t mlen = strlen(msg);
	assert_int_equal(nn_node_seal(A, &cl->nodes[b].id, msg, mlen, box, sizeof box), NN_ENOENT);
	struct done d = {.clk = cl->clk};
	assert_int_equal(nn_node_rendezvous(A, &cl->nodes[b].id, 2000, on_rdv, &d), 0);
	cl_run(cl, 500 * NN_MS);
	assert_int_equal(d.status, 0);
	int blen = nn_node_seal(A, &cl->nodes[b].id, msg, mlen, box, sizeof box);
	assert_int_equal(blen, (int)nn_node_box_len(mlen));
	size_t olen;
	nn_id from;
	/* the wrong recipient */
	assert_int_equal(nn_node_open(C, box, (size_t)blen, out, sizeof out, &olen, &from),
			 NN_EBADSIG);
	assert_int_equal(olen, 0);
	/* trailing bytes, truncation */
	box[blen] = 0;
	assert_int_equal(nn_node_open(B, box, (size_t)blen + 1, out, sizeof out, &olen, &from),
			 NN_ETRAILING);
	assert_true(nn_node_open(B, box, (size_t)blen - 1, out, sizeof out, &olen, &from) < 0);
	/* tampered in every field: eph_pub, sender_ed_pub, ts, length, ciphertext, tag, sig */
	size_t fields[] = {0, 31, 32, 63, 64, 71, 72, 73, (size_t)blen - 65, (size_t)blen - 1};
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		box[fields[i]] ^= 0x01;
		int rc = nn_node_open(B, box, (size_t)blen, out, sizeof out, &olen, &from);
		assert_true(rc < 0);
		assert_int_equal(olen, 0);
		box[fields[i]] ^= 0x01;
	}
	/* genuine: opens once, names the sender */
	assert_int_equal(nn_node_open(B, box, (size_t)blen, out, sizeof out, &olen, &from), 0);
	assert_int_equal(olen, mlen);
	assert_memory_equal(out, msg, mlen);
	assert_true(nn_kad_id_eq(&from, &cl->nodes[a].id));
	assert_int_equal(nn_node_open(B, box, (size_t)blen, out, sizeof out, &olen, &from),
			 NN_EREPLAY);
	/* B learned A's keys from A's Hello: it can answer sealed */
	int rlen = nn_node_seal(B, &cl->nodes[a].id, "ok", 2, box, sizeof box);
	assert_true(rlen > 0);
	assert_int_equal(nn_node_open(A, box, (size_t)rlen, out, sizeof out, &olen, &from), 0);
	assert_true(nn_kad_id_eq(&from, &cl->nodes[b].id));
	/* expired: sealed now, opened 3 minutes later */
	blen = nn_node_seal(A, &cl->nodes[b].id, msg, mlen, box, sizeof box);
	cl_run(cl, 3 * 60 * NN_SEC);
	assert_int_equal(nn_node_open(B, box, (size_t)blen, out, sizeof out, &olen, &from),
			 NN_ESTALE);
	nn_node_stats s = stats(cl, b);
	assert_true(s.dropped_box >= 13);
	assert_int_equal(s.dropped_replay, 1);
	assert_int_equal(nn_node_seal(A, &cl->nodes[b].id, msg, NN_NODE_MAX_BOX_PLAINTEXT + 1, box,
				      sizeof box), NN_ETOOBIG);
	cl_free(cl);
}

/* ---- hostile addresses (the address grammar, transport/addr.h) ---- */
static nn_addr raw_addr(const char *net, const char *ep)
{
	nn_addr a;
	memset(&a, 0, sizeof a);
	a.net_len = (uint8_t)strlen(net);
	a.ep_len = (uint8_t)strlen(ep);
	memcpy(a.net, net, a.net_len);
	memcpy(a.ep, ep, a.ep_len);
	return a;
}

static void test_hostile_addresses_dropped_and_counted(void **state)
{
	(void)state;
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.no_maintenance = true;
	cluster *cl = cl_new(2, 78, 0, &o);
	assert_int_equal(cl_start(cl, 0), 0);
	assert_int_equal(cl_start(cl, 1), 0);
	struct raw m;
	raw_connect(cl, &m, 9003, 0); /* M is A's only edge */
	nn_node *A = cl->nodes[0].node;
	const nn_id *Aid = &cl->nodes[0].id;
	nn_time now = nn_clock_wall(cl->clk);
	uint8_t p[2048], frame[256];
	const nn_addr good = raw_addr("quic", "192.0.2.7:4242");
	const nn_addr forged_recv = raw_addr("quic", "127.0.0.1:1\nrecv forged");
	const nn_addr ansi = raw_addr("quic", "\x1b[2J\x1b[H1.2.3.4:1");
	const nn_addr spaced = raw_addr("mem", "a b");

	/* 1. a Pong observing a hostile address: dropped and counted, not "malformed" */
	nn_wr w;
	uint8_t pl[128];
	nn_wr_init(&w, pl, sizeof pl);
	nn_addr_write(&w, &forged_recv);
	int flen = nn_wire_frame_encode(frame, sizeof frame, NN_T_PONG, pl, w.off);
	assert_true(flen > 0);
	nn_node_stats s0 = stats(cl, 0);
	assert_int_equal(nn_tp_send(m.tp, m.c, frame, (size_t)flen), 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_stats s = stats(cl, 0);
	assert_int_equal(s.dropped_bad_addr, s0.dropped_bad_addr + 1);
	assert_int_equal(s.dropped_malformed, s0.dropped_malformed);

	/* 2. a Hello advertising a hostile address (validly signed by its originator): the whole
	 * Hello is dropped, no Reply, nothing learned */
	nn_rdv_hello h;
	uint8_t nonce[16] = {7};
	assert_int_equal(nn_rdv_hello_make(&h, &m.id, Aid, &ansi, 1, nonce), 0);
	int plen = nn_rdv_hello_encode(&h, p, sizeof p);
	assert_true(plen > 0);
	raw_route(cl, &m, &m.id, NN_T_HELLO, Aid, p, (size_t)plen, now);
	s = stats(cl, 0);
	assert_int_equal(s.dropped_bad_addr, s0.dropped_bad_addr + 2);
	assert_int_equal(s.replies_tx, 0);
	assert_null(nn_node_vkey(A, &m.id.id));

	/* 3. a Reply carrying B's genuine keys, correctly signed by B, advertising a line-forging
	 * address: dropped whole; the rendezvous stays open and the genuine Reply still wins */
	struct done d = {.clk = cl->clk};
	assert_int_equal(nn_node_rendezvous(A, &cl->nodes[1].id, 5000, on_rdv, &d), 0);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(m.last_type, NN_T_HELLO);
	nn_routing_env env;
	uint8_t t;
	assert_int_equal(nn_routing_frame_decode(m.last, m.last_len, &t, &env), 0);
	assert_int_equal(nn_rdv_hello_decode(&h, env.payload, env.plen), 0);
	nn_identity ib;
	nn_identity_from_seed(&ib, cl->nodes[1].seed);
	nn_addr two[2] = {raw_addr("mem", "n1"), forged_recv};
	nn_rdv_reply rep;
	assert_int_equal(nn_rdv_reply_make(&rep, &ib, two, 2, h.nonce), 0);
	plen = nn_rdv_reply_encode(&rep, p, sizeof p);
	raw_route(cl, &m, &ib, NN_T_REPLY, Aid, p, (size_t)plen, now + 1);
	s = stats(cl, 0);
	assert_int_equal(s.dropped_bad_addr, s0.dropped_bad_addr + 3);
	assert_int_equal(s.rendezvous_ok, 0);
	assert_int_equal(d.calls, 0);
	assert_int_equal(nn_rdv_reply_make(&rep, &ib, two, 1, h.nonce), 0);
	plen = nn_rdv_reply_encode(&rep, p, sizeof p);
	raw_route(cl, &m, &ib, NN_T_REPLY, Aid, p, (size_t)plen, now + 2);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(stats(cl, 0).rendezvous_ok, 1);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.keys.naddrs, 1);
	assert_string_equal(d.keys.addrs[0], "n1");

	/* 4. a Neighbors answer to A's Lookup: only the bad addresses go, the contacts stay with
	 * their good ones */
	assert_int_equal(nn_node_lookup(A, Aid, NN_LOOKUP_SPREAD), 0);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(m.last_type, NN_T_LOOKUP);
	assert_int_equal(nn_routing_frame_decode(m.last, m.last_len, &t, &env), 0);
	assert_int_equal(env.plen, NN_ROUTING_NONCE_LEN);
	uint8_t xs[32];
	nn_test_rng rng = {4242};
	nn_test_rng_fill(&rng, xs, sizeof xs);
	nn_identity ix;
	nn_identity_from_seed(&ix, xs);
	nn_routing_neighbors nb;
	nn_routing_neighbors_init(&nb, env.payload);
	nn_routing_contact c;
	memset(&c, 0, sizeof c);
	c.id = ix.id;
	memcpy(c.ed_pub, ix.ed_pub, 32);
	c.addrs[0] = ansi;
	c.addrs[1] = good;
	c.addrs[2] = spaced;
	c.naddrs = 3;
	assert_int_equal(nn_routing_neighbors_append(&nb, &c), 0);
	memset(&c, 0, sizeof c);
	c.id = m.id.id;
	memcpy(c.ed_pub, m.id.ed_pub, 32);
	c.addrs[0] = forged_recv;
	c.addrs[1] = raw_addr("mem", "raw9003");
	c.naddrs = 2;
	assert_int_equal(nn_routing_neighbors_append(&nb, &c), 0);
	plen = nn_routing_neighbors_encode(p, sizeof p, &nb);
	assert_true(plen > 0);
	raw_route(cl, &m, &m.id, NN_T_NEIGHBORS, Aid, p, (size_t)plen, now + 3);
	s = stats(cl, 0);
	assert_int_equal(s.dropped_bad_addr, s0.dropped_bad_addr + 6);
	assert_int_equal(s.dropped_malformed, s0.dropped_malformed);
	const nn_routing_kc *kx = nn_routing_kt_get(nn_node_knowledge(A), &ix.id, NULL);
	assert_non_null(kx);
	assert_int_equal(kx->naddrs, 1);
	nn_addr kx0;
	nn_routing_kc_addr(kx, 0, &kx0);
	assert_true(nn_addr_eq(&kx0, &good));
	nn_identity_wipe(&ix);
	nn_identity_wipe(&ib);
	raw_free(&m);
	cl_free(cl);
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rendezvous_returns_verified_keys_once),
		cmocka_unit_test(test_rendezvous_to_nobody_times_out),
		cmocka_unit_test(test_pending_calls_cancelled_on_free),
		cmocka_unit_test(test_op_table_is_bounded),
		cmocka_unit_test(test_mitm_forwarder_and_reply_attacks),
		cmocka_unit_test(test_hello_replay_and_flood_limited),
		cmocka_unit_test(test_connect_then_direct_both_ways),
		cmocka_unit_test(test_send_direct_connects_first),
		cmocka_unit_test(test_connect_cascade_happy_eyeballs),
		cmocka_unit_test(test_sealed_box_roundtrip_and_rejections),
		cmocka_unit_test(test_hostile_addresses_dropped_and_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
