/* knowledge.c — the knowledge table's learning side: observe, confirm, mark dead. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pow/pow.h"
#include "routing/knowledge_impl.h"

#define DEFAULT_CAPACITY 2048u
#define MAX_CAPACITY 65535u

/* ---- entry blocks (size classes, knowledge_impl.h) ---- */

#define BLOCK_HEAD offsetof(nn_routing_kt_entry, c.addrs)
#define CHUNK_HEAD sizeof(nn_time) /* a chunk starts with its list link, 8-aligned */
#define CHUNK_BYTES 4096u

static size_t room_of(unsigned cls) { return (size_t)1 << cls; }

static size_t block_size(unsigned cls)
{
	size_t sz = BLOCK_HEAD + room_of(cls) * sizeof(nn_addr_pk);
	return (sz + 7) & ~(size_t)7;
}

static unsigned class_for(size_t naddrs)
{
	unsigned cls = 0;
	while (cls + 1 < NN_KT_CLASSES && room_of(cls) < naddrs)
		cls++;
	return cls;
}

static void block_put(nn_routing_kt *kt, nn_routing_kt_entry *e)
{
	nn_routing_kt_class *k = &kt->cls[class_for(e->room)];
	memcpy((void *)e, &k->free, sizeof k->free);
	k->free = e;
}

/* A free block with room for naddrs addresses: the class's own, else a free one of a bigger
 * class, else a new chunk of the class. NULL when out of memory. */
static nn_routing_kt_entry *block_get(nn_routing_kt *kt, size_t naddrs)
{
	unsigned want = class_for(naddrs);
	for (unsigned c = want; c < NN_KT_CLASSES; c++) {
		nn_routing_kt_class *k = &kt->cls[c];
		if (!k->free)
			continue;
		nn_routing_kt_entry *e = k->free;
		memcpy(&k->free, (void *)e, sizeof k->free);
		e->room = (uint8_t)room_of(c);
		return e;
	}
	nn_routing_kt_class *k = &kt->cls[want];
	size_t bs = block_size(want), n = (CHUNK_BYTES - CHUNK_HEAD) / bs;
	if (n == 0)
		n = 1;
	uint8_t *chunk = malloc(CHUNK_HEAD + n * bs);
	if (!chunk)
		return NULL;
	memcpy(chunk, &k->chunks, sizeof k->chunks);
	k->chunks = chunk;
	k->blocks += n;
	k->bytes += CHUNK_HEAD + n * bs;
	for (size_t i = n; i-- > 1;) {
		nn_routing_kt_entry *e = (nn_routing_kt_entry *)(void *)(chunk + CHUNK_HEAD + i * bs);
		e->room = (uint8_t)room_of(want);
		block_put(kt, e);
	}
	nn_routing_kt_entry *e = (nn_routing_kt_entry *)(void *)(chunk + CHUNK_HEAD);
	e->room = (uint8_t)room_of(want);
	return e;
}

/* Copy the entry src (a full-size value or a block) into block dst: everything up to the
 * addresses, then the n addresses (n <= dst->room). */
static void block_fill(nn_routing_kt_entry *dst, const nn_routing_kt_entry *src, size_t n)
{
	uint8_t room = dst->room;
	memcpy((void *)dst, (const void *)src, BLOCK_HEAD);
	memcpy(dst->c.addrs, src->c.addrs, n * sizeof src->c.addrs[0]);
	dst->room = room;
}

/* Indices for half as many entries again (up to cap). */
static int grow_indices(nn_routing_kt *kt)
{
	if (kt->alloc >= kt->cap)
		return NN_ENOSPC;
	size_t n = kt->alloc + kt->alloc / 2 < kt->cap ? kt->alloc + kt->alloc / 2 : kt->cap;
	nn_routing_kt_entry **ent = realloc(kt->ent, n * sizeof *ent);
	if (!ent)
		return NN_ENOMEM;
	kt->ent = ent;
	uint16_t *fs = realloc(kt->free_stack, n * sizeof *fs);
	if (!fs)
		return NN_ENOMEM;
	kt->free_stack = fs;
	for (size_t i = kt->alloc; i < n; i++)
		ent[i] = NULL;
	for (size_t i = n; i-- > kt->alloc;)
		kt->free_stack[kt->nfree++] = (uint16_t)i;
	kt->alloc = n;
	return 0;
}

int nn_routing_kt_new(nn_routing_kt **out, const nn_id *self, const nn_routing_kt_opts *o)
{
	nn_routing_kt_opts d = {0};
	if (!out || !self)
		return NN_EINVAL;
	*out = NULL;
	if (!o)
		o = &d;
	size_t cap = o->capacity ? o->capacity : DEFAULT_CAPACITY;
	if (cap > MAX_CAPACITY)
		return NN_EINVAL;
	nn_routing_kt *kt = calloc(1, sizeof *kt);
	if (!kt)
		return NN_ENOMEM;
	size_t start = cap < NN_KT_START ? cap : NN_KT_START;
	kt->ent = calloc(start, sizeof *kt->ent);
	kt->free_stack = calloc(start, sizeof *kt->free_stack);
	if (!kt->ent || !kt->free_stack || nn_routing_subnets_init(&kt->subnets, 8) != 0) {
		free(kt->ent);
		free(kt->free_stack);
		free(kt);
		return NN_ENOMEM;
	}
	kt->self = *self;
	kt->pow = o->pow_difficulty;
	kt->subnet_cap = o->subnet_cap ? o->subnet_cap : NN_ROUTING_SUBNET_CAP;
	kt->subnet_fn = o->subnet ? o->subnet : nn_routing_default_subnet;
	kt->subnet_user = o->subnet_user;
	kt->cap = cap;
	kt->alloc = start;
	for (size_t i = 0; i < start; i++)
		kt->free_stack[i] = (uint16_t)(start - 1 - i);
	kt->nfree = start;
	*out = kt;
	return 0;
}

void nn_routing_kt_free(nn_routing_kt *kt)
{
	if (!kt)
		return;
	nn_routing_subnets_free(&kt->subnets);
	for (unsigned c = 0; c < NN_KT_CLASSES; c++) {
		void *p = kt->cls[c].chunks;
		while (p) {
			void *next;
			memcpy(&next, p, sizeof next);
			free(p);
			p = next;
		}
	}
	free(kt->lists);
	free(kt->ent);
	free(kt->free_stack);
	free(kt);
}

int nn_kt_bucket_lists(nn_routing_kt *kt, nn_routing_kt_bucket *b)
{
	if (b->lists)
		return 0;
	if (kt->nlists == kt->caplists) {
		size_t n = kt->caplists ? 2 * kt->caplists : 8;
		if (n > NN_ROUTING_BUCKETS)
			n = NN_ROUTING_BUCKETS;
		nn_routing_kt_lists *l = realloc(kt->lists, n * sizeof *l);
		if (!l)
			return NN_ENOMEM;
		kt->lists = l;
		kt->caplists = n;
	}
	nn_routing_kt_lists *l = &kt->lists[kt->nlists++];
	memset(l, 0, sizeof *l);
	b->lists = (uint16_t)kt->nlists;
	return 0;
}

void nn_routing_kt_reset(nn_routing_kt *kt, const nn_id *self)
{
	if (!kt)
		return;
	if (self)
		kt->self = *self;
	for (size_t i = 0; i < kt->alloc; i++)
		if (kt->ent[i]) {
			block_put(kt, kt->ent[i]);
			kt->ent[i] = NULL;
		}
	for (unsigned i = 0; i < NN_ROUTING_BUCKETS; i++) /* the lists are kept */
		kt->b[i].nlive = kt->b[i].ncache = 0;
	for (size_t i = 0; i < kt->nlists; i++) {
		kt->lists[i].refreshed_ever = false;
		kt->lists[i].refreshed = 0;
	}
	memset(kt->subnets.slots, 0, (kt->subnets.mask + 1) * sizeof *kt->subnets.slots);
	kt->subnets.used = 0;
	for (size_t i = 0; i < kt->alloc; i++)
		kt->free_stack[i] = (uint16_t)(kt->alloc - 1 - i);
	kt->nfree = kt->alloc;
	kt->size = 0;
}

const nn_id *nn_routing_kt_self(const nn_routing_kt *kt) { return &kt->self; }

/* ---- index lists (MRU arrays of entry indices) ---- */

static int list_find(const nn_routing_kt *kt, const uint16_t *list, size_t n, const nn_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (nn_kad_id_eq(&nn_kt_e(kt, list[i])->c.id, id))
			return (int)i;
	return -1;
}

static void list_remove_at(uint16_t *list, uint8_t *n, size_t i)
{
	memmove(list + i, list + i + 1, (size_t)(*n - i - 1) * sizeof *list);
	(*n)--;
}

static void list_push_front(uint16_t *list, uint8_t *n, uint16_t v)
{
	memmove(list + 1, list, (size_t)*n * sizeof *list);
	list[0] = v;
	(*n)++;
}

static void list_to_front(uint16_t *list, size_t i)
{
	uint16_t v = list[i];
	memmove(list + 1, list, i * sizeof *list);
	list[0] = v;
}

/* ---- entries ---- */

static void release(nn_routing_kt *kt, uint16_t idx)
{
	block_put(kt, kt->ent[idx]);
	kt->ent[idx] = NULL;
	kt->free_stack[kt->nfree++] = idx;
}

/* A free index with a block for naddrs addresses. When every index is taken the index arrays
 * grow (up to cap); at cap the oldest cache entry of the longest cache is recycled. */
static int acquire(nn_routing_kt *kt, uint16_t *idx, size_t naddrs)
{
	if (kt->nfree == 0 && grow_indices(kt) < 0) {
		unsigned best = NN_ROUTING_BUCKETS;
		uint8_t most = 0;
		for (unsigned i = 0; i < NN_ROUTING_BUCKETS; i++)
			if (kt->b[i].ncache > most) {
				most = kt->b[i].ncache;
				best = i;
			}
		if (best == NN_ROUTING_BUCKETS)
			return NN_ENOSPC;
		nn_routing_kt_bucket *b = &kt->b[best];
		release(kt, nn_kt_cache(kt, b)[--b->ncache]);
	}
	nn_routing_kt_entry *e = block_get(kt, naddrs);
	if (!e)
		return NN_ENOMEM;
	*idx = kt->free_stack[--kt->nfree];
	kt->ent[*idx] = e;
	return 0;
}

/* Store the full-size value v at a fresh index: into its block, v's addresses only. */
static void store(nn_routing_kt *kt, uint16_t idx, const nn_routing_kt_entry *v)
{
	block_fill(kt->ent[idx], v, v->c.naddrs);
}

static bool subnet_fits(const nn_routing_kt *kt, const nn_routing_kt_entry *e)
{
	return !e->has_subnet || nn_routing_subnets_count(&kt->subnets, e->subnet) < kt->subnet_cap;
}

/* The subnet multiset holds a key per live entry at most; it is reserved for one more live
 * entry before each one is added, so counting never fails. */
static int live_room(nn_routing_kt *kt)
{
	return nn_routing_subnets_reserve(&kt->subnets, kt->size + 1);
}

static void count_subnet(nn_routing_kt *kt, const nn_routing_kt_entry *e)
{
	if (e->has_subnet)
		(void)nn_routing_subnets_inc(&kt->subnets, e->subnet); /* room: live_room */
}

static void uncount_subnet(nn_routing_kt *kt, const nn_routing_kt_entry *e)
{
	if (e->has_subnet)
		nn_routing_subnets_dec(&kt->subnets, e->subnet);
}

/* ---- merging an observation into a stored entry ---- */

/* c's addresses, packed, in order, at most NN_ROUTING_CONTACT_ADDRS; those that do not pack
 * are left out and counted. Returns how many. */
static size_t pack_addrs(nn_routing_kt *kt, const nn_routing_contact *c,
			 nn_addr_pk out[NN_ROUTING_CONTACT_ADDRS])
{
	size_t n = c->naddrs < NN_ROUTING_CONTACT_ADDRS ? c->naddrs : NN_ROUTING_CONTACT_ADDRS, k = 0;
	for (size_t i = 0; i < n; i++) {
		if (nn_addr_pack(&out[k], &c->addrs[i]) == 0)
			k++;
		else
			kt->unpacked++;
	}
	return k;
}

static bool addrs_equal(const nn_routing_kc *a, const nn_addr_pk *b, size_t nb)
{
	if (a->naddrs != nb)
		return false;
	for (size_t i = 0; i < nb; i++)
		if (!nn_addr_pk_eq(&a->addrs[i], &b[i]))
			return false;
	return true;
}

/* Replace the addresses of entry idx with pk[0 .. n), unless that moves a live entry into a
 * full subnet (or no bigger block can be had when they outgrow its block). */
static bool set_addrs(nn_routing_kt *kt, uint16_t idx, const nn_addr_pk *pk, size_t n, bool live)
{
	nn_routing_kt_entry *e = nn_kt_e(kt, idx);
	nn_routing_kc tmp;
	tmp.naddrs = (uint8_t)n;
	memcpy(tmp.addrs, pk, n * sizeof pk[0]);
	uint8_t key[16] = {0};
	bool has = nn_routing_kc_subnet(&tmp, kt->subnet_fn, kt->subnet_user, key);
	bool moves = has != e->has_subnet || (has && memcmp(key, e->subnet, 16) != 0);
	if (live && moves && has && nn_routing_subnets_count(&kt->subnets, key) >= kt->subnet_cap)
		return false;
	if (n > e->room) {
		nn_routing_kt_entry *nb = block_get(kt, n);
		if (!nb)
			return false;
		block_fill(nb, e, e->c.naddrs);
		block_put(kt, e);
		kt->ent[idx] = e = nb;
	}
	if (live && moves)
		uncount_subnet(kt, e);
	memcpy(e->c.addrs, pk, n * sizeof pk[0]);
	e->c.naddrs = (uint8_t)n;
	memcpy(e->subnet, key, 16);
	e->has_subnet = has;
	if (live && moves)
		count_subnet(kt, e);
	return true;
}

/* Returns true when the entry changed or was refreshed. */
static bool merge(nn_routing_kt *kt, uint16_t idx, const nn_routing_contact *c,
		  nn_routing_source src, nn_time now, bool live)
{
	nn_routing_kt_entry *e = nn_kt_e(kt, idx);
	bool was_keyed = !nn_routing_key_is_zero(e->c.ed_pub);
	bool changed = false;
	nn_addr_pk pk[NN_ROUTING_CONTACT_ADDRS];
	size_t n;
	if (!was_keyed && !nn_routing_key_is_zero(c->ed_pub)) {
		memcpy(e->c.ed_pub, c->ed_pub, NN_ED_PUB_LEN); /* binding checked by the caller */
		changed = true;
	}
	if (src == NN_ROUTING_SRC_SELF) {
		n = pack_addrs(kt, c, pk);
		if (n > 0 && !addrs_equal(&e->c, pk, n))
			(void)set_addrs(kt, idx, pk, n, live);
		e = nn_kt_e(kt, idx); /* the block may have moved */
		if (c->caps)
			e->c.caps = c->caps;
		e->last_seen = now;
		return true;
	}
	/* A third party's hint: never rewrites a keyed contact, never refreshes last-seen. It may
	 * fill in what a keyless contact lacks. */
	if (was_keyed)
		return changed;
	if (e->c.naddrs == 0 && c->naddrs > 0 && (n = pack_addrs(kt, c, pk)) > 0 &&
	    set_addrs(kt, idx, pk, n, live))
		changed = true;
	e = nn_kt_e(kt, idx);
	if (e->c.caps == 0 && c->caps) {
		e->c.caps = c->caps;
		changed = true;
	}
	return changed;
}

static void fill_entry(nn_routing_kt *kt, nn_routing_kt_entry *e, const nn_routing_contact *c,
		       nn_time now)
{
	memset(e, 0, sizeof *e);
	e->c.id = c->id;
	memcpy(e->c.ed_pub, c->ed_pub, NN_ED_PUB_LEN);
	e->c.caps = c->caps;
	e->c.naddrs = (uint8_t)pack_addrs(kt, c, e->c.addrs);
	e->has_subnet = nn_routing_kc_subnet(&e->c, kt->subnet_fn, kt->subnet_user, e->subnet);
	e->last_seen = now;
}

/* Move the freshest cached candidate whose subnet fits into the bucket. */
static void promote(nn_routing_kt *kt, nn_routing_kt_bucket *b)
{
	while (b->nlive < NN_ROUTING_K) {
		size_t i = 0;
		while (i < b->ncache && !subnet_fits(kt, nn_kt_e(kt, nn_kt_cache(kt, b)[i])))
			i++;
		if (i == b->ncache || live_room(kt) < 0)
			return;
		uint16_t idx = nn_kt_cache(kt, b)[i];
		list_remove_at(nn_kt_cache(kt, b), &b->ncache, i);
		list_push_front(nn_kt_live(kt, b), &b->nlive, idx);
		count_subnet(kt, nn_kt_e(kt, idx));
		kt->size++;
	}
}

static void remove_live(nn_routing_kt *kt, nn_routing_kt_bucket *b, size_t i)
{
	uint16_t idx = nn_kt_live(kt, b)[i];
	uncount_subnet(kt, nn_kt_e(kt, idx));
	list_remove_at(nn_kt_live(kt, b), &b->nlive, i);
	release(kt, idx);
	kt->size--;
}

int nn_routing_kt_observe(nn_routing_kt *kt, const nn_routing_contact *c, nn_routing_source src,
			  nn_time now, nn_id *incumbent)
{
	if (!kt || !c)
		return NN_EINVAL;
	if (nn_kad_id_eq(&c->id, &kt->self))
		return NN_ROUTING_OBS_IGNORED;
	int rc = nn_routing_contact_check_key(c);
	if (rc < 0)
		return rc;
	nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, &c->id)];

	int i = list_find(kt, nn_kt_live(kt, b), b->nlive, &c->id);
	if (i >= 0) {
		if (!merge(kt, nn_kt_live(kt, b)[i], c, src, now, true))
			return NN_ROUTING_OBS_IGNORED;
		if (src == NN_ROUTING_SRC_SELF)
			list_to_front(nn_kt_live(kt, b), (size_t)i);
		return NN_ROUTING_OBS_REFRESHED;
	}

	i = list_find(kt, nn_kt_cache(kt, b), b->ncache, &c->id);
	if (i >= 0) {
		(void)merge(kt, nn_kt_cache(kt, b)[i], c, src, now, false);
		if (src == NN_ROUTING_SRC_SELF)
			list_to_front(nn_kt_cache(kt, b), (size_t)i);
		if (b->nlive < NN_ROUTING_K) {
			promote(kt, b);
			return nn_routing_kt_get(kt, &c->id, NULL) ? NN_ROUTING_OBS_ADDED
								   : NN_ROUTING_OBS_IGNORED;
		}
		if (incumbent)
			*incumbent = nn_kt_e(kt, nn_kt_live(kt, b)[b->nlive - 1])->c.id;
		return NN_ROUTING_OBS_NEED_PROBE;
	}

	/* A newcomer. */
	if (kt->pow > 0 && (nn_routing_key_is_zero(c->ed_pub) || !nn_pow_ok(&c->id, kt->pow)))
		return NN_EPOW;
	nn_routing_kt_entry probe;
	fill_entry(kt, &probe, c, now);
	if (!subnet_fits(kt, &probe))
		return NN_ELIMIT;
	if ((rc = nn_kt_bucket_lists(kt, b)) < 0)
		return rc;
	uint16_t idx;
	if (b->nlive < NN_ROUTING_K) {
		if (live_room(kt) < 0)
			return NN_ENOMEM;
		if ((rc = acquire(kt, &idx, probe.c.naddrs)) < 0)
			return rc;
		store(kt, idx, &probe);
		list_push_front(nn_kt_live(kt, b), &b->nlive, idx);
		count_subnet(kt, &probe);
		kt->size++;
		return NN_ROUTING_OBS_ADDED;
	}
	if (b->ncache == NN_ROUTING_K)
		release(kt, nn_kt_cache(kt, b)[--b->ncache]); /* drop the oldest candidate */
	if ((rc = acquire(kt, &idx, probe.c.naddrs)) < 0)
		return rc;
	store(kt, idx, &probe);
	list_push_front(nn_kt_cache(kt, b), &b->ncache, idx);
	if (incumbent)
		*incumbent = nn_kt_e(kt, nn_kt_live(kt, b)[b->nlive - 1])->c.id;
	return NN_ROUTING_OBS_NEED_PROBE;
}

int nn_routing_kt_confirm(nn_routing_kt *kt, const nn_id *incumbent, bool alive, nn_time now)
{
	if (!kt || !incumbent || nn_kad_id_eq(incumbent, &kt->self))
		return NN_EINVAL;
	nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, incumbent)];
	int i = list_find(kt, nn_kt_live(kt, b), b->nlive, incumbent);
	if (i < 0)
		return NN_ENOENT;
	if (alive) {
		nn_kt_e(kt, nn_kt_live(kt, b)[i])->last_seen = now;
		list_to_front(nn_kt_live(kt, b), (size_t)i);
		return 0;
	}
	remove_live(kt, b, (size_t)i);
	promote(kt, b);
	return 0;
}

int nn_routing_kt_mark_dead(nn_routing_kt *kt, const nn_id *id)
{
	if (!kt || !id || nn_kad_id_eq(id, &kt->self))
		return NN_EINVAL;
	nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, id)];
	int i = list_find(kt, nn_kt_live(kt, b), b->nlive, id);
	if (i >= 0) {
		remove_live(kt, b, (size_t)i);
		promote(kt, b);
		return 0;
	}
	i = list_find(kt, nn_kt_cache(kt, b), b->ncache, id);
	if (i < 0)
		return NN_ENOENT;
	uint16_t idx = nn_kt_cache(kt, b)[i];
	list_remove_at(nn_kt_cache(kt, b), &b->ncache, (size_t)i);
	release(kt, idx);
	return 0;
}

const nn_routing_kc *nn_routing_kt_get(const nn_routing_kt *kt, const nn_id *id,
				       nn_time *last_seen)
{
	if (!kt || !id || nn_kad_id_eq(id, &kt->self))
		return NULL;
	const nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, id)];
	int i = list_find(kt, nn_kt_live(kt, b), b->nlive, id);
	if (i < 0)
		return NULL;
	if (last_seen)
		*last_seen = nn_kt_e(kt, nn_kt_live(kt, b)[i])->last_seen;
	return &nn_kt_e(kt, nn_kt_live(kt, b)[i])->c;
}

bool nn_routing_kt_is_cached(const nn_routing_kt *kt, const nn_id *id)
{
	if (!kt || !id || nn_kad_id_eq(id, &kt->self))
		return false;
	const nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, id)];
	return list_find(kt, nn_kt_cache(kt, b), b->ncache, id) >= 0;
}

uint64_t nn_routing_kt_unpacked(const nn_routing_kt *kt) { return kt ? kt->unpacked : 0; }
