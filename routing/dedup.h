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
 * Shape (local policy): two generations of an open-addressing table of 16-byte fingerprints,
 * keyed BLAKE2b-128 of the signature under a caller-supplied secret key (peers can neither aim
 * collisions nor forge a match; the first 8 bytes address the slot). Entries land in the
 * current generation; every `period` (= 2 x NN_ROUTING_MAX_AGE by default, so a record outlives
 * any envelope that could still pass the freshness check) the older generation is emptied and
 * becomes the current one, at the size the ending one reached, which becomes the older. Lookups
 * check both. A generation starts with room for 64 records and doubles in place whenever it
 * fills, up to its capacity (or the growth limit, when set); a full generation at that limit
 * rotates early. Early rotations are reported (records may then be forgotten before their
 * window ends).
 *
 * Memory: 16 bytes a slot, two slots a record, per generation. init (and set_growth) reserve
 * the slots of the largest size as zero pages, which become resident only as the table fills
 * (issue 16: a hash table touches one page per record while it is sparse, so a node with a few
 * edges paid for whole tables); growth rehashes in place — no allocation after init and
 * set_growth. Not thread-safe.
 */
#ifndef NN_ROUTING_DEDUP_H
#define NN_ROUTING_DEDUP_H

#include <stdint.h>

#include "routing/routing.h"

#define NN_ROUTING_DEDUP_FP 16

typedef struct nn_routing_dedup_slot {
	uint8_t fp[NN_ROUTING_DEDUP_FP]; /* all zero = empty */
} nn_routing_dedup_slot;

typedef struct nn_routing_dedup {
	nn_routing_dedup_slot *slots[2];
	size_t mask[2];   /* slots per generation - 1 */
	size_t cap[2];    /* records per generation (half the slots) */
	size_t n[2];
	size_t max_cap;   /* growth limit (records per generation) */
	int cur;
	nn_time start;    /* start of the current generation */
	bool started;
	nn_time period;
	uint8_t key[16];
	uint64_t early_rotations;
} nn_routing_dedup;

/* Room for up to `capacity` records per generation (0 = 4096; the slots in use start at 64
 * records' and double as they fill). period 0 = 2 x NN_ROUTING_MAX_AGE. key: 16 secret random
 * bytes. NN_EINVAL, NN_ENOMEM. */
int nn_routing_dedup_init(nn_routing_dedup *d, size_t capacity, nn_time period,
			  const uint8_t key[16]);
/* Let a generation grow past `capacity`, up to max_capacity records (<= 2^24): the reservation
 * is made here (the one allocation), growth stays in place. NN_EINVAL, NN_ENOMEM. */
int nn_routing_dedup_set_growth(nn_routing_dedup *d, size_t max_capacity);
void nn_routing_dedup_free(nn_routing_dedup *d);
/* 0: first sighting, now recorded; NN_EREPLAY: seen within the window. */
int nn_routing_dedup_check(nn_routing_dedup *d, const uint8_t sig[NN_ED_SIG_LEN], nn_time now);
/* Seen within the window? Records nothing. */
bool nn_routing_dedup_seen(nn_routing_dedup *d, const uint8_t sig[NN_ED_SIG_LEN], nn_time now);
uint64_t nn_routing_dedup_early_rotations(const nn_routing_dedup *d);
/* Bytes of the slots the two generations use now (the reservation behind them is larger). */
size_t nn_routing_dedup_bytes(const nn_routing_dedup *d);

#endif
