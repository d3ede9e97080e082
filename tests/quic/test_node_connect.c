/* test_node_connect.c — the connect call's first steps over real QUIC on loopback (a
 * loopback-only overlay, so loopback addresses count as directly reachable): three nodes (a
 * hub H, A and B, maintenance off) on one libev loop.
 *   1. A knows nothing of B: rendezvous through H, then the dial; the Connect is held back
 *      (B looks reachable) and never needed (connects_deferred, no Connect sent).
 *   2. A holds B's verified keys (step 1's Reply): the dial leaves at once, before any Hello
 *      (connects_early).
 *   3. B came back on another port: the early dial to the stale address cannot answer, the
 *      rendezvous (20 ms later) finds the new one, and the call still connects directly.
 *   4. A holds no verified keys of B, only its knowledge-table entry: that address is dialled
 *      alongside the first Hello (connects_early_kt), outside the maintenance dial slots.
 *   5. B is gone: the early dial to its last address cannot answer and the rendezvous goes
 *      unanswered; the call fails when the cascade has nothing left (no relay volunteer), not
 *      at its deadline: a dial to an address the target never confirmed holds no stage open.
 * Uses the public API plus node_impl.h (dropping an edge, forgetting a contact). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "node/node_impl.h"
#include "tests/quic/quic_factory.h"

static nn_qenv *env;

typedef struct peer {
	nn_node *node;
	nn_id id;
	char addr[64];
	uint8_t seed[NN_SEED_BYTES];
} peer;

static peer H, A, B;

static void spin(nn_time t) { (void)nn_qenv_run(env, NULL, NULL, t); }

static void start(peer *p, uint8_t tag)
{
	memset(p->seed, 0, sizeof p->seed);
	p->seed[0] = tag;
	p->seed[1] = 0xc0;
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = p->seed;
	o.listen = "127.0.0.1:0";
	o.no_maintenance = true;
	o.log_level = NN_LOG_ERROR + 1;
	assert_int_equal(nn_node_new(&p->node, &o, env->loop), 0);
	char addrs[4][64];
	assert_true(nn_node_addrs(p->node, addrs, 4) >= 1);
	memcpy(p->addr, addrs[0], sizeof p->addr);
	p->id = *nn_node_id(p->node);
}

static void stop(peer *p)
{
	(void)nn_node_stop(p->node);
	spin(600 * NN_MS); /* the Leave goes out, the transport reports the closes */
	nn_node_free(p->node);
	p->node = NULL;
}

static bool has_edge(const peer *a, const peer *b)
{
	return nn_routing_edges_find(nn_node_edges(a->node), &b->id) != NULL;
}

struct edge_wait {
	const peer *a, *b;
	bool up;
};

static bool edge_is(void *arg)
{
	const struct edge_wait *w = arg;
	return has_edge(w->a, w->b) == w->up;
}

static void join(peer *p)
{
	assert_int_equal(nn_node_bootstrap(p->node, &H.id, H.addr), 0);
	struct edge_wait w = {p, &H, true};
	assert_int_equal(nn_qenv_run(env, edge_is, &w, 5 * NN_SEC), 0);
}

/* No edge between a and b, at either end. */
static void part(peer *a, peer *b)
{
	nn_node_drop_edge(a->node, &b->id, NN_TP_REASON_NORMAL);
	nn_node_drop_edge(b->node, &a->id, NN_TP_REASON_NORMAL);
	struct edge_wait w1 = {a, b, false}, w2 = {b, a, false};
	assert_int_equal(nn_qenv_run(env, edge_is, &w1, 2 * NN_SEC), 0);
	assert_int_equal(nn_qenv_run(env, edge_is, &w2, 2 * NN_SEC), 0);
	spin(50 * NN_MS);
}

struct done {
	int calls, status;
	char how[16];
};

static void on_conn(void *user, int status, const nn_id *target, const char *how,
		    const char *addr)
{
	struct done *d = user;
	(void)target;
	(void)addr;
	d->calls++;
	d->status = status;
	snprintf(d->how, sizeof d->how, "%s", how ? how : "-");
}

static bool called(void *arg) { return ((struct done *)arg)->calls > 0; }

static nn_node_stats stats(const peer *p)
{
	nn_node_stats s;
	nn_node_get_stats(p->node, &s);
	return s;
}

/* A connects to B; returns the call's wall time (ns) and checks it connected directly. */
static nn_time connect_ab(void)
{
	struct done d = {0};
	nn_time t0 = nn_clock_now(env->clk);
	assert_int_equal(nn_node_connect(A.node, &B.id, 8000, on_conn, &d), 0);
	assert_int_equal(nn_qenv_run(env, called, &d, 10 * NN_SEC), 0);
	nn_time dt = nn_clock_now(env->clk) - t0;
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(d.how, "direct");
	assert_true(has_edge(&A, &B));
	return dt;
}

static void test_connect_paths(void **st)
{
	(void)st;
	/* 1. nothing known: rendezvous, then a dial whose Connect waits (and is never sent) */
	if (has_edge(&A, &B))
		part(&A, &B);
	(void)nn_routing_kt_mark_dead(A.node->kt, &B.id);
	assert_null(nn_routing_kt_get(A.node->kt, &B.id, NULL));
	assert_null(nn_node_vkey(A.node, &B.id));
	nn_node_stats s0 = stats(&A);
	nn_time dt = connect_ab();
	nn_node_stats s1 = stats(&A);
	printf("# unknown target: %.1f ms; Hellos %llu, Connects %llu\n", (double)dt / 1e6,
	       (unsigned long long)(s1.hellos_tx - s0.hellos_tx),
	       (unsigned long long)(s1.connects_tx - s0.connects_tx));
	assert_int_equal(s1.connects_early - s0.connects_early, 0);
	assert_int_equal(s1.connects_deferred - s0.connects_deferred, 1);
	assert_true(s1.hellos_tx - s0.hellos_tx >= 1);
	/* a Connect would have made B punch and dial back: none unless the handshake took longer
	 * than the hold (20 ms at least) */
	if (dt < 20 * NN_MS)
		assert_int_equal(s1.connects_tx - s0.connects_tx, 0);
	if (s1.connects_tx == s0.connects_tx)
		assert_int_equal(stats(&B).punchbacks_ok, 0); /* B never dialled back */

	/* 2. B's verified keys held: the dial leaves at once */
	part(&A, &B);
	assert_non_null(nn_node_vkey(A.node, &B.id));
	s0 = stats(&A);
	dt = connect_ab();
	s1 = stats(&A);
	printf("# known target: %.1f ms; Hellos %llu\n", (double)dt / 1e6,
	       (unsigned long long)(s1.hellos_tx - s0.hellos_tx));
	assert_int_equal(s1.connects_early - s0.connects_early, 1);
	if (dt < 20 * NN_MS) /* the rendezvous is held back that long */
		assert_int_equal(s1.hellos_tx - s0.hellos_tx, 0);

	/* 3. B back on another port: the early dial goes to a dead address, the rendezvous
	 * finds the new one */
	part(&A, &B);
	char old[64];
	memcpy(old, B.addr, sizeof old);
	stop(&B);
	start(&B, 2);
	assert_string_not_equal(B.addr, old);
	join(&B);
	s0 = stats(&A);
	dt = connect_ab();
	s1 = stats(&A);
	printf("# stale address (%s, now %s): %.1f ms; Hellos %llu\n", old, B.addr,
	       (double)dt / 1e6, (unsigned long long)(s1.hellos_tx - s0.hellos_tx));
	assert_int_equal(s1.connects_early - s0.connects_early, 1);
	assert_true(s1.hellos_tx - s0.hellos_tx >= 1);
	assert_true(dt < 3 * NN_SEC);

	/* 4. only the knowledge table's entry for B: its address is dialled with the first
	 * Hello, which does not wait for it, in a budget of its own (not a maintenance slot) */
	part(&A, &B);
	assert_true(nn_idmap_del(&A.node->vkeys, &B.id));
	assert_non_null(nn_routing_kt_get(A.node->kt, &B.id, NULL));
	size_t maint_dials = A.node->dials_in_flight; /* step 3's dial to the dead address */
	s0 = stats(&A);
	dt = connect_ab();
	s1 = stats(&A);
	printf("# knowledge-table address only: %.1f ms; Hellos %llu\n", (double)dt / 1e6,
	       (unsigned long long)(s1.hellos_tx - s0.hellos_tx));
	assert_int_equal(s1.connects_early_kt - s0.connects_early_kt, 1);
	assert_int_equal(s1.connects_early - s0.connects_early, 0);
	assert_true(s1.hellos_tx - s0.hellos_tx >= 1);
	spin(200 * NN_MS); /* the dial settled: its budget is free again */
	assert_int_equal(A.node->early_kt_dials, 0);
	assert_int_equal(A.node->dials_in_flight, maint_dials);

	/* 5. B gone for good: unanswered rendezvous (3.5 s), no volunteer, done well before the
	 * 8 s deadline although the early dial is still in flight */
	part(&A, &B);
	stop(&B);
	struct done d = {0};
	nn_time t0 = nn_clock_now(env->clk);
	assert_int_equal(nn_node_connect(A.node, &B.id, 8000, on_conn, &d), 0);
	assert_int_equal(nn_qenv_run(env, called, &d, 12 * NN_SEC), 0);
	dt = nn_clock_now(env->clk) - t0;
	printf("# target gone: %s after %.0f ms\n", nn_errname(d.status), (double)dt / 1e6);
	assert_int_not_equal(d.status, 0);
	assert_true(dt < 6 * NN_SEC);
}

static int setup(void **st)
{
	(void)st;
	if (nn_qenv_setup(NULL, 1, (void **)&env))
		return -1;
	start(&H, 1);
	start(&A, 3);
	start(&B, 2);
	join(&A);
	join(&B);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	peer *all[] = {&A, &B, &H};
	for (size_t i = 0; i < 3; i++)
		if (all[i]->node)
			(void)nn_node_stop(all[i]->node);
	spin(600 * NN_MS);
	for (size_t i = 0; i < 3; i++)
		nn_node_free(all[i]->node);
	nn_qenv_teardown(env);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_paths),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
