/* test_tls_release.c — the TLS object of a QUIC connection is freed once its handshake is
 * confirmed (transport/quic/tls.c nn_quic_tls_release), and the connection keeps working
 * without it: an overlay edge carries frames both ways, a media session carries datagrams and
 * messages both ways, and QUIC key updates (started by either side, twice) derive their keys
 * from ngtcp2's own crypto context, after which frames still flow. Also: a connection still in
 * its handshake holds its TLS object (the release is not premature), and the peer's NodeID
 * and Ed25519 key, captured during the handshake, survive the release. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/quic/quic_factory.h"
#include "wire/wire.h"

typedef struct rec {
	nn_tp *tp;
	nn_addr addr;
	nn_conn *edge, *media;
	int n_conn, n_media, n_closed;
	uint64_t rx_frames, rx_dgrams, rx_msgs;
	size_t tls_at_conn; /* live TLS objects of this endpoint when on_conn ran */
} rec;

static void s_conn(void *a, nn_conn *c)
{
	rec *r = a;
	r->tls_at_conn = nn_quic_test_tls_live(r->tp);
	if (c->kind == NN_CONN_MEDIA) {
		r->n_media++;
		r->media = c;
	} else {
		r->n_conn++;
		r->edge = c;
	}
}
static void s_frame(void *a, nn_conn *c, nn_pkt **p)
{
	rec *r = a;
	if (c->kind == NN_CONN_MEDIA)
		r->rx_msgs++;
	else
		r->rx_frames++;
}
static void s_dgram(void *a, nn_conn *c, nn_pkt **p) { ((rec *)a)->rx_dgrams++; }
static void s_closed(void *a, nn_conn *c, int err, uint64_t reason)
{
	rec *r = a;
	r->n_closed++;
	if (r->edge == c)
		r->edge = NULL;
	if (r->media == c)
		r->media = NULL;
}

static nn_qenv *env;
static uint8_t seed_ctr;

static void mk(rec *r)
{
	memset(r, 0, sizeof *r);
	uint8_t seed[32] = {0};
	seed[0] = ++seed_ctr;
	seed[1] = 0x7e;
	assert_int_equal(nn_qenv_endpoint(env, seed, NULL, &r->tp, &r->addr), 0);
	nn_tp_sink s = {.ctx = r, .on_conn = s_conn, .on_frame = s_frame, .on_datagram = s_dgram,
			.on_closed = s_closed};
	nn_tp_set_sink(r->tp, &s);
}

static int wait_int(const int *a, int v, nn_time t) { return nn_qenv_wait_int(env, a, v, t); }
static int wait_u64(const uint64_t *u, uint64_t v, nn_time t)
{
	return nn_qenv_wait_u64(env, u, v, t);
}
static void spin(nn_time t) { nn_qenv_run(env, NULL, NULL, t); }

static int setup(void **st) { return nn_qenv_setup(NULL, 1, (void **)&env); }
static int teardown(void **st)
{
	nn_qenv_teardown(env);
	return 0;
}

static void frames(rec *from, rec *to, int n)
{
	uint8_t buf[1200];
	memset(buf, 0xab, sizeof buf);
	int len = nn_wire_frame_encode(buf, sizeof buf, NN_T_PING, NULL, 0);
	assert_true(len > 0);
	uint64_t rx = to->rx_frames;
	for (int i = 0; i < n; i++)
		assert_int_equal(nn_tp_send(from->tp, from->edge, buf, (size_t)len), 0);
	assert_int_equal(wait_u64(&to->rx_frames, rx + (uint64_t)n, 5 * NN_SEC), 0);
}

/* Start a key update on c (from's side): ngtcp2 allows one once the previous is confirmed and
 * ~3 PTO have passed, so traffic flows (a frame to `to`, if given) and the call is retried. */
static int update(rec *from, rec *to, nn_conn *c)
{
	int rc = NN_EAGAIN;
	for (int i = 0; i < 100 && rc == NN_EAGAIN; i++) {
		rc = nn_quic_test_key_update(from->tp, c);
		if (rc != NN_EAGAIN)
			break;
		if (to)
			frames(from, to, 1);
		spin(20 * NN_MS);
	}
	return rc;
}

static void test_edge_without_tls(void **st)
{
	rec a, b;
	mk(&a);
	mk(&b);
	assert_int_equal(nn_tp_dial(a.tp, &b.tp->local_id, &b.addr, NULL), 0);
	/* dialled, not yet answered: the handshake needs its TLS object */
	assert_int_equal(nn_quic_test_tls_live(a.tp), 1);
	assert_int_equal(wait_int(&a.n_conn, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b.n_conn, 1, 5 * NN_SEC), 0);
	/* on_conn ran before the release (the release happens at the next write) */
	assert_int_equal(a.tls_at_conn, 1);
	spin(20 * NN_MS);
	const nn_quic_stats *sa = nn_quic_stats_of(a.tp), *sb = nn_quic_stats_of(b.tp);
	assert_false(nn_quic_test_has_tls(a.tp, a.edge));
	assert_false(nn_quic_test_has_tls(b.tp, b.edge));
	assert_int_equal(nn_quic_test_tls_live(a.tp), 0);
	assert_int_equal(nn_quic_test_tls_live(b.tp), 0);
	assert_int_equal(sa->tls_released, 1);
	assert_int_equal(sb->tls_released, 1);
	/* the identity bound during the handshake is still there */
	assert_memory_equal(&a.edge->remote_id, &b.tp->local_id, sizeof(nn_id));
	assert_memory_equal(&b.edge->remote_id, &a.tp->local_id, sizeof(nn_id));
	/* frames both ways, many packets' worth */
	frames(&a, &b, 300);
	frames(&b, &a, 300);
	/* key update from the dialler: a second one while the first is unconfirmed is refused
	 * (so the first really started), frames flow under the new keys */
	assert_int_equal(update(&a, &b, a.edge), 0);
	assert_int_equal(nn_quic_test_key_update(a.tp, a.edge), NN_EAGAIN);
	frames(&a, &b, 50);
	frames(&b, &a, 50);
	/* then from the acceptor, once the first is confirmed (ngtcp2 waits ~3 PTO) */
	assert_int_equal(update(&b, &a, b.edge), 0);
	frames(&b, &a, 50);
	frames(&a, &b, 50);
	/* and the dialler again (keys two generations on) */
	assert_int_equal(update(&a, &b, a.edge), 0);
	frames(&a, &b, 50);
	frames(&b, &a, 50);
	assert_int_equal(a.n_closed + b.n_closed, 0);
	assert_int_equal(sa->conn_errors + sb->conn_errors, 0);
	assert_int_equal(sa->rx_dropped_conn + sb->rx_dropped_conn, 0);
	nn_tp_destroy(a.tp);
	nn_tp_destroy(b.tp);
}

static void test_media_without_tls(void **st)
{
	rec a, b;
	mk(&a);
	mk(&b);
	assert_int_equal(nn_tp_dial(a.tp, &b.tp->local_id, &b.addr, NULL), 0);
	assert_int_equal(wait_int(&a.n_conn, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b.n_conn, 1, 5 * NN_SEC), 0);
	static int token;
	assert_int_equal(nn_tp_dial_media(a.tp, a.edge, &token), 0);
	assert_int_equal(wait_int(&a.n_media, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b.n_media, 1, 5 * NN_SEC), 0);
	spin(20 * NN_MS);
	assert_false(nn_quic_test_has_tls(a.tp, a.media));
	assert_false(nn_quic_test_has_tls(b.tp, b.media));
	assert_int_equal(nn_quic_test_tls_live(a.tp) + nn_quic_test_tls_live(b.tp), 0);
	assert_int_equal(nn_quic_stats_of(a.tp)->tls_released, 2);
	assert_int_equal(nn_quic_stats_of(b.tp)->tls_released, 2);
	uint8_t d[600];
	memset(d, 0x5a, sizeof d);
	d[0] = 16;
	for (int i = 0; i < 20; i++) {
		assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, 200), 0);
		assert_int_equal(nn_tp_send_datagram(b.tp, b.media, d, 300), 0);
		spin(2 * NN_MS);
	}
	assert_int_equal(wait_u64(&b.rx_dgrams, 20, 5 * NN_SEC), 0);
	assert_int_equal(wait_u64(&a.rx_dgrams, 20, 5 * NN_SEC), 0);
	assert_int_equal(update(&b, NULL, b.media), 0);
	static uint8_t msg[40000];
	memset(msg, 0x33, sizeof msg);
	msg[0] = 17;
	assert_int_equal(nn_tp_send(a.tp, a.media, msg, sizeof msg), 0);
	assert_int_equal(nn_tp_send(b.tp, b.media, msg, 100), 0);
	assert_int_equal(wait_u64(&b.rx_msgs, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_u64(&a.rx_msgs, 1, 5 * NN_SEC), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(nn_tp_send_datagram(a.tp, a.media, d, 500), 0);
	assert_int_equal(wait_u64(&b.rx_dgrams, 30, 5 * NN_SEC), 0);
	assert_int_equal(a.n_closed + b.n_closed, 0);
	nn_tp_destroy(a.tp);
	nn_tp_destroy(b.tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_without_tls),
		cmocka_unit_test(test_media_without_tls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
