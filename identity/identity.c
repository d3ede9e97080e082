/* identity.c — derivation of the v1 keys and NodeID, signing, verification. */
#include <blake2.h>
#include <sodium.h>
#include <string.h>

#include "identity/identity.h"

int nn_crypto_init(void) { return sodium_init() < 0 ? NN_ECRYPTO : 0; }

void nn_blake2b256(uint8_t out[32], const uint8_t *in, size_t len)
{
	blake2b(out, in, NULL, 32, len, 0);
}

void nn_identity_node_id(nn_id *out, const uint8_t ed_pub[NN_ED_PUB_LEN])
{
	nn_blake2b256(out->b, ed_pub, NN_ED_PUB_LEN);
}

static int expand(uint8_t out[32], const uint8_t prk[32], const char *info)
{
	return nn_hkdf_sha256_expand(out, 32, prk, (const uint8_t *)info, strlen(info));
}

int nn_identity_id_from_seed(nn_id *id, uint8_t ed_pub[NN_ED_PUB_LEN],
			     const uint8_t seed[NN_SEED_LEN])
{
	uint8_t prk[32], edseed[32], sk[64], pk[32];
	int rc = nn_hkdf_sha256_extract(prk, NULL, 0, seed, NN_SEED_LEN);
	if (rc == 0)
		rc = expand(edseed, prk, NN_INFO_ED25519);
	if (rc == 0 && crypto_sign_ed25519_seed_keypair(pk, sk, edseed) != 0)
		rc = NN_ECRYPTO;
	if (rc == 0) {
		nn_identity_node_id(id, pk);
		if (ed_pub)
			memcpy(ed_pub, pk, sizeof pk);
	}
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(edseed, sizeof edseed);
	sodium_memzero(sk, sizeof sk);
	return rc;
}

int nn_identity_from_seed(nn_identity *out, const uint8_t seed[NN_SEED_LEN])
{
	uint8_t prk[32], edseed[32];
	if (!out || !seed)
		return NN_EINVAL;
	nn_identity tmp;
	memcpy(tmp.seed, seed, NN_SEED_LEN);
	int rc = nn_hkdf_sha256_extract(prk, NULL, 0, seed, NN_SEED_LEN);
	if (rc == 0)
		rc = expand(edseed, prk, NN_INFO_ED25519);
	if (rc == 0)
		rc = expand(tmp.x_sk, prk, NN_INFO_X25519);
	if (rc == 0 && crypto_sign_ed25519_seed_keypair(tmp.ed_pub, tmp.ed_sk, edseed) != 0)
		rc = NN_ECRYPTO;
	if (rc == 0 && crypto_scalarmult_curve25519_base(tmp.x_pub, tmp.x_sk) != 0)
		rc = NN_ECRYPTO;
	if (rc == 0) {
		nn_identity_node_id(&tmp.id, tmp.ed_pub);
		*out = tmp;
	}
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(edseed, sizeof edseed);
	sodium_memzero(&tmp, sizeof tmp);
	return rc;
}

void nn_identity_wipe(nn_identity *id)
{
	if (id)
		sodium_memzero(id, sizeof *id);
}

int nn_identity_sign(const nn_identity *id, uint8_t sig[NN_ED_SIG_LEN], const uint8_t *msg,
		     size_t len)
{
	if (!id || !sig || (!msg && len))
		return NN_EINVAL;
	return crypto_sign_ed25519_detached(sig, NULL, msg, len, id->ed_sk) == 0 ? 0 : NN_ECRYPTO;
}

int nn_identity_verify(const uint8_t ed_pub[NN_ED_PUB_LEN], const uint8_t sig[NN_ED_SIG_LEN],
		       const uint8_t *msg, size_t len)
{
	if (!ed_pub || !sig || (!msg && len))
		return NN_EINVAL;
	if (nn_crypto_init() < 0)
		return NN_ECRYPTO;
	return crypto_sign_ed25519_verify_detached(sig, msg, len, ed_pub) == 0 ? 0 : NN_EBADSIG;
}
