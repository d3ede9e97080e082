/* fuzz_siblings.c — a Siblings frame (per-edge, payload exactly an 8-byte nonce): never
 * crash; an accepted frame re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "routing/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nn_frame f;
	uint8_t nonce[NN_ROUTING_NONCE_LEN], out[64];
	if (nn_wire_frame_decode_exact(data, size, &f) == 0 && f.type == NN_T_SIBLINGS &&
	    nn_routing_nonce_decode(f.payload, f.len, nonce) == 0) {
		int n = nn_routing_siblings_frame(out, sizeof out, nonce);
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			abort();
	}
	return 0;
}
