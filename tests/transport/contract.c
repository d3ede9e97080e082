/* contract.c — the transport contract suite (see contract.h): one source, every transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/transport/contract.h"
#include "identity/identity.h"
#include "wire/wire.h"

/* ---- checks ---- */

typedef struct ctx {
	const struct nn_contract_factory *f;
	void *env;
	int failures;
	const char *cas;
	uint64_t seed_ctr;
} ctx;

#define CHECK(x, cond)                                                                       \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			(x)->failures++;                                                     \
			fprintf(stderr, "contract[%s/%s] %s:%d: check failed: %s\n",        \
				(x)->f->name, (x)->cas, __FILE__, __LINE__, #cond);          \
		}                                                                            \
	} while (0)
#define REQUIRE(x, cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			CHECK(x, cond);                                                      \
			goto out;                                                            \
		}                                                                            \
	} while (0)

/* ---- one endpoint and what its sink saw ---- */

#define MAXC 8

typedef struct rec {
	ctx *x;
	nn_tp *tp;
	nn_addr addr;
	nn_conn *live[MAXC];
	int nlive;
	int n_conn, n_dial_failed, n_closed, n_writable;
	int dial_err;
	void *dial_user;
	int closed_err;
	uint64_t closed_reason;
	uint64_t closed_serial;
	/* frame checking: each frame carries seq; per-connection expected seq */
	uint64_t rx, rx_bad, next_seq[MAXC];
	nn_conn *seq_conn[MAXC];
	/* behaviours */
	bool echo;         /* send every frame straight back (re-entrant send) */
	bool take_first;   /* keep the first frame by taking ownership */
	nn_pkt *kept;
	nn_tp *fwd_tp;     /* forward every frame from its lent buffer */
	nn_conn *fwd_conn;
	uint64_t fwd_ok, fwd_fail;
	uint64_t media_rx, media_bad, dgram_rx; /* media sessions */
} rec;

static void pattern(uint8_t *p, size_t n, uint64_t seq)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((seq * 131u + i * 7u) ^ (i >> 8));
}

/* A wire frame of type NN_T_TEST and exactly `total` bytes (>= 11) carrying seq. */
static size_t build(uint8_t *buf, size_t total, uint64_t seq)
{
	size_t plen = 0;
	for (size_t k = 1; k <= 3; k++)
		if (total >= 2 + k + 8 && nn_uvarint_len(total - 2 - k) == k)
			plen = total - 2 - k;
	int h = nn_wire_header_put(buf, total, NN_T_TEST, plen);
	if (h < 0 || (size_t)h + plen != total)
		return 0;
	nn_wr w;
	nn_wr_init(&w, buf + h, plen);
	nn_wr_u64(&w, seq);
	pattern(buf + h + 8, plen - 8, seq);
	return total;
}

/* Returns the seq or UINT64_MAX if the frame is damaged. */
static uint64_t verify(const uint8_t *buf, size_t len)
{
	nn_frame fr;
	if (nn_wire_frame_decode_exact(buf, len, &fr) != 0 || fr.type != NN_T_TEST || fr.len < 8)
		return UINT64_MAX;
	nn_rd r;
	nn_rd_init(&r, fr.payload, fr.len);
	uint64_t seq = nn_rd_u64(&r);
	const uint8_t *p = fr.payload + 8;
	for (size_t i = 0; i < fr.len - 8; i++)
		if (p[i] != (uint8_t)((seq * 131u + i * 7u) ^ (i >> 8)))
			return UINT64_MAX;
	return seq;
}

static int slot_of(rec *r, nn_conn *c)
{
	for (int i = 0; i < MAXC; i++)
		if (r->seq_conn[i] == c)
			return i;
	for (int i = 0; i < MAXC; i++)
		if (!r->seq_conn[i]) {
			r->seq_conn[i] = c;
			r->next_seq[i] = 0;
			return i;
		}
	return 0;
}

static void s_conn(void *arg, nn_conn *c)
{
	rec *r = arg;
	r->n_conn++;
	if (r->nlive < MAXC)
		r->live[r->nlive++] = c;
}

static void s_dial_failed(void *arg, void *user, const nn_id *want, const nn_addr *addr, int err)
{
	rec *r = arg;
	r->n_dial_failed++;
	r->dial_err = err;
	r->dial_user = user;
}

static void s_frame(void *arg, nn_conn *c, nn_pkt **pkt)
{
	rec *r = arg;
	nn_pkt *k = *pkt;
	if (c->kind == NN_CONN_MEDIA) { /* media message: channel 16, payload 0, 1, 2, ... */
		r->media_rx++;
		for (uint32_t i = 1; i < k->len; i++)
			if (k->data[i] != (uint8_t)(i - 1))
				r->media_bad++;
		if (k->len < 1 || k->data[0] != 16)
			r->media_bad++;
		return;
	}
	uint64_t seq = verify(k->data, k->len);
	int s = slot_of(r, c);
	if (seq == UINT64_MAX || seq != r->next_seq[s])
		r->rx_bad++;
	else
		r->next_seq[s]++;
	r->rx++;
	if (r->echo) {
		int rc = nn_tp_send(r->tp, c, k->data, k->len);
		if (rc != 0)
			r->rx_bad++; /* the echo test keeps queues far from full */
	}
	if (r->fwd_conn) {
		if (nn_tp_send(r->fwd_tp, r->fwd_conn, k->data, k->len) == 0)
			r->fwd_ok++;
		else
			r->fwd_fail++;
	}
	if (r->take_first && !r->kept) {
		r->kept = k;
		*pkt = NULL; /* ownership taken */
	}
}

static void s_datagram(void *arg, nn_conn *c, nn_pkt **pkt)
{
	rec *r = arg;
	r->dgram_rx++;
	if (c->kind != NN_CONN_MEDIA || (*pkt)->len < 1 || (*pkt)->data[0] != 17)
		r->media_bad++;
	/* every datagram carries its receive timestamp: taken already, not in the future */
	if ((*pkt)->at <= 0 || (*pkt)->at > nn_clock_now(r->tp->clock))
		r->media_bad++;
}

static void s_writable(void *arg, nn_conn *c)
{
	rec *r = arg;
	r->n_writable++;
}

static void s_closed(void *arg, nn_conn *c, int err, uint64_t reason)
{
	rec *r = arg;
	r->n_closed++;
	r->closed_err = err;
	r->closed_reason = reason;
	r->closed_serial = c->serial;
	for (int i = 0; i < r->nlive; i++)
		if (r->live[i] == c) {
			r->live[i] = r->live[--r->nlive];
			break;
		}
	for (int i = 0; i < MAXC; i++)
		if (r->seq_conn[i] == c)
			r->seq_conn[i] = NULL;
	if (r->fwd_conn == c)
		r->fwd_conn = NULL;
}

static int make(ctx *x, rec *r)
{
	memset(r, 0, sizeof *r);
	r->x = x;
	uint8_t seed[32];
	uint64_t v = ++x->seed_ctr * 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(v >> (8 * (i % 8))) ^ (uint8_t)i;
	int rc = x->f->create(x->env, seed, &r->tp, &r->addr);
	if (rc != 0)
		return rc;
	nn_tp_sink s = {
		.ctx = r,
		.on_conn = s_conn,
		.on_dial_failed = s_dial_failed,
		.on_frame = s_frame,
		.on_datagram = s_datagram,
		.on_writable = s_writable,
		.on_closed = s_closed,
	};
	nn_tp_set_sink(r->tp, &s);
	return 0;
}

static void destroy(rec *r)
{
	if (r->kept) {
		nn_pkt_release(r->kept);
		r->kept = NULL;
	}
	nn_tp_destroy(r->tp);
	r->tp = NULL;
}

typedef struct waitfor {
	const int *a, *b;
	int va, vb;
	const uint64_t *u;
	uint64_t vu;
} waitfor;

static bool pred(void *arg)
{
	const waitfor *w = arg;
	return (!w->a || *w->a >= w->va) && (!w->b || *w->b >= w->vb) && (!w->u || *w->u >= w->vu);
}

static int wait_int(ctx *x, const int *a, int va, const int *b, int vb)
{
	waitfor w = {.a = a, .va = va, .b = b, .vb = vb};
	return x->f->run(x->env, pred, &w, x->f->step_timeout);
}

static int wait_u64(ctx *x, const uint64_t *u, uint64_t vu)
{
	waitfor w = {.u = u, .vu = vu};
	return x->f->run(x->env, pred, &w, x->f->step_timeout);
}

/* a dials b; returns 0 with the two ends in *ca / *cb. */
static int link_up(ctx *x, rec *a, rec *b, nn_conn **ca, nn_conn **cb)
{
	int na = a->n_conn, nb = b->n_conn;
	int rc = nn_tp_dial(a->tp, &b->tp->local_id, &b->addr, b);
	if (rc != 0)
		return rc;
	rc = wait_int(x, &a->n_conn, na + 1, &b->n_conn, nb + 1);
	if (rc != 0)
		return rc;
	*ca = a->live[a->nlive - 1];
	*cb = b->live[b->nlive - 1];
	return 0;
}

/* Send one frame, waiting out backpressure. */
static int send_wait(ctx *x, rec *a, nn_conn *c, const uint8_t *buf, size_t len)
{
	for (int tries = 0; tries < 1000; tries++) {
		int rc = nn_tp_send(a->tp, c, buf, len);
		if (rc != NN_EAGAIN)
			return rc;
		int w = a->n_writable;
		rc = wait_int(x, &a->n_writable, w + 1, NULL, 0);
		if (rc != 0)
			return rc;
	}
	return NN_EAGAIN;
}

static size_t frame_size(uint64_t seq)
{
	if (seq % 10 == 0)
		return NN_TP_MAX_FRAME;
	return 11 + (size_t)(seq * 977u % 3000u);
}

/* The peer key on a connection, if present, is the one its NodeID was derived from. */
static bool key_ok(const ctx *x, const nn_conn *c)
{
	static const uint8_t zero[32];
	if (!memcmp(c->remote_ed_pub, zero, 32))
		return !x->f->reports_keys;
	nn_id h;
	nn_identity_node_id(&h, c->remote_ed_pub);
	return nn_kad_id_eq(&h, &c->remote_id);
}

/* ---- cases ---- */

static void case_auth(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ca, *cb;
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	CHECK(x, nn_kad_id_eq(&ca->remote_id, &b->tp->local_id));
	CHECK(x, nn_kad_id_eq(&cb->remote_id, &a->tp->local_id));
	CHECK(x, key_ok(x, ca) && key_ok(x, cb));
	CHECK(x, ca->outbound && !cb->outbound);
	CHECK(x, ca->user == b); /* the dial's user pointer */
	CHECK(x, ca->tp == a->tp && cb->tp == b->tp);
	CHECK(x, ca->kind == NN_CONN_OVERLAY && cb->kind == NN_CONN_OVERLAY);
	CHECK(x, nn_addr_eq(&ca->remote_addr, &b->addr));
	CHECK(x, cb->remote_addr.net_len > 0);
	CHECK(x, a->tp->stats.conns_out == 1 && b->tp->stats.conns_in == 1);
	nn_addr la[4];
	CHECK(x, nn_tp_local_addrs(b->tp, la, 4) >= 1);
	CHECK(x, a->n_dial_failed == 0 && b->n_dial_failed == 0);
out:;
}

static void case_wrong_id(ctx *x, rec *a, rec *b, rec *c)
{
	/* dial b's address expecting c's NodeID */
	REQUIRE(x, nn_tp_dial(a->tp, &c->tp->local_id, &b->addr, c) == 0);
	REQUIRE(x, wait_int(x, &a->n_dial_failed, 1, NULL, 0) == 0);
	CHECK(x, a->dial_err == NN_EIDMISMATCH);
	CHECK(x, a->dial_user == c);
	CHECK(x, a->n_conn == 0);
	CHECK(x, a->tp->stats.dial_idmismatch == 1);
	/* the right NodeID at the same address still works */
	nn_conn *ca, *cb;
	CHECK(x, link_up(x, a, b, &ca, &cb) == 0);
out:;
}

static void case_order(ctx *x, rec *a, rec *b, rec *c)
{
	enum { N = 240 };
	nn_conn *ca, *cb;
	uint8_t *buf = malloc(NN_TP_MAX_FRAME);
	REQUIRE(x, buf);
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	uint64_t bytes = 0;
	for (uint64_t s = 0; s < N; s++) {
		size_t n = build(buf, frame_size(s), s);
		REQUIRE(x, n == frame_size(s));
		REQUIRE(x, send_wait(x, a, ca, buf, n) == 0);
		bytes += n;
		buf[n / 2] ^= 0xff; /* send copied: scribbling our buffer must not matter */
	}
	REQUIRE(x, wait_u64(x, &b->rx, N) == 0);
	CHECK(x, b->rx == N && b->rx_bad == 0);
	CHECK(x, ca->tx_frames == N && cb->rx_frames == N && cb->rx_bytes == bytes);
out:
	free(buf);
}

static void case_bidir(ctx *x, rec *a, rec *b, rec *c)
{
	enum { N = 60 };
	nn_conn *ca, *cb;
	uint8_t buf[2048];
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	/* the acceptor uses the dialled edge first */
	for (uint64_t s = 0; s < N; s++) {
		size_t n = build(buf, 11 + s * 13, s);
		REQUIRE(x, send_wait(x, b, cb, buf, n) == 0);
	}
	REQUIRE(x, wait_u64(x, &a->rx, N) == 0);
	CHECK(x, a->rx_bad == 0);
	/* and a echoes re-entrantly from inside on_frame while b sends more */
	a->echo = true;
	b->next_seq[slot_of(b, cb)] = N;
	for (uint64_t s = N; s < N + N / 2; s++) {
		size_t n = build(buf, 11 + s * 7, s);
		REQUIRE(x, send_wait(x, b, cb, buf, n) == 0);
	}
	REQUIRE(x, wait_u64(x, &b->rx, N / 2) == 0);
	REQUIRE(x, wait_u64(x, &a->rx, N + N / 2) == 0);
	CHECK(x, a->rx_bad == 0);
	/* b got the echoes of seq N.. intact and in order on the connection it accepted */
	CHECK(x, b->rx == N / 2 && b->rx_bad == 0);
out:;
}

static void case_backpressure(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ca, *cb;
	uint8_t buf[1024];
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	uint64_t accepted = 0;
	int rc = 0;
	uint32_t limit = 4 * x->f->max_queue + 16;
	for (uint32_t i = 0; i < limit; i++) {
		size_t n = build(buf, sizeof buf, accepted);
		rc = nn_tp_send(a->tp, ca, buf, n);
		if (rc != 0)
			break;
		accepted++;
	}
	CHECK(x, rc == NN_EAGAIN); /* never blocks, refuses instead */
	CHECK(x, accepted >= 1);
	CHECK(x, a->tp->stats.tx_eagain >= 1 && ca->tx_eagain >= 1);
	/* a refused send is retried after on_writable; nothing is lost or duplicated */
	REQUIRE(x, wait_int(x, &a->n_writable, 1, NULL, 0) == 0);
	size_t n = build(buf, sizeof buf, accepted);
	CHECK(x, nn_tp_send(a->tp, ca, buf, n) == 0);
	accepted++;
	REQUIRE(x, wait_u64(x, &b->rx, accepted) == 0);
	CHECK(x, b->rx == accepted && b->rx_bad == 0);
out:;
}

static void case_close(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ca, *cb;
	uint8_t buf[256];
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	for (uint64_t s = 0; s < 3; s++)
		CHECK(x, nn_tp_send(a->tp, ca, buf, build(buf, sizeof buf, s)) == 0);
	CHECK(x, nn_tp_close(a->tp, ca, 7) == 0);
	CHECK(x, a->n_closed == 0); /* asynchronous */
	CHECK(x, nn_tp_send(a->tp, ca, buf, build(buf, sizeof buf, 3)) == NN_ECLOSED);
	REQUIRE(x, wait_int(x, &a->n_closed, 1, &b->n_closed, 1) == 0);
	CHECK(x, a->closed_err == 0 && a->closed_reason == 7);
	CHECK(x, b->closed_err == NN_ECLOSED && b->closed_reason == 7);
	CHECK(x, b->rx == 3 && b->rx_bad == 0); /* frames sent before close() go out first */
	CHECK(x, a->nlive == 0 && b->nlive == 0);
	/* the other direction: the acceptor closes */
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	CHECK(x, nn_tp_close(b->tp, cb, 9) == 0);
	REQUIRE(x, wait_int(x, &a->n_closed, 2, &b->n_closed, 2) == 0);
	CHECK(x, a->closed_err == NN_ECLOSED && a->closed_reason == 9);
	CHECK(x, b->closed_err == 0);
	/* closing twice is harmless */
out:;
}

static void case_oversize(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ca, *cb;
	uint8_t *buf = calloc(1, NN_TP_MAX_FRAME + 1);
	REQUIRE(x, buf);
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	CHECK(x, nn_tp_send(a->tp, ca, buf, NN_TP_MAX_FRAME + 1) == NN_ETOOBIG);
	/* the implementation itself checks too, not only the inline wrapper */
	CHECK(x, a->tp->ops->send(a->tp, ca, buf, NN_TP_MAX_FRAME + 1) == NN_ETOOBIG);
	CHECK(x, nn_tp_send(a->tp, ca, buf, 0) == NN_EINVAL);
	CHECK(x, a->tp->stats.tx_toobig >= 2);
	/* the connection is unharmed: the largest legal frame goes through */
	size_t n = build(buf, NN_TP_MAX_FRAME, 0);
	CHECK(x, nn_tp_send(a->tp, ca, buf, n) == 0);
	REQUIRE(x, wait_u64(x, &b->rx, 1) == 0);
	CHECK(x, b->rx_bad == 0);
out:
	free(buf);
}

static void case_ownership(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ca, *cb;
	uint8_t buf[1500];
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	b->take_first = true;
	for (uint64_t s = 0; s < 20; s++)
		REQUIRE(x, send_wait(x, a, ca, buf, build(buf, sizeof buf - s, s)) == 0);
	REQUIRE(x, wait_u64(x, &b->rx, 20) == 0);
	REQUIRE(x, b->kept);
	/* the kept buffer was not recycled under us */
	CHECK(x, verify(b->kept->data, b->kept->len) == 0);
	CHECK(x, b->kept->len == sizeof buf);
	nn_pkt_release(b->kept);
	b->kept = NULL;
out:;
}

static void case_forward(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ab, *ba, *bc, *cb;
	uint8_t buf[4096];
	REQUIRE(x, link_up(x, a, b, &ab, &ba) == 0);
	REQUIRE(x, link_up(x, b, c, &bc, &cb) == 0);
	b->fwd_tp = b->tp;
	b->fwd_conn = bc;
	for (uint64_t s = 0; s < 30; s++) { /* paced: one hop's backpressure is not the point */
		REQUIRE(x, send_wait(x, a, ab, buf, build(buf, 100 + s * 100, s)) == 0);
		REQUIRE(x, wait_u64(x, &c->rx, s + 1) == 0);
	}
	CHECK(x, c->rx_bad == 0 && b->fwd_ok == 30 && b->fwd_fail == 0);
out:;
}

static void case_peer_gone(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ca, *cb;
	uint8_t buf[512];
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	for (uint64_t s = 0; s < 5; s++)
		CHECK(x, nn_tp_send(b->tp, cb, buf, build(buf, sizeof buf, s)) == 0);
	/* a pending dial and frames in flight when the endpoint goes away: nothing leaks */
	CHECK(x, nn_tp_dial(a->tp, &c->tp->local_id, &c->addr, NULL) == 0);
	destroy(a);
	REQUIRE(x, wait_int(x, &b->n_closed, 1, NULL, 0) == 0);
	CHECK(x, b->closed_err != 0);
	CHECK(x, b->nlive == 0);
out:;
}

static void case_leak(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ca, *cb;
	uint8_t buf[3000];
	for (int round = 0; round < 3; round++) {
		REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
		for (uint64_t s = 0; s < 10; s++)
			REQUIRE(x, send_wait(x, a, ca, buf, build(buf, 1000 + s * 200, s)) == 0);
		REQUIRE(x, wait_u64(x, &b->rx, 10 * (uint64_t)(round + 1)) == 0);
		CHECK(x, nn_tp_close(a->tp, ca, 0) == 0);
		REQUIRE(x, wait_int(x, &a->n_closed, round + 1, &b->n_closed, round + 1) == 0);
		memset(b->seq_conn, 0, sizeof b->seq_conn);
	}
	if (a->tp->pool && a->tp->pool == b->tp->pool) {
		CHECK(x, nn_pool_stats_of(a->tp->pool, NN_POOL_DGRAM)->in_use == 0);
		CHECK(x, nn_pool_stats_of(a->tp->pool, NN_POOL_FRAME)->in_use == 0);
	}
	CHECK(x, a->nlive == 0 && b->nlive == 0);
out:;
}

/* Optional capability: media sessions (skipped unless both ends announce NN_TP_CAP_MEDIA). */
static void case_media(ctx *x, rec *a, rec *b, rec *c)
{
	nn_conn *ca, *cb;
	uint8_t buf[2000];
	if (!(a->tp->caps & NN_TP_CAP_MEDIA) || !(b->tp->caps & NN_TP_CAP_MEDIA)) {
		if (!a->tp->ops->send_datagram) /* the wrapper refuses before touching the conn */
			CHECK(x, nn_tp_send_datagram(a->tp, NULL, buf, 1) == NN_EUNSUPPORTED);
		if (!a->tp->ops->dial_media)
			CHECK(x, nn_tp_dial_media(a->tp, NULL, NULL) == NN_EUNSUPPORTED);
		return;
	}
	REQUIRE(x, link_up(x, a, b, &ca, &cb) == 0);
	int na = a->n_conn, nb = b->n_conn;
	REQUIRE(x, nn_tp_dial_media(a->tp, ca, c) == 0);
	REQUIRE(x, wait_int(x, &a->n_conn, na + 1, &b->n_conn, nb + 1) == 0);
	nn_conn *ma = a->live[a->nlive - 1], *mb = b->live[b->nlive - 1];
	CHECK(x, ma->kind == NN_CONN_MEDIA && mb->kind == NN_CONN_MEDIA);
	CHECK(x, ma->outbound && !mb->outbound && ma->user == c);
	CHECK(x, nn_kad_id_eq(&ma->remote_id, &b->tp->local_id));
	CHECK(x, nn_kad_id_eq(&mb->remote_id, &a->tp->local_id));
	/* messages are reliable */
	buf[0] = 16;
	for (int i = 1; i < (int)sizeof buf; i++)
		buf[i] = (uint8_t)(i - 1);
	for (int i = 0; i < 5; i++)
		REQUIRE(x, send_wait(x, a, ma, buf, 200 + (size_t)i * 300) == 0);
	REQUIRE(x, wait_u64(x, &b->media_rx, 5) == 0);
	/* datagrams: up to channel + 1200 bytes, may be lost, never block */
	buf[0] = 17;
	CHECK(x, nn_tp_send_datagram(a->tp, ma, buf, NN_TP_MAX_DGRAM + 1) == NN_ETOOBIG);
	CHECK(x, nn_tp_send_datagram(a->tp, ca, buf, 10) != 0); /* not on an overlay edge */
	int sent = 0;
	for (int i = 0; i < 40; i++) {
		int rc = nn_tp_send_datagram(a->tp, ma, buf, i % 2 ? NN_TP_MAX_DGRAM : 100);
		CHECK(x, rc == 0 || rc == NN_EAGAIN);
		sent += rc == 0;
	}
	CHECK(x, sent > 0);
	REQUIRE(x, wait_u64(x, &b->dgram_rx, 1) == 0);
	CHECK(x, b->media_bad == 0 && b->rx_bad == 0);
	/* closing the session leaves the overlay edge up */
	int closed = b->n_closed;
	CHECK(x, nn_tp_close(a->tp, ma, 0) == 0);
	REQUIRE(x, wait_int(x, &b->n_closed, closed + 1, NULL, 0) == 0);
	CHECK(x, nn_tp_send(a->tp, ca, buf, build(buf, 100, 0)) == 0);
	REQUIRE(x, wait_u64(x, &b->rx, 1) == 0);
	CHECK(x, b->rx_bad == 0);
out:;
}

typedef void (*case_fn)(ctx *, rec *, rec *, rec *);

static const struct {
	const char *name;
	case_fn fn;
} cases[] = {
	{"authenticated-ids", case_auth},
	{"wrong-nodeid", case_wrong_id},
	{"frames-intact-in-order", case_order},
	{"bidirectional", case_bidir},
	{"backpressure", case_backpressure},
	{"close-seen-by-peer", case_close},
	{"oversize-rejected", case_oversize},
	{"take-ownership", case_ownership},
	{"forward-from-lent-buffer", case_forward},
	{"peer-destroyed", case_peer_gone},
	{"no-leak-after-close", case_leak},
	{"media-if-supported", case_media},
};

int nn_contract_run(const struct nn_contract_factory *f)
{
	ctx x = {.f = f};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rec r[3];
		int before = x.failures;
		x.cas = cases[i].name;
		if (f->setup(f->arg, 1000 + i, &x.env) != 0) {
			CHECK(&x, !"setup failed");
			continue;
		}
		int made = 0;
		for (; made < 3; made++)
			if (make(&x, &r[made]) != 0)
				break;
		if (made == 3)
			cases[i].fn(&x, &r[0], &r[1], &r[2]);
		else
			CHECK(&x, !"endpoint creation failed");
		for (int k = 0; k < made; k++)
			if (r[k].tp)
				destroy(&r[k]);
		f->teardown(x.env);
		printf("contract[%s] %-26s %s\n", f->name, cases[i].name,
		       x.failures == before ? "ok" : "FAILED");
	}
	fflush(stdout);
	return x.failures;
}
