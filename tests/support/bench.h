/* bench.h — a tiny benchmark harness: time a loop, print ns/op and allocs/op.
 *
 * NN_BENCH(name, iters, body) runs body iters times (after a short warm-up) and prints
 *   bench <name>: <ns/op> ns/op, <allocs/op> allocs/op, <ops/s> ops/s
 * Benchmarks print figures; they never assert timings. `--quick` on a benchmark's command
 * line (nn_bench_quick) cuts iteration counts so the test suite can smoke-run it.
 */
#ifndef NN_TEST_BENCH_H
#define NN_TEST_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/support/alloc_count.h"

static inline uint64_t nn_bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline bool nn_bench_quick(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--quick"))
			return true;
	return false;
}

static inline void nn_bench_report(const char *name, uint64_t iters, uint64_t ns, uint64_t allocs)
{
	double per = iters ? (double)ns / (double)iters : 0;
	printf("bench %-32s %12.1f ns/op %8.3f allocs/op %14.0f ops/s\n", name, per,
	       iters ? (double)allocs / (double)iters : 0, per > 0 ? 1e9 / per : 0);
	fflush(stdout);
}

#define NN_BENCH(name, iters, body)                                                   \
	do {                                                                          \
		uint64_t nn_b_iters_ = (iters);                                       \
		for (uint64_t nn_b_i_ = 0; nn_b_i_ < nn_b_iters_ / 10 + 1; nn_b_i_++) { \
			body;                                                         \
		}                                                                     \
		uint64_t nn_b_a0_ = nn_test_allocs(), nn_b_t0_ = nn_bench_now_ns();   \
		for (uint64_t nn_b_i_ = 0; nn_b_i_ < nn_b_iters_; nn_b_i_++) {        \
			body;                                                         \
		}                                                                     \
		uint64_t nn_b_t1_ = nn_bench_now_ns(), nn_b_a1_ = nn_test_allocs();   \
		nn_bench_report((name), nn_b_iters_, nn_b_t1_ - nn_b_t0_, nn_b_a1_ - nn_b_a0_); \
	} while (0)

#endif
