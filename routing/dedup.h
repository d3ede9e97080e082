/* dedup.h — duplicate and replay suppression for routed envelopes, keyed by the signature.
 *
 * One purpose: recognise a routed envelope this node has already handled inside the freshness
 * window. The terminal uses it to hand one Send to the application once, however many
 * disjoint copies arrive (DESIGN.md §5.3); a transit hop uses a second table to forward each
 * envelope once, so a replayed frame dies at the first honest hop that saw the original
 * (DESIGN.md §5.10). Record an envelope only after its signature verified (then the 64
 * signature bytes name one message of one originator: Ed25519 in libsodium rejects
 * non-canonical S, so a forwarder cannot mint a second valid signature for the same message);
 * `seen` looks without recording, so a forged frame can never plant a record that would make
 * the genuine one look like a replay.
 *
 * Shape (local policy): two generations of an open-addressing table of 8-byte fingerprints,
 * keyed BLAKE2b-64 of the signature under a caller-supplied secret key (peers can neither aim
 * collisions nor forge a match without the key; a new envelope matches one of n records by
 * chance with probability n / 2^64, under 2^-39 at the 2^25-record limit, and the cost of that
 * chance is one dropped copy, never a forwarded forgery). The fingerprint's low bits address
 * the slot. Entries land in the current generation; every `period` (= 2 x NN_ROUTING_MAX_AGE
 * by default, so a record outlives any envelope that could still pass the freshness check) the
 * older generation is dropped and the current one becomes the older. Lookups check both. With
 * a growth limit set, a generation that fills before its period makes both generations double
 * (every record is re-inserted, none is forgotten), up to the limit, so a node starts small and
 * settles at the size its traffic needs; at the limit a full generation rotates early. Early
 * rotations are reported (records may then be forgotten before their window ends). A trim
 * (the node's maintenance tick) halves the older generation, down to the starting capacity,
 * while both generations' records fit in a quarter of it, so the table follows a burst back
 * down; the older one becomes the current one at its next rotation at that size.
 *
 * Memory: 8 bytes a slot, two slots a record, per generation. Allocated by init, by the check
 * that finds the current generation full while the table may grow (at most log2(limit /
 * capacity) times between trims), and by a trim; a check in steady state allocates nothing.
 * Input never pushes it past the limit. Not thread-safe.
 */
#ifndef NN_ROUTING_DEDUP_H
#define NN_ROUTING_DEDUP_H

#include <stdint.h>

#include "routing/routing.h"

#define NN_ROUTING_DEDUP_FP 8

typedef struct nn_routing_dedup_slot {
	uint8_t fp[NN_ROUTING_DEDUP_FP]; /* all zero = empty */
} nn_routing_dedup_slot;

typedef struct nn_routing_dedup {
	nn_routing_dedup_slot *slots[2];
	size_t mask[2];   /* slots per generation - 1 */
	size_t cap[2];    /* records per generation (half the slots) */
	size_t n[2];
	size_t max_cap;   /* growth limit (records per generation) */
	size_t min_cap;   /* the starting capacity: a trim goes no lower */
	int cur;
	nn_time start;    /* start of the current generation */
	bool started;
	nn_time period;
	uint8_t key[16];
	uint64_t early_rotations;
} nn_routing_dedup;

/* Room for `capacity` records per generation (0 = 4096), not growing. period 0 =
 * 2 x NN_ROUTING_MAX_AGE. key: 16 secret random bytes. NN_EINVAL, NN_ENOMEM. */
int nn_routing_dedup_init(nn_routing_dedup *d, size_t capacity, nn_time period,
			  const uint8_t key[16]);
/* Let a full generation double both generations' room (keeping their records) instead of
 * rotating early, up to max_capacity records per generation (<= 2^24). NN_EINVAL. */
int nn_routing_dedup_set_growth(nn_routing_dedup *d, size_t max_capacity);
void nn_routing_dedup_free(nn_routing_dedup *d);
/* 0: first sighting, now recorded; NN_EREPLAY: seen within the window. */
int nn_routing_dedup_check(nn_routing_dedup *d, const uint8_t sig[NN_ED_SIG_LEN], nn_time now);
/* Seen within the window? Records nothing. */
bool nn_routing_dedup_seen(nn_routing_dedup *d, const uint8_t sig[NN_ED_SIG_LEN], nn_time now);
uint64_t nn_routing_dedup_early_rotations(const nn_routing_dedup *d);
/* Halve the older generation (re-inserting its records) while it is above the starting
 * capacity and both generations' records fit in a quarter of it. Not for the hot path: it
 * allocates when it shrinks. Its new capacity in records, or 0 when nothing changed (also
 * when the allocation failed: the old size is kept). */
size_t nn_routing_dedup_trim(nn_routing_dedup *d);
/* Bytes the two generations hold now. */
size_t nn_routing_dedup_bytes(const nn_routing_dedup *d);

#endif
