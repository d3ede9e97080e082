/* decide.h — greedy next-hop decision and the disjoint-path launch. Pure and allocation-free.
 *
 * decide (reference §8.7, verifiable/protocol behaviour):
 *   1. target == self: Deliver (checked before the TTL);
 *   2. TTL is clamped to NN_ROUTING_MAX_HOPS (16); a clamped TTL of 0: Drop;
 *   3. candidates = up to NN_ROUTING_CANDIDATES (8) live edges strictly closer to the target
 *      than self and not in the avoid set, closest first;
 *   4. any candidate: Forward with TTL - 1 (the first is the greedy choice, the rest local-
 *      repair fallbacks); none: Drop (a local optimum).
 * Loop freedom: XOR distance to the target strictly decreases at every hop; the TTL backs it.
 *
 * Launch (reference §13.2, local policy): the d (<= KMin = 3) live edges closest to the target
 * become first hops; copy i carries an avoid set holding the other first hops, so copies steer
 * apart; one signature serves every copy. `exclude` lets a relaunch pick fresh first hops.
 *
 * Ties (local policy, for retries): nn_routing_decision_ties counts the leading candidates that
 * share the best candidate's common-prefix length with the target (equal progress in bits); a
 * sender that retries may pick among them at random so a new attempt takes a new path.
 */
#ifndef NN_ROUTING_DECIDE_H
#define NN_ROUTING_DECIDE_H

#include "routing/edges.h"
#include "routing/envelope.h"

typedef enum nn_routing_action {
	NN_ROUTING_DROP = 0,
	NN_ROUTING_DELIVER = 1,
	NN_ROUTING_FORWARD = 2,
} nn_routing_action;

typedef struct nn_routing_hop {
	nn_id id;
	void *conn; /* the edge's opaque handle */
} nn_routing_hop;

typedef struct nn_routing_decision {
	nn_routing_action action;
	uint8_t ttl; /* Forward: the TTL to patch in before sending (clamped TTL - 1) */
	size_t n;    /* candidates */
	nn_routing_hop cand[NN_ROUTING_CANDIDATES];
} nn_routing_decision;

/* Returns the action (also in out->action). avoid may be NULL when navoid is 0; navoid > 3 is
 * treated as 3. */
nn_routing_action nn_routing_decide(const nn_routing_edges *e, const nn_id *target, uint8_t ttl,
				    const nn_id *avoid, size_t navoid, nn_routing_decision *out);
nn_routing_action nn_routing_decide_env(const nn_routing_edges *e, const nn_routing_env *env,
					nn_routing_decision *out);

/* Leading candidates of a Forward decision with the same cpl to target as the first (>= 1 when
 * d->n > 0). */
size_t nn_routing_decision_ties(const nn_routing_decision *d, const nn_id *target);

typedef struct nn_routing_launch {
	size_t n; /* copies = first hops */
	nn_routing_hop hop[NN_ROUTING_KMIN];
	size_t navoid; /* entries in each copy's avoid set: n - 1 */
	nn_id avoid[NN_ROUTING_KMIN][NN_ROUTING_MAX_AVOID];
} nn_routing_launch;

/* Plan a launch over up to d (1..3) disjoint first hops, skipping exclude[0..nex). Each copy's
 * avoid set holds the other first hops, except the target itself when it is a live edge (so the
 * other copies can still end there). Returns the
 * number of copies, NN_EUNROUTABLE when no edge is left, NN_EINVAL for d outside 1..3. */
int nn_routing_launch_plan(const nn_routing_edges *e, const nn_id *target, size_t d,
			   const nn_id *exclude, size_t nex, nn_routing_launch *out);

#endif
