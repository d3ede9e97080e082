/* replay.h — a two-generation replay cache: was this key already accepted inside its window?
 *
 * Purpose: remember the key of every message accepted (a sealed box's eph_pub, a Hello's
 * envelope ed_pub | nonce, a Reply's ed_pub | nonce) until its expiry — the instant its
 * freshness window closes, i.e. the message's own timestamp + max_age, not receive time + max_age
 * (as §9.3 of the v1 facts) — and report a second acceptance inside that window as NN_EREPLAY.
 *
 * Structure (as the reference): two generations of at most gen_cap keys each (default 32,768,
 * so 65,536 in total); when the current generation is full the previous one is dropped and the
 * full one becomes previous. Each generation is an open-addressing table at load <= 1/2 over
 * 128-bit SipHash tags keyed with a caller secret (so peers cannot aim collisions at one chain);
 * an expired entry met on a probe chain is reused in place.
 *
 * The bound, exactly (local policy, stricter than the reference, which drops the previous
 * generation even when it still holds live keys, so a flood of 32,768 fresh boxes lets an old
 * one be replayed): a generation is dropped only when every key in it has expired (its largest
 * expiry < now). When the current generation holds gen_cap keys and the previous one still
 * holds a live key, a new key is refused with NN_ELIMIT — fail closed, never forget. So: at
 * most 2 * gen_cap keys are remembered; a live key is never evicted, hence a replay inside its
 * window is always detected; under a flood of more than 2 * gen_cap distinct keys whose windows
 * overlap, further new messages are refused (the caller counts them) until the older generation
 * has wholly expired, which happens at the latest at (largest expiry in it) + 1 ns.
 *
 * Ownership and rules: memory is either the caller's (nn_replay_init over nn_replay_mem_size()
 * bytes) or allocated once by nn_replay_create; nothing allocates afterwards. No clock: `now`
 * and expiries are nn_time in any one consistent time base. Not thread-safe (one owner).
 */
#ifndef NN_RENDEZVOUS_REPLAY_H
#define NN_RENDEZVOUS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/nn_err.h"
#include "kad/nn_time.h"

#define NN_REPLAY_GEN_CAP 32768u
#define NN_REPLAY_GEN_CAP_MAX (1u << 24)
#define NN_REPLAY_SECRET_LEN 16

typedef struct nn_replay_slot {
	uint64_t tag[2]; /* keyed SipHash of the key; {0,0} marks an empty slot */
	nn_time expiry;  /* live while now <= expiry */
} nn_replay_slot;

typedef struct nn_replay_gen {
	nn_replay_slot *slots;
	size_t count;       /* occupied slots (live or expired) */
	nn_time max_expiry; /* largest expiry ever stored in this generation */
} nn_replay_gen;

/* Fields are private; the struct is public only so callers can embed it. */
typedef struct nn_replay {
	nn_replay_gen gen[2];
	unsigned cur; /* index of the current generation */
	size_t gen_cap;
	size_t mask; /* slots per generation - 1 */
	uint8_t secret[NN_REPLAY_SECRET_LEN];
	void *owned; /* memory from nn_replay_create, or NULL */
} nn_replay;

/* Bytes of memory a cache of gen_cap keys per generation needs (0 if gen_cap is 0 or above
 * NN_REPLAY_GEN_CAP_MAX). 2 generations x next_pow2(2 * gen_cap) slots x 24 bytes: 3 MiB for
 * the default. */
size_t nn_replay_mem_size(size_t gen_cap);
/* Set up over caller memory (mem_len >= nn_replay_mem_size(gen_cap), aligned for uint64_t);
 * secret: NN_REPLAY_SECRET_LEN random bytes (from the caller's random source). NN_EINVAL. */
int nn_replay_init(nn_replay *c, void *mem, size_t mem_len, size_t gen_cap,
		   const uint8_t secret[NN_REPLAY_SECRET_LEN]);
/* The same with one allocation (NN_ENOMEM); release with nn_replay_destroy. */
int nn_replay_create(nn_replay *c, size_t gen_cap, const uint8_t secret[NN_REPLAY_SECRET_LEN]);
/* Free what nn_replay_create allocated (nothing for caller memory) and wipe the struct. */
void nn_replay_destroy(nn_replay *c);

/* Check and remember: 0 if key was not live in the cache and is now remembered until expiry;
 * NN_EREPLAY if it is live (seen before and now <= its expiry); NN_ESTALE if expiry < now (the
 * message is outside its window: nothing to remember, the caller should have refused it);
 * NN_ELIMIT if it cannot be remembered without forgetting a live key (see the bound above).
 * key_len may be anything (0 allowed); different kinds of keys belong in different caches. */
int nn_replay_check(nn_replay *c, const void *key, size_t key_len, nn_time expiry, nn_time now);
/* Lookup only: is key live? */
bool nn_replay_seen(const nn_replay *c, const void *key, size_t key_len, nn_time now);
/* Keys currently remembered (live or expired, not yet dropped), for stats. */
size_t nn_replay_count(const nn_replay *c);

/* ts + max_age, saturated at INT64_MAX (and ts when max_age < 0): the expiry of a message
 * stamped ts under a freshness window of +-max_age. */
nn_time nn_replay_expiry(nn_time ts, nn_time max_age);

#endif
