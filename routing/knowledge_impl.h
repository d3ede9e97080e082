/* knowledge_impl.h — the knowledge table's private layout, shared by knowledge.c (learning)
 * and knowledge_query.c (closest, refresh, introspection). Not part of the API.
 *
 * Buckets and caches hold 16-bit entry indices in MRU order (index 0 = most recent); ent[i]
 * points at entry i's block, a free stack lists unused indices. Indices exist for `alloc`
 * entries: the index arrays start at NN_KT_START entries and grow by half when no index is
 * free, up to `cap`; the subnet multiset is reserved for one more live entry before each one
 * is added (its slots double). An entry's block is sized for its addresses: the contact is
 * its last member and a block of room r holds only c.addrs[0 .. r) (r = 1, 2, 4 or 8: one
 * size class each), packed (nn_addr_pk). Blocks come from per-class chunks of a few KiB and go back to their
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
	uint8_t room;    /* addresses the block holds */
	nn_routing_kc c; /* last member: only c.addrs[0 .. room) exist */
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

/* A bucket's lists and refresh time, given to the bucket when it takes its first entry (most of
 * the 256 buckets of a node stay empty, and refresh only looks at non-empty ones) and kept
 * until the table is freed. They sit in one array, kt->lists, that doubles (from 8) when a
 * bucket needs lists and none is left, so they move: never keep a pointer into them across a
 * call that may add a bucket's lists (bucket_lists in knowledge.c). */
typedef struct nn_routing_kt_lists {
	nn_time refreshed;
	bool refreshed_ever;
	uint16_t live[NN_ROUTING_K];
	uint16_t cache[NN_ROUTING_K];
} nn_routing_kt_lists;

/* 4 bytes a bucket: 256 of them take 1 KiB (with the lists in it, 8 KiB). */
typedef struct nn_routing_kt_bucket {
	uint16_t lists; /* 1 + index in kt->lists; 0 = none yet */
	uint8_t nlive;
	uint8_t ncache;
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
	uint64_t unpacked; /* addresses not kept: they do not pack (nn_addr_pack) */
	nn_routing_kt_entry **ent; /* index -> block; NULL for a free index */
	uint16_t *free_stack;
	size_t nfree;
	nn_routing_kt_class cls[NN_KT_CLASSES];
	nn_routing_subnets subnets;
	nn_routing_kt_lists *lists; /* nlists used of caplists */
	size_t nlists, caplists;
	nn_routing_kt_bucket b[NN_ROUTING_BUCKETS];
};

/* Entry at index i. */
static inline nn_routing_kt_entry *nn_kt_e(const nn_routing_kt *kt, uint16_t i)
{
	return kt->ent[i];
}

/* Give bucket b its lists (on its first entry, or its first refresh while empty); the lists
 * array may move. 0 or NN_ENOMEM. */
int nn_kt_bucket_lists(nn_routing_kt *kt, nn_routing_kt_bucket *b);

/* A bucket's lists (NULL before its first entry; then nlive / ncache are 0). */
static inline nn_routing_kt_lists *nn_kt_lists(const nn_routing_kt *kt,
					      const nn_routing_kt_bucket *b)
{
	return b->lists ? &kt->lists[b->lists - 1] : NULL;
}

static inline uint16_t *nn_kt_live(const nn_routing_kt *kt, const nn_routing_kt_bucket *b)
{
	return b->lists ? kt->lists[b->lists - 1].live : NULL;
}

static inline uint16_t *nn_kt_cache(const nn_routing_kt *kt, const nn_routing_kt_bucket *b)
{
	return b->lists ? kt->lists[b->lists - 1].cache : NULL;
}

#endif
