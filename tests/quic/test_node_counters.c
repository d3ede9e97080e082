/* test_node_counters.c — the QUIC transport's refusals show in the node's stats (nn_node_stats
 * tp_*, hence the daemon's `stats`): a real node on loopback is sent garbage, another QUIC
 * version, a certificate without the NodeID extension, an oversized frame length, extra
 * streams, and more connections from one IP than its per-IP cap; each moves its counter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/nodenet.h"
#include "tests/quic/quic_factory.h"
#include "wire/wire.h"

static nn_qenv *env;
static nn_node *node;
static nn_addr node_addr;
static nn_id node_id;

typedef struct peer {
	nn_tp *tp;
	nn_conn *c;
	int conns, failed, closed;
} peer;

static void p_conn(void *a, nn_conn *c)
{
	peer *p = a;
	p->conns++;
	p->c = c;
}
static void p_failed(void *a, void *u, const nn_id *w, const nn_addr *ad, int err)
{
	((peer *)a)->failed++;
}
static void p_closed(void *a, nn_conn *c, int err, uint64_t reason)
{
	peer *p = a;
	p->closed++;
	if (p->c == c)
		p->c = NULL;
}

static uint8_t seed_ctr = 100;
static void mk_peer(peer *p, const nn_quic_config *cfg)
{
	memset(p, 0, sizeof *p);
	uint8_t seed[32] = {0};
	seed[0] = ++seed_ctr;
	seed[1] = 0x5a;
	assert_int_equal(nn_qenv_endpoint(env, seed, cfg, &p->tp, NULL), 0);
	nn_tp_sink s = {.ctx = p, .on_conn = p_conn, .on_dial_failed = p_failed,
			.on_closed = p_closed};
	nn_tp_set_sink(p->tp, &s);
}

/* ---- waiting on a node counter ---- */
typedef struct want {
	size_t field; /* index in NN_NODE_STATS order */
	uint64_t at_least;
	int *flag;
	int flag_at_least;
} want;

static uint64_t stat_at(size_t i)
{
	nn_node_stats s;
	nn_node_get_stats(node, &s);
	uint64_t v = 0;
	assert_non_null(nn_node_stat(&s, i, &v));
	return v;
}

static size_t stat_index(const char *name)
{
	nn_node_stats s;
	nn_node_get_stats(node, &s);
	const char *n;
	for (size_t i = 0; (n = nn_node_stat(&s, i, NULL)); i++)
		if (!strcmp(n, name))
			return i;
	fail_msg("no stat %s", name);
	return 0;
}

static bool pred(void *arg)
{
	const want *w = arg;
	if (w->flag && *w->flag < w->flag_at_least)
		return false;
	return stat_at(w->field) >= w->at_least;
}

/* Wait (bounded) until stat `name` reached base + delta; returns its value. */
static uint64_t wait_stat(const char *name, uint64_t base, uint64_t delta)
{
	want w = {.field = stat_index(name), .at_least = base + delta};
	(void)nn_qenv_run(env, pred, &w, 5 * NN_SEC);
	uint64_t v = stat_at(w.field);
	printf("# %s: %llu -> %llu\n", name, (unsigned long long)base, (unsigned long long)v);
	assert_true(v >= base + delta);
	return v;
}

static uint64_t now_stat(const char *name) { return stat_at(stat_index(name)); }

static void spin(nn_time t) { (void)nn_qenv_run(env, NULL, NULL, t); }

static int setup(void **st)
{
	if (nn_qenv_setup(NULL, 1, (void **)&env))
		return -1;
	uint8_t seed[NN_SEED_BYTES] = {9, 9, 9};
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = "127.0.0.1:0";
	o.no_maintenance = true;
	o.max_inbound_per_ip = 4; /* the transport's per-IP cap, provoked at the end */
	o.log_level = NN_LOG_ERROR + 1;
	if (nn_node_new(&node, &o, env->loop))
		return -1;
	char addrs[4][64];
	if (nn_node_addrs(node, addrs, 4) < 1)
		return -1;
	nn_addr_set(&node_addr, "quic", addrs[0]);
	node_id = *nn_node_id(node);
	return 0;
}

static int teardown(void **st)
{
	nn_node_free(node);
	nn_qenv_teardown(env);
	return 0;
}

static int udp_to(struct sockaddr_in *to)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(nn_addr_to_sockaddr(&node_addr, &ss, &len), 0);
	memcpy(to, &ss, sizeof *to);
	return fd;
}

static void test_garbage_and_versions(void **st)
{
	uint64_t g0 = now_stat("tp_rx_garbage"), v0 = now_stat("tp_version_neg_tx");
	struct sockaddr_in to;
	int fd = udp_to(&to);
	uint8_t buf[1400];
	memset(buf, 0x11, sizeof buf); /* fixed bit clear, not a punch: not QUIC */
	sendto(fd, buf, 100, 0, (struct sockaddr *)&to, sizeof to);
	memset(buf, 0, sizeof buf); /* a long header, QUIC v1, far too short for an Initial */
	buf[0] = 0xc0;
	buf[4] = 1;
	buf[5] = 8;
	sendto(fd, buf, 300, 0, (struct sockaddr *)&to, sizeof to);
	buf[1] = 0x1a; /* another QUIC version: a Version Negotiation answers it */
	buf[4] = 0x2a;
	sendto(fd, buf, 1200, 0, (struct sockaddr *)&to, sizeof to);
	close(fd);
	wait_stat("tp_rx_garbage", g0, 2);
	wait_stat("tp_version_neg_tx", v0, 1);
}

static void test_certificate_without_extension(void **st)
{
	uint64_t c0 = now_stat("tp_cert_missing"), h0 = now_stat("tp_handshake_failed");
	nn_quic_config c;
	nn_quic_config_default(&c);
	c.cert_mode = NN_QUIC_TLSID_NO_EXT;
	peer p;
	mk_peer(&p, &c);
	assert_int_equal(nn_tp_dial(p.tp, &node_id, &node_addr, NULL), 0);
	wait_stat("tp_cert_missing", c0, 1);
	wait_stat("tp_handshake_failed", h0, 1);
	nn_tp_destroy(p.tp);
}

static void test_oversized_frame_and_streams(void **st)
{
	uint64_t s0 = now_stat("tp_streams_reset"), f0 = now_stat("tp_frame_too_big");
	uint64_t e0 = now_stat("edges_up");
	peer p;
	mk_peer(&p, NULL);
	assert_int_equal(nn_tp_dial(p.tp, &node_id, &node_addr, NULL), 0);
	want w = {.field = stat_index("edges_up"), .at_least = e0, .flag = &p.conns,
		  .flag_at_least = 1};
	(void)nn_qenv_run(env, pred, &w, 5 * NN_SEC);
	assert_int_equal(p.conns, 1);
	uint8_t ping[3] = {1, NN_T_PING, 0};
	assert_int_equal(nn_tp_send(p.tp, p.c, ping, 3), 0);
	wait_stat("edges_up", e0, 1);
	assert_true(nn_quic_test_open_streams(p.tp, p.c, 5) >= 1);
	wait_stat("tp_streams_reset", s0, 1);
	/* a frame length prefix of 65,537: the node's transport closes the edge */
	const uint8_t huge[3] = {0x81, 0x80, 0x04};
	assert_int_equal(nn_quic_test_send_raw(p.tp, p.c, huge, sizeof huge), 0);
	wait_stat("tp_frame_too_big", f0, 1);
	nn_tp_destroy(p.tp);
}

static void test_per_ip_cap(void **st)
{
	spin(200 * NN_MS); /* earlier connections are gone */
	uint64_t r0 = now_stat("tp_inbound_refused_per_ip");
	peer p[6];
	for (int i = 0; i < 6; i++) {
		mk_peer(&p[i], NULL);
		assert_int_equal(nn_tp_dial(p[i].tp, &node_id, &node_addr, NULL), 0);
	}
	/* 4 from 127.0.0.1 fit; the others' Initials are refused (and retransmitted) */
	wait_stat("tp_inbound_refused_per_ip", r0, 2);
	for (int i = 0; i < 6; i++)
		nn_tp_destroy(p[i].tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage_and_versions),
		cmocka_unit_test(test_certificate_without_extension),
		cmocka_unit_test(test_oversized_frame_and_streams),
		cmocka_unit_test(test_per_ip_cap),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
