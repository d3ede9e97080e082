/* pow.h — proof-of-work on NodeIDs: a leading-zero-bits gate and a multi-threaded minter.
 *
 * A NodeID passes difficulty d when it has at least d leading zero bits (counted from the most
 * significant bit of byte 0); d <= 0 disables the gate (protocol: the check is verifiable by
 * anyone; d itself is a network-wide constant the deployer picks).
 *
 * Minting grinds random seeds, deriving only the Ed25519 branch, until one passes. It runs on
 * `threads` worker threads that the call starts and always joins before it returns (no thread
 * outlives the call); the calling thread waits, reports progress through the callback, and
 * handles cancellation. Expected work is 2^d derivations.
 */
#ifndef NN_POW_H
#define NN_POW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "identity/identity.h"

#define NN_POW_MAX_DIFFICULTY 256

static inline bool nn_pow_ok(const nn_id *id, int d)
{
	if (d <= 0)
		return true;
	if (d > NN_POW_MAX_DIFFICULTY)
		return false;
	return nn_kad_leading_zeros(id) >= (unsigned)d;
}

/* 0 when id meets d, NN_EPOW otherwise. */
static inline int nn_pow_check(const nn_id *id, int d) { return nn_pow_ok(id, d) ? 0 : NN_EPOW; }

typedef struct nn_pow_opts {
	int difficulty;   /* 0..256 */
	unsigned threads; /* 0 = one per online CPU */
	/* Called on the calling thread about every progress_ms with the number of seeds tried
	 * so far and the expected total (2^d). Return non-zero to cancel. May be NULL. */
	int (*progress)(void *user, uint64_t tries, double expected);
	void *user;
	unsigned progress_ms; /* 0 = 100 ms */
	/* Optional cancel flag, set to non-zero from any thread. */
	const atomic_int *cancel;
	/* Optional randomness source (called under a lock); default libsodium's randombytes. */
	void (*rng)(void *rng_user, uint8_t *buf, size_t len);
	void *rng_user;
} nn_pow_opts;

/* Mint a seed whose NodeID meets o->difficulty. Returns 0 and fills seed (and *tries when not
 * NULL), NN_EINVAL for d outside 0..256, NN_ECANCELED when cancelled, NN_ENOMEM/NN_EINTERNAL
 * if threads cannot start. */
int nn_pow_mint(const nn_pow_opts *o, uint8_t seed[NN_SEED_LEN], uint64_t *tries);

#endif
