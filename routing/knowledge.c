/* knowledge.c — the knowledge table's learning side: observe, confirm, mark dead, bind x_pub. */
#include <stdlib.h>
#include <string.h>

#include "pow/pow.h"
#include "routing/knowledge_impl.h"

#define DEFAULT_CAPACITY 2048u
#define MAX_CAPACITY 65535u

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
	kt->pool = calloc(cap, sizeof *kt->pool);
	kt->free_stack = calloc(cap, sizeof *kt->free_stack);
	if (!kt->pool || !kt->free_stack || nn_routing_subnets_init(&kt->subnets, cap) != 0) {
		free(kt->pool);
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
	for (size_t i = 0; i < cap; i++)
		kt->free_stack[i] = (uint16_t)(cap - 1 - i);
	kt->nfree = cap;
	*out = kt;
	return 0;
}

void nn_routing_kt_free(nn_routing_kt *kt)
{
	if (!kt)
		return;
	nn_routing_subnets_free(&kt->subnets);
	free(kt->pool);
	free(kt->free_stack);
	free(kt);
}

void nn_routing_kt_reset(nn_routing_kt *kt, const nn_id *self)
{
	if (!kt)
		return;
	if (self)
		kt->self = *self;
	memset(kt->b, 0, sizeof kt->b);
	memset(kt->subnets.slots, 0, (kt->subnets.mask + 1) * sizeof *kt->subnets.slots);
	kt->subnets.used = 0;
	for (size_t i = 0; i < kt->cap; i++)
		kt->free_stack[i] = (uint16_t)(kt->cap - 1 - i);
	kt->nfree = kt->cap;
	kt->size = 0;
}

const nn_id *nn_routing_kt_self(const nn_routing_kt *kt) { return &kt->self; }

/* ---- index lists (MRU arrays of pool indices) ---- */

static int list_find(const nn_routing_kt *kt, const uint16_t *list, size_t n, const nn_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (nn_kad_id_eq(&kt->pool[list[i]].c.id, id))
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

/* ---- pool ---- */

static void release(nn_routing_kt *kt, uint16_t idx) { kt->free_stack[kt->nfree++] = idx; }

/* A free slot; recycles the oldest cache entry of the longest cache when the pool is empty. */
static int acquire(nn_routing_kt *kt, uint16_t *idx)
{
	if (kt->nfree == 0) {
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
		release(kt, b->cache[--b->ncache]);
	}
	*idx = kt->free_stack[--kt->nfree];
	return 0;
}

static bool subnet_fits(const nn_routing_kt *kt, const nn_routing_kt_entry *e)
{
	return !e->has_subnet || nn_routing_subnets_count(&kt->subnets, e->subnet) < kt->subnet_cap;
}

static void count_subnet(nn_routing_kt *kt, const nn_routing_kt_entry *e)
{
	if (e->has_subnet)
		(void)nn_routing_subnets_inc(&kt->subnets, e->subnet); /* sized for every entry */
}

static void uncount_subnet(nn_routing_kt *kt, const nn_routing_kt_entry *e)
{
	if (e->has_subnet)
		nn_routing_subnets_dec(&kt->subnets, e->subnet);
}

/* ---- merging an observation into a stored entry ---- */

static bool addrs_equal(const nn_routing_contact *a, const nn_routing_contact *b, size_t nb)
{
	if (a->naddrs != nb)
		return false;
	for (size_t i = 0; i < nb; i++)
		if (!nn_addr_eq(&a->addrs[i], &b->addrs[i]))
			return false;
	return true;
}

/* Replace e's addresses with c's, unless that moves a live entry into a full subnet. */
static bool set_addrs(nn_routing_kt *kt, nn_routing_kt_entry *e, const nn_routing_contact *c,
		      size_t n, bool live)
{
	nn_routing_contact tmp;
	tmp.naddrs = (uint8_t)n;
	memcpy(tmp.addrs, c->addrs, n * sizeof c->addrs[0]);
	uint8_t key[16] = {0};
	bool has = nn_routing_contact_subnet(&tmp, kt->subnet_fn, kt->subnet_user, key);
	bool moves = has != e->has_subnet || (has && memcmp(key, e->subnet, 16) != 0);
	if (live && moves && has && nn_routing_subnets_count(&kt->subnets, key) >= kt->subnet_cap)
		return false;
	if (live && moves)
		uncount_subnet(kt, e);
	memcpy(e->c.addrs, c->addrs, n * sizeof c->addrs[0]);
	e->c.naddrs = (uint8_t)n;
	memcpy(e->subnet, key, 16);
	e->has_subnet = has;
	if (live && moves)
		count_subnet(kt, e);
	return true;
}

/* Returns true when the entry changed or was refreshed. */
static bool merge(nn_routing_kt *kt, nn_routing_kt_entry *e, const nn_routing_contact *c,
		  nn_routing_source src, nn_time now, bool live)
{
	bool was_keyed = !nn_routing_key_is_zero(e->c.ed_pub);
	bool changed = false;
	size_t n = c->naddrs < NN_ROUTING_CONTACT_ADDRS ? c->naddrs : NN_ROUTING_CONTACT_ADDRS;
	if (!was_keyed && !nn_routing_key_is_zero(c->ed_pub)) {
		memcpy(e->c.ed_pub, c->ed_pub, NN_ED_PUB_LEN); /* binding checked by the caller */
		changed = true;
	}
	if (src == NN_ROUTING_SRC_SELF) {
		if (n > 0 && !addrs_equal(&e->c, c, n))
			(void)set_addrs(kt, e, c, n, live);
		if (c->caps)
			e->c.caps = c->caps;
		e->last_seen = now;
		return true;
	}
	/* A third party's hint: never rewrites a keyed contact, never refreshes last-seen. It may
	 * fill in what a keyless contact lacks. */
	if (was_keyed)
		return changed;
	if (e->c.naddrs == 0 && n > 0 && set_addrs(kt, e, c, n, live))
		changed = true;
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
	size_t n = c->naddrs < NN_ROUTING_CONTACT_ADDRS ? c->naddrs : NN_ROUTING_CONTACT_ADDRS;
	memcpy(e->c.addrs, c->addrs, n * sizeof c->addrs[0]);
	e->c.naddrs = (uint8_t)n;
	e->has_subnet = nn_routing_contact_subnet(&e->c, kt->subnet_fn, kt->subnet_user, e->subnet);
	e->last_seen = now;
}

/* Move the freshest cached candidate whose subnet fits into the bucket. */
static void promote(nn_routing_kt *kt, nn_routing_kt_bucket *b)
{
	while (b->nlive < NN_ROUTING_K) {
		size_t i = 0;
		while (i < b->ncache && !subnet_fits(kt, &kt->pool[b->cache[i]]))
			i++;
		if (i == b->ncache)
			return;
		uint16_t idx = b->cache[i];
		list_remove_at(b->cache, &b->ncache, i);
		list_push_front(b->live, &b->nlive, idx);
		count_subnet(kt, &kt->pool[idx]);
		kt->size++;
	}
}

static void remove_live(nn_routing_kt *kt, nn_routing_kt_bucket *b, size_t i)
{
	uint16_t idx = b->live[i];
	uncount_subnet(kt, &kt->pool[idx]);
	list_remove_at(b->live, &b->nlive, i);
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

	int i = list_find(kt, b->live, b->nlive, &c->id);
	if (i >= 0) {
		if (!merge(kt, &kt->pool[b->live[i]], c, src, now, true))
			return NN_ROUTING_OBS_IGNORED;
		if (src == NN_ROUTING_SRC_SELF)
			list_to_front(b->live, (size_t)i);
		return NN_ROUTING_OBS_REFRESHED;
	}

	i = list_find(kt, b->cache, b->ncache, &c->id);
	if (i >= 0) {
		(void)merge(kt, &kt->pool[b->cache[i]], c, src, now, false);
		if (src == NN_ROUTING_SRC_SELF)
			list_to_front(b->cache, (size_t)i);
		if (b->nlive < NN_ROUTING_K) {
			promote(kt, b);
			return nn_routing_kt_get(kt, &c->id, NULL) ? NN_ROUTING_OBS_ADDED
								   : NN_ROUTING_OBS_IGNORED;
		}
		if (incumbent)
			*incumbent = kt->pool[b->live[b->nlive - 1]].c.id;
		return NN_ROUTING_OBS_NEED_PROBE;
	}

	/* A newcomer. */
	if (kt->pow > 0 && (nn_routing_key_is_zero(c->ed_pub) || !nn_pow_ok(&c->id, kt->pow)))
		return NN_EPOW;
	nn_routing_kt_entry probe;
	fill_entry(kt, &probe, c, now);
	if (!subnet_fits(kt, &probe))
		return NN_ELIMIT;
	uint16_t idx;
	if (b->nlive < NN_ROUTING_K) {
		if ((rc = acquire(kt, &idx)) < 0)
			return rc;
		kt->pool[idx] = probe;
		list_push_front(b->live, &b->nlive, idx);
		count_subnet(kt, &probe);
		kt->size++;
		return NN_ROUTING_OBS_ADDED;
	}
	if (b->ncache == NN_ROUTING_K)
		release(kt, b->cache[--b->ncache]); /* drop the oldest candidate */
	if ((rc = acquire(kt, &idx)) < 0)
		return rc;
	kt->pool[idx] = probe;
	list_push_front(b->cache, &b->ncache, idx);
	if (incumbent)
		*incumbent = kt->pool[b->live[b->nlive - 1]].c.id;
	return NN_ROUTING_OBS_NEED_PROBE;
}

int nn_routing_kt_confirm(nn_routing_kt *kt, const nn_id *incumbent, bool alive, nn_time now)
{
	if (!kt || !incumbent || nn_kad_id_eq(incumbent, &kt->self))
		return NN_EINVAL;
	nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, incumbent)];
	int i = list_find(kt, b->live, b->nlive, incumbent);
	if (i < 0)
		return NN_ENOENT;
	if (alive) {
		kt->pool[b->live[i]].last_seen = now;
		list_to_front(b->live, (size_t)i);
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
	int i = list_find(kt, b->live, b->nlive, id);
	if (i >= 0) {
		remove_live(kt, b, (size_t)i);
		promote(kt, b);
		return 0;
	}
	i = list_find(kt, b->cache, b->ncache, id);
	if (i < 0)
		return NN_ENOENT;
	uint16_t idx = b->cache[i];
	list_remove_at(b->cache, &b->ncache, (size_t)i);
	release(kt, idx);
	return 0;
}

int nn_routing_kt_bind_xpub(nn_routing_kt *kt, const nn_id *id, const uint8_t x_pub[NN_X_PUB_LEN])
{
	if (!kt || !id || !x_pub || nn_kad_id_eq(id, &kt->self))
		return NN_EINVAL;
	nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, id)];
	int i = list_find(kt, b->live, b->nlive, id);
	uint16_t idx;
	if (i >= 0) {
		idx = b->live[i];
	} else {
		i = list_find(kt, b->cache, b->ncache, id);
		if (i < 0)
			return NN_ENOENT;
		idx = b->cache[i];
	}
	memcpy(kt->pool[idx].c.x_pub, x_pub, NN_X_PUB_LEN);
	return 0;
}

const nn_routing_contact *nn_routing_kt_get(const nn_routing_kt *kt, const nn_id *id,
					    nn_time *last_seen)
{
	if (!kt || !id || nn_kad_id_eq(id, &kt->self))
		return NULL;
	const nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, id)];
	int i = list_find(kt, b->live, b->nlive, id);
	if (i < 0)
		return NULL;
	if (last_seen)
		*last_seen = kt->pool[b->live[i]].last_seen;
	return &kt->pool[b->live[i]].c;
}

bool nn_routing_kt_is_cached(const nn_routing_kt *kt, const nn_id *id)
{
	if (!kt || !id || nn_kad_id_eq(id, &kt->self))
		return false;
	const nn_routing_kt_bucket *b = &kt->b[nn_kad_cpl(&kt->self, id)];
	return list_find(kt, b->cache, b->ncache, id) >= 0;
}
