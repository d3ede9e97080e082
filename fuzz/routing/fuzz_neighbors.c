/* fuzz_neighbors.c — the Neighbors decoder: caps (17 contacts, 256 addresses) hold, no read
 * outside the input; accepted input re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "routing/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nn_routing_neighbors nb;
	static uint8_t out[NN_WIRE_MAX_FRAME];
	if (nn_routing_neighbors_decode(data, size, &nb) == 0) {
		if (nb.count > NN_ROUTING_NEIGHBORS_MAX || nb.naddrs > NN_ROUTING_NEIGHBORS_MAX_ADDRS)
			abort();
		int n = nn_routing_neighbors_encode(out, sizeof out, &nb);
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			abort();
		for (size_t i = 0; i < nb.count; i++) {
			nn_routing_contact c;
			if (nn_routing_neighbors_get(&nb, i, &c) != 0 ||
			    c.naddrs > NN_ROUTING_CONTACT_ADDRS)
				abort();
			nn_routing_contact_sanitize_hint(&c);
			(void)nn_routing_contact_check_key(&c);
		}
	}
	return 0;
}
