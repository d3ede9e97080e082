/* fuzz_envelope.c — the routed envelope decoder: never crash, never read outside the input,
 * and every accepted envelope re-encodes to the same bytes (strict decoding makes the
 * encoding unique). Also drives the frame-level decoder, TTL and avoid patching. */
#include <stdlib.h>
#include <string.h>

#include "routing/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[NN_WIRE_MAX_FRAME], frame[NN_WIRE_MAX_FRAME];
	nn_routing_env env;
	if (nn_routing_env_decode(data, size, &env) == 0) {
		if (env.navoid > NN_ROUTING_MAX_AVOID || env.plen > size ||
		    env.payload + env.plen != env.sig || env.sig + NN_ED_SIG_LEN != data + size)
			abort();
		if (env.plen <= NN_ROUTING_MAX_PAYLOAD) {
			int n = nn_routing_frame_encode(out, sizeof out, NN_T_ROUTE, &env);
			if (n < 0)
				abort();
			size_t hdr = nn_wire_header_len(size);
			if ((size_t)n != hdr + size || memcmp(out + hdr, data, size) != 0)
				abort();
			nn_routing_env again;
			uint8_t type;
			if (nn_routing_frame_decode(out, (size_t)n, &type, &again) != 0 ||
			    type != NN_T_ROUTE || again.plen != env.plen)
				abort();
			if (nn_routing_frame_set_ttl(out, (size_t)n, 7) != 0 ||
			    out[nn_routing_frame_ttl_offset(out, (size_t)n)] != 7)
				abort();
			if (nn_routing_frame_set_avoid(out, (size_t)n, env.avoid, env.navoid) != 0)
				abort();
		}
		(void)nn_routing_env_fresh(env.sent, 0);
	}
	/* The same bytes as a whole frame. */
	if (size <= sizeof frame) {
		memcpy(frame, data, size);
		uint8_t type;
		(void)nn_routing_frame_decode(frame, size, &type, &env);
		(void)nn_routing_frame_set_ttl(frame, size, 1);
		nn_id av[3] = {{{0}}};
		(void)nn_routing_frame_set_avoid(frame, size, av, size % 4);
	}
	return 0;
}
