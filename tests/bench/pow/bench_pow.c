/* bench_pow.c — PoW minting: derivations per second per core, and wall time to mint at
 * d = 16 on all cores (median of several runs; goal <= 1 s on 2 cores). */
#include <stdlib.h>
#include <unistd.h>

#include "pow/pow.h"
#include "tests/support/bench.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	bool quick = nn_bench_quick(argc, argv);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;

	/* single-core derivation rate: the unit of PoW cost */
	uint64_t iters = quick ? 200 : 20000;
	uint8_t seed[32] = {1};
	nn_id id;
	NN_BENCH("pow/derive_id_1core", iters, {
		seed[0]++;
		(void)nn_identity_id_from_seed(&id, NULL, seed);
	});

	int d = quick ? 8 : 16, runs = quick ? 3 : 9;
	uint64_t ms[16], total_tries = 0, total_ns = 0;
	for (int i = 0; i < runs; i++) {
		nn_pow_opts o = {.difficulty = d, .threads = (unsigned)cpus};
		uint64_t tries = 0, t0 = nn_bench_now_ns();
		if (nn_pow_mint(&o, seed, &tries) != 0) {
			fprintf(stderr, "mint failed\n");
			return 1;
		}
		uint64_t dt = nn_bench_now_ns() - t0;
		ms[i] = dt / 1000000;
		total_tries += tries;
		total_ns += dt;
	}
	qsort(ms, (size_t)runs, sizeof ms[0], cmp_u64);
	double rate = (double)total_tries / ((double)total_ns / 1e9);
	printf("bench pow/mint d=%d on %ld cores: median %llu ms, min %llu ms, max %llu ms over %d "
	       "runs; %.0f IDs/s total, %.0f IDs/s/core (goal d=16 median <= 1000 ms on 2 cores)\n",
	       d, cpus, (unsigned long long)ms[runs / 2], (unsigned long long)ms[0],
	       (unsigned long long)ms[runs - 1], runs, rate, rate / (double)cpus);
	return 0;
}
