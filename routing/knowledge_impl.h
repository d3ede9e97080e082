/* knowledge_impl.h — the knowledge table's private layout, shared by knowledge.c (learning)
 * and knowledge_query.c (closest, refresh, introspection). Not part of the API.
 *
 * Entries live in one pool allocated at init; buckets and caches hold 16-bit pool indices in
 * MRU order (index 0 = most recent). A free stack lists unused pool slots. Live entries (not
 * cached ones) are counted in the subnet multiset.
 */
#ifndef NN_ROUTING_KNOWLEDGE_IMPL_H
#define NN_ROUTING_KNOWLEDGE_IMPL_H

#include "routing/knowledge.h"
#include "routing/subnets.h"

typedef struct nn_routing_kt_entry {
	nn_routing_contact c;
	nn_time last_seen;
	uint8_t subnet[16];
	bool has_subnet;
} nn_routing_kt_entry;

typedef struct nn_routing_kt_bucket {
	uint16_t live[NN_ROUTING_K];
	uint16_t cache[NN_ROUTING_K];
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
	size_t cap;
	size_t size; /* live entries */
	nn_routing_kt_entry *pool;
	uint16_t *free_stack;
	size_t nfree;
	nn_routing_subnets subnets;
	nn_routing_kt_bucket b[NN_ROUTING_BUCKETS];
};

#endif
