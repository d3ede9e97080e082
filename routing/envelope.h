/* envelope.h — the routed envelope v1 (payload of frame types Route, Lookup, Neighbors, Hello,
 * Reply, Connect, ConnectAck): strict codec, in-place TTL/avoid patching, signing, freshness.
 *
 * Layout (protocol, MUST):
 *   target(32) | ttl(1, at payload offset 32) | ed_pub(32) | sent(8, int64 ns, BE) |
 *   uvarint navoid (<= 3) | avoid(32 x navoid) | uvarint plen | payload(plen) | sig(64)
 * Signature (protocol): Ed25519 by the originator over the 32-byte unkeyed BLAKE2b-256 of
 *   "nodenet/v1/routing-envelope" | frame type | target | ed_pub | sent(8, BE) | payload.
 * TTL and the avoid set are not signed: they change along the path, and one signature serves
 * every disjoint copy.
 *
 * Verifiable tier: decoding is strict (navoid > 3, non-minimal varints, truncation and trailing
 * bytes are errors); freshness is sent within [now - 30 s, now + 30 s], compared on integers so
 * that extreme int64 values cannot wrap. Local policy: the encoder always reserves room for a
 * full avoid set, so NN_ROUTING_MAX_PAYLOAD does not depend on how many edges exist.
 *
 * Memory: nothing allocates. A decoded envelope copies the fixed fields and holds views
 * (payload, sig) into the caller's buffer, valid as long as it is. Encoding writes a whole
 * frame (header + envelope) into the caller's buffer.
 */
#ifndef NN_ROUTING_ENVELOPE_H
#define NN_ROUTING_ENVELOPE_H

#include "routing/routing.h"

#define NN_ROUTING_SIG_DOMAIN "nodenet/v1/routing-envelope"
#define NN_ROUTING_ENV_TTL_OFFSET 32
#define NN_ROUTING_ENV_FIXED (NN_ID_LEN + 1 + NN_ED_PUB_LEN + 8) /* 73 */
/* Envelope bytes around a payload of up to 65,535 bytes with a full avoid set. */
#define NN_ROUTING_ENV_MAX_OVERHEAD                                                         \
	(NN_ROUTING_ENV_FIXED + 1 + NN_ROUTING_MAX_AVOID * NN_ID_LEN + 3 + NN_ED_SIG_LEN) /* 237 */
/* Largest payload a routed frame may carry, whatever the avoid set: 65,294 bytes. */
#define NN_ROUTING_MAX_PAYLOAD                                                              \
	(NN_WIRE_MAX_FRAME - NN_WIRE_MAX_HEADER - NN_ROUTING_ENV_MAX_OVERHEAD)

typedef struct nn_routing_env {
	nn_id target;
	uint8_t ttl; /* raw, as on the wire; decide clamps it */
	uint8_t ed_pub[NN_ED_PUB_LEN];
	nn_time sent;
	uint8_t navoid;
	nn_id avoid[NN_ROUTING_MAX_AVOID];
	const uint8_t *payload; /* view */
	size_t plen;
	const uint8_t *sig; /* view, NN_ED_SIG_LEN bytes */
} nn_routing_env;

/* Frame types that carry a routed envelope. */
bool nn_routing_is_routed_type(uint8_t type);

/* Decode an envelope (a frame's payload). NN_ETRUNC, NN_ELIMIT (navoid > 3), NN_ENONMINIMAL,
 * NN_EOVERFLOW, NN_ETRAILING. */
int nn_routing_env_decode(const uint8_t *p, size_t len, nn_routing_env *out);
/* Decode a whole frame that must be exactly len bytes and of a routed type (NN_EINVAL
 * otherwise). *type receives the frame type. */
int nn_routing_frame_decode(const uint8_t *frame, size_t len, uint8_t *type, nn_routing_env *out);

/* Envelope length for navoid avoid entries and a plen-byte payload. */
size_t nn_routing_env_len(size_t navoid, size_t plen);
/* Where the payload starts inside a frame built by nn_routing_frame_encode (write the payload
 * there first for zero-copy encoding). NN_ETOOBIG if plen > NN_ROUTING_MAX_PAYLOAD,
 * NN_EINVAL if navoid > 3. */
int nn_routing_frame_payload_offset(size_t navoid, size_t plen);

/* Encode a whole routed frame into buf: header, env's fields, env->navoid avoid entries,
 * payload, signature. env->payload may point exactly at buf + nn_routing_frame_payload_offset
 * (then it is not copied), and env->sig exactly where the signature goes; otherwise neither may
 * overlap buf. Returns the frame length, or
 * NN_EINVAL, NN_ETOOBIG (payload over NN_ROUTING_MAX_PAYLOAD), NN_ENOSPC. */
int nn_routing_frame_encode(uint8_t *buf, size_t cap, uint8_t type, const nn_routing_env *env);

/* Offset of the TTL byte inside a routed frame, or a negative NN_E*. */
int nn_routing_frame_ttl_offset(const uint8_t *frame, size_t len);
/* Patch the TTL byte of a routed frame in place. */
int nn_routing_frame_set_ttl(uint8_t *frame, size_t len, uint8_t ttl);
/* Overwrite the avoid set in place; navoid must equal the encoded count (NN_EINVAL). */
int nn_routing_frame_set_avoid(uint8_t *frame, size_t len, const nn_id *avoid, size_t navoid);

/* The signed digest. */
void nn_routing_env_digest(uint8_t out[32], uint8_t type, const nn_id *target,
			   const uint8_t ed_pub[NN_ED_PUB_LEN], nn_time sent,
			   const uint8_t *payload, size_t plen);
/* Sign with the identity's key (ed_pub is the identity's). */
int nn_routing_env_sign(const nn_identity *id, uint8_t type, const nn_id *target, nn_time sent,
			const uint8_t *payload, size_t plen, uint8_t sig[NN_ED_SIG_LEN]);
/* 0 when env->sig is valid for frame type `type`, NN_EBADSIG otherwise. */
int nn_routing_env_verify(const nn_routing_env *env, uint8_t type);

/* Freshness: sent within [now - 30 s, now + 30 s], overflow-safe for all int64 values. */
bool nn_routing_env_fresh(nn_time sent, nn_time now);
/* The same with an explicit window (>= 0). */
bool nn_routing_time_within(nn_time sent, nn_time now, nn_time window);

#endif
