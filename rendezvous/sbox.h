/* sbox.h — the v1 sealed box: small end-to-end encrypted, sender-signed content to an x_pub.
 *
 * Purpose: seal bytes to a recipient's static X25519 key (x_pub, learned verified through a
 * rendezvous Reply) so that only the recipient can open them, signed by the sender's identity
 * key. Pure: no I/O, no clock (`now` and the box's timestamp are parameters), no allocation, no
 * global state; the ephemeral secret is an input (pass NULL to draw it from libsodium's CSPRNG).
 *
 * Wire (protocol, MUST for applications that exchange boxes):
 *   box = eph_pub(32) | sender_ed_pub(32) | ts(8, int64 ns, big-endian) | uvarint(ct_len) | ct |
 *         sig(64), nothing after it
 *   shared = X25519(eph_sk, recipient x_pub) = X25519(recipient x_sk, eph_pub)
 *   PRK = HKDF-Extract(SHA-256, salt = empty, shared); OKM = HKDF-Expand(PRK,
 *         "nodenet/v1/sealed-box", 44); key = OKM[0..31], nonce = OKM[32..43]
 *   ct = ChaCha20-Poly1305 IETF(key, nonce, aad = the caller's, plaintext), tag included
 *   sig = Ed25519 by sender_ed_pub over "nodenet/v1/sealed-box-sig" | eph_pub | recipient x_pub |
 *         ts(8) | ct — the AAD, sender_ed_pub and the ct_len prefix are not signed
 * Open (protocol order): parse strictly → verify the signature against the opener's own x_pub
 * (a box sealed to someone else fails here: NN_EBADSIG) → freshness |now - ts| <= max_age
 * (NN_ESTALE; compared without overflow) → ECDH, an all-zero shared secret refused
 * (NN_ECRYPTO) → decrypt (NN_ECRYPTO) → sender NodeID = BLAKE2b(sender_ed_pub).
 *
 * Tiers. Protocol: all of the above. Verifiable (stricter than the reference): minimal uvarint,
 * ct_len >= 16 (a tag) and <= NN_SBOX_MAX_CT (one 64 KiB packet), trailing bytes refused, and
 * the sealer refuses a low-order recipient key. Local policy: max_age, and replay suppression
 * (nn_sbox_open_once: a box opens once per window, keyed by eph_pub, rendezvous/replay.h).
 * Caveat (protocol): the signature does not cover sender_ed_pub's binding to the ciphertext, so
 * whoever sees a box can re-sign it as its own sender; applications that care put the sender's
 * NodeID in the AAD (authenticated by the AEAD).
 *
 * Ownership: all buffers are the caller's; nothing is retained. Output buffers must not overlap
 * inputs (NN_EINVAL). Secrets on the stack are wiped before returning.
 */
#ifndef NN_RENDEZVOUS_SBOX_H
#define NN_RENDEZVOUS_SBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/identity.h"
#include "kad/kad.h"
#include "kad/nn_time.h"
#include "rendezvous/replay.h"

#define NN_SBOX_KDF_LABEL "nodenet/v1/sealed-box"
#define NN_SBOX_SIG_LABEL "nodenet/v1/sealed-box-sig"
#define NN_SBOX_KEY_LEN 32
#define NN_SBOX_NONCE_LEN 12
#define NN_SBOX_TAG_LEN 16
#define NN_SBOX_HEAD_LEN (32 + NN_ED_PUB_LEN + 8) /* eph_pub | sender_ed_pub | ts */
#define NN_SBOX_MAX_CT 65536u                      /* local bound: one packet */
#define NN_SBOX_MAX_PLAINTEXT (NN_SBOX_MAX_CT - NN_SBOX_TAG_LEN)
/* Signed message: label | eph_pub | recipient x_pub | ts | ct. */
#define NN_SBOX_SIGMSG_FIXED (sizeof NN_SBOX_SIG_LABEL - 1 + 32 + NN_X_PUB_LEN + 8)
#define NN_SBOX_MIN_LEN (NN_SBOX_HEAD_LEN + 1 + NN_SBOX_TAG_LEN + NN_ED_SIG_LEN)

/* A parsed box: views into the caller's bytes. */
typedef struct nn_sbox_view {
	const uint8_t *eph_pub;
	const uint8_t *sender_ed_pub;
	nn_time ts;
	const uint8_t *ct;
	size_t ct_len; /* tag included */
	const uint8_t *sig;
} nn_sbox_view;

/* What an opened box tells about its origin. */
typedef struct nn_sbox_meta {
	uint8_t sender_ed_pub[NN_ED_PUB_LEN];
	nn_id sender; /* BLAKE2b-256(sender_ed_pub) */
	nn_time ts;
	uint8_t eph_pub[32]; /* the replay key */
} nn_sbox_meta;

/* Size of the box for a plaintext of pt_len bytes (0 if pt_len > NN_SBOX_MAX_PLAINTEXT). */
size_t nn_sbox_sealed_len(size_t pt_len);
/* Smallest `cap` nn_sbox_open accepts for a box with ct_len bytes of ciphertext:
 * NN_SBOX_SIGMSG_FIXED + ct_len (always less than the box's own length, so a buffer as large
 * as the box is always enough). */
size_t nn_sbox_open_cap(size_t ct_len);

/* Seal pt to recipient_x_pub, signed by sender, stamped ts (the sender's wall-clock now). out
 * needs nn_sbox_sealed_len(pt_len) bytes (NN_ENOSPC); returns the box length. eph_sk: 32 bytes
 * used as the ephemeral X25519 secret (tests pass fixed bytes; NULL draws them from
 * randombytes_buf) — never reuse one. Errors: NN_ETOOBIG, NN_ENOSPC, NN_EINVAL, NN_ECRYPTO (a
 * low-order recipient key: all-zero shared secret). */
int nn_sbox_seal(uint8_t *out, size_t cap, const nn_identity *sender,
		 const uint8_t recipient_x_pub[NN_X_PUB_LEN], nn_time ts, const uint8_t *pt,
		 size_t pt_len, const uint8_t *aad, size_t aad_len, const uint8_t eph_sk[32]);

/* Parse strictly: NN_ETRUNC, NN_ENONMINIMAL, NN_EOVERFLOW, NN_ECORRUPT (ct shorter than a tag),
 * NN_ETOOBIG (ct_len > NN_SBOX_MAX_CT), NN_ETRAILING. */
int nn_sbox_parse(nn_sbox_view *v, const uint8_t *box, size_t len);

/* Open a box sealed to self. out: at least nn_sbox_open_cap(ct_len) bytes (NN_ENOSPC) — the
 * plaintext (ct_len - 16 bytes, *pt_len) is written at its start, the rest is scratch. meta may
 * be NULL. max_age >= 0. Errors as the parse, then NN_EBADSIG, NN_ESTALE, NN_ECRYPTO; on any
 * error *pt_len is 0 and out holds no plaintext. */
int nn_sbox_open(uint8_t *out, size_t cap, size_t *pt_len, nn_sbox_meta *meta,
		 const nn_identity *self, const uint8_t *box, size_t len, const uint8_t *aad,
		 size_t aad_len, nn_time now, nn_time max_age);
/* nn_sbox_open, then remember eph_pub in cache until ts + max_age: a second open of the same
 * box inside its window fails with NN_EREPLAY, and NN_ELIMIT when the cache refuses (see
 * replay.h); in both cases the plaintext is wiped. */
int nn_sbox_open_once(nn_replay *cache, uint8_t *out, size_t cap, size_t *pt_len,
		      nn_sbox_meta *meta, const nn_identity *self, const uint8_t *box, size_t len,
		      const uint8_t *aad, size_t aad_len, nn_time now, nn_time max_age);

/* |now - ts| <= max_age without overflow (max_age < 0: never fresh). */
bool nn_sbox_fresh(nn_time ts, nn_time now, nn_time max_age);

/* ---- Building blocks, exposed so known-answer tests (RFC 7748, RFC 8439) run through the
 * very functions the box uses. ---- */
/* out = X25519(sk, pub); NN_ECRYPTO if the result is all zero (a low-order pub). */
int nn_sbox_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t pub[32]);
/* pub = X25519(sk, 9). */
int nn_sbox_x25519_base(uint8_t pub[32], const uint8_t sk[32]);
/* key | nonce = HKDF-SHA256(salt empty, shared, "nodenet/v1/sealed-box", 44). */
int nn_sbox_kdf(uint8_t key[NN_SBOX_KEY_LEN], uint8_t nonce[NN_SBOX_NONCE_LEN],
		const uint8_t shared[32]);
/* ChaCha20-Poly1305 IETF: ct (pt_len + 16 bytes, tag last) and back; NN_ECRYPTO on a bad tag. */
int nn_sbox_aead_encrypt(uint8_t *ct, const uint8_t *pt, size_t pt_len, const uint8_t *aad,
			 size_t aad_len, const uint8_t nonce[NN_SBOX_NONCE_LEN],
			 const uint8_t key[NN_SBOX_KEY_LEN]);
int nn_sbox_aead_decrypt(uint8_t *pt, const uint8_t *ct, size_t ct_len, const uint8_t *aad,
			 size_t aad_len, const uint8_t nonce[NN_SBOX_NONCE_LEN],
			 const uint8_t key[NN_SBOX_KEY_LEN]);

#endif
