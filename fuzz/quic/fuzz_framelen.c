/* fuzz_framelen.c — the stream frame-length reader: never crash; feeding the input in one
 * piece and in chunks (sizes taken from the first byte) yields the same frames and the same
 * error; every accepted frame re-encodes to the bytes it came from (strict, minimal prefix). */
#include <stdlib.h>
#include <string.h>

#include "transport/quic/framer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf_a[NN_QUIC_FRAME_MAX], buf_b[NN_QUIC_FRAME_MAX];

/* Run the framer; returns a hash of frames + final status. */
static unsigned long run(const uint8_t *d, size_t n, size_t chunk, uint8_t *buf, int *status)
{
	nn_quic_framer f;
	nn_quic_framer_init(&f, buf);
	unsigned long h = 5381;
	size_t off = 0, pos = 0;
	*status = 0;
	while (off < n) {
		size_t c = n - off < chunk ? n - off : chunk, done = 0;
		while (done < c) {
			size_t used;
			const uint8_t *fr;
			size_t fl;
			int rc = nn_quic_framer_feed(&f, d + off + done, c - done, &used, &fr, &fl);
			if (used > c - done)
				abort();
			done += used;
			if (rc < 0) {
				*status = rc;
				return h;
			}
			if (rc == 1) {
				uint8_t p[NN_QUIC_FRAME_HDR_MAX];
				int hl = nn_quic_framer_prefix(p, fl);
				if (hl <= 0 || fl > NN_QUIC_FRAME_MAX || memcmp(d + pos, p, (size_t)hl) ||
				    memcmp(d + pos + hl, fr, fl))
					abort();
				pos += (size_t)hl + fl;
				h = h * 33 + fl;
			} else if (done != c) {
				abort();
			}
		}
		off += c;
	}
	*status = nn_quic_framer_idle(&f) ? 0 : 1;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] % 17 + 1;
	int s1, s2;
	unsigned long h1 = run(data + 1, size - 1, size, buf_a, &s1);
	unsigned long h2 = run(data + 1, size - 1, chunk, buf_b, &s2);
	if (h1 != h2 || s1 != s2)
		abort();
	return 0;
}
