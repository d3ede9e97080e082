/* knowledge.h — the knowledge table: 256 soft-state k-buckets of contacts, with a replacement
 * cache per bucket and probe-before-evict.
 *
 * One purpose: remember who exists and how to reach them. Bucket index = nn_kad_cpl(self, id)
 * (0 = the far half of the keyspace); self is never stored. Each bucket keeps up to K contacts
 * in MRU order and up to K replacement candidates. Observe is the single way anything is
 * learned; a full bucket never evicts on its own: it stashes the newcomer and names the least
 * recently seen incumbent for the caller to probe, then Confirm(alive|dead) settles it.
 *
 * Invariants and their tier:
 * - verifiable: key binding (a non-zero ed_pub must hash to the ID), PoW for newcomers
 *   (difficulty from the options; keyless newcomers are refused while PoW is on); no x_pub is
 *   stored (the node keeps the keys a rendezvous verified);
 * - local policy: subnet cap (entries per /24 or /64, table-wide, via the injected subnet
 *   function), probe-before-evict, and source rules: a keyed contact's addresses and caps change
 *   only on an observation from the contact itself (NN_ROUTING_SRC_SELF); third-party hints may
 *   introduce a contact or fill in what a keyless one lacks, never rewrite, and never refresh
 *   last-seen. Addresses beyond NN_ROUTING_CONTACT_ADDRS are dropped, and so are addresses
 *   that do not pack (nn_addr_pack: a host name or other text longer than 29 bytes with its
 *   net; every IP literal packs), counted (nn_routing_kt_unpacked).
 *
 * Ownership and memory: the table is opaque. It holds at most `capacity` entries (buckets and
 * caches together) but starts with room for 32 and grows with use: when no room is left the
 * room grows by half (up to capacity), and each entry takes a block sized for its addresses (1, 2, 4
 * or 8), from chunks the table keeps for reuse. So observe may allocate while the table grows;
 * once a node's table has reached the size its neighbourhood needs, learning, queries and
 * reset allocate nothing. At capacity a replacement-cache entry is recycled; if none exists
 * the newcomer is refused (NN_ENOSPC; NN_ENOMEM when growing fails). Contacts go in as
 * nn_routing_contact values and are kept as nn_routing_kc (routing.h: packed addresses, no
 * x_pub). Pointers returned by get/closest/bucket_at point into the table and stay valid until
 * the next call that mutates it; a returned contact holds only its naddrs addresses: read it in
 * place or copy it out with nn_routing_kc_contact, never by assignment. Not thread-safe; `now`
 * is a parameter.
 */
#ifndef NN_ROUTING_KNOWLEDGE_H
#define NN_ROUTING_KNOWLEDGE_H

#include "routing/routing.h"

typedef struct nn_routing_kt nn_routing_kt;

typedef struct nn_routing_kt_opts {
	int pow_difficulty;          /* newcomers need this many leading zero bits; <= 0: off */
	size_t capacity;             /* most entries (buckets + caches); 0 = 2048, max 65535 */
	unsigned subnet_cap;         /* 0 = NN_ROUTING_SUBNET_CAP */
	nn_routing_subnet_fn subnet; /* NULL = nn_addr_subnet */
	void *subnet_user;
} nn_routing_kt_opts;

/* Outcomes of observe (non-negative). */
enum nn_routing_obs {
	NN_ROUTING_OBS_IGNORED = 0,   /* self, or a hint that changes nothing */
	NN_ROUTING_OBS_ADDED = 1,     /* newcomer inserted into its bucket */
	NN_ROUTING_OBS_REFRESHED = 2, /* known contact refreshed / updated */
	NN_ROUTING_OBS_NEED_PROBE = 3 /* bucket full: newcomer stashed; probe *incumbent */
};

/* opts may be NULL (all defaults). NN_EINVAL, NN_ENOMEM. */
int nn_routing_kt_new(nn_routing_kt **out, const nn_id *self, const nn_routing_kt_opts *opts);
void nn_routing_kt_free(nn_routing_kt *kt);
/* Forget every entry and refresh mark and start over as `self` (NULL: keep self); the options
 * and the room grown so far stay. No allocation. */
void nn_routing_kt_reset(nn_routing_kt *kt, const nn_id *self);
const nn_id *nn_routing_kt_self(const nn_routing_kt *kt);

/* Learn from an observation of c. Returns an nn_routing_obs value, or NN_EIDMISMATCH (key
 * binding), NN_EPOW (newcomer below PoW or keyless while PoW is on), NN_ELIMIT (newcomer's
 * subnet full), NN_ENOSPC (pool exhausted). On NEED_PROBE, *incumbent (may be NULL) receives
 * the least recently seen entry of the bucket. c->x_pub is ignored. An observation whose
 * addresses all fail to pack counts as one without addresses. */
int nn_routing_kt_observe(nn_routing_kt *kt, const nn_routing_contact *c, nn_routing_source src,
			  nn_time now, nn_id *incumbent);

/* Settle a probe: alive refreshes the incumbent (last-seen = now, to the front); dead removes
 * it and promotes the freshest cached candidate whose subnet fits. NN_ENOENT if not stored. */
int nn_routing_kt_confirm(nn_routing_kt *kt, const nn_id *incumbent, bool alive, nn_time now);

/* Remove id from its bucket (promoting a replacement) or from the cache. NN_ENOENT. */
int nn_routing_kt_mark_dead(nn_routing_kt *kt, const nn_id *id);

/* The live (bucket) entry for id, or NULL. *last_seen receives its last-seen time when not
 * NULL. */
const nn_routing_kc *nn_routing_kt_get(const nn_routing_kt *kt, const nn_id *id,
				       nn_time *last_seen);
/* True when id waits in its bucket's replacement cache. */
bool nn_routing_kt_is_cached(const nn_routing_kt *kt, const nn_id *id);

/* Exact XOR top-n of the bucket entries, closest first; returns how many (<= n). Walks bucket
 * cpl(self, target), then the deeper buckets, then shallower ones in descending order, and
 * stops as soon as no unscanned bucket can beat the n-th result. */
size_t nn_routing_kt_closest(const nn_routing_kt *kt, const nn_id *target, size_t n,
			     const nn_routing_kc **out);

/* Bucket refresh: among non-empty buckets, and empty ones farther out than the deepest bucket
 * holding at least two contacts (a gap in our knowledge: Kademlia refreshes every bucket
 * farther than its closest neighbours), last refreshed at least stale_after ago (never
 * refreshed ones qualify at once, farthest first), take the one refreshed longest ago, mark it
 * refreshed at now
 * and write a random ID of that bucket (first i bits of self, bit i flipped, the rest from rnd).
 * Returns the bucket index, or NN_ENOENT when none is due. */
int nn_routing_kt_refresh_target(nn_routing_kt *kt, nn_time now, nn_time stale_after,
				 const uint8_t rnd[NN_ID_LEN], nn_id *out);

/* Bucket introspection (MRU order, index 0 = most recently seen). */
size_t nn_routing_kt_bucket_len(const nn_routing_kt *kt, unsigned bucket);
const nn_routing_kc *nn_routing_kt_bucket_at(const nn_routing_kt *kt, unsigned bucket,
					     size_t i);
size_t nn_routing_kt_cache_len(const nn_routing_kt *kt, unsigned bucket);
/* Entries in all buckets (caches excluded). */
size_t nn_routing_kt_size(const nn_routing_kt *kt);
/* Bytes the table holds now (its struct, index arrays, subnet multiset, entry chunks). */
size_t nn_routing_kt_bytes(const nn_routing_kt *kt);
/* Addresses left out so far because they do not pack: one per observation that would have
 * stored it (the contact's own word; a hint only to a keyless entry with no address). */
uint64_t nn_routing_kt_unpacked(const nn_routing_kt *kt);
/* Live entries counted against the subnet of key. */
unsigned nn_routing_kt_subnet_count(const nn_routing_kt *kt, const uint8_t key[16]);

#endif
