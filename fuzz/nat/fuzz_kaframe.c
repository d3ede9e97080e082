/* fuzz_kaframe.c — KaProbe / KaEcho payload decoders: what decodes re-encodes to the same
 * payload bytes, and the delay stays within its bounds. */
#include <stdlib.h>
#include <string.h>

#include "nat/kaframe.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t nonce[NN_NAT_KA_NONCE_LEN], buf[NN_NAT_KA_FRAME_MAX];
	uint32_t delay;
	nn_frame f;
	if (nn_nat_ka_probe_decode(data, size, nonce, &delay) == 0) {
		if (delay < 1 || delay > NN_NAT_KA_PROBE_MAX_MS)
			abort();
		int len = nn_nat_ka_probe_frame(buf, sizeof buf, nonce, delay);
		if (len < 0 || nn_wire_frame_decode_exact(buf, (size_t)len, &f) < 0 ||
		    f.len != size || memcmp(f.payload, data, size))
			abort();
	}
	if (nn_nat_ka_echo_decode(data, size, nonce) == 0) {
		int len = nn_nat_ka_echo_frame(buf, sizeof buf, nonce);
		if (len < 0 || nn_wire_frame_decode_exact(buf, (size_t)len, &f) < 0 ||
		    f.len != size || memcmp(f.payload, data, size))
			abort();
	}
	return 0;
}
