/* portmap.h — port-mapping policy (UPnP-IGD / NAT-PMP), pure: when to ask the gateway for a
 * mapping of our UDP port, when to renew it, how long to back off after a failure, and whether
 * the mapping we hold may still be advertised. No I/O, no clock: time comes in as `now`.
 *
 * The protocol calls live in node/portmap.c; it asks nn_nat_portmap_due() what to do, does it,
 * and reports the outcome with nn_nat_portmap_ok() / nn_nat_portmap_fail(). States:
 *   IDLE     no mapping; next = when to try (discover a gateway and map);
 *   MAPPED   a mapping valid until `expires`; next = when to renew (half its lifetime, RFC 6886
 *            §3.3; a gateway that grants "permanent" (0) is refreshed every NN_PM_PERMANENT_RENEW);
 *   STOPPED  the node is leaving: nothing is due any more.
 * Failures (local policy): a failed attempt in IDLE retries after a back-off that starts at
 * NN_PM_BACKOFF_BASE and doubles up to NN_PM_BACKOFF_MAX; a failed renewal keeps the mapping
 * (still valid until it expires) and retries after the same back-off, but never later than the
 * expiry; once it expired the state falls back to IDLE (stop advertising). A reset (the local
 * address changed) returns to IDLE with the attempt due now.
 */
#ifndef NN_NAT_PORTMAP_H
#define NN_NAT_PORTMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "kad/nn_time.h"

#define NN_PM_LIFETIME_S 3600u                     /* lifetime we ask for */
#define NN_PM_BACKOFF_BASE (5 * NN_SEC)
#define NN_PM_BACKOFF_MAX (900 * NN_SEC)
#define NN_PM_PERMANENT_RENEW (1800 * NN_SEC)
#define NN_PM_MIN_RENEW (2 * NN_SEC)              /* never renew more often than this */

enum nn_pm_state { NN_PM_IDLE = 0, NN_PM_MAPPED, NN_PM_STOPPED };
enum nn_pm_action { NN_PM_NOTHING = 0, NN_PM_MAP, NN_PM_RENEW };

typedef struct nn_nat_portmap {
	uint8_t state;      /* enum nn_pm_state */
	nn_time next;       /* when the next attempt is due */
	nn_time expires;    /* MAPPED: the mapping's end (INT64_MAX: permanent) */
	nn_time backoff;    /* the delay after the next failure */
	unsigned failures;  /* consecutive */
} nn_nat_portmap;

/* Start in IDLE with the first attempt due at `now`. */
void nn_nat_portmap_init(nn_nat_portmap *p, nn_time now);
/* What is due at now: NN_PM_MAP (IDLE), NN_PM_RENEW (MAPPED) or NN_PM_NOTHING (not yet, or
 * STOPPED). A MAPPED state whose mapping expired falls back to IDLE here (and returns MAP). */
int nn_nat_portmap_due(nn_nat_portmap *p, nn_time now);
/* The gateway granted a mapping for lifetime_s seconds (0 = permanent). */
void nn_nat_portmap_ok(nn_nat_portmap *p, nn_time now, uint32_t lifetime_s);
/* The attempt failed. */
void nn_nat_portmap_fail(nn_nat_portmap *p, nn_time now);
/* The local address changed (or the gateway forgot us): map again now. */
void nn_nat_portmap_reset(nn_nat_portmap *p, nn_time now);
/* Leaving: nothing is due any more. */
void nn_nat_portmap_stop(nn_nat_portmap *p);
/* Do we hold a mapping that may be advertised at now? */
bool nn_nat_portmap_valid(const nn_nat_portmap *p, nn_time now);

#endif
