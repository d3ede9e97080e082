/* msgasm.h — reassembly of one media message from its unidirectional stream (channel byte |
 * payload, up to FIN), bounded: the strict reader behind media sessions' messages.
 *
 * Protocol (facts §7.6): a message is one uni stream, channel | payload (<= 65,536) | FIN, so
 * a whole message is 1..NN_QUIC_MSG_MAX bytes. Verifiable tier: stream chunks must arrive in
 * order and without gaps (ngtcp2 delivers them so; anything else is refused), bytes past the
 * limit refuse the message as soon as they are seen (before they are copied), an empty message
 * at FIN is refused. The reader never allocates: it copies into the caller's buffer of `cap`
 * bytes; when a chunk needs more room than cap but stays within the limit it says so
 * (NN_ENOSPC) and the caller hands it a bigger buffer (nn_quic_msgasm_rebuf) and feeds the same
 * chunk again. After an error the reader is dead (sticky): the caller drops and counts. The
 * channel is not checked here (the node checks it with transport/media.h).
 */
#ifndef NN_QUIC_MSGASM_H
#define NN_QUIC_MSGASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/nn_err.h"

#define NN_QUIC_MSG_MAX 65537u /* channel byte + 65,536 payload (== NN_TP_MAX_MEDIA_MSG) */

typedef struct nn_quic_msgasm {
	uint8_t *buf;  /* caller's buffer */
	uint32_t cap;  /* its size */
	uint32_t got;  /* bytes so far (== next expected stream offset) */
	int err;       /* sticky */
	bool done;     /* FIN seen, message complete */
} nn_quic_msgasm;

void nn_quic_msgasm_init(nn_quic_msgasm *a, uint8_t *buf, uint32_t cap);
/* Move to a bigger buffer (its first `got` bytes must already hold the message so far). */
void nn_quic_msgasm_rebuf(nn_quic_msgasm *a, uint8_t *buf, uint32_t cap);
/* Feed the chunk at stream offset off. Returns 1 when the message is complete (FIN; its length
 * is a->got), 0 when more is needed, NN_ENOSPC (grow the buffer and feed again; nothing was
 * consumed), or the sticky errors NN_ETOOBIG (over the limit), NN_ECORRUPT (a gap or overlap,
 * data after FIN), NN_ETRUNC (FIN on an empty message). */
int nn_quic_msgasm_feed(nn_quic_msgasm *a, uint64_t off, const uint8_t *d, size_t n, bool fin);

#endif
