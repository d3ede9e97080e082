/* test_free.c — nn_node_free from inside the node's own callbacks is refused (NN_ESTATE) and
 * frees nothing; the node keeps working and frees normally afterwards. In-memory transport,
 * virtual time; under ASan a free that went through would show as a use-after-free the moment
 * the node's code below the callback touched its state again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/node/cluster.h"

enum which { W_MESSAGE, W_DIRECT, W_ADMIT, W_EDGE_UP, W_LOG, W_OP, W_OP_CANCEL, W_COUNT };
static const char *const which_name[] = {"on_message", "on_direct", "admit_edge", "on_edge",
					 "on_log", "rendezvous callback",
					 "callback cancelled by nn_node_free"};

struct ctx {
	nn_node *node;
	enum which which; /* the callback that tries to free its node */
	int tries, refused;
};

static void try_free(struct ctx *c, enum which w)
{
	if (c->which != w || !c->node)
		return;
	c->tries++;
	int rc = nn_node_free(c->node);
	if (rc == NN_ESTATE)
		c->refused++;
	else
		fail_msg("nn_node_free from %s returned %d, want NN_ESTATE", which_name[w], rc);
}

static void on_message(void *u, const nn_id *f, const uint8_t *d, size_t l)
{
	(void)f, (void)d, (void)l;
	try_free(u, W_MESSAGE);
}
static void on_direct(void *u, const nn_id *f, const uint8_t *d, size_t l)
{
	(void)f, (void)d, (void)l;
	try_free(u, W_DIRECT);
}
static bool admit_edge(void *u, const nn_id *p, bool in)
{
	(void)p, (void)in;
	try_free(u, W_ADMIT);
	return true;
}
static void on_edge(void *u, const nn_id *p, bool up)
{
	(void)p;
	if (up)
		try_free(u, W_EDGE_UP);
}
static void on_log(void *u, int level, const char *line)
{
	(void)level, (void)line;
	try_free(u, W_LOG);
}
static void on_rdv(void *u, int status, const nn_id *t, const nn_peer_keys *k)
{
	struct ctx *c = u;
	(void)t, (void)k;
	try_free(c, status == NN_ECANCELED ? W_OP_CANCEL : W_OP);
}

struct world {
	nn_clock *clk;
	nn_pool pool;
	nn_mem_hub *hub;
	uint8_t *scratch;
	nn_tp *tp[2];
	nn_node *node[2];
	struct ctx ctx[2];
	uint8_t seed[2][32];
	nn_id id[2];
};

static void world_start(struct world *w, enum which which)
{
	memset(w, 0, sizeof *w);
	w->clk = nn_vclock_new(7, 1 * NN_SEC, (nn_time)1700000000 * NN_SEC);
	nn_pool_init(&w->pool, NULL);
	w->hub = nn_mem_hub_new(w->clk, &w->pool, NULL);
	w->scratch = malloc(NN_WIRE_MAX_FRAME);
	nn_test_rng rng = {99};
	for (int i = 0; i < 2; i++) {
		nn_test_rng_fill(&rng, w->seed[i], 32);
		nn_identity ident;
		nn_identity_from_seed(&ident, w->seed[i]);
		w->id[i] = ident.id;
		char name[8];
		snprintf(name, sizeof name, "f%d", i);
		assert_int_equal(nn_mem_endpoint_new(w->hub, name, &w->id[i], 0, &w->tp[i]), 0);
		nn_mem_endpoint_set_key(w->tp[i], ident.ed_pub);
		nn_identity_wipe(&ident);
		nn_node_opts o;
		nn_node_opts_init(&o);
		o.seed = w->seed[i];
		o.log_level = NN_LOG_DEBUG;
		w->ctx[i].which = i == 1 ? which : W_COUNT; /* node 1 is the one that tries */
		o.cb = (nn_node_callbacks){.user = &w->ctx[i], .on_message = on_message,
					   .on_direct = on_direct, .admit_edge = admit_edge,
					   .on_edge = on_edge, .on_log = on_log};
		assert_int_equal(nn_node_new_on(&w->node[i], &o, w->tp[i], w->clk, w->scratch), 0);
		w->ctx[i].node = w->node[i];
	}
}

static void world_run(struct world *w, nn_time dt)
{
	nn_vclock_advance(w->clk, nn_clock_now(w->clk) + dt);
}

static void world_free(struct world *w)
{
	for (int i = 0; i < 2; i++) {
		w->ctx[i].which = W_COUNT;
		assert_int_equal(nn_node_free(w->node[i]), 0); /* outside any callback: freed */
		nn_tp_destroy(w->tp[i]);
	}
	nn_mem_hub_free(w->hub);
	nn_pool_fini(&w->pool);
	nn_clock_destroy(w->clk);
	free(w->scratch);
}

/* Node 1 bootstraps from node 0, then node 0 routes a message and sends a direct frame to it:
 * every callback kind of node 1 runs at least once. */
static void exercise(struct world *w)
{
	nn_addr a;
	nn_addr_set(&a, "mem", "f0");
	assert_int_equal(nn_node_bootstrap_addr(w->node[1], &w->id[0], &a), 0);
	world_run(w, 2 * NN_SEC);
	assert_non_null(nn_routing_edges_find(nn_node_edges(w->node[1]), &w->id[0]));
	const char msg[] = "hello";
	assert_int_equal(nn_node_send(w->node[0], &w->id[1], msg, sizeof msg), 0);
	assert_int_equal(nn_node_send_direct(w->node[0], &w->id[1], msg, sizeof msg, 0, NULL, NULL),
			 0);
	world_run(w, 1 * NN_SEC);
}

static void test_free_from_node_callbacks_refused(void **state)
{
	(void)state;
	for (enum which wh = W_MESSAGE; wh <= W_LOG; wh++) {
		struct world w;
		world_start(&w, wh);
		exercise(&w);
		struct ctx *c = &w.ctx[1];
		if (c->tries == 0)
			fail_msg("%s never ran", which_name[wh]);
		assert_int_equal(c->refused, c->tries);
		/* still alive and working: the edge is up, the node delivers and routes */
		nn_node_stats s;
		nn_node_get_stats(w.node[1], &s);
		assert_true(s.edges >= 1);
		const char msg[] = "again";
		assert_int_equal(nn_node_send(w.node[1], &w.id[0], msg, sizeof msg), 0);
		world_run(&w, 1 * NN_SEC);
		printf("# %s: %d nn_node_free call(s) refused, node still working\n",
		       which_name[wh], c->tries);
		world_free(&w);
	}
}

static void test_free_from_completion_callbacks_refused(void **state)
{
	(void)state;
	/* a rendezvous nobody answers completes with NN_ETIMEDOUT from the op's timer */
	struct world w;
	world_start(&w, W_OP);
	exercise(&w);
	nn_id ghost;
	memset(&ghost, 0x5a, sizeof ghost);
	assert_int_equal(nn_node_rendezvous(w.node[1], &ghost, 500, on_rdv, &w.ctx[1]), 0);
	world_run(&w, 2 * NN_SEC);
	assert_int_equal(w.ctx[1].tries, 1);
	assert_int_equal(w.ctx[1].refused, 1);
	world_free(&w);

	/* a call still pending when the node is freed completes with NN_ECANCELED from inside
	 * nn_node_free: a nested nn_node_free there is refused (it used to free twice) */
	world_start(&w, W_OP_CANCEL);
	exercise(&w);
	assert_int_equal(nn_node_rendezvous(w.node[1], &ghost, 5000, on_rdv, &w.ctx[1]), 0);
	world_run(&w, 10 * NN_MS);
	w.ctx[0].which = W_COUNT;
	assert_int_equal(nn_node_free(w.node[1]), 0); /* the outer free goes through */
	assert_int_equal(w.ctx[1].tries, 1);
	assert_int_equal(w.ctx[1].refused, 1);
	assert_int_equal(nn_node_free(w.node[0]), 0);
	nn_tp_destroy(w.tp[0]);
	nn_tp_destroy(w.tp[1]);
	nn_mem_hub_free(w.hub);
	nn_pool_fini(&w.pool);
	nn_clock_destroy(w.clk);
	free(w.scratch);
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_from_node_callbacks_refused),
		cmocka_unit_test(test_free_from_completion_callbacks_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
