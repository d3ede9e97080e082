/* test_contract.c — the contract suite against every transport registered in this binary:
 * mem with the default link, and mem over a slow, jittery, lossy, narrow link. (QUIC runs the
 * same suite from tests/quic/ with its own factory.) */
#include <stdio.h>

#include "tests/transport/mem_factory.h"

int main(void)
{
	nn_mem_link rough = nn_mem_link_default();
	rough.latency = 40 * NN_MS;
	rough.jitter = 15 * NN_MS;
	rough.loss_ppm = 50000;
	rough.bandwidth = 2 * 1000 * 1000;
	rough.queue_frames = 16;
	const struct nn_contract_factory reg[] = {
		nn_mem_factory,
		nn_mem_factory_with(&rough, "mem-rough"),
	};
	int fails = 0;
	for (size_t i = 0; i < sizeof reg / sizeof reg[0]; i++)
		fails += nn_contract_run(&reg[i]);
	printf("contract: %d failed checks\n", fails);
	return fails ? 1 : 0;
}
