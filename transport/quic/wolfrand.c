/* wolfrand.c — wolfSSL's random numbers come from libsodium's CSPRNG.
 *
 * scripts/setup.sh builds wolfSSL with CUSTOM_RAND_GENERATE_BLOCK=nn_quic_wolf_rand: every
 * wc_RNG_GenerateBlock (the ClientHello random, key shares, ECDSA nonces, and ngtcp2's
 * connection IDs and tokens through wolfSSL_RAND_bytes) calls this function, and wc_InitRng
 * does nothing. Without it wolfSSL instantiates a SHA-256 Hash-DRBG, after its health test and
 * a seed read from a freshly opened /dev/urandom, for every RNG object it makes, and it makes
 * one inside every EVP_PKEY: ngtcp2's crypto helper creates one per HKDF call, ~25 per
 * handshake. That was about a quarter of a handshake's CPU (issue 16, bench_quic under perf).
 *
 * Local policy (speed, and one CSPRNG for the whole library, as for every other key and
 * nonce). A wolfSSL built without the define never calls this function; it is then unused. */
#include <sodium.h>

#include "transport/quic/internal.h"

int nn_quic_wolf_rand(unsigned char *out, unsigned int len)
{
	randombytes_buf(out, len);
	return 0;
}
