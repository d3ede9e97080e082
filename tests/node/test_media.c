/* test_media.c — media sessions (calls) at the node, issue 15: admission (default-deny consent,
 * PoW, caps), the receive budget, reserved channels, send backpressure, a peer without media
 * keeps its edge, a saturated call leaves routed traffic alone, calls survive edge churn,
 * make-before-break migration loses no message, and the mem link model (loss, jitter,
 * reordering, MTU, bottleneck) under a 50 pkt/s audio-like flow; then a call over a bottleneck
 * shared with the overlay edge, a call whose edge moves to another address, and the receive
 * timestamp (the transport's, not the callback's) with the transport's tp_media_* counters.
 * In-memory transport, virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/node/cluster.h"
#include "transport/media.h"

#define MAXN 8
#define MAXSEQ 4096

/* What each node's callbacks saw (the test is one thread; the library keeps no such state). */
static struct tnode {
	bool accept;           /* consent answer (with consent_set) */
	bool consent_set;      /* install the consent callback at start */
	unsigned consents;     /* consent callbacks */
	unsigned ups, downs;
	int last_down;
	uint64_t last_up_sid;
	size_t dgrams, msgs;
	uint64_t dgram_bytes;
	unsigned writable;
	uint8_t seen[MAXSEQ]; /* message sequence numbers received (count) */
	uint8_t dseen[MAXSEQ]; /* datagram sequence numbers received */
	int64_t rx_ns[MAXSEQ];
	int64_t cb_ns[MAXSEQ]; /* the virtual clock when on_media_datagram ran */
	uint8_t last_ch;
} T[MAXN];

static nn_clock *g_clk; /* the running cluster's clock, for cb_ns */

static uint32_t idx_of(void *user) { return ((cl_node *)user)->idx; }

static bool t_consent(void *user, const nn_id *peer, uint64_t sid)
{
	(void)peer;
	(void)sid;
	struct tnode *t = &T[idx_of(user)];
	t->consents++;
	return t->accept;
}

static void t_state(void *user, uint64_t sid, const nn_id *peer, bool inbound, int status)
{
	(void)peer;
	(void)inbound;
	struct tnode *t = &T[idx_of(user)];
	if (status == 0) {
		t->ups++;
		t->last_up_sid = sid;
	} else {
		t->downs++;
		t->last_down = status;
	}
}

static uint32_t seq_of(const uint8_t *d, size_t len)
{
	uint32_t s = 0;
	if (len >= 4)
		memcpy(&s, d, 4);
	return s;
}

static void t_dgram(void *user, uint64_t sid, uint8_t ch, const uint8_t *d, size_t len,
		    int64_t rx_ns)
{
	(void)sid;
	struct tnode *t = &T[idx_of(user)];
	t->dgrams++;
	t->dgram_bytes += len;
	t->last_ch = ch;
	uint32_t s = seq_of(d, len);
	if (s < MAXSEQ) {
		t->dseen[s]++;
		t->rx_ns[s] = rx_ns;
		t->cb_ns[s] = g_clk ? (int64_t)nn_clock_now(g_clk) : 0;
	}
}

static void t_msg(void *user, uint64_t sid, uint8_t ch, const uint8_t *d, size_t len)
{
	(void)sid;
	struct tnode *t = &T[idx_of(user)];
	t->msgs++;
	t->last_ch = ch;
	uint32_t s = seq_of(d, len);
	if (s < MAXSEQ)
		t->seen[s]++;
}

static void t_writable(void *user, uint64_t sid)
{
	(void)sid;
	T[idx_of(user)].writable++;
}

/* A cluster of n media-capable nodes, all joined and settled; node i's consent callback is
 * installed when T[i].consent_set. Nodes listed in no_media get endpoints without media. */
static cluster *media_cluster(uint32_t n, uint64_t seed, int pow, uint32_t no_media_mask)
{
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.cb.on_media_state = t_state;
	o.cb.on_media_datagram = t_dgram;
	o.cb.on_media_message = t_msg;
	o.cb.on_media_writable = t_writable;
	cluster *cl = cl_new(n, seed, pow, &o);
	g_clk = cl->clk;
	for (uint32_t i = 0; i < n; i++) {
		cl->caps = (no_media_mask >> i) & 1 ? 0 : NN_TP_CAP_MEDIA;
		cl->base.cb.media_consent = T[i].consent_set ? t_consent : NULL;
		assert_int_equal(cl_start(cl, i), 0);
	}
	for (uint32_t i = 1; i < n; i++) {
		assert_int_equal(cl_bootstrap(cl, i, 0), 0);
		cl_run(cl, 20 * NN_MS);
	}
	cl_run(cl, 10 * NN_SEC);
	return cl;
}

static void reset(void) { memset(T, 0, sizeof T); }

static nn_node_stats stats_of(cluster *cl, uint32_t i)
{
	nn_node_stats st;
	nn_node_get_stats(cl->nodes[i].node, &st);
	return st;
}

static bool has_edge(cluster *cl, uint32_t i, uint32_t j)
{
	return nn_routing_edges_find(nn_node_edges(cl->nodes[i].node), &cl->nodes[j].id) != NULL;
}

/* Open a session from a to b and run until it is up on both sides; returns a's sid. */
static uint64_t call(cluster *cl, uint32_t a, uint32_t b)
{
	uint64_t sid = 0;
	unsigned ups_a = T[a].ups, ups_b = T[b].ups;
	assert_int_equal(nn_node_media_open(cl->nodes[a].node, &cl->nodes[b].id, 5000, &sid), 0);
	assert_true(sid > 0);
	cl_run(cl, 500 * NN_MS);
	assert_int_equal(T[a].ups, ups_a + 1);
	assert_int_equal(T[b].ups, ups_b + 1);
	assert_int_equal(T[a].last_up_sid, sid);
	return sid;
}

static nn_media_stats mstats(cluster *cl, uint32_t i, uint64_t sid)
{
	nn_media_info info;
	assert_int_equal(nn_node_media_info(cl->nodes[i].node, sid, &info), 0);
	return info.stats;
}

static void put_seq(uint8_t *buf, uint32_t s) { memcpy(buf, &s, 4); }

/* ---- admission ---- */

/* No consent callback means every inbound session is refused and counted; the caller sees its
 * session go down with NN_EREFUSED. A consent callback that says no is refused the same way;
 * one that says yes brings the session up on both ends. Sessions are not edges. */
static void test_default_deny_consent(void **state)
{
	(void)state;
	reset();
	T[2].consent_set = true; /* node 2 asks; nodes 0, 1 have no callback */
	cluster *cl = media_cluster(3, 101, 0, 0);
	assert_true(has_edge(cl, 1, 0));
	size_t edges0 = cl_edges(cl, 0);
	uint64_t sid;
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000, &sid), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(stats_of(cl, 0).dropped_media_consent, 1);
	assert_int_equal(stats_of(cl, 0).media_accepted, 0);
	assert_int_equal(T[0].ups, 0); /* node 0's application never heard of it */
	assert_int_equal(T[1].downs, 1);
	assert_int_equal(T[1].last_down, NN_EREFUSED);
	assert_int_equal(nn_node_media_info(cl->nodes[1].node, sid, &(nn_media_info){0}),
			 NN_ENOENT);
	assert_int_equal(cl_edges(cl, 0), edges0); /* no edge came or went */

	/* consent says no */
	T[2].accept = false;
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[2].id, 5000, &sid), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[2].consents, 1);
	assert_int_equal(stats_of(cl, 2).dropped_media_consent, 1);
	assert_int_equal(T[1].last_down, NN_EREFUSED);

	/* consent says yes */
	T[2].accept = true;
	uint64_t s = call(cl, 1, 2);
	assert_int_equal(stats_of(cl, 2).media_accepted, 1);
	/* the transport connects before the peer's admission runs: a refused session came up
	 * and went down at once (NN_EREFUSED) */
	assert_int_equal(stats_of(cl, 1).media_opened, 3);
	assert_int_equal(T[1].downs, 2);
	nn_media_info info;
	assert_int_equal(nn_node_media_info(cl->nodes[1].node, s, &info), 0);
	assert_true(info.up);
	assert_false(info.inbound);
	assert_string_equal(info.addr, "n2"); /* the edge's observed address */
	assert_int_equal(nn_node_media_list(cl->nodes[2].node, NULL, 0), 1);
	assert_int_equal(stats_of(cl, 2).edges, cl_edges(cl, 2)); /* sessions are not edges */
	cl_free(cl);
}

/* Inbound admission runs PoW first (a caller below the difficulty is refused before consent is
 * asked), then the caps: 4 sessions per peer NodeID, 16 per node; each refusal is counted. */
static void test_pow_and_caps(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(7, 102, 2, 0);
	nn_node *n0 = cl->nodes[0].node;

	/* PoW: raise node 0's difficulty past every caller's (their edges stay) */
	int pow = n0->pow;
	n0->pow = 64;
	uint64_t sid;
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000, &sid), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(stats_of(cl, 0).dropped_media_sub_pow, 1);
	assert_int_equal(T[0].consents, 0); /* refused before consent */
	assert_int_equal(T[1].last_down, NN_EREFUSED);
	n0->pow = pow;

	/* per peer: the fifth session from node 1 is refused */
	for (int k = 0; k < 4; k++)
		(void)call(cl, 1, 0);
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000, &sid), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(stats_of(cl, 0).dropped_media_cap, 1);
	assert_int_equal(T[0].consents, 4);
	assert_int_equal(nn_node_media_list(n0, NULL, 0), 4);

	/* per node: 16 in all; nodes 2..6 try 4 each (20), 12 more fit */
	for (uint32_t i = 2; i < 7; i++)
		for (int k = 0; k < 4; k++)
			assert_int_equal(nn_node_media_open(cl->nodes[i].node, &cl->nodes[0].id,
							    5000, &sid),
					 0);
	cl_run(cl, 200 * NN_MS);
	assert_int_equal(nn_node_media_list(n0, NULL, 0), NN_NODE_MEDIA_MAX_IN);
	assert_int_equal(stats_of(cl, 0).media_accepted, NN_NODE_MEDIA_MAX_IN);
	assert_int_equal(stats_of(cl, 0).dropped_media_cap, 1 + 8);
	assert_int_equal(T[0].consents, NN_NODE_MEDIA_MAX_IN);

	/* a slot frees when a session ends */
	uint64_t sids[32];
	size_t k = nn_node_media_list(cl->nodes[1].node, sids, 32);
	assert_int_equal(k, 4);
	assert_int_equal(nn_node_media_close(cl->nodes[1].node, sids[0]), 0);
	cl_run(cl, 100 * NN_MS);
	(void)call(cl, 6, 0);
	assert_int_equal(nn_node_media_list(n0, NULL, 0), NN_NODE_MEDIA_MAX_IN);
	cl_free(cl);
}

/* ---- receive budget, reserved channels ---- */

/* A sender far over the per-session budget (6,000 datagrams/s of 1200 bytes = 7.2 MB/s) is
 * shed at the receiver to 2,500,000 B/s plus the burst, and every shed frame is counted; small
 * datagrams at 10,000/s are shed to 4000/s plus the burst. */
static void test_budget_shedding(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(2, 103, 0, 0);
	nn_mem_link l = nn_mem_link_default();
	nn_mem_link_set(cl->hub, cl->nodes[1].tp, cl->nodes[0].tp, &l);
	uint64_t sid = call(cl, 1, 0);
	uint64_t rsid = T[0].last_up_sid;
	uint8_t buf[NN_NODE_MEDIA_MAX_DGRAM];
	memset(buf, 7, sizeof buf);
	uint64_t sent = 0;
	for (int step = 0; step < 200; step++) { /* 2 s */
		for (int k = 0; k < 60; k++)
			if (nn_node_media_send(cl->nodes[1].node, sid, 16, buf, sizeof buf) == 0)
				sent++;
		cl_run(cl, 10 * NN_MS);
	}
	cl_run(cl, 100 * NN_MS);
	nn_media_stats rs = mstats(cl, 0, rsid);
	double max_bytes = 2500000.0 * 2.1 + 262144.0;
	printf("# budget: sent %llu, delivered %zu (%llu bytes), shed %llu\n",
	       (unsigned long long)sent, T[0].dgrams, (unsigned long long)T[0].dgram_bytes,
	       (unsigned long long)rs.rx_dropped_budget);
	assert_true(sent >= 11000);
	assert_true((double)(T[0].dgrams * (NN_NODE_MEDIA_MAX_DGRAM + 1)) <= max_bytes);
	assert_true(T[0].dgrams >= 4000); /* the budget itself is delivered */
	assert_int_equal(rs.rx_datagrams, T[0].dgrams);
	assert_int_equal(rs.rx_datagrams + rs.rx_dropped_budget, sent);
	assert_int_equal(stats_of(cl, 0).dropped_media_budget, rs.rx_dropped_budget);

	/* packets: 100 tiny datagrams every 10 ms for 1 s */
	size_t before = T[0].dgrams;
	uint64_t shed_before = rs.rx_dropped_budget;
	sent = 0;
	cl_run(cl, 2 * NN_SEC); /* the buckets refill */
	for (int step = 0; step < 100; step++) {
		for (int k = 0; k < 100; k++)
			if (nn_node_media_send(cl->nodes[1].node, sid, 20, buf, 4) == 0)
				sent++;
		cl_run(cl, 10 * NN_MS);
	}
	cl_run(cl, 100 * NN_MS);
	rs = mstats(cl, 0, rsid);
	size_t got = T[0].dgrams - before;
	assert_true(sent >= 9000);
	assert_true(got <= 4000 * 1.1 + 400);
	assert_true(got >= 4000 * 0.9);
	assert_true(rs.rx_dropped_budget - shed_before == sent - got);
	cl_free(cl);
}

/* Channels 0-15 are reserved: sending on one is a programming error (NN_EINVAL, nothing sent);
 * frames a peer sends on one, and empty frames, are dropped and counted, never delivered. */
static void test_reserved_channels(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(2, 104, 0, 0);
	uint64_t sid = call(cl, 1, 0);
	uint64_t rsid = T[0].last_up_sid;
	uint8_t b[8] = {0};
	for (unsigned ch = 0; ch < 16; ch++) {
		assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, (uint8_t)ch, b, 8),
				 NN_EINVAL);
		assert_int_equal(nn_node_media_send_message(cl->nodes[1].node, sid, (uint8_t)ch, b, 8),
				 NN_EINVAL);
	}
	assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, b,
					    NN_NODE_MEDIA_MAX_DGRAM + 1),
			 NN_ETOOBIG);
	assert_int_equal(nn_node_media_send(cl->nodes[1].node, 999, 16, b, 8), NN_ENOENT);
	/* a hostile peer: raw frames on the session's connection */
	struct nn_msess *s = cl->nodes[1].node->msess;
	assert_non_null(s);
	assert_non_null(s->c);
	uint8_t raw[3] = {3, 1, 2};
	assert_int_equal(nn_tp_send_datagram(cl->nodes[1].tp, s->c, raw, 3), 0); /* reserved */
	assert_int_equal(nn_tp_send(cl->nodes[1].tp, s->c, raw, 3), 0);         /* message */
	raw[0] = 0;
	assert_int_equal(nn_tp_send_datagram(cl->nodes[1].tp, s->c, raw, 1), 0);
	cl_run(cl, 50 * NN_MS);
	nn_media_stats rs = mstats(cl, 0, rsid);
	assert_int_equal(rs.rx_dropped_reserved, 3);
	assert_int_equal(stats_of(cl, 0).dropped_media_reserved, 3);
	assert_int_equal(T[0].dgrams + T[0].msgs, 0);
	/* an application channel goes through, session intact */
	assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 255, b, 8), 0);
	cl_run(cl, 50 * NN_MS);
	assert_int_equal(T[0].last_ch, 255);
	assert_int_equal(nn_node_media_send_message(cl->nodes[1].node, sid, 16, b, 0), 0);
	cl_run(cl, 50 * NN_MS);
	assert_int_equal(T[0].last_ch, 16);
	assert_int_equal(T[0].dgrams, 1);
	assert_int_equal(T[0].msgs, 1);
	cl_free(cl);
}

/* ---- send backpressure ---- */

/* Sending never blocks: with the transport's datagram queue full, the session's ring takes 64
 * more, then NN_EAGAIN (counted); on_media_writable follows when the ring drains, and nothing
 * that was accepted is lost on a lossless link. */
static void test_backpressure(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(2, 105, 0, 0);
	nn_mem_link l = nn_mem_link_default();
	l.latency = 40 * NN_MS;
	nn_mem_link_set(cl->hub, cl->nodes[1].tp, cl->nodes[0].tp, &l);
	uint64_t sid = call(cl, 1, 0);
	uint8_t buf[200] = {0};
	uint32_t ok = 0;
	int rc = 0;
	for (uint32_t k = 0; k < 300; k++) {
		put_seq(buf, ok);
		rc = nn_node_media_send(cl->nodes[1].node, sid, 16, buf, sizeof buf);
		if (rc == NN_EAGAIN)
			break;
		assert_int_equal(rc, 0);
		ok++;
	}
	assert_int_equal(rc, NN_EAGAIN);
	assert_int_equal(ok, 64 + NN_NODE_MEDIA_TX_RING); /* transport queue + ring */
	nn_media_info info;
	assert_int_equal(nn_node_media_info(cl->nodes[1].node, sid, &info), 0);
	assert_int_equal(info.tx_queued, NN_NODE_MEDIA_TX_RING);
	assert_int_equal(info.stats.tx_dropped_queue, 1);
	assert_int_equal(info.stats.tx_datagrams, ok);
	assert_int_equal(stats_of(cl, 1).dropped_media_queue, 1);
	assert_int_equal(T[1].writable, 0);
	cl_run(cl, 500 * NN_MS);
	assert_true(T[1].writable >= 1);
	assert_int_equal(T[0].dgrams, ok);
	for (uint32_t k = 0; k < ok; k++)
		assert_int_equal(T[0].dseen[k], 1);
	assert_int_equal(nn_node_media_info(cl->nodes[1].node, sid, &info), 0);
	assert_int_equal(info.tx_queued, 0);
	cl_free(cl);
}

/* ---- liveness ---- */

/* A peer whose transport has no media refuses the dial: the session goes down with
 * NN_EUNSUPPORTED, the edge is kept (not pinged, not dropped) and stays up. */
static void test_unsupported_peer_keeps_edge(void **state)
{
	(void)state;
	reset();
	cluster *cl = media_cluster(2, 106, 0, 1u << 0); /* node 0 without media */
	assert_true(has_edge(cl, 1, 0));
	uint64_t edges_down = stats_of(cl, 1).edges_down;
	uint64_t sid;
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000, &sid), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[1].downs, 1);
	assert_int_equal(T[1].last_down, NN_EUNSUPPORTED);
	assert_int_equal(stats_of(cl, 1).media_dial_failed, 1);
	assert_int_equal(stats_of(cl, 1).media_edge_pings, 0);
	cl_run(cl, 60 * NN_SEC);
	assert_true(has_edge(cl, 1, 0));
	assert_int_equal(stats_of(cl, 1).edges_down, edges_down);
	/* node 0 itself cannot open one */
	assert_int_equal(nn_node_media_open(cl->nodes[0].node, &cl->nodes[1].id, 5000, &sid),
			 NN_EUNSUPPORTED);
	cl_free(cl);
}

/* Dropping the overlay edge between two callers (both ends) does not touch their session:
 * datagrams and messages keep flowing, nobody sees a down; the session's own end pings the
 * edge (media_edge_pings). */
static void test_call_survives_edge_churn(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(4, 107, 0, 0);
	uint64_t sid = call(cl, 1, 0);
	uint8_t buf[160] = {0};
	uint32_t seq = 0;
	for (int round = 0; round < 3; round++) {
		/* churn: both ends drop the edge, maintenance brings one back later */
		nn_node_drop_edge(cl->nodes[1].node, &cl->nodes[0].id, NN_TP_REASON_NORMAL);
		nn_node_drop_edge(cl->nodes[0].node, &cl->nodes[1].id, NN_TP_REASON_NORMAL);
		assert_false(has_edge(cl, 1, 0));
		for (int k = 0; k < 100; k++) { /* 2 s at 50 pkt/s */
			put_seq(buf, seq++);
			assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, buf,
							    sizeof buf),
					 0);
			cl_run(cl, 20 * NN_MS);
		}
		put_seq(buf, (uint32_t)round);
		assert_int_equal(nn_node_media_send_message(cl->nodes[1].node, sid, 17, buf, 8), 0);
		cl_run(cl, 10 * NN_SEC);
	}
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[0].downs + T[1].downs, 0);
	assert_int_equal(T[0].dgrams, seq);
	assert_int_equal(T[0].msgs, 3);
	nn_media_info info;
	assert_int_equal(nn_node_media_info(cl->nodes[1].node, sid, &info), 0);
	assert_true(info.up);
	/* hang up: the other side sees the end, both ping the edge */
	uint64_t p0 = stats_of(cl, 0).media_edge_pings, p1 = stats_of(cl, 1).media_edge_pings;
	assert_int_equal(nn_node_media_close(cl->nodes[1].node, sid), 0);
	assert_int_equal(nn_node_media_close(cl->nodes[1].node, sid), NN_ENOENT);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[0].downs, 1);
	assert_int_equal(T[0].last_down, NN_ECLOSED);
	assert_int_equal(T[1].downs, 0); /* no callback for our own close */
	if (has_edge(cl, 1, 0)) {
		assert_int_equal(stats_of(cl, 1).media_edge_pings, p1 + 1);
		assert_int_equal(stats_of(cl, 0).media_edge_pings, p0 + 1);
	}
	cl_free(cl);
}

/* A media dial that fails for another reason than "no media" (here: the peer became
 * unreachable) pings the edge at once, so a dead path is found without waiting for the
 * keepalive; the session reports the dial's error. */
static void test_failed_dial_pings_edge(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(3, 112, 0, 0);
	assert_true(has_edge(cl, 1, 0));
	nn_mem_partition(cl->nodes[0].tp, 1);
	uint64_t pings = stats_of(cl, 1).pings_tx;
	uint64_t sid;
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000, &sid), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[1].downs, 1);
	assert_int_equal(T[1].last_down, NN_EUNREACH);
	assert_int_equal(stats_of(cl, 1).media_dial_failed, 1);
	assert_int_equal(stats_of(cl, 1).media_edge_pings, 1);
	assert_true(stats_of(cl, 1).pings_tx > pings);
	nn_mem_heal(cl->hub);
	cl_free(cl);
}

/* Without a live edge to the target, open runs the connect cascade first (rendezvous, direct
 * dial) and then the media dial on the new edge. */
static void test_open_without_edge_connects(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(4, 113, 0, 0);
	cl_run(cl, 10 * NN_SEC);
	nn_node_drop_edge(cl->nodes[1].node, &cl->nodes[0].id, NN_TP_REASON_NORMAL);
	nn_node_drop_edge(cl->nodes[0].node, &cl->nodes[1].id, NN_TP_REASON_NORMAL);
	assert_false(has_edge(cl, 1, 0));
	uint64_t connects = stats_of(cl, 1).connects_ok;
	uint64_t sid;
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000, &sid), 0);
	nn_media_info info;
	assert_int_equal(nn_node_media_info(cl->nodes[1].node, sid, &info), 0);
	assert_false(info.up);
	assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, "x", 1), NN_ESTATE);
	cl_run(cl, 3 * NN_SEC);
	assert_int_equal(T[1].ups, 1);
	assert_int_equal(T[0].ups, 1);
	assert_true(has_edge(cl, 1, 0));
	assert_int_equal(stats_of(cl, 1).connects_ok, connects + 1);
	assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, "x", 1), 0);
	cl_run(cl, 50 * NN_MS);
	assert_int_equal(T[0].dgrams, 1);
	/* closed while still connecting: no callback, nothing left behind */
	nn_node_drop_edge(cl->nodes[1].node, &cl->nodes[0].id, NN_TP_REASON_NORMAL);
	nn_node_drop_edge(cl->nodes[0].node, &cl->nodes[1].id, NN_TP_REASON_NORMAL);
	uint64_t sid2;
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000, &sid2), 0);
	assert_int_equal(nn_node_media_close(cl->nodes[1].node, sid2), 0);
	cl_run(cl, 3 * NN_SEC);
	assert_int_equal(T[1].ups + T[1].downs, 1);
	assert_int_equal(nn_node_media_list(cl->nodes[1].node, NULL, 0), 1);
	cl_free(cl);
}

/* Closing from inside callbacks, and freeing or stopping a node with sessions open (ASan checks
 * that nothing leaks or is used after free). */
static bool close_in_consent(void *user, const nn_id *peer, uint64_t sid)
{
	(void)peer;
	T[idx_of(user)].consents++;
	assert_int_equal(nn_node_media_close(((cl_node *)user)->node, sid), 0);
	return true;
}

static void test_close_from_callbacks_and_free(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(3, 114, 0, 0);
	for (int k = 0; k < 3; k++)
		(void)call(cl, 1, 0);
	(void)call(cl, 2, 0);
	uint64_t sid = 0;
	assert_int_equal(nn_node_media_open(cl->nodes[2].node, &cl->nodes[0].id, 5000, &sid), 0);
	cl_run(cl, 100 * NN_MS);
	/* a consent callback that closes the session it is asked about */
	cl->nodes[0].node->app.media_consent = close_in_consent;
	uint64_t s2;
	assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000, &s2), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[1].last_down, NN_ECLOSED);
	assert_int_equal(stats_of(cl, 0).media_accepted, 5);
	/* node 0 stops gracefully with 5 sessions: every peer sees its sessions end */
	unsigned downs1 = T[1].downs, downs2 = T[2].downs;
	assert_int_equal(nn_node_stop(cl->nodes[0].node), NN_EINVAL); /* no loop here */
	nn_node_media_close_all(cl->nodes[0].node);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[1].downs, downs1 + 3);
	assert_int_equal(T[2].downs, downs2 + 2);
	assert_int_equal(nn_node_media_list(cl->nodes[0].node, NULL, 0), 0);
	/* node 2 is freed (a crash) with one session up and one still dialling */
	T[0].accept = true;
	cl->nodes[0].node->app.media_consent = t_consent;
	(void)call(cl, 2, 0);
	assert_int_equal(nn_node_media_open(cl->nodes[2].node, &cl->nodes[0].id, 5000, &sid), 0);
	unsigned downs0 = T[0].downs;
	cl_kill(cl, 2, false);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[0].downs, downs0 + 1); /* the peer of the crashed node sees the end */
	cl_run(cl, 100 * NN_MS);
	cl_free(cl);
}

/* Make-before-break: a second session to the same peer comes up while the first carries a
 * paced message flow; the sender switches to it and closes the first at once. Every message
 * arrives exactly once (the first session's queued messages are delivered before its close). */
static void test_make_before_break(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(2, 108, 0, 0);
	nn_mem_link l = nn_mem_link_default();
	l.latency = 30 * NN_MS;
	l.jitter = 10 * NN_MS;
	l.loss_ppm = 20000; /* stream frames: retransmitted, still in order */
	nn_mem_link_set(cl->hub, cl->nodes[1].tp, cl->nodes[0].tp, &l);
	nn_mem_link_set(cl->hub, cl->nodes[0].tp, cl->nodes[1].tp, &l);
	uint64_t a = call(cl, 1, 0);
	cl_run(cl, 100 * NN_MS);
	uint64_t b = 0;
	bool moved = false;
	uint8_t buf[300] = {0};
	const uint32_t N = 400;
	for (uint32_t k = 0; k < N; k++) {
		if (k == 150)
			assert_int_equal(nn_node_media_open(cl->nodes[1].node, &cl->nodes[0].id, 5000,
							    &b),
					 0);
		if (b && !moved) {
			nn_media_info info;
			assert_int_equal(nn_node_media_info(cl->nodes[1].node, b, &info), 0);
			if (info.up) { /* make ... */
				moved = true;
				assert_int_equal(nn_node_media_close(cl->nodes[1].node, a), 0); /* break */
			}
		}
		put_seq(buf, k);
		assert_int_equal(nn_node_media_send_message(cl->nodes[1].node, moved ? b : a, 16,
							    buf, sizeof buf),
				 0);
		cl_run(cl, 10 * NN_MS);
	}
	cl_run(cl, NN_SEC);
	assert_true(moved);
	assert_int_equal(T[0].msgs, N);
	for (uint32_t k = 0; k < N; k++)
		assert_int_equal(T[0].seen[k], 1);
	assert_int_equal(T[0].ups, 2);
	assert_int_equal(T[0].downs, 1); /* the first session ended under the receiver */
	assert_int_equal(nn_node_media_list(cl->nodes[0].node, NULL, 0), 1);
	cl_free(cl);
}

/* A call saturating its session (far over the budget, datagrams and messages) between two
 * nodes of an 8-node overlay does not cost routed messages between everyone else anything:
 * every routed message is delivered, to and through the callers too. */
static void test_saturated_call_spares_routed_traffic(void **state)
{
	(void)state;
	reset();
	T[2].consent_set = true;
	T[2].accept = true;
	cluster *cl = media_cluster(8, 109, 0, 0);
	cl_run(cl, 20 * NN_SEC);
	uint64_t sid = call(cl, 1, 2);
	uint8_t big[NN_NODE_MEDIA_MAX_DGRAM];
	memset(big, 1, sizeof big);
	static uint8_t msg[16384];
	uint64_t tag = 5000;
	size_t want = 0;
	for (int step = 0; step < 300; step++) { /* 3 s */
		for (int k = 0; k < 80; k++)
			(void)nn_node_media_send(cl->nodes[1].node, sid, 16, big, sizeof big);
		(void)nn_node_media_send_message(cl->nodes[1].node, sid, 17, msg, sizeof msg);
		if (step % 10 == 0) {
			for (uint32_t i = 0; i < 8; i++) {
				uint32_t j = (i + 1 + (uint32_t)step / 10) % 8;
				if (j == i)
					continue;
				assert_int_equal(cl_send(cl, i, j, tag++), 0);
				want++;
			}
		}
		cl_run(cl, 10 * NN_MS);
	}
	cl_run(cl, 2 * NN_SEC);
	size_t got = 0;
	for (uint64_t t = 5000; t < tag; t++)
		for (uint32_t j = 0; j < 8; j++)
			got += cl_count(cl, j, t) ? 1 : 0;
	nn_media_stats rs = mstats(cl, 2, T[2].last_up_sid);
	printf("# saturated call: routed %zu/%zu, media shed %llu, delivered %llu\n", got, want,
	       (unsigned long long)rs.rx_dropped_budget, (unsigned long long)rs.rx_datagrams);
	assert_true(rs.rx_dropped_budget > 0); /* the call really was over its budget */
	assert_int_equal(got, want);
	assert_true(T[1].downs + T[2].downs == 0);
	cl_free(cl);
}

/* Routed messages 1 -> 2 every 50 ms during `steps` x 10 ms while the call 1 -> 2 sends
 * `dgrams` full datagrams and tries `msgs` 16 KiB messages every 10 ms; returns how many of
 * the routed ones were sent, adds how many arrived to *got and their worst one-way delay to
 * *max_d (virtual time). */
static size_t shared_phase(cluster *cl, uint64_t sid, int steps, int dgrams, int msgs,
			   uint64_t *tag, size_t *got, nn_time *max_d, nn_time *sum_d)
{
	static uint8_t big[NN_NODE_MEDIA_MAX_DGRAM], msg[16384];
	uint64_t first = *tag;
	nn_time sent_at[64];
	size_t n = 0;
	for (int step = 0; step < steps; step++) {
		for (int k = 0; k < dgrams; k++)
			(void)nn_node_media_send(cl->nodes[1].node, sid, 16, big, sizeof big);
		for (int k = 0; k < msgs; k++)
			(void)nn_node_media_send_message(cl->nodes[1].node, sid, 17, msg, sizeof msg);
		if (step % 5 == 0 && n < 64) {
			sent_at[n++] = nn_clock_now(cl->clk);
			assert_int_equal(cl_send(cl, 1, 2, (*tag)++), 0);
		}
		cl_run(cl, 10 * NN_MS);
	}
	cl_run(cl, NN_SEC);
	for (size_t m = 0; m < cl->nmsgs; m++) {
		const cl_msg *cm = &cl->msgs[m];
		if (cm->to != 2 || cm->tag < first || cm->tag >= first + n)
			continue;
		nn_time d = cm->at - sent_at[cm->tag - first];
		(*got)++;
		*sum_d += d;
		if (d > *max_d)
			*max_d = d;
	}
	return n;
}

/* The saturated call over a SHARED bottleneck: the direction 1 -> 2 is one 1,000,000 B/s FIFO
 * (queue 16 x 1252 bytes = 20 ms, 5 ms latency) carried by both the overlay edge and the call.
 * Routed messages 1 -> 2 cross it alone, then while the call floods it with datagrams (10x the
 * link), then with datagrams and 16 KiB messages. None is lost, ever. Datagrams are tail-dropped
 * at the queue, so under them a routed message waits at most the queue (20 ms); reliable
 * messages are not dropped, so under them it waits behind what the session may have queued
 * (16 messages of 16 KiB = 262 ms at this rate): a FIFO shares the delay, not the loss. */
static void test_saturated_call_shared_bottleneck(void **state)
{
	(void)state;
	reset();
	T[2].consent_set = true;
	T[2].accept = true;
	cluster *cl = media_cluster(4, 117, 0, 0);
	assert_true(has_edge(cl, 1, 2));
	nn_mem_link l = nn_mem_link_default();
	l.latency = 5 * NN_MS;
	l.bandwidth = 1000000;
	l.queue_frames = 16;
	l.shared = true;
	nn_mem_link_set(cl->hub, cl->nodes[1].tp, cl->nodes[2].tp, &l);
	uint64_t sid = call(cl, 1, 2);
	uint64_t tag = 7000;
	const char *name[3] = {"alone", "under datagrams", "under datagrams + messages"};
	const int dg[3] = {0, 80, 80}, ms[3] = {0, 0, 4};
	nn_time max_d[3] = {0}, sum_d[3] = {0};
	size_t want[3], got[3] = {0};
	for (int ph = 0; ph < 3; ph++) {
		want[ph] = shared_phase(cl, sid, 200, dg[ph], ms[ph], &tag, &got[ph], &max_d[ph],
					&sum_d[ph]);
		printf("# shared bottleneck, routed 1 -> 2 %s: %zu/%zu, mean %.1f ms, max %.1f ms\n",
		       name[ph], got[ph], want[ph],
		       got[ph] ? (double)sum_d[ph] / (double)got[ph] / NN_MS : 0.0,
		       (double)max_d[ph] / NN_MS);
		assert_int_equal(got[ph], want[ph]);
	}
	nn_media_info info;
	assert_int_equal(nn_node_media_info(cl->nodes[2].node, T[2].last_up_sid, &info), 0);
	printf("# shared bottleneck: the call delivered %llu datagrams, %llu messages\n",
	       (unsigned long long)info.stats.rx_datagrams,
	       (unsigned long long)info.stats.rx_messages);
	assert_true(info.stats.rx_datagrams > 0 && info.stats.rx_messages > 0);
	assert_true(max_d[0] <= 5 * NN_MS + 1 * NN_MS);
	assert_true(max_d[1] > max_d[0]);                    /* it is shared ... */
	assert_true(max_d[1] <= 5 * NN_MS + 21 * NN_MS);     /* ... and bounded by the queue */
	assert_true(max_d[2] <= 5 * NN_MS + 21 * NN_MS + 263 * NN_MS);
	assert_true(T[1].downs + T[2].downs == 0);
	cl_free(cl);
}

/* The mem link model under an audio-like flow (50 pkt/s of 160 bytes for 10 s): loss,
 * jitter and reordering show in what arrives (receive timestamps on every datagram), a
 * datagram over the path MTU is refused by the transport and counted, never closing the
 * session. Deterministic: same seed, same numbers. */
static void test_link_model_audio_flow(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(2, 110, 0, 0);
	nn_mem_link l = nn_mem_link_default();
	l.latency = 25 * NN_MS;
	l.jitter = 15 * NN_MS;
	l.loss_ppm = 50000;
	l.reorder_ppm = 50000;
	l.reorder_delay = 30 * NN_MS;
	l.mtu = 600;
	nn_mem_link_set(cl->hub, cl->nodes[1].tp, cl->nodes[0].tp, &l);
	uint64_t sid = call(cl, 1, 0);
	uint8_t buf[1000] = {0};
	const uint32_t N = 500;
	int64_t sent_at[500];
	for (uint32_t k = 0; k < N; k++) {
		put_seq(buf, k);
		sent_at[k] = (int64_t)nn_clock_now(cl->clk);
		assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, buf, 160), 0);
		cl_run(cl, 20 * NN_MS);
	}
	/* over the MTU: accepted, dropped by the transport, counted */
	assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, buf, 1000), 0);
	cl_run(cl, 200 * NN_MS);
	nn_media_stats ts = mstats(cl, 1, sid);
	assert_int_equal(ts.tx_datagrams, N + 1);
	assert_int_equal(ts.tx_dropped_send, 1);
	size_t lost = 0, reordered = 0;
	int64_t min_d = INT64_MAX, max_d = 0, prev_rx = 0;
	for (uint32_t k = 0; k < N; k++) {
		if (!T[0].dseen[k]) {
			lost++;
			continue;
		}
		int64_t d = T[0].rx_ns[k] - sent_at[k];
		if (d < min_d)
			min_d = d;
		if (d > max_d)
			max_d = d;
		if (T[0].rx_ns[k] < prev_rx)
			reordered++;
		prev_rx = T[0].rx_ns[k];
	}
	printf("# audio flow: lost %zu/%u, one-way %.1f..%.1f ms, reordered %zu\n", lost, N,
	       (double)min_d / NN_MS, (double)max_d / NN_MS, reordered);
	assert_true(lost >= 10 && lost <= 50);    /* ~5 % */
	assert_true(min_d >= 25 * NN_MS);
	assert_true(max_d <= 25 * NN_MS + 15 * NN_MS + 30 * NN_MS);
	assert_true(max_d - min_d >= 10 * NN_MS); /* jitter shows */
	assert_true(reordered > 0);
	assert_int_equal(T[1].downs + T[0].downs, 0);
	cl_free(cl);
}

/* The bottleneck (100,000 B/s, a queue of 16 x 1252 bytes = 200 ms): a 60 kB/s flow passes
 * whole with serialisation delay only; a 240 kB/s flow is cut to the link's rate by tail drop,
 * and its queueing delay stays within the queue's 200 ms. */
static void test_link_bottleneck(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(2, 111, 0, 0);
	nn_mem_link l = nn_mem_link_default();
	l.latency = 20 * NN_MS;
	l.bandwidth = 100000;
	l.queue_frames = 16;
	nn_mem_link_set(cl->hub, cl->nodes[1].tp, cl->nodes[0].tp, &l);
	uint64_t sid = call(cl, 1, 0);
	uint8_t buf[1200] = {0};
	int64_t sent_at[MAXSEQ];
	uint32_t seq = 0;
	for (int k = 0; k < 200; k++) { /* 4 s at 50 pkt/s */
		put_seq(buf, seq);
		sent_at[seq++] = (int64_t)nn_clock_now(cl->clk);
		assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, buf, sizeof buf), 0);
		cl_run(cl, 20 * NN_MS);
	}
	cl_run(cl, 500 * NN_MS);
	assert_int_equal(T[0].dgrams, 200);
	int64_t max_d = 0;
	for (uint32_t k = 0; k < 200; k++)
		if (T[0].rx_ns[k] - sent_at[k] > max_d)
			max_d = T[0].rx_ns[k] - sent_at[k];
	assert_true(max_d <= 20 * NN_MS + 13 * NN_MS); /* latency + one serialisation */
	uint32_t first = seq;
	for (int k = 0; k < 800; k++) { /* 4 s at 200 pkt/s */
		put_seq(buf, seq);
		sent_at[seq++] = (int64_t)nn_clock_now(cl->clk);
		assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, buf, sizeof buf), 0);
		cl_run(cl, 5 * NN_MS);
	}
	cl_run(cl, 500 * NN_MS);
	size_t got = T[0].dgrams - 200;
	max_d = 0;
	for (uint32_t k = first; k < seq; k++)
		if (T[0].dseen[k] && T[0].rx_ns[k] - sent_at[k] > max_d)
			max_d = T[0].rx_ns[k] - sent_at[k];
	printf("# bottleneck: %zu of 800 through at 240 kB/s offered, max one-way %.1f ms\n", got,
	       (double)max_d / NN_MS);
	assert_true(got >= 300 && got <= 360); /* ~ 4.2 s x 100,000 / 1201 */
	assert_true(max_d <= 20 * NN_MS + 215 * NN_MS);
	assert_int_equal(T[0].downs + T[1].downs, 0);
	cl_free(cl);
}

/* An edge that moves to another address (a relayed edge replaced by a direct one) does not
 * move or end the call: node 0 is reached first at an alias ("mem/r0", standing for a relay),
 * the call runs there; then the edge is dropped and dialled again at node 0's own address. The
 * first session keeps its path and loses nothing; the application's make-before-break then
 * opens a second session, which dials the new edge's address, switches to it and closes the
 * first: every message arrives exactly once and every datagram arrives. */
static void test_call_when_edge_moves(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(3, 116, 0, 0);
	nn_node *a = cl->nodes[1].node;
	assert_int_equal(nn_mem_endpoint_set_alias(cl->nodes[0].tp, "r0"), 0);
	nn_addr relay, direct;
	nn_addr_set(&relay, "mem", "r0");
	nn_addr_set(&direct, "mem", "n0");
	nn_node_drop_edge(a, &cl->nodes[0].id, NN_TP_REASON_NORMAL);
	nn_node_drop_edge(cl->nodes[0].node, &cl->nodes[1].id, NN_TP_REASON_NORMAL);
	assert_int_equal(nn_node_bootstrap_addr(a, &cl->nodes[0].id, &relay), 0);
	cl_run(cl, 100 * NN_MS);
	assert_true(has_edge(cl, 1, 0));
	uint64_t first = call(cl, 1, 0), second = 0;
	nn_media_info info;
	assert_int_equal(nn_node_media_info(a, first, &info), 0);
	assert_string_equal(info.addr, "r0");
	uint8_t buf[160] = {0};
	uint32_t k = 0;
	const uint32_t N = 300;
	bool moved = false;
	for (; k < N; k++) {
		if (k == 100) { /* the upgrade: the edge goes, and comes back at the direct address */
			nn_node_drop_edge(a, &cl->nodes[0].id, NN_TP_REASON_NORMAL);
			nn_node_drop_edge(cl->nodes[0].node, &cl->nodes[1].id, NN_TP_REASON_NORMAL);
			assert_int_equal(nn_node_bootstrap_addr(a, &cl->nodes[0].id, &direct), 0);
		}
		if (k == 150) { /* the first session still runs on its own path */
			assert_true(has_edge(cl, 1, 0));
			assert_int_equal(nn_node_media_info(a, first, &info), 0);
			assert_true(info.up);
			assert_string_equal(info.addr, "r0");
			assert_int_equal(nn_node_media_open(a, &cl->nodes[0].id, 5000, &second), 0);
		}
		if (second && !moved) {
			assert_int_equal(nn_node_media_info(a, second, &info), 0);
			if (info.up) { /* make ... */
				assert_string_equal(info.addr, "n0"); /* the new edge's address */
				moved = true;
				assert_int_equal(nn_node_media_close(a, first), 0); /* ... break */
			}
		}
		uint64_t sid = moved ? second : first;
		put_seq(buf, k);
		assert_int_equal(nn_node_media_send(a, sid, 16, buf, sizeof buf), 0);
		assert_int_equal(nn_node_media_send_message(a, sid, 17, buf, 8), 0);
		cl_run(cl, 20 * NN_MS);
	}
	cl_run(cl, NN_SEC);
	assert_true(moved);
	assert_int_equal(T[0].msgs, N);
	assert_int_equal(T[0].dgrams, N);
	for (uint32_t j = 0; j < N; j++) {
		assert_int_equal(T[0].seen[j], 1);
		assert_int_equal(T[0].dseen[j], 1);
	}
	assert_int_equal(T[1].downs, 0);
	assert_int_equal(T[0].downs, 1); /* the first session's end, after the switch */
	assert_int_equal(nn_node_media_list(cl->nodes[0].node, NULL, 0), 1);
	assert_int_equal(nn_mem_endpoint_set_alias(cl->nodes[0].tp, NULL), 0);
	cl_free(cl);
}

/* The receive timestamp is the transport's (when the datagram arrived), not the node's clock
 * when the callback runs: node 0 reads its "socket" 7 ms late (a busy loop), so every callback
 * runs 7 ms after arrival, and rx_ns still says latency (1 ms) after the send. The transport's
 * media counters reach the node's stats as tp_media_* on both ends. */
static void test_rx_timestamp_and_tp_counters(void **state)
{
	(void)state;
	reset();
	T[0].consent_set = true;
	T[0].accept = true;
	cluster *cl = media_cluster(2, 115, 0, 0);
	nn_node_stats b0 = stats_of(cl, 0), b1 = stats_of(cl, 1);
	uint64_t sid = call(cl, 1, 0);
	nn_mem_endpoint_set_read_delay(cl->nodes[0].tp, 7 * NN_MS);
	uint8_t buf[160] = {0};
	int64_t sent_at[50];
	for (uint32_t k = 0; k < 50; k++) {
		put_seq(buf, k);
		sent_at[k] = (int64_t)nn_clock_now(cl->clk);
		assert_int_equal(nn_node_media_send(cl->nodes[1].node, sid, 16, buf, sizeof buf), 0);
		cl_run(cl, 20 * NN_MS);
	}
	assert_int_equal(nn_node_media_send_message(cl->nodes[1].node, sid, 17, buf, 8), 0);
	cl_run(cl, 100 * NN_MS);
	assert_int_equal(T[0].dgrams, 50);
	for (uint32_t k = 0; k < 50; k++) {
		assert_int_equal(T[0].rx_ns[k] - sent_at[k], 1 * NN_MS); /* the link's latency */
		assert_int_equal(T[0].cb_ns[k] - T[0].rx_ns[k], 7 * NN_MS); /* read late */
	}
	nn_node_stats s0 = stats_of(cl, 0), s1 = stats_of(cl, 1);
	assert_int_equal(s1.tp_media_out - b1.tp_media_out, 1);
	assert_int_equal(s0.tp_media_in - b0.tp_media_in, 1);
	assert_int_equal(s1.tp_media_dgram_tx - b1.tp_media_dgram_tx, 50);
	assert_int_equal(s0.tp_media_dgram_rx - b0.tp_media_dgram_rx, 50);
	assert_int_equal(s1.tp_media_msg_tx - b1.tp_media_msg_tx, 1);
	assert_int_equal(s0.tp_media_msg_rx - b0.tp_media_msg_rx, 1);
	/* and by name, as `stats` and the metrics endpoint list them */
	uint64_t v = 0;
	const char *name;
	bool found = false;
	for (size_t i = 0; (name = nn_node_stat(&s0, i, &v)); i++)
		if (!strcmp(name, "tp_media_dgram_rx")) {
			found = true;
			assert_int_equal(v, s0.tp_media_dgram_rx);
		}
	assert_true(found);
	nn_mem_endpoint_set_read_delay(cl->nodes[0].tp, 0);
	cl_free(cl);
	g_clk = NULL;
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_deny_consent),
		cmocka_unit_test(test_pow_and_caps),
		cmocka_unit_test(test_budget_shedding),
		cmocka_unit_test(test_reserved_channels),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_unsupported_peer_keeps_edge),
		cmocka_unit_test(test_call_survives_edge_churn),
		cmocka_unit_test(test_make_before_break),
		cmocka_unit_test(test_failed_dial_pings_edge),
		cmocka_unit_test(test_open_without_edge_connects),
		cmocka_unit_test(test_close_from_callbacks_and_free),
		cmocka_unit_test(test_saturated_call_spares_routed_traffic),
		cmocka_unit_test(test_link_model_audio_flow),
		cmocka_unit_test(test_link_bottleneck),
		cmocka_unit_test(test_rx_timestamp_and_tp_counters),
		cmocka_unit_test(test_call_when_edge_moves),
		cmocka_unit_test(test_saturated_call_shared_bottleneck),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
