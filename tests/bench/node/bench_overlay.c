/* bench_overlay.c — routed delivery latency and connect time in a loopback QUIC overlay.
 *
 * N real nodes (default 200) in this process (tests/bench/node/overlay.h: a few libev loops,
 * one loopback /24 per node), bootstrapped in waves and settled, then, one sample at a time:
 *
 *   latency   nn_node_send from a random node to another, 16-byte payload: the clock starts
 *             just before the send on the sender's loop thread and stops in on_message at the
 *             target (CLOCK_MONOTONIC, one clock for the process). Also split by whether the
 *             pair shares an edge (one hop) or not.
 *   connect   a node that knows only the target's NodeID calls nn_node_send_direct; the clock
 *             stops when the target's on_direct receives the App frame. Pairs are never edge
 *             neighbours and never reused; the direct edge is dropped after each sample so the
 *             overlay stays as settled. Milestones of the same samples: the caller's edge up
 *             (rendezvous + dial + client handshake) and the target's edge up (its first frame).
 *   rendezvous  nn_node_rendezvous alone (Hello out, verified Reply back) on fresh pairs.
 *   dial        dial + QUIC handshake alone: nn_node_bootstrap to the target's known address,
 *             until the caller's edge is up, and until the target's on_edge (first frame).
 *
 * Prints p50/p90/p99/max and failure and timeout counts; asserts nothing about speed.
 * Options: --quick (40 nodes, 500 ms tick, few samples: the `bench` suite's smoke run; a
 * 40-node overlay is a full mesh, so its connect pairs have their edge dropped first),
 * --nodes N, --threads T (loops), --samples S, --tick-ms M (maintenance tick; the full run
 * keeps the default 5 s). Uses the public API plus node_impl.h for dropping an edge.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/node_impl.h"
#include "tests/bench/node/overlay.h"
#include "tests/support/bench.h"
#include "tests/support/testutil.h"

#define MAGIC 0x6e6e6f76u /* "nnov" */
#define PAYLOAD 16

typedef struct bench {
	nn_ov *ov;
	size_t n;
	nn_test_rng rng;
	uint8_t *used; /* n x n: pair already sampled (connect-type samples) */
	/* the one sample in flight; hooks on loop threads write the atomics */
	atomic_uint seq;
	atomic_size_t a, b;
	int64_t t0;      /* written on a's thread inside nn_ov_exec, read after it */
	int rc;          /* the starting call's result */
	atomic_llong t_msg, t_direct, t_edge_a, t_edge_b, t_cb;
	atomic_int status;
	atomic_ullong late; /* deliveries for samples already given up */
	atomic_size_t block_a, block_b; /* a pair kept apart (dense overlays, see fresh_pair) */
	atomic_bool want_edges; /* the control thread waits for edges (dial phase): wake it */
} bench;


/* A random node index (control thread only). */
static size_t pick(bench *b) { return (size_t)(nn_test_rng_next(&b->rng) % b->n); }

/* ---- hooks (loop threads) ---- */
static bool ours(bench *b, size_t at, const uint8_t *data, size_t len)
{
	uint32_t magic, seq;
	if (len != PAYLOAD)
		return false;
	memcpy(&magic, data, 4);
	memcpy(&seq, data + 4, 4);
	if (magic != MAGIC)
		return false;
	if (seq != atomic_load(&b->seq) || at != atomic_load(&b->b)) {
		atomic_fetch_add(&b->late, 1);
		return false;
	}
	return true;
}

static void on_message(void *ctx, size_t at, size_t peer, const uint8_t *data, size_t len)
{
	bench *b = ctx;
	int64_t now = nn_ov_now_ns();
	(void)peer;
	if (ours(b, at, data, len)) {
		atomic_store(&b->t_msg, now);
		nn_ov_notify(b->ov);
	}
}

static void on_direct(void *ctx, size_t at, size_t peer, const uint8_t *data, size_t len)
{
	bench *b = ctx;
	int64_t now = nn_ov_now_ns();
	(void)peer;
	if (ours(b, at, data, len)) {
		atomic_store(&b->t_direct, now);
		nn_ov_notify(b->ov);
	}
}

static void on_edge(void *ctx, size_t at, size_t peer, bool up)
{
	bench *b = ctx;
	if (!up)
		return;
	size_t a = atomic_load(&b->a), t = atomic_load(&b->b);
	long long zero = 0, now = nn_ov_now_ns();
	if (at == a && peer == t)
		atomic_compare_exchange_strong(&b->t_edge_a, &zero, now);
	else if (at == t && peer == a)
		atomic_compare_exchange_strong(&b->t_edge_b, &zero, now);
	else
		return;
	/* only a wait for edges needs waking: a wake-up of the control thread in the middle of a
	 * connect sample would take a CPU from the loops it measures */
	if (atomic_load(&b->want_edges))
		nn_ov_notify(b->ov);
}

static bool admit(void *ctx, size_t at, size_t peer, bool inbound)
{
	bench *b = ctx;
	size_t x = atomic_load(&b->block_a), y = atomic_load(&b->block_b);
	(void)inbound;
	return !((at == x && peer == y) || (at == y && peer == x));
}

static void on_done(void *user, int status, const nn_id *target)
{
	bench *b = user;
	(void)target;
	atomic_store(&b->status, status);
	atomic_store(&b->t_cb, nn_ov_now_ns());
	nn_ov_notify(b->ov);
}

static void on_keys(void *user, int status, const nn_id *target, const nn_peer_keys *k)
{
	(void)k;
	on_done(user, status, target);
}

/* ---- one sample ---- */
static void sample_begin(bench *b, size_t a, size_t t)
{
	atomic_store(&b->t_msg, 0);
	atomic_store(&b->t_direct, 0);
	atomic_store(&b->t_edge_a, 0);
	atomic_store(&b->t_edge_b, 0);
	atomic_store(&b->t_cb, 0);
	atomic_store(&b->status, 1);
	atomic_store(&b->a, a);
	atomic_store(&b->b, t);
	atomic_fetch_add(&b->seq, 1);
}

static void payload(bench *b, uint8_t out[PAYLOAD])
{
	uint32_t magic = MAGIC, seq = atomic_load(&b->seq);
	memset(out, 0, PAYLOAD);
	memcpy(out, &magic, 4);
	memcpy(out + 4, &seq, 4);
}

static void send_fn(nn_node *n, void *arg)
{
	bench *b = arg;
	uint8_t p[PAYLOAD];
	payload(b, p);
	b->t0 = nn_ov_now_ns();
	b->rc = nn_node_send(n, nn_ov_id(b->ov, atomic_load(&b->b)), p, sizeof p);
}

static void direct_fn(nn_node *n, void *arg)
{
	bench *b = arg;
	uint8_t p[PAYLOAD];
	payload(b, p);
	b->t0 = nn_ov_now_ns();
	b->rc = nn_node_send_direct(n, nn_ov_id(b->ov, atomic_load(&b->b)), p, sizeof p, 5000,
				    on_done, b);
}

static void rdv_fn(nn_node *n, void *arg)
{
	bench *b = arg;
	b->t0 = nn_ov_now_ns();
	b->rc = nn_node_rendezvous(n, nn_ov_id(b->ov, atomic_load(&b->b)), 5000, on_keys, b);
}

static void dial_fn(nn_node *n, void *arg)
{
	bench *b = arg;
	size_t t = atomic_load(&b->b);
	b->t0 = nn_ov_now_ns();
	b->rc = nn_node_bootstrap(n, nn_ov_id(b->ov, t), nn_ov_addr(b->ov, t));
}

/* There is no public call to close one edge: use the node's single removal path. */
static void drop_fn(nn_node *n, void *arg)
{
	bench *b = arg;
	nn_node_drop_edge(n, nn_ov_id(b->ov, atomic_load(&b->b)), NN_TP_REASON_NORMAL);
}

static bool got_msg(void *arg) { return atomic_load(&((bench *)arg)->t_msg) != 0; }
static bool got_cb(void *arg) { return atomic_load(&((bench *)arg)->t_cb) != 0; }
static bool got_edges(void *arg)
{
	bench *b = arg;
	return atomic_load(&b->t_edge_a) && atomic_load(&b->t_edge_b);
}
static bool got_direct(void *arg)
{
	bench *b = arg;
	/* done, or the call failed (its callback reports it before any App frame could) */
	return atomic_load(&b->t_direct) ||
	       (atomic_load(&b->t_cb) && atomic_load(&b->status) != 0);
}

static double ms_since(const bench *b, long long t) { return (double)(t - b->t0) / 1e6; }

static void pause_ms(int ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000};
	nanosleep(&ts, NULL);
}

static bool no_edge(void *arg)
{
	bench *b = arg;
	size_t a = atomic_load(&b->a), t = atomic_load(&b->b);
	return !nn_ov_is_edge(b->ov, a, t) && !nn_ov_is_edge(b->ov, t, a);
}

/* A pair never sampled before that shares no edge (both ends asked). A dense overlay (N up to
 * 65 is a full mesh: every node wants 64 outgoing edges) has none: then a fresh pair's edge is
 * dropped first (counted in *dropped), with the pair refused by both ends' admission until
 * the sample starts, so maintenance does not dial it again meanwhile. */
static bool fresh_pair(bench *b, size_t *a, size_t *t, size_t *dropped)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int tries = 0; tries < 2000; tries++) {
			size_t x = pick(b), y = pick(b);
			size_t lo = x < y ? x : y, hi = x < y ? y : x;
			if (x == y || b->used[lo * b->n + hi])
				continue;
			bool edge = nn_ov_is_edge(b->ov, x, y) || nn_ov_is_edge(b->ov, y, x);
			if (edge && pass == 0)
				continue;
			b->used[lo * b->n + hi] = 1;
			*a = x;
			*t = y;
			if (edge) {
				atomic_store(&b->a, x);
				atomic_store(&b->b, y);
				atomic_store(&b->block_a, x);
				atomic_store(&b->block_b, y);
				(void)nn_ov_exec(b->ov, x, drop_fn, b);
				bool gone = nn_ov_wait(b->ov, no_edge, b, 2.0);
				pause_ms(20);
				atomic_store(&b->block_a, SIZE_MAX);
				atomic_store(&b->block_b, SIZE_MAX);
				if (!gone)
					continue;
				(*dropped)++;
			}
			return true;
		}
	}
	return false;
}

/* ---- latency ---- */
static void bench_latency(bench *b, size_t samples)
{
	double *all = calloc(samples, sizeof *all), *one = calloc(samples, sizeof *one);
	double *far = calloc(samples, sizeof *far);
	size_t nall = 0, none = 0, nfar = 0, lost = 0, errs = 0, warm = samples / 10 + 5;
	uint64_t late0 = atomic_load(&b->late);
	for (size_t s = 0; s < samples + warm; s++) {
		size_t a = pick(b), t = pick(b);
		if (a == t)
			t = (t + 1) % b->n;
		bool edge = nn_ov_is_edge(b->ov, a, t);
		sample_begin(b, a, t);
		if (nn_ov_exec(b->ov, a, send_fn, b) < 0 || b->rc < 0) {
			errs++;
			continue;
		}
		if (!nn_ov_wait(b->ov, got_msg, b, 2.0)) {
			lost += s >= warm;
			continue;
		}
		if (s < warm)
			continue;
		double ms = ms_since(b, atomic_load(&b->t_msg));
		all[nall++] = ms;
		if (edge)
			one[none++] = ms;
		else
			far[nfar++] = ms;
		pause_ms(2);
	}
	char tail[160];
	snprintf(tail, sizeof tail, ", not delivered in 2 s %zu, send errors %zu, late %llu (%zu nodes, "
		 "16-byte payload)", lost, errs,
		 (unsigned long long)(atomic_load(&b->late) - late0), b->n);
	nn_ov_print_dist("overlay-latency routed send->on_message", all, nall, tail);
	nn_ov_print_dist("overlay-latency   pairs with an edge (1 hop)", one, none, NULL);
	nn_ov_print_dist("overlay-latency   pairs without an edge", far, nfar, NULL);
	free(all);
	free(one);
	free(far);
}

/* ---- connect ---- */
static void bench_connect(bench *b, size_t samples)
{
	double *tot = calloc(samples, sizeof *tot), *ea = calloc(samples, sizeof *ea);
	double *eb = calloc(samples, sizeof *eb);
	size_t ntot = 0, nea = 0, neb = 0, fail = 0, timeouts = 0, errs = 0, dropped = 0;
	int last_err = 0;
	for (size_t s = 0; s < samples; s++) {
		size_t a, t;
		if (!fresh_pair(b, &a, &t, &dropped))
			break;
		sample_begin(b, a, t);
		if (nn_ov_exec(b->ov, a, direct_fn, b) < 0 || b->rc < 0) {
			errs++;
			continue;
		}
		if (!nn_ov_wait(b->ov, got_direct, b, 6.0)) {
			timeouts++;
		} else if (!atomic_load(&b->t_direct)) {
			fail++;
			last_err = atomic_load(&b->status);
		} else {
			tot[ntot++] = ms_since(b, atomic_load(&b->t_direct));
		}
		(void)nn_ov_wait(b->ov, got_cb, b, 6.0); /* the op's slot is free again */
		if (atomic_load(&b->t_edge_a))
			ea[nea++] = ms_since(b, atomic_load(&b->t_edge_a));
		if (atomic_load(&b->t_edge_b))
			eb[neb++] = ms_since(b, atomic_load(&b->t_edge_b));
		(void)nn_ov_exec(b->ov, a, drop_fn, b);
		pause_ms(5);
	}
	char tail[240];
	snprintf(tail, sizeof tail, ", failed %zu (last %s), no answer in 6 s %zu, call errors %zu "
		 "(%zu nodes, pairs without an edge; %zu of them had theirs dropped just before)",
		 fail, last_err ? nn_errname(last_err) : "-", timeouts, errs, b->n, dropped);
	nn_ov_print_dist("overlay-connect send_direct->on_direct (NodeID only)", tot, ntot, tail);
	nn_ov_print_dist("overlay-connect   caller's edge up (rendezvous+dial+handshake)", ea, nea,
			 NULL);
	nn_ov_print_dist("overlay-connect   target's edge up (first frame)", eb, neb, NULL);
	free(tot);
	free(ea);
	free(eb);
}

static void bench_rendezvous(bench *b, size_t samples)
{
	double *v = calloc(samples, sizeof *v);
	size_t nv = 0, fail = 0, timeouts = 0, errs = 0, dropped = 0;
	for (size_t s = 0; s < samples; s++) {
		size_t a, t;
		if (!fresh_pair(b, &a, &t, &dropped))
			break;
		sample_begin(b, a, t);
		if (nn_ov_exec(b->ov, a, rdv_fn, b) < 0 || b->rc < 0) {
			errs++;
			continue;
		}
		if (!nn_ov_wait(b->ov, got_cb, b, 6.0))
			timeouts++;
		else if (atomic_load(&b->status) != 0)
			fail++;
		else
			v[nv++] = ms_since(b, atomic_load(&b->t_cb));
		pause_ms(2);
	}
	char tail[160];
	snprintf(tail, sizeof tail, ", failed %zu, no answer in 6 s %zu, call errors %zu, "
		 "dropped edge first %zu", fail, timeouts, errs, dropped);
	nn_ov_print_dist("overlay-connect split: rendezvous alone (Hello->verified Reply)", v, nv,
			 tail);
	free(v);
}

static void bench_dial(bench *b, size_t samples)
{
	atomic_store(&b->want_edges, true);
	double *ea = calloc(samples, sizeof *ea), *eb = calloc(samples, sizeof *eb);
	size_t nea = 0, neb = 0, timeouts = 0, errs = 0, dropped = 0;
	for (size_t s = 0; s < samples; s++) {
		size_t a, t;
		if (!fresh_pair(b, &a, &t, &dropped))
			break;
		sample_begin(b, a, t);
		if (nn_ov_exec(b->ov, a, dial_fn, b) < 0 || b->rc < 0) {
			errs++;
			continue;
		}
		if (!nn_ov_wait(b->ov, got_edges, b, 6.0))
			timeouts++;
		if (atomic_load(&b->t_edge_a))
			ea[nea++] = ms_since(b, atomic_load(&b->t_edge_a));
		if (atomic_load(&b->t_edge_b))
			eb[neb++] = ms_since(b, atomic_load(&b->t_edge_b));
		(void)nn_ov_exec(b->ov, a, drop_fn, b);
		pause_ms(5);
	}
	char tail[120];
	snprintf(tail, sizeof tail, ", both edges not up in 6 s %zu, call errors %zu, dropped edge "
		 "first %zu", timeouts, errs, dropped);
	nn_ov_print_dist("overlay-connect split: dial+handshake to a known address, caller's edge up",
			 ea, nea, tail);
	nn_ov_print_dist("overlay-connect split: dial+handshake, target's edge up (first frame)", eb,
			 neb, NULL);
	atomic_store(&b->want_edges, false);
	free(ea);
	free(eb);
}

static size_t arg_num(int argc, char **argv, const char *name, size_t dflt)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return (size_t)strtoull(argv[i + 1], NULL, 10);
	return dflt;
}

static void print_counters(nn_ov *ov)
{
	nn_node_stats s;
	nn_ov_stats(ov, &s);
	printf("bench overlay-counters (all nodes):");
	uint64_t v;
	const char *name;
	for (size_t i = 0; (name = nn_node_stat(&s, i, &v)) != NULL; i++)
		if (v && (!strncmp(name, "dropped_", 8) || strstr(name, "fail") ||
			  !strcmp(name, "purged") || !strcmp(name, "repairs") ||
			  !strcmp(name, "local_repairs") || !strncmp(name, "connects_", 9) ||
			  !strcmp(name, "hellos_tx") || !strcmp(name, "punchbacks_ok")))
			printf(" %s %llu", name, (unsigned long long)v);
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	bool quick = nn_bench_quick(argc, argv);
	bench b = {.rng = {0x0ea1e55ull}};
	size_t nodes = arg_num(argc, argv, "--nodes", quick ? 40 : 200);
	size_t samples = arg_num(argc, argv, "--samples", quick ? 20 : 300);
	nn_ov_opts o = {
		.nodes = nodes,
		.threads = (unsigned)arg_num(argc, argv, "--threads", 2),
		/* quick: a faster tick fills the small mesh in seconds; full: the default 5 s */
		.tick_ms = (int64_t)arg_num(argc, argv, "--tick-ms", quick ? 500 : 0),
		.hooks = {.ctx = &b, .on_message = on_message, .on_direct = on_direct,
			  .on_edge = on_edge, .admit_edge = admit},
	};
	atomic_store(&b.a, SIZE_MAX);
	atomic_store(&b.b, SIZE_MAX);
	atomic_store(&b.block_a, SIZE_MAX);
	atomic_store(&b.block_b, SIZE_MAX);
	b.n = nodes;
	b.used = calloc(nodes * nodes, 1);
	int64_t t0 = nn_ov_now_ns();
	int rc = nn_ov_new(&b.ov, &o);
	if (rc < 0) {
		printf("bench overlay: could not start %zu nodes: %s\n", nodes, nn_strerror(rc));
		free(b.used);
		return 1;
	}
	rc = nn_ov_join(b.ov, quick ? 30 : 120);
	int64_t t1 = nn_ov_now_ns();
	nn_ov_shape sh;
	memset(&sh, 0, sizeof sh);
	bool joined = rc == 0;
	if (joined)
		/* the quiet window spans more than two maintenance ticks (fill runs per tick) */
		rc = nn_ov_settle(b.ov, quick ? 2.0 : 12.0, nodes / 10, quick ? 40 : 420, &sh);
	int64_t t2 = nn_ov_now_ns();
	printf("bench overlay-shape: %zu nodes on %u loop thread(s), joined in %.1f s, %s after "
	       "%.1f s: edges per node min %zu mean %.1f max %zu, outgoing min %zu, edge churn %llu "
	       "in the last window\n",
	       nodes, o.threads, (double)(t1 - t0) / 1e9, rc == 0 ? "settled" : "NOT settled",
	       (double)(t2 - t1) / 1e9, sh.min_edges, sh.mean_edges, sh.max_edges, sh.min_out,
	       (unsigned long long)sh.churn);
	fflush(stdout);
	if (joined) { /* a run that did not settle still measures, and says so above */
		bench_latency(&b, samples);
		bench_connect(&b, quick ? samples : samples * 2 / 3);
		bench_rendezvous(&b, quick ? samples : samples * 2 / 3);
		bench_dial(&b, quick ? samples : samples * 2 / 3);
		print_counters(b.ov);
	}
	nn_ov_free(b.ov);
	free(b.used);
	return 0;
}
