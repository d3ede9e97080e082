/* sim.c — survival at scale: the unmodified node runtime (node/ through nn_node_new_on) on the
 * in-memory transport in virtual time, with signatures, PoW, rate limits, maintenance and
 * discovery all on, under churn and attack. Seeded and deterministic: one scenario file + one
 * seed = one run, bit for bit (the last line prints a digest of the run to compare).
 *
 *   sim SCENARIO.txt [nodes=N] [seed=S] [key=value ...]    (arguments override the file)
 *
 * A scenario file is "key value" lines ('#' comments); keys and defaults in `struct scen`. One
 * markdown table per run: metric, value, goal, met. Exit status 1 when a metric named by a
 * `must` line misses its goal (the CI configurations name only what holds today; the table
 * shows every goal).
 *
 * Attackers run the same node code; the harness only bends their transport sink:
 *   - a silent dropper discards every Route frame (application data) not addressed to itself,
 *     and otherwise behaves (answers pings and lookups, keeps edges);
 *   - eclipse attackers are droppers too, minted near a victim (PoW + a shared prefix), all
 *     with source addresses in one /24 (the node's source-key hook gives every mem endpoint a
 *     synthetic IPv4 address: honest node i has its own /24, the attackers share 10.250.0.0/24);
 *   - the flooder is an honest-code node whose application calls nn_node_send at a high rate;
 *   - attacks adversaries (kind attacks) are ordinary members of one /24 whose sink also lets
 *     the harness capture the Route frames they forward and answer the Lookups sent to them;
 *     the harness writes crafted frames on their connections (forged contacts, replays, stale
 *     envelopes, unsolicited Neighbors, lying Pongs) and checks each is refused and counted.
 */
#include <sodium.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pow/pow.h"
#include "routing/control.h"
#include "tests/node/cluster.h"
#include "wire/wire.h"

/* ---- scenario ---- */
struct scen {
	char name[64];
	char kind[32];       /* baseline | churn | droppers | eclipse | attacks | flood | partition */
	uint32_t nodes;      /* live nodes after the join [300] */
	uint64_t seed;       /* [1] */
	int pow;             /* PoW difficulty (leading zero bits) [4] */
	uint32_t join_ms;    /* virtual ms between two joins [20] */
	uint32_t settle_s;   /* virtual s after the last join [120] */
	uint32_t pairs;      /* random pairs per delivery sample [500] */
	uint32_t churn_pct;  /* % of live nodes replaced per round [10] */
	uint32_t rounds;     /* churn rounds of round_s [5] */
	uint32_t round_s;    /* [60] */
	uint32_t droppers_pct; /* [20] */
	uint32_t attackers;  /* eclipse identities, attacks adversaries [256] */
	uint32_t near_bits;  /* eclipse: shared prefix with the victim beyond the PoW bits [6] */
	uint32_t flood_rate; /* flood frames per virtual second [100000] */
	uint32_t flood_ms;   /* flood duration [1000] */
	uint32_t part_s;     /* partition duration [60] */
	uint32_t heal_max_s; /* give up reconverging after [300] */
	uint32_t held_goal;  /* eclipse: most victim edges the attackers may hold [2] */
	uint32_t in_per_subnet; /* nn_node_opts.max_inbound_edges_per_subnet [0: the default, 8] */
	uint32_t edges_per_subnet; /* nn_node_opts.max_edges_per_subnet [0: the default, 2] */
	uint32_t near_per_subnet; /* nn_node_opts.max_near_edges_per_subnet [0: the default, 2] */
	uint32_t target_edges; /* nn_node_opts.target_edges [0: the default, 64] */
	char must[24][32];   /* metric keys whose goal must hold */
	size_t nmust;
};

static void scen_defaults(struct scen *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "unnamed");
	snprintf(s->kind, sizeof s->kind, "baseline");
	s->nodes = 300;
	s->seed = 1;
	s->pow = 4;
	s->join_ms = 20;
	s->settle_s = 120;
	s->pairs = 500;
	s->churn_pct = 10;
	s->rounds = 5;
	s->round_s = 60;
	s->droppers_pct = 20;
	s->attackers = 256;
	s->near_bits = 6;
	s->flood_rate = 100000;
	s->flood_ms = 1000;
	s->part_s = 60;
	s->heal_max_s = 300;
	s->held_goal = 2;
}

static int scen_set(struct scen *s, const char *k, const char *v)
{
#define U(f)                                                                                       \
	if (!strcmp(k, #f)) {                                                                      \
		s->f = (uint32_t)strtoul(v, NULL, 10);                                             \
		return 0;                                                                          \
	}
	U(nodes) U(join_ms) U(settle_s) U(pairs) U(churn_pct) U(rounds) U(round_s)
	U(droppers_pct) U(attackers) U(near_bits) U(flood_rate) U(flood_ms) U(part_s) U(heal_max_s) U(in_per_subnet) U(edges_per_subnet) U(near_per_subnet) U(target_edges) U(held_goal)
#undef U
	if (!strcmp(k, "seed")) {
		s->seed = strtoull(v, NULL, 10);
		return 0;
	}
	if (!strcmp(k, "pow")) {
		s->pow = atoi(v);
		return 0;
	}
	if (!strcmp(k, "name")) {
		snprintf(s->name, sizeof s->name, "%s", v);
		return 0;
	}
	if (!strcmp(k, "kind")) {
		snprintf(s->kind, sizeof s->kind, "%s", v);
		return 0;
	}
	if (!strcmp(k, "must") && s->nmust < 24) {
		snprintf(s->must[s->nmust++], sizeof s->must[0], "%s", v);
		return 0;
	}
	fprintf(stderr, "sim: unknown key '%s'\n", k);
	return -1;
}

static int scen_load(struct scen *s, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	char line[256];
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		char k[64], v[128];
		if (sscanf(line, "%63s %127s", k, v) == 2 && scen_set(s, k, v) < 0)
			rc = -1;
	}
	fclose(f);
	return rc;
}

/* ---- the table ---- */
struct row {
	char key[32], what[96], value[48], goal[32];
	int met; /* 1 yes, 0 no, -1 no goal */
};
static struct row rows[96];
static size_t nrows;

static void row(const char *key, const char *what, int met, const char *goal, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void row(const char *key, const char *what, int met, const char *goal, const char *fmt, ...)
{
	if (nrows == sizeof rows / sizeof rows[0])
		return;
	struct row *r = &rows[nrows++];
	snprintf(r->key, sizeof r->key, "%s", key);
	snprintf(r->what, sizeof r->what, "%s", what);
	snprintf(r->goal, sizeof r->goal, "%s", goal ? goal : "");
	r->met = goal ? met : -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->value, sizeof r->value, fmt, ap);
	va_end(ap);
}

/* ---- the harness state ---- */
struct sim;
struct wrap {
	nn_tp_sink orig;
	nn_id self;
	uint64_t dropped;
	struct sim *S; /* attackers of the attacks scenario (bad 3) */
	uint32_t idx;
};

/* The attacks scenario: what its adversaries capture and forge (struct sim.atk). */
#define ATK_CAPTURE_MAX 256
struct captured {
	uint8_t frame[512];
	size_t len;
	uint32_t att;   /* the attacker slot that saw it */
	nn_id from;     /* the edge it came from (the previous hop) */
	nn_id target;
};
struct forged_rec {
	uint32_t victim;
	nn_id id;       /* the NodeID the forged contact claims */
	bool hijack;    /* an honest node's ID (else a made-up one) */
};
struct atk {
	bool capture, forge;
	struct captured *cap;
	size_t ncap;
	struct forged_rec *forged;
	size_t nforged, capforged;
	uint64_t answers; /* forged Neighbors answers sent */
};

struct sim {
	struct scen sc;
	cluster *cl;
	uint32_t cap;       /* nodes allocated (joins + churn + attackers) */
	uint32_t nhonest;   /* [0, nhonest) are the initial honest population slots */
	uint32_t next;      /* next unused slot */
	uint8_t *bad;       /* per slot: 0 honest, 1 dropper, 2 eclipse attacker, 3 attacks adversary */
	nn_time *joined;    /* per slot: virtual time of its start */
	struct wrap *w;     /* per slot */
	nn_test_rng rng;
	uint64_t tag;
	uint64_t digest;
	struct atk atk;
};

static double wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (size_t)res * 4096u;
}

/* heap bytes in use (glibc: arena + mmapped blocks, touched or not); 0 under ASan */
static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void mix(struct sim *S, uint64_t v)
{
	S->digest ^= v + 0x9e3779b97f4a7c15ull + (S->digest << 6) + (S->digest >> 2);
}

/* synthetic source keys: "n<i>" -> 10.x.y.1 (own /24) or 10.250.0.k for an eclipse attacker */
static unsigned src_of(void *user, const nn_addr *a, uint8_t ip[16], uint8_t subnet[16])
{
	const struct sim *S = user;
	if (a->ep_len < 2 || a->ep[0] != 'n')
		return 0;
	unsigned idx = (unsigned)strtoul(a->ep + 1, NULL, 10);
	if (idx >= S->cap)
		return 0;
	uint32_t v;
	if (S->bad[idx] == 2 || S->bad[idx] == 3)
		v = (10u << 24) | (250u << 16) | (idx & 0xff);
	else
		v = (10u << 24) + ((idx + 1) << 8) + 1; /* distinct /24 per slot (< 65,535 slots
							 * stay in 10/8; beyond, 11/8 ...) */
	memset(ip, 0, 16);
	ip[10] = ip[11] = 0xff;
	ip[12] = (uint8_t)(v >> 24);
	ip[13] = (uint8_t)(v >> 16);
	ip[14] = (uint8_t)(v >> 8);
	ip[15] = (uint8_t)v;
	memcpy(subnet, ip, 16);
	subnet[15] = 0;
	return NN_NODE_HAS_IP | NN_NODE_HAS_SUBNET;
}

/* ---- the dropper's sink: pass everything through but Route frames for someone else ---- */
static void w_on_conn(void *ctx, nn_conn *c)
{
	struct wrap *w = ctx;
	w->orig.on_conn(w->orig.ctx, c);
}
static void w_on_dial_failed(void *ctx, void *user, const nn_id *want, const nn_addr *addr, int err)
{
	struct wrap *w = ctx;
	w->orig.on_dial_failed(w->orig.ctx, user, want, addr, err);
}
static bool atk_on_frame(struct wrap *w, nn_conn *c, const uint8_t *d, size_t len);
static void w_on_frame(void *ctx, nn_conn *c, nn_pkt **p)
{
	struct wrap *w = ctx;
	const uint8_t *d = (*p)->data;
	size_t len = (*p)->len;
	if (w->S) {
		if (!atk_on_frame(w, c, d, len))
			w->orig.on_frame(w->orig.ctx, c, p);
		return;
	}
	if (len > 2 && d[1] == NN_T_ROUTE) {
		uint64_t plen;
		int h = nn_uvarint_get(d + 2, len - 2, &plen);
		if (h > 0 && len >= 2 + (size_t)h + NN_ID_LEN &&
		    memcmp(d + 2 + h, w->self.b, NN_ID_LEN) != 0) {
			w->dropped++;
			return; /* lent packet: the transport takes it back */
		}
	}
	w->orig.on_frame(w->orig.ctx, c, p);
}
static void w_on_datagram(void *ctx, nn_conn *c, nn_pkt **p)
{
	struct wrap *w = ctx;
	w->orig.on_datagram(w->orig.ctx, c, p);
}
static void w_on_writable(void *ctx, nn_conn *c)
{
	struct wrap *w = ctx;
	w->orig.on_writable(w->orig.ctx, c);
}
static void w_on_closed(void *ctx, nn_conn *c, int err, uint64_t reason)
{
	struct wrap *w = ctx;
	w->orig.on_closed(w->orig.ctx, c, err, reason);
}

static int start(struct sim *S, uint32_t i)
{
	int rc = cl_start(S->cl, i);
	if (rc < 0)
		return rc;
	cl_node *cn = &S->cl->nodes[i];
	nn_node_set_source_fn(cn->node, src_of, S);
	S->joined[i] = nn_clock_now(S->cl->clk);
	if (S->bad[i]) {
		struct wrap *w = &S->w[i];
		w->orig = cn->tp->sink;
		w->self = cn->id;
		w->S = S->bad[i] == 3 ? S : NULL;
		w->idx = i;
		nn_tp_sink s = {.ctx = w, .on_conn = w->orig.on_conn ? w_on_conn : NULL,
				.on_dial_failed = w->orig.on_dial_failed ? w_on_dial_failed : NULL,
				.on_frame = w_on_frame,
				.on_datagram = w->orig.on_datagram ? w_on_datagram : NULL,
				.on_writable = w->orig.on_writable ? w_on_writable : NULL,
				.on_closed = w->orig.on_closed ? w_on_closed : NULL};
		nn_tp_set_sink(cn->tp, &s);
	}
	return 0;
}

static uint32_t rnd(struct sim *S, uint32_t n) { return (uint32_t)(nn_test_rng_next(&S->rng) % n); }

static uint32_t random_live(struct sim *S, bool honest_only)
{
	for (;;) {
		uint32_t v = rnd(S, S->next);
		if (S->cl->nodes[v].up && (!honest_only || !S->bad[v]))
			return v;
	}
}

/* Start slots [from, to): each bootstraps from a random node already up, join_ms apart. */
static int join_range(struct sim *S, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		int rc = start(S, i);
		if (rc < 0)
			return rc;
		if (S->next <= i)
			S->next = i + 1;
		if (i == 0)
			continue;
		uint32_t via;
		do
			via = rnd(S, i);
		while (!S->cl->nodes[via].up || S->bad[via]);
		rc = cl_bootstrap(S->cl, i, via);
		if (rc < 0)
			return rc;
		cl_run(S->cl, (nn_time)S->sc.join_ms * NN_MS);
	}
	return 0;
}

/* Send one message each from src[k] to dst[k], run `wait`, count copies at dst. */
/* First hops per message of the droppers scenario: what each send took, so that a resend can
 * avoid them (nn_node_send_ex). */
struct hops {
	nn_id id[NN_NODE_SEND_MAX_AVOID];
	size_t n;
};

static void send_avoiding(cluster *cl, uint32_t i, uint32_t j, uint64_t tag, struct hops *h)
{
	uint8_t payload[64];
	memset(payload, 0x42, sizeof payload);
	memcpy(payload, &tag, 8);
	nn_node_send_opts o = {.avoid = h->id, .navoid = h->n};
	if (nn_node_send_ex(cl->nodes[i].node, &cl->nodes[j].id, payload, sizeof payload, &o) < 0)
		return;
	for (size_t q = 0; q < o.nfirst && h->n < NN_NODE_SEND_MAX_AVOID; q++)
		h->id[h->n++] = o.first[q];
}

/* Send src[i] -> dst[i] (through nn_node_send_ex avoiding hops[i] and adding the first hops it
 * took when hops is not NULL), wait, and mark which arrived; returns how many arrived exactly
 * once. */
static size_t deliver_hops(struct sim *S, const uint32_t *src, const uint32_t *dst, size_t k,
			   nn_time wait, uint8_t *ok, struct hops *const *hops)
{
	cluster *cl = S->cl;
	size_t m0 = cl->nmsgs;
	uint64_t tag0 = S->tag;
	S->tag += k;
	for (size_t i = 0; i < k; i++) {
		if (hops)
			send_avoiding(cl, src[i], dst[i], tag0 + i, hops[i]);
		else
			(void)cl_send(cl, src[i], dst[i], tag0 + i);
		if (i % 64 == 63)
			cl_run(cl, 10 * NN_MS);
	}
	cl_run(cl, wait);
	uint32_t *cnt = calloc(k ? k : 1, sizeof *cnt);
	for (size_t i = m0; i < cl->nmsgs; i++) {
		uint64_t t = cl->msgs[i].tag;
		if (t >= tag0 && t < tag0 + k && cl->msgs[i].to == dst[t - tag0])
			cnt[t - tag0]++;
	}
	size_t once = 0;
	for (size_t i = 0; i < k; i++) {
		ok[i] = cnt[i] >= 1;
		once += cnt[i] == 1;
		mix(S, cnt[i]);
	}
	free(cnt);
	/* the record only grows: forget what was counted */
	cl->nmsgs = m0;
	return once;
}

static size_t deliver(struct sim *S, const uint32_t *src, const uint32_t *dst, size_t k, nn_time wait,
		      uint8_t *ok)
{
	return deliver_hops(S, src, dst, k, wait, ok, NULL);
}

/* A sample of `pairs` random honest live pairs (dst filter optional). */
static double sample(struct sim *S, size_t pairs, bool (*dst_ok)(struct sim *, uint32_t),
		     size_t *sent_out)
{
	uint32_t *a = calloc(pairs + 1, sizeof *a), *b = calloc(pairs + 1, sizeof *b);
	uint8_t *ok = calloc(pairs + 1, 1);
	size_t k = 0, tries = 0;
	while (k < pairs && tries++ < pairs * 1000) {
		uint32_t x = random_live(S, true), y = random_live(S, true);
		if (x == y || (dst_ok && !dst_ok(S, y)))
			continue;
		a[k] = x;
		b[k] = y;
		k++;
	}
	size_t once = deliver(S, a, b, k, 2 * NN_SEC, ok);
	free(a);
	free(b);
	free(ok);
	if (sent_out)
		*sent_out = k;
	return k ? 100.0 * (double)once / (double)k : 100.0;
}

static void edge_rows(struct sim *S)
{
	size_t below = 0, total = 0, live = 0;
	for (uint32_t i = 0; i < S->next; i++) {
		if (!S->cl->nodes[i].up || S->bad[i])
			continue;
		size_t e = cl_edges(S->cl, i);
		total += e;
		below += e < NN_ROUTING_KMIN;
		live++;
	}
	mix(S, total);
	row("edges_mean", "live edges per honest node (mean)", -1, NULL, "%.1f",
	    live ? (double)total / (double)live : 0.0);
	char g[32];
	snprintf(g, sizeof g, "0");
	row("below_kmin", "honest nodes below KMin edges", below == 0, g, "%zu", below);
}

static uint64_t stat_sum(struct sim *S, const char *name)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < S->next; i++) {
		if (!S->cl->nodes[i].up)
			continue;
		nn_node_stats st;
		nn_node_get_stats(S->cl->nodes[i].node, &st);
		uint64_t v;
		const char *nm;
		for (size_t k = 0; (nm = nn_node_stat(&st, k, &v)); k++)
			if (!strcmp(nm, name))
				sum += v;
	}
	return sum;
}

static void pct_row(const char *key, const char *what, double v, double goal)
{
	char g[32];
	if (goal > 0)
		snprintf(g, sizeof g, ">= %.0f%%", goal);
	row(key, what, goal > 0 ? v >= goal : -1, goal > 0 ? g : NULL, "%.2f%%", v);
}

/* ---- scenarios ---- */
static void run_baseline(struct sim *S)
{
	size_t k;
	double d = sample(S, S->sc.pairs, NULL, &k);
	char what[96];
	snprintf(what, sizeof what, "delivered exactly once, %zu random pairs", k);
	pct_row("delivery", what, d, 99);
}

static nn_time g_recent_since;
static bool joined_recently(struct sim *S, uint32_t i) { return S->joined[i] >= g_recent_since && i >= S->nhonest; }

static void run_churn(struct sim *S)
{
	uint32_t live = S->sc.nodes, per = live * S->sc.churn_pct / 100;
	double worst = 100, worst_new = 100, sum = 0;
	for (uint32_t r = 0; r < S->sc.rounds; r++) {
		nn_time t0 = nn_clock_now(S->cl->clk);
		for (uint32_t k = 0; k < per; k++) {
			uint32_t v = random_live(S, true);
			cl_kill(S->cl, v, false);
		}
		/* the fresh nodes arrive spread over the round */
		nn_time step = (nn_time)S->sc.round_s * NN_SEC / (per + 1);
		for (uint32_t k = 0; k < per && S->next < S->cap; k++) {
			uint32_t i = S->next++;
			if (start(S, i) < 0)
				continue;
			(void)cl_bootstrap(S->cl, i, random_live(S, true));
			cl_run(S->cl, step);
		}
		cl_run(S->cl, t0 + (nn_time)S->sc.round_s * NN_SEC - nn_clock_now(S->cl->clk));
		g_recent_since = t0;
		size_t kn = 0, ka = 0;
		double dn = sample(S, S->sc.pairs / 4 + 1, joined_recently, &kn);
		double d = sample(S, S->sc.pairs, NULL, &ka);
		char key[32], what[96];
		snprintf(key, sizeof key, "round%u", r);
		snprintf(what, sizeof what, "round %u: delivery, %zu random pairs", r, ka);
		pct_row(key, what, d, 99);
		snprintf(key, sizeof key, "round%u_new", r);
		snprintf(what, sizeof what, "round %u: to nodes joined this round (%zu pairs)", r, kn);
		pct_row(key, what, dn, 99);
		worst = d < worst ? d : worst;
		worst_new = dn < worst_new ? dn : worst_new;
		sum += d;
	}
	pct_row("worst", "worst round (random pairs)", worst, 99);
	pct_row("worst_new", "worst round (to nodes joined that round)", worst_new, 99);
	pct_row("mean", "mean over rounds", sum / S->sc.rounds, 0);
}

static void run_droppers(struct sim *S)
{
	size_t pairs = S->sc.pairs;
	uint32_t *a = malloc(pairs * sizeof *a), *b = malloc(pairs * sizeof *b);
	uint8_t *ok = malloc(pairs), *ok2 = malloc(pairs);
	size_t k = 0;
	while (k < pairs) {
		uint32_t x = random_live(S, true), y = random_live(S, true);
		if (x == y)
			continue;
		a[k] = x;
		b[k] = y;
		k++;
	}
	struct hops *h = calloc(k ? k : 1, sizeof *h);
	struct hops **hp = malloc((k ? k : 1) * sizeof *hp);
	for (size_t i = 0; i < k; i++)
		hp[i] = &h[i];
	size_t once = deliver_hops(S, a, b, k, 2 * NN_SEC, ok, hp);
	size_t got = 0;
	for (size_t i = 0; i < k; i++)
		got += ok[i];
	uint8_t *ok1 = malloc(k ? k : 1);
	memcpy(ok1, ok, k);
	/* the application resends what was not acknowledged (the harness is the oracle for the
	 * ack), twice: (1) plain nn_node_send, a fresh envelope over the same first hops whenever
	 * the edges did not change; (2) from the same one-launch outcome, nn_node_send_ex avoiding
	 * the first hops of every earlier attempt of that message */
	size_t after_plain = got, after = got;
	for (int fresh = 0; fresh < 2; fresh++) {
		if (fresh)
			memcpy(ok, ok1, k);
		size_t *count = fresh ? &after : &after_plain;
		for (int retry = 0; retry < 2; retry++) {
			size_t m = 0;
			uint32_t *ra = malloc(k * sizeof *ra), *rb = malloc(k * sizeof *rb);
			size_t *idx = malloc(k * sizeof *idx);
			for (size_t i = 0; i < k; i++)
				if (!ok[i]) {
					ra[m] = a[i];
					rb[m] = b[i];
					hp[m] = &h[i];
					idx[m++] = i;
				}
			deliver_hops(S, ra, rb, m, 2 * NN_SEC, ok2, fresh ? hp : NULL);
			for (size_t i = 0; i < m; i++)
				if (ok2[i]) {
					ok[idx[i]] = 1;
					(*count)++;
				}
			free(ra);
			free(rb);
			free(idx);
		}
	}
	free(ok1);
	free(hp);
	free(h);
	uint64_t dropped = 0;
	uint32_t nd = 0;
	for (uint32_t i = 0; i < S->next; i++)
		if (S->bad[i]) {
			dropped += S->w[i].dropped;
			nd++;
		}
	char what[96];
	snprintf(what, sizeof what, "one launch, %zu honest pairs, %u%% droppers (%u)", k,
		 S->sc.droppers_pct, nd);
	pct_row("one_launch", what, 100.0 * (double)once / (double)k, 0);
	pct_row("with_resends", "+ 2 plain resends of unacknowledged sends (nn_node_send)",
		100.0 * (double)after_plain / (double)k, 0);
	pct_row("with_retries", "+ 2 resends over fresh first hops (nn_node_send_ex, avoid)",
		100.0 * (double)after / (double)k, 99);
	row("dropped", "Route frames the droppers swallowed", -1, NULL, "%llu", (unsigned long long)dropped);
	free(a);
	free(b);
	free(ok);
	free(ok2);
}

/* Mint an identity with the PoW that shares `bits` leading bits with `near`. */
static void mint_near(struct sim *S, uint8_t seed[32], const nn_id *near, unsigned bits)
{
	for (;;) {
		nn_test_rng_fill(&S->cl->rng, seed, 32);
		nn_id id;
		nn_identity_id_from_seed(&id, NULL, seed);
		if (nn_pow_ok(&id, S->sc.pow) && nn_kad_cpl(&id, near) >= bits)
			return;
	}
}

static void run_eclipse(struct sim *S)
{
	cluster *cl = S->cl;
	uint32_t victim = random_live(S, true);
	const nn_id *vid = &cl->nodes[victim].id;
	unsigned bits = (unsigned)(S->sc.pow > 0 ? S->sc.pow : 0) + S->sc.near_bits;
	size_t honest_near = 0;
	for (uint32_t i = 0; i < S->next; i++)
		honest_near += i != victim && cl->nodes[i].up && nn_kad_cpl(&cl->nodes[i].id, vid) >= bits;
	double t0 = wall();
	uint32_t a0 = S->next, na = S->sc.attackers;
	for (uint32_t k = 0; k < na; k++) {
		uint32_t i = a0 + k;
		mint_near(S, cl->nodes[i].seed, vid, bits);
		nn_identity_id_from_seed(&cl->nodes[i].id, NULL, cl->nodes[i].seed);
		S->bad[i] = 2;
	}
	double mint_s = wall() - t0;
	/* every attacker dials the victim itself, then lives on as a member of the overlay */
	for (uint32_t k = 0; k < na; k++) {
		uint32_t i = a0 + k;
		if (start(S, i) < 0)
			continue;
		S->next = i + 1;
		(void)cl_bootstrap(cl, i, victim);
		cl_run(cl, 10 * NN_MS);
	}
	cl_run(cl, (nn_time)S->sc.round_s * NN_SEC * 3);
	nn_routing_edges *e = nn_node_edges(cl->nodes[victim].node);
	size_t len = nn_routing_edges_len(e), held = 0, held_out = 0;
	for (size_t q = 0; q < len; q++) {
		const nn_routing_edge *ed = nn_routing_edges_at(e, q);
		for (uint32_t k = 0; k < na; k++)
			if (nn_kad_id_eq(&ed->id, &cl->nodes[a0 + k].id)) {
				held++;
				held_out += ed->outgoing;
			}
	}
	mix(S, held);
	char what[96];
	snprintf(what, sizeof what, "attackers: %u in one /24, sharing %u bits with the victim", na, bits);
	row("attackers", what, -1, NULL, "%u (minted in %.1f s)", na, mint_s);
	row("honest_near", "honest nodes sharing those bits", -1, NULL, "%zu", honest_near);
	row("victim_edges", "victim's live edges", -1, NULL, "%zu", len);
	row("near_depth", "victim's near depth D (first knowledge bucket not full)", -1, NULL, "%u",
	    nn_node_near_depth(cl->nodes[victim].node));
	row("near_refused", "attackers refused by the victim's near share (dropped_inbound_near_subnet)",
	    -1, NULL, "%llu", (unsigned long long)cl->nodes[victim].node->stats.dropped_inbound_near_subnet);
	char hg[32];
	snprintf(hg, sizeof hg, "<= %u", S->sc.held_goal);
	row("held", "of them held by attackers (dialled by victim)", held <= S->sc.held_goal, hg,
	    "%zu (%zu)", held, held_out);
	/* routed delivery to the victim from random honest nodes */
	size_t pairs = S->sc.pairs;
	uint32_t *a = malloc(pairs * sizeof *a), *b = malloc(pairs * sizeof *b);
	uint8_t *ok = malloc(pairs);
	size_t k = 0;
	while (k < pairs) {
		uint32_t x = random_live(S, true);
		if (x == victim)
			continue;
		a[k] = x;
		b[k++] = victim;
	}
	size_t once = deliver(S, a, b, k, 2 * NN_SEC, ok);
	snprintf(what, sizeof what, "routed delivery to the victim, %zu honest senders", k);
	pct_row("to_victim", what, 100.0 * (double)once / (double)k, 99);
	uint64_t dropped = 0;
	for (uint32_t q = 0; q < na; q++)
		dropped += S->w[a0 + q].dropped;
	row("dropped", "Route frames the attackers swallowed", -1, NULL, "%llu", (unsigned long long)dropped);
	double other = sample(S, S->sc.pairs, NULL, &k);
	pct_row("others", "delivery between other honest pairs", other, 99);
	free(a);
	free(b);
	free(ok);
}

/* ---- the attacks scenario: adversaries (bad 3) run the node code; the harness captures and
 * forges frames on their edges ---- */

/* A routed frame (no avoid set) signed by `who`, with `sent` as given. */
static int atk_env(uint8_t *out, size_t cap, uint8_t type, const nn_id *target, uint8_t ttl,
		   const nn_identity *who, nn_time sent, const uint8_t *payload, size_t plen)
{
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	env.target = *target;
	env.ttl = ttl;
	memcpy(env.ed_pub, who->ed_pub, 32);
	env.sent = sent;
	env.payload = payload;
	env.plen = plen;
	uint8_t sig[64];
	if (nn_routing_env_sign(who, type, target, sent, payload, plen, sig) < 0)
		return -1;
	env.sig = sig;
	return nn_routing_frame_encode(out, cap, type, &env);
}

static nn_conn *atk_conn(struct sim *S, uint32_t att, const nn_id *to)
{
	const nn_routing_edge *e = nn_routing_edges_find(nn_node_edges(S->cl->nodes[att].node), to);
	return e ? e->conn : NULL;
}

/* The attacker's live edge closest to target (an honest one), or NULL. */
static nn_conn *atk_closest(struct sim *S, uint32_t att, const nn_id *target, nn_id *to)
{
	nn_routing_edges *e = nn_node_edges(S->cl->nodes[att].node);
	const nn_routing_edge *best = NULL;
	for (size_t q = 0; q < nn_routing_edges_len(e); q++) {
		const nn_routing_edge *ed = nn_routing_edges_at(e, q);
		if (!best || nn_kad_cmp_distance(target, &ed->id, &best->id) < 0)
			best = ed;
	}
	if (best && to)
		*to = best->id;
	return best ? best->conn : NULL;
}

static int slot_of(struct sim *S, const nn_id *id)
{
	for (uint32_t i = 0; i < S->next; i++)
		if (nn_kad_id_eq(&S->cl->nodes[i].id, id))
			return (int)i;
	return -1;
}

/* Answer a Lookup the lookup's origin sent us itself with a Neighbors that lists us (truly)
 * and 8 forged contacts: 4 honest nodes' IDs closest to the lookup target with our key and our
 * address (a hijack), and 4 made-up PoW-valid IDs with our key. The nonce is the origin's, so
 * the answer is solicited and within its budget. */
static bool atk_forge(struct wrap *w, nn_conn *c, const nn_routing_env *env, const nn_id *origin)
{
	struct sim *S = w->S;
	struct atk *A = &S->atk;
	if (!nn_kad_id_eq(&c->remote_id, origin) || env->plen != NN_ROUTING_NONCE_LEN)
		return false;
	int victim = slot_of(S, origin);
	if (victim < 0 || S->bad[victim])
		return false;
	nn_node *me = S->cl->nodes[w->idx].node;
	nn_identity who;
	if (nn_identity_from_seed(&who, S->cl->nodes[w->idx].seed) < 0)
		return false;
	static nn_routing_neighbors nb;
	nn_routing_neighbors_init(&nb, env->payload);
	/* the 4 honest nodes closest to the target (other than the victim) */
	uint32_t best[4];
	size_t nb4 = 0;
	for (uint32_t i = 0; i < S->next; i++) {
		if (S->bad[i] || !S->cl->nodes[i].up || (int)i == victim)
			continue;
		size_t k = nb4 < 4 ? nb4++ : 4;
		if (k == 4 && nn_kad_cmp_distance(&env->target, &S->cl->nodes[i].id,
						  &S->cl->nodes[best[3]].id) >= 0)
			continue;
		if (k == 4)
			k = 3;
		while (k > 0 && nn_kad_cmp_distance(&env->target, &S->cl->nodes[i].id,
						    &S->cl->nodes[best[k - 1]].id) < 0) {
			best[k] = best[k - 1];
			k--;
		}
		best[k] = i;
	}
	for (size_t q = 0; q < 8; q++) {
		nn_routing_contact f;
		memset(&f, 0, sizeof f);
		bool hijack = q < nb4;
		if (hijack) {
			f.id = S->cl->nodes[best[q]].id;
		} else {
			nn_test_rng_fill(&S->rng, f.id.b, NN_ID_LEN);
			for (int b = 0; b < S->sc.pow && b < 256; b++)
				f.id.b[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		}
		memcpy(f.ed_pub, who.ed_pub, 32); /* our key: it does not hash to f.id */
		f.naddrs = 1;
		f.addrs[0] = me->self_contact.addrs[0];
		if (nn_routing_neighbors_append(&nb, &f) < 0)
			break;
		if (A->nforged == A->capforged) {
			size_t cap = A->capforged ? 2 * A->capforged : 1024;
			struct forged_rec *g = realloc(A->forged, cap * sizeof *g);
			if (!g)
				break;
			A->forged = g;
			A->capforged = cap;
		}
		A->forged[A->nforged++] = (struct forged_rec){(uint32_t)victim, f.id, hijack};
	}
	(void)nn_routing_neighbors_append(&nb, &me->self_contact);
	static uint8_t pl[NN_WIRE_MAX_FRAME], fr[NN_WIRE_MAX_FRAME];
	int plen = nn_routing_neighbors_encode(pl, sizeof pl, &nb);
	int len = plen < 0 ? plen
			   : atk_env(fr, sizeof fr, NN_T_NEIGHBORS, origin, 1, &who,
				     nn_clock_wall(S->cl->clk), pl, (size_t)plen);
	nn_identity_wipe(&who);
	if (len < 0 || nn_tp_send(S->cl->nodes[w->idx].tp, c, fr, (size_t)len) < 0)
		return false;
	A->answers++;
	return true; /* the Lookup is ours: the node does not answer it too */
}

/* true: the frame was consumed by the harness */
static bool atk_on_frame(struct wrap *w, nn_conn *c, const uint8_t *d, size_t len)
{
	struct atk *A = &w->S->atk;
	if (len < 3 || (d[1] != NN_T_ROUTE && d[1] != NN_T_LOOKUP))
		return false;
	uint8_t t;
	nn_routing_env env;
	if (nn_routing_frame_decode(d, len, &t, &env) < 0)
		return false;
	if (t == NN_T_ROUTE && A->capture && A->ncap < ATK_CAPTURE_MAX && len <= 512 &&
	    !nn_kad_id_eq(&env.target, &w->self)) {
		struct captured *k = &A->cap[A->ncap++];
		memcpy(k->frame, d, len);
		k->len = len;
		k->att = w->idx;
		k->from = c->remote_id;
		k->target = env.target;
	}
	if (t == NN_T_LOOKUP && A->forge) {
		nn_id origin;
		nn_identity_node_id(&origin, env.ed_pub);
		return atk_forge(w, c, &env, &origin);
	}
	return false;
}

/* Honest pairs whose launch takes an adversary as a first hop (the sender holds no edge to the
 * target, and an adversary is among its 3 edges closest to it): the adversary forwards them
 * (and may capture them). Delivery among them, as a percentage; *k pairs. */
static double atk_through(struct sim *S, size_t pairs, size_t *kout)
{
	cluster *cl = S->cl;
	uint32_t *a = calloc(pairs + 1, sizeof *a), *b = calloc(pairs + 1, sizeof *b);
	uint8_t *ok = calloc(pairs + 1, 1);
	size_t k = 0;
	for (size_t tries = 0; k < pairs && tries < pairs * 200; tries++) {
		uint32_t x = random_live(S, true), y = random_live(S, true);
		nn_routing_edges *e = nn_node_edges(cl->nodes[x].node);
		if (x == y || nn_routing_edges_find(e, &cl->nodes[y].id))
			continue;
		const nn_routing_edge *first[NN_ROUTING_KMIN];
		size_t nf = nn_routing_edges_closest(e, &cl->nodes[y].id, NN_ROUTING_KMIN, NULL, 0, first);
		bool via = false;
		for (size_t q = 0; q < nf && !via; q++) {
			int at = slot_of(S, &first[q]->id);
			via = at >= 0 && S->bad[at] == 3;
		}
		if (!via)
			continue;
		a[k] = x;
		b[k++] = y;
	}
	size_t once = deliver(S, a, b, k, 2 * NN_SEC, ok);
	free(a);
	free(b);
	free(ok);
	*kout = k;
	return k ? 100.0 * (double)once / (double)k : 100.0;
}

/* Honest delivery between random honest pairs (not the attackers), as a percentage. */
static double atk_honest(struct sim *S, size_t pairs)
{
	size_t k;
	return sample(S, pairs, NULL, &k);
}

/* Deliveries recorded since m0 (the harness sent nothing itself meanwhile: all are replays or
 * forgeries that got through); forgets them. */
static size_t atk_new_deliveries(struct sim *S, size_t m0)
{
	size_t got = S->cl->nmsgs - m0;
	S->cl->nmsgs = m0;
	return got;
}

static uint64_t stat2(struct sim *S, const char *a, const char *b)
{
	return stat_sum(S, a) + (b ? stat_sum(S, b) : 0);
}

/* Replay every captured frame byte for byte: to the edge it came from and to our edge closest
 * to its target. Returns how many copies went out. */
static size_t atk_replay(struct sim *S)
{
	struct atk *A = &S->atk;
	size_t sent = 0;
	for (size_t q = 0; q < A->ncap; q++) {
		struct captured *k = &A->cap[q];
		if (!S->cl->nodes[k->att].up)
			continue;
		nn_tp *tp = S->cl->nodes[k->att].tp;
		nn_conn *back = atk_conn(S, k->att, &k->from);
		nn_conn *fwd = atk_closest(S, k->att, &k->target, NULL);
		if (back && nn_tp_send(tp, back, k->frame, k->len) == 0)
			sent++;
		if (fwd && fwd != back && nn_tp_send(tp, fwd, k->frame, k->len) == 0)
			sent++;
		if (q % 32 == 31)
			cl_run(S->cl, 10 * NN_MS);
	}
	return sent;
}

static void run_attacks(struct sim *S)
{
	cluster *cl = S->cl;
	struct atk *A = &S->atk;
	A->cap = calloc(ATK_CAPTURE_MAX, sizeof *A->cap);
	uint32_t a0 = S->next, na = S->sc.attackers;
	/* the adversaries join as ordinary members (all in one /24, 10.250.0.0/24) */
	for (uint32_t k = 0; k < na; k++) {
		uint32_t i = a0 + k;
		S->bad[i] = 3;
		if (start(S, i) < 0)
			continue;
		S->next = i + 1;
		(void)cl_bootstrap(cl, i, random_live(S, true));
		cl_run(cl, 20 * NN_MS);
	}
	cl_run(cl, 30 * NN_SEC);
	size_t att_edges = 0;
	for (uint32_t k = 0; k < na; k++)
		att_edges += cl_edges(cl, a0 + k);
	char what[96], goal[32];
	snprintf(what, sizeof what, "adversaries: %u in one /24 (their live edges)", na);
	row("adversaries", what, -1, NULL, "%u (%zu)", na, att_edges);

	/* (1) forged key<->ID contacts: for 30 s the adversaries answer every Lookup an honest
	 * node sends them with 8 forged contacts (4 hijacking honest IDs near the target, 4
	 * made up), all under the adversary's own key */
	uint64_t fc0 = stat_sum(S, "dropped_forged_contact");
	A->forge = true;
	cl_run(cl, 30 * NN_SEC);
	A->forge = false;
	uint64_t fc = stat_sum(S, "dropped_forged_contact") - fc0;
	size_t accepted = 0, checked = 0;
	for (size_t q = 0; q < A->nforged; q++) {
		const struct forged_rec *f = &A->forged[q];
		if (!cl->nodes[f->victim].up)
			continue;
		checked++;
		nn_routing_kt *kt = nn_node_knowledge(cl->nodes[f->victim].node);
		const nn_routing_kc *kc = nn_routing_kt_get(kt, &f->id, NULL);
		nn_routing_contact ctv, *ct = kc ? &ctv : NULL;
		if (kc)
			nn_routing_kc_contact(&ctv, kc);
		if (!f->hijack) {
			accepted += ct != NULL || nn_routing_kt_is_cached(kt, &f->id);
			continue;
		}
		/* a hijacked ID the victim knows must keep its own key and no adversary address */
		bool bad = ct && nn_routing_contact_check_key(ct) != 0;
		for (size_t a = 0; ct && a < ct->naddrs; a++) {
			int at = -1;
			if (ct->addrs[a].ep_len > 1 && ct->addrs[a].ep[0] == 'n')
				at = atoi(ct->addrs[a].ep + 1);
			bad |= at >= (int)a0 && at < (int)(a0 + na);
		}
		accepted += bad;
	}
	mix(S, fc);
	mix(S, accepted);
	snprintf(what, sizeof what, "forged contacts sent in %llu solicited answers",
		 (unsigned long long)A->answers);
	row("forged_sent", what, -1, NULL, "%zu", A->nforged);
	row("forged_counted", "  counted by the victims (dropped_forged_contact)", fc > 0 && fc <= A->nforged,
	    "> 0", "%llu", (unsigned long long)fc);
	row("forged_accepted", "  taken into a victim's table (hijack or made-up)", accepted == 0, "0",
	    "%zu of %zu", accepted, checked);

	/* (2) replays: the adversaries capture the Route frames they forward during an honest
	 * sample, then resend each byte for byte (to the hop it came from and to their edge
	 * closest to its target) about 2 s later, inside the freshness window */
	A->capture = true;
	double h1 = atk_honest(S, S->sc.pairs);
	size_t kthrough;
	double hv = atk_through(S, S->sc.pairs, &kthrough);
	A->capture = false;
	const char *rp = "dropped_transit_replay", *dp = "dropped_dup";
	uint64_t c0 = stat2(S, rp, dp), cf0 = stat_sum(S, "forwarded");
	/* a control window of 50 ms (links take 1 ms, so a replay meets its fate well inside
	 * it): what maintenance alone adds to the counters meanwhile */
	cl_run(cl, 50 * NN_MS);
	uint64_t noise = stat2(S, rp, dp) - c0, noise_f = stat_sum(S, "forwarded") - cf0;
	size_t m0 = cl->nmsgs;
	uint64_t r0 = stat_sum(S, rp), d0 = stat_sum(S, dp), f0 = stat_sum(S, "forwarded");
	uint64_t nr0 = stat_sum(S, "dropped_no_route"), rl0 = stat_sum(S, "dropped_rate_limited"),
		 vb0 = stat_sum(S, "dropped_verify_budget"), tt0 = stat_sum(S, "dropped_ttl");
	size_t nrep = atk_replay(S);
	cl_run(cl, 50 * NN_MS);
	uint64_t rr = stat_sum(S, rp) - r0, rd = stat_sum(S, dp) - d0,
		 rf = stat_sum(S, "forwarded") - f0, rn = stat_sum(S, "dropped_no_route") - nr0;
	size_t rdel = atk_new_deliveries(S, m0);
	mix(S, rr + rd);
	mix(S, rdel);
	snprintf(what, sizeof what, "replayed Route frames (%zu captured), ~2 s after capture", A->ncap);
	row("replays_sent", what, -1, NULL, "%zu", nrep);
	snprintf(goal, sizeof goal, ">= %zu", nrep);
	/* every copy ends in one counted drop: a replay at a hop that forwarded (or signed) it,
	 * a duplicate at the target, or -- sent to a hop that never saw the original, outside
	 * its avoid set -- an ordinary transit frame that dies at a local optimum */
	row("replays_counted", "  dropped: transit_replay + dup (target) + no_route (first sight)",
	    rr + rd + rn >= nrep, goal, "%llu + %llu + %llu", (unsigned long long)rr,
	    (unsigned long long)rd, (unsigned long long)rn);
	row("replays_other", "  other drops meanwhile: no route / rate limit / verify budget / TTL", -1,
	    NULL, "%llu / %llu / %llu / %llu",
	    (unsigned long long)(stat_sum(S, "dropped_no_route") - nr0),
	    (unsigned long long)(stat_sum(S, "dropped_rate_limited") - rl0),
	    (unsigned long long)(stat_sum(S, "dropped_verify_budget") - vb0),
	    (unsigned long long)(stat_sum(S, "dropped_ttl") - tt0));

	row("replays_noise", "  (control 50 ms before: replay+dup, forwarded)", -1, NULL, "%llu, %llu",
	    (unsigned long long)noise, (unsigned long long)noise_f);
	row("replays_forwarded", "  frames forwarded by honest nodes in the replay 50 ms", -1, NULL,
	    "%llu", (unsigned long long)rf);
	row("replays_delivered", "  replays delivered to an application", rdel == 0, "0", "%zu", rdel);

	/* (3) stale envelopes: (a) the captured frames replayed again after the freshness window
	 * (31 s later); (b) fresh envelopes the adversaries sign with `sent` outside +-30 s, to
	 * random honest targets over their closest edge */
	cl_run(cl, 31 * NN_SEC);
	m0 = cl->nmsgs;
	uint64_t s0 = stat_sum(S, "dropped_stale");
	size_t nlate = atk_replay(S);
	static const nn_time skew[] = {-31 * NN_SEC, 31 * NN_SEC, -3600 * NN_SEC, INT64_MIN, INT64_MAX};
	size_t nstale = 0;
	for (uint32_t k = 0; k < na; k++) {
		uint32_t i = a0 + k;
		if (!cl->nodes[i].up)
			continue;
		nn_identity who;
		if (nn_identity_from_seed(&who, cl->nodes[i].seed) < 0)
			continue;
		for (size_t q = 0; q < 4 * (sizeof skew / sizeof skew[0]); q++) {
			uint32_t y = random_live(S, true);
			nn_conn *c = atk_closest(S, i, &cl->nodes[y].id, NULL);
			nn_time now = nn_clock_wall(cl->clk), sk = skew[q % (sizeof skew / sizeof skew[0])];
			nn_time sent = sk == INT64_MIN || sk == INT64_MAX ? sk : now + sk;
			uint8_t pl[64], fr[512];
			memset(pl, 0x5a, sizeof pl);
			uint64_t tg = S->tag++;
			memcpy(pl, &tg, 8);
			int len = atk_env(fr, sizeof fr, NN_T_ROUTE, &cl->nodes[y].id, 16, &who, sent, pl,
					  sizeof pl);
			if (c && len > 0 && nn_tp_send(cl->nodes[i].tp, c, fr, (size_t)len) == 0)
				nstale++;
		}
		nn_identity_wipe(&who);
		cl_run(cl, 5 * NN_MS);
	}
	cl_run(cl, NN_SEC);
	uint64_t st = stat_sum(S, "dropped_stale") - s0;
	size_t sdel = atk_new_deliveries(S, m0);
	mix(S, st);
	row("stale_sent", "stale envelopes: late replays (+31 s) + signed out of +-30 s", -1, NULL,
	    "%zu + %zu", nlate, nstale);
	snprintf(goal, sizeof goal, ">= %zu", nlate + nstale);
	row("stale_counted", "  dropped at the first honest hop (dropped_stale)", st >= nlate + nstale,
	    goal, "%llu", (unsigned long long)st);
	row("stale_delivered", "  stale envelopes delivered", sdel == 0, "0", "%zu", sdel);

	/* (4) unsolicited Neighbors: each adversary sends every edge a one-hop Neighbors under a
	 * nonce nobody sent, and 4 routed ones to random honest nodes, listing 8 sybils (real
	 * PoW identities with the adversary's address) */
	nn_routing_contact syb[8];
	for (size_t q = 0; q < 8; q++) {
		memset(&syb[q], 0, sizeof syb[q]);
		uint8_t sd[32];
		for (;;) {
			nn_test_rng_fill(&S->rng, sd, 32);
			nn_identity_id_from_seed(&syb[q].id, syb[q].ed_pub, sd);
			if (nn_pow_ok(&syb[q].id, S->sc.pow))
				break;
		}
		syb[q].naddrs = 1;
	}
	uint64_t u0 = stat_sum(S, "dropped_unsolicited");
	size_t nuns = 0;
	for (uint32_t k = 0; k < na; k++) {
		uint32_t i = a0 + k;
		if (!cl->nodes[i].up)
			continue;
		nn_node *me = cl->nodes[i].node;
		nn_identity who;
		if (nn_identity_from_seed(&who, cl->nodes[i].seed) < 0)
			continue;
		static nn_routing_neighbors nb;
		uint8_t nonce[NN_ROUTING_NONCE_LEN];
		nn_test_rng_fill(&S->rng, nonce, sizeof nonce);
		nn_routing_neighbors_init(&nb, nonce);
		for (size_t q = 0; q < 8; q++) {
			syb[q].addrs[0] = me->self_contact.addrs[0];
			(void)nn_routing_neighbors_append(&nb, &syb[q]);
		}
		(void)nn_routing_neighbors_append(&nb, &me->self_contact);
		static uint8_t pl[NN_WIRE_MAX_FRAME], fr[NN_WIRE_MAX_FRAME];
		int plen = nn_routing_neighbors_encode(pl, sizeof pl, &nb);
		nn_routing_edges *e = nn_node_edges(me);
		for (size_t q = 0; plen > 0 && q < nn_routing_edges_len(e); q++) {
			const nn_routing_edge *ed = nn_routing_edges_at(e, q);
			int len = atk_env(fr, sizeof fr, NN_T_NEIGHBORS, &ed->id, 1, &who,
					  nn_clock_wall(cl->clk), pl, (size_t)plen);
			if (len > 0 && nn_tp_send(cl->nodes[i].tp, ed->conn, fr, (size_t)len) == 0)
				nuns++;
		}
		for (size_t q = 0; plen > 0 && q < 4; q++) {
			uint32_t y = random_live(S, true);
			nn_conn *c = atk_closest(S, i, &cl->nodes[y].id, NULL);
			int len = atk_env(fr, sizeof fr, NN_T_NEIGHBORS, &cl->nodes[y].id, 16, &who,
					  nn_clock_wall(cl->clk), pl, (size_t)plen);
			if (c && len > 0 && nn_tp_send(cl->nodes[i].tp, c, fr, (size_t)len) == 0)
				nuns++;
		}
		nn_identity_wipe(&who);
		cl_run(cl, 5 * NN_MS);
	}
	cl_run(cl, NN_SEC);
	uint64_t un = stat_sum(S, "dropped_unsolicited") - u0;
	size_t learned = 0;
	for (uint32_t i = 0; i < S->next; i++) {
		if (!cl->nodes[i].up || S->bad[i])
			continue;
		nn_routing_kt *kt = nn_node_knowledge(cl->nodes[i].node);
		for (size_t q = 0; q < 8; q++)
			learned += nn_routing_kt_get(kt, &syb[q].id, NULL) != NULL ||
				   nn_routing_kt_is_cached(kt, &syb[q].id);
	}
	mix(S, un);
	row("unsolicited_sent", "unsolicited Neighbors (one-hop to every edge + 4 routed each)", -1,
	    NULL, "%zu", nuns);
	row("unsolicited_counted", "  dropped by their targets (dropped_unsolicited)", un > 0 && un <= nuns,
	    "> 0", "%llu", (unsigned long long)un);
	row("unsolicited_learned", "  their 8 sybils in honest tables (node x sybil)", learned == 0, "0",
	    "%zu", learned);

	/* (5) lying reflexive reports: a fresh node joins; adversaries dial it at once and send
	 * it a Pong every 200 ms naming a fake address, for 28 s, while its honest edges report
	 * the truth. (a) one liar; (b) every adversary (one /24: a would-be quorum). The verdict is
	 * sampled every 10 ms for 2 s, then every 200 ms; it must never confirm the fake address. */
	nn_addr fake;
	(void)nn_addr_set(&fake, "quic", "198.51.100.7:4242");
	for (int variant = 0; variant < 2; variant++) {
		uint32_t v = S->next;
		if (v >= S->cap)
			break;
		S->next++;
		if (start(S, v) < 0)
			break;
		(void)cl_bootstrap(cl, v, random_live(S, true));
		uint32_t nl = variant == 0 ? 1 : na;
		for (uint32_t k = 0; k < nl; k++)
			(void)cl_bootstrap(cl, a0 + k, v);
		cl_run(cl, 20 * NN_MS);
		nn_node *vn = cl->nodes[v].node;
		uint64_t o0 = vn->stats.reflex_outvoted, q0 = vn->stats.reflex_one_subnet;
		size_t fooled = 0, samples = 0, pongs = 0;
		uint8_t fr[8 + NN_ADDR_TEXT_MAX];
		int flen = nn_routing_pong_frame(fr, sizeof fr, &fake);
		/* every 10 ms for the first 2 s (while honest reports are few), then every 200 ms */
		for (int t = 0; t < 330; t++) {
			for (uint32_t k = 0; k < nl && (t < 200 ? t % 20 == 0 : 1); k++) {
				nn_conn *c = atk_conn(S, a0 + k, &cl->nodes[v].id);
				if (c && flen > 0 && nn_tp_send(cl->nodes[a0 + k].tp, c, fr, (size_t)flen) == 0)
					pongs++;
			}
			cl_run(cl, (t < 200 ? 10 : 200) * NN_MS);
			samples++;
			fooled += vn->nat.confirmed && nn_addr_eq(&vn->nat.reflexive, &fake);
		}
		size_t liars = 0;
		for (uint32_t k = 0; k < nl; k++)
			liars += atk_conn(S, a0 + k, &cl->nodes[v].id) != NULL;
		char key[32], addr[NN_ADDR_TEXT_MAX];
		mix(S, fooled);
		snprintf(key, sizeof key, "reflex_%s", variant ? "quorum" : "liar");
		snprintf(what, sizeof what, "reflexive: %s (%zu with an edge), %zu lying Pongs",
			 variant ? "adversaries of one /24" : "one liar", liars, pongs);
		row(key, what, -1, NULL, "%zu", liars);
		snprintf(key, sizeof key, "reflex_%s_fooled", variant ? "quorum" : "liar");
		snprintf(what, sizeof what, "  samples (of %zu) confirming the fake address", samples);
		row(key, what, fooled == 0, "0", "%zu", fooled);
		snprintf(key, sizeof key, "reflex_%s_counted", variant ? "quorum" : "liar");
		uint64_t ov = vn->stats.reflex_outvoted - o0, os = vn->stats.reflex_one_subnet - q0;
		row(key, "  counted: outvoted / one-subnet quorum", ov + os > 0, "> 0", "%llu / %llu",
		    (unsigned long long)ov, (unsigned long long)os);
		snprintf(key, sizeof key, "reflex_%s_verdict", variant ? "quorum" : "liar");
		row(key, "  verdict at the end (votes / voters)", -1, NULL, "%s %s (%u/%u)",
		    nn_nat_type_name(vn->nat.type),
		    vn->nat.confirmed ? nn_addr_str(&vn->nat.reflexive, addr, sizeof addr) : "-",
		    vn->nat.votes, vn->nat.voters);
	}

	double h2 = atk_honest(S, S->sc.pairs);
	pct_row("honest_during", "honest delivery while the adversaries captured", h1, 99);
	snprintf(what, sizeof what, "  of messages launched through an adversary (%zu pairs)", kthrough);
	pct_row("honest_through", what, hv, 99);
	pct_row("honest", "honest delivery after the attacks", h2, 99);
	free(A->cap);
	free(A->forged);
}

static void run_flood(struct sim *S)
{
	cluster *cl = S->cl;
	uint32_t f = random_live(S, true);
	uint64_t f0 = cl->nodes[f].tp->stats.tx_frames;
	uint64_t rl0 = stat_sum(S, "dropped_rate_limited");
	uint64_t fw0 = stat_sum(S, "forwarded");
	size_t pairs = S->sc.pairs;
	uint32_t *a = malloc(pairs * sizeof *a), *b = malloc(pairs * sizeof *b);
	uint8_t *ok = malloc(pairs);
	size_t k = 0;
	while (k < pairs) {
		uint32_t x = random_live(S, true), y = random_live(S, true);
		if (x == y || x == f || y == f)
			continue;
		a[k] = x;
		b[k++] = y;
	}
	/* the flood: flood_rate sends per virtual second, in 1 ms steps, to random targets; the
	 * honest sample goes out spread over the same interval */
	uint64_t per_ms = S->sc.flood_rate / 1000, accepted = 0, refused = 0;
	uint64_t ftag0 = S->tag;
	S->tag += per_ms * S->sc.flood_ms;
	size_t m0 = cl->nmsgs, hk = 0;
	uint64_t htag0 = S->tag;
	S->tag += k;
	double t0 = wall();
	for (uint32_t ms = 0; ms < S->sc.flood_ms; ms++) {
		for (uint64_t q = 0; q < per_ms; q++) {
			uint32_t y = rnd(S, S->next);
			if (!cl->nodes[y].up || y == f)
				continue;
			int rc = cl_send(cl, f, y, ftag0 + ms * per_ms + q);
			if (rc == 0)
				accepted++;
			else
				refused++;
		}
		size_t until = (size_t)((uint64_t)k * (ms + 1) / S->sc.flood_ms);
		for (; hk < until; hk++)
			(void)cl_send(cl, a[hk], b[hk], htag0 + hk);
		cl_run(cl, NN_MS);
	}
	double flood_wall = wall() - t0;
	cl_run(cl, 2 * NN_SEC);
	size_t fdel = 0, once = 0;
	uint32_t *cnt = calloc(k, sizeof *cnt);
	for (size_t i = m0; i < cl->nmsgs; i++) {
		uint64_t t = cl->msgs[i].tag;
		if (t >= ftag0 && t < htag0)
			fdel++;
		else if (t >= htag0 && t < htag0 + k && cl->msgs[i].to == b[t - htag0])
			cnt[t - htag0]++;
	}
	for (size_t i = 0; i < k; i++)
		once += cnt[i] == 1;
	cl->nmsgs = m0;
	uint64_t f1 = cl->nodes[f].tp->stats.tx_frames;
	uint64_t rl = stat_sum(S, "dropped_rate_limited") - rl0;
	uint64_t fw = stat_sum(S, "forwarded") - fw0;
	mix(S, fdel);
	mix(S, once);
	char what[96];
	snprintf(what, sizeof what, "flood sends accepted by the flooder's node (%u/s for %u ms)",
		 S->sc.flood_rate, S->sc.flood_ms);
	row("flood_sent", what, -1, NULL, "%llu (refused %llu)", (unsigned long long)accepted,
	    (unsigned long long)refused);
	row("flood_frames", "frames the flooder put on its edges", -1, NULL, "%llu",
	    (unsigned long long)(f1 - f0));
	row("shed", "frames shed by rate limits (all nodes)", -1, NULL, "%llu", (unsigned long long)rl);
	row("forwarded", "frames forwarded by all nodes meanwhile", -1, NULL, "%llu", (unsigned long long)fw);
	row("flood_delivered", "flood messages delivered", -1, NULL, "%zu", fdel);
	snprintf(what, sizeof what, "honest delivery during the flood (%zu pairs)", k);
	pct_row("honest", what, 100.0 * (double)once / (double)k, 99);
	row("flood_wall", "wall time of the flood interval", -1, NULL, "%.1f s", flood_wall);
	free(cnt);
	free(a);
	free(b);
	free(ok);
}

static void run_partition(struct sim *S)
{
	cluster *cl = S->cl;
	/* two halves by slot parity: each half is spread over the whole ID space */
	for (uint32_t i = 0; i < S->next; i++)
		if (cl->nodes[i].up)
			nn_mem_partition(cl->nodes[i].tp, i & 1);
	cl_run(cl, (nn_time)S->sc.part_s * NN_SEC);
	size_t k;
	double during = sample(S, S->sc.pairs, NULL, &k);
	char what[96];
	snprintf(what, sizeof what, "delivery after %u s of partition (all pairs)", S->sc.part_s);
	pct_row("during", what, during, 0);
	nn_mem_heal(cl->hub);
	nn_time t0 = nn_clock_now(cl->clk);
	double d = 0;
	nn_time took = -1;
	while (nn_clock_now(cl->clk) - t0 < (nn_time)S->sc.heal_max_s * NN_SEC) {
		cl_run(cl, 10 * NN_SEC - 2 * NN_SEC);
		d = sample(S, S->sc.pairs, NULL, &k);
		if (d >= 99.0) {
			took = nn_clock_now(cl->clk) - t0;
			break;
		}
	}
	if (took >= 0)
		row("heal", "virtual time from heal to >= 99% delivery", took <= 120 * NN_SEC, "<= 120 s",
		    "%.0f s", (double)took / NN_SEC);
	else
		row("heal", "virtual time from heal to >= 99% delivery", 0, "<= 120 s", "> %u s (%.2f%%)",
		    S->sc.heal_max_s, d);
	mix(S, (uint64_t)took);
}

static size_t idmap_bytes(const nn_idmap *m) { return m->cap * m->stride; }

/* Where a node's creation-time bytes go: the same tables nn_node_new_on allocates, with its
 * starting sizes and caps (node/node.c), measured one by one (glibc heap; nothing under ASan);
 * then what the running nodes' tables hold at the end of the run (mean over nodes that are up). */
static void footprint_rows(const struct sim *S)
{
	nn_id self;
	memset(&self, 0x11, sizeof self);
	uint8_t key[16] = {1};
	size_t h = heap_bytes();
	if (!h)
		return;
	nn_routing_kt *kt = NULL;
	nn_routing_kt_opts ko = {.pow_difficulty = 0, .capacity = NN_NODE_KT_MAX};
	(void)nn_routing_kt_new(&kt, &self, &ko);
	size_t kt_b = heap_bytes() - h;
	h = heap_bytes();
	nn_routing_edges *e = NULL;
	(void)nn_routing_edges_new(&e, &self, NULL);
	size_t e_b = heap_bytes() - h;
	h = heap_bytes();
	nn_routing_dedup d;
	(void)nn_routing_dedup_init(&d, NN_NODE_TRANSIT_SEEN, 0, key);
	size_t d_b = heap_bytes() - h;
	h = heap_bytes();
	nn_olimit ol;
	(void)nn_olimit_init(&ol, NN_NODE_OLIMIT_MAX, key);
	size_t ol_b = heap_bytes() - h;
	h = heap_bytes();
	nn_idmap dm;
	(void)nn_idmap_init(&dm, NN_NODE_DIALS_MAX, sizeof(struct dialstate), key);
	size_t dm_b = heap_bytes() - h;
	row("fp_kt", "  of which knowledge table (at start; grows to 4096 contacts)", -1, NULL,
	    "%.1f KiB", (double)kt_b / 1024);
	row("fp_edges", "  edge table (default caps)", -1, NULL, "%.1f KiB", (double)e_b / 1024);
	row("fp_dedup", "  dedup tables: terminal + transit (at start; grow to 4096 / 65536)", -1,
	    NULL, "2 x %.1f KiB", (double)d_b / 1024);
	row("fp_olimit", "  per-originator limiter (at start; grows to 4096)", -1, NULL, "%.1f KiB",
	    (double)ol_b / 1024);
	row("fp_dials", "  dial states (at start; grow to 4096)", -1, NULL, "%.1f KiB",
	    (double)dm_b / 1024);
	nn_routing_kt_free(kt);
	nn_routing_edges_free(e);
	nn_routing_dedup_free(&d);
	nn_olimit_fini(&ol);
	nn_idmap_fini(&dm);
	/* the running nodes' tables */
	double skt = 0, sdd = 0, sol = 0, sdm = 0, sed = 0;
	size_t up = 0;
	for (uint32_t i = 0; i < S->next; i++) {
		if (!S->cl->nodes[i].up)
			continue;
		nn_node *n = S->cl->nodes[i].node;
		skt += (double)nn_routing_kt_bytes(n->kt);
		sdd += (double)(nn_routing_dedup_bytes(&n->dedup) + nn_routing_dedup_bytes(&n->transit));
		sol += (double)idmap_bytes(&n->olimit.map);
		sdm += (double)idmap_bytes(&n->dials);
		sed += (double)nn_routing_edges_bytes(n->edges);
		up++;
	}
	if (!up)
		return;
	row("fp_kt_now", "  after the run (mean): knowledge table", -1, NULL, "%.1f KiB",
	    skt / up / 1024);
	row("fp_edges_now", "  after the run (mean): edge table", -1, NULL, "%.1f KiB",
	    sed / up / 1024);
	row("fp_dedup_now", "  after the run (mean): dedup tables, both", -1, NULL, "%.1f KiB",
	    sdd / up / 1024);
	row("fp_olimit_now", "  after the run (mean): limiter + dial states", -1, NULL,
	    "%.1f + %.1f KiB", sol / up / 1024, sdm / up / 1024);
	row("fp_edge_cost", "  per edge end: mem conn + node conn record", -1, NULL, "%zu + %zu B",
	    nn_mem_conn_footprint(), sizeof(struct nconn));
}

int main(int argc, char **argv)
{
	struct sim S;
	memset(&S, 0, sizeof S);
	scen_defaults(&S.sc);
	if (argc < 2) {
		fprintf(stderr, "usage: sim SCENARIO.txt [key=value ...]\n");
		return 2;
	}
	if (scen_load(&S.sc, argv[1]) < 0)
		return 2;
	for (int i = 2; i < argc; i++) {
		char k[64];
		const char *eq = strchr(argv[i], '=');
		if (!eq || (size_t)(eq - argv[i]) >= sizeof k) {
			fprintf(stderr, "sim: bad argument '%s'\n", argv[i]);
			return 2;
		}
		memcpy(k, argv[i], (size_t)(eq - argv[i]));
		k[eq - argv[i]] = 0;
		if (scen_set(&S.sc, k, eq + 1) < 0)
			return 2;
	}
	struct scen *sc = &S.sc;
	if (cl_seed_randombytes(sc->seed) != 0 || sodium_init() < 0) {
		fprintf(stderr, "sim: cannot seed libsodium\n");
		return 2;
	}
	bool churn = !strcmp(sc->kind, "churn"), eclipse = !strcmp(sc->kind, "eclipse");
	bool attacks = !strcmp(sc->kind, "attacks");
	S.nhonest = sc->nodes;
	S.cap = sc->nodes + (churn ? sc->rounds * (sc->nodes * sc->churn_pct / 100 + 1) : 0) +
		(eclipse || attacks ? sc->attackers : 0) + (attacks ? 2 : 0);
	S.bad = calloc(S.cap, 1);
	S.joined = calloc(S.cap, sizeof *S.joined);
	S.w = calloc(S.cap, sizeof *S.w);
	S.rng.s = sc->seed * 0x2545f4914f6cdd1dull + 17;
	S.tag = 1u << 20;
	if (!strcmp(sc->kind, "droppers")) {
		uint32_t nd = sc->nodes * sc->droppers_pct / 100;
		for (uint32_t k = 0; k < nd;) {
			uint32_t v = 1 + rnd(&S, sc->nodes - 1);
			if (!S.bad[v]) {
				S.bad[v] = 1;
				k++;
			}
		}
	}
	size_t rss0 = rss_bytes(), heap0 = heap_bytes();
	double t0 = wall();
	nn_node_opts base;
	nn_node_opts_init(&base);
	base.max_inbound_edges_per_subnet = sc->in_per_subnet;
	base.max_edges_per_subnet = sc->edges_per_subnet;
	base.max_near_edges_per_subnet = sc->near_per_subnet;
	base.target_edges = sc->target_edges;
	S.cl = cl_new(S.cap, sc->seed, sc->pow, &base); /* mints every slot's PoW identity */
	double t_mint = wall() - t0;
	/* one node on its own: what a node allocates before it has any edge */
	size_t h0 = heap_bytes();
	if (start(&S, 0) < 0)
		return 1;
	size_t node_alloc = heap_bytes() - h0;
	cl_kill(S.cl, 0, false);
	t0 = wall();
	if (join_range(&S, 0, sc->nodes) < 0) {
		fprintf(stderr, "sim: join failed\n");
		return 1;
	}
	cl_run(S.cl, (nn_time)sc->settle_s * NN_SEC);
	double t_join = wall() - t0;
	size_t rss1 = rss_bytes(), heap1 = heap_bytes();
	size_t edges_total = 0, kt_total = 0, kt_cached = 0;
	for (uint32_t i = 0; i < S.next; i++)
		if (S.cl->nodes[i].up) {
			edges_total += cl_edges(S.cl, i);
			nn_routing_kt *kt = nn_node_knowledge(S.cl->nodes[i].node);
			kt_total += nn_routing_kt_size(kt);
			for (unsigned b = 0; b < NN_ROUTING_BUCKETS; b++)
				kt_cached += nn_routing_kt_cache_len(kt, b);
		}
	printf("# sim %s: kind %s, %u nodes, seed %llu, pow %d, join every %u ms, settle %u s, "
	       "inbound edges per /24 %u, live edges per /24 %u, near edges per /24 %u\n",
	       sc->name, sc->kind, sc->nodes, (unsigned long long)sc->seed, sc->pow, sc->join_ms,
	       sc->settle_s, sc->in_per_subnet ? sc->in_per_subnet : 8,
	       sc->edges_per_subnet ? sc->edges_per_subnet : 2,
	       sc->near_per_subnet ? sc->near_per_subnet : 2);
	if (sc->target_edges)
		printf("# outgoing edges kept per node (target_edges) %u\n", sc->target_edges);
	edge_rows(&S);
	t0 = wall();
	if (!strcmp(sc->kind, "baseline"))
		run_baseline(&S);
	else if (churn)
		run_churn(&S);
	else if (!strcmp(sc->kind, "droppers"))
		run_droppers(&S);
	else if (eclipse)
		run_eclipse(&S);
	else if (attacks)
		run_attacks(&S);
	else if (!strcmp(sc->kind, "flood"))
		run_flood(&S);
	else if (!strcmp(sc->kind, "partition"))
		run_partition(&S);
	else {
		fprintf(stderr, "sim: unknown kind '%s'\n", sc->kind);
		return 2;
	}
	double t_run = wall() - t0;
	uint64_t bad_sig = stat_sum(&S, "dropped_bad_sig"), sub_pow = stat_sum(&S, "dropped_sub_pow");
	row("bad_sig", "frames with a bad signature (honest run: 0)", -1, NULL, "%llu",
	    (unsigned long long)bad_sig);
	(void)sub_pow;
	double per_node = (double)(rss1 > rss0 ? rss1 - rss0 : 0) / (double)sc->nodes;
	row("rss_per_node", "RSS growth after join+settle / N", per_node <= 65536, "<= 64 KiB", "%.1f KiB",
	    per_node / 1024);
	row("heap_per_node", "heap allocated after join+settle / N (touched or not)", -1, NULL, "%.1f KiB",
	    (double)(heap1 - heap0) / sc->nodes / 1024);
	row("node_alloc", "allocated by one new node before any edge", -1, NULL, "%.1f KiB",
	    (double)node_alloc / 1024);
	footprint_rows(&S);
	row("struct_node", "sizeof(nn_node) + mem endpoint + mem conn", -1, NULL, "%zu + %zu + %zu B",
	    sizeof(nn_node), nn_mem_endpoint_footprint(), nn_mem_conn_footprint());
	row("kt_mean", "knowledge entries per node (mean): live + cached; sizeof(contact)", -1, NULL,
	    "%.0f + %.0f; %zu B", (double)kt_total / sc->nodes, (double)kt_cached / sc->nodes,
	    sizeof(nn_routing_contact));
	row("edge_ends", "edge ends per node (mean)", -1, NULL, "%.1f", (double)edges_total / sc->nodes);
	row("wall", "wall: mint / join+settle / scenario", -1, NULL, "%.1f / %.1f / %.1f s", t_mint, t_join,
	    t_run);
	row("wall_per_node", "wall per node per virtual s (join+settle)", -1, NULL, "%.1f us",
	    1e6 * t_join / sc->nodes /
		    ((double)sc->nodes * sc->join_ms / 1000.0 + sc->settle_s));
	printf("\n| metric | value | goal | met |\n|---|---|---|---|\n");
	int fail = 0;
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		bool must = false;
		for (size_t m = 0; m < sc->nmust; m++)
			must |= !strcmp(sc->must[m], r->key);
		printf("| %s | %s | %s | %s%s |\n", r->what, r->value, r->goal,
		       r->met < 0 ? "" : r->met ? "yes" : "**no**", must ? " (must)" : "");
		if (must && r->met == 0)
			fail = 1;
	}
	for (size_t m = 0; m < sc->nmust; m++) {
		bool found = false;
		for (size_t i = 0; i < nrows; i++)
			found |= !strcmp(sc->must[m], rows[i].key);
		if (!found) {
			fprintf(stderr, "sim: must '%s' names no metric\n", sc->must[m]);
			fail = 1;
		}
	}
	printf("\n# digest %016llx\n", (unsigned long long)S.digest);
	cl_free(S.cl);
	free(S.bad);
	free(S.joined);
	free(S.w);
	return fail;
}
