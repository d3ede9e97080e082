/* id.c — ID equality, hex text form, random IDs at a given prefix length. */
#include <string.h>

#include "kad/kad.h"

bool nn_kad_id_is_zero(const nn_id *a)
{
	uint8_t d = 0;
	for (size_t i = 0; i < NN_ID_LEN; i++)
		d |= a->b[i];
	return d == 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nn_kad_id_from_hex(nn_id *out, const char *s, size_t len)
{
	if (!out || !s || len != NN_ID_HEX_LEN)
		return NN_EINVAL;
	nn_id tmp;
	for (size_t i = 0; i < NN_ID_LEN; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return NN_EINVAL;
		tmp.b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = tmp;
	return 0;
}

char *nn_kad_id_to_hex(char out[NN_ID_HEX_LEN + 1], const nn_id *id)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < NN_ID_LEN; i++) {
		out[2 * i] = digits[id->b[i] >> 4];
		out[2 * i + 1] = digits[id->b[i] & 15];
	}
	out[NN_ID_HEX_LEN] = '\0';
	return out;
}

int nn_kad_random_in_bucket(nn_id *out, const nn_id *self, unsigned cpl,
			    const uint8_t rnd[NN_ID_LEN])
{
	if (!out || !self || !rnd || cpl >= NN_ID_BITS)
		return NN_EINVAL;
	nn_id r;
	memcpy(r.b, rnd, NN_ID_LEN);
	unsigned byte = cpl / 8, bit = cpl % 8;
	for (unsigned i = 0; i < byte; i++)
		r.b[i] = self->b[i];
	uint8_t keep = (uint8_t)(0xff00u >> bit);          /* the first `bit` bits of the byte */
	uint8_t flip = (uint8_t)(0x80u >> bit);             /* bit number cpl */
	uint8_t v = (uint8_t)((self->b[byte] & keep) | (r.b[byte] & (uint8_t)~keep));
	v = (uint8_t)((v & (uint8_t)~flip) | (~self->b[byte] & flip));
	r.b[byte] = v;
	*out = r;
	return 0;
}
