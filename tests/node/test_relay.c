/* test_relay.c — volunteer relays at the node, on the in-memory transport's relay model in
 * virtual time: a connect whose direct and punch stages cannot work (the link between the two
 * sides is cut both ways) goes through a volunteer; a volunteer that cannot serve refuses at
 * once and the next one serves; a non-volunteer refuses; requests are rate-limited per
 * connection; a Bind from a neighbour that does not advertise CanRelay is dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tests/node/cluster.h"

struct done {
	nn_clock *clk;
	int calls, status;
	char how[16], addr[64];
	nn_time at;
};

static void on_conn(void *user, int status, const nn_id *target, const char *how,
		    const char *addr)
{
	(void)target;
	struct done *d = user;
	d->calls++;
	d->status = status;
	d->at = nn_clock_now(d->clk);
	snprintf(d->how, sizeof d->how, "%s", how ? how : "-");
	snprintf(d->addr, sizeof d->addr, "%s", addr ? addr : "-");
}

static nn_node_stats st(cluster *cl, uint32_t i)
{
	nn_node_stats s;
	nn_node_get_stats(cl->nodes[i].node, &s);
	return s;
}

enum { HUB = 0, A = 1, B = 2, R1 = 3, R2 = 4 };

/* 0 is a hub; A and B hang off it and cannot reach each other (both directions cut); R1 and
 * R2 (volunteers when `volunteers` says so, bit 0 = R1, bit 1 = R2) have edges to A and B.
 * No maintenance: the edges are exactly these. */
static cluster *setup_with(uint64_t seed, unsigned volunteers, nn_node_opts *o, uint32_t caps)
{
	o->no_maintenance = true;
	cluster *cl = cl_new(5, seed, 0, o);
	cl->caps = NN_TP_CAP_PUNCH | NN_TP_CAP_RELAY | caps;
	for (uint32_t i = 0; i < 5; i++) {
		cl->base.relay = (i == R1 && (volunteers & 1)) || (i == R2 && (volunteers & 2));
		assert_int_equal(cl_start(cl, i), 0);
	}
	cl->base.relay = false;
	assert_int_equal(cl_bootstrap(cl, A, HUB), 0);
	assert_int_equal(cl_bootstrap(cl, B, HUB), 0);
	for (uint32_t r = R1; r <= R2; r++) {
		assert_int_equal(cl_bootstrap(cl, A, r), 0);
		assert_int_equal(cl_bootstrap(cl, B, r), 0);
	}
	cl_run(cl, 2 * NN_SEC);
	nn_mem_link cut = nn_mem_link_default();
	cut.blackhole = true;
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[A].tp, cl->nodes[B].tp, &cut), 0);
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[B].tp, cl->nodes[A].tp, &cut), 0);
	return cl;
}

static cluster *setup(uint64_t seed, unsigned volunteers)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	return setup_with(seed, volunteers, &o, 0);
}

static bool caps_relay(cluster *cl, uint32_t at, uint32_t who)
{
	const nn_routing_kc *k =
		nn_routing_kt_get(nn_node_knowledge(cl->nodes[at].node), &cl->nodes[who].id, NULL);
	return k && (k->caps & NN_ROUTING_CAP_RELAY);
}

/* Direct and punch cannot work (A and B are cut from each other); the only volunteer serves:
 * Grant to A, Bind to B (B punches the callee-facing allocation), A dials the caller-facing
 * one and B accepts the edge. Without the relay stage the call fails (checked: the same run
 * with no volunteer fails with the punch stage's error). */
/* The live edge to `to` as nn_node_peers reports it (path, RTT); fails the test if missing. */
static nn_peer_info peer_of(nn_node *n, const nn_id *to)
{
	nn_peer_info p[64];
	size_t k = nn_node_peers(n, p, 64);
	for (size_t i = 0; i < k && i < 64; i++)
		if (!memcmp(p[i].id.b, to->b, sizeof to->b))
			return p[i];
	fail_msg("no live edge to the peer");
	return p[0];
}

static void test_relayed_connect(void **state)
{
	(void)state;
	cluster *cl = setup(71, 1);
	assert_true(caps_relay(cl, A, R1));
	assert_false(caps_relay(cl, A, R2));
	struct done d = {.clk = cl->clk};
	assert_int_equal(nn_node_connect(cl->nodes[A].node, &cl->nodes[B].id, 15000, on_conn, &d),
			 0);
	cl_run(cl, 15 * NN_SEC);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.how, "relay");
	assert_non_null(strstr(d.addr, "n3:relay"));
	nn_node_stats a = st(cl, A), b = st(cl, B), r = st(cl, R1);
	assert_int_equal(a.relay_requests_tx, 1);
	assert_int_equal(a.relay_grants_rx, 1);
	assert_int_equal(a.connects_relayed, 1);
	assert_int_equal(r.relay_requests_rx, 1);
	assert_int_equal(r.relay_served, 1);
	assert_int_equal(r.relay_refusals_tx, 0);
	assert_int_equal(b.relay_binds_rx, 1);
	assert_int_equal(b.dropped_relay_bind, 0);
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[B].node), &cl->nodes[A].id));
	assert_non_null(nn_routing_edges_find(nn_node_edges(cl->nodes[A].node), &cl->nodes[B].id));
	/* both sides list the relay in use (console `nat`) */
	nn_nat_info ni;
	nn_node_nat_info(cl->nodes[A].node, &ni);
	assert_int_equal(ni.relays, 1);
	assert_non_null(strstr(ni.relay[0], "n3:relay"));
	assert_non_null(strstr(ni.relay[0], ":a"));
	nn_node_nat_info(cl->nodes[B].node, &ni);
	assert_int_equal(ni.relays, 1);
	assert_non_null(strstr(ni.relay[0], ":b"));
	/* a second connect finds the edge and still says how it runs */
	struct done d2 = {.clk = cl->clk};
	assert_int_equal(nn_node_connect(cl->nodes[A].node, &cl->nodes[B].id, 5000, on_conn, &d2),
			 0);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(d2.status, 0);
	assert_string_equal(d2.how, "relay");
	/* frames flow over the relayed edge */
	assert_int_equal(cl_send(cl, A, B, 0x7e1a7), 0);
	cl_run(cl, NN_SEC);
	assert_int_equal(cl_count(cl, B, 0x7e1a7), 1);
	/* peers / status / metrics: relayed on both sides (the callee's edge is inbound) */
	assert_string_equal(peer_of(cl->nodes[A].node, &cl->nodes[B].id).path, "relay");
	assert_string_equal(peer_of(cl->nodes[B].node, &cl->nodes[A].id).path, "relay");
	assert_int_equal(st(cl, A).edges_relayed, 1);
	assert_int_equal(st(cl, B).edges_relayed, 1);
	cl_free(cl);

	/* no volunteer at all: the stage ends at once, the call fails */
	cl = setup(71, 0);
	struct done e = {.clk = cl->clk};
	assert_int_equal(nn_node_connect(cl->nodes[A].node, &cl->nodes[B].id, 15000, on_conn, &e),
			 0);
	cl_run(cl, 15 * NN_SEC);
	assert_int_equal(e.calls, 1);
	assert_true(e.status < 0);
	assert_int_equal(st(cl, A).relay_no_volunteer, 1);
	assert_int_equal(st(cl, A).relay_requests_tx, 0);
	cl_free(cl);
}

/* The path is the connection's, recorded when it is made, not guessed later by whichever
 * call its edge completes: A runs two connects to B (X first; Y, started a moment later, takes
 * the op slot before X's) and B runs one to A (Z); all three end in the relay stage, with
 * three relayed connections racing for one edge. Every call says "relay", both sides' peer
 * lists say "relay", and no relayed connection is mistaken for a direct one. (Before, the
 * allocation was noted only when the call that dialled it completed: Y's relayed connection
 * came up first, was taken for a direct one, "moved" the edge off X's — upgrades_moved — and
 * A's peer list said "direct" for an edge through the relay.) */
static void test_path_recorded(void **state)
{
	(void)state;
	cluster *cl = setup(74, 1);
	struct done dd = {.clk = cl->clk}, dx = {.clk = cl->clk}, dy = {.clk = cl->clk},
		    dz = {.clk = cl->clk};
	/* occupies op slot 0 until it is delivered */
	assert_int_equal(nn_node_connect(cl->nodes[A].node, &cl->nodes[HUB].id, 1000, on_conn, &dd),
			 0);
	assert_int_equal(nn_node_connect(cl->nodes[A].node, &cl->nodes[B].id, 15000, on_conn, &dx),
			 0);
	for (int i = 0; i < 100 && !dd.calls; i++)
		cl_run(cl, NN_MS);
	assert_int_equal(dd.calls, 1);
	assert_int_equal(dx.calls, 0);
	assert_int_equal(nn_node_connect(cl->nodes[A].node, &cl->nodes[B].id, 15000, on_conn, &dy),
			 0);
	assert_int_equal(nn_node_connect(cl->nodes[B].node, &cl->nodes[A].id, 15000, on_conn, &dz),
			 0);
	cl_run(cl, 15 * NN_SEC);
	assert_int_equal(dx.calls, 1);
	assert_int_equal(dy.calls, 1);
	assert_int_equal(dz.calls, 1);
	assert_int_equal(dx.status, 0);
	assert_int_equal(dy.status, 0);
	assert_int_equal(dz.status, 0);
	print_message("# x %s, y %s (%.1f s), z %s (%.1f s); A connects_punched %llu\n", dx.how,
		      dy.how, (double)(dy.at - dx.at) / NN_SEC, dz.how,
		      (double)(dz.at - dx.at) / NN_SEC,
		      (unsigned long long)st(cl, A).connects_punched);
	assert_string_equal(dx.how, "relay");
	assert_string_equal(dy.how, "relay");
	assert_string_equal(dz.how, "relay");
	assert_int_equal(st(cl, A).connects_relayed, 2);
	assert_int_equal(st(cl, A).connects_punched, 0);
	assert_int_equal(st(cl, B).connects_relayed, 1);
	assert_string_equal(peer_of(cl->nodes[A].node, &cl->nodes[B].id).path, "relay");
	assert_string_equal(peer_of(cl->nodes[B].node, &cl->nodes[A].id).path, "relay");
	assert_int_equal(st(cl, A).upgrades_moved, 0);
	assert_int_equal(st(cl, B).upgrades_moved, 0);
	cl_free(cl);
}

/* Two volunteers; the one nearer to B has lost its edge to B. It refuses (no edge) within one
 * round trip of the request — not after the request's wait — and the next one serves. */
static void test_refusal_then_next_volunteer(void **state)
{
	(void)state;
	cluster *cl = setup(72, 3);
	const nn_id *bid = &cl->nodes[B].id;
	uint32_t near = nn_kad_cmp_distance(bid, &cl->nodes[R1].id, &cl->nodes[R2].id) < 0 ? R1 : R2;
	uint32_t far = near == R1 ? R2 : R1;
	nn_node_drop_edge(cl->nodes[near].node, bid, NN_TP_REASON_NORMAL);
	cl_run(cl, 100 * NN_MS);
	assert_null(nn_routing_edges_find(nn_node_edges(cl->nodes[near].node), bid));
	assert_true(caps_relay(cl, A, near) && caps_relay(cl, A, far));
	struct done d = {.clk = cl->clk};
	assert_int_equal(nn_node_connect(cl->nodes[A].node, bid, 15000, on_conn, &d), 0);
	/* step in 1 ms: the refusal arrives one round trip (2 x 1 ms latency) after the request */
	nn_time t_req = 0, t_ref = 0;
	for (int i = 0; i < 15000 && !t_ref; i++) {
		cl_run(cl, NN_MS);
		nn_node_stats a = st(cl, A);
		if (!t_req && a.relay_requests_tx >= 1)
			t_req = nn_clock_now(cl->clk);
		if (a.relay_refusals_rx >= 1)
			t_ref = nn_clock_now(cl->clk);
	}
	assert_true(t_req > 0 && t_ref > 0);
	printf("# refusal after %.0f ms virtual (link latency 1 ms)\n",
	       (double)(t_ref - t_req) / (double)NN_MS);
	assert_true(t_ref - t_req <= 3 * NN_MS);
	cl_run(cl, 5 * NN_SEC);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.how, "relay");
	char want[32];
	snprintf(want, sizeof want, "n%u:relay", far);
	assert_non_null(strstr(d.addr, want));
	nn_node_stats a = st(cl, A);
	assert_int_equal(a.relay_requests_tx, 2);
	assert_int_equal(a.relay_refusals_rx, 1);
	assert_int_equal(a.relay_timeouts, 0);
	assert_int_equal(st(cl, near).relay_refusals_tx, 1);
	assert_int_equal(st(cl, near).relay_served, 0);
	assert_int_equal(st(cl, far).relay_served, 1);
	cl_free(cl);
}

static void send_frame(cluster *cl, uint32_t from, uint32_t to, uint8_t type, const uint8_t *p,
		       size_t len)
{
	nn_node *n = cl->nodes[from].node;
	const nn_routing_edge *e = nn_routing_edges_find(nn_node_edges(n), &cl->nodes[to].id);
	assert_non_null(e);
	uint8_t frame[256];
	int flen = nn_wire_frame_encode(frame, sizeof frame, type, p, len);
	assert_true(flen > 0);
	assert_int_equal(nn_node_send_conn(n, e->conn, frame, (size_t)flen), 0);
}

/* A non-volunteer answers every request with a refusal (never silence); a volunteer refuses a
 * request for a target it has no edge to and one naming the requester; requests over the
 * per-connection rate are refused and counted; a Bind from a neighbour without CanRelay makes
 * nobody punch. */
static void test_refusals_and_limits(void **state)
{
	(void)state;
	cluster *cl = setup(73, 1);
	nn_node *a = cl->nodes[A].node;
	const nn_routing_edge *eh = nn_routing_edges_find(nn_node_edges(a), &cl->nodes[HUB].id);
	const nn_routing_edge *er = nn_routing_edges_find(nn_node_edges(a), &cl->nodes[R1].id);
	assert_non_null(eh);
	assert_non_null(er);
	uint8_t nonce[16] = {1};
	/* the hub does not volunteer */
	assert_int_equal(nn_node_send_relay_request(a, eh->conn, &cl->nodes[B].id, nonce), 0);
	/* R1 is not connected to HUB; and A asking for itself is a bad request */
	assert_int_equal(nn_node_send_relay_request(a, er->conn, &cl->nodes[HUB].id, nonce), 0);
	assert_int_equal(nn_node_send_relay_request(a, er->conn, &cl->nodes[A].id, nonce), 0);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(st(cl, HUB).relay_requests_rx, 1);
	assert_int_equal(st(cl, HUB).relay_refusals_tx, 1);
	assert_int_equal(st(cl, R1).relay_refusals_tx, 2);
	assert_int_equal(st(cl, R1).relay_served, 0);
	assert_int_equal(st(cl, A).dropped_unsolicited, 3); /* no op of A waits on them */

	/* a burst of 20 requests within a millisecond: 8 (the burst, minus the 2 above) pass the
	 * bucket, the rest are refused as rate-limited */
	for (int i = 0; i < 20; i++)
		assert_int_equal(nn_node_send_relay_request(a, er->conn, &cl->nodes[HUB].id, nonce),
				 0);
	cl_run(cl, 10 * NN_MS);
	nn_node_stats r = st(cl, R1);
	assert_int_equal(r.relay_requests_rx, 22);
	assert_int_equal(r.dropped_relay_rate, 22 - 8);
	assert_int_equal(r.relay_refusals_tx, 22); /* every request got an answer */

	/* a Bind from the hub (no CanRelay): dropped, no punch */
	uint8_t bind[96];
	nn_addr target;
	nn_addr_set(&target, "mem", "n2");
	int bl = nn_nat_relay_bind_encode(&target, bind, sizeof bind);
	assert_true(bl > 0);
	uint64_t punches = st(cl, A).punches_tx;
	send_frame(cl, HUB, A, NN_T_RELAY_BIND, bind, (size_t)bl);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(st(cl, A).relay_binds_rx, 1);
	assert_int_equal(st(cl, A).dropped_relay_bind, 1);
	assert_int_equal(st(cl, A).punches_tx, punches);
	/* a malformed Grant is counted, the edge stays */
	uint8_t junk[3] = {0, 1, 2};
	uint64_t mal = st(cl, A).dropped_malformed;
	send_frame(cl, R1, A, NN_T_RELAY_GRANT, junk, sizeof junk);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(st(cl, A).dropped_malformed, mal + 1);
	assert_non_null(nn_routing_edges_find(nn_node_edges(a), &cl->nodes[R1].id));
	cl_free(cl);
}

static void on_done(void *user, int status, const nn_id *target)
{
	(void)target;
	int *k = user;
	if (status == 0)
		(*k)++;
}

/* Relay -> direct upgrade: A and B are relayed (cut from each other); the cut is lifted and
 * the background upgrade moves the edge to a direct connection on both sides within the
 * back-off's first steps, make-before-break: a stream of routed messages (20/s) and of App
 * frames (20/s) sent from A across the switch arrives exactly once each, nothing lost, and
 * neither side saw the edge go down (no edge down/up for the application). Without the
 * upgrade (checked: nn_node_upgrade_kick made a no-op) the edge stays relayed and the test
 * fails at the relays == 0 assertion. */
static void test_upgrade_to_direct(void **state)
{
	(void)state;
	cluster *cl = setup(73, 1);
	struct done d = {.clk = cl->clk};
	assert_int_equal(nn_node_connect(cl->nodes[A].node, &cl->nodes[B].id, 15000, on_conn, &d),
			 0);
	cl_run(cl, 15 * NN_SEC);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.how, "relay");
	assert_string_equal(peer_of(cl->nodes[A].node, &cl->nodes[B].id).path, "relay");
	assert_string_equal(peer_of(cl->nodes[B].node, &cl->nodes[A].id).path, "relay");
	nn_node_stats a0 = st(cl, A), b0 = st(cl, B);
	/* relayed and still cut: an attempt runs (and fails), the edge stays relayed */
	nn_nat_info ni;
	nn_node_nat_info(cl->nodes[A].node, &ni);
	assert_int_equal(ni.relays, 1);
	/* the lab opens a path */
	nn_mem_link open = nn_mem_link_default();
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[A].tp, cl->nodes[B].tp, &open), 0);
	assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[B].tp, cl->nodes[A].tp, &open), 0);
	nn_time lifted = nn_clock_now(cl->clk), moved_at = 0;
	size_t direct0 = cl->direct_rx;
	int direct_ok = 0;
	enum { N = 400 }; /* 20 s at 20/s */
	for (uint64_t i = 0; i < N; i++) {
		assert_int_equal(cl_send(cl, A, B, 0x5a000 + i), 0);
		uint8_t p[16];
		memset(p, 0x33, sizeof p);
		assert_int_equal(nn_node_send_direct(cl->nodes[A].node, &cl->nodes[B].id, p, sizeof p,
						     5000, on_done, &direct_ok),
				 0);
		cl_run(cl, 50 * NN_MS);
		if (!moved_at) {
			nn_nat_info x, y;
			nn_node_nat_info(cl->nodes[A].node, &x);
			nn_node_nat_info(cl->nodes[B].node, &y);
			if (x.relays == 0 && y.relays == 0)
				moved_at = nn_clock_now(cl->clk);
		}
	}
	cl_run(cl, 5 * NN_SEC);
	assert_true(moved_at != 0);
	print_message("# moved to direct %.1f s after the lift; A tried %llu\n", (double)(moved_at - lifted) / NN_SEC, (unsigned long long)st(cl, A).upgrades_tried);
	/* attempts every 4 s in the first minute of a relayed edge: the lift (about 15 s after
	 * it) is caught by the next attempt, within 5 s */
	assert_true(moved_at - lifted <= 5 * NN_SEC);
	for (uint64_t i = 0; i < N; i++)
		assert_int_equal(cl_count(cl, B, 0x5a000 + i), 1);
	assert_int_equal(direct_ok, N);
	assert_int_equal(cl->direct_rx - direct0, N);
	nn_node_stats a = st(cl, A), b = st(cl, B);
	assert_true(a.upgrades_tried >= 1);
	assert_true(a.upgrades_moved + b.upgrades_moved >= 2); /* both ends moved the edge */
	assert_int_equal(a.edges_down, a0.edges_down);
	assert_int_equal(b.edges_down, b0.edges_down);
	assert_int_equal(a.edges_up, a0.edges_up);
	assert_int_equal(b.edges_up, b0.edges_up);
	/* connect on the existing edge now says it is direct */
	struct done d2 = {.clk = cl->clk};
	assert_int_equal(nn_node_connect(cl->nodes[A].node, &cl->nodes[B].id, 5000, on_conn, &d2),
			 0);
	cl_run(cl, 10 * NN_MS);
	assert_int_equal(d2.status, 0);
	assert_string_not_equal(d2.how, "relay");
	/* the path moved with the edge, on both sides' peer lists */
	assert_string_not_equal(peer_of(cl->nodes[A].node, &cl->nodes[B].id).path, "relay");
	assert_string_not_equal(peer_of(cl->nodes[B].node, &cl->nodes[A].id).path, "relay");
	assert_int_equal(st(cl, A).edges_relayed, 0);
	assert_int_equal(st(cl, B).edges_relayed, 0);
	cl_free(cl);
}

/* A live call moves with its edge: A calls B over the relayed edge (consent once), a paced
 * stream of reliable messages (50/s) and datagrams runs from A; the cut is lifted and the
 * upgrade moves the edge to a direct connection; the session A dialled follows it
 * (nn_tp_move_media; media_moved) — same session id, no second consent, no down on either
 * side — and ends up on the direct path (its address is no longer the relay allocation on
 * either side). Every message arrives exactly once; datagrams may have a gap at the move
 * (printed). Without the move (checked: nn_node_media_edge_moved made a no-op) media_moved
 * stays 0 and the test fails; the session would stay on the relay allocation. */
static struct mcall {
	unsigned consents, ups, downs;
	uint8_t seen[2048];
	uint8_t dseen[2048];
	size_t msgs, dgrams;
} MC[5];

static bool mc_consent(void *user, const nn_id *peer, uint64_t sid)
{
	(void)peer;
	(void)sid;
	MC[((cl_node *)user)->idx].consents++;
	return true;
}

static void mc_state(void *user, uint64_t sid, const nn_id *peer, bool inbound, int status)
{
	(void)sid;
	(void)peer;
	(void)inbound;
	struct mcall *m = &MC[((cl_node *)user)->idx];
	if (status == 0)
		m->ups++;
	else
		m->downs++;
}

/* Count one message or datagram by the sequence number in its first 4 bytes. */
static void mc_tally(size_t *count, uint8_t *seen, const uint8_t *d, size_t len)
{
	uint32_t k = 0;
	if (len >= 4)
		memcpy(&k, d, 4);
	(*count)++;
	if (k < 2048)
		seen[k]++;
}

static void mc_msg(void *user, uint64_t sid, uint8_t ch, const uint8_t *d, size_t len)
{
	(void)sid;
	(void)ch;
	struct mcall *m = &MC[((cl_node *)user)->idx];
	mc_tally(&m->msgs, m->seen, d, len);
}

static void mc_dgram(void *user, uint64_t sid, uint8_t ch, const uint8_t *d, size_t len,
		     int64_t rx_ns)
{
	(void)sid;
	(void)ch;
	(void)rx_ns;
	struct mcall *m = &MC[((cl_node *)user)->idx];
	mc_tally(&m->dgrams, m->dseen, d, len);
}

static void test_call_moves_with_upgrade(void **state)
{
	(void)state;
	memset(MC, 0, sizeof MC);
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.cb.media_consent = mc_consent;
	o.cb.on_media_state = mc_state;
	o.cb.on_media_message = mc_msg;
	o.cb.on_media_datagram = mc_dgram;
	cluster *cl = setup_with(75, 1, &o, NN_TP_CAP_MEDIA);
	struct done d = {.clk = cl->clk};
	nn_node *a = cl->nodes[A].node, *b = cl->nodes[B].node;
	assert_int_equal(nn_node_connect(a, &cl->nodes[B].id, 15000, on_conn, &d), 0);
	cl_run(cl, 15 * NN_SEC);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.how, "relay");
	uint64_t sid = 0;
	assert_int_equal(nn_node_media_open(a, &cl->nodes[B].id, 5000, &sid), 0);
	cl_run(cl, 500 * NN_MS);
	assert_int_equal(MC[A].ups, 1);
	assert_int_equal(MC[B].ups, 1);
	assert_int_equal(MC[B].consents, 1);
	nn_media_info ia, ib;
	uint64_t bsid[4];
	assert_int_equal(nn_node_media_list(b, bsid, 4), 1);
	assert_int_equal(nn_node_media_info(a, sid, &ia), 0);
	assert_int_equal(nn_node_media_info(b, bsid[0], &ib), 0);
	assert_non_null(strstr(ia.addr, ":relay")); /* the call rides the relay allocation */
	assert_non_null(strstr(ib.addr, ":relay"));
	enum { N = 1000 }; /* 20 s at 50/s; the lift after 4 s */
	uint8_t buf[200];
	memset(buf, 0x5c, sizeof buf);
	nn_time lifted = 0, moved_at = 0;
	for (uint32_t k = 0; k < N; k++) {
		if (k == 200) {
			nn_mem_link open = nn_mem_link_default();
			assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[A].tp, cl->nodes[B].tp,
							 &open), 0);
			assert_int_equal(nn_mem_link_set(cl->hub, cl->nodes[B].tp, cl->nodes[A].tp,
							 &open), 0);
			lifted = nn_clock_now(cl->clk);
		}
		memcpy(buf, &k, 4);
		assert_int_equal(nn_node_media_send_message(a, sid, 16, buf, sizeof buf), 0);
		assert_int_equal(nn_node_media_send(a, sid, 17, buf, 40), 0);
		cl_run(cl, 20 * NN_MS);
		if (!moved_at && st(cl, A).media_moved)
			moved_at = nn_clock_now(cl->clk);
	}
	cl_run(cl, 2 * NN_SEC);
	assert_true(moved_at != 0);
	unsigned lost_dg = 0;
	for (uint32_t k = 0; k < N; k++)
		lost_dg += !MC[B].dseen[k];
	print_message("# call moved with its edge %.1f s after the lift; %zu of %d messages, "
		      "%zu of %d datagrams (%u lost)\n", (double)(moved_at - lifted) / NN_SEC,
		      MC[B].msgs, N, MC[B].dgrams, N, lost_dg);
	for (uint32_t k = 0; k < N; k++)
		assert_int_equal(MC[B].seen[k], 1);
	assert_int_equal(MC[B].msgs, N);
	nn_node_stats sa = st(cl, A), sb = st(cl, B);
	assert_int_equal(sa.media_moved, 1);
	assert_int_equal(sa.media_move_failed, 0);
	assert_int_equal(sb.media_moved, 0); /* B did not dial it: A moves it */
	assert_int_equal(sb.media_move_failed, 0);
	/* the same session, no second consent, no down on either side */
	assert_int_equal(MC[B].consents, 1);
	assert_int_equal(MC[A].ups, 1);
	assert_int_equal(MC[B].ups, 1);
	assert_int_equal(MC[A].downs, 0);
	assert_int_equal(MC[B].downs, 0);
	assert_int_equal(nn_node_media_info(a, sid, &ia), 0);
	assert_int_equal(nn_node_media_info(b, bsid[0], &ib), 0);
	assert_true(ia.up && ib.up);
	assert_null(strstr(ia.addr, ":relay")); /* on the direct path, both sides */
	assert_null(strstr(ib.addr, ":relay"));
	assert_string_not_equal(peer_of(a, &cl->nodes[B].id).path, "relay");
	nn_node_media_close(a, sid);
	cl_run(cl, NN_SEC);
	cl_free(cl);
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relayed_connect),
		cmocka_unit_test(test_path_recorded),
		cmocka_unit_test(test_refusal_then_next_volunteer),
		cmocka_unit_test(test_refusals_and_limits),
		cmocka_unit_test(test_upgrade_to_direct),
		cmocka_unit_test(test_call_moves_with_upgrade),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
