/* test_mem.c — what the in-memory transport models: link profiles (latency, jitter, bandwidth,
 * bounded queue, loss, reordering, MTU), partitions, blackholes, missing capabilities, media
 * datagrams, punches, names and addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "transport/mem/mem.h"

typedef struct ep {
	nn_tp *tp;
	nn_conn *conn;
	int conns, dial_failed, dial_err, closed, closed_err;
	uint64_t frames, dgrams;
	nn_time first_at, last_at;
	uint8_t dg_first[256]; /* first byte of each datagram, in arrival order */
	uint64_t in_order;     /* frames whose first byte == expected counter */
} ep;

typedef struct env {
	nn_clock *clk;
	nn_pool pool;
	nn_mem_hub *hub;
	ep e[4];
} env;

static void s_conn(void *ctx, nn_conn *c)
{
	ep *e = ctx;
	e->conns++;
	e->conn = c;
}
static void s_fail(void *ctx, void *u, const nn_id *w, const nn_addr *a, int err)
{
	ep *e = ctx;
	e->dial_failed++;
	e->dial_err = err;
}
static void s_frame(void *ctx, nn_conn *c, nn_pkt **k)
{
	ep *e = ctx;
	nn_time now = nn_clock_now(c->tp->clock);
	if (!e->frames)
		e->first_at = now;
	e->last_at = now;
	if ((*k)->data[0] == (uint8_t)e->frames)
		e->in_order++;
	e->frames++;
}
static void s_dgram(void *ctx, nn_conn *c, nn_pkt **k)
{
	ep *e = ctx;
	if (e->dgrams < sizeof e->dg_first)
		e->dg_first[e->dgrams] = (*k)->data[0];
	e->dgrams++;
}
static void s_closed(void *ctx, nn_conn *c, int err, uint64_t reason)
{
	ep *e = ctx;
	e->closed++;
	e->closed_err = err;
	if (e->conn == c)
		e->conn = NULL;
}

static void setup(env *v, const nn_mem_link *l, const uint32_t caps[4])
{
	memset(v, 0, sizeof *v);
	v->clk = nn_vclock_new(5, 0, 0);
	nn_pool_init(&v->pool, NULL);
	v->hub = nn_mem_hub_new(v->clk, &v->pool, l);
	for (int i = 0; i < 4; i++) {
		char name[8];
		nn_id id;
		memset(&id, i + 1, sizeof id);
		snprintf(name, sizeof name, "n%d", i);
		assert_int_equal(nn_mem_endpoint_new(v->hub, name, &id, caps ? caps[i] : 0,
						     &v->e[i].tp), 0);
		nn_tp_sink s = {&v->e[i], s_conn, s_fail, s_frame, s_dgram, NULL, s_closed};
		nn_tp_set_sink(v->e[i].tp, &s);
	}
}

static void teardown(env *v)
{
	nn_mem_hub_free(v->hub);
	assert_int_equal(nn_pool_stats_of(&v->pool, NN_POOL_DGRAM)->in_use, 0);
	assert_int_equal(nn_pool_stats_of(&v->pool, NN_POOL_FRAME)->in_use, 0);
	nn_pool_fini(&v->pool);
	nn_clock_destroy(v->clk);
}

static nn_addr addr_of(env *v, int i)
{
	nn_addr a;
	nn_tp_local_addrs(v->e[i].tp, &a, 1);
	return a;
}

static int dial(env *v, int from, int to)
{
	nn_addr a = addr_of(v, to);
	int c0 = v->e[from].conns, f0 = v->e[from].dial_failed;
	int rc = nn_tp_dial(v->e[from].tp, &v->e[to].tp->local_id, &a, NULL);
	if (rc)
		return rc;
	nn_vclock_advance(v->clk, nn_clock_now(v->clk) + 10 * NN_SEC);
	if (v->e[from].conns > c0)
		return 0;
	return v->e[from].dial_failed > f0 ? v->e[from].dial_err : NN_ETIMEDOUT;
}

static void test_latency_and_dial_rtt(void **st)
{
	env v;
	nn_mem_link l = nn_mem_link_default();
	l.latency = 25 * NN_MS;
	setup(&v, &l, NULL);
	nn_addr a = addr_of(&v, 1);
	assert_string_equal(a.ep, "n1");
	assert_int_equal(nn_tp_dial(v.e[0].tp, &v.e[1].tp->local_id, &a, NULL), 0);
	nn_vclock_advance(v.clk, 49 * NN_MS);
	assert_int_equal(v.e[0].conns, 0); /* a dial takes one round trip */
	nn_vclock_advance(v.clk, 50 * NN_MS);
	assert_int_equal(v.e[0].conns, 1);
	assert_int_equal(v.e[1].conns, 1);
	/* observed address of the dialler on the accepting side */
	assert_string_equal(v.e[1].conn->remote_addr.ep, "n0");
	nn_time t0 = nn_clock_now(v.clk);
	uint8_t f[100] = {0};
	assert_int_equal(nn_tp_send(v.e[0].tp, v.e[0].conn, f, sizeof f), 0);
	nn_vclock_advance(v.clk, t0 + 1 * NN_SEC);
	assert_int_equal(v.e[1].frames, 1);
	assert_int_equal(v.e[1].first_at - t0, 25 * NN_MS);
	teardown(&v);
}

static void test_bandwidth_queue_and_order(void **st)
{
	env v;
	nn_mem_link l = nn_mem_link_default();
	l.latency = 10 * NN_MS;
	l.jitter = 8 * NN_MS;
	l.loss_ppm = 100000;
	l.bandwidth = 1000 * 1000; /* 1 MB/s */
	l.queue_frames = 20;
	setup(&v, &l, NULL);
	assert_int_equal(dial(&v, 0, 1), 0);
	uint8_t f[10000];
	nn_time t0 = nn_clock_now(v.clk);
	int sent = 0, rc = 0;
	while ((rc = nn_tp_send(v.e[0].tp, v.e[0].conn, (f[0] = (uint8_t)sent, f), sizeof f)) == 0)
		sent++;
	assert_int_equal(rc, NN_EAGAIN);
	assert_int_equal(sent, 20); /* exactly the queue bound */
	assert_int_equal(nn_tp_queued(v.e[0].tp, v.e[0].conn), 20);
	nn_vclock_advance(v.clk, t0 + 10 * NN_SEC);
	assert_int_equal(v.e[1].frames, 20);
	assert_int_equal(v.e[1].in_order, 20); /* jitter and loss never reorder a stream */
	/* 200 kB through 1 MB/s: the last frame leaves at 200 ms */
	assert_true(v.e[1].last_at - t0 >= 200 * NN_MS);
	assert_true(v.e[1].last_at - t0 <= 200 * NN_MS + 10 * NN_MS + 8 * NN_MS + 20 * NN_MS);
	assert_true(nn_mem_hub_stats_of(v.hub)->retransmits > 0);
	teardown(&v);
}

static void test_stream_order_under_jitter(void **st)
{
	env v;
	nn_mem_link l = nn_mem_link_default();
	l.latency = 10 * NN_MS;
	l.jitter = 50 * NN_MS; /* far larger than the send spacing: datagrams would reorder */
	l.loss_ppm = 100000;
	l.queue_frames = 1000;
	setup(&v, &l, NULL);
	assert_int_equal(dial(&v, 0, 1), 0);
	uint8_t f[64];
	for (int i = 0; i < 200; i++) {
		f[0] = (uint8_t)i;
		assert_int_equal(nn_tp_send(v.e[0].tp, v.e[0].conn, f, sizeof f), 0);
		nn_vclock_advance(v.clk, nn_clock_now(v.clk) + 1 * NN_MS);
	}
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + 10 * NN_SEC);
	assert_int_equal(v.e[1].frames, 200);
	assert_int_equal(v.e[1].in_order, 200);
	teardown(&v);
}

static void test_stalled_peer_is_dropped(void **st)
{
	env v;
	setup(&v, NULL, NULL);
	assert_int_equal(dial(&v, 0, 1), 0);
	assert_int_equal(dial(&v, 0, 2), 0);
	nn_conn *stuck = NULL;
	/* find 0's edge to 1 (its last on_conn was the edge to 2) */
	nn_conn *to2 = v.e[0].conn;
	nn_mem_link st_l = nn_mem_link_default();
	st_l.stall = true;
	assert_int_equal(nn_mem_link_set(v.hub, v.e[0].tp, v.e[1].tp, &st_l), 0);
	assert_int_equal(dial(&v, 0, 1), 0); /* a fresh edge on the stalled pair */
	stuck = v.e[0].conn;
	assert_ptr_not_equal(stuck, to2);
	uint8_t f[100] = {0};
	int rc, accepted = 0;
	while ((rc = nn_tp_send(v.e[0].tp, stuck, f, sizeof f)) == 0)
		accepted++;
	assert_int_equal(rc, NN_EAGAIN);
	assert_int_equal(accepted, 64);
	nn_time t0 = nn_clock_now(v.clk);
	/* refused sends within the deadline stay plain backpressure */
	nn_vclock_advance(v.clk, t0 + 4 * NN_SEC);
	assert_int_equal(nn_tp_send(v.e[0].tp, stuck, f, sizeof f), NN_EAGAIN);
	assert_int_equal(v.e[1].frames, 0);
	/* past it, the edge is dropped; the loop never waited on it */
	nn_vclock_advance(v.clk, t0 + 5 * NN_SEC);
	int closed0 = v.e[0].closed, closed1 = v.e[1].closed;
	assert_int_equal(nn_tp_send(v.e[0].tp, stuck, f, sizeof f), NN_ETIMEDOUT);
	assert_int_equal(nn_tp_send(v.e[0].tp, stuck, f, sizeof f), NN_ECLOSED);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[0].closed, closed0 + 1);
	assert_int_equal(v.e[0].closed_err, NN_ETIMEDOUT);
	assert_int_equal(v.e[1].closed, closed1 + 1);
	assert_int_equal(v.e[1].closed_err, NN_ECLOSED);
	assert_int_equal(nn_mem_hub_stats_of(v.hub)->stalled_closes, 1);
	/* other edges are unaffected */
	assert_int_equal(nn_tp_send(v.e[0].tp, to2, f, sizeof f), 0);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[2].frames, 1);
	teardown(&v);
}

static void test_slow_is_not_stalled(void **st)
{
	/* a full queue that keeps moving is backpressure, never a stall, however long it lasts,
	 * and an old refusal does not count against a later full spell */
	env v;
	nn_mem_link l = nn_mem_link_default();
	l.bandwidth = 1000; /* 1 kB/s: a 100-byte frame every 100 ms */
	l.queue_frames = 4;
	setup(&v, &l, NULL);
	assert_int_equal(dial(&v, 0, 1), 0);
	uint8_t f[100] = {0};
	int refused = 0;
	for (int step = 0; step < 200; step++) { /* 20 s of always-full queue */
		int rc;
		while ((rc = nn_tp_send(v.e[0].tp, v.e[0].conn, f, sizeof f)) == 0)
			;
		assert_int_equal(rc, NN_EAGAIN);
		refused++;
		nn_vclock_advance(v.clk, nn_clock_now(v.clk) + 100 * NN_MS);
	}
	/* idle for a long time, then full again: a fresh spell */
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + 60 * NN_SEC);
	int rc;
	while ((rc = nn_tp_send(v.e[0].tp, v.e[0].conn, f, sizeof f)) == 0)
		;
	assert_int_equal(rc, NN_EAGAIN);
	assert_int_equal(v.e[0].closed, 0);
	assert_int_equal(nn_mem_hub_stats_of(v.hub)->stalled_closes, 0);
	assert_true(v.e[1].frames > 150);
	teardown(&v);
}

static void test_pool_exhaustion_is_a_limit(void **st)
{
	/* the hub's buffer cap is not any one queue's backpressure: NN_ELIMIT, no on_writable wait */
	nn_clock *clk = nn_vclock_new(1, 0, 0);
	nn_pool pool;
	nn_pool_init(&pool, &(nn_pool_opts){.max = {3, 1}, .debug = -1});
	nn_mem_hub *hub = nn_mem_hub_new(clk, &pool, NULL);
	ep e[2] = {0};
	for (int i = 0; i < 2; i++) {
		nn_id id;
		memset(&id, i + 1, sizeof id);
		char name[4] = {'x', (char)('0' + i), 0};
		assert_int_equal(nn_mem_endpoint_new(hub, name, &id, 0, &e[i].tp), 0);
		nn_tp_sink s = {&e[i], s_conn, s_fail, s_frame, s_dgram, NULL, s_closed};
		nn_tp_set_sink(e[i].tp, &s);
	}
	nn_addr a;
	nn_tp_local_addrs(e[1].tp, &a, 1);
	assert_int_equal(nn_tp_dial(e[0].tp, &e[1].tp->local_id, &a, NULL), 0);
	nn_vclock_advance(clk, NN_SEC);
	uint8_t f[100] = {0};
	for (int i = 0; i < 3; i++)
		assert_int_equal(nn_tp_send(e[0].tp, e[0].conn, f, sizeof f), 0);
	assert_int_equal(nn_tp_send(e[0].tp, e[0].conn, f, sizeof f), NN_ELIMIT);
	assert_int_equal(e[0].tp->stats.tx_eagain, 0);
	nn_vclock_advance(clk, 2 * NN_SEC);
	assert_int_equal(e[1].frames, 3);
	assert_int_equal(nn_tp_send(e[0].tp, e[0].conn, f, sizeof f), 0); /* buffers came back */
	nn_mem_hub_free(hub);
	nn_pool_fini(&pool);
	nn_clock_destroy(clk);
}

static void test_partition_and_heal(void **st)
{
	env v;
	setup(&v, NULL, NULL);
	assert_int_equal(dial(&v, 0, 1), 0);
	nn_mem_partition(v.e[1].tp, 1);
	/* dials across fail, frames vanish (the sender cannot tell), the edge stays */
	assert_int_equal(dial(&v, 2, 1), NN_EUNREACH);
	uint8_t f[10] = {0};
	assert_int_equal(nn_tp_send(v.e[0].tp, v.e[0].conn, f, sizeof f), 0);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[1].frames, 0);
	assert_int_equal(v.e[0].tp->stats.tx_dropped, 1);
	assert_int_equal(v.e[1].closed, 0);
	nn_mem_heal(v.hub);
	assert_int_equal(nn_tp_send(v.e[0].tp, v.e[0].conn, f, sizeof f), 0);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[1].frames, 1);
	assert_int_equal(dial(&v, 2, 1), 0);
	/* one direction cut by a blackhole profile */
	nn_mem_link bh = nn_mem_link_default();
	bh.blackhole = true;
	assert_int_equal(nn_mem_link_set(v.hub, v.e[3].tp, v.e[1].tp, &bh), 0);
	assert_int_equal(dial(&v, 3, 1), NN_EUNREACH);
	assert_int_equal(dial(&v, 1, 2), 0); /* other pairs unaffected */
	teardown(&v);
}

static void test_dial_errors_and_names(void **st)
{
	env v;
	setup(&v, NULL, NULL);
	nn_addr a;
	nn_id id;
	memset(&id, 9, sizeof id);
	nn_addr_set(&a, "mem", "nobody");
	assert_int_equal(nn_tp_dial(v.e[0].tp, &id, &a, NULL), 0);
	nn_vclock_advance(v.clk, NN_SEC);
	assert_int_equal(v.e[0].dial_err, NN_EUNREACH);
	nn_addr_set(&a, "quic", "1.2.3.4:5");
	assert_int_equal(nn_tp_dial(v.e[0].tp, &id, &a, NULL), NN_EADDR);
	/* a wrong NodeID is a distinct error */
	a = addr_of(&v, 1);
	assert_int_equal(nn_tp_dial(v.e[0].tp, &id, &a, NULL), 0);
	nn_vclock_advance(v.clk, 2 * NN_SEC);
	assert_int_equal(v.e[0].dial_err, NN_EIDMISMATCH);
	assert_int_equal(v.e[1].conns, 0);
	nn_tp *dup;
	assert_int_equal(nn_mem_endpoint_new(v.hub, "n1", &id, 0, &dup), NN_EEXIST);
	assert_int_equal(nn_mem_endpoint_new(v.hub, "", &id, 0, &dup), NN_EINVAL);
	char longname[80];
	memset(longname, 'x', 64);
	longname[64] = 0;
	assert_int_equal(nn_mem_endpoint_new(v.hub, longname, &id, 0, &dup), NN_ETOOBIG);
	/* a name freed by destroy can be reused, lookups of the others still work */
	nn_tp_destroy(v.e[1].tp);
	v.e[1].tp = NULL;
	assert_int_equal(nn_mem_endpoint_new(v.hub, "n1", &id, 0, &dup), 0);
	assert_int_equal(dial(&v, 0, 2), 0);
	assert_int_equal(dial(&v, 3, 2), 0);
	teardown(&v);
}

static void test_capabilities(void **st)
{
	env v;
	const uint32_t caps[4] = {NN_TP_CAP_PUNCH | NN_TP_CAP_MEDIA, NN_TP_CAP_PUNCH, 0,
				  NN_TP_CAP_MEDIA};
	setup(&v, NULL, caps);
	nn_addr a1 = addr_of(&v, 1);
	/* punch: counted at the target, refused where unsupported */
	assert_int_equal(nn_tp_punch(v.e[0].tp, &a1), 0);
	assert_int_equal(v.e[1].tp->stats.punches_rx, 1);
	assert_int_equal(nn_tp_punch(v.e[2].tp, &a1), NN_EUNSUPPORTED);
	nn_tp_relay relay;
	assert_int_equal(nn_tp_relay_alloc(v.e[0].tp, &relay), NN_EUNSUPPORTED);
	/* media: to a peer without media support the session is refused, the edge survives */
	assert_int_equal(dial(&v, 0, 1), 0);
	nn_conn *edge = v.e[0].conn;
	assert_int_equal(nn_tp_dial_media(v.e[0].tp, edge, NULL), 0);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[0].dial_err, NN_EUNSUPPORTED);
	assert_int_equal(v.e[0].closed, 0);
	assert_int_equal(nn_tp_dial_media(v.e[1].tp, v.e[1].conn, NULL), NN_EUNSUPPORTED);
	/* media with a peer that has it */
	assert_int_equal(dial(&v, 0, 3), 0);
	assert_int_equal(nn_tp_dial_media(v.e[0].tp, v.e[0].conn, NULL), 0);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	nn_conn *m = v.e[0].conn;
	assert_int_equal(m->kind, NN_CONN_MEDIA);
	assert_int_equal(v.e[3].conn->kind, NN_CONN_MEDIA);
	uint8_t d[1300] = {42};
	assert_int_equal(nn_tp_send_datagram(v.e[0].tp, m, d, 1201), 0);
	assert_int_equal(nn_tp_send_datagram(v.e[0].tp, m, d, 1202), NN_ETOOBIG);
	assert_int_equal(nn_tp_send_datagram(v.e[0].tp, edge, d, 10), NN_EUNSUPPORTED);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[3].dgrams, 1);
	/* a media message rides the same connection as a frame */
	assert_int_equal(nn_tp_send(v.e[0].tp, m, d, 500), 0);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[3].frames, 1);
	teardown(&v);
}

static void test_datagram_loss_reorder_mtu(void **st)
{
	env v;
	const uint32_t caps[4] = {NN_TP_CAP_MEDIA, NN_TP_CAP_MEDIA, NN_TP_CAP_MEDIA, 0};
	nn_mem_link l = nn_mem_link_default();
	l.latency = 5 * NN_MS;
	l.loss_ppm = 200000;
	l.reorder_ppm = 200000;
	l.reorder_delay = 3 * NN_MS;
	l.mtu = 600;
	setup(&v, &l, caps);
	assert_int_equal(dial(&v, 0, 1), 0);
	assert_int_equal(nn_tp_dial_media(v.e[0].tp, v.e[0].conn, NULL), 0);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	nn_conn *m = v.e[0].conn;
	uint8_t d[700];
	assert_int_equal(nn_tp_send_datagram(v.e[0].tp, m, d, 601), NN_ETOOBIG); /* MTU */
	for (int i = 0; i < 200; i++) {
		d[0] = (uint8_t)i;
		assert_int_equal(nn_tp_send_datagram(v.e[0].tp, m, d, 100), 0);
		nn_vclock_advance(v.clk, nn_clock_now(v.clk) + 1 * NN_MS);
	}
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	uint64_t got = v.e[1].dgrams;
	assert_true(got > 100 && got < 190); /* ~20% lost */
	assert_int_equal(v.e[0].tp->stats.dgram_dropped, 200 - got);
	int inversions = 0;
	for (uint64_t i = 1; i < got; i++)
		inversions += v.e[1].dg_first[i] < v.e[1].dg_first[i - 1];
	assert_true(inversions > 5); /* reordering happened */
	teardown(&v);
}

static void test_close_and_destroy(void **st)
{
	env v;
	setup(&v, NULL, NULL);
	assert_int_equal(dial(&v, 0, 1), 0);
	nn_conn *c = v.e[0].conn;
	assert_int_equal(nn_tp_close(v.e[0].tp, c, 3), 0);
	assert_int_equal(nn_tp_close(v.e[0].tp, c, 3), NN_ECLOSED);
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[0].closed, 1);
	assert_int_equal(v.e[1].closed, 1);
	assert_int_equal(nn_mem_hub_stats_of(v.hub)->conns, 0);
	/* destroying an endpoint with live connections and pending dials */
	assert_int_equal(dial(&v, 2, 3), 0);
	nn_addr a = addr_of(&v, 0);
	assert_int_equal(nn_tp_dial(v.e[2].tp, &v.e[0].tp->local_id, &a, NULL), 0);
	nn_tp_destroy(v.e[2].tp);
	v.e[2].tp = NULL;
	nn_vclock_advance(v.clk, nn_clock_now(v.clk) + NN_SEC);
	assert_int_equal(v.e[3].closed, 1);
	assert_int_equal(v.e[3].closed_err, NN_ECLOSED);
	assert_int_equal(v.e[0].conns, 1); /* the dial died with its endpoint */
	teardown(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latency_and_dial_rtt),
		cmocka_unit_test(test_bandwidth_queue_and_order),
		cmocka_unit_test(test_stream_order_under_jitter),
		cmocka_unit_test(test_stalled_peer_is_dropped),
		cmocka_unit_test(test_slow_is_not_stalled),
		cmocka_unit_test(test_pool_exhaustion_is_a_limit),
		cmocka_unit_test(test_partition_and_heal),
		cmocka_unit_test(test_dial_errors_and_names),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_datagram_loss_reorder_mtu),
		cmocka_unit_test(test_close_and_destroy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
