/* cluster.c — the in-memory cluster harness (see cluster.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pow/pow.h"
#include "tests/node/cluster.h"

/* ---- seeded randomness for the whole process (tests and simulation only) ----
 * For one seed to give one run, libsodium's generator is replaced, before sodium_init, by a
 * seeded splitmix64 stream (the virtual clock draws its jitter from its own generator). */
static uint64_t g_rb_state;
static uint64_t rb_next(void)
{
	uint64_t z = (g_rb_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static const char *rb_name(void) { return "nn-test-seeded"; }
static uint32_t rb_random(void) { return (uint32_t)(rb_next() >> 32); }
static void rb_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < size; i += 8) {
		uint64_t v = rb_next();
		memcpy(p + i, &v, size - i < 8 ? size - i : 8);
	}
}
static randombytes_implementation rb_impl = {
	.implementation_name = rb_name, .random = rb_random, .stir = NULL, .uniform = NULL,
	.buf = rb_buf, .close = NULL};

void cl_reseed_randombytes(uint64_t seed) { g_rb_state = seed ^ 0x5eed5eed5eed5eedull; }

int cl_seed_randombytes(uint64_t seed)
{
	cl_reseed_randombytes(seed);
	return randombytes_set_implementation(&rb_impl) == 0 ? 0 : NN_EINVAL;
}

/* CL_LOG=1 in the environment: every node's debug log on stderr, with virtual time (for
 * reading a failing test; nothing asserts on it). */
static void on_log(void *user, int level, const char *line)
{
	cl_node *cn = user;
	fprintf(stderr, "[%9.3f n%u %d] %s\n",
		(double)(nn_clock_now(cn->cl->clk) % (1000 * NN_SEC)) / NN_SEC, cn->idx, level, line);
}

static void on_message(void *user, const nn_id *from, const uint8_t *data, size_t len)
{
	cl_node *cn = user;
	cluster *cl = cn->cl;
	if (cl->nmsgs == cl->capmsgs) {
		cl->capmsgs = cl->capmsgs ? cl->capmsgs * 2 : 1024;
		cl->msgs = realloc(cl->msgs, cl->capmsgs * sizeof *cl->msgs);
	}
	cl_msg *m = &cl->msgs[cl->nmsgs++];
	memset(m, 0, sizeof *m);
	m->to = cn->idx;
	m->from = *from;
	m->len = len;
	m->at = nn_clock_now(cl->clk);
	if (len >= 8)
		memcpy(&m->tag, data, 8);
}

static void on_direct(void *user, const nn_id *from, const uint8_t *data, size_t len)
{
	cl_node *cn = user;
	(void)from;
	(void)data;
	(void)len;
	cn->cl->direct_rx++;
}

static void rng_fill(void *user, uint8_t *buf, size_t len) { nn_test_rng_fill(user, buf, len); }

cluster *cl_new(uint32_t n, uint64_t seed, int pow, const nn_node_opts *base)
{
	cluster *cl = calloc(1, sizeof *cl);
	cl->rng.s = seed;
	cl->pow = pow;
	cl->n = n;
	cl->clk = nn_vclock_new(seed, 1 * NN_SEC, (nn_time)1700000000 * NN_SEC);
	nn_pool_init(&cl->pool, NULL);
	cl->hub = nn_mem_hub_new(cl->clk, &cl->pool, NULL);
	cl->scratch = malloc(NN_WIRE_MAX_FRAME);
	cl->nodes = calloc(n, sizeof *cl->nodes);
	if (base)
		cl->base = *base;
	else
		nn_node_opts_init(&cl->base);
	cl->base.log_level = NN_LOG_ERROR + 1;
	for (uint32_t i = 0; i < n; i++) {
		cl_node *cn = &cl->nodes[i];
		cn->cl = cl;
		cn->idx = i;
		if (pow > 0) {
			nn_pow_opts o = {.difficulty = pow, .threads = 1, .rng = rng_fill,
					 .rng_user = &cl->rng};
			nn_pow_mint(&o, cn->seed, NULL);
		} else {
			nn_test_rng_fill(&cl->rng, cn->seed, sizeof cn->seed);
		}
		nn_identity_id_from_seed(&cn->id, NULL, cn->seed);
	}
	return cl;
}

int cl_start(cluster *cl, uint32_t i)
{
	cl_node *cn = &cl->nodes[i];
	char name[32];
	snprintf(name, sizeof name, "n%u", i);
	int rc = nn_mem_endpoint_new(cl->hub, name, &cn->id, cl->caps, &cn->tp);
	if (rc < 0)
		return rc;
	nn_identity ident;
	nn_identity_from_seed(&ident, cn->seed);
	nn_mem_endpoint_set_key(cn->tp, ident.ed_pub);
	nn_identity_wipe(&ident);
	nn_node_opts o = cl->base;
	o.seed = cn->seed;
	o.pow = cl->pow;
	o.cb.user = cn;
	o.cb.on_message = on_message;
	o.cb.on_direct = on_direct;
	if (getenv("CL_LOG")) {
		o.log_level = NN_LOG_DEBUG;
		o.cb.on_log = on_log;
	}
	rc = nn_node_new_on(&cn->node, &o, cn->tp, cl->clk, cl->scratch);
	if (rc < 0) {
		nn_tp_destroy(cn->tp);
		cn->tp = NULL;
		return rc;
	}
	cn->up = true;
	return 0;
}

int cl_join(cluster *cl, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		int rc = cl_start(cl, i);
		if (rc < 0)
			return rc;
	}
	for (uint32_t i = from > 0 ? from : 1; i < to; i++) {
		int rc = cl_bootstrap(cl, i, 0);
		if (rc < 0)
			return rc;
		cl_run(cl, 20 * NN_MS);
	}
	return 0;
}

void cl_kill(cluster *cl, uint32_t i, bool graceful)
{
	cl_node *cn = &cl->nodes[i];
	if (!cn->up)
		return;
	if (graceful) {
		nn_node_leave_all(cn->node);
		nn_vclock_advance(cl->clk, nn_clock_now(cl->clk) + 50 * NN_MS);
	}
	nn_node_free(cn->node);
	nn_tp_destroy(cn->tp);
	cn->node = NULL;
	cn->tp = NULL;
	cn->up = false;
}

int cl_bootstrap(cluster *cl, uint32_t i, uint32_t j)
{
	nn_addr a;
	char name[32];
	snprintf(name, sizeof name, "n%u", j);
	nn_addr_set(&a, "mem", name);
	return nn_node_bootstrap_addr(cl->nodes[i].node, &cl->nodes[j].id, &a);
}

void cl_run(cluster *cl, nn_time dt) { nn_vclock_advance(cl->clk, nn_clock_now(cl->clk) + dt); }

size_t cl_count(const cluster *cl, uint32_t to, uint64_t tag)
{
	size_t k = 0;
	for (size_t i = 0; i < cl->nmsgs; i++)
		k += cl->msgs[i].to == to && cl->msgs[i].tag == tag;
	return k;
}

int cl_send(cluster *cl, uint32_t i, uint32_t j, uint64_t tag)
{
	uint8_t payload[64];
	memset(payload, 0x42, sizeof payload);
	memcpy(payload, &tag, 8);
	return nn_node_send(cl->nodes[i].node, &cl->nodes[j].id, payload, sizeof payload);
}

size_t cl_edges(const cluster *cl, uint32_t i)
{
	return nn_routing_edges_len(nn_node_edges(cl->nodes[i].node));
}

void cl_free(cluster *cl)
{
	for (uint32_t i = 0; i < cl->n; i++)
		if (cl->nodes[i].up) {
			nn_node_free(cl->nodes[i].node);
			nn_tp_destroy(cl->nodes[i].tp);
		}
	nn_mem_hub_free(cl->hub);
	nn_pool_fini(&cl->pool);
	nn_clock_destroy(cl->clk);
	free(cl->scratch);
	free(cl->nodes);
	free(cl->msgs);
	free(cl);
}

void cl_print_stats(cluster *cl)
{
	nn_node_stats sum;
	memset(&sum, 0, sizeof sum);
	uint64_t *acc = (uint64_t *)(void *)&sum;
	for (uint32_t i = 0; i < cl->n; i++) {
		if (!cl->nodes[i].up)
			continue;
		nn_node_stats s;
		nn_node_get_stats(cl->nodes[i].node, &s);
		uint64_t v;
		for (size_t k = 0; nn_node_stat(&s, k, &v); k++)
			acc[k] += v;
	}
	uint64_t v;
	const char *name;
	for (size_t k = 0; (name = nn_node_stat(&sum, k, &v)); k++)
		if (v)
			printf("# stat %s %llu\n", name, (unsigned long long)v);
}

static void raw_on_conn(void *ctx, nn_conn *c) { ((cl_raw *)ctx)->c = c; }
static void raw_on_frame(void *ctx, nn_conn *c, nn_pkt **p)
{
	cl_raw *r = ctx;
	(void)c;
	r->frames++;
	r->last_len = (*p)->len < sizeof r->last ? (*p)->len : sizeof r->last;
	memcpy(r->last, (*p)->data, r->last_len);
}
static void raw_on_closed(void *ctx, nn_conn *c, int err, uint64_t reason)
{
	(void)c;
	(void)err;
	(void)reason;
	((cl_raw *)ctx)->closed++;
	((cl_raw *)ctx)->c = NULL;
}

void cl_raw_listen(cluster *cl, cl_raw *r, const char *name, const uint8_t seed[32])
{
	nn_identity id;
	assert_int_equal(nn_identity_from_seed(&id, seed), 0);
	memset(r, 0, sizeof *r);
	assert_int_equal(nn_mem_endpoint_new(cl->hub, name, &id.id, 0, &r->tp), 0);
	nn_mem_endpoint_set_key(r->tp, id.ed_pub);
	nn_tp_sink s = {.ctx = r, .on_conn = raw_on_conn, .on_frame = raw_on_frame,
			.on_closed = raw_on_closed};
	nn_tp_set_sink(r->tp, &s);
	nn_identity_wipe(&id);
}

void cl_raw_connect(cluster *cl, cl_raw *r, const uint8_t seed[32], uint32_t to)
{
	cl_raw_listen(cl, r, "raw", seed);
	nn_addr a;
	char name[16];
	snprintf(name, sizeof name, "n%u", to);
	nn_addr_set(&a, "mem", name);
	assert_int_equal(nn_tp_dial(r->tp, &cl->nodes[to].id, &a, NULL), 0);
	cl_run(cl, 10 * NN_MS);
	assert_non_null(r->c);
}
