/* reader.c — the bounded, sticky-error reader. */
#include <string.h>

#include "wire/wire.h"

static const uint8_t *take(nn_rd *r, size_t n)
{
	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r->err = NN_ETRUNC;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t nn_rd_u8(nn_rd *r)
{
	const uint8_t *p = take(r, 1);
	return p ? p[0] : 0;
}

uint16_t nn_rd_u16(nn_rd *r)
{
	const uint8_t *p = take(r, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t nn_rd_u32(nn_rd *r)
{
	const uint8_t *p = take(r, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t nn_rd_u64(nn_rd *r)
{
	const uint8_t *p = take(r, 8);
	if (!p)
		return 0;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int64_t nn_rd_i64(nn_rd *r)
{
	uint64_t u = nn_rd_u64(r);
	int64_t v;
	memcpy(&v, &u, sizeof v); /* two's complement on the wire */
	return v;
}

uint64_t nn_rd_uvarint(nn_rd *r)
{
	if (r->err)
		return 0;
	uint64_t v = 0;
	int n = nn_uvarint_get(r->p + r->off, r->len - r->off, &v);
	if (n < 0) {
		r->err = n;
		return 0;
	}
	r->off += (size_t)n;
	return v;
}

const uint8_t *nn_rd_bytes(nn_rd *r, size_t n) { return take(r, n); }

void nn_rd_copy(nn_rd *r, void *out, size_t n)
{
	const uint8_t *p = take(r, n);
	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

void nn_rd_id(nn_rd *r, nn_id *out) { nn_rd_copy(r, out->b, NN_ID_LEN); }

const uint8_t *nn_rd_lenbytes(nn_rd *r, size_t max, size_t *n)
{
	uint64_t l = nn_rd_uvarint(r);
	*n = 0;
	if (r->err)
		return NULL;
	if (l > max) {
		r->err = NN_ETOOBIG;
		return NULL;
	}
	const uint8_t *p = take(r, (size_t)l);
	if (p)
		*n = (size_t)l;
	return p;
}

int nn_rd_end(nn_rd *r)
{
	if (!r->err && r->off != r->len)
		r->err = NN_ETRAILING;
	return r->err;
}
