/* test_badinput.c — the QUIC transport under bad input over loopback: each case checks the
 * outcome and its counter, and that the endpoint keeps working afterwards. Cases: garbage,
 * truncated and oversized datagrams, punches (sent, received, refused targets), wrong ALPN, no
 * client certificate, certificates without / with malformed / critical / foreign-signed
 * extensions (both directions), a dial reaching the wrong NodeID, half-open handshake floods
 * (global and per-IP caps), Retry, a frame length over the limit, a peer opening 1,000 streams,
 * first-frame, handshake and idle timeouts, and a send queue stuck past its deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/quic/quic_factory.h"
#include "tests/support/testutil.h"
#include "wire/wire.h"

typedef struct rec {
	nn_tp *tp;
	nn_addr addr;
	nn_conn *live[64];
	int nlive, n_conn, n_failed, n_closed;
	int dial_err, closed_err;
	uint64_t closed_reason, rx;
} rec;

static void s_conn(void *a, nn_conn *c)
{
	rec *r = a;
	r->n_conn++;
	if (r->nlive < 64)
		r->live[r->nlive++] = c;
}
static void s_failed(void *a, void *u, const nn_id *w, const nn_addr *ad, int err)
{
	rec *r = a;
	r->n_failed++;
	r->dial_err = err;
}
static void s_frame(void *a, nn_conn *c, nn_pkt **p)
{
	((rec *)a)->rx++;
}
static void s_closed(void *a, nn_conn *c, int err, uint64_t reason)
{
	rec *r = a;
	r->n_closed++;
	r->closed_err = err;
	r->closed_reason = reason;
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
	assert_int_equal(nn_qenv_endpoint(env, seed, &c, &r->tp, &r->addr), 0);
	nn_tp_sink s = {.ctx = r, .on_conn = s_conn, .on_dial_failed = s_failed,
			.on_frame = s_frame, .on_closed = s_closed};
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

static int setup(void **st)
{
	return nn_qenv_setup(NULL, 1, (void **)&env);
}
static int teardown(void **st)
{
	nn_qenv_teardown(env);
	return 0;
}

/* a dials b and both see the connection */
static void link_ok(rec *a, rec *b, nn_conn **ca, nn_conn **cb)
{
	int na = a->n_conn, nb = b->n_conn;
	assert_int_equal(nn_tp_dial(a->tp, &b->tp->local_id, &b->addr, NULL), 0);
	assert_int_equal(wait_int(&a->n_conn, na + 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b->n_conn, nb + 1, 5 * NN_SEC), 0);
	if (ca)
		*ca = a->live[a->nlive - 1];
	if (cb)
		*cb = b->live[b->nlive - 1];
}

static void frame_roundtrip(rec *a, nn_conn *ca, rec *b)
{
	uint8_t buf[64];
	int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_PING, NULL, 0);
	uint64_t rx = b->rx;
	assert_int_equal(nn_tp_send(a->tp, ca, buf, (size_t)n), 0);
	assert_int_equal(wait_u64(&b->rx, rx + 1, 5 * NN_SEC), 0);
}

/* A plain UDP socket on loopback, for raw datagrams. */
static int raw_sock(struct sockaddr_in *to, const nn_addr *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(nn_addr_to_sockaddr(a, &ss, &len), 0);
	memcpy(to, &ss, sizeof *to);
	return fd;
}

static void test_garbage(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	struct sockaddr_in to;
	int fd = raw_sock(&to, &b.addr);
	nn_test_rng r = {99};
	uint8_t buf[4000];
	const nn_quic_stats *s = nn_quic_stats_of(b.tp);
	/* random bytes of every length class, fixed bit set and clear */
	for (int i = 0; i < 300; i++) {
		size_t n = 1 + nn_test_rng_next(&r) % 1400;
		nn_test_rng_fill(&r, buf, n);
		if (i % 3 == 0)
			buf[0] |= 0xc0; /* long header */
		sendto(fd, buf, n, 0, (struct sockaddr *)&to, sizeof to);
	}
	/* a truncated Initial: long header, v1, but < 1200 bytes */
	memset(buf, 0, sizeof buf);
	buf[0] = 0xc0;
	buf[4] = 1;
	buf[5] = 8;
	sendto(fd, buf, 600, 0, (struct sockaddr *)&to, sizeof to);
	/* an oversized datagram (bigger than any packet we accept) */
	sendto(fd, buf, 3000, 0, (struct sockaddr *)&to, sizeof to);
	/* a short-header packet for no connection */
	buf[0] = 0x40;
	sendto(fd, buf, 100, 0, (struct sockaddr *)&to, sizeof to);
	/* empty datagram */
	sendto(fd, buf, 0, 0, (struct sockaddr *)&to, sizeof to);
	/* another QUIC version */
	buf[0] = 0xc0;
	buf[1] = 0x1a;
	buf[4] = 0x2a;
	sendto(fd, buf, 1200, 0, (struct sockaddr *)&to, sizeof to);
	assert_int_equal(wait_u64(&s->rx_datagrams, 305, 5 * NN_SEC), 0);
	/* the other version got a Version Negotiation listing v1; short-header packets for no
	 * connection got Stateless Resets shorter than themselves */
	assert_true(s->tx_version_neg >= 1); /* random long headers of other versions count too */
	assert_true(s->tx_stateless_reset >= 1);
	uint8_t rb[2048];
	int vn = 0, resets = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (poll(&p, 1, 200) == 1) {
		ssize_t k = recv(fd, rb, sizeof rb, 0);
		if (k >= 7 && (rb[0] & 0x80) && !rb[1] && !rb[2] && !rb[3] && !rb[4])
			vn++;
		else if (k >= 22 && !(rb[0] & 0x80) && (rb[0] & 0x40))
			resets++;
	}
	assert_int_equal((uint64_t)vn, s->tx_version_neg);
	assert_true(resets >= 1);
	close(fd);
	assert_true(s->rx_garbage >= 2);
	assert_true(s->rx_non_quic >= 1);
	assert_true(s->rx_unknown_cid >= 1);
	assert_true(s->rx_version_neg >= 1);
	assert_int_equal(b.n_conn, 0);
	/* still serves */
	nn_conn *ca, *cb;
	link_ok(&a, &b, &ca, &cb);
	frame_roundtrip(&a, ca, &b);
	/* both ends expose the peer's identity key, and it hashes to the peer's NodeID */
	nn_id h;
	nn_identity_node_id(&h, ca->remote_ed_pub);
	assert_true(nn_kad_id_eq(&h, &b.tp->local_id));
	nn_identity_node_id(&h, cb->remote_ed_pub);
	assert_true(nn_kad_id_eq(&h, &a.tp->local_id));
	rm(&a);
	rm(&b);
}

/* Birthday probing, the symmetric side's transport half (ops.birthday) over loopback: extra
 * sockets punch the peer; the one that hears the peer's punch wins and carries the dial over
 * its own 4-tuple, the losers close; a punch from anyone else is dropped; without a winner the
 * dial fails with NN_ETIMEDOUT at the end of the window; attempts at once are capped. */
static void test_birthday(void **st)
{
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.punch_allow_loopback = true;
	rec a, b, d;
	mk(&a, &c);
	mk(&b, &c);
	mk(&d, &c);
	assert_true(a.tp->caps & NN_TP_CAP_BIRTHDAY);
	const nn_quic_stats *sa = nn_quic_stats_of(a.tp), *sb = nn_quic_stats_of(b.tp);
	assert_int_equal(nn_tp_birthday(a.tp, &b.tp->local_id, &b.addr, 1, 8, 3 * NN_SEC, NULL), 0);
	assert_int_equal(sa->bday_sockets, 8);
	assert_int_equal(a.tp->stats.dials, 0); /* no dial before a winner */
	assert_int_equal(wait_u64(&sb->rx_punch, 8, 5 * NN_SEC), 0); /* a punch from each */
	uint16_t ports[16];
	assert_int_equal(nn_quic_test_birthday_ports(a.tp, ports, 16), 8);
	/* someone else's punch to an extra socket does not win */
	nn_addr t;
	char text[32];
	snprintf(text, sizeof text, "127.0.0.1:%u", ports[5]);
	assert_int_equal(nn_addr_set(&t, "quic", text), 0);
	assert_int_equal(nn_quic_punch(d.tp, &t), 0);
	assert_int_equal(wait_u64(&sa->bday_rx_dropped, 1, 5 * NN_SEC), 0);
	assert_int_equal(sa->bday_won, 0);
	/* the peer's punch hits socket 3: it wins and dials from its port */
	snprintf(text, sizeof text, "127.0.0.1:%u", ports[3]);
	assert_int_equal(nn_addr_set(&t, "quic", text), 0);
	assert_int_equal(nn_quic_punch(b.tp, &t), 0);
	assert_int_equal(wait_int(&a.n_conn, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b.n_conn, 1, 5 * NN_SEC), 0);
	assert_int_equal(sa->bday_won, 1);
	assert_int_equal(nn_quic_test_birthday_ports(a.tp, ports, 16), 0); /* losers closed */
	assert_string_equal(b.live[0]->remote_addr.ep, text); /* the winner's 4-tuple */
	assert_true(a.live[0]->outbound);
	frame_roundtrip(&a, a.live[0], &b);
	frame_roundtrip(&b, b.live[0], &a);
	/* at most NN_QUIC_BDAY_RUNNING at once; no winner: NN_ETIMEDOUT at the window's end */
	assert_int_equal(nn_tp_birthday(a.tp, &d.tp->local_id, &d.addr, 1, 4, 300 * NN_MS, NULL),
			 0);
	assert_int_equal(nn_tp_birthday(a.tp, &d.tp->local_id, &d.addr, 1, 4, 300 * NN_MS, NULL),
			 0);
	assert_int_equal(nn_tp_birthday(a.tp, &d.tp->local_id, &d.addr, 1, 4, 300 * NN_MS, NULL),
			 NN_ELIMIT);
	assert_int_equal(sa->bday_refused, 1);
	assert_int_equal(wait_int(&a.n_failed, 2, 5 * NN_SEC), 0);
	assert_int_equal(a.dial_err, NN_ETIMEDOUT);
	assert_int_equal(sa->bday_gave_up, 2);
	assert_int_equal(nn_quic_test_birthday_ports(a.tp, ports, 16), 0);
	nn_tp_guard g;
	nn_tp_guard_stats(a.tp, &g);
	assert_int_equal(g.birthday_sockets, 16);
	assert_int_equal(g.birthday_won, 1);
	assert_int_equal(g.birthday_gave_up, 2);
	assert_int_equal(g.birthday_refused, 1);
	/* production refuses implausible targets (loopback) before opening anything */
	rec e;
	mk(&e, NULL);
	assert_int_equal(nn_tp_birthday(e.tp, &b.tp->local_id, &b.addr, 1, 4, NN_SEC, NULL),
			 NN_EADDR);
	assert_int_equal(nn_quic_stats_of(e.tp)->bday_sockets, 0);
	rm(&e);
	rm(&a); /* the winner's socket closes with its connection */
	rm(&b);
	rm(&d);
}

static void test_punch(void **st)
{
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.punch_allow_loopback = true;
	rec a, b, d;
	mk(&a, &c);
	mk(&b, NULL);
	mk(&d, NULL); /* production config */
	assert_int_equal(nn_quic_punch(a.tp, &b.addr), 0);
	assert_int_equal(nn_tp_punch(a.tp, &b.addr), 0);
	const nn_quic_stats *s = nn_quic_stats_of(b.tp);
	assert_int_equal(wait_u64(&s->rx_punch, 2, 5 * NN_SEC), 0);
	assert_int_equal(b.tp->stats.punches_rx, 2);
	assert_int_equal(a.tp->stats.punches_tx, 2);
	/* production refuses loopback and every implausible target (nothing is sent) */
	const char *bad[] = {"127.0.0.1:4000", "[::1]:4000", "0.0.0.0:4000", "224.0.0.1:4000",
			     "255.255.255.255:4000", "169.254.1.1:4000", "[fe80::1]:4000",
			     "[ff02::1]:4000", "[::]:4000", "example.com:4000",
			     "[::ffff:127.0.0.1]:4000"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		nn_addr t;
		assert_int_equal(nn_addr_set(&t, "quic", bad[i]), 0);
		assert_int_equal(nn_quic_punch(d.tp, &t), NN_EADDR);
	}
	assert_int_equal(nn_quic_stats_of(d.tp)->punch_refused, sizeof bad / sizeof bad[0]);
	/* a punch and then a handshake over the same 4-tuple */
	nn_conn *ca;
	assert_int_equal(nn_quic_dial_tuple(a.tp, &b.tp->local_id, &b.addr, NULL), 0);
	assert_int_equal(wait_int(&a.n_conn, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b.n_conn, 1, 5 * NN_SEC), 0);
	ca = a.live[0];
	frame_roundtrip(&a, ca, &b);
	rm(&a);
	rm(&b);
	rm(&d);
}

/* A dial that must fail with err; returns after the server side settled. */
static void dial_fails(rec *a, rec *b, int err)
{
	int f = a->n_failed;
	assert_int_equal(nn_tp_dial(a->tp, &b->tp->local_id, &b->addr, NULL), 0);
	assert_int_equal(wait_int(&a->n_failed, f + 1, 5 * NN_SEC), 0);
	assert_int_equal(a->dial_err, err);
	assert_int_equal(a->n_conn, 0);
	spin(100 * NN_MS);
	assert_int_equal(b->n_conn, 0);
}

static void test_wrong_alpn(void **st)
{
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.alpn = "nodenet/0";
	rec a, b;
	mk(&a, &c);
	mk(&b, NULL);
	dial_fails(&a, &b, NN_ETLS);
	assert_int_equal(nn_quic_stats_of(b.tp)->alpn_mismatch, 1);
	assert_int_equal(nn_quic_stats_of(a.tp)->tls_alerts_rx, 1);
	rm(&a);
	rm(&b);
}

static void test_no_client_cert(void **st)
{
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.no_client_cert = true;
	rec a, b;
	mk(&a, &c);
	mk(&b, NULL);
	dial_fails(&a, &b, NN_ETLS);
	assert_int_equal(nn_quic_stats_of(b.tp)->no_peer_cert, 1);
	rm(&a);
	rm(&b);
}

/* A peer with a bad certificate, as dialler and as acceptor. */
static void bad_cert(nn_quic_tlsid_mode mode, nn_quic_cert_verdict v)
{
	nn_identity other;
	uint8_t seed[32] = {77};
	assert_int_equal(nn_identity_from_seed(&other, seed), 0);
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.cert_mode = mode;
	c.cert_other = &other;
	rec bad, good;
	mk(&bad, &c);
	mk(&good, NULL);
	dial_fails(&bad, &good, NN_ETLS);
	assert_int_equal(nn_quic_stats_of(good.tp)->cert_refused[v], 1);
	dial_fails(&good, &bad, NN_ETLS);
	assert_int_equal(nn_quic_stats_of(good.tp)->cert_refused[v], 2);
	/* good still serves good peers */
	rec g2;
	mk(&g2, NULL);
	link_ok(&g2, &good, NULL, NULL);
	rm(&g2);
	rm(&bad);
	rm(&good);
}

static void test_cert_no_ext(void **st) { bad_cert(NN_QUIC_TLSID_NO_EXT, NN_QUIC_CERT_MISSING); }
static void test_cert_short(void **st) { bad_cert(NN_QUIC_TLSID_SHORT, NN_QUIC_CERT_BAD_LENGTH); }
static void test_cert_long(void **st) { bad_cert(NN_QUIC_TLSID_LONG, NN_QUIC_CERT_BAD_LENGTH); }
static void test_cert_critical(void **st) { bad_cert(NN_QUIC_TLSID_CRITICAL, NN_QUIC_CERT_CRITICAL); }
static void test_cert_other_key(void **st) { bad_cert(NN_QUIC_TLSID_OTHER_KEY, NN_QUIC_CERT_BAD_SIG); }

static void test_wrong_nodeid(void **st)
{
	rec a, b, c;
	mk(&a, NULL);
	mk(&b, NULL);
	mk(&c, NULL);
	assert_int_equal(nn_tp_dial(a.tp, &c.tp->local_id, &b.addr, NULL), 0);
	assert_int_equal(wait_int(&a.n_failed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.dial_err, NN_EIDMISMATCH);
	assert_int_equal(nn_quic_stats_of(a.tp)->id_mismatch, 1);
	assert_int_equal(a.tp->stats.dial_idmismatch, 1);
	spin(100 * NN_MS);
	assert_int_equal(b.n_conn, 0);
	rm(&a);
	rm(&b);
	rm(&c);
}

/* A silent UDP socket on 127.0.0.1 and its address. */
static int silent_sock(nn_addr *to)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	char ep[64];
	snprintf(ep, sizeof ep, "127.0.0.1:%u", ntohs(sa.sin_port));
	nn_addr_set(to, "quic", ep);
	return fd;
}

/* Capture `count` real client Initials (distinct connections) by dialling a silent socket. */
static int capture_initials(uint8_t (*out)[1500], size_t *len, int count)
{
	nn_addr to;
	int fd = silent_sock(&to);
	rec a;
	mk(&a, NULL);
	nn_id any = {{1}};
	for (int i = 0; i < count; i++)
		assert_int_equal(nn_tp_dial(a.tp, &any, &to, NULL), 0);
	spin(20 * NN_MS);
	int got = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	while (got < count && poll(&p, 1, 500) == 1) {
		ssize_t n = recv(fd, out[got], 1500, 0);
		if (n >= 1200 && (out[got][0] & 0xf0) == 0xc0)
			len[got++] = (size_t)n;
	}
	close(fd);
	rm(&a);
	return got;
}

/* Replay captured Initials to `to_addr` from one raw socket (its replies go nowhere). */
static void flood(const nn_addr *to_addr, uint8_t (*ini)[1500], const size_t *len, int count)
{
	struct sockaddr_in to;
	int fd = raw_sock(&to, to_addr);
	for (int i = 0; i < count; i++) {
		sendto(fd, ini[i], len[i], 0, (struct sockaddr *)&to, sizeof to);
		if (i % 16 == 15)
			spin(5 * NN_MS);
	}
	close(fd);
}

#define NFLOOD 64
static uint8_t ini[NFLOOD][1500];
static size_t inilen[NFLOOD];

static void test_flood_caps(void **st)
{
	assert_int_equal(capture_initials(ini, inilen, NFLOOD), NFLOOD);
	/* per-IP cap: half-open handshakes from one source stop at 4 */
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.max_inbound_per_ip = 4;
	c.retry_rate = 1e9;
	c.retry_burst = 1e9;
	c.handshake_timeout = 2 * NN_SEC; /* longer than the flood takes, even on a busy host */
	rec b;
	mk(&b, &c);
	flood(&b.addr, ini, inilen, NFLOOD);
	const nn_quic_stats *s = nn_quic_stats_of(b.tp);
	assert_int_equal(wait_u64(&s->rx_datagrams, NFLOOD, 5 * NN_SEC), 0);
	assert_int_equal(s->inbound_refused_per_ip, NFLOOD - 4);
	assert_int_equal(b.n_conn, 0);
	/* half-open handshakes expire and free their slots */
	assert_int_equal(wait_u64(&s->handshake_timeout, 4, 10 * NN_SEC), 0);
	rec a;
	mk(&a, NULL);
	link_ok(&a, &b, NULL, NULL);
	rm(&a);
	rm(&b);
	/* global cap (every source counts, here all from one IP under a high per-IP cap) */
	c.max_inbound_per_ip = 1000;
	c.max_inbound = 8;
	mk(&b, &c);
	flood(&b.addr, ini, inilen, NFLOOD);
	s = nn_quic_stats_of(b.tp);
	assert_int_equal(wait_u64(&s->rx_datagrams, NFLOOD, 5 * NN_SEC), 0);
	assert_int_equal(s->inbound_refused_global, NFLOOD - 8);
	rm(&b);
}

/* Silent connections (handshake done, no frame) hold every inbound slot: a newcomer is
 * refused while they are young, and once the oldest is past silent_evict_age the newcomer —
 * after proving its address with a Retry — displaces it and connects. */
static void test_silent_evicted_at_cap(void **st)
{
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.max_inbound = 4;
	c.max_inbound_per_ip = 1000;
	c.silent_evict_age = 400 * NN_MS;
	rec b, a[5];
	mk(&b, &c);
	for (int i = 0; i < 5; i++)
		mk(&a[i], NULL);
	for (int i = 0; i < 4; i++)
		link_ok(&a[i], &b, NULL, NULL); /* the dialler sends no frame: silent */
	const nn_quic_stats *s = nn_quic_stats_of(b.tp);
	assert_int_equal(b.n_conn, 4);
	/* at once: nobody is old enough to make room, the Initial is dropped (and retransmitted
	 * by the client until it gets in) */
	assert_int_equal(nn_tp_dial(a[4].tp, &b.tp->local_id, &b.addr, NULL), 0);
	assert_int_equal(wait_u64(&s->inbound_refused_global, 1, 5 * NN_SEC), 0);
	assert_int_equal(s->inbound_evicted, 0);
	assert_int_equal(wait_int(&a[4].n_conn, 1, 8 * NN_SEC), 0);
	assert_int_equal(wait_int(&b.n_conn, 5, 5 * NN_SEC), 0);
	assert_int_equal(s->inbound_evicted, 1);
	assert_true(s->retry_sent >= 1);
	assert_true(s->retry_token_ok >= 1);
	int closed = 0;
	spin(500 * NN_MS); /* the evicted one learns of its close */
	for (int i = 0; i < 4; i++) {
		closed += a[i].n_closed;
		if (a[i].n_closed)
			assert_int_equal(a[i].closed_reason, NN_TP_REASON_POLICY);
	}
	assert_int_equal(closed, 1);
	assert_int_equal(b.n_closed, 1);
	/* a connection that delivered a frame is never evicted: the newcomer's holds its slot */
	frame_roundtrip(&a[4], a[4].live[0], &b);
	for (int i = 0; i < 5; i++)
		rm(&a[i]);
	rm(&b);
}

/* A frame sent just before close() reaches the peer ahead of the close (how a refused newcomer
 * gets its Referral). */
static void test_frame_before_close_arrives(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	nn_conn *ca, *cb;
	link_ok(&a, &b, &ca, &cb);
	frame_roundtrip(&a, ca, &b); /* the acceptor has the edge stream */
	uint8_t buf[2048];
	int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_TEST, buf + 1024, 1000);
	uint64_t rx = a.rx;
	assert_int_equal(nn_tp_send(b.tp, cb, buf, (size_t)n), 0);
	assert_int_equal(nn_tp_close(b.tp, cb, NN_TP_REASON_POLICY), 0);
	assert_int_equal(wait_int(&a.n_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.rx, rx + 1);
	assert_int_equal(a.closed_reason, NN_TP_REASON_POLICY);
	rm(&a);
	rm(&b);
}

static void test_retry(void **st)
{
	assert_int_equal(capture_initials(ini, inilen, NFLOOD), NFLOOD);
	/* under load every new Initial without a token gets a Retry and costs no state */
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.retry_rate = 1;
	c.retry_burst = 1;
	rec b;
	mk(&b, &c);
	flood(&b.addr, ini, inilen, NFLOOD);
	const nn_quic_stats *s = nn_quic_stats_of(b.tp);
	assert_int_equal(wait_u64(&s->rx_datagrams, NFLOOD, 5 * NN_SEC), 0);
	assert_true(s->retry_sent >= NFLOOD - 1);
	assert_true(s->inbound_refused_per_ip == 0);
	/* real clients follow the Retry and connect */
	rec a;
	mk(&a, NULL);
	link_ok(&a, &b, NULL, NULL);
	assert_true(s->retry_token_ok >= 1);
	rm(&a);
	rm(&b);
	/* retry_always: every handshake is validated and still succeeds */
	c.retry_always = true;
	mk(&b, &c);
	mk(&a, NULL);
	nn_conn *ca;
	link_ok(&a, &b, &ca, NULL);
	frame_roundtrip(&a, ca, &b);
	assert_true(nn_quic_stats_of(b.tp)->retry_sent >= 1);
	assert_true(nn_quic_stats_of(b.tp)->retry_token_ok >= 1);
	rm(&a);
	rm(&b);
}

static void test_frame_too_big(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	nn_conn *ca;
	link_ok(&a, &b, &ca, NULL);
	frame_roundtrip(&a, ca, &b);
	static const uint8_t over[] = {0x81, 0x80, 0x04, 0, 0, 0}; /* length 65,537 */
	assert_int_equal(nn_quic_test_send_raw(a.tp, ca, over, sizeof over), 0);
	assert_int_equal(wait_int(&b.n_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(b.closed_err, NN_ETOOBIG);
	assert_int_equal(nn_quic_stats_of(b.tp)->frame_too_big, 1);
	assert_int_equal(wait_int(&a.n_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.closed_err, NN_ECLOSED);
	assert_int_equal(a.closed_reason, NN_TP_REASON_POLICY);
	rm(&a);
	rm(&b);
}

static void test_many_streams(void **st)
{
	rec a, b;
	mk(&a, NULL);
	mk(&b, NULL);
	nn_conn *ca, *cb;
	link_ok(&a, &b, &ca, &cb);
	frame_roundtrip(&a, ca, &b);
	int opened = 0;
	for (int round = 0; round < 2000 && opened < 1000 && a.nlive; round++) {
		opened += nn_quic_test_open_streams(a.tp, ca, 1000 - opened);
		spin(NN_MS);
	}
	assert_int_equal(opened, 1000);
	const nn_quic_stats *s = nn_quic_stats_of(b.tp);
	assert_int_equal(wait_u64(&s->streams_reset, 1000, 5 * NN_SEC), 0);
	/* the edge survives and still carries frames both ways */
	assert_int_equal(b.n_closed, 0);
	frame_roundtrip(&a, ca, &b);
	frame_roundtrip(&b, cb, &a);
	/* the acceptor cannot open streams towards the dialler at all */
	assert_int_equal(nn_quic_test_open_streams(b.tp, cb, 1), 0);
	rm(&a);
	rm(&b);
}

static void test_first_frame_timeout(void **st)
{
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.first_frame_timeout = 1500 * NN_MS;
	rec a, b;
	mk(&a, NULL);
	mk(&b, &c);
	link_ok(&a, &b, NULL, NULL);
	assert_int_equal(wait_int(&b.n_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(b.closed_err, NN_ETIMEDOUT);
	assert_int_equal(nn_quic_stats_of(b.tp)->first_frame_timeout, 1);
	assert_int_equal(wait_int(&a.n_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.closed_reason, NN_TP_REASON_POLICY);
	/* a dialler that sends at once is not affected */
	nn_conn *ca;
	link_ok(&a, &b, &ca, NULL);
	frame_roundtrip(&a, ca, &b);
	spin(2000 * NN_MS);
	assert_int_equal(b.n_closed, 1);
	rm(&a);
	rm(&b);
}

static void test_handshake_timeout(void **st)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	char ep[64];
	snprintf(ep, sizeof ep, "127.0.0.1:%u", ntohs(sa.sin_port));
	nn_addr to;
	nn_addr_set(&to, "quic", ep);
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.handshake_timeout = 300 * NN_MS;
	rec a;
	mk(&a, &c);
	nn_id any = {{1}};
	assert_int_equal(nn_tp_dial(a.tp, &any, &to, NULL), 0);
	assert_int_equal(wait_int(&a.n_failed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.dial_err, NN_ETIMEDOUT);
	assert_int_equal(nn_quic_stats_of(a.tp)->handshake_timeout, 1);
	close(fd);
	rm(&a);
}

static void test_idle_timeout(void **st)
{
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.idle_timeout = 1 * NN_SEC;
	rec a, b;
	mk(&a, &c);
	mk(&b, &c);
	nn_conn *ca;
	link_ok(&a, &b, &ca, NULL);
	frame_roundtrip(&a, ca, &b);
	assert_int_equal(wait_int(&a.n_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(wait_int(&b.n_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.closed_err, NN_ETIMEDOUT);
	assert_int_equal(b.closed_err, NN_ETIMEDOUT);
	assert_true(nn_quic_stats_of(a.tp)->idle_timeout == 1);
	rm(&a);
	rm(&b);
}

/* The peer's loop stops (a stuck process): the sender's queue fills and stays full past the
 * deadline, and the edge closes with STALLED. Two loops make one side freeze. */
static void test_send_stall(void **st)
{
	nn_qenv *e2;
	assert_int_equal(nn_qenv_setup(NULL, 2, (void **)&e2), 0);
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.send_deadline = 300 * NN_MS;
	c.send_queue_bytes = 256 * 1024;
	rec a, b;
	mk(&a, &c);
	memset(&b, 0, sizeof b);
	uint8_t seed[32] = {200};
	assert_int_equal(nn_qenv_endpoint(e2, seed, NULL, &b.tp, &b.addr), 0);
	nn_tp_sink s = {.ctx = &b, .on_conn = s_conn, .on_frame = s_frame, .on_closed = s_closed};
	nn_tp_set_sink(b.tp, &s);
	assert_int_equal(nn_tp_dial(a.tp, &b.tp->local_id, &b.addr, NULL), 0);
	for (int i = 0; i < 500 && !(a.n_conn && b.n_conn); i++) {
		spin(NN_MS);
		nn_qenv_run(e2, NULL, NULL, NN_MS);
	}
	assert_int_equal(a.n_conn, 1);
	nn_conn *ca = a.live[0];
	/* b's loop no longer runs */
	static uint8_t buf[60000];
	int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_TEST, buf + 100, 50000);
	assert_true(n > 0);
	int rc = 0;
	for (int i = 0; i < 200 && rc == 0; i++) {
		rc = nn_tp_send(a.tp, ca, buf, (size_t)n);
		spin(NN_MS);
	}
	assert_int_equal(rc, NN_EAGAIN);
	assert_int_equal(wait_int(&a.n_closed, 1, 5 * NN_SEC), 0);
	assert_int_equal(a.closed_err, NN_ETIMEDOUT);
	assert_int_equal(a.closed_reason, NN_TP_REASON_STALLED);
	assert_int_equal(nn_quic_stats_of(a.tp)->send_stalled, 1);
	rm(&a);
	nn_tp_destroy(b.tp);
	nn_qenv_teardown(e2);
}

static void test_ipv6_and_dual_stack(void **st)
{
	nn_quic_config c6;
	nn_quic_config_default(&c6);
	c6.listen = "[::1]:0";
	rec a, b;
	mk(&a, &c6);
	mk(&b, &c6);
	nn_conn *ca;
	link_ok(&a, &b, &ca, NULL);
	frame_roundtrip(&a, ca, &b);
	rm(&a);
	rm(&b);
	/* a dual-stack wildcard endpoint dials and accepts IPv4 loopback peers */
	nn_quic_config cw;
	nn_quic_config_default(&cw);
	cw.listen = "[::]:0";
	rec w, v4;
	mk(&w, &cw);
	mk(&v4, NULL);
	char ep[64];
	const nn_addr *la = nn_quic_local_addr(w.tp);
	const char *colon = strrchr(la->ep, ':');
	snprintf(ep, sizeof ep, "127.0.0.1%s", colon);
	nn_addr wa;
	nn_addr_set(&wa, "quic", ep);
	w.addr = wa;
	link_ok(&v4, &w, &ca, NULL);
	frame_roundtrip(&v4, ca, &w);
	/* the accepted side saw an IPv4 source, printed unmapped */
	assert_non_null(strstr(w.live[0]->remote_addr.ep, "127.0.0.1:"));
	nn_conn *wc;
	link_ok(&w, &v4, &wc, NULL);
	frame_roundtrip(&w, wc, &v4);
	rm(&w);
	rm(&v4);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_punch),
		cmocka_unit_test(test_wrong_alpn),
		cmocka_unit_test(test_no_client_cert),
		cmocka_unit_test(test_cert_no_ext),
		cmocka_unit_test(test_cert_short),
		cmocka_unit_test(test_cert_long),
		cmocka_unit_test(test_cert_critical),
		cmocka_unit_test(test_cert_other_key),
		cmocka_unit_test(test_wrong_nodeid),
		cmocka_unit_test(test_flood_caps),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_silent_evicted_at_cap),
		cmocka_unit_test(test_frame_before_close_arrives),
		cmocka_unit_test(test_frame_too_big),
		cmocka_unit_test(test_many_streams),
		cmocka_unit_test(test_first_frame_timeout),
		cmocka_unit_test(test_handshake_timeout),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_send_stall),
		cmocka_unit_test(test_birthday),
		cmocka_unit_test(test_ipv6_and_dual_stack),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
