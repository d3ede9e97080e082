/* fuzz_msgasm.c — the media message reassembler (transport/quic/msgasm.h) as media.c drives it:
 * a small buffer first, a 65,537-byte one when NN_ENOSPC says so. The input is a list of stream
 * chunks: flags (bit 0 FIN, bit 1 shift the offset by the next byte, bits 4-7 a repeat factor),
 * a 16-bit length (scaled by the repeat factor, so inputs of a few KiB reach the 65,537-byte
 * limit) and that many bytes taken cyclically from the rest of the input. Checks: never crash
 * or write out of bounds (ASan), a completed message is exactly the chunks fed in order and at
 * most 65,537 bytes, errors are sticky, NN_ENOSPC only while under the limit with the small
 * buffer. */
#include <stdlib.h>
#include <string.h>

#include "transport/quic/msgasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMALL 1536u
static uint8_t small[SMALL], big[NN_QUIC_MSG_MAX], shadow[NN_QUIC_MSG_MAX + 70000], chunk[65535u * 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nn_quic_msgasm a;
	nn_quic_msgasm_init(&a, small, SMALL);
	bool grown = false;
	size_t pos = 0, slen = 0;
	uint64_t off = 0;
	int sticky = 0;
	while (pos + 3 <= size) {
		uint8_t fl = data[pos];
		size_t n = ((size_t)data[pos + 1] << 8 | data[pos + 2]) * ((size_t)(fl >> 4) + 1);
		pos += 3;
		uint64_t o = off;
		if ((fl & 2) && pos < size)
			o = off + data[pos++] - 128;
		size_t rest = size - pos;
		for (size_t i = 0; i < n; i++)
			chunk[i] = rest ? data[pos + i % rest] : (uint8_t)i;
		pos += n < rest ? n : rest;
		bool fin = fl & 1;
		int rc = nn_quic_msgasm_feed(&a, o, chunk, n, fin);
		if (rc == NN_ENOSPC) {
			if (grown || a.got + n > NN_QUIC_MSG_MAX)
				abort();
			memcpy(big, small, a.got);
			nn_quic_msgasm_rebuf(&a, big, NN_QUIC_MSG_MAX);
			grown = true;
			rc = nn_quic_msgasm_feed(&a, o, chunk, n, fin);
			if (rc == NN_ENOSPC)
				abort();
		}
		if (sticky && rc != sticky)
			abort();
		if (rc < 0) {
			sticky = rc;
			continue;
		}
		if (o != off)
			abort(); /* a gap or overlap was accepted */
		memcpy(shadow + slen, chunk, n);
		slen += n;
		off += n;
		if (a.got != slen || slen > NN_QUIC_MSG_MAX)
			abort();
		if (rc == 1) {
			if (!fin || slen == 0 || memcmp(a.buf, shadow, slen) != 0)
				abort();
			/* anything more after FIN is refused */
			if (nn_quic_msgasm_feed(&a, off, chunk, 1, false) != NN_ECORRUPT)
				abort();
			return 0;
		}
	}
	return 0;
}
