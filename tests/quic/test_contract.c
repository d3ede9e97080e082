/* test_contract.c — the shared transport contract suite (tests/transport/contract.c) run
 * against the QUIC transport over loopback. */
#include <stdio.h>

#include "tests/quic/quic_factory.h"

int main(void)
{
	int failures = nn_contract_run(&nn_quic_factory);
	printf("quic contract: %d failed checks\n", failures);
	return failures ? 1 : 0;
}
