/* wire.h — the v1 frame envelope, uvarints, and a bounded reader/writer over caller memory.
 *
 * Frame (protocol, MUST): version (1 byte, 0x01) | type (1 byte) | uvarint(len) | payload.
 * A whole frame is at most NN_WIRE_MAX_FRAME (65,536) bytes: one transport packet.
 * Decoders here are stricter than the reference (verifiable tier): non-minimal uvarints,
 * lengths past the frame limit and truncation are errors. Nothing here allocates, retains a
 * pointer past the call, or reads outside [buf, buf+len). Decoded payloads are views into
 * the caller's buffer and live as long as it does.
 *
 * nn_rd / nn_wr are the building blocks of every upper-layer codec: each read or write checks
 * bounds, and the first error sticks (later calls do nothing), so a codec can run a straight
 * sequence of calls and check rd.err once at the end.
 */
#ifndef NN_WIRE_H
#define NN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/kad.h"

#define NN_WIRE_VERSION 1
#define NN_WIRE_MAX_FRAME 65536u              /* whole frame, header included */
#define NN_WIRE_MAX_HEADER (2 + 3)            /* version, type, uvarint(<= 65536) */
#define NN_UVARINT_MAX_LEN 10

/* Type registry (protocol). */
enum nn_wire_type {
	NN_T_ROUTE = 1,
	NN_T_PING = 2,
	NN_T_PONG = 3,
	NN_T_LOOKUP = 4,
	NN_T_NEIGHBORS = 5,
	NN_T_SIBLINGS = 6,
	NN_T_LEAVE = 7,
	NN_T_HELLO = 8,
	NN_T_REPLY = 9,
	NN_T_CONNECT = 10,
	NN_T_CONNECT_ACK = 11,
	NN_T_RELAY_REQUEST = 12,
	NN_T_RELAY_GRANT = 13,
	NN_T_RELAY_BIND = 14,
	NN_T_TEST = 15, /* unassigned; used by the transport contract suite */
	/* libnodenet additions, numbered down from 63 (clear of the reference's sequential
	 * assignments); reference peers ignore unknown types */
	NN_T_KA_ECHO = 60,  /* per edge: the answer to a keepalive probe, after its delay */
	NN_T_KA_PROBE = 61, /* per edge: "echo this after N ms" (NAT mapping lifetime) */
	NN_T_RELAY_REFUSE = 62, /* per edge: a relay cannot serve a RelayRequest (nat/relay.h) */
	NN_T_REFERRAL = 63, /* per edge: contacts for a newcomer refused at an inbound cap */
	NN_T_APP = 64,
};

/* Name of a registered type ("route", "ping", ...), or NULL if unassigned. */
const char *nn_wire_type_name(uint8_t type);

/* ---- uvarint (LEB128, low groups first) ---- */

/* Bytes needed for v (1..10). */
size_t nn_uvarint_len(uint64_t v);
/* Write v minimally; returns bytes written, or NN_ENOSPC. */
int nn_uvarint_put(uint8_t *buf, size_t cap, uint64_t v);
/* Read one uvarint; returns bytes consumed, or NN_ETRUNC, NN_EOVERFLOW (> 64 bits),
 * NN_ENONMINIMAL (a longer form than needed, e.g. 80 00). */
int nn_uvarint_get(const uint8_t *buf, size_t len, uint64_t *v);

/* ---- bounded reader ---- */
typedef struct nn_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err; /* 0 or the first NN_E* met; sticky */
} nn_rd;

static inline void nn_rd_init(nn_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}
static inline size_t nn_rd_left(const nn_rd *r) { return r->err ? 0 : r->len - r->off; }

uint8_t nn_rd_u8(nn_rd *r);
uint16_t nn_rd_u16(nn_rd *r);
uint32_t nn_rd_u32(nn_rd *r);
uint64_t nn_rd_u64(nn_rd *r);
int64_t nn_rd_i64(nn_rd *r);
uint64_t nn_rd_uvarint(nn_rd *r);
/* A view of the next n bytes (NULL on error). */
const uint8_t *nn_rd_bytes(nn_rd *r, size_t n);
/* Copy the next n bytes into out (zero-filled on error). */
void nn_rd_copy(nn_rd *r, void *out, size_t n);
void nn_rd_id(nn_rd *r, nn_id *out);
/* uvarint length then a view of that many bytes; the length must be <= max. */
const uint8_t *nn_rd_lenbytes(nn_rd *r, size_t max, size_t *n);
/* Set NN_ETRAILING if bytes are left; returns r->err. */
int nn_rd_end(nn_rd *r);
/* Record an error (keeps the first). */
static inline void nn_rd_fail(nn_rd *r, int err)
{
	if (!r->err)
		r->err = err;
}

/* ---- bounded writer ---- */
typedef struct nn_wr {
	uint8_t *p;
	size_t cap;
	size_t off;
	int err;
} nn_wr;

static inline void nn_wr_init(nn_wr *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->off = 0;
	w->err = 0;
}

void nn_wr_u8(nn_wr *w, uint8_t v);
void nn_wr_u16(nn_wr *w, uint16_t v);
void nn_wr_u32(nn_wr *w, uint32_t v);
void nn_wr_u64(nn_wr *w, uint64_t v);
void nn_wr_i64(nn_wr *w, int64_t v);
void nn_wr_uvarint(nn_wr *w, uint64_t v);
void nn_wr_bytes(nn_wr *w, const void *b, size_t n);
void nn_wr_id(nn_wr *w, const nn_id *id);
/* uvarint(n) | bytes */
void nn_wr_lenbytes(nn_wr *w, const void *b, size_t n);
/* Reserve n bytes to fill later; returns a pointer to them (NULL on error). */
uint8_t *nn_wr_reserve(nn_wr *w, size_t n);

/* ---- frame envelope ---- */
typedef struct nn_frame {
	uint8_t type;
	const uint8_t *payload; /* view into the decoded buffer */
	size_t len;
} nn_frame;

/* Decode one frame at the start of buf. *consumed = header + payload length; bytes after it
 * are the caller's business. Errors: NN_ETRUNC, NN_EBADVERSION, NN_ENONMINIMAL, NN_EOVERFLOW,
 * NN_ETOOBIG (frame would exceed NN_WIRE_MAX_FRAME). */
int nn_wire_frame_decode(const uint8_t *buf, size_t len, nn_frame *out, size_t *consumed);
/* The same, but the frame must fill buf exactly (NN_ETRAILING otherwise). */
int nn_wire_frame_decode_exact(const uint8_t *buf, size_t len, nn_frame *out);

/* Header size for a payload of plen bytes. */
static inline size_t nn_wire_header_len(size_t plen) { return 2 + nn_uvarint_len(plen); }

/* Write the header for a payload of plen bytes; returns header length or NN_ENOSPC /
 * NN_ETOOBIG. The payload goes right after it (build payloads in place). */
int nn_wire_header_put(uint8_t *buf, size_t cap, uint8_t type, size_t plen);
/* Write a whole frame; returns its total length or NN_ENOSPC / NN_ETOOBIG. payload may be
 * NULL when plen is 0. */
int nn_wire_frame_encode(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *payload,
			 size_t plen);

#endif
