/* test_media.c — media sessions on the QUIC transport over loopback (transport/quic/media.c):
 * ALPN routing, datagrams both ways, messages both ways (small, 64 KiB, oversized dropped), the
 * datagram ring's backpressure, a peer without media (and one without DATAGRAM) refused with
 * NN_EUNSUPPORTED while the overlay edge keeps working, bidi streams on a session reset, a
 * quiet session kept alive by the dialler's keepalive, the acceptor's idle reaper, and a message
 * write stalled past 1 s reset while the session lives on. Channels are not checked at this
 * layer (the node drops reserved channels), so no case here. Also: the receive timestamp is the
 * socket read's, and the media counters reach the transport-neutral guard stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/quic/quic_factory.h"
#include "wire/wire.h"

typedef struct rec {
	nn_tp *tp;
	nn_addr addr;
	nn_conn *edge, *media;  /* the latest of each kind */
	int n_conn, n_media, n_failed, n_closed, n_media_closed, n_writable;
	int dial_err, closed_err;
	uint64_t rx_frames, rx_dgrams, rx_msgs;
	size_t last_msg_len;
	uint8_t last_msg_head[4];
	uint32_t last_msg_sum;
	nn_time last_dgram_at;
	/* receive timestamps vs the clock when on_datagram ran (test_rx_timestamp) */
	nn_time dg_at[16], dg_cb[16];
	nn_time stall_first; /* sleep this long in the first datagram's callback */
	bool keep_msg;          /* take ownership of received messages (then release) */
} rec;

static void s_conn(void *a, nn_conn *c)
{
	rec *r = a;
	if (c->kind == NN_CONN_MEDIA) {
		r->n_media++;
		r->media = c;
	} else {
		r->n_conn++;
		r->edge = c;
	}
}
static void s_failed(void *a, void *u, const nn_id *w, const nn_addr *ad, int err)
{
	rec *r = a;
	r->n_failed++;
	r->dial_err = err;
}
static uint32_t sum(const uint8_t *d, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = s * 31 + d[i];
	return s;
}
static void s_frame(void *a, nn_conn *c, nn_pkt **p)
{
	rec *r = a;
	if (c->kind != NN_CONN_MEDIA) {
		r->rx_frames++;
		return;
	}
	r->rx_msgs++;
	r->last_msg_len = (*p)->len;
	memcpy(r->last_msg_head, (*p)->data, (*p)->len < 4 ? (*p)->len : 4);
	r->last_msg_sum = sum((*p)->data, (*p)->len);
	if (r->keep_msg) { /* ownership rule: take it, release later */
		nn_pkt *k = *p;
		*p = NULL;
		nn_pkt_release(k);
	}
}
static void s_dgram(void *a, nn_conn *c, nn_pkt **p)
{
	rec *r = a;
	assert_int_equal(c->kind, NN_CONN_MEDIA);
	if (r->rx_dgrams < 16) {
		r->dg_at[r->rx_dgrams] = (*p)->at;
		r->dg_cb[r->rx_dgrams] = nn_clock_now(r->tp->clock);
	}
	if (r->rx_dgrams == 0 && r->stall_first > 0) { /* a slow application callback */
		struct timespec ts = {0, (long)r->stall_first};
		while (nanosleep(&ts, &ts) != 0)
			;
	}
	r->rx_dgrams++;
	r->last_dgram_at = (*p)->at;
}
static void s_writable(void *a, nn_conn *c) { ((rec *)a)->n_writable++; }
static void s_closed(void *a, nn_conn *c, int err, uint64_t reason)
{
	rec *r = a;
	r->closed_err = err;
	if (c->kind == NN_CONN_MEDIA) {
		r->n_media_closed++;
		if (r->media == c)
			r->media = NULL;
	} else {
		r->n_closed++;
		if (r->edge == c)
			r->edge = NULL;
	}
}

static nn_qenv *env;
static uint8_t seed_ctr;

static void mk(rec *r, const nn_quic_config *cfg)
{
	memset(r, 0, sizeof *r);
	uint8_t seed[32];
	memset(seed, 0, sizeof seed);
	seed[0] = ++seed_ctr;
	seed[1] = 0x4d;
	nn_quic_config c;
	if (cfg)
		c = *cfg;
	else
		nn_quic_config_default(&c);
	assert_int_equal(nn_qenv_endpoint(env, seed, &c, &r->tp, &r->addr), 0);
	nn_tp_sink s = {.ctx = r, .on_conn = s_conn, .on_dial_failed = s_failed,
			.on_frame = s_frame, .on_datagram = s_dgram, .on_writable = s_writable,
			.on_closed = s_closed};
	nn_tp_set_sink(r->tp, &s);
}

static void rm(rec *r)
{
	nn_tp_destroy(r->tp);
	r->tp = NULL;
}

static int wait_int(const int *a, int v, nn_time t) { return nn_qenv_wait_int(env, a, v, t); }
static int wait_u64(const uint64_t *u, uint64_t v, nn_time t) { return nn_qenv_wait_u64(env, u, v, t); }
static void spin(nn_time t) { nn_qenv_run(env, NULL, NULL, t); }

static int setup(void **st) { return nn_qenv_setup(NULL, 1, (void **)&env); }
static int teardown(void **st)
{
	nn_qenv_teardown(env);
	return 0;
}

/* a dials b: the overlay edge on both sides */
static void edge_up(rec *a, rec *b)
{
	int na = a->n_conn, nb = b->n_conn;
	assert_int_equal(nn_tp_dial(a->tp, &b->tp->local_id, &b->addr, NULL), 0);
	assert_int_equal(wait_int(&a->n_conn, na + 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b->n_conn, nb + 1, 5 * NN_SEC), 0);
}

static void frame_roundtrip(rec *a, nn_conn *ca, rec *b)
{
	uint8_t buf[64];
	int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_PING, NULL, 0);
	uint64_t rx = b->rx_frames;
	assert_int_equal(nn_tp_send(a->tp, ca, buf, (size_t)n), 0);
	assert_int_equal(wait_u64(&b->rx_frames, rx + 1, 5 * NN_SEC), 0);
}

/* a dials b, then a media session over the edge */
static void session_up(rec *a, rec *b)
{
	edge_up(a, b);
	int ma = a->n_media, mb = b->n_media;
	static int token;
	assert_int_equal(nn_tp_dial_media(a->tp, a->edge, &token), 0);
	assert_int_equal(wait_int(&a->n_media, ma + 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b->n_media, mb + 1, 5 * NN_SEC), 0);
	assert_true(a->media->outbound);
	assert_ptr_equal(a->media->user, &token);
	assert_false(b->media->outbound);
	assert_memory_equal(&b->media->remote_id, &a->tp->local_id, sizeof(nn_id));
	assert_memory_equal(&a->media->remote_id, &b->tp->local_id, sizeof(nn_id));
	/* the session is separate from the edge */
	assert_ptr_not_equal(a->media, a->edge);
}

static void test_datagrams_both_ways(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	assert_true(a.tp->caps & NN_TP_CAP_MEDIA);
	session_up(&a, &b);
	const nn_quic_stats *sa = nn_quic_stats_of(a.tp), *sb = nn_quic_stats_of(b.tp);
	assert_int_equal(sa->media_out, 1);
	assert_int_equal(sb->media_in, 1);
	uint8_t d[NN_TP_MAX_DGRAM];
	memset(d, 0x5a, sizeof d);
	d[0] = 16;
	/* a -> b and b -> a, 20 each, paced a little (loopback loses none at this rate) */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, 100 + (size_t)i), 0);
		assert_int_equal(nn_tp_send_datagram(b.tp, b.media, d, 50), 0);
		spin(2 * NN_MS);
	}
	assert_int_equal(wait_u64(&b.rx_dgrams, 20, 5 * NN_SEC), 0);
	assert_int_equal(wait_u64(&a.rx_dgrams, 20, 5 * NN_SEC), 0);
	assert_true(b.last_dgram_at > 0); /* every datagram carries its receive time */
	assert_int_equal(sb->media_dgram_rx, 20);
	assert_int_equal(sa->media_dgram_tx, 20);
	/* over the limit: refused locally */
	assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, NN_TP_MAX_DGRAM + 1), NN_ETOOBIG);
	/* a datagram on the overlay edge is not a thing */
	assert_int_equal(nn_tp_send_datagram(a.tp, a.edge, d, 10), NN_EINVAL);
	/* the edge is untouched by the session */
	frame_roundtrip(&a, a.edge, &b);
	frame_roundtrip(&b, b.edge, &a);
	/* closing the session leaves the edge */
	assert_int_equal(nn_tp_close(a.tp, a.media, 0), 0);
	assert_int_equal(wait_int(&b.n_media_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.n_media_closed, 1);
	assert_int_equal(a.n_closed + b.n_closed, 0);
	frame_roundtrip(&a, a.edge, &b);
	rm(&a);
	rm(&b);
}

/* The receive timestamp is taken when the socket read returned the packets, not when the
 * datagram reaches the sink: eight datagrams sent in one burst are read in one batch; the first
 * one's callback sleeps 30 ms, so the later ones reach the sink 30 ms after they were read, and
 * their pkt->at says so (before: pkt->at was the clock at delivery, so at == callback time). */
static void test_rx_timestamp(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	session_up(&a, &b);
	spin(50 * NN_MS);
	b.stall_first = 30 * NN_MS;
	uint8_t d[64];
	memset(d, 0x33, sizeof d);
	d[0] = 16;
	for (int i = 0; i < 8; i++)
		assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, sizeof d), 0);
	assert_int_equal(wait_u64(&b.rx_dgrams, 8, 5 * NN_SEC), 0);
	nn_time late = 0;
	for (int i = 0; i < 8; i++) {
		assert_true(b.dg_at[i] > 0);
		assert_true(b.dg_at[i] <= b.dg_cb[i]);
		if (b.dg_cb[i] - b.dg_at[i] > late)
			late = b.dg_cb[i] - b.dg_at[i];
	}
	/* the datagrams after the slow callback were read before it slept */
	assert_true(late >= 25 * NN_MS);
	assert_true(b.dg_at[7] - b.dg_at[0] < 25 * NN_MS);
	/* the media counters in their transport-neutral form (the node's tp_media_*) */
	nn_tp_guard ga, gb;
	nn_tp_guard_stats(a.tp, &ga);
	nn_tp_guard_stats(b.tp, &gb);
	assert_int_equal(ga.media_out, 1);
	assert_int_equal(gb.media_in, 1);
	assert_int_equal(ga.media_dgram_tx, 8);
	assert_int_equal(gb.media_dgram_rx, 8);
	assert_int_equal(gb.overlay_dgram_dropped, 0);
	rm(&a);
	rm(&b);
}

static void test_max_datagram(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	session_up(&a, &b);
	/* let PMTUD raise the path above 1200 bytes */
	spin(300 * NN_MS);
	uint8_t d[NN_TP_MAX_DGRAM];
	memset(d, 0x11, sizeof d);
	d[0] = 200;
	assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, sizeof d), 0);
	assert_int_equal(wait_u64(&b.rx_dgrams, 1, 5 * NN_SEC), 0);
	rm(&a);
	rm(&b);
}

static void test_messages(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	session_up(&a, &b);
	const nn_quic_stats *sa = nn_quic_stats_of(a.tp), *sb = nn_quic_stats_of(b.tp);
	static uint8_t big[NN_TP_MAX_MEDIA_MSG + 4500];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7 + 3);
	big[0] = 17;
	/* small, both ways */
	assert_int_equal(nn_tp_send(a.tp, a.media, big, 5), 0);
	assert_int_equal(wait_u64(&b.rx_msgs, 1, 5 * NN_SEC), 0);
	assert_int_equal(b.last_msg_len, 5);
	assert_memory_equal(b.last_msg_head, big, 4);
	assert_int_equal(nn_tp_send(b.tp, b.media, big, 1), 0);
	assert_int_equal(wait_u64(&a.rx_msgs, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.last_msg_len, 1);
	/* the largest: channel + 64 KiB, both ways, intact */
	b.keep_msg = true;
	assert_int_equal(nn_tp_send(a.tp, a.media, big, NN_TP_MAX_MEDIA_MSG), 0);
	assert_int_equal(wait_u64(&b.rx_msgs, 2, 5 * NN_SEC), 0);
	assert_int_equal(b.last_msg_len, NN_TP_MAX_MEDIA_MSG);
	assert_int_equal(b.last_msg_sum, sum(big, NN_TP_MAX_MEDIA_MSG));
	assert_int_equal(nn_tp_send(b.tp, b.media, big, NN_TP_MAX_MEDIA_MSG), 0);
	assert_int_equal(wait_u64(&a.rx_msgs, 2, 5 * NN_SEC), 0);
	assert_int_equal(a.last_msg_sum, sum(big, NN_TP_MAX_MEDIA_MSG));
	/* one byte over: refused at the sender */
	assert_int_equal(nn_tp_send(a.tp, a.media, big, NN_TP_MAX_MEDIA_MSG + 1), NN_ETOOBIG);
	/* a misbehaving sender's oversized message: the reader stops it, drops and counts it */
	assert_int_equal(nn_quic_test_media_raw_msg(a.tp, a.media, big, sizeof big), 0);
	assert_int_equal(wait_u64(&sb->media_msg_rx_oversize, 1, 5 * NN_SEC), 0);
	spin(100 * NN_MS);
	assert_int_equal(b.rx_msgs, 2);
	/* several in a row, none blocked by another, and the session still works */
	for (int i = 0; i < 10; i++)
		assert_int_equal(nn_tp_send(a.tp, a.media, big, 1000 + (size_t)i * 3000), 0);
	assert_int_equal(wait_u64(&b.rx_msgs, 12, 5 * NN_SEC), 0);
	assert_true(sa->media_msg_tx >= 12);
	assert_int_equal(sb->media_msg_rx, 12);
	assert_non_null(a.media);
	assert_non_null(b.media);
	/* messages accepted before close() reach the peer ahead of the close (transport.h) */
	uint64_t rx = b.rx_msgs;
	for (int i = 0; i < 4; i++)
		assert_int_equal(nn_tp_send(a.tp, a.media, big, NN_TP_MAX_MEDIA_MSG), 0);
	assert_int_equal(nn_tp_close(a.tp, a.media, 0), 0);
	assert_int_equal(nn_tp_send(a.tp, a.media, big, 10), NN_ECLOSED);
	assert_int_equal(wait_int(&b.n_media_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(b.rx_msgs, rx + 4);
	assert_int_equal(b.last_msg_sum, sum(big, NN_TP_MAX_MEDIA_MSG));
	assert_int_equal(a.n_media_closed, 1);
	assert_int_equal(a.closed_err, 0);
	rm(&a);
	rm(&b);
}

static void test_no_media_peer(void **st)
{
	rec a, b;
	nn_quic_config nc;
	nn_quic_config_default(&nc);
	nc.no_media = true;
	mk(&a, NULL);
	mk(&b, &nc);
	assert_false(b.tp->caps & NN_TP_CAP_MEDIA);
	edge_up(&a, &b);
	nn_conn *edge = a.edge;
	assert_int_equal(nn_tp_dial_media(a.tp, a.edge, NULL), 0);
	assert_int_equal(wait_int(&a.n_failed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.dial_err, NN_EUNSUPPORTED);
	assert_int_equal(a.n_media, 0);
	assert_int_equal(b.n_media, 0);
	assert_int_equal(nn_quic_stats_of(a.tp)->media_unsupported, 1);
	/* the overlay edge is untouched and keeps working both ways */
	spin(200 * NN_MS);
	assert_ptr_equal(a.edge, edge);
	assert_int_equal(a.n_closed + b.n_closed, 0);
	frame_roundtrip(&a, a.edge, &b);
	frame_roundtrip(&b, b.edge, &a);
	/* the side without media cannot dial one */
	assert_int_equal(nn_tp_dial_media(b.tp, b.edge, NULL), NN_EUNSUPPORTED);
	rm(&a);
	rm(&b);
}

static void test_no_datagram_peer(void **st)
{
	rec a, b;
	nn_quic_config nc;
	nn_quic_config_default(&nc);
	nc.media_no_datagram = true;
	mk(&a, NULL);
	mk(&b, &nc);
	edge_up(&a, &b);
	assert_int_equal(nn_tp_dial_media(a.tp, a.edge, NULL), 0);
	assert_int_equal(wait_int(&a.n_failed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.dial_err, NN_EUNSUPPORTED);
	assert_int_equal(a.n_media, 0);
	spin(200 * NN_MS);
	frame_roundtrip(&a, a.edge, &b);
	/* and the other way: a dialler without DATAGRAM is refused by a (code 1) */
	assert_int_equal(nn_tp_dial_media(b.tp, b.edge, NULL), 0);
	assert_int_equal(wait_int(&b.n_failed, 1, 5 * NN_SEC), 0);
	assert_int_equal(b.dial_err, NN_EUNSUPPORTED);
	assert_int_equal(a.n_media, 0);
	frame_roundtrip(&b, b.edge, &a);
	rm(&a);
	rm(&b);
}

static void test_backpressure(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	session_up(&a, &b);
	uint8_t d[200];
	memset(d, 1, sizeof d);
	d[0] = 16;
	/* without the loop running, the pump cannot drain: the 65th is refused */
	for (int i = 0; i < 64; i++)
		assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, sizeof d), 0);
	assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, sizeof d), NN_EAGAIN);
	assert_int_equal(nn_quic_stats_of(a.tp)->media_dgram_ring_full, 1);
	assert_int_equal(nn_tp_queued(a.tp, a.media), 64);
	spin(50 * NN_MS);
	assert_int_equal(nn_tp_queued(a.tp, a.media), 0);
	assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, sizeof d), 0);
	assert_int_equal(wait_u64(&b.rx_dgrams, 60, 5 * NN_SEC), 0);
	/* messages: 16 in flight, then NN_EAGAIN, then on_writable once one finished */
	static uint8_t m[20000];
	m[0] = 16;
	int ok = 0, again = 0;
	for (int i = 0; i < 20; i++) {
		int rc = nn_tp_send(a.tp, a.media, m, sizeof m);
		if (rc == 0)
			ok++;
		else if (rc == NN_EAGAIN)
			again++;
	}
	assert_int_equal(ok, 16);
	assert_int_equal(again, 4);
	assert_int_equal(wait_int(&a.n_writable, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_u64(&b.rx_msgs, 16, 5 * NN_SEC), 0);
	rm(&a);
	rm(&b);
}

static void test_bidi_reset_and_keepalive(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	session_up(&a, &b);
	/* a bidi stream on a session is reset by the acceptor */
	/* (the hook writes one packet by hand, which pacing may refuse: retry) */
	for (int i = 0; i < 50 && nn_quic_stats_of(b.tp)->streams_reset == 0; i++) {
		nn_quic_test_open_streams(a.tp, a.media, 1);
		spin(20 * NN_MS);
	}
	assert_true(nn_quic_stats_of(b.tp)->streams_reset >= 1);
	assert_non_null(b.media);
	/* a quiet session outlives the 10 s idle bound: the dialler's 3 s keepalive feeds the
	 * acceptor's idle reaper */
	spin(12 * NN_SEC);
	assert_non_null(a.media);
	assert_non_null(b.media);
	assert_int_equal(nn_quic_stats_of(b.tp)->media_idle_reaped, 0);
	uint8_t d[10] = {16};
	assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, sizeof d), 0);
	assert_int_equal(wait_u64(&b.rx_dgrams, 1, 5 * NN_SEC), 0);
	rm(&a);
	rm(&b);
}

/* The acceptor's own idle reaper: a dialler that advertises a 60 s idle timeout and sends no
 * keepalive goes quiet; the acceptor closes the session after 10 s of silence anyway. */
static void test_idle_reaper(void **st)
{
	nn_quic_config q;
	nn_quic_config_default(&q);
	q.media_idle_timeout = 60 * NN_SEC;
	q.media_keepalive = -1;
	rec a, b;
	mk(&a, &q);
	mk(&b, NULL);
	session_up(&a, &b);
	nn_time t0 = nn_clock_now(env->clk);
	assert_int_equal(wait_int(&b.n_media_closed, 1, 14 * NN_SEC), 0);
	nn_time dt = nn_clock_now(env->clk) - t0;
	assert_true(dt >= 9 * NN_SEC && dt <= 12 * NN_SEC);
	assert_int_equal(b.closed_err, NN_ETIMEDOUT);
	assert_int_equal(nn_quic_stats_of(b.tp)->media_idle_reaped, 1);
	/* the dialler hears the close; the edges are untouched */
	assert_int_equal(wait_int(&a.n_media_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.n_closed + b.n_closed, 0);
	rm(&a);
	rm(&b);
}

/* A message whose write cannot finish in 1 s (the peer's loop is frozen, so no ACK opens the
 * congestion window) is reset and counted; the session survives and carries the next one once
 * the peer runs again. */
static void test_message_write_stall(void **st)
{
	nn_qenv *e2;
	assert_int_equal(nn_qenv_setup(NULL, 2, (void **)&e2), 0);
	rec a, b;
	mk(&a, NULL);
	memset(&b, 0, sizeof b);
	uint8_t seed[32] = {201, 0x4d};
	nn_quic_config dc;
	nn_quic_config_default(&dc);
	dc.listen = "127.0.0.1:0";
	assert_int_equal(nn_qenv_endpoint(e2, seed, &dc, &b.tp, &b.addr), 0);
	nn_tp_sink s = {.ctx = &b, .on_conn = s_conn, .on_frame = s_frame,
			.on_datagram = s_dgram, .on_closed = s_closed};
	nn_tp_set_sink(b.tp, &s);
	assert_int_equal(nn_tp_dial(a.tp, &b.tp->local_id, &b.addr, NULL), 0);
	for (int i = 0; i < 2000 && !(a.n_conn && b.n_conn); i++) {
		spin(NN_MS);
		nn_qenv_run(e2, NULL, NULL, NN_MS);
	}
	assert_int_equal(nn_tp_dial_media(a.tp, a.edge, NULL), 0);
	for (int i = 0; i < 2000 && !(a.n_media && b.n_media); i++) {
		spin(NN_MS);
		nn_qenv_run(e2, NULL, NULL, NN_MS);
	}
	assert_non_null(a.media);
	assert_non_null(b.media);
	/* b freezes */
	static uint8_t m[NN_TP_MAX_MEDIA_MSG];
	memset(m, 7, sizeof m);
	m[0] = 16;
	assert_int_equal(nn_tp_send(a.tp, a.media, m, sizeof m), 0);
	spin(1500 * NN_MS);
	const nn_quic_stats *sa = nn_quic_stats_of(a.tp);
	assert_int_equal(sa->media_msg_tx_stalled, 1);
	assert_int_equal(sa->media_msg_tx, 0);
	assert_non_null(a.media);
	/* b runs again: the reset message is not delivered, the next one is */
	assert_int_equal(nn_tp_send(a.tp, a.media, m, 100), 0);
	for (int i = 0; i < 3000 && b.rx_msgs < 1; i++) {
		spin(NN_MS);
		nn_qenv_run(e2, NULL, NULL, NN_MS);
	}
	for (int i = 0; i < 100; i++) {
		spin(NN_MS);
		nn_qenv_run(e2, NULL, NULL, NN_MS);
	}
	assert_int_equal(b.rx_msgs, 1);
	assert_int_equal(b.last_msg_len, 100);
	/* the reader saw the reset message's start, then its RESET_STREAM: dropped, counted */
	assert_int_equal(nn_quic_stats_of(b.tp)->media_msg_rx_truncated, 1);
	assert_non_null(a.media);
	assert_non_null(b.media);
	rm(&a);
	nn_tp_destroy(b.tp);
	nn_qenv_teardown(e2);
}

/* A sender that stops mid-message (no FIN, no reset): the reader gives up after 5 s, drops and
 * counts it, and stops the stream; the session lives on. */
static void test_message_read_deadline(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	session_up(&a, &b);
	static uint8_t m[3000];
	memset(m, 9, sizeof m);
	m[0] = 16;
	assert_int_equal(nn_quic_test_media_partial_msg(a.tp, a.media, m, sizeof m), 0);
	const nn_quic_stats *sb = nn_quic_stats_of(b.tp);
	nn_time t0 = nn_clock_now(env->clk);
	assert_int_equal(wait_u64(&sb->media_msg_rx_timeout, 1, 8 * NN_SEC), 0);
	assert_true(nn_clock_now(env->clk) - t0 >= 4 * NN_SEC);
	assert_int_equal(b.rx_msgs, 0);
	/* STOP_SENDING made the sender reset the stream: its slot is free again */
	spin(200 * NN_MS);
	assert_int_equal(nn_tp_queued(a.tp, a.media), 0);
	assert_int_equal(nn_tp_send(a.tp, a.media, m, 10), 0);
	assert_int_equal(wait_u64(&b.rx_msgs, 1, 5 * NN_SEC), 0);
	assert_non_null(b.media);
	rm(&a);
	rm(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datagrams_both_ways),
		cmocka_unit_test(test_max_datagram),
		cmocka_unit_test(test_rx_timestamp),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_no_media_peer),
		cmocka_unit_test(test_no_datagram_peer),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_bidi_reset_and_keepalive),
		cmocka_unit_test(test_idle_reaper),
		cmocka_unit_test(test_message_write_stall),
		cmocka_unit_test(test_message_read_deadline),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
