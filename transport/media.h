/* media.h — the media frame codec: channel (1 byte) | opaque payload. Pure, no allocation.
 *
 * Protocol (MUST inside the media subprotocol): no version, no length field; the carrier (one
 * QUIC DATAGRAM, or one unidirectional stream up to FIN) delimits the frame. Channel 0 is the
 * core's (unused), 1-15 are reserved, 16-255 belong to the application. Datagram payloads are at
 * most 1200 bytes, message payloads at most 65,536.
 * Verifiable tier: encoding on a reserved channel is a programming error (NN_EINVAL); a received
 * frame that is empty, on a reserved channel or over its carrier's limit is rejected (the caller
 * drops and counts it). Decoded payloads are views into the caller's buffer.
 */
#ifndef NN_TRANSPORT_MEDIA_H
#define NN_TRANSPORT_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/nn_err.h"

#define NN_MEDIA_CH_APP_FIRST 16
#define NN_MEDIA_MAX_DGRAM_PAYLOAD 1200u
#define NN_MEDIA_MAX_MSG_PAYLOAD 65536u

enum nn_media_carrier { NN_MEDIA_DATAGRAM = 0, NN_MEDIA_MESSAGE = 1 };

static inline bool nn_media_channel_reserved(uint8_t ch) { return ch < NN_MEDIA_CH_APP_FIRST; }
static inline size_t nn_media_max_payload(enum nn_media_carrier k)
{
	return k == NN_MEDIA_DATAGRAM ? NN_MEDIA_MAX_DGRAM_PAYLOAD : NN_MEDIA_MAX_MSG_PAYLOAD;
}

/* Write channel | payload into buf; returns the frame length, or NN_EINVAL (reserved channel,
 * NULL payload with plen > 0), NN_ETOOBIG (payload over the carrier's limit), NN_ENOSPC. */
int nn_media_frame_encode(uint8_t *buf, size_t cap, enum nn_media_carrier k, uint8_t ch,
			  const uint8_t *payload, size_t plen);

/* Split a received frame: NN_ETRUNC (empty), NN_ECORRUPT (reserved channel), NN_ETOOBIG
 * (payload over the carrier's limit). On success *payload points into buf. */
int nn_media_frame_decode(const uint8_t *buf, size_t len, enum nn_media_carrier k, uint8_t *ch,
			  const uint8_t **payload, size_t *plen);

#endif
