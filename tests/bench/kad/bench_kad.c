/* bench_kad.c — XOR distance comparison and common-prefix length, ns/op. */
#include "kad/kad.h"
#include "tests/support/bench.h"
#include "tests/support/testutil.h"

#define N 1024

int main(int argc, char **argv)
{
	uint64_t iters = nn_bench_quick(argc, argv) ? 100000 : 50000000;
	static nn_id ids[N];
	nn_test_rng r = {3};
	for (int i = 0; i < N; i++)
		nn_test_rng_fill(&r, ids[i].b, NN_ID_LEN);
	volatile int sink = 0;
	uint64_t k = 0;
	NN_BENCH("kad/cmp_distance", iters, {
		sink += nn_kad_cmp_distance(&ids[k & (N - 1)], &ids[(k + 1) & (N - 1)],
					    &ids[(k + 2) & (N - 1)]);
		k++;
	});
	NN_BENCH("kad/cpl", iters, {
		sink += (int)nn_kad_cpl(&ids[k & (N - 1)], &ids[(k + 7) & (N - 1)]);
		k++;
	});
	(void)sink;
	return 0;
}
