/* knowledge_impl.h — the knowledge table's private layout, shared by knowledge.c (learning)
 * and knowledge_query.c (closest, refresh, introspection). Not part of the API.
 *
 * Buckets and caches hold 16-bit entry indices in MRU order (index 0 = most recent); ent[i]
 * points at entry i's block, a free stack lists unused indices. Indices exist for `alloc`
 * entries: the index arrays start at NN_KT_START entries and grow by half when no index is
 * free, up to `cap`; the subnet multiset is reserved for one more live entry before each one
 * is added (its slots double). An entry's block is sized for its addresses: the contact is
 * its last member and a block of room r holds only c.addrs[0 .. r) (r = 1, 2, 4 or 8: one
 * size class each). Blocks come from per-class chunks of a few KiB and go back to their
 * class's free list, never to the system before the table is freed; an entry whose addresses
 * outgrow its block moves to a bigger one. Pointers to contacts stay valid until the next
 * mutating call (documented in knowledge.h). Live entries (not cached ones) are counted in
 * the subnet multiset.
 */
#ifndef NN_ROUTING_KNOWLEDGE_IMPL_H
#define NN_ROUTING_KNOWLEDGE_IMPL_H

#include "routing/knowledge.h"
#include "routing/subnets.h"

typedef struct nn_routing_kt_entry {
	nn_time last_seen;
	uint8_t subnet[16];
	bool has_subnet;
	uint8_t room;         /* addresses the block holds */
	nn_routing_contact c; /* last member: only c.addrs[0 .. room) exist */
} nn_routing_kt_entry;

#define NN_KT_CLASSES 4 /* blocks of room 1, 2, 4, 8 (= NN_ROUTING_CONTACT_ADDRS) */
#define NN_KT_START 32  /* entry indices at first */

/* One size class of entry blocks. */
typedef struct nn_routing_kt_class {
	void *free;   /* free blocks, linked through their first pointer */
	void *chunks; /* allocated chunks, linked through their first pointer */
	size_t blocks; /* blocks allocated so far */
	size_t bytes;  /* bytes of its chunks */
} nn_routing_kt_class;

/* A bucket's lists live in one block of 2 x NN_ROUTING_K indices allocated when the bucket
 * takes its first entry (most of the 256 buckets of a node stay empty) and kept until the
 * table is freed; both are NULL before. */
typedef struct nn_routing_kt_bucket {
	uint16_t *live;  /* NN_ROUTING_K */
	uint16_t *cache; /* NN_ROUTING_K, right after live */
	uint8_t nlive;
	uint8_t ncache;
	bool refreshed_ever;
	nn_time refreshed;
} nn_routing_kt_bucket;

struct nn_routing_kt {
	nn_id self;
	int pow;
	unsigned subnet_cap;
	nn_routing_subnet_fn subnet_fn;
	void *subnet_user;
	size_t cap;   /* most entries */
	size_t alloc; /* entry indices that exist (ent and free_stack hold this many) */
	size_t size;  /* live entries */
	nn_routing_kt_entry **ent; /* index -> block; NULL for a free index */
	uint16_t *free_stack;
	size_t nfree;
	nn_routing_kt_class cls[NN_KT_CLASSES];
	nn_routing_subnets subnets;
	nn_routing_kt_bucket b[NN_ROUTING_BUCKETS];
};

/* Entry at index i. */
static inline nn_routing_kt_entry *nn_kt_e(const nn_routing_kt *kt, uint16_t i)
{
	return kt->ent[i];
}

#endif
