/* bench_node.c — the node over loopback QUIC, all nodes in this process on one libev loop.
 *
 *   forward   frames/s through one transit node T (A -> T -> B, 1 KiB payloads; B's only path
 *             from A is T: no maintenance, so nobody learns a shortcut), and allocations per
 *             forwarded frame in steady state. Allocations are counted process-wide, so the
 *             figure covers the whole pipeline (A originates, T forwards, B verifies and
 *             delivers): an upper bound for the transit's own share. T's per-edge forward
 *             bucket (NN_ROUTING_FORWARD_RATE, 512 frames/s, policy) caps one sender, so the
 *             run is repeated with 16 senders, each on its own edge into T, to see the
 *             pipeline's own limit (still one thread doing A's signing, both QUIC hops and
 *             B's signature checks: T alone can forward more). B applies the same per-edge
 *             bucket to what arrives from T, so B delivers at most ~512/s of it: the
 *             B rate-limited column shows the rest.
 *   memory    RSS per idle node and per edge (both ends), from /proc/self/statm deltas, and
 *             the estimate for one idle node with 64 edges.
 *   keepalive bytes/s a hub with 64 idle edges puts on the wire (UDP payload bytes from the
 *             QUIC endpoint's counters) with default maintenance, and its pings/s; most of it
 *             is answering its 64 neighbours' own maintenance (lookups, sibling exchange).
 *             Then the floor: one of two idle nodes joined by one edge.
 *
 * Uses the public API (node/nodenet.h) except for reading the QUIC endpoint's byte counters.
 * Prints figures; asserts nothing about speed. --quick: short windows for the test suite.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_impl.h"
#include "tests/support/bench.h"
#include "transport/quic/quic.h"

#define MAX_NODES 80

typedef struct bench {
	struct ev_loop *loop;
	nn_node *nodes[MAX_NODES];
	size_t n;
	uint64_t delivered; /* on_message at any node */
	bool quick;
} bench;

static void on_message(void *user, const nn_id *from, const uint8_t *data, size_t len)
{
	bench *b = user;
	(void)from;
	(void)data;
	(void)len;
	b->delivered++;
}

static void mint(uint8_t seed[NN_SEED_BYTES], unsigned i)
{
	/* deterministic seeds: PoW is off in this benchmark */
	memset(seed, 0, NN_SEED_BYTES);
	seed[0] = 0xbe;
	seed[1] = (uint8_t)i;
	seed[2] = (uint8_t)(i >> 8);
}

static nn_node *add_node(bench *b, bool maintenance, const char *listen)
{
	if (b->n == MAX_NODES)
		return NULL;
	uint8_t seed[NN_SEED_BYTES];
	mint(seed, (unsigned)b->n + 1);
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = listen;
	o.no_maintenance = !maintenance;
	o.max_inbound_per_ip = 1024; /* every peer here comes from 127.0.0.1 */
	o.max_inbound_edges_per_ip = 1024;
	o.log_level = NN_LOG_ERROR;
	o.cb.user = b;
	o.cb.on_message = on_message;
	nn_node *n;
	int rc = nn_node_new(&n, &o, b->loop);
	if (rc < 0) {
		fprintf(stderr, "nn_node_new: %s\n", nn_strerror(rc));
		exit(1);
	}
	b->nodes[b->n++] = n;
	return n;
}

static void pump(bench *b, double seconds)
{
	double end = ev_time() + seconds;
	while (ev_time() < end) {
		ev_now_update(b->loop);
		ev_run(b->loop, EVRUN_NOWAIT);
	}
}

static size_t edges(nn_node *n) { return nn_node_peers(n, NULL, 0); }

/* Bootstrap each of from[0..k) to hub and pump until every edge is up (or timeout). */
static bool join(bench *b, nn_node *hub, nn_node **from, size_t k, double timeout)
{
	char addr[4][64];
	if (nn_node_addrs(hub, addr, 4) < 1)
		return false;
	size_t want = edges(hub) + k;
	for (size_t i = 0; i < k; i++)
		if (nn_node_bootstrap(from[i], nn_node_id(hub), addr[0]) < 0)
			return false;
	double end = ev_time() + timeout;
	while (ev_time() < end) {
		pump(b, 0.01);
		bool all = edges(hub) >= want;
		for (size_t i = 0; all && i < k; i++)
			all = edges(from[i]) >= 1;
		if (all)
			return true;
	}
	return false;
}

static uint64_t stat_of(nn_node *n, const char *name)
{
	nn_node_stats s;
	nn_node_get_stats(n, &s);
	uint64_t v;
	const char *k;
	for (size_t i = 0; (k = nn_node_stat(&s, i, &v)); i++)
		if (!strcmp(k, name))
			return v;
	return 0;
}

static long rss_kib(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- (a) forwarding through one transit ---- */
static void forward_run(bench *b, nn_node *t, nn_node *dst, nn_node **senders, size_t ns,
			double seconds, double per_sender_rate)
{
	uint8_t payload[1024];
	memset(payload, 0x5a, sizeof payload);
	const nn_id *target = nn_node_id(dst);
	uint64_t sent = 0, eagain = 0, other = 0;
	uint64_t *quota = calloc(ns, sizeof *quota);
	/* warm-up (connections, pools, buffers at their steady size), then measure */
	for (int phase = 0; phase < 2; phase++) {
		double dur = phase == 0 ? seconds / 3 : seconds;
		uint64_t d0 = b->delivered, f0 = stat_of(t, "forwarded"), a0 = nn_test_allocs();
		uint64_t rl0 = stat_of(t, "dropped_rate_limited"), s0 = sent;
		uint64_t qf0 = stat_of(t, "dropped_queue_full");
		uint64_t brl0 = stat_of(dst, "dropped_rate_limited");
		double t0 = ev_time(), now;
		memset(quota, 0, ns * sizeof *quota);
		while ((now = ev_time()) < t0 + dur) {
			for (size_t i = 0; i < ns; i++) {
				if ((double)quota[i] >= per_sender_rate * (now - t0) + 1)
					continue;
				int rc = nn_node_send(senders[i], target, payload, sizeof payload);
				if (rc == 0) {
					sent++;
					quota[i]++;
				} else if (rc == NN_EAGAIN) {
					eagain++;
				} else {
					other++;
				}
			}
			ev_now_update(b->loop);
			ev_run(b->loop, EVRUN_NOWAIT);
		}
		if (phase == 0)
			continue;
		double el = ev_time() - t0;
		uint64_t fw = stat_of(t, "forwarded") - f0, dl = b->delivered - d0;
		uint64_t al = nn_test_allocs() - a0;
		printf("bench node-forward %2zu sender(s) %10.0f frames/s through T (1 KiB), %.3f "
		       "allocs/forward (whole pipeline), sent %llu, forwarded %llu, delivered %llu, "
		       "T rate-limited %llu, T queue-full %llu, B rate-limited %llu, EAGAIN %llu, "
		       "errors %llu\n",
		       ns, (double)fw / el, fw ? (double)al / (double)fw : 0.0,
		       (unsigned long long)(sent - s0), (unsigned long long)fw,
		       (unsigned long long)dl,
		       (unsigned long long)(stat_of(t, "dropped_rate_limited") - rl0),
		       (unsigned long long)(stat_of(t, "dropped_queue_full") - qf0),
		       (unsigned long long)(stat_of(dst, "dropped_rate_limited") - brl0),
		       (unsigned long long)eagain, (unsigned long long)other);
		fflush(stdout);
	}
	/* drain */
	pump(b, 0.2);
	free(quota);
}

static void bench_forward(bench *b)
{
	nn_node *t = add_node(b, false, "127.0.0.1:0");
	nn_node *dst = add_node(b, false, "127.0.0.1:0");
	nn_node *senders[16];
	for (size_t i = 0; i < 16; i++)
		senders[i] = add_node(b, false, "127.0.0.1:0");
	if (!join(b, t, &dst, 1, 10) || !join(b, t, senders, 16, 20)) {
		printf("bench node-forward: the edges did not come up\n");
		return;
	}
	/* B must not be reachable from a sender other than through T */
	for (size_t i = 0; i < 16; i++)
		if (edges(senders[i]) != 1) {
			printf("bench node-forward: a sender has %zu edges\n", edges(senders[i]));
			return;
		}
	double secs = b->quick ? 0.5 : 5;
	/* one sender just under T's per-edge bucket; then 16 senders at the same pace each */
	forward_run(b, t, dst, senders, 1, secs, 1e9);
	forward_run(b, t, dst, senders, 1, secs, 500);
	forward_run(b, t, dst, senders, 16, secs, 500);
}

/* ---- (b) memory and keepalive ---- */
static void bench_memory(bench *b)
{
	const size_t k = 64;
	long r0 = rss_kib();
	nn_node *hub = add_node(b, false, "127.0.0.1:0");
	nn_node *peers[64];
	long r1 = rss_kib();
	for (size_t i = 0; i < k; i++)
		peers[i] = add_node(b, false, "127.0.0.1:0");
	pump(b, 0.1);
	long r2 = rss_kib();
	if (!join(b, hub, peers, k, 30)) {
		printf("bench node-memory: only %zu of %zu edges came up\n", edges(hub), k);
		return;
	}
	pump(b, 0.5);
	long r3 = rss_kib();
	double per_node = (double)(r2 - r1) / (double)k, per_edge = (double)(r3 - r2) / (double)k;
	printf("bench node-memory: process RSS %ld KiB before any node; %.0f KiB per idle node "
	       "(0 edges); %.1f KiB per edge (both ends, no maintenance: exactly %zu edges); "
	       "estimate for one idle node with 64 edges: %.0f KiB\n",
	       r0, per_node, per_edge, edges(hub), per_node + 64 * per_edge / 2);
	fflush(stdout);
}

static void bench_keepalive(bench *b)
{
	const size_t k = 64;
	nn_node *hub = add_node(b, true, "127.0.0.1:0");
	nn_node *peers[64];
	for (size_t i = 0; i < k; i++)
		peers[i] = add_node(b, true, "127.0.0.1:0");
	if (!join(b, hub, peers, k, 30)) {
		printf("bench node-keepalive: only %zu of %zu edges came up\n", edges(hub), k);
		return;
	}
	const nn_quic_stats *qs = nn_quic_stats_of(nn_node_transport(hub));
	double window = b->quick ? 3 : 90;
	pump(b, b->quick ? 0.5 : 30); /* settle: past the joiners' lookups and fills */
	uint64_t tx0 = qs->tx_bytes_udp, rx0 = qs->rx_bytes_udp, p0 = stat_of(hub, "pings_tx");
	uint64_t dg0 = qs->tx_datagrams, l0 = stat_of(hub, "lookups_tx");
	uint64_t f0 = stat_of(hub, "forwarded");
	size_t e0 = edges(hub);
	double t0 = ev_time();
	pump(b, window);
	double el = ev_time() - t0;
	printf("bench node-keepalive: hub with %zu edges (%zu at the end), maintenance on, idle "
	       "%.0f s: tx %.0f B/s (%.1f B/s per edge, %.1f datagrams/s), rx %.0f B/s, pings "
	       "%.2f/s, own lookups %.2f/s, frames forwarded for the other nodes' maintenance %.2f/s "
	       "(all %zu nodes idle, maintenance on)%s\n",
	       e0, edges(hub), el, (double)(qs->tx_bytes_udp - tx0) / el,
	       (double)(qs->tx_bytes_udp - tx0) / el / (double)(e0 ? e0 : 1),
	       (double)(qs->tx_datagrams - dg0) / el, (double)(qs->rx_bytes_udp - rx0) / el,
	       (double)(stat_of(hub, "pings_tx") - p0) / el,
	       (double)(stat_of(hub, "lookups_tx") - l0) / el,
	       (double)(stat_of(hub, "forwarded") - f0) / el, b->n,
	       b->quick ? " (quick: window shorter than the keepalive period, not representative)"
			: "");
	fflush(stdout);
}

/* The floor: two idle nodes with one edge, maintenance on; bytes/s one of them sends. */
static void bench_pair(bench *b)
{
	nn_node *a = add_node(b, true, "127.0.0.1:0");
	nn_node *c = add_node(b, true, "127.0.0.1:0");
	if (!join(b, a, &c, 1, 10)) {
		printf("bench node-keepalive-pair: the edge did not come up\n");
		return;
	}
	const nn_quic_stats *qs = nn_quic_stats_of(nn_node_transport(a));
	double window = b->quick ? 3 : 90;
	pump(b, b->quick ? 0.5 : 10);
	uint64_t tx0 = qs->tx_bytes_udp, dg0 = qs->tx_datagrams, p0 = stat_of(a, "pings_tx");
	double t0 = ev_time();
	pump(b, window);
	double el = ev_time() - t0;
	printf("bench node-keepalive-pair: 2 idle nodes, 1 edge, maintenance on, %.0f s: one node "
	       "sends %.1f B/s (%.2f datagrams/s, %.3f pings/s)%s\n",
	       el, (double)(qs->tx_bytes_udp - tx0) / el, (double)(qs->tx_datagrams - dg0) / el,
	       (double)(stat_of(a, "pings_tx") - p0) / el,
	       b->quick ? " (quick: not representative)" : "");
	fflush(stdout);
}

/* Graceful stop first, so peers see Leave rather than idle timeouts while the rest is freed
 * (nn_node_free with open connections is safe too). */
static void free_all(bench *b)
{
	for (size_t i = 0; i < b->n; i++)
		nn_node_stop(b->nodes[i]);
	pump(b, 0.5);
	for (size_t i = 0; i < b->n; i++)
		nn_node_free(b->nodes[i]);
	b->n = 0;
}

int main(int argc, char **argv)
{
	bench b = {.quick = nn_bench_quick(argc, argv)};
	b.loop = ev_loop_new(EVFLAG_AUTO);
	bench_forward(&b);
	free_all(&b);
	bench_memory(&b);
	free_all(&b);
	bench_keepalive(&b);
	free_all(&b);
	bench_pair(&b);
	free_all(&b);
	ev_loop_destroy(b.loop);
	return 0;
}
