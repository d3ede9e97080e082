/* hub.c — the in-memory hub: endpoint registry by name, link profiles, partitions. */
#include <stdlib.h>
#include <string.h>

#include "transport/mem/mem_int.h"

nn_mem_link nn_mem_link_default(void)
{
	return (nn_mem_link){
		.latency = 1 * NN_MS,
		.queue_frames = 64,
		.mtu = 1252,
	};
}

nn_mem_hub *nn_mem_hub_new(nn_clock *clk, nn_pool *pool, const nn_mem_link *dflt)
{
	nn_mem_hub *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->clk = clk;
	h->pool = pool;
	h->stall_timeout = 5 * NN_SEC;
	nn_mem_link_set_default(h, dflt);
	return h;
}

void nn_mem_link_set_default(nn_mem_hub *h, const nn_mem_link *l)
{
	h->dflt = l ? *l : nn_mem_link_default();
	if (h->dflt.queue_frames == 0)
		h->dflt.queue_frames = 1;
}

void nn_mem_hub_free(nn_mem_hub *h)
{
	if (!h)
		return;
	while (h->neps)
		nn_tp_destroy(&h->eps[h->neps - 1]->tp);
	free(h->eps);
	free(h->names);
	free(h->ov);
	free(h);
}

void nn_mem_hub_set_stall_timeout(nn_mem_hub *h, nn_time t) { h->stall_timeout = t; }

const nn_mem_hub_stats *nn_mem_hub_stats_of(const nn_mem_hub *h) { return &h->st; }

static uint32_t name_hash(const char *s, size_t n)
{
	uint32_t x = 2166136261u;
	for (size_t i = 0; i < n; i++)
		x = (x ^ (uint8_t)s[i]) * 16777619u;
	return x;
}

static void names_put(mem_ep **tab, uint32_t cap, mem_ep *ep)
{
	uint32_t i = name_hash(ep->addr.ep, ep->addr.ep_len) & (cap - 1);
	while (tab[i])
		i = (i + 1) & (cap - 1);
	tab[i] = ep;
}

static int names_grow(nn_mem_hub *h)
{
	uint32_t ncap = h->capnames ? h->capnames * 2 : 64;
	mem_ep **t = calloc(ncap, sizeof *t);
	if (!t)
		return NN_ENOMEM;
	for (uint32_t i = 0; i < h->capnames; i++)
		if (h->names[i])
			names_put(t, ncap, h->names[i]);
	free(h->names);
	h->names = t;
	h->capnames = ncap;
	return 0;
}

static mem_ep *names_find(const nn_mem_hub *h, const char *name, size_t n, uint32_t *slot)
{
	if (!h->capnames)
		return NULL;
	uint32_t i = name_hash(name, n) & (h->capnames - 1);
	while (h->names[i]) {
		const mem_ep *e = h->names[i];
		if (e->addr.ep_len == n && !memcmp(e->addr.ep, name, n)) {
			if (slot)
				*slot = i;
			return h->names[i];
		}
		i = (i + 1) & (h->capnames - 1);
	}
	return NULL;
}

mem_ep *mem_hub_lookup(nn_mem_hub *h, const nn_addr *a)
{
	if (a->net_len != 3 || memcmp(a->net, "mem", 3))
		return NULL;
	mem_ep *e = names_find(h, a->ep, a->ep_len, NULL);
	for (uint32_t i = 0; !e && h->naliases && i < h->neps; i++) {
		const nn_addr *al = &h->eps[i]->alias;
		if (al->ep_len && al->ep_len == a->ep_len && !memcmp(al->ep, a->ep, a->ep_len))
			e = h->eps[i];
	}
	return e;
}

int nn_mem_endpoint_set_alias(nn_tp *tp, const char *name)
{
	mem_ep *ep = (mem_ep *)tp;
	nn_mem_hub *h = ep->hub;
	if (!name) {
		if (ep->alias.ep_len)
			h->naliases--;
		memset(&ep->alias, 0, sizeof ep->alias);
		return 0;
	}
	nn_addr a;
	int rc = nn_addr_set(&a, "mem", name);
	if (rc < 0)
		return rc;
	if (mem_hub_lookup(h, &a))
		return NN_EEXIST;
	if (!ep->alias.ep_len)
		h->naliases++;
	ep->alias = a;
	return 0;
}

int mem_hub_add(nn_mem_hub *h, mem_ep *ep)
{
	if (mem_hub_lookup(h, &ep->addr)) /* a name or an alias */
		return NN_EEXIST;
	if ((h->neps + 1) * 2 > h->capnames && names_grow(h) != 0)
		return NN_ENOMEM;
	if (h->neps == h->capeps) {
		uint32_t ncap = h->capeps ? h->capeps * 2 : 64;
		mem_ep **e = realloc(h->eps, ncap * sizeof *e);
		if (!e)
			return NN_ENOMEM;
		h->eps = e;
		h->capeps = ncap;
	}
	names_put(h->names, h->capnames, ep);
	ep->index = h->neps;
	ep->serial = ++h->next_serial;
	h->eps[h->neps++] = ep;
	h->st.endpoints = h->neps;
	return 0;
}

void mem_hub_remove(nn_mem_hub *h, mem_ep *ep)
{
	uint32_t slot;
	if (names_find(h, ep->addr.ep, ep->addr.ep_len, &slot) != ep)
		return;
	/* backward-shift deletion keeps linear probing intact */
	uint32_t m = h->capnames - 1, i = slot, j = slot;
	h->names[i] = NULL;
	for (;;) {
		j = (j + 1) & m;
		mem_ep *e = h->names[j];
		if (!e)
			break;
		uint32_t k = name_hash(e->addr.ep, e->addr.ep_len) & m;
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			h->names[i] = e;
			h->names[j] = NULL;
			i = j;
		}
	}
	if (ep->alias.ep_len)
		h->naliases--;
	mem_ep *last = h->eps[--h->neps];
	h->eps[ep->index] = last;
	last->index = ep->index;
	h->st.endpoints = h->neps;
}

/* ---- per-direction link overrides: open addressing keyed by (from serial, to serial) ---- */

static uint64_t ov_key(const mem_ep *from, const mem_ep *to)
{
	return ((uint64_t)from->serial << 32) | to->serial;
}

static uint32_t ov_slot(uint64_t key, uint32_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (uint32_t)key & (cap - 1);
}

const nn_mem_link *mem_hub_link(const nn_mem_hub *h, const mem_ep *from, const mem_ep *to)
{
	if (!h->nov)
		return &h->dflt;
	uint64_t key = ov_key(from, to);
	for (uint32_t i = ov_slot(key, h->capov); h->ov[i].key; i = (i + 1) & (h->capov - 1))
		if (h->ov[i].key == key)
			return &h->ov[i].link;
	return &h->dflt;
}

nn_time *mem_hub_busy(nn_mem_hub *h, const mem_ep *from, const mem_ep *to, nn_time *conn_busy)
{
	if (!h->nov)
		return conn_busy;
	uint64_t key = ov_key(from, to);
	for (uint32_t i = ov_slot(key, h->capov); h->ov[i].key; i = (i + 1) & (h->capov - 1))
		if (h->ov[i].key == key)
			return h->ov[i].link.shared ? &h->ov[i].busy_until : conn_busy;
	return conn_busy;
}

static int ov_grow(nn_mem_hub *h)
{
	uint32_t ncap = h->capov ? h->capov * 2 : 16;
	mem_override *t = calloc(ncap, sizeof *t);
	if (!t)
		return NN_ENOMEM;
	for (uint32_t i = 0; i < h->capov; i++) {
		if (!h->ov[i].key)
			continue;
		uint32_t j = ov_slot(h->ov[i].key, ncap);
		while (t[j].key)
			j = (j + 1) & (ncap - 1);
		t[j] = h->ov[i];
	}
	free(h->ov);
	h->ov = t;
	h->capov = ncap;
	return 0;
}

int nn_mem_link_set(nn_mem_hub *h, const nn_tp *from, const nn_tp *to, const nn_mem_link *l)
{
	const mem_ep *f = (const mem_ep *)from, *t = (const mem_ep *)to;
	if (!l || f->hub != h || t->hub != h)
		return NN_EINVAL;
	if ((h->nov + 1) * 2 > h->capov && ov_grow(h) != 0)
		return NN_ENOMEM;
	uint64_t key = ov_key(f, t);
	uint32_t i = ov_slot(key, h->capov);
	while (h->ov[i].key && h->ov[i].key != key)
		i = (i + 1) & (h->capov - 1);
	if (!h->ov[i].key)
		h->nov++;
	h->ov[i].key = key;
	h->ov[i].link = *l;
	if (h->ov[i].link.queue_frames == 0)
		h->ov[i].link.queue_frames = 1;
	return 0;
}

bool mem_hub_cut(const nn_mem_hub *h, const mem_ep *from, const mem_ep *to)
{
	return from->group != to->group || mem_hub_link(h, from, to)->blackhole;
}

void nn_mem_partition(nn_tp *ep, uint32_t group) { ((mem_ep *)ep)->group = group; }

void nn_mem_heal(nn_mem_hub *h)
{
	for (uint32_t i = 0; i < h->neps; i++)
		h->eps[i]->group = 0;
}

nn_time mem_hub_jitter(nn_mem_hub *h, nn_time span)
{
	return span > 0 ? (nn_time)nn_clock_rand_below(h->clk, (uint64_t)span + 1) : 0;
}

bool mem_hub_chance(nn_mem_hub *h, uint32_t ppm)
{
	return ppm && nn_clock_rand_below(h->clk, 1000000) < ppm;
}

size_t nn_mem_endpoint_footprint(void) { return sizeof(mem_ep); }
size_t nn_mem_conn_footprint(void) { return sizeof(mem_conn); }

size_t nn_mem_hub_bytes(const nn_mem_hub *h)
{
	return sizeof *h + (size_t)h->capeps * sizeof *h->eps +
	       (size_t)h->capnames * sizeof *h->names + (size_t)h->capov * sizeof *h->ov +
	       (size_t)h->neps * sizeof(mem_ep) + (size_t)h->st.conns * sizeof(mem_conn);
}
