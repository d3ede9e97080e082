/* test_relay.c — the QUIC transport's relay volunteer (ops.relay_alloc / relay_free) over
 * loopback: a relayed QUIC connection between two endpoints (frames both ways, the callee sees
 * the relay's callee-facing address), pinning to the first source host (another host's
 * datagrams dropped and counted, a port change from the same IP followed), drops before the
 * other side pinned, the shaper holding a flooded session to its budget while another session
 * keeps flowing, the aggregate shaper, the session cap (NN_EBUSY), idle reaping, and the guard
 * counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/quic/quic_factory.h"
#include "tests/support/testutil.h"
#include "wire/wire.h"

typedef struct rec {
	nn_tp *tp;
	nn_addr addr;
	nn_conn *live[8];
	int nlive, n_conn;
	uint64_t rx;
} rec;

static void s_conn(void *a, nn_conn *c)
{
	rec *r = a;
	r->n_conn++;
	if (r->nlive < 8)
		r->live[r->nlive++] = c;
}
static void s_frame(void *a, nn_conn *c, nn_pkt **p)
{
	(void)c;
	(void)p;
	((rec *)a)->rx++;
}
static void s_closed(void *a, nn_conn *c, int err, uint64_t reason)
{
	(void)err;
	(void)reason;
	rec *r = a;
	for (int i = 0; i < r->nlive; i++)
		if (r->live[i] == c) {
			r->live[i] = r->live[--r->nlive];
			break;
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
	nn_quic_config c;
	if (cfg)
		c = *cfg;
	else
		nn_quic_config_default(&c);
	c.punch_allow_loopback = true;
	assert_int_equal(nn_qenv_endpoint(env, seed, &c, &r->tp, &r->addr), 0);
	nn_tp_sink s = {.ctx = r, .on_conn = s_conn, .on_frame = s_frame, .on_closed = s_closed};
	nn_tp_set_sink(r->tp, &s);
}

static int wait_int(const int *a, int v, nn_time t) { return nn_qenv_wait_int(env, a, v, t); }
static int wait_u64(const uint64_t *u, uint64_t v, nn_time t) { return nn_qenv_wait_u64(env, u, v, t); }
static void spin(nn_time t) { nn_qenv_run(env, NULL, NULL, t); }

static int setup(void **st)
{
	(void)st;
	return nn_qenv_setup(NULL, 1, (void **)&env);
}
static int teardown(void **st)
{
	(void)st;
	nn_qenv_teardown(env);
	return 0;
}

/* A raw UDP socket bound to host:0 (127.0.0.1 or 127.0.0.2). */
static int raw(const char *host)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, host, &sa.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	int big = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	return fd;
}

static void send_to(int fd, const nn_addr *a, const void *d, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(nn_addr_to_sockaddr(a, &ss, &len), 0);
	assert_int_equal(sendto(fd, d, n, 0, (struct sockaddr *)&ss, len), (ssize_t)n);
}

/* Datagrams waiting on fd (drained); the last one's first bytes into last (if any). */
static int drain(int fd, char *last, size_t cap)
{
	int k = 0;
	char buf[2048];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0)
			return k;
		k++;
		if (last && cap) {
			size_t m = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
			memcpy(last, buf, m);
			last[m] = 0;
		}
	}
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A and B talk QUIC through R: B punches the callee-facing side (pinning B's socket), A dials
 * B at the caller-facing side; the TLS session is end to end (B's NodeID verified by A). */
static void test_relayed_quic(void **st)
{
	(void)st;
	rec r, a, b;
	mk(&r, NULL);
	mk(&a, NULL);
	mk(&b, NULL);
	assert_true(r.tp->caps & NN_TP_CAP_RELAY);
	nn_tp_relay s;
	assert_int_equal(nn_tp_relay_alloc(r.tp, &s), 0);
	assert_true(nn_addr_is_quic(&s.a) && nn_addr_is_quic(&s.b));
	assert_false(nn_addr_eq(&s.a, &s.b));
	assert_false(nn_addr_eq(&s.a, &r.addr));
	assert_int_equal(strncmp(s.a.ep, "127.0.0.1:", 10), 0); /* the main socket's host */
	const nn_quic_stats *sr = nn_quic_stats_of(r.tp);
	assert_int_equal(nn_quic_punch(b.tp, &s.b), 0);
	assert_int_equal(wait_u64(&sr->relay_rx, 1, 2 * NN_SEC), 0);
	assert_int_equal(sr->relay_unpinned, 1); /* A's side is not pinned yet: dropped */
	assert_int_equal(nn_tp_dial(a.tp, &b.tp->local_id, &s.a, NULL), 0);
	assert_int_equal(wait_int(&a.n_conn, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b.n_conn, 1, 5 * NN_SEC), 0);
	assert_true(nn_addr_eq(&b.live[0]->remote_addr, &s.b)); /* B sees the relay */
	assert_true(nn_addr_eq(&a.live[0]->remote_addr, &s.a));
	uint8_t f[64];
	int n = nn_wire_frame_encode(f, sizeof f, NN_T_PING, NULL, 0);
	assert_int_equal(nn_tp_send(a.tp, a.live[0], f, (size_t)n), 0);
	assert_int_equal(wait_u64(&b.rx, 1, 5 * NN_SEC), 0);
	assert_int_equal(nn_tp_send(b.tp, b.live[0], f, (size_t)n), 0);
	assert_int_equal(wait_u64(&a.rx, 1, 5 * NN_SEC), 0);
	assert_true(nn_quic_test_relay_forwarded(r.tp, s.id, 0) > 0);
	assert_true(nn_quic_test_relay_forwarded(r.tp, s.id, 1) > 0);
	assert_int_equal(sr->relay_foreign, 0);
	assert_int_equal(nn_tp_relay_free(r.tp, s.id), 0);
	assert_int_equal(nn_tp_relay_free(r.tp, s.id), NN_ENOENT);
	nn_tp_destroy(a.tp);
	nn_tp_destroy(b.tp);
	nn_tp_destroy(r.tp);
}

/* Pinning: the first source host of each side; another host is dropped (counted); a new port
 * from the same IP is followed (a NAT rebind), in both directions. */
static void test_pinning(void **st)
{
	(void)st;
	rec r;
	mk(&r, NULL);
	const nn_quic_stats *sr = nn_quic_stats_of(r.tp);
	nn_tp_relay s;
	assert_int_equal(nn_tp_relay_alloc(r.tp, &s), 0);
	int x = raw("127.0.0.1"), y = raw("127.0.0.1"), y2 = raw("127.0.0.1"), z = raw("127.0.0.2");
	char got[64];
	send_to(x, &s.b, "pin-b", 5); /* X pins the callee side */
	send_to(y, &s.a, "hello-from-y", 12);
	assert_int_equal(wait_u64(&sr->relay_fwd_pkts, 1, 2 * NN_SEC), 0);
	assert_int_equal(drain(x, got, sizeof got), 1);
	assert_string_equal(got, "hello-from-y");
	send_to(x, &s.b, "to-y", 4);
	assert_int_equal(wait_u64(&sr->relay_fwd_pkts, 2, 2 * NN_SEC), 0);
	spin(20 * NN_MS);
	assert_int_equal(drain(y, got, sizeof got), 1);
	assert_string_equal(got, "to-y");
	/* another host on either side: dropped, nothing forwarded */
	send_to(z, &s.a, "intruder", 8);
	send_to(z, &s.b, "intruder", 8);
	assert_int_equal(wait_u64(&sr->relay_foreign, 2, 2 * NN_SEC), 0);
	spin(20 * NN_MS);
	assert_int_equal(drain(x, NULL, 0) + drain(y, NULL, 0), 0);
	assert_int_equal(sr->relay_fwd_pkts, 2);
	/* Y's NAT rebinds (same IP, new port): followed both ways */
	send_to(y2, &s.a, "rebound", 7);
	assert_int_equal(wait_u64(&sr->relay_rebind, 1, 2 * NN_SEC), 0);
	spin(20 * NN_MS);
	assert_int_equal(drain(x, got, sizeof got), 1);
	assert_string_equal(got, "rebound");
	send_to(x, &s.b, "to-y2", 5);
	assert_int_equal(wait_u64(&sr->relay_fwd_pkts, 4, 2 * NN_SEC), 0);
	spin(20 * NN_MS);
	assert_int_equal(drain(y2, got, sizeof got), 1);
	assert_string_equal(got, "to-y2");
	assert_int_equal(drain(y, NULL, 0), 0);
	nn_tp_guard g;
	nn_tp_guard_stats(r.tp, &g);
	assert_int_equal(g.relay_sessions, 1);
	assert_int_equal(g.relay_foreign, 2);
	assert_int_equal(g.relay_unpinned, 1); /* "pin-b" arrived before side A pinned */
	close(x);
	close(y);
	close(y2);
	close(z);
	nn_tp_destroy(r.tp);
}

/* Flood one session: what it forwards stays within burst + rate x elapsed (bytes and packets),
 * the rest is dropped and counted; a second session keeps flowing meanwhile. */
static void test_shaper(void **st)
{
	(void)st;
	rec r;
	mk(&r, NULL);
	const nn_quic_stats *sr = nn_quic_stats_of(r.tp);
	nn_tp_relay s1, s2;
	assert_int_equal(nn_tp_relay_alloc(r.tp, &s1), 0);
	assert_int_equal(nn_tp_relay_alloc(r.tp, &s2), 0);
	int a1 = raw("127.0.0.1"), b1 = raw("127.0.0.1"), a2 = raw("127.0.0.1"),
	    b2 = raw("127.0.0.1");
	send_to(b1, &s1.b, "p", 1);
	send_to(b2, &s2.b, "p", 1);
	spin(20 * NN_MS);
	uint8_t pkt[1000];
	memset(pkt, 0xee, sizeof pkt);
	double t0 = mono();
	int got1 = 0, got2 = 0, sent2 = 0;
	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 50; i++)
			send_to(a1, &s1.a, pkt, sizeof pkt);
		if (round % 2 == 0) {
			send_to(a2, &s2.a, pkt, 200);
			sent2++;
		}
		spin(5 * NN_MS);
		got1 += drain(b1, NULL, 0);
		got2 += drain(b2, NULL, 0);
	}
	spin(20 * NN_MS);
	got1 += drain(b1, NULL, 0);
	got2 += drain(b2, NULL, 0);
	double el = mono() - t0;
	uint64_t fwd1 = nn_quic_test_relay_forwarded(r.tp, s1.id, 0);
	printf("# flood: 2000 x 1000 B in %.0f ms, %d forwarded (budget %.0f), %llu shaped; "
	       "other session %d of %d\n",
	       el * 1000, got1, (131072 + 250000 * el) / 1000, (unsigned long long)sr->relay_shaped,
	       got2, sent2);
	assert_int_equal((uint64_t)got1, fwd1);
	assert_true((double)fwd1 * 1000 <= 131072 + 250000 * el + 1000);
	assert_true(fwd1 >= 100); /* the burst passes */
	assert_true(sr->relay_shaped >= 2000 - fwd1 - 200); /* socket-buffer losses aside */
	assert_int_equal(got2, sent2); /* the other session was never shaped */
	nn_tp_guard g;
	nn_tp_guard_stats(r.tp, &g);
	assert_int_equal(g.relay_shaped, sr->relay_shaped);
	close(a1);
	close(b1);
	close(a2);
	close(b2);
	nn_tp_destroy(r.tp);

	/* the aggregate: 4 sessions flooded at once stay within its budget together */
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.relay_agg_rate = 100000;
	c.relay_agg_burst = 50000;
	mk(&r, &c);
	sr = nn_quic_stats_of(r.tp);
	nn_tp_relay ss[4];
	int fa[4], fb[4];
	for (int k = 0; k < 4; k++) {
		assert_int_equal(nn_tp_relay_alloc(r.tp, &ss[k]), 0);
		fa[k] = raw("127.0.0.1");
		fb[k] = raw("127.0.0.1");
		send_to(fb[k], &ss[k].b, "p", 1);
	}
	spin(20 * NN_MS);
	t0 = mono();
	for (int round = 0; round < 10; round++) {
		for (int k = 0; k < 4; k++)
			for (int i = 0; i < 10; i++)
				send_to(fa[k], &ss[k].a, pkt, sizeof pkt);
		spin(5 * NN_MS);
	}
	spin(20 * NN_MS);
	el = mono() - t0;
	printf("# aggregate: %llu bytes forwarded in %.0f ms (budget %.0f)\n",
	       (unsigned long long)sr->relay_fwd_bytes, el * 1000, 50000 + 100000 * el);
	assert_true((double)sr->relay_fwd_bytes <= 50000 + 100000 * el + 1000);
	assert_true(sr->relay_shaped > 0);
	for (int k = 0; k < 4; k++) {
		close(fa[k]);
		close(fb[k]);
	}
	nn_tp_destroy(r.tp);
}

/* At most relay_max_sessions (NN_EBUSY beyond, counted); idle sessions are reaped. */
static void test_cap_and_reaping(void **st)
{
	(void)st;
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.relay_max_sessions = 3;
	c.relay_idle = 300 * NN_MS;
	rec r;
	mk(&r, &c);
	const nn_quic_stats *sr = nn_quic_stats_of(r.tp);
	nn_tp_relay s[4];
	for (int k = 0; k < 3; k++)
		assert_int_equal(nn_tp_relay_alloc(r.tp, &s[k]), 0);
	assert_int_equal(nn_tp_relay_alloc(r.tp, &s[3]), NN_EBUSY);
	assert_int_equal(sr->relay_refused, 1);
	assert_int_equal(nn_tp_relay_free(r.tp, s[1].id), 0);
	assert_int_equal(nn_tp_relay_alloc(r.tp, &s[3]), 0);
	assert_int_equal(nn_quic_test_relay_sessions(r.tp), 3);
	/* keep s[0] busy; the other two forward nothing and go */
	int x = raw("127.0.0.1"), y = raw("127.0.0.1");
	send_to(x, &s[0].b, "p", 1);
	for (int i = 0; i < 8; i++) {
		send_to(y, &s[0].a, "keep", 4);
		spin(100 * NN_MS);
	}
	assert_int_equal(nn_quic_test_relay_sessions(r.tp), 1);
	assert_int_equal(sr->relay_reaped, 2);
	spin(700 * NN_MS);
	assert_int_equal(nn_quic_test_relay_sessions(r.tp), 0);
	nn_tp_guard g;
	nn_tp_guard_stats(r.tp, &g);
	assert_int_equal(g.relay_reaped, 3);
	assert_int_equal(g.relay_refused, 1);
	assert_int_equal(g.relay_sessions, 4);
	close(x);
	close(y);
	nn_tp_destroy(r.tp);
}

/* ---- a media session migrates off the relay (ops.move_media) ---- */
#define MV_N 600
typedef struct mrec {
	nn_tp *tp;
	nn_addr addr;
	nn_conn *edge[2]; /* overlay conns, in the order they came up */
	int nedge;
	nn_conn *media;
	int n_media, n_media_closed;
	uint8_t seen[MV_N];
	uint64_t msgs, dgrams;
} mrec;

static void mv_conn(void *a, nn_conn *c)
{
	mrec *r = a;
	if (c->kind == NN_CONN_MEDIA) {
		r->n_media++;
		r->media = c;
	} else if (r->nedge < 2) {
		r->edge[r->nedge++] = c;
	}
}
static void mv_frame(void *a, nn_conn *c, nn_pkt **p)
{
	mrec *r = a;
	if (c->kind != NN_CONN_MEDIA || (*p)->len < 4)
		return;
	uint32_t k;
	memcpy(&k, (*p)->data, 4);
	r->msgs++;
	if (k < MV_N)
		r->seen[k]++;
}
static void mv_dgram(void *a, nn_conn *c, nn_pkt **p)
{
	(void)c;
	(void)p;
	((mrec *)a)->dgrams++;
}
static void mv_closed(void *a, nn_conn *c, int err, uint64_t reason)
{
	(void)err;
	(void)reason;
	mrec *r = a;
	if (c->kind == NN_CONN_MEDIA) {
		r->n_media_closed++;
		if (r->media == c)
			r->media = NULL;
	}
}
static void mv_mk(mrec *r)
{
	memset(r, 0, sizeof *r);
	uint8_t seed[32];
	memset(seed, 0, sizeof seed);
	seed[0] = ++seed_ctr;
	seed[1] = 0x6d;
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.punch_allow_loopback = true;
	assert_int_equal(nn_qenv_endpoint(env, seed, &c, &r->tp, &r->addr), 0);
	nn_tp_sink s = {.ctx = r, .on_conn = mv_conn, .on_frame = mv_frame,
			.on_datagram = mv_dgram, .on_closed = mv_closed};
	nn_tp_set_sink(r->tp, &s);
}

/* A dials B through R (a relayed edge) and opens a media session on it (the session rides the
 * relay's allocation); a stream of messages (one QUIC stream each) and datagrams runs from A.
 * Midway A dials B directly (the upgraded edge) and moves the session onto it: a QUIC client
 * migration from the same socket (ngtcp2 immediate migration, path validated meanwhile). The
 * session is the same connection (no close on either side); every message arrives exactly
 * once; after the move the relay carries (almost) nothing of the session: of the last 200
 * messages' packets, the relay forwards fewer than 10 (a few acks or a late retransmission
 * of the old path). */
static void test_media_moves_off_relay(void **st)
{
	(void)st;
	rec r;
	mrec a, b;
	mk(&r, NULL);
	mv_mk(&a);
	mv_mk(&b);
	nn_tp_relay s;
	assert_int_equal(nn_tp_relay_alloc(r.tp, &s), 0);
	const nn_quic_stats *sr = nn_quic_stats_of(r.tp);
	assert_int_equal(nn_quic_punch(b.tp, &s.b), 0);
	assert_int_equal(wait_u64(&sr->relay_rx, 1, 2 * NN_SEC), 0);
	assert_int_equal(nn_tp_dial(a.tp, &b.tp->local_id, &s.a, NULL), 0);
	assert_int_equal(nn_qenv_wait_int(env, &a.nedge, 1, 5 * NN_SEC), 0);
	assert_int_equal(nn_qenv_wait_int(env, &b.nedge, 1, 5 * NN_SEC), 0);
	assert_int_equal(nn_tp_dial_media(a.tp, a.edge[0], NULL), 0);
	assert_int_equal(nn_qenv_wait_int(env, &a.n_media, 1, 5 * NN_SEC), 0);
	assert_int_equal(nn_qenv_wait_int(env, &b.n_media, 1, 5 * NN_SEC), 0);
	assert_true(nn_addr_eq(&a.media->remote_addr, &s.a)); /* on the relay */
	assert_true(nn_addr_eq(&b.media->remote_addr, &s.b));
	uint8_t m[200];
	memset(m, 0x42, sizeof m);
	uint64_t fwd_at_move = 0;
	nn_conn *amedia = a.media, *bmedia = b.media;
	const nn_quic_stats *sa = nn_quic_stats_of(a.tp);
	for (uint32_t k = 0; k < MV_N; k++) {
		if (k == 200) { /* the direct edge */
			assert_int_equal(nn_tp_dial(a.tp, &b.tp->local_id, &b.addr, NULL), 0);
			assert_int_equal(nn_qenv_wait_int(env, &a.nedge, 2, 5 * NN_SEC), 0);
		}
		if (k == 250) {
			assert_int_equal(nn_tp_move_media(a.tp, a.media, a.edge[1]), 0);
			assert_true(nn_addr_eq(&a.media->remote_addr, &b.addr));
		}
		if (k == 400)
			fwd_at_move = nn_quic_test_relay_forwarded(r.tp, s.id, 0) +
				      nn_quic_test_relay_forwarded(r.tp, s.id, 1);
		memcpy(m, &k, 4);
		int rc;
		while ((rc = nn_tp_send(a.tp, a.media, m, sizeof m)) == NN_EAGAIN)
			spin(NN_MS);
		assert_int_equal(rc, 0);
		(void)nn_tp_send_datagram(a.tp, a.media, m, 40);
		spin(2 * NN_MS);
	}
	(void)wait_u64(&b.msgs, MV_N, 5 * NN_SEC);
	spin(200 * NN_MS);
	uint64_t fwd_end = nn_quic_test_relay_forwarded(r.tp, s.id, 0) +
			   nn_quic_test_relay_forwarded(r.tp, s.id, 1);
	printf("# media session moved off the relay: %llu of %d messages, %llu of %d datagrams; "
	       "relay forwarded %llu datagrams over the last 200 messages; A media_moved %llu\n",
	       (unsigned long long)b.msgs, MV_N, (unsigned long long)b.dgrams, MV_N,
	       (unsigned long long)(fwd_end - fwd_at_move),
	       (unsigned long long)sa->media_moved);
	assert_int_equal(b.msgs, MV_N);
	for (uint32_t k = 0; k < MV_N; k++)
		assert_int_equal(b.seen[k], 1);
	assert_int_equal(sa->media_moved, 1);
	nn_tp_guard g;
	nn_tp_guard_stats(a.tp, &g);
	assert_int_equal(g.media_moved, 1); /* the node's tp_media_moved */
	assert_int_equal(g.media_move_failed, 0);
	assert_true(a.media == amedia && b.media == bmedia); /* the same session */
	assert_int_equal(a.n_media_closed + b.n_media_closed, 0);
	assert_true(fwd_end - fwd_at_move < 10);
	nn_tp_destroy(a.tp);
	nn_tp_destroy(b.tp);
	nn_tp_destroy(r.tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relayed_quic),
		cmocka_unit_test(test_pinning),
		cmocka_unit_test(test_shaper),
		cmocka_unit_test(test_cap_and_reaping),
		cmocka_unit_test(test_media_moves_off_relay),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
