/* sim.c — see sim.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/alloc_count.h"
#include "tests/transport/sim.h"

typedef struct sim sim;
typedef struct node {
	sim *s;
	uint32_t idx;
	nn_tp *tp;
} node;

struct sim {
	const nn_sim_opts *o;
	nn_clock *clk;
	nn_pool pool;
	nn_mem_hub *hub;
	node *nodes;
	uint64_t trace, conns, frames, bad, eagain, dial_failed, done, want_done;
	uint8_t *buf;
};

static void mix(sim *s, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		s->trace ^= (uint8_t)(v >> (8 * i));
		s->trace *= 0x100000001b3ull;
	}
}

static void event(node *n, uint64_t kind, uint64_t serial)
{
	mix(n->s, (uint64_t)nn_clock_now(n->s->clk));
	mix(n->s, n->idx);
	mix(n->s, kind);
	mix(n->s, serial);
}

static void bounce(node *n, nn_conn *c, uint32_t hop)
{
	sim *s = n->s;
	uint8_t *b = s->buf;
	b[0] = (uint8_t)(hop >> 24);
	b[1] = (uint8_t)(hop >> 16);
	b[2] = (uint8_t)(hop >> 8);
	b[3] = (uint8_t)hop;
	for (uint32_t i = 4; i < s->o->frame_len; i++)
		b[i] = (uint8_t)(hop * 31 + i);
	int rc = nn_tp_send(n->tp, c, b, s->o->frame_len);
	if (rc == NN_EAGAIN)
		s->eagain++;
	else if (rc)
		s->bad++;
}

static void s_conn(void *ctx, nn_conn *c)
{
	node *n = ctx;
	n->s->conns++;
	event(n, 1, c->serial);
	if (c->outbound)
		bounce(n, c, 0);
}

static void s_fail(void *ctx, void *u, const nn_id *w, const nn_addr *a, int err)
{
	node *n = ctx;
	n->s->dial_failed++;
	event(n, 2, (uint64_t)-err);
}

static void s_frame(void *ctx, nn_conn *c, nn_pkt **pk)
{
	node *n = ctx;
	sim *s = n->s;
	const nn_pkt *k = *pk;
	s->frames++;
	if (k->len != s->o->frame_len) {
		s->bad++;
		return;
	}
	uint32_t hop = (uint32_t)k->data[0] << 24 | (uint32_t)k->data[1] << 16 |
		       (uint32_t)k->data[2] << 8 | k->data[3];
	for (uint32_t i = 4; i < k->len; i++)
		if (k->data[i] != (uint8_t)(hop * 31 + i)) {
			s->bad++;
			break;
		}
	event(n, 3 + ((uint64_t)hop << 8), c->serial);
	if (hop + 1 < s->o->rounds)
		bounce(n, c, hop + 1);
	else
		s->done++;
}

static bool all_done(void *arg)
{
	sim *s = arg;
	return s->done >= s->want_done;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int nn_sim_run(const nn_sim_opts *o, nn_sim_result *r)
{
	memset(r, 0, sizeof *r);
	sim s = {.o = o, .trace = 0xcbf29ce484222325ull};
	double t0 = now_s();
	uint64_t a0 = nn_test_allocs();
	s.clk = nn_vclock_new(o->seed, 0, 1700000000 * NN_SEC);
	nn_pool_opts po = {.max = {4u * o->n * o->degree + 64, 64}, .debug = -1};
	if (!s.clk || nn_pool_init(&s.pool, &po) != 0)
		return NN_ENOMEM;
	s.hub = nn_mem_hub_new(s.clk, &s.pool, &o->link);
	s.nodes = calloc(o->n, sizeof *s.nodes);
	s.buf = calloc(1, o->frame_len);
	if (!s.hub || !s.nodes || !s.buf)
		return NN_ENOMEM;
	nn_clock_reserve(s.clk, 2 * o->n * (o->degree + 1) + 64);
	for (uint32_t i = 0; i < o->n; i++) {
		char name[16];
		nn_id id;
		for (int k = 0; k < 4; k++) {
			uint64_t v = nn_clock_rand(s.clk);
			memcpy(id.b + 8 * k, &v, 8);
		}
		snprintf(name, sizeof name, "e%u", i);
		node *n = &s.nodes[i];
		n->s = &s;
		n->idx = i;
		int rc = nn_mem_endpoint_new(s.hub, name, &id, 0, &n->tp);
		if (rc)
			return rc;
		nn_tp_sink sink = {.ctx = n, .on_conn = s_conn, .on_dial_failed = s_fail,
				   .on_frame = s_frame};
		nn_tp_set_sink(n->tp, &sink);
	}
	for (uint32_t i = 0; i < o->n; i++)
		for (uint32_t d = 0; d < o->degree; d++) {
			uint32_t j = (uint32_t)nn_clock_rand_below(s.clk, o->n - 1);
			if (j >= i)
				j++; /* never self */
			nn_addr a;
			nn_tp_local_addrs(s.nodes[j].tp, &a, 1);
			if (nn_tp_dial(s.nodes[i].tp, &s.nodes[j].tp->local_id, &a, NULL) != 0)
				s.bad++;
		}
	s.want_done = (uint64_t)o->n * o->degree;
	double r0 = now_s();
	r->rc = nn_clock_run(s.clk, all_done, &s, 3600 * NN_SEC);
	r->run_s = now_s() - r0;
	r->vtime = nn_clock_now(s.clk);
	r->trace = s.trace;
	r->conns = s.conns;
	r->frames = s.frames;
	r->bad = s.bad;
	r->eagain = s.eagain;
	r->dial_failed = s.dial_failed;
	nn_mem_hub_free(s.hub);
	nn_pool_fini(&s.pool);
	nn_clock_destroy(s.clk);
	free(s.nodes);
	free(s.buf);
	r->allocs = nn_test_allocs() - a0;
	r->wall_s = now_s() - t0;
	return 0;
}
