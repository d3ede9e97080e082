/* sbox_prim.c — the sealed box's building blocks: X25519 with the all-zero check, the HKDF key
 * schedule, ChaCha20-Poly1305 IETF. Known-answer tests call these very functions. */
#include <sodium.h>
#include <string.h>

#include "rendezvous/sbox.h"

int nn_sbox_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t pub[32])
{
	if (!out || !sk || !pub)
		return NN_EINVAL;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	/* libsodium refuses an all-zero result itself (-1); check again so the guarantee does not
	 * depend on the library version. */
	if (crypto_scalarmult_curve25519(out, sk, pub) != 0 || sodium_is_zero(out, 32)) {
		sodium_memzero(out, 32);
		return NN_ECRYPTO;
	}
	return 0;
}

int nn_sbox_x25519_base(uint8_t pub[32], const uint8_t sk[32])
{
	if (!pub || !sk)
		return NN_EINVAL;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	return crypto_scalarmult_curve25519_base(pub, sk) == 0 ? 0 : NN_ECRYPTO;
}

int nn_sbox_kdf(uint8_t key[NN_SBOX_KEY_LEN], uint8_t nonce[NN_SBOX_NONCE_LEN],
		const uint8_t shared[32])
{
	uint8_t prk[32], okm[NN_SBOX_KEY_LEN + NN_SBOX_NONCE_LEN];
	int rc = nn_hkdf_sha256_extract(prk, NULL, 0, shared, 32);
	if (rc == 0)
		rc = nn_hkdf_sha256_expand(okm, sizeof okm, prk, (const uint8_t *)NN_SBOX_KDF_LABEL,
					   sizeof NN_SBOX_KDF_LABEL - 1);
	if (rc == 0) {
		memcpy(key, okm, NN_SBOX_KEY_LEN);
		memcpy(nonce, okm + NN_SBOX_KEY_LEN, NN_SBOX_NONCE_LEN);
	}
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(okm, sizeof okm);
	return rc;
}

int nn_sbox_aead_encrypt(uint8_t *ct, const uint8_t *pt, size_t pt_len, const uint8_t *aad,
			 size_t aad_len, const uint8_t nonce[NN_SBOX_NONCE_LEN],
			 const uint8_t key[NN_SBOX_KEY_LEN])
{
	unsigned long long clen;
	if (!ct || (!pt && pt_len) || (!aad && aad_len))
		return NN_EINVAL;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	if (crypto_aead_chacha20poly1305_ietf_encrypt(ct, &clen, pt, pt_len, aad, aad_len, NULL,
						      nonce, key) != 0)
		return NN_ECRYPTO;
	return 0;
}

int nn_sbox_aead_decrypt(uint8_t *pt, const uint8_t *ct, size_t ct_len, const uint8_t *aad,
			 size_t aad_len, const uint8_t nonce[NN_SBOX_NONCE_LEN],
			 const uint8_t key[NN_SBOX_KEY_LEN])
{
	unsigned long long plen;
	if (!pt || !ct || ct_len < NN_SBOX_TAG_LEN || (!aad && aad_len))
		return NN_EINVAL;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, &plen, NULL, ct, ct_len, aad, aad_len,
						      nonce, key) != 0) {
		sodium_memzero(pt, ct_len - NN_SBOX_TAG_LEN);
		return NN_ECRYPTO;
	}
	return 0;
}
