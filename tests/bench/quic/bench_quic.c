/* bench_quic.c — the QUIC transport's figures, all printed by one run (figures, no asserts):
 *   - handshakes: p50/p99 latency of sequential dials and handshakes/s (sequential and 32 in
 *     parallel) on loopback;
 *   - bulk: frame throughput over one edge (64 KiB frames) in Gbit/s, next to raw UDP on the
 *     same machine (sendmmsg/recvmmsg of 1452-byte datagrams, and with UDP GSO);
 *   - memory per established connection (heap bytes from mallinfo2 plus wolfSSL's blocks outside
 *     malloc, nn_quic_test_wolf_bytes; both ends counted, divided per end) and allocations per
 *     connection;
 *   - allocations per frame in steady state (1 KiB frames, counted by the --wrap counter, which
 *     sees the static wolfSSL/ngtcp2 too);
 *   - media session (ALPN nodenet-media/1) over the same loopback pair: datagram throughput of
 *     one session (1,201-byte media frames, unpaced: the sender refills the 64-slot ring whenever
 *     the pump made room, so the rate is what congestion control, the socket and the one thread
 *     allow; printed with the loss it cost), and one-way latency p50/p99 of an audio-like flow
 *     (161-byte datagrams every 20 ms, paced by a timer on purpose: the figure is latency, not
 *     rate), alone and while 64 KiB messages saturate the same session (sent as fast as the 16
 *     message slots free up). One-way = the receiver's pkt->at minus the send time stamped in
 *     the payload; both ends share one monotonic clock.
 * Both endpoints share one libev loop on one thread, as do the raw-UDP sockets, so the
 * comparison is like for like. `--quick` cuts every count for the test suite's smoke run. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/quic/quic_factory.h"
#include "tests/support/bench.h"
#include "wire/wire.h"

typedef struct rec {
	nn_tp *tp;
	nn_conn *media;           /* latest media session (kept out of last/log/n_conn) */
	int n_media;
	uint64_t dg_rx, dg_bytes, msg_rx, msg_bytes;
	uint64_t *lat;            /* one-way latencies of stamped datagrams (ns) */
	size_t nlat, caplat;
	nn_addr addr;
	nn_conn *last;
	nn_conn *log[1024]; /* every reported conn, in order (wraps) */
	int n_conn, n_closed, n_writable;
	uint64_t rx, rx_bytes;
	uint64_t t_first, t_last; /* first and last frame arrival (ns) */
} rec;

static void s_conn(void *a, nn_conn *c)
{
	rec *r = a;
	if (c->kind == NN_CONN_MEDIA) {
		r->media = c;
		r->n_media++;
		return;
	}
	r->log[r->n_conn % 1024] = c;
	r->n_conn++;
	r->last = c;
}
static void s_dgram(void *a, nn_conn *c, nn_pkt **p)
{
	rec *r = a;
	r->dg_rx++;
	r->dg_bytes += (*p)->len;
	if ((*p)->len >= 9 && (*p)->data[0] == 17 && r->nlat < r->caplat) {
		uint64_t t;
		memcpy(&t, (*p)->data + 1, 8);
		r->lat[r->nlat++] = (uint64_t)(*p)->at - t;
	}
}
static void s_frame(void *a, nn_conn *c, nn_pkt **p)
{
	rec *r = a;
	if (c->kind == NN_CONN_MEDIA) {
		r->msg_rx++;
		r->msg_bytes += (*p)->len;
		return;
	}
	r->rx++;
	r->rx_bytes += (*p)->len;
	r->t_last = nn_bench_now_ns();
	if (!r->t_first)
		r->t_first = r->t_last;
}
static void s_closed(void *a, nn_conn *c, int err, uint64_t reason) { ((rec *)a)->n_closed++; }
static void s_writable(void *a, nn_conn *c) { ((rec *)a)->n_writable++; }

static nn_qenv *env;

static void mk_in(nn_qenv *e, rec *r, uint8_t seedb);
static void mk(rec *r, uint8_t seedb) { mk_in(env, r, seedb); }
static void mk_in(nn_qenv *e, rec *r, uint8_t seedb)
{
	memset(r, 0, sizeof *r);
	uint8_t seed[32] = {seedb};
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.max_inbound = 100000;
	c.max_inbound_per_ip = 100000;
	c.retry_rate = 1e9; /* measure the handshake itself; Retry adds one round trip */
	c.retry_burst = 1e9;
	c.send_queue_bytes = 4u << 20;
	if (nn_qenv_endpoint(e, seed, &c, &r->tp, &r->addr) != 0) {
		fprintf(stderr, "endpoint failed\n");
		exit(1);
	}
	nn_tp_sink s = {.ctx = r, .on_conn = s_conn, .on_frame = s_frame, .on_closed = s_closed,
			.on_writable = s_writable, .on_datagram = s_dgram};
	nn_tp_set_sink(r->tp, &s);
}

typedef struct wait {
	const int *a, *b;
	int va, vb;
	const uint64_t *u;
	uint64_t vu;
} wait;
static bool pred(void *arg)
{
	wait *w = arg;
	return (!w->a || *w->a >= w->va) && (!w->b || *w->b >= w->vb) && (!w->u || *w->u >= w->vu);
}
static int wait2(const int *a, int va, const int *b, int vb)
{
	wait w = {.a = a, .va = va, .b = b, .vb = vb};
	return nn_qenv_run(env, pred, &w, 10 * NN_SEC);
}
static int wait_u(const uint64_t *u, uint64_t v)
{
	wait w = {.u = u, .vu = v};
	return nn_qenv_run(env, pred, &w, 30 * NN_SEC);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void bench_handshakes(rec *cl, rec *sv, int n)
{
	uint64_t *lat = calloc((size_t)n, sizeof *lat);
	uint64_t sum = 0;
	for (int i = 0; i < n; i++) {
		uint64_t t0 = nn_bench_now_ns();
		nn_tp_dial(cl->tp, &sv->tp->local_id, &sv->addr, NULL);
		if (wait2(&cl->n_conn, cl->n_conn + 1, &sv->n_conn, sv->n_conn + 1) != 0) {
			printf("bench quic handshake: timed out\n");
			free(lat);
			return;
		}
		lat[i] = nn_bench_now_ns() - t0;
		sum += lat[i];
		int c0 = cl->n_closed, s0 = sv->n_closed;
		nn_tp_close(cl->tp, cl->last, 0);
		wait2(&cl->n_closed, c0 + 1, &sv->n_closed, s0 + 1);
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
	double p50 = lat[n / 2] / 1e6, p99 = lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e6;
	/* parallel batches of 32 (the default per-IP cap) */
	int batches = n / 32 > 0 ? n / 32 : 1;
	uint64_t t0 = nn_bench_now_ns();
	for (int b = 0; b < batches; b++) {
		int c0 = cl->n_conn, s0 = sv->n_conn;
		nn_conn *conns[32];
		for (int i = 0; i < 32; i++)
			nn_tp_dial(cl->tp, &sv->tp->local_id, &sv->addr, NULL);
		int got = 0;
		if (wait2(&cl->n_conn, c0 + 32, &sv->n_conn, s0 + 32) == 0)
			for (; got < 32; got++)
				conns[got] = cl->log[(c0 + got) % 1024];
		int cc = cl->n_closed, sc = sv->n_closed;
		for (int i = 0; i < got; i++)
			nn_tp_close(cl->tp, conns[i], 0);
		wait2(&cl->n_closed, cc + got, &sv->n_closed, sc + got);
	}
	double par_s = (nn_bench_now_ns() - t0) / 1e9;
	printf("bench quic handshake: %d sequential: p50 %.3f ms, p99 %.3f ms, %.0f handshakes/s; "
	       "32 in parallel: %.0f handshakes/s (incl. close)\n",
	       n, p50, p99, n / (sum / 1e9), batches * 32 / par_s);
	free(lat);
}

static void bench_memory(rec *cl, rec *sv, int k)
{
	uint8_t ping[8];
	int pn = nn_wire_frame_encode(ping, sizeof ping, NN_T_PING, NULL, 0);
	/* warm the pool and the loop's heap first */
	struct mallinfo2 m0 = mallinfo2();
	size_t w0 = nn_quic_test_wolf_bytes(); /* wolfSSL's blocks outside malloc (tls.c) */
	uint64_t a0 = nn_test_allocs();
	int c0 = cl->n_conn, s0 = sv->n_conn;
	uint64_t rx = sv->rx;
	nn_conn **cs = calloc((size_t)k, sizeof *cs);
	for (int i = 0; i < k; i++) {
		nn_tp_dial(cl->tp, &sv->tp->local_id, &sv->addr, NULL);
		wait2(&cl->n_conn, c0 + i + 1, &sv->n_conn, s0 + i + 1);
		cs[i] = cl->last;
		nn_tp_send(cl->tp, cs[i], ping, (size_t)pn);
	}
	if (wait_u(&sv->rx, rx + (uint64_t)k) != 0)
		fprintf(stderr, "memory: %llu of %d pings arrived; conns %d/%d\n",
			(unsigned long long)(sv->rx - rx), k, cl->n_conn, sv->n_conn);
	nn_qenv_run(env, NULL, NULL, 50 * NN_MS); /* let acks settle and queues drain */
	struct mallinfo2 m1 = mallinfo2();
	size_t w1 = nn_quic_test_wolf_bytes();
	uint64_t a1 = nn_test_allocs();
	double per_end = ((double)m1.uordblks - (double)m0.uordblks + (double)w1 - (double)w0) /
			 (2.0 * k);
	printf("bench quic memory: %.0f bytes per established connection end (%d connections, "
	       "both ends in-process; ngtcp2 + wolfSSL + ours), %.1f allocations per end\n",
	       per_end, k, (double)(a1 - a0) / (2.0 * k));
	int cc = cl->n_closed, sc = sv->n_closed;
	for (int i = 0; i < k; i++)
		nn_tp_close(cl->tp, cs[i], 0);
	wait2(&cl->n_closed, cc + k, &sv->n_closed, sc + k);
	free(cs);
}

/* CPU seconds (user + system) this process used so far: on a shared machine the fair figure
 * is bytes per CPU-second, printed next to the wall-clock rate. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
static double last_cpu; /* CPU seconds of the last pump / raw_udp call */

static uint8_t big[NN_TP_MAX_FRAME], payload[NN_TP_MAX_FRAME];

/* Send frames of `size` bytes for `secs` seconds; returns receiver bytes/s. */
static double pump(rec *cl, rec *sv, nn_conn *c, size_t size, double secs, uint64_t *frames)
{
	size_t plen = size - 2 - nn_uvarint_len(size);
	if (2 + nn_uvarint_len(plen) + plen != size)
		plen++;
	int n = nn_wire_frame_encode(big, sizeof big, NN_T_TEST, payload, plen);
	uint64_t b0 = sv->rx_bytes, f0 = sv->rx, sent = 0;
	double c0 = cpu_s();
	uint64_t t0 = nn_bench_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
	while (nn_bench_now_ns() < end) {
		int rc;
		while ((rc = nn_tp_send(cl->tp, c, big, (size_t)n)) == 0)
			sent++;
		if (rc != NN_EAGAIN)
			break;
		wait w = {.a = &cl->n_writable, .va = cl->n_writable + 1};
		nn_qenv_run(env, pred, &w, 100 * NN_MS);
	}
	if (wait_u(&sv->rx, f0 + sent) != 0)
		fprintf(stderr, "pump: only %llu of %llu frames arrived (queued %zu, cl eagain %llu)\n",
			(unsigned long long)(sv->rx - f0), (unsigned long long)sent,
			nn_tp_queued(cl->tp, c), (unsigned long long)c->tx_eagain);
	double dt = (nn_bench_now_ns() - t0) / 1e9;
	last_cpu = cpu_s() - c0;
	if (frames)
		*frames = sv->rx - f0;
	return (double)(sv->rx_bytes - b0) / dt;
}

static double raw_udp(double secs, bool gso)
{
	int a = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int big_buf = 4 << 20;
	setsockopt(b, SOL_SOCKET, SO_RCVBUF, &big_buf, sizeof big_buf);
	setsockopt(a, SOL_SOCKET, SO_SNDBUF, &big_buf, sizeof big_buf);
	bind(b, (struct sockaddr *)&sa, sizeof sa);
	socklen_t sl = sizeof sa;
	getsockname(b, (struct sockaddr *)&sa, &sl);
	enum { B = 32, SZ = 1452 };
	static uint8_t sbuf[B][SZ], rbuf[B][2048], gbuf[40 * SZ];
	struct mmsghdr sm[B], rm[B];
	struct iovec si[B], ri[B];
	for (int i = 0; i < B; i++) {
		si[i] = (struct iovec){sbuf[i], SZ};
		ri[i] = (struct iovec){rbuf[i], sizeof rbuf[i]};
		memset(&sm[i], 0, sizeof sm[i]);
		sm[i].msg_hdr = (struct msghdr){.msg_name = &sa, .msg_namelen = sizeof sa,
						.msg_iov = &si[i], .msg_iovlen = 1};
	}
	uint64_t bytes = 0, t0 = nn_bench_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
	double c0 = cpu_s();
	while (nn_bench_now_ns() < end) {
		if (gso) {
			char ctl[CMSG_SPACE(sizeof(uint16_t))];
			struct iovec iov = {gbuf, sizeof gbuf};
			struct msghdr mh = {.msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &iov,
					    .msg_iovlen = 1, .msg_control = ctl,
					    .msg_controllen = sizeof ctl};
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t seg = SZ;
			memcpy(CMSG_DATA(cm), &seg, sizeof seg);
			if (sendmsg(a, &mh, 0) < 0 && errno != EAGAIN)
				return -1;
		} else {
			sendmmsg(a, sm, B, 0);
		}
		for (;;) {
			for (int i = 0; i < B; i++)
				rm[i].msg_hdr = (struct msghdr){.msg_iov = &ri[i], .msg_iovlen = 1};
			int n = recvmmsg(b, rm, B, MSG_DONTWAIT, NULL);
			if (n <= 0)
				break;
			for (int i = 0; i < n; i++)
				bytes += rm[i].msg_len;
		}
	}
	close(a);
	close(b);
	last_cpu = cpu_s() - c0;
	return (double)bytes / ((nn_bench_now_ns() - t0) / 1e9);
}

/* ---- two threads: the receiving endpoint runs its own loop on a second thread, like the
 * separate client and server processes of ngtcp2's examples ---- */
typedef struct srv_thread {
	nn_qenv *env;
	atomic_bool stop;
} srv_thread;

static bool stop_pred(void *arg) { return atomic_load(&((srv_thread *)arg)->stop); }

static void *srv_main(void *arg)
{
	srv_thread *t = arg;
	while (!atomic_load(&t->stop))
		nn_qenv_run(t->env, stop_pred, t, 50 * NN_MS);
	return NULL;
}

static void bench_two_threads(double secs)
{
	srv_thread t = {0};
	if (nn_qenv_setup(NULL, 2, (void **)&t.env) != 0)
		return;
	rec cl, sv;
	mk(&cl, 3);
	mk_in(t.env, &sv, 4);
	pthread_t th;
	pthread_create(&th, NULL, srv_main, &t);
	nn_tp_dial(cl.tp, &sv.tp->local_id, &sv.addr, NULL);
	if (wait2(&cl.n_conn, 1, NULL, 0) == 0) {
		nn_conn *c = cl.last;
		int n = nn_wire_frame_encode(big, sizeof big, NN_T_TEST, payload, NN_TP_MAX_FRAME - 5);
		uint64_t end = nn_bench_now_ns() + (uint64_t)(secs * 1e9);
		double c0 = cpu_s();
		while (nn_bench_now_ns() < end) {
			int rc;
			while ((rc = nn_tp_send(cl.tp, c, big, (size_t)n)) == 0)
				;
			if (rc != NN_EAGAIN)
				break;
			wait w = {.a = &cl.n_writable, .va = cl.n_writable + 1};
			nn_qenv_run(env, pred, &w, 100 * NN_MS);
		}
		nn_qenv_run(env, NULL, NULL, 200 * NN_MS); /* let the tail arrive */
		atomic_store(&t.stop, true);
		pthread_join(th, NULL);
		double cpu = cpu_s() - c0;
		double dt = (sv.t_last - sv.t_first) / 1e9;
		double r = dt > 0 ? sv.rx_bytes / dt : 0;
		printf("bench quic bulk, two threads (sender loop + receiver loop, like ngtcp2's example "
		       "client/server): %.2f Gbit/s wall, %.1f CPU-seconds per wall-second\n",
		       r * 8 / 1e9, cpu / (secs + 0.2));
	} else {
		atomic_store(&t.stop, true);
		pthread_join(th, NULL);
		printf("bench quic bulk, two threads: dial timed out\n");
	}
	nn_tp_destroy(cl.tp);
	nn_tp_destroy(sv.tp);
	nn_qenv_teardown(t.env);
}

/* ---- media session ---- */

static bool queued_low(void *arg)
{
	rec *r = arg;
	return !r->media || nn_tp_queued(r->tp, r->media) <= 16;
}

/* Unpaced 1,201-byte datagrams for secs: receiver bytes/s (and loss, CPU) */
static double media_dgram_tput(rec *cl, rec *sv, double secs, double *loss, double *cpu)
{
	static uint8_t d[NN_TP_MAX_DGRAM];
	memset(d, 0x33, sizeof d);
	d[0] = 16;
	uint64_t b0 = sv->dg_bytes, r0 = sv->dg_rx, sent = 0;
	double c0 = cpu_s();
	uint64_t t0 = nn_bench_now_ns(), end = t0 + (uint64_t)(secs * 1e9);
	while (nn_bench_now_ns() < end) {
		while (nn_tp_send_datagram(cl->tp, cl->media, d, sizeof d) == 0)
			sent++;
		nn_qenv_run(env, queued_low, cl, 10 * NN_MS);
	}
	nn_qenv_run(env, NULL, NULL, 100 * NN_MS); /* the tail */
	double dt = (nn_bench_now_ns() - t0) / 1e9;
	*cpu = cpu_s() - c0;
	*loss = sent ? 1.0 - (double)(sv->dg_rx - r0) / (double)sent : 0;
	return (double)(sv->dg_bytes - b0) / dt;
}

typedef struct audio {
	rec *cl;
	nn_timer t;
	uint64_t sent;
	bool on;
} audio;

static void audio_tick(nn_timer *t, void *arg)
{
	audio *a = arg;
	if (!a->on || !a->cl->media)
		return;
	uint8_t d[161];
	memset(d, 0x44, sizeof d);
	d[0] = 17; /* stamped */
	uint64_t now = nn_bench_now_ns();
	memcpy(d + 1, &now, 8);
	if (nn_tp_send_datagram(a->cl->tp, a->cl->media, d, sizeof d) == 0)
		a->sent++;
	nn_timer_start_in(env->clk, &a->t, 20 * NN_MS);
}

static void lat_print(const char *what, rec *sv, uint64_t sent, const char *extra)
{
	size_t n = sv->nlat;
	if (!n) {
		printf("bench quic media latency %s: no samples\n", what);
		return;
	}
	qsort(sv->lat, n, sizeof *sv->lat, cmp_u64);
	size_t i99 = (n * 99) / 100 < n ? (n * 99) / 100 : n - 1;
	printf("bench quic media latency %s: one-way p50 %.3f ms, p99 %.3f ms, max %.3f ms "
	       "(%zu of %llu audio datagrams, 50/s%s)\n",
	       what, sv->lat[n / 2] / 1e6, sv->lat[i99] / 1e6, sv->lat[n - 1] / 1e6, n,
	       (unsigned long long)sent, extra);
}

static void bench_media(rec *cl, rec *sv, nn_conn *edge, double secs, double lat_secs)
{
	int m0 = cl->n_media, s0 = sv->n_media;
	if (nn_tp_dial_media(cl->tp, edge, NULL) != 0 ||
	    wait2(&cl->n_media, m0 + 1, &sv->n_media, s0 + 1) != 0) {
		printf("bench quic media: session did not open\n");
		return;
	}
	nn_qenv_run(env, NULL, NULL, 300 * NN_MS); /* PMTUD lifts the path over 1,200 bytes */
	double loss, cpu;
	media_dgram_tput(cl, sv, secs / 5, &loss, &cpu); /* warm the pool */
	uint64_t a0 = nn_test_allocs(), d0 = sv->dg_rx;
	double r = media_dgram_tput(cl, sv, secs, &loss, &cpu);
	uint64_t a1 = nn_test_allocs(), nd = sv->dg_rx - d0;
	printf("bench quic media datagrams: %.3f Gbit/s wall, %.3f Gbit/s per CPU-second, one "
	       "session, 1,201-byte media frames, unpaced (ring refilled as the pump drains it), "
	       "%.2f%% lost, %.4f allocations per datagram (both ends, ngtcp2 + wolfSSL included)\n",
	       r * 8 / 1e9, cpu > 0 ? r * secs / cpu * 8 / 1e9 : 0, loss * 100,
	       nd ? (double)(a1 - a0) / (double)nd : 0.0);
	/* audio alone */
	sv->caplat = (size_t)(lat_secs * 50) + 64;
	sv->lat = calloc(sv->caplat, sizeof *sv->lat);
	audio a = {.cl = cl, .on = true};
	nn_timer_init(&a.t, audio_tick, &a);
	nn_timer_start_in(env->clk, &a.t, 20 * NN_MS);
	nn_qenv_run(env, NULL, NULL, (nn_time)(lat_secs * 1e9));
	nn_qenv_run(env, NULL, NULL, 100 * NN_MS);
	lat_print("alone", sv, a.sent, "");
	/* audio while 64 KiB messages saturate the session */
	sv->nlat = 0;
	a.sent = 0;
	static uint8_t m[NN_TP_MAX_MEDIA_MSG];
	memset(m, 0x55, sizeof m);
	m[0] = 18;
	uint64_t mb0 = sv->msg_bytes, mr0 = sv->msg_rx;
	double c0 = cpu_s();
	uint64_t t0 = nn_bench_now_ns(), end = t0 + (uint64_t)(lat_secs * 1e9);
	while (nn_bench_now_ns() < end) {
		while (nn_tp_send(cl->tp, cl->media, m, sizeof m) == 0)
			;
		wait w = {.a = &cl->n_writable, .va = cl->n_writable + 1};
		nn_qenv_run(env, pred, &w, 20 * NN_MS);
	}
	double mdt = (nn_bench_now_ns() - t0) / 1e9, mcpu = cpu_s() - c0;
	a.on = false;
	nn_timer_stop(env->clk, &a.t);
	nn_qenv_run(env, NULL, NULL, 1500 * NN_MS); /* the tail (and stalled-message resets) */
	char extra[160];
	double mr = (double)(sv->msg_bytes - mb0) / mdt;
	snprintf(extra, sizeof extra, "; bulk: %llu messages of 64 KiB, %.3f Gbit/s, %.2f "
		 "Gbit/s per CPU-second", (unsigned long long)(sv->msg_rx - mr0), mr * 8 / 1e9,
		 mcpu > 0 ? mr * mdt / mcpu * 8 / 1e9 : 0);
	lat_print("under bulk", sv, a.sent, extra);
	const nn_quic_stats *s = nn_quic_stats_of(cl->tp);
	printf("bench quic media sender: %llu messages written, %llu reset on the 1 s write "
	       "deadline, %llu datagrams dropped by the pump, %llu refused (ring full)\n",
	       (unsigned long long)s->media_msg_tx, (unsigned long long)s->media_msg_tx_stalled,
	       (unsigned long long)s->media_dgram_send_failed,
	       (unsigned long long)s->media_dgram_ring_full);
	free(sv->lat);
	sv->lat = NULL;
	sv->caplat = sv->nlat = 0;
	nn_tp_close(cl->tp, cl->media, 0);
	nn_qenv_run(env, NULL, NULL, 50 * NN_MS);
}

int main(int argc, char **argv)
{
	bool quick = nn_bench_quick(argc, argv);
	if (nn_qenv_setup(NULL, 1, (void **)&env) != 0)
		return 1;
	rec cl, sv;
	mk(&sv, 1);
	mk(&cl, 2);

	bool bulk_only = argc > 1 && !strcmp(argv[argc - 1], "--bulk"); /* profiling aid */
	if (!bulk_only) {
		bench_handshakes(&cl, &sv, quick ? 10 : 300);
		bench_memory(&cl, &sv, quick ? 8 : 200);
	}

	/* one edge for bulk and steady state */
	nn_tp_dial(cl.tp, &sv.tp->local_id, &sv.addr, NULL);
	wait2(&cl.n_conn, cl.n_conn + 1, &sv.n_conn, sv.n_conn + 1);
	nn_conn *c = cl.last;
	double secs = quick ? 0.3 : 3.0;
	uint64_t frames = 0;
	double q = pump(&cl, &sv, c, NN_TP_MAX_FRAME, secs, &frames);
	double qc = q * secs / last_cpu;
	double u = raw_udp(secs, false), uc = u * secs / last_cpu;
	double g = raw_udp(secs, true), gc = g * secs / last_cpu;
	printf("bench quic bulk: %.2f Gbit/s wall, %.2f Gbit/s per CPU-second, over one edge (64 KiB "
	       "frames, %llu frames, sender and receiver on one thread)\n",
	       q * 8 / 1e9, qc * 8 / 1e9, (unsigned long long)frames);
	printf("bench quic raw UDP same machine: %.2f Gbit/s wall, %.2f per CPU-second (1452 B "
	       "sendmmsg/recvmmsg); %.2f wall, %.2f per CPU-second (GSO send); QUIC/raw = %.2f "
	       "(per CPU-second, vs sendmmsg)\n",
	       u * 8 / 1e9, uc * 8 / 1e9, g * 8 / 1e9, gc * 8 / 1e9, uc > 0 ? qc / uc : 0);

	bench_media(&cl, &sv, c, secs, quick ? 0.5 : 10.0);

	bench_two_threads(secs);

	/* steady state: 1 KiB frames, warmed up, allocations counted over the whole path */
	pump(&cl, &sv, c, 1024, quick ? 0.1 : 0.5, NULL);
	uint64_t a0 = nn_test_allocs();
	pump(&cl, &sv, c, 1024, quick ? 0.2 : 1.0, &frames);
	uint64_t a1 = nn_test_allocs();
	printf("bench quic steady state: %.4f allocations per frame (1 KiB frames, %llu frames, "
	       "sender + receiver + ngtcp2 + wolfSSL)\n",
	       frames ? (double)(a1 - a0) / (double)frames : 0.0, (unsigned long long)frames);
	const nn_quic_stats *s = nn_quic_stats_of(cl.tp);
	printf("bench quic sender: %llu datagrams in %llu send syscalls (%.1f per call)\n",
	       (unsigned long long)s->tx_datagrams, (unsigned long long)s->tx_syscalls,
	       s->tx_syscalls ? (double)s->tx_datagrams / (double)s->tx_syscalls : 0);
	s = nn_quic_stats_of(sv.tp);
	printf("bench quic receiver: %llu datagrams in %llu receive syscalls (%.1f per call)\n",
	       (unsigned long long)s->rx_datagrams, (unsigned long long)s->rx_syscalls,
	       s->rx_syscalls ? (double)s->rx_datagrams / (double)s->rx_syscalls : 0);
	nn_tp_destroy(cl.tp);
	nn_tp_destroy(sv.tp);
	nn_qenv_teardown(env);
	return 0;
}
