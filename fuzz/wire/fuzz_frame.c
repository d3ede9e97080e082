/* fuzz_frame.c — the frame decoder and the uvarint reader: never crash, never read outside the
 * input, and every accepted frame re-encodes to the same bytes (strict decoding makes the
 * encoding unique). */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[NN_WIRE_MAX_FRAME];
	nn_frame f;
	size_t used = 0;
	if (nn_wire_frame_decode(data, size, &f, &used) == 0) {
		if (used > size || used > NN_WIRE_MAX_FRAME || f.payload < data ||
		    f.payload + f.len != data + used)
			abort();
		int n = nn_wire_frame_encode(out, sizeof out, f.type, f.payload, f.len);
		if (n < 0 || (size_t)n != used || memcmp(out, data, used) != 0)
			abort();
		nn_frame g;
		if (nn_wire_frame_decode_exact(data, used, &g) != 0 || g.len != f.len)
			abort();
	}
	uint64_t v;
	int n = nn_uvarint_get(data, size, &v);
	if (n > 0) {
		uint8_t b[NN_UVARINT_MAX_LEN];
		int m = nn_uvarint_put(b, sizeof b, v);
		if (m != n || memcmp(b, data, (size_t)n) != 0)
			abort();
	}
	/* the sticky reader over the same bytes */
	nn_rd r;
	nn_rd_init(&r, data, size);
	while (nn_rd_left(&r)) {
		size_t l;
		(void)nn_rd_lenbytes(&r, 64, &l);
	}
	return 0;
}
