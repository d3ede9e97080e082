/* hkdf.c — HKDF-SHA256 (RFC 5869) on libsodium's HMAC-SHA256 (libsodium 1.0.18 has no HKDF). */
#include <sodium.h>
#include <string.h>

#include "identity/identity.h"

int nn_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t salt_len,
			   const uint8_t *ikm, size_t ikm_len)
{
	static const uint8_t zero[32];
	crypto_auth_hmacsha256_state st;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	if (!salt || !salt_len) {
		salt = zero;
		salt_len = sizeof zero;
	}
	crypto_auth_hmacsha256_init(&st, salt, salt_len);
	crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, prk);
	sodium_memzero(&st, sizeof st);
	return 0;
}

int nn_hkdf_sha256_expand(uint8_t *okm, size_t okm_len, const uint8_t prk[32],
			  const uint8_t *info, size_t info_len)
{
	uint8_t t[32];
	size_t tlen = 0, done = 0;
	crypto_auth_hmacsha256_state st;
	if (okm_len > 255 * 32)
		return NN_EINVAL;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	for (uint8_t ctr = 1; done < okm_len; ctr++) {
		crypto_auth_hmacsha256_init(&st, prk, 32);
		crypto_auth_hmacsha256_update(&st, t, tlen);
		crypto_auth_hmacsha256_update(&st, info, info_len);
		crypto_auth_hmacsha256_update(&st, &ctr, 1);
		crypto_auth_hmacsha256_final(&st, t);
		tlen = 32;
		size_t n = okm_len - done < 32 ? okm_len - done : 32;
		memcpy(okm + done, t, n);
		done += n;
	}
	sodium_memzero(&st, sizeof st);
	sodium_memzero(t, sizeof t);
	return 0;
}
