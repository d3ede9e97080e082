/* fuzz_pong.c — the Pong decoder (exactly one address): never crash; the accepted address
 * matches the grammar (transport/addr.h); accepted input re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "routing/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nn_addr a;
	uint8_t out[256];
	if (nn_routing_pong_decode(data, size, &a) == 0) {
		if (nn_addr_check(&a) != 0)
			abort();
		int n = nn_routing_pong_encode(out, sizeof out, &a);
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			abort();
	}
	return 0;
}
