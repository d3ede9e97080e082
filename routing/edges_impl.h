/* edges_impl.h — the live-edge table's private layout, shared by edges.c (membership, roles,
 * buckets), fill.c (dial policy) and decide.c (next hops). Not part of the API.
 *
 * Edges are dense in `edge[0..len)`; `key0[i]` caches the first 8 bytes of edge i's ID as a
 * big-endian integer so decide can reject most edges with one 64-bit compare. `index` is an
 * open-addressing map ID -> edge index (linear probing, backward-shift deletion), at most half
 * full. `scratch` is work space for fill, sized at init. `skey0`/`sidx` list the edges sorted
 * by key0 (ties in any order), so decide can walk the implicit binary trie of ID prefixes
 * instead of scanning every edge.
 */
#ifndef NN_ROUTING_EDGES_IMPL_H
#define NN_ROUTING_EDGES_IMPL_H

#include "routing/edges.h"

#define NN_EDGES_NO_SLOT 0xffffu

struct nn_routing_edges {
	nn_id self;
	size_t cap, max_out, inbound_cap, target;
	size_t alloc; /* edges the arrays below hold (16 at first, growing by half up to cap) */
	size_t len, nout, nin;
	nn_routing_phase phase;
	nn_routing_subnet_fn subnet_fn;
	void *subnet_user;
	nn_routing_edge *edge;
	uint64_t *key0;
	uint16_t *index; /* slots; NN_EDGES_NO_SLOT = empty */
	size_t imask;
	uint16_t *scratch; /* alloc entries */
	uint64_t *skey0;   /* key0 values in ascending order */
	uint16_t *sidx;    /* edge index of each sorted position */
};

static inline uint64_t nn_edges_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* Index of the edge to id, or -1. */
int nn_routing_edges_index_of(const nn_routing_edges *e, const nn_id *id);

#endif
