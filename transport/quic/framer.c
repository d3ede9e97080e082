/* framer.c — strict incremental stream frame reader (see framer.h). */
#include "transport/quic/framer.h"

#include <string.h>

#include "kad/nn_err.h"
#include "wire/wire.h"

void nn_quic_framer_init(nn_quic_framer *f, uint8_t *buf)
{
	memset(f, 0, sizeof *f);
	f->buf = buf;
}

int nn_quic_framer_prefix(uint8_t out[NN_QUIC_FRAME_HDR_MAX], size_t len)
{
	if (len > NN_QUIC_FRAME_MAX)
		return NN_ETOOBIG;
	return nn_uvarint_put(out, NN_QUIC_FRAME_HDR_MAX, len);
}

static int fail(nn_quic_framer *f, int err)
{
	f->err = err;
	return err;
}

int nn_quic_framer_feed(nn_quic_framer *f, const uint8_t *data, size_t len, size_t *used,
			const uint8_t **frame, size_t *frame_len)
{
	size_t off = 0;
	*used = 0;
	if (f->err)
		return f->err;
	while (!f->in_body) {
		if (off == len) {
			*used = off;
			return 0;
		}
		uint8_t b = data[off++];
		f->hdr[f->hdr_len++] = b;
		if (b & 0x80) {
			if (f->hdr_len == NN_QUIC_FRAME_HDR_MAX) {
				*used = off;
				return fail(f, NN_ETOOBIG); /* >= 2^21 */
			}
			continue;
		}
		uint64_t v;
		int rc = nn_uvarint_get(f->hdr, f->hdr_len, &v);
		*used = off;
		if (rc < 0)
			return fail(f, rc);
		if (v > NN_QUIC_FRAME_MAX)
			return fail(f, NN_ETOOBIG);
		f->need = (uint32_t)v;
		f->got = 0;
		f->in_body = 1;
	}
	size_t left = len - off;
	size_t want = f->need - f->got;
	if (!f->buf && left == 0) {
		*used = off; /* the body starts in a later chunk */
		return 0;
	}
	if (!f->buf && !(f->got == 0 && left >= want)) {
		*used = off; /* split: the caller supplies a buffer for f->need bytes first */
		return NN_QUIC_FRAMER_NEED_BUF;
	}
	if (f->got == 0 && left >= want) {
		/* the whole body is in this chunk: hand out a view */
		*frame = data + off;
		*frame_len = want;
		off += want;
	} else {
		size_t n = left < want ? left : want;
		memcpy(f->buf + f->got, data + off, n);
		f->got += (uint32_t)n;
		off += n;
		if (f->got < f->need) {
			*used = off;
			return 0;
		}
		*frame = f->buf;
		*frame_len = f->need;
	}
	*used = off;
	f->in_body = 0;
	f->hdr_len = 0;
	return 1;
}
