/* fill.c — which contacts to dial next: siblings first, then long-range fingers spread across
 * buckets and, inside a bucket, across sub-prefixes (policy; see edges.h). */
#include <string.h>

#include "routing/edges_impl.h"

typedef struct fill_ctx {
	nn_routing_edges *e;
	const nn_routing_kt *kt;
	nn_routing_skip_fn skip;
	void *user;
	nn_id *out;
	size_t k;
	uint16_t off[NN_ROUTING_BUCKETS + 1]; /* edges of bucket b: scratch[off[b]..off[b+1]) */
	uint8_t picks[NN_ROUTING_BUCKETS];
	bool exhausted[NN_ROUTING_BUCKETS];
} fill_ctx;

static void group_edges_by_bucket(fill_ctx *f)
{
	nn_routing_edges *e = f->e;
	uint16_t cnt[NN_ROUTING_BUCKETS] = {0};
	for (size_t i = 0; i < e->len; i++)
		cnt[e->edge[i].bucket]++;
	f->off[0] = 0;
	for (unsigned b = 0; b < NN_ROUTING_BUCKETS; b++)
		f->off[b + 1] = (uint16_t)(f->off[b] + cnt[b]);
	uint16_t pos[NN_ROUTING_BUCKETS];
	memcpy(pos, f->off, sizeof pos);
	for (size_t i = 0; i < e->len; i++)
		e->scratch[pos[e->edge[i].bucket]++] = (uint16_t)i;
}

static bool picked(const fill_ctx *f, const nn_id *id)
{
	for (size_t i = 0; i < f->k; i++)
		if (nn_kad_id_eq(&f->out[i], id))
			return true;
	return false;
}

static bool eligible(const fill_ctx *f, const nn_routing_kc *c)
{
	return c->naddrs > 0 && nn_routing_edges_index_of(f->e, &c->id) < 0 && !picked(f, &c->id) &&
	       !(f->skip && f->skip(f->user, &c->id));
}

/* Live edges plus picks so far in the contact's subnet is below the live subnet cap. */
static bool subnet_ok(const fill_ctx *f, const nn_routing_kc *c)
{
	uint8_t key[16];
	if (!nn_routing_kc_subnet(c, f->e->subnet_fn, f->e->subnet_user, key))
		return true;
	size_t n = 0;
	for (size_t i = 0; i < f->e->len; i++)
		if (f->e->edge[i].has_subnet && !memcmp(f->e->edge[i].subnet, key, 16))
			n++;
	for (size_t i = 0; i < f->k && n < NN_ROUTING_LIVE_SUBNET_CAP; i++) {
		const nn_routing_kc *p = nn_routing_kt_get(f->kt, &f->out[i], NULL);
		uint8_t pk[16];
		if (p && nn_routing_kc_subnet(p, f->e->subnet_fn, f->e->subnet_user, pk) &&
		    !memcmp(pk, key, 16))
			n++;
	}
	return n < NN_ROUTING_LIVE_SUBNET_CAP;
}

static void take(fill_ctx *f, const nn_id *id)
{
	f->out[f->k++] = *id;
	unsigned b = nn_kad_cpl(&f->e->self, id);
	if (b < NN_ROUTING_BUCKETS && f->picks[b] < UINT8_MAX)
		f->picks[b]++;
}

/* How much c overlaps what bucket b already covers: the longest prefix it shares with a live
 * edge or a pick there. Smaller = it opens a new sub-range. */
static unsigned overlap(const fill_ctx *f, unsigned b, const nn_routing_kc *c)
{
	unsigned m = 0;
	for (uint16_t i = f->off[b]; i < f->off[b + 1]; i++) {
		unsigned l = nn_kad_cpl(&c->id, &f->e->edge[f->e->scratch[i]].id);
		if (l > m)
			m = l;
	}
	for (size_t i = 0; i < f->k; i++) {
		unsigned l = nn_kad_cpl(&c->id, &f->out[i]);
		if (l > m)
			m = l;
	}
	return m;
}

/* The best finger of bucket b, or NULL. */
static const nn_routing_kc *best_in_bucket(const fill_ctx *f, unsigned b, bool strict_subnet)
{
	const nn_routing_kc *best = NULL;
	unsigned best_ov = 0;
	size_t n = nn_routing_kt_bucket_len(f->kt, b);
	for (size_t i = 0; i < n; i++) {
		const nn_routing_kc *c = nn_routing_kt_bucket_at(f->kt, b, i);
		if (!eligible(f, c))
			continue;
		unsigned ov = overlap(f, b, c);
		if (best && ov >= best_ov)
			continue;
		if (strict_subnet && !subnet_ok(f, c))
			continue;
		best = c;
		best_ov = ov;
	}
	return best;
}

static void fingers(fill_ctx *f, size_t want, bool strict_subnet)
{
	memset(f->exhausted, 0, sizeof f->exhausted);
	while (f->k < want) {
		int bb = -1;
		const nn_routing_kc *bc = NULL;
		size_t bload = SIZE_MAX;
		for (unsigned b = 0; b < NN_ROUTING_BUCKETS; b++) {
			if (f->exhausted[b] || nn_routing_kt_bucket_len(f->kt, b) == 0)
				continue;
			size_t load = (size_t)(f->off[b + 1] - f->off[b]) + f->picks[b];
			if (load >= bload)
				continue; /* ties keep the farther (lower) bucket */
			const nn_routing_kc *c = best_in_bucket(f, b, strict_subnet);
			if (!c) {
				f->exhausted[b] = true;
				continue;
			}
			bb = (int)b;
			bc = c;
			bload = load;
		}
		if (bb < 0)
			return;
		take(f, &bc->id);
	}
}

size_t nn_routing_edges_fill(nn_routing_edges *e, const nn_routing_kt *kt, size_t want,
			     nn_routing_skip_fn skip, void *user, nn_id *out)
{
	if (!e || !kt || !out || want == 0)
		return 0;
	fill_ctx f;
	memset(&f, 0, sizeof f);
	f.e = e;
	f.kt = kt;
	f.skip = skip;
	f.user = user;
	f.out = out;
	group_edges_by_bucket(&f);

	/* 1. The siblings-to-be: the closest known contacts to self. */
	const nn_routing_kc *sib[NN_ROUTING_SIBLINGS];
	size_t ns = nn_routing_kt_closest(kt, &e->self, NN_ROUTING_SIBLINGS, sib);
	for (int strict = 1; strict >= 0; strict--)
		for (size_t i = 0; i < ns && f.k < want; i++)
			if (eligible(&f, sib[i]) && (!strict || subnet_ok(&f, sib[i])))
				take(&f, &sib[i]->id);
	/* 2. Fingers across buckets; subnet diversity first, then anything. */
	fingers(&f, want, true);
	fingers(&f, want, false);
	return f.k;
}
