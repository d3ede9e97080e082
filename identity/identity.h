/* identity.h — a node's keys: seed → HKDF-SHA256 → Ed25519 + X25519; NodeID = BLAKE2b-256(ed_pub).
 *
 * Derivation (protocol, MUST, or NodeIDs differ): PRK = HKDF-Extract(SHA-256, salt = empty,
 * IKM = seed); Ed25519 seed = HKDF-Expand(PRK, "nodenet/v1/identity-ed25519", 32); X25519
 * scalar = HKDF-Expand(PRK, "nodenet/v1/kex-x25519", 32); NodeID = unkeyed BLAKE2b-256 of the
 * 32-byte Ed25519 public key, nothing else. Signatures are pure Ed25519.
 *
 * Ownership: an nn_identity is a plain struct the caller owns; it holds secrets, so callers wipe
 * it with nn_identity_wipe() when done (every function here wipes its own temporaries). The seed
 * file is the only persistent secret: 32 raw bytes, mode 0600, written atomically and never
 * overwritten (local policy).
 */
#ifndef NN_IDENTITY_H
#define NN_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "kad/kad.h"

#define NN_SEED_LEN 32
#define NN_ED_PUB_LEN 32
#define NN_ED_SIG_LEN 64
#define NN_X_PUB_LEN 32

#define NN_INFO_ED25519 "nodenet/v1/identity-ed25519"
#define NN_INFO_X25519 "nodenet/v1/kex-x25519"

typedef struct nn_identity {
	uint8_t seed[NN_SEED_LEN];  /* the master secret */
	uint8_t ed_sk[64];          /* libsodium form: Ed25519 seed | ed_pub */
	uint8_t ed_pub[NN_ED_PUB_LEN];
	uint8_t x_sk[32];           /* X25519 scalar */
	uint8_t x_pub[NN_X_PUB_LEN];
	nn_id id;
} nn_identity;

/* Initialise libsodium (idempotent, thread-safe). Returns 0 or NN_ECRYPTO. Every function
 * below calls it, so applications need not. */
int nn_crypto_init(void);

/* Derive a whole identity from a 32-byte seed. */
int nn_identity_from_seed(nn_identity *out, const uint8_t seed[NN_SEED_LEN]);
/* Only the Ed25519 branch and the NodeID (what PoW minting needs); ed_pub may be NULL. */
int nn_identity_id_from_seed(nn_id *id, uint8_t ed_pub[NN_ED_PUB_LEN],
			     const uint8_t seed[NN_SEED_LEN]);
/* NodeID = BLAKE2b-256(ed_pub). */
void nn_identity_node_id(nn_id *out, const uint8_t ed_pub[NN_ED_PUB_LEN]);
/* Zero every secret in id. */
void nn_identity_wipe(nn_identity *id);

/* Pure Ed25519 signature by the identity key over msg. */
int nn_identity_sign(const nn_identity *id, uint8_t sig[NN_ED_SIG_LEN], const uint8_t *msg,
		     size_t len);
/* 0 if sig is a valid signature by ed_pub over msg, NN_EBADSIG otherwise. */
int nn_identity_verify(const uint8_t ed_pub[NN_ED_PUB_LEN], const uint8_t sig[NN_ED_SIG_LEN],
		       const uint8_t *msg, size_t len);

/* Unkeyed BLAKE2b with a 32-byte output (libb2). */
void nn_blake2b256(uint8_t out[32], const uint8_t *in, size_t len);

/* HKDF-SHA256 (RFC 5869). salt may be NULL/0 (then 32 zero bytes). okm_len <= 255*32. */
int nn_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t salt_len,
			   const uint8_t *ikm, size_t ikm_len);
int nn_hkdf_sha256_expand(uint8_t *okm, size_t okm_len, const uint8_t prk[32],
			  const uint8_t *info, size_t info_len);

/* Seed file. load: NN_ENOENT if missing, NN_ECORRUPT if not exactly 32 bytes or not a regular
 * file (a symlink is not followed), NN_EINSECURE if its mode gives group or others any access
 * (mode & 077: like ssh with a private key, the secret is not used; chmod 600 fixes it),
 * NN_EIO otherwise. save: writes a temporary file (0600) beside path, fsyncs it and renames it
 * into place without replacing anything: NN_EEXIST if path exists. */
int nn_identity_seed_load(const char *path, uint8_t seed[NN_SEED_LEN]);
int nn_identity_seed_save(const char *path, const uint8_t seed[NN_SEED_LEN]);

#endif
