/* fuzz_lookup.c — a Lookup: a routed envelope whose payload must be exactly an 8-byte nonce.
 * Never crash; an accepted nonce re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "routing/control.h"
#include "routing/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t nonce[NN_ROUTING_NONCE_LEN], out[NN_ROUTING_NONCE_LEN];
	if (nn_routing_nonce_decode(data, size, nonce) == 0) {
		if (size != NN_ROUTING_NONCE_LEN ||
		    nn_routing_nonce_encode(out, sizeof out, nonce) != NN_ROUTING_NONCE_LEN ||
		    memcmp(out, data, size) != 0)
			abort();
	}
	nn_routing_env env;
	if (nn_routing_env_decode(data, size, &env) == 0 &&
	    nn_routing_nonce_decode(env.payload, env.plen, nonce) == 0) {
		if (env.plen != NN_ROUTING_NONCE_LEN || memcmp(nonce, env.payload, env.plen) != 0)
			abort();
	}
	return 0;
}
