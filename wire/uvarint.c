/* uvarint.c — minimal LEB128 unsigned varints, strict on decode. */
#include "wire/wire.h"

size_t nn_uvarint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int nn_uvarint_put(uint8_t *buf, size_t cap, uint64_t v)
{
	size_t need = nn_uvarint_len(v);
	if (!buf || cap < need)
		return NN_ENOSPC;
	for (size_t i = 0; i + 1 < need; i++) {
		buf[i] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	buf[need - 1] = (uint8_t)v;
	return (int)need;
}

int nn_uvarint_get(const uint8_t *buf, size_t len, uint64_t *v)
{
	uint64_t x = 0;
	for (size_t i = 0; i < NN_UVARINT_MAX_LEN; i++) {
		if (i >= len)
			return NN_ETRUNC;
		uint8_t b = buf[i];
		if (i == NN_UVARINT_MAX_LEN - 1 && b > 1)
			return NN_EOVERFLOW; /* the 10th byte may carry only bit 63 */
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				return NN_ENONMINIMAL; /* a zero last group means a shorter form existed */
			*v = x;
			return (int)(i + 1);
		}
	}
	return NN_EOVERFLOW;
}
