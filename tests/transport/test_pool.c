/* test_pool.c — packet pool: classes, caps, reuse, zero steady-state allocations, and the debug
 * checks (poison, double release, use after release) through the fault hook and a fork. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/support/alloc_count.h"
#include "transport/pool.h"

typedef struct faults {
	int n;
	char last[64];
} faults;

static void on_fault(void *ctx, const char *what, const nn_pkt *pkt)
{
	faults *f = ctx;
	f->n++;
	strncpy(f->last, what, sizeof f->last - 1);
}

static void test_classes(void **st)
{
	nn_pool p;
	assert_int_equal(nn_pool_init(&p, NULL), 0);
	nn_pkt *a = nn_pool_get(&p, 1);
	nn_pkt *b = nn_pool_get(&p, NN_POOL_DGRAM_CAP);
	nn_pkt *c = nn_pool_get(&p, NN_POOL_DGRAM_CAP + 1);
	nn_pkt *d = nn_pool_get(&p, NN_POOL_FRAME_CAP);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(d);
	assert_int_equal(a->cap, NN_POOL_DGRAM_CAP);
	assert_int_equal(b->cap, NN_POOL_DGRAM_CAP);
	assert_int_equal(c->cap, NN_POOL_FRAME_CAP);
	assert_int_equal(d->cap, NN_POOL_FRAME_CAP);
	assert_int_equal(a->len, 0);
	assert_null(nn_pool_get(&p, NN_POOL_FRAME_CAP + 1));
	assert_int_equal(nn_pool_stats_of(&p, NN_POOL_FRAME)->fails, 1);
	/* the whole capacity is usable */
	memset(d->data, 0xab, d->cap);
	memset(a->data, 0xcd, a->cap);
	assert_int_equal(nn_pool_stats_of(&p, NN_POOL_DGRAM)->in_use, 2);
	nn_pkt_release(a);
	nn_pkt_release(b);
	nn_pkt_release(c);
	nn_pkt_release(d);
	nn_pkt_release(NULL);
	assert_int_equal(nn_pool_stats_of(&p, NN_POOL_DGRAM)->in_use, 0);
	assert_int_equal(nn_pool_stats_of(&p, NN_POOL_FRAME)->in_use, 0);
	/* LIFO reuse: the last released buffer comes back first */
	assert_ptr_equal(nn_pool_get_class(&p, NN_POOL_FRAME), d);
	nn_pkt_release(d);
	nn_pool_fini(&p);
}

static void test_cap_and_prealloc(void **st)
{
	nn_pool p;
	nn_pool_opts o = {.max = {3, 1}, .prealloc = {2, 1}, .debug = 0};
	assert_int_equal(nn_pool_init(&p, &o), 0);
	assert_int_equal(nn_pool_stats_of(&p, NN_POOL_DGRAM)->allocated, 2);
	nn_pkt *k[4];
	for (int i = 0; i < 3; i++)
		assert_non_null(k[i] = nn_pool_get(&p, 10));
	assert_null(nn_pool_get(&p, 10)); /* cap of 3 reached */
	assert_int_equal(nn_pool_stats_of(&p, NN_POOL_DGRAM)->fails, 1);
	assert_non_null(k[3] = nn_pool_get(&p, 5000));
	assert_null(nn_pool_get(&p, 5000));
	for (int i = 0; i < 4; i++)
		nn_pkt_release(k[i]);
	/* after a release the class is usable again */
	nn_pkt *again = nn_pool_get(&p, 10);
	assert_non_null(again);
	nn_pkt_release(again);
	nn_pool_fini(&p);
}

static void test_steady_state_no_alloc(void **st)
{
	nn_pool p;
	assert_int_equal(nn_pool_init(&p, &(nn_pool_opts){.debug = 0}), 0);
	nn_pkt *k[8];
	for (int i = 0; i < 8; i++)
		k[i] = nn_pool_get(&p, i % 2 ? 100 : 20000);
	for (int i = 0; i < 8; i++)
		nn_pkt_release(k[i]);
	uint64_t a0 = nn_test_allocs();
	for (int round = 0; round < 1000; round++) {
		for (int i = 0; i < 8; i++)
			k[i] = nn_pool_get(&p, i % 2 ? 100 : 20000);
		for (int i = 7; i >= 0; i--)
			nn_pkt_release(k[i]);
	}
	assert_int_equal(nn_test_allocs() - a0, 0);
	nn_pool_fini(&p);
}

static void test_debug_detects(void **st)
{
	faults f = {0};
	nn_pool p;
	nn_pool_opts o = {.debug = 1, .fault = on_fault, .fault_ctx = &f};
	assert_int_equal(nn_pool_init(&p, &o), 0);
	nn_pkt *k = nn_pool_get(&p, 100);
	memset(k->data, 0x11, 100);
	nn_pkt_check(k);
	assert_int_equal(f.n, 0);
	nn_pkt_release(k);
	/* released memory is poisoned */
	assert_int_equal(k->data[0], NN_POOL_POISON);
	assert_int_equal(k->data[k->cap - 1], NN_POOL_POISON);
	/* use after release */
	nn_pkt_check(k);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.last, "use after release");
	/* double release */
	nn_pkt_release(k);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.last, "double release");
	assert_int_equal(nn_pool_stats_of(&p, NN_POOL_DGRAM)->in_use, 0);
	/* a write into a released buffer is caught when it is handed out again */
	k->data[7] = 0;
	nn_pkt *again = nn_pool_get(&p, 100);
	assert_ptr_equal(again, k);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.last, "use after release: free packet was written");
	/* a packet still owned at fini is a leak */
	nn_pool_fini(&p);
	assert_int_equal(f.n, 4);
	free(again); /* the pool is gone; the packet is one malloc block (header + data) */
}

static void test_nondebug_double_release_is_counted(void **st)
{
	faults f = {0};
	nn_pool p;
	nn_pool_opts o = {.debug = 0, .fault = on_fault, .fault_ctx = &f};
	assert_int_equal(nn_pool_init(&p, &o), 0);
	nn_pkt *k = nn_pool_get(&p, 100);
	nn_pkt_release(k);
	nn_pkt_release(k);
	assert_int_equal(f.n, 0);
	assert_int_equal(nn_pool_stats_of(&p, NN_POOL_DGRAM)->double_releases, 1);
	/* the free list was not corrupted: two gets give two different buffers */
	nn_pkt *a = nn_pool_get(&p, 1), *b = nn_pool_get(&p, 1);
	assert_ptr_not_equal(a, b);
	nn_pkt_release(a);
	nn_pkt_release(b);
	nn_pool_fini(&p);
}

static void test_debug_aborts_by_default(void **st)
{
	/* death test: without a fault hook a double release aborts the process */
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		nn_pool p;
		nn_pool_init(&p, &(nn_pool_opts){.debug = 1});
		nn_pkt *k = nn_pool_get(&p, 1);
		nn_pkt_release(k);
		nn_pkt_release(k);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_build_default(void **st)
{
	nn_pool p;
	assert_int_equal(nn_pool_init(&p, NULL), 0);
	assert_int_equal(p.debug, nn_pool_debug_default());
	nn_pool_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_cap_and_prealloc),
		cmocka_unit_test(test_steady_state_no_alloc),
		cmocka_unit_test(test_debug_detects),
		cmocka_unit_test(test_nondebug_double_release_is_counted),
		cmocka_unit_test(test_debug_aborts_by_default),
		cmocka_unit_test(test_build_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
