/* rdv.h — rendezvous Hello and Reply: learn a peer's verified keys and addresses by NodeID.
 *
 * Purpose: an originator sends a Hello (routed type 8) toward a target NodeID; the target answers
 * with a Reply (routed type 9) carrying its ed_pub, x_pub and addresses. These are the payloads
 * only: the routed envelope around them is routing's business (routing/), the pending-request
 * bookkeeping is node's. Pure: no I/O, no clock, no allocation, no global state.
 *
 * Wire (protocol, MUST — nodenet v1):
 *   Hello = x_pub(32) | addr list (<= 16) | nonce(16) | sig(64), exact length
 *     sig  = Ed25519 by the envelope's ed_pub over "nodenet/v1/rendezvous-hello" | target(32) |
 *            x_pub | encoded addr list | nonce (plain concatenation, not hashed)
 *   Reply = ed_pub(32) | x_pub(32) | addr list (<= 16) | nonce(16) | sig(64), exact length
 *     sig  = Ed25519 by ed_pub over "nodenet/v1/rendezvous-reply" | ed_pub | x_pub |
 *            encoded addr list | nonce
 *
 * Tiers. Protocol: the layouts, labels and the Reply check order WrongTarget (BLAKE2b(ed_pub)
 * must be the NodeID the Hello was sent to: the anti-MITM check, so a forwarder cannot
 * substitute its own keys) → NonceMismatch → BadSignature. Verifiable (stricter than the
 * reference): decoders reject trailing bytes, non-minimal uvarints, more than 16 addresses,
 * empty network names, over-long address strings and addresses outside the address grammar
 * (transport/addr.h; NN_EADDR: the signature covers the list as sent, so one bad address sinks
 * the whole message). Local policy: what the
 * caller does with a verified Hello/Reply, and replay suppression (rendezvous/replay.h; key a
 * Hello by envelope ed_pub | nonce so a copy that arrives over another path is answered once).
 *
 * Ownership: every struct is caller-owned and fixed-size (16 nn_addr inline); decoders copy out
 * of the input and keep no pointer to it; encoders write into caller buffers. Functions return
 * 0 or a byte count, or a negative NN_E*. After a failed decode the struct's content is
 * unspecified (zeroed where reached).
 */
#ifndef NN_RENDEZVOUS_RDV_H
#define NN_RENDEZVOUS_RDV_H

#include <stddef.h>
#include <stdint.h>

#include "identity/identity.h"
#include "kad/kad.h"
#include "transport/addr.h"

#define NN_RDV_MAX_ADDRS 16
#define NN_RDV_NONCE_LEN 16
#define NN_RDV_HELLO_LABEL "nodenet/v1/rendezvous-hello"
#define NN_RDV_REPLY_LABEL "nodenet/v1/rendezvous-reply"

/* Largest encoded address: uvarint(15) | 15 | uvarint(63) | 63. */
#define NN_RDV_ADDR_WIRE_MAX (1 + NN_ADDR_NET_MAX + 1 + NN_ADDR_EP_MAX)
#define NN_RDV_ADDR_LIST_MAX (1 + NN_RDV_MAX_ADDRS * NN_RDV_ADDR_WIRE_MAX)
/* Payload bounds (exact lengths vary with the address list). */
#define NN_RDV_HELLO_MIN (NN_X_PUB_LEN + 1 + NN_RDV_NONCE_LEN + NN_ED_SIG_LEN)
#define NN_RDV_HELLO_MAX (NN_X_PUB_LEN + NN_RDV_ADDR_LIST_MAX + NN_RDV_NONCE_LEN + NN_ED_SIG_LEN)
#define NN_RDV_REPLY_MIN (NN_ED_PUB_LEN + NN_RDV_HELLO_MIN)
#define NN_RDV_REPLY_MAX (NN_ED_PUB_LEN + NN_RDV_HELLO_MAX)

typedef struct nn_rdv_hello {
	uint8_t x_pub[NN_X_PUB_LEN];
	size_t naddrs;
	nn_addr addrs[NN_RDV_MAX_ADDRS];
	uint8_t nonce[NN_RDV_NONCE_LEN];
	uint8_t sig[NN_ED_SIG_LEN];
} nn_rdv_hello;

typedef struct nn_rdv_reply {
	uint8_t ed_pub[NN_ED_PUB_LEN];
	uint8_t x_pub[NN_X_PUB_LEN];
	size_t naddrs;
	nn_addr addrs[NN_RDV_MAX_ADDRS];
	uint8_t nonce[NN_RDV_NONCE_LEN];
	uint8_t sig[NN_ED_SIG_LEN];
} nn_rdv_reply;

/* ---- Hello ---- */

/* Fill h with self's x_pub, the addresses (naddrs <= 16, else NN_ELIMIT) and the nonce (fresh
 * random bytes from the caller's source), and sign it for `target`. */
int nn_rdv_hello_make(nn_rdv_hello *h, const nn_identity *self, const nn_id *target,
		      const nn_addr *addrs, size_t naddrs, const uint8_t nonce[NN_RDV_NONCE_LEN]);
/* Encode h into buf; returns the length, or NN_ENOSPC, NN_ELIMIT (naddrs > 16), NN_EINVAL (an
 * address whose lengths are out of range). NN_RDV_HELLO_MAX bytes always suffice. */
int nn_rdv_hello_encode(const nn_rdv_hello *h, uint8_t *buf, size_t cap);
/* Decode a Hello payload that must fill [buf, buf+len) exactly. Errors: NN_ETRUNC, NN_ETRAILING,
 * NN_ENONMINIMAL, NN_EOVERFLOW, NN_ELIMIT (more than 16 addresses), NN_ETOOBIG, NN_ECORRUPT,
 * NN_EADDR (an address outside the grammar). */
int nn_rdv_hello_decode(nn_rdv_hello *h, const uint8_t *buf, size_t len);
/* Verify h's signature by env_ed_pub (the routed envelope's originator key) for `target` (the
 * envelope's target, i.e. the receiving node). 0 or NN_EBADSIG (also for a Hello signed for
 * another target), NN_EINVAL. */
int nn_rdv_hello_verify(const nn_rdv_hello *h, const nn_id *target,
			const uint8_t env_ed_pub[NN_ED_PUB_LEN]);

/* ---- Reply ---- */

/* Fill r with self's ed_pub and x_pub, the addresses and the Hello's nonce, and sign it. */
int nn_rdv_reply_make(nn_rdv_reply *r, const nn_identity *self, const nn_addr *addrs,
		      size_t naddrs, const uint8_t nonce[NN_RDV_NONCE_LEN]);
/* As the Hello codec; NN_RDV_REPLY_MAX bytes always suffice. */
int nn_rdv_reply_encode(const nn_rdv_reply *r, uint8_t *buf, size_t cap);
int nn_rdv_reply_decode(nn_rdv_reply *r, const uint8_t *buf, size_t len);
/* Verify a Reply against the pending Hello it answers: the NodeID the Hello was sent to and the
 * Hello's nonce. Checked in this order (protocol): NN_EWRONGTARGET if BLAKE2b(r->ed_pub) !=
 * target, NN_ENONCE if the nonce differs, NN_EBADSIG if the signature fails. 0: r's keys and
 * addresses are the target's own. */
int nn_rdv_reply_verify(const nn_rdv_reply *r, const nn_id *target,
			const uint8_t hello_nonce[NN_RDV_NONCE_LEN]);

#endif
