/* msgasm.c — bounded reassembly of one media message (see msgasm.h). */
#include <string.h>

#include "transport/quic/msgasm.h"

void nn_quic_msgasm_init(nn_quic_msgasm *a, uint8_t *buf, uint32_t cap)
{
	memset(a, 0, sizeof *a);
	a->buf = buf;
	a->cap = cap;
}

void nn_quic_msgasm_rebuf(nn_quic_msgasm *a, uint8_t *buf, uint32_t cap)
{
	a->buf = buf;
	a->cap = cap;
}

static int fail(nn_quic_msgasm *a, int err)
{
	a->err = err;
	return err;
}

int nn_quic_msgasm_feed(nn_quic_msgasm *a, uint64_t off, const uint8_t *d, size_t n, bool fin)
{
	if (a->err)
		return a->err;
	if (a->done)
		return n || !fin ? fail(a, NN_ECORRUPT) : 1;
	if (off != a->got || (n && !d))
		return fail(a, NN_ECORRUPT);
	if (n > NN_QUIC_MSG_MAX - a->got)
		return fail(a, NN_ETOOBIG);
	if (n > a->cap - a->got)
		return NN_ENOSPC; /* within the limit: the caller grows the buffer */
	if (n)
		memcpy(a->buf + a->got, d, n);
	a->got += (uint32_t)n;
	if (!fin)
		return 0;
	if (a->got == 0)
		return fail(a, NN_ETRUNC);
	a->done = true;
	return 1;
}
