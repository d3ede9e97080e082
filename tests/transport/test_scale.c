/* test_scale.c — 10,000 mem endpoints in one process exchanging frames over a random graph
 * (jitter, loss), and determinism: one seed gives one event trace, another seed another. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "tests/transport/sim.h"

static nn_sim_opts opts(uint32_t n, uint64_t seed)
{
	nn_sim_opts o = {.n = n, .degree = 3, .rounds = 6, .seed = seed, .frame_len = 200};
	o.link = nn_mem_link_default();
	o.link.latency = 2 * NN_MS;
	o.link.jitter = 3 * NN_MS;
	o.link.loss_ppm = 10000;
	o.link.bandwidth = 10 * 1000 * 1000;
	return o;
}

static void test_scale_10k(void **st)
{
	nn_sim_opts o = opts(10000, 1);
	nn_sim_result r;
	assert_int_equal(nn_sim_run(&o, &r), 0);
	printf("scale: %u endpoints, %llu connection ends, %llu frames, %.3f s virtual, %.2f s "
	       "wall, trace %016llx\n",
	       o.n, (unsigned long long)r.conns, (unsigned long long)r.frames,
	       (double)r.vtime / 1e9, r.wall_s, (unsigned long long)r.trace);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.dial_failed, 0);
	assert_int_equal(r.conns, 2ull * o.n * o.degree); /* both ends of every dial */
	assert_int_equal(r.frames, (uint64_t)o.n * o.degree * o.rounds);
	assert_int_equal(r.bad, 0);
	assert_int_equal(r.eagain, 0);
	assert_true(r.wall_s < 60.0);
}

static void test_determinism(void **st)
{
	nn_sim_opts o = opts(1000, 77);
	nn_sim_result a, b, c;
	assert_int_equal(nn_sim_run(&o, &a), 0);
	assert_int_equal(nn_sim_run(&o, &b), 0);
	o.seed = 78;
	assert_int_equal(nn_sim_run(&o, &c), 0);
	printf("determinism: seed 77 -> %016llx, %016llx; seed 78 -> %016llx\n",
	       (unsigned long long)a.trace, (unsigned long long)b.trace,
	       (unsigned long long)c.trace);
	assert_int_equal(a.rc, 0);
	assert_true(a.trace == b.trace);
	assert_int_equal(a.frames, b.frames);
	assert_int_equal(a.vtime, b.vtime);
	assert_true(a.trace != c.trace);
	assert_int_equal(c.frames, a.frames); /* same workload, different timing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_scale_10k),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
