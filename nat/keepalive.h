/* keepalive.h — how long our NAT keeps an idle UDP mapping, learned from evidence; the interval
 * of keepalives on NAT-crossing edges follows it. Pure: no I/O, no clock (`now` comes in).
 *
 * Evidence (verifiable by us alone, no peer is trusted with a number):
 * - survival: a frame arrived on an edge whose remote address is public after a silence of S
 *   (S = time since the later of our last send and our last receive on that edge). Packets
 *   only cross a NAT into a live mapping, so the mapping outlived S. Every frame is evidence;
 *   a probe makes sure some arrives after a chosen silence.
 * - failure: a probe of silence G (we ask a peer for an echo after G and send nothing on that
 *   edge meanwhile) whose echo arrived only after we had sent again: the mapping died before G
 *   and our resend re-opened it. An echo that never comes is no evidence (reference peers
 *   ignore the probe frame).
 * The interval starts at a safe default (NN_NAT_KA_DEFAULT, under the common 30 s UDP timeout),
 * rises to 0.9 of the longest survived silence and never exceeds 0.8 of the shortest failed
 * probe, within [NN_NAT_KA_FLOOR, NN_NAT_KA_MAX]. Probes step up ×1.5 from what survived, then
 * bisect between survived and failed until the two are close, and re-check every
 * NN_NAT_KA_RECHECK. Evidence that contradicts the other bound (the NAT changed, or a peer lied
 * with a late echo) clears it: a liar can only make us ping more often, never less than what
 * survived for us.
 * Tiers: everything here is local policy; the probe frames' bytes are in kaframe.h.
 */
#ifndef NN_NAT_KEEPALIVE_H
#define NN_NAT_KEEPALIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "kad/nn_time.h"

#define NN_NAT_KA_DEFAULT (25 * NN_SEC) /* before any evidence */
#define NN_NAT_KA_FLOOR (5 * NN_SEC)
#define NN_NAT_KA_MAX (60 * NN_SEC)     /* as long as public edges wait: no point in more */
#define NN_NAT_KA_MAX_GAP (67 * NN_SEC) /* longest probed silence (0.9 of it is the max) */
#define NN_NAT_KA_RECHECK (30 * 60 * NN_SEC)
#define NN_NAT_KA_RETRY (60 * NN_SEC)   /* after a probe that taught nothing */

typedef enum nn_nat_ka_outcome {
	NN_NAT_KA_SURVIVED = 0, /* the echo arrived into our silence */
	NN_NAT_KA_FAILED = 1,   /* the echo arrived only after we sent again */
	NN_NAT_KA_NONE = 2,     /* no echo, or we had to send for other reasons: no evidence */
} nn_nat_ka_outcome;

typedef struct nn_nat_ka {
	nn_time survived;   /* longest silence the mapping outlived (0 = none seen) */
	nn_time failed;     /* shortest probed silence it did not (0 = none) */
	nn_time probing;    /* silence of the probe in flight (0 = none) */
	nn_time next_probe; /* earliest start of the next probe */
	uint32_t probes_survived, probes_failed, probes_none;
} nn_nat_ka;

void nn_nat_ka_init(nn_nat_ka *k, nn_time now);

/* Something arrived after `silence` on an edge that crosses our NAT. Returns true when it
 * raised what we know survived. */
bool nn_nat_ka_survived(nn_nat_ka *k, nn_time silence);

/* The keepalive interval for edges that cross our NAT. */
nn_time nn_nat_ka_interval(const nn_nat_ka *k);

/* The silence to probe now, or 0 (a probe is in flight, it is too early, or nothing is left to
 * learn until the next re-check). A non-zero answer marks the probe as in flight. */
nn_time nn_nat_ka_probe_start(nn_nat_ka *k, nn_time now);

/* The probe in flight ended; `silence` is what the survived echo measured (ignored otherwise). */
void nn_nat_ka_probe_done(nn_nat_ka *k, nn_time now, nn_nat_ka_outcome o, nn_time silence);

#endif
