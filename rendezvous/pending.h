/* pending.h — the Hellos this node has sent and is waiting on, matched against Replies.
 *
 * Purpose: the requester's side of a rendezvous, as §13.1 of the v1 facts does it: a Reply is
 * looked up by its nonce, then verified (rdv.h) against the target of the Hello that nonce
 * belongs to. Pure: a fixed array the caller provides, linear scans, no allocation, no clock.
 *
 * Rules (local policy; the verification order inside is protocol):
 * - A Reply whose nonce matches no live pending Hello is NN_ENONCE (a Reply for a Hello never
 *   sent, or after its deadline).
 * - A Reply that fails verification (NN_EWRONGTARGET from a forwarder answering with its own
 *   keys, NN_EBADSIG) does NOT consume the pending Hello: a forwarder on one path cannot cancel
 *   a rendezvous whose genuine Reply is still coming over another.
 * - The first verified Reply answers the Hello; the entry is kept until its deadline so every
 *   later copy (the responder sends over 3 disjoint paths, or a forwarder replays it) is
 *   NN_EREPLAY, not a second answer. The caller releases answered entries early with
 *   nn_rdv_pending_remove if it wants the slot back sooner (duplicates then read NN_ENONCE).
 * - Nonces are the caller's fresh random bytes; adding a nonce already pending is NN_EEXIST.
 * Ownership: entries[] belongs to the caller and outlives the table. One owner, no locking.
 */
#ifndef NN_RENDEZVOUS_PENDING_H
#define NN_RENDEZVOUS_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/kad.h"
#include "kad/nn_time.h"
#include "rendezvous/rdv.h"

enum nn_rdv_pending_state { NN_RDV_FREE = 0, NN_RDV_WAITING = 1, NN_RDV_ANSWERED = 2 };

typedef struct nn_rdv_pending_entry {
	nn_id target;
	uint8_t nonce[NN_RDV_NONCE_LEN];
	nn_time deadline; /* live while now <= deadline */
	uint8_t state;    /* enum nn_rdv_pending_state */
} nn_rdv_pending_entry;

typedef struct nn_rdv_pending {
	nn_rdv_pending_entry *e;
	size_t cap;
} nn_rdv_pending;

/* Use entries[0..cap) (zeroed here). */
void nn_rdv_pending_init(nn_rdv_pending *p, nn_rdv_pending_entry *entries, size_t cap);
/* Record a Hello sent to target with nonce, answerable until deadline. Entries past their
 * deadline are reclaimed first. NN_EEXIST (nonce live already), NN_ELIMIT (full),
 * NN_EINVAL (deadline < now). */
int nn_rdv_pending_add(nn_rdv_pending *p, const nn_id *target,
		       const uint8_t nonce[NN_RDV_NONCE_LEN], nn_time deadline, nn_time now);
/* Match and verify a decoded Reply: 0 (the first verified answer; *target receives the NodeID
 * it answers, may be NULL), NN_ENONCE, NN_EREPLAY, or nn_rdv_reply_verify's NN_EWRONGTARGET /
 * NN_EBADSIG (the entry stays waiting). */
int nn_rdv_pending_match(nn_rdv_pending *p, const nn_rdv_reply *r, nn_time now, nn_id *target);
/* Forget a nonce (cancelled or timed-out rendezvous); NN_ENOENT if absent. */
int nn_rdv_pending_remove(nn_rdv_pending *p, const uint8_t nonce[NN_RDV_NONCE_LEN]);
/* Entries waiting for their first Reply at now. */
size_t nn_rdv_pending_waiting(const nn_rdv_pending *p, nn_time now);

#endif
