/* knowledge_query.c — the knowledge table's read side: closest (bucket walk), refresh targets,
 * introspection. */
#include "routing/knowledge_impl.h"

/* Insert c into the sorted top-n out[0..*k). */
static void consider(const nn_id *t, const nn_routing_kc **out, size_t *k, size_t n,
		     const nn_routing_kc *c)
{
	if (*k == n && nn_kad_cmp_distance(t, &c->id, &out[n - 1]->id) >= 0)
		return;
	size_t j = *k < n ? (*k)++ : n - 1;
	while (j > 0 && nn_kad_cmp_distance(t, &c->id, &out[j - 1]->id) < 0) {
		out[j] = out[j - 1];
		j--;
	}
	out[j] = c;
}

static void scan(const nn_routing_kt *kt, unsigned bi, const nn_id *t,
		 const nn_routing_kc **out, size_t *k, size_t n)
{
	const nn_routing_kt_bucket *b = &kt->b[bi];
	for (size_t i = 0; i < b->nlive; i++)
		consider(t, out, k, n, &nn_kt_e(kt, nn_kt_live(kt, b)[i])->c);
}

size_t nn_routing_kt_closest(const nn_routing_kt *kt, const nn_id *target, size_t n,
			     const nn_routing_kc **out)
{
	if (!kt || !target || !out || n == 0)
		return 0;
	size_t k = 0;
	unsigned c = nn_kad_cpl(&kt->self, target);
	/* Bucket c (if any) holds everything closer than 2^(255-c); the deeper buckets together
	 * come next; then each shallower bucket is wholly farther than the one before it. */
	if (c < NN_ROUTING_BUCKETS) {
		scan(kt, c, target, out, &k, n);
		if (k == n)
			return k;
		for (unsigned i = c + 1; i < NN_ROUTING_BUCKETS; i++)
			scan(kt, i, target, out, &k, n);
	}
	for (unsigned i = c; i-- > 0 && k < n;)
		scan(kt, i, target, out, &k, n);
	return k;
}

static bool older_than(nn_time now, nn_time then, nn_time age)
{
	/* now - then >= age without overflow (then <= now assumed; later means "not stale"). */
	if (then > now)
		return false;
	return (uint64_t)now - (uint64_t)then >= (uint64_t)(age < 0 ? 0 : age);
}

int nn_routing_kt_refresh_target(nn_routing_kt *kt, nn_time now, nn_time stale_after,
				 const uint8_t rnd[NN_ID_LEN], nn_id *out)
{
	if (!kt || !rnd || !out)
		return NN_EINVAL;
	/* empty buckets farther out than the deepest one holding two or more contacts are due
	 * too: each of them should hold at least twice as many nodes, so their emptiness is a gap
	 * in our knowledge, not in the network (a lone contact sharing a long prefix with us, say
	 * an adversary's, does not make every bucket before it look empty) */
	unsigned populated = 0;
	for (unsigned i = 0; i < NN_ROUTING_BUCKETS; i++)
		if (kt->b[i].nlive >= 2)
			populated = i;
	int best = -1;
	for (unsigned i = 0; i < NN_ROUTING_BUCKETS; i++) {
		nn_routing_kt_bucket *b = &kt->b[i];
		if (b->nlive == 0 && i >= populated)
			continue;
		if (!b->lists && nn_kt_bucket_lists(kt, b) < 0)
			continue; /* an empty bucket's refresh time needs its lists */
		const nn_routing_kt_lists *l = nn_kt_lists(kt, b);
		if (!l->refreshed_ever) {
			best = (int)i;
			break;
		}
		if (!older_than(now, l->refreshed, stale_after))
			continue;
		if (best < 0 || l->refreshed < nn_kt_lists(kt, &kt->b[best])->refreshed)
			best = (int)i;
	}
	if (best < 0)
		return NN_ENOENT;
	nn_routing_kt_lists *bl = nn_kt_lists(kt, &kt->b[best]);
	bl->refreshed_ever = true;
	bl->refreshed = now;
	int rc = nn_kad_random_in_bucket(out, &kt->self, (unsigned)best, rnd);
	return rc < 0 ? rc : best;
}

size_t nn_routing_kt_bucket_len(const nn_routing_kt *kt, unsigned bucket)
{
	return bucket < NN_ROUTING_BUCKETS ? kt->b[bucket].nlive : 0;
}

const nn_routing_kc *nn_routing_kt_bucket_at(const nn_routing_kt *kt, unsigned bucket,
						  size_t i)
{
	if (bucket >= NN_ROUTING_BUCKETS || i >= kt->b[bucket].nlive)
		return NULL;
	return &nn_kt_e(kt, nn_kt_live(kt, &kt->b[bucket])[i])->c;
}

size_t nn_routing_kt_cache_len(const nn_routing_kt *kt, unsigned bucket)
{
	return bucket < NN_ROUTING_BUCKETS ? kt->b[bucket].ncache : 0;
}

size_t nn_routing_kt_size(const nn_routing_kt *kt) { return kt->size; }

unsigned nn_routing_kt_subnet_count(const nn_routing_kt *kt, const uint8_t key[16])
{
	return nn_routing_subnets_count(&kt->subnets, key);
}

size_t nn_routing_kt_bytes(const nn_routing_kt *kt)
{
	if (!kt)
		return 0;
	size_t b = sizeof *kt + kt->alloc * (sizeof *kt->ent + sizeof *kt->free_stack) +
		   (kt->subnets.mask + 1) * sizeof *kt->subnets.slots +
		   kt->caplists * sizeof *kt->lists;
	for (unsigned c = 0; c < NN_KT_CLASSES; c++)
		b += kt->cls[c].bytes;
	return b;
}
