/* overlay.c — the loopback QUIC overlay harness of overlay.h: nodes on a few libev loops,
 * bootstrap in waves, settling, synchronous calls onto a node's loop, percentile printing. */
#include "tests/bench/node/overlay.h"
#include "tests/support/testutil.h"

#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OV_MAX_NODES 5120
#define OV_KMIN 3 /* NN_ROUTING_KMIN: the edge floor every settled node must reach */

struct ov_loop {
	nn_ov *ov;
	struct ev_loop *loop;
	ev_async quit_w;
	pthread_t thread;
	bool started;
};

struct ov_node {
	nn_ov *ov;
	size_t idx;
	nn_node *node;
	nn_id id;
	char addr[64];
	struct ov_loop *lp;
};

struct ov_key {
	nn_id id;
	size_t idx;
};

struct nn_ov {
	nn_ov_opts o;
	struct ov_node *nodes;
	size_t n;
	struct ov_loop *loops;
	struct ov_key *by_id; /* sorted by id */
	atomic_bool quit;
	pthread_mutex_t lock; /* nn_ov_wait / nn_ov_notify and nn_ov_exec completions */
	pthread_cond_t cond;
	uint64_t gen;         /* nn_ov_notify count, under lock */
	nn_test_rng rng;
};

int64_t nn_ov_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---- hooks: node callbacks carry their ov_node ---- */
static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct ov_key *)a)->id, &((const struct ov_key *)b)->id, sizeof(nn_id));
}

size_t nn_ov_index(const nn_ov *ov, const nn_id *id)
{
	struct ov_key k = {.id = *id};
	const struct ov_key *f = bsearch(&k, ov->by_id, ov->n, sizeof k, key_cmp);
	return f ? f->idx : SIZE_MAX;
}

static void cb_message(void *user, const nn_id *from, const uint8_t *data, size_t len)
{
	struct ov_node *on = user;
	const nn_ov_hooks *h = &on->ov->o.hooks;
	if (h->on_message)
		h->on_message(h->ctx, on->idx, nn_ov_index(on->ov, from), data, len);
}

static void cb_direct(void *user, const nn_id *from, const uint8_t *data, size_t len)
{
	struct ov_node *on = user;
	const nn_ov_hooks *h = &on->ov->o.hooks;
	if (h->on_direct)
		h->on_direct(h->ctx, on->idx, nn_ov_index(on->ov, from), data, len);
}

static void cb_edge(void *user, const nn_id *peer, bool up)
{
	struct ov_node *on = user;
	const nn_ov_hooks *h = &on->ov->o.hooks;
	if (h->on_edge)
		h->on_edge(h->ctx, on->idx, nn_ov_index(on->ov, peer), up);
}

static bool cb_admit(void *user, const nn_id *peer, bool inbound)
{
	struct ov_node *on = user;
	const nn_ov_hooks *h = &on->ov->o.hooks;
	return !h->admit_edge || h->admit_edge(h->ctx, on->idx, nn_ov_index(on->ov, peer), inbound);
}

static void cb_log(void *user, int level, const char *line)
{
	struct ov_node *on = user;
	(void)level;
	fprintf(stderr, "[%zu] %s\n", on->idx, line);
}

/* ---- loops ---- */
static void on_quit(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void *loop_main(void *arg)
{
	struct ov_loop *lp = arg;
	/* a stopping node breaks the whole loop it is attached to: run again until told to quit */
	while (!atomic_load(&lp->ov->quit))
		ev_run(lp->loop, 0);
	return NULL;
}

/* ---- construction ---- */
static void make_seed(nn_ov *ov, size_t i, uint8_t seed[NN_SEED_BYTES])
{
	if (ov->o.pow > 0 && nn_seed_mint(seed, ov->o.pow, 1, NULL, NULL) == 0)
		return;
	memset(seed, 0, NN_SEED_BYTES);
	seed[0] = 0x0b;
	seed[1] = (uint8_t)i;
	seed[2] = (uint8_t)(i >> 8);
}

static int node_new(nn_ov *ov, size_t i)
{
	struct ov_node *on = &ov->nodes[i];
	on->ov = ov;
	on->idx = i;
	on->lp = &ov->loops[i % ov->o.threads];
	uint8_t seed[NN_SEED_BYTES];
	make_seed(ov, i, seed);
	char listen[64];
	snprintf(listen, sizeof listen, "127.%zu.%zu.1:0", 100 + i / 256, i % 256);
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = listen;
	o.pow = ov->o.pow;
	o.log_level = ov->o.log_level;
	o.maint.tick_ms = ov->o.tick_ms;
	o.cb = (nn_node_callbacks){.user = on, .on_message = cb_message, .on_direct = cb_direct,
				   .on_edge = cb_edge, .admit_edge = cb_admit, .on_log = cb_log};
	int rc = nn_node_new(&on->node, &o, on->lp->loop);
	memset(seed, 0, sizeof seed);
	if (rc < 0) {
		fprintf(stderr, "overlay: node %zu on %s: %s\n", i, listen, nn_strerror(rc));
		return rc;
	}
	on->id = *nn_node_id(on->node);
	char addrs[1][64];
	if (nn_node_addrs(on->node, addrs, 1) < 1)
		return NN_EADDR;
	memcpy(on->addr, addrs[0], sizeof on->addr);
	return 0;
}

int nn_ov_new(nn_ov **out, const nn_ov_opts *o)
{
	*out = NULL;
	if (!o->nodes || o->nodes > OV_MAX_NODES)
		return NN_EINVAL;
	nn_ov *ov = calloc(1, sizeof *ov);
	if (!ov)
		return NN_ENOMEM;
	ov->o = *o;
	if (!ov->o.threads)
		ov->o.threads = 2;
	if (!ov->o.wave)
		ov->o.wave = 20;
	if (!ov->o.log_level)
		ov->o.log_level = NN_LOG_ERROR;
	ov->rng.s = 0x5eed0f0e41ull;
	pthread_mutex_init(&ov->lock, NULL);
	pthread_cond_init(&ov->cond, NULL);
	ov->nodes = calloc(o->nodes, sizeof *ov->nodes);
	ov->loops = calloc(ov->o.threads, sizeof *ov->loops);
	ov->by_id = calloc(o->nodes, sizeof *ov->by_id);
	if (!ov->nodes || !ov->loops || !ov->by_id) {
		nn_ov_free(ov);
		return NN_ENOMEM;
	}
	for (unsigned t = 0; t < ov->o.threads; t++) {
		struct ov_loop *lp = &ov->loops[t];
		lp->ov = ov;
		if (!(lp->loop = ev_loop_new(EVFLAG_AUTO))) {
			nn_ov_free(ov);
			return NN_ENOMEM;
		}
		ev_async_init(&lp->quit_w, on_quit);
		ev_async_start(lp->loop, &lp->quit_w);
	}
	/* every node is created before any loop runs (a host loop must not be running) */
	for (size_t i = 0; i < o->nodes; i++) {
		int rc = node_new(ov, i);
		if (rc < 0) {
			nn_ov_free(ov);
			return rc;
		}
		ov->n++;
		ov->by_id[i] = (struct ov_key){.id = ov->nodes[i].id, .idx = i};
	}
	qsort(ov->by_id, ov->n, sizeof *ov->by_id, key_cmp);
	for (unsigned t = 0; t < ov->o.threads; t++) {
		struct ov_loop *lp = &ov->loops[t];
		if (pthread_create(&lp->thread, NULL, loop_main, lp) != 0) {
			nn_ov_free(ov);
			return NN_ENOMEM;
		}
		lp->started = true;
	}
	*out = ov;
	return 0;
}

static void stop_loops(nn_ov *ov)
{
	atomic_store(&ov->quit, true);
	for (unsigned t = 0; t < ov->o.threads; t++) {
		struct ov_loop *lp = &ov->loops[t];
		if (lp->started) {
			ev_async_send(lp->loop, &lp->quit_w);
			pthread_join(lp->thread, NULL);
			lp->started = false;
		}
	}
}

void nn_ov_free(nn_ov *ov)
{
	if (!ov)
		return;
	bool running = ov->loops && ov->o.threads && ov->loops[0].started;
	for (size_t i = 0; i < ov->n; i++)
		(void)nn_node_stop(ov->nodes[i].node);
	/* Leaves go out after ~200 ms; then let the transports report the closed connections
	 * before freeing (docs/API.md, Notes) */
	if (running)
		sleep_s(0.6);
	stop_loops(ov);
	for (size_t i = 0; i < ov->n; i++)
		nn_node_free(ov->nodes[i].node);
	for (unsigned t = 0; ov->loops && t < ov->o.threads; t++)
		if (ov->loops[t].loop) {
			ev_async_stop(ov->loops[t].loop, &ov->loops[t].quit_w);
			ev_loop_destroy(ov->loops[t].loop);
		}
	pthread_mutex_destroy(&ov->lock);
	pthread_cond_destroy(&ov->cond);
	free(ov->nodes);
	free(ov->loops);
	free(ov->by_id);
	free(ov);
}

/* ---- calls onto a node's loop ---- */
struct exec {
	nn_ov *ov;
	void (*fn)(nn_node *, void *);
	void *arg;
	bool done;
};

static void exec_tramp(nn_node *n, void *p)
{
	struct exec *e = p;
	e->fn(n, e->arg);
	pthread_mutex_lock(&e->ov->lock);
	e->done = true;
	pthread_cond_broadcast(&e->ov->cond);
	pthread_mutex_unlock(&e->ov->lock);
}

int nn_ov_exec(nn_ov *ov, size_t i, void (*fn)(nn_node *n, void *arg), void *arg)
{
	if (i >= ov->n)
		return NN_EINVAL;
	struct exec e = {.ov = ov, .fn = fn, .arg = arg};
	int rc;
	while ((rc = nn_node_call(ov->nodes[i].node, exec_tramp, &e)) == NN_EAGAIN)
		sleep_s(0.001);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&ov->lock);
	while (!e.done)
		pthread_cond_wait(&ov->cond, &ov->lock);
	pthread_mutex_unlock(&ov->lock);
	return 0;
}

/* fn on every node at once (each on its own loop), args[i] for node i; waits for all. */
static void exec_all(nn_ov *ov, void (*fn)(nn_node *n, void *arg), void *args, size_t argsize)
{
	struct exec *e = calloc(ov->n, sizeof *e);
	if (!e)
		return;
	for (size_t i = 0; i < ov->n; i++) {
		e[i] = (struct exec){.ov = ov, .fn = fn, .arg = (char *)args + i * argsize};
		while (nn_node_call(ov->nodes[i].node, exec_tramp, &e[i]) == NN_EAGAIN)
			sleep_s(0.001);
	}
	pthread_mutex_lock(&ov->lock);
	for (size_t i = 0; i < ov->n; i++)
		while (!e[i].done)
			pthread_cond_wait(&ov->cond, &ov->lock);
	pthread_mutex_unlock(&ov->lock);
	free(e);
}

void nn_ov_notify(nn_ov *ov)
{
	pthread_mutex_lock(&ov->lock);
	ov->gen++;
	pthread_cond_broadcast(&ov->cond);
	pthread_mutex_unlock(&ov->lock);
}

/* pred runs without the lock held (it may call nn_ov_exec); a notify between reading the
 * generation and waiting is not lost because the generation changed. */
bool nn_ov_wait(nn_ov *ov, bool (*pred)(void *arg), void *arg, double timeout_s)
{
	int64_t end = nn_ov_now_ns() + (int64_t)(timeout_s * 1e9);
	for (;;) {
		pthread_mutex_lock(&ov->lock);
		uint64_t gen = ov->gen;
		pthread_mutex_unlock(&ov->lock);
		if (pred(arg))
			return true;
		int64_t now = nn_ov_now_ns();
		if (now >= end)
			return false;
		int64_t step = end - now < 50000000 ? end - now : 50000000;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + step;
		ts.tv_sec += ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		pthread_mutex_lock(&ov->lock);
		while (ov->gen == gen &&
		       pthread_cond_timedwait(&ov->cond, &ov->lock, &ts) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&ov->lock);
	}
}

/* ---- introspection ---- */
size_t nn_ov_len(const nn_ov *ov) { return ov->n; }
const nn_id *nn_ov_id(const nn_ov *ov, size_t i) { return &ov->nodes[i].id; }
const char *nn_ov_addr(const nn_ov *ov, size_t i) { return ov->nodes[i].addr; }

struct edge_q {
	const nn_id *peer;
	bool found;
};

static void edge_q(nn_node *n, void *arg)
{
	struct edge_q *q = arg;
	size_t k = nn_node_peers(n, NULL, 0);
	nn_peer_info *p = calloc(k ? k : 1, sizeof *p);
	if (!p)
		return;
	k = nn_node_peers(n, p, k);
	for (size_t i = 0; i < k && !q->found; i++)
		q->found = !memcmp(&p[i].id, q->peer, sizeof(nn_id));
	free(p);
}

bool nn_ov_is_edge(nn_ov *ov, size_t i, size_t j)
{
	struct edge_q q = {.peer = &ov->nodes[j].id};
	return nn_ov_exec(ov, i, edge_q, &q) == 0 && q.found;
}

static void stats_q(nn_node *n, void *arg) { nn_node_get_stats(n, arg); }

static void add_stats(nn_node_stats *sum, const nn_node_stats *s)
{
	uint64_t *a = (uint64_t *)sum;
	const uint64_t *b = (const uint64_t *)s;
	for (size_t k = 0; k < sizeof *s / sizeof(uint64_t); k++)
		a[k] += b[k];
}

void nn_ov_stats(nn_ov *ov, nn_node_stats *sum)
{
	memset(sum, 0, sizeof *sum);
	nn_node_stats *all = calloc(ov->n, sizeof *all);
	if (!all)
		return;
	exec_all(ov, stats_q, all, sizeof *all);
	for (size_t i = 0; i < ov->n; i++)
		add_stats(sum, &all[i]);
	free(all);
}

/* ---- join and settle ---- */
struct boot {
	const nn_id *id;
	const char *addr;
	int rc;
};

static void boot_fn(nn_node *n, void *arg)
{
	struct boot *b = arg;
	b->rc = nn_node_bootstrap(n, b->id, b->addr);
}

static int bootstrap(nn_ov *ov, size_t i, size_t joined)
{
	size_t via = (size_t)(nn_test_rng_next(&ov->rng) % joined);
	struct boot b = {.id = &ov->nodes[via].id, .addr = ov->nodes[via].addr};
	if (nn_ov_exec(ov, i, boot_fn, &b) < 0 || b.rc < 0) {
		fprintf(stderr, "overlay: bootstrap %zu via %zu: %s\n", i, via, nn_strerror(b.rc));
		return b.rc < 0 ? b.rc : NN_EINTERNAL;
	}
	return 0;
}

static void print_node(nn_ov *ov, size_t i, const char *why)
{
	nn_node_stats s;
	memset(&s, 0, sizeof s);
	(void)nn_ov_exec(ov, i, stats_q, &s);
	fprintf(stderr, "overlay: node %zu (%s) %s: edges %llu, dials %llu, dial failures %llu, "
			"edges up %llu, down %llu\n",
		i, ov->nodes[i].addr, why, (unsigned long long)s.edges, (unsigned long long)s.dials,
		(unsigned long long)s.dial_failures, (unsigned long long)s.edges_up,
		(unsigned long long)s.edges_down);
}

int nn_ov_join(nn_ov *ov, double timeout_s)
{
	int64_t end = nn_ov_now_ns() + (int64_t)(timeout_s * 1e9);
	for (size_t first = 1; first < ov->n; first += ov->o.wave) {
		size_t last = first + ov->o.wave < ov->n ? first + ov->o.wave : ov->n;
		int64_t w0 = nn_ov_now_ns(), retry_at = w0 + 5000000000;
		for (size_t i = first; i < last; i++) {
			int rc = bootstrap(ov, i, first);
			if (rc < 0)
				return rc;
		}
		for (;;) {
			size_t missing = 0;
			bool retry = nn_ov_now_ns() > retry_at;
			for (size_t i = first; i < last; i++) {
				nn_node_stats s;
				memset(&s, 0, sizeof s);
				(void)nn_ov_exec(ov, i, stats_q, &s);
				if (s.edges)
					continue;
				missing++;
				if (retry) {
					/* an application retries a bootstrap that did not take (the API
					 * reports it only through dial_failures and on_edge) */
					print_node(ov, i, "has no edge 5 s after its bootstrap: again");
					if (bootstrap(ov, i, first) < 0)
						return NN_EINTERNAL;
				}
			}
			if (retry)
				retry_at = nn_ov_now_ns() + 5000000000;
			if (!missing)
				break;
			if (nn_ov_now_ns() > end) {
				for (size_t i = first; i < last; i++)
					print_node(ov, i, "join timed out");
				return NN_ETIMEDOUT;
			}
			sleep_s(0.05);
		}
		fprintf(stderr, "overlay: wave %zu..%zu joined in %.2f s\n", first, last - 1,
			(double)(nn_ov_now_ns() - w0) / 1e9);
	}
	return 0;
}

static void shape_of(nn_ov *ov, nn_ov_shape *sh, nn_node_stats *sum)
{
	memset(sh, 0, sizeof *sh);
	memset(sum, 0, sizeof *sum);
	sh->min_edges = sh->min_out = SIZE_MAX;
	sh->knowledge_min = UINT64_MAX;
	nn_node_stats *all = calloc(ov->n, sizeof *all);
	if (!all)
		return;
	exec_all(ov, stats_q, all, sizeof *all);
	double total = 0;
	for (size_t i = 0; i < ov->n; i++) {
		const nn_node_stats *s = &all[i];
		size_t e = (size_t)s->edges, out = (size_t)s->edges_out;
		sh->min_edges = e < sh->min_edges ? e : sh->min_edges;
		sh->max_edges = e > sh->max_edges ? e : sh->max_edges;
		sh->min_out = out < sh->min_out ? out : sh->min_out;
		sh->knowledge_min = s->knowledge < sh->knowledge_min ? s->knowledge : sh->knowledge_min;
		total += (double)e;
		add_stats(sum, s);
	}
	sh->mean_edges = total / (double)ov->n;
	free(all);
}

int nn_ov_settle(nn_ov *ov, double quiet_s, uint64_t max_churn, double timeout_s,
		 nn_ov_shape *shape)
{
	int64_t t0 = nn_ov_now_ns(), end = t0 + (int64_t)(timeout_s * 1e9);
	nn_node_stats a, b;
	shape_of(ov, shape, &a);
	for (;;) {
		sleep_s(quiet_s);
		shape_of(ov, shape, &b);
		shape->churn = b.edges_up + b.edges_down - a.edges_up - a.edges_down;
		fprintf(stderr, "overlay: %5.1f s: edges per node min %zu mean %.1f max %zu, outgoing "
				"min %zu; in %.1f s: edges up %llu down %llu, dials %llu failed %llu, "
				"dup %llu, shed %llu, inbound full %llu\n",
			(double)(nn_ov_now_ns() - t0) / 1e9, shape->min_edges, shape->mean_edges,
			shape->max_edges, shape->min_out, quiet_s,
			(unsigned long long)(b.edges_up - a.edges_up),
			(unsigned long long)(b.edges_down - a.edges_down),
			(unsigned long long)(b.dials - a.dials),
			(unsigned long long)(b.dial_failures - a.dial_failures),
			(unsigned long long)(b.dropped_dup_inbound - a.dropped_dup_inbound),
			(unsigned long long)(b.inbound_shed - a.inbound_shed),
			(unsigned long long)(b.dropped_inbound_full - a.dropped_inbound_full));
		a = b;
		if (shape->min_edges >= OV_KMIN && shape->churn <= max_churn)
			return 0;
		if (nn_ov_now_ns() > end)
			return NN_ETIMEDOUT;
	}
}

/* ---- figures ---- */
static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)(n - 1) + 0.5);
	return v[k < n ? k : n - 1];
}

void nn_ov_print_dist(const char *name, double *ms, size_t n, const char *tail)
{
	if (!n) {
		printf("bench %s: no samples%s\n", name, tail ? tail : "");
		fflush(stdout);
		return;
	}
	qsort(ms, n, sizeof *ms, dbl_cmp);
	printf("bench %s: n %zu p50 %.2f p90 %.2f p99 %.2f max %.2f ms%s\n", name, n,
	       pct(ms, n, 0.5), pct(ms, n, 0.9), pct(ms, n, 0.99), ms[n - 1], tail ? tail : "");
	fflush(stdout);
}
