/* dedup.c — two-generation signature cache. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "routing/dedup.h"

int nn_routing_dedup_init(nn_routing_dedup *d, size_t capacity, nn_time period,
			  const uint8_t key[16])
{
	if (!d || !key || period < 0)
		return NN_EINVAL;
	memset(d, 0, sizeof *d);
	if (!capacity)
		capacity = 4096;
	if (capacity > ((size_t)1 << 24))
		return NN_EINVAL;
	size_t slots = 16;
	while (slots < 2 * capacity)
		slots <<= 1;
	for (int g = 0; g < 2; g++) {
		d->slots[g] = calloc(slots, sizeof *d->slots[g]);
		if (!d->slots[g]) {
			nn_routing_dedup_free(d);
			return NN_ENOMEM;
		}
	}
	d->mask = slots - 1;
	d->gen_cap = capacity;
	d->period = period ? period : 2 * NN_ROUTING_MAX_AGE;
	memcpy(d->key, key, 16);
	return 0;
}

void nn_routing_dedup_free(nn_routing_dedup *d)
{
	if (!d)
		return;
	free(d->slots[0]);
	free(d->slots[1]);
	d->slots[0] = d->slots[1] = NULL;
}

static void clear_gen(nn_routing_dedup *d, int g)
{
	memset(d->slots[g], 0, (d->mask + 1) * sizeof *d->slots[g]);
	d->n[g] = 0;
}

static void rotate(nn_routing_dedup *d, nn_time now)
{
	d->cur ^= 1;
	clear_gen(d, d->cur);
	d->start = now;
}

static bool elapsed(nn_time now, nn_time then, nn_time p)
{
	return now > then && (uint64_t)now - (uint64_t)then >= (uint64_t)p;
}

/* Slot of sig in generation g: where it is, or the empty slot where it would go. */
static size_t probe(const nn_routing_dedup *d, int g, size_t h, const uint8_t *sig, bool *found)
{
	size_t i = h & d->mask;
	while (d->slots[g][i].used) {
		if (!memcmp(d->slots[g][i].sig, sig, NN_ED_SIG_LEN)) {
			*found = true;
			return i;
		}
		i = (i + 1) & d->mask;
	}
	*found = false;
	return i;
}

int nn_routing_dedup_check(nn_routing_dedup *d, const uint8_t sig[NN_ED_SIG_LEN], nn_time now)
{
	if (!d || !sig || !d->slots[0])
		return NN_EINVAL;
	if (!d->started) {
		d->started = true;
		d->start = now;
	} else if (elapsed(now, d->start, d->period)) {
		/* Two periods or more since the current generation began: both are stale. */
		bool both = (uint64_t)now - (uint64_t)d->start - (uint64_t)d->period >=
			    (uint64_t)d->period;
		rotate(d, now);
		if (both)
			clear_gen(d, d->cur ^ 1);
	}
	uint8_t hb[crypto_shorthash_BYTES];
	crypto_shorthash(hb, sig, NN_ED_SIG_LEN, d->key);
	uint64_t h;
	memcpy(&h, hb, sizeof h);
	bool found;
	(void)probe(d, d->cur ^ 1, (size_t)h, sig, &found);
	if (found)
		return NN_EREPLAY;
	size_t i = probe(d, d->cur, (size_t)h, sig, &found);
	if (found)
		return NN_EREPLAY;
	if (d->n[d->cur] >= d->gen_cap) {
		d->early_rotations++;
		rotate(d, now);
		i = probe(d, d->cur, (size_t)h, sig, &found);
	}
	memcpy(d->slots[d->cur][i].sig, sig, NN_ED_SIG_LEN);
	d->slots[d->cur][i].used = 1;
	d->n[d->cur]++;
	return 0;
}

uint64_t nn_routing_dedup_early_rotations(const nn_routing_dedup *d) { return d->early_rotations; }
