/* writer.c — the bounded, sticky-error writer. */
#include <string.h>

#include "wire/wire.h"

uint8_t *nn_wr_reserve(nn_wr *w, size_t n)
{
	if (w->err)
		return NULL;
	if (n > w->cap - w->off) {
		w->err = NN_ENOSPC;
		return NULL;
	}
	uint8_t *p = w->p + w->off;
	w->off += n;
	return p;
}

void nn_wr_u8(nn_wr *w, uint8_t v)
{
	uint8_t *p = nn_wr_reserve(w, 1);
	if (p)
		p[0] = v;
}

void nn_wr_u16(nn_wr *w, uint16_t v)
{
	uint8_t *p = nn_wr_reserve(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void nn_wr_u32(nn_wr *w, uint32_t v)
{
	uint8_t *p = nn_wr_reserve(w, 4);
	if (p)
		for (int i = 0; i < 4; i++)
			p[i] = (uint8_t)(v >> (24 - 8 * i));
}

void nn_wr_u64(nn_wr *w, uint64_t v)
{
	uint8_t *p = nn_wr_reserve(w, 8);
	if (p)
		for (int i = 0; i < 8; i++)
			p[i] = (uint8_t)(v >> (56 - 8 * i));
}

void nn_wr_i64(nn_wr *w, int64_t v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	nn_wr_u64(w, u);
}

void nn_wr_uvarint(nn_wr *w, uint64_t v)
{
	uint8_t *p = nn_wr_reserve(w, nn_uvarint_len(v));
	if (p)
		(void)nn_uvarint_put(p, NN_UVARINT_MAX_LEN, v);
}

void nn_wr_bytes(nn_wr *w, const void *b, size_t n)
{
	uint8_t *p = nn_wr_reserve(w, n);
	if (p && n)
		memcpy(p, b, n);
}

void nn_wr_id(nn_wr *w, const nn_id *id) { nn_wr_bytes(w, id->b, NN_ID_LEN); }

void nn_wr_lenbytes(nn_wr *w, const void *b, size_t n)
{
	nn_wr_uvarint(w, n);
	nn_wr_bytes(w, b, n);
}
