/* test_allocs.c — the hot paths (send, receive, forward from the lent buffer) make zero heap
 * allocations in steady state on the mem transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tests/support/alloc_count.h"
#include "transport/mem/mem.h"

typedef struct node {
	nn_tp *tp;
	nn_conn *in, *out;
	uint64_t rx;
	nn_conn *fwd; /* forward every frame here */
} node;

static void s_conn(void *ctx, nn_conn *c)
{
	node *n = ctx;
	if (c->outbound)
		n->out = c;
	else
		n->in = c;
}

static void s_frame(void *ctx, nn_conn *c, nn_pkt **k)
{
	node *n = ctx;
	n->rx++;
	if (n->fwd) {
		(*k)->data[1]--; /* patch the "TTL" in place, then forward from the same buffer */
		nn_tp_send(n->tp, n->fwd, (*k)->data, (*k)->len);
	}
}

static void test_zero_alloc_send_receive_forward(void **st)
{
	nn_clock *clk = nn_vclock_new(1, 0, 0);
	nn_pool pool;
	nn_pool_init(&pool, &(nn_pool_opts){.debug = 0});
	nn_mem_link l = nn_mem_link_default();
	l.jitter = 1 * NN_MS;
	l.loss_ppm = 10000;
	l.queue_frames = 512; /* this test is about allocations, not backpressure */
	nn_mem_hub *hub = nn_mem_hub_new(clk, &pool, &l);
	node n[3] = {0};
	for (int i = 0; i < 3; i++) {
		nn_id id;
		memset(&id, i + 1, sizeof id);
		char name[4] = {'n', (char)('0' + i), 0};
		assert_int_equal(nn_mem_endpoint_new(hub, name, &id, 0, &n[i].tp), 0);
		nn_tp_sink s = {.ctx = &n[i], .on_conn = s_conn, .on_frame = s_frame};
		nn_tp_set_sink(n[i].tp, &s);
	}
	for (int i = 0; i < 2; i++) { /* 0 -> 1 -> 2 */
		nn_addr a;
		nn_tp_local_addrs(n[i + 1].tp, &a, 1);
		assert_int_equal(nn_tp_dial(n[i].tp, &n[i + 1].tp->local_id, &a, NULL), 0);
	}
	nn_vclock_advance(clk, NN_SEC);
	assert_non_null(n[0].out);
	assert_non_null(n[1].out);
	n[1].fwd = n[1].out;
	uint8_t small[300] = {1, 64}, big[40000] = {1, 64};
	uint64_t a0 = 0;
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 1)
			a0 = nn_test_allocs();
		for (int i = 0; i < 5000; i++) {
			assert_int_equal(nn_tp_send(n[0].tp, n[0].out, small, sizeof small), 0);
			if (i % 10 == 0)
				assert_int_equal(nn_tp_send(n[0].tp, n[0].out, big, sizeof big), 0);
			/* the reverse direction of the dialled edge too */
			assert_int_equal(nn_tp_send(n[1].tp, n[1].in, small, sizeof small), 0);
			nn_vclock_advance(clk, nn_clock_now(clk) + 100 * NN_US);
		}
		nn_vclock_advance(clk, nn_clock_now(clk) + NN_SEC);
	}
	uint64_t allocs = nn_test_allocs() - a0;
	assert_int_equal(n[2].rx, 2 * 5500);
	assert_int_equal(n[1].rx, 2 * 5500);
	assert_int_equal(n[0].rx, 2 * 5000);
	assert_int_equal(allocs, 0);
	nn_mem_hub_free(hub);
	nn_pool_fini(&pool);
	nn_clock_destroy(clk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_alloc_send_receive_forward),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
