/* framer.h — the strict incremental reader of QUIC stream framing: uvarint(length) | frame,
 * repeated, length <= 65,536 (protocol, MUST).
 *
 * Stricter than the reference (verifiable tier): the length must be a minimal uvarint; a length
 * over the limit is an error as soon as its prefix shows it (after at most 3 bytes), before any
 * body byte is buffered. The reader never allocates: it assembles a frame split across stream
 * chunks in a caller-provided buffer of NN_QUIC_FRAME_MAX bytes and hands out frames that lie
 * whole inside one chunk as views of that chunk (zero copy). After an error the reader is dead
 * (every later call returns the same error): the edge must be closed.
 */
#ifndef NN_QUIC_FRAMER_H
#define NN_QUIC_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#define NN_QUIC_FRAME_MAX 65536u
#define NN_QUIC_FRAME_HDR_MAX 3 /* uvarint(65536) */

typedef struct nn_quic_framer {
	uint8_t *buf;     /* NN_QUIC_FRAME_MAX bytes (or NULL: see NN_QUIC_FRAMER_NEED_BUF), owned
			   * by the caller */
	uint32_t need;    /* body length of the frame being read */
	uint32_t got;     /* body bytes buffered so far */
	uint8_t hdr[NN_QUIC_FRAME_HDR_MAX];
	uint8_t hdr_len;
	uint8_t in_body;  /* 0 while reading the prefix */
	int err;          /* sticky */
} nn_quic_framer;

void nn_quic_framer_init(nn_quic_framer *f, uint8_t *buf);

/* Consume bytes from data[0..len). Returns 1 when a frame is complete (*frame / *frame_len set;
 * the view is valid until the next call), 0 when all input was consumed without completing a
 * frame, or NN_ETOOBIG / NN_ENONMINIMAL (sticky). *used receives how many input bytes were
 * consumed; call again with the rest. With buf NULL, a frame that must be assembled returns
 * NN_QUIC_FRAMER_NEED_BUF instead (need = its body length): set buf to at least need bytes and
 * call again with the rest (so the caller sizes the buffer to the frame). */
#define NN_QUIC_FRAMER_NEED_BUF 2
int nn_quic_framer_feed(nn_quic_framer *f, const uint8_t *data, size_t len, size_t *used,
			const uint8_t **frame, size_t *frame_len);

/* True when the reader sits between frames (a FIN here is a clean end). */
static inline int nn_quic_framer_idle(const nn_quic_framer *f)
{
	return !f->err && !f->in_body && f->hdr_len == 0;
}

/* Write the length prefix for a frame of len bytes; returns its size (1..3) or NN_ETOOBIG. */
int nn_quic_framer_prefix(uint8_t out[NN_QUIC_FRAME_HDR_MAX], size_t len);

#endif
