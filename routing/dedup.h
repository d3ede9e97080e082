/* dedup.h — duplicate suppression for routed envelopes, keyed by the originator's signature.
 *
 * One purpose: the terminal hands one Send to the application once, however many disjoint
 * copies arrive, and recognises replays inside the freshness window (DESIGN.md §5.3; the
 * reference has no such cache). Check an envelope only after its signature verified (then the
 * 64 signature bytes name one message of one originator: Ed25519 in libsodium rejects
 * non-canonical S, so a forwarder cannot mint a second valid signature for the same message).
 *
 * Shape (local policy): two generations of a fixed-size open-addressing table. Entries land in
 * the current generation; every `period` (= 2 x NN_ROUTING_MAX_AGE by default, so a record
 * outlives any envelope that could still pass the freshness check: sent + 30 s is at most 60 s
 * after arrival) the older generation is dropped and the current one becomes the older. Lookups
 * check both. Slots are addressed by SipHash-2-4 of the signature under a caller-supplied
 * secret key, so peers cannot aim collisions. A full generation rotates early (reported by
 * nn_routing_dedup_early_rotations: records may then be forgotten before their window ends).
 *
 * Memory: allocated once by init, O(1) per check, no allocation afterwards. Not thread-safe.
 */
#ifndef NN_ROUTING_DEDUP_H
#define NN_ROUTING_DEDUP_H

#include <stdint.h>

#include "routing/routing.h"

typedef struct nn_routing_dedup_slot {
	uint8_t sig[NN_ED_SIG_LEN];
	uint8_t used;
} nn_routing_dedup_slot;

typedef struct nn_routing_dedup {
	nn_routing_dedup_slot *slots[2];
	size_t mask;     /* slots per generation - 1 */
	size_t gen_cap;  /* records per generation (half the slots) */
	size_t n[2];
	int cur;
	nn_time start;   /* start of the current generation */
	bool started;
	nn_time period;
	uint8_t key[16];
	uint64_t early_rotations;
} nn_routing_dedup;

/* Room for `capacity` records per generation (0 = 4096). period 0 = 2 x NN_ROUTING_MAX_AGE.
 * key: 16 secret random bytes. NN_EINVAL, NN_ENOMEM. */
int nn_routing_dedup_init(nn_routing_dedup *d, size_t capacity, nn_time period,
			  const uint8_t key[16]);
void nn_routing_dedup_free(nn_routing_dedup *d);
/* 0: first sighting, now recorded; NN_EREPLAY: seen within the window. */
int nn_routing_dedup_check(nn_routing_dedup *d, const uint8_t sig[NN_ED_SIG_LEN], nn_time now);
uint64_t nn_routing_dedup_early_rotations(const nn_routing_dedup *d);

#endif
