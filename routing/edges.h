/* edges.h — the live-edge table: who we are connected to right now, in which role, how
 * healthy, and which contacts to dial next.
 *
 * One purpose: the set of live overlay edges that decide() routes over. An edge is recorded
 * with an opaque connection handle (`conn`) that routing never dereferences — node/ owns the
 * connection and interprets the handle. Edges are bidirectional: inbound (peer-initiated) edges
 * route too, but only outgoing ones count toward the phase.
 *
 * Rules and tiers (all local policy unless noted):
 * - add refuses self and duplicates; inbound edges are capped (NN_ROUTING_INBOUND_CAP by
 *   default), outgoing ones by the table's capacity;
 * - after every add/remove the NN_ROUTING_SIBLINGS edges closest to self become siblings and
 *   the rest fingers; the phase (Bootstrap 0, Critical 1..KMin, Urgent ..LowWater, NeedsFill,
 *   Normal >= TargetEdges, staying Normal down to TargetEdges - FillHysteresis) follows the
 *   outgoing count;
 * - idle detection uses one timeout per role; each edge has a control bucket (16/s, burst 32)
 *   and a forward bucket (512/s, burst 1024); a zero ID (self-originated) always passes, an
 *   unknown peer always fails;
 * - fill (nn_routing_edges_fill) proposes contacts to dial: first the siblings-to-be (the
 *   closest known contacts to self), then long-range fingers spread ACROSS buckets — the bucket
 *   with the fewest live edges first, far buckets first on ties, and inside a bucket the
 *   contact that shares the shortest prefix with the edges already there — preferring subnets
 *   with fewer than NN_ROUTING_LIVE_SUBNET_CAP live edges. This keeps greedy routing at
 *   O(log N) hops (the reference only ever asks for contacts near self).
 *
 * Memory: opaque; capacity = max outgoing + inbound cap edges, but the arrays start with room
 * for 16 and grow by half when an add finds them full (up to capacity), so only an add that grows
 * them allocates; remove, decide, launch, fill and the rate checks never do. Pointers returned
 * by find/at/closest are valid until the next add/remove. Edge indices are dense (0..len-1) and change on removal. Not thread-safe.
 */
#ifndef NN_ROUTING_EDGES_H
#define NN_ROUTING_EDGES_H

#include "routing/knowledge.h"
#include "transport/tokenbucket.h"

typedef enum nn_routing_phase {
	NN_ROUTING_PHASE_BOOTSTRAP = 0,
	NN_ROUTING_PHASE_CRITICAL,
	NN_ROUTING_PHASE_URGENT,
	NN_ROUTING_PHASE_NEEDS_FILL,
	NN_ROUTING_PHASE_NORMAL,
} nn_routing_phase;

typedef enum nn_routing_role {
	NN_ROUTING_ROLE_FINGER = 0,
	NN_ROUTING_ROLE_SIBLING = 1,
} nn_routing_role;

typedef struct nn_routing_edge {
	nn_id id;
	void *conn;      /* opaque handle owned by node/ */
	bool outgoing;   /* we dialled it */
	uint8_t role;    /* nn_routing_role */
	uint8_t bucket;  /* nn_kad_cpl(self, id) */
	bool has_subnet; /* subnet of the connection's remote address */
	uint8_t subnet[16];
	uint32_t caps;
	nn_time last_seen;
	nn_tbucket_state control; /* NN_ROUTING_CONTROL_RATE / _BURST */
	nn_tbucket_state forward; /* NN_ROUTING_FORWARD_RATE / _BURST */
} nn_routing_edge;

typedef struct nn_routing_edges nn_routing_edges;

typedef struct nn_routing_edges_opts {
	size_t max_outgoing;         /* 0 = 2 * NN_ROUTING_TARGET_EDGES */
	size_t inbound_cap;          /* 0 = NN_ROUTING_INBOUND_CAP */
	size_t target_edges;         /* 0 = NN_ROUTING_TARGET_EDGES */
	nn_routing_subnet_fn subnet; /* NULL = nn_addr_subnet */
	void *subnet_user;
} nn_routing_edges_opts;

/* opts may be NULL. NN_EINVAL, NN_ENOMEM. */
int nn_routing_edges_new(nn_routing_edges **out, const nn_id *self,
			 const nn_routing_edges_opts *opts);
void nn_routing_edges_free(nn_routing_edges *e);
const nn_id *nn_routing_edges_self(const nn_routing_edges *e);

/* Register a live edge. remote (may be NULL) is the connection's observed remote address, used
 * for its subnet. NN_EINVAL (self or zero ID), NN_EEXIST (duplicate), NN_ELIMIT (inbound cap or
 * outgoing capacity reached). */
int nn_routing_edges_add(nn_routing_edges *e, const nn_id *id, void *conn, bool outgoing,
			 uint32_t caps, const nn_addr *remote, nn_time now);
/* Remove the edge to id. NN_ENOENT. */
int nn_routing_edges_remove(nn_routing_edges *e, const nn_id *id);
/* The edge to id, or NULL. O(1). */
const nn_routing_edge *nn_routing_edges_find(const nn_routing_edges *e, const nn_id *id);
/* A frame arrived from id: last-seen = now. NN_ENOENT. */
int nn_routing_edges_touch(nn_routing_edges *e, const nn_id *id, nn_time now);
/* Update the caps recorded for id (from its own Pong/Hello). NN_ENOENT. */
int nn_routing_edges_set_caps(nn_routing_edges *e, const nn_id *id, uint32_t caps);

size_t nn_routing_edges_len(const nn_routing_edges *e);
/* Bytes the table holds now (struct, per-edge arrays, ID index). */
size_t nn_routing_edges_bytes(const nn_routing_edges *e);
const nn_routing_edge *nn_routing_edges_at(const nn_routing_edges *e, size_t i);
size_t nn_routing_edges_outgoing(const nn_routing_edges *e);
size_t nn_routing_edges_inbound(const nn_routing_edges *e);
nn_routing_phase nn_routing_edges_phase(const nn_routing_edges *e);
const char *nn_routing_phase_name(nn_routing_phase p);
/* Dials the maintenance loop wants in this phase: NeedsFill 2, Urgent 4, Critical/Bootstrap 8,
 * Normal 0 (policy). */
size_t nn_routing_edges_want(const nn_routing_edges *e);

/* Floor (policy): a voluntary drop (pruning, replacement, shedding for the inbound cap) may
 * remove this edge only if that leaves at least NN_ROUTING_KMIN outgoing edges. Edges that
 * failed are removed regardless. False for unknown IDs. */
bool nn_routing_edges_may_shed(const nn_routing_edges *e, const nn_id *id);

/* Edges idle at or above the timeout of their role; writes up to cap IDs, returns the count
 * written. */
size_t nn_routing_edges_idle(const nn_routing_edges *e, nn_time now, nn_time sibling_timeout,
			     nn_time finger_timeout, nn_id *out, size_t cap);

/* Charge one token from the edge's control / forward bucket. Zero ID: always true; unknown
 * peer: always false. */
bool nn_routing_edges_allow_control(nn_routing_edges *e, const nn_id *id, nn_time now);
bool nn_routing_edges_allow_forward(nn_routing_edges *e, const nn_id *id, nn_time now);

/* Up to n live edges closest to target, closest first, skipping the IDs in exclude[0..nex).
 * Returns how many were written to out. */
size_t nn_routing_edges_closest(const nn_routing_edges *e, const nn_id *target, size_t n,
				const nn_id *exclude, size_t nex, const nn_routing_edge **out);

/* Fill policy (see above): up to `want` contacts from kt to dial, written to out as IDs. A
 * contact is skipped when it has no address, already has a live edge, or skip(user, id) is
 * true (pending dial, backoff, admission hook); skip may be NULL. Returns the count. */
typedef bool (*nn_routing_skip_fn)(void *user, const nn_id *id);
size_t nn_routing_edges_fill(nn_routing_edges *e, const nn_routing_kt *kt, size_t want,
			     nn_routing_skip_fn skip, void *user, nn_id *out);

#endif
