/* dedup.c — two-generation table of keyed signature fingerprints. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "routing/dedup.h"

#define DEDUP_MAX_CAP ((size_t)1 << 24)

static size_t slots_for(size_t cap)
{
	size_t slots = 16;
	while (slots < 2 * cap)
		slots <<= 1;
	return slots;
}

/* (Re)allocate generation g for cap records, empty. */
static int gen_alloc(nn_routing_dedup *d, int g, size_t cap)
{
	size_t slots = slots_for(cap);
	nn_routing_dedup_slot *p = calloc(slots, sizeof *p);
	if (!p)
		return NN_ENOMEM;
	free(d->slots[g]);
	d->slots[g] = p;
	d->mask[g] = slots - 1;
	d->cap[g] = cap;
	d->n[g] = 0;
	return 0;
}

int nn_routing_dedup_init(nn_routing_dedup *d, size_t capacity, nn_time period,
			  const uint8_t key[16])
{
	if (!d || !key || period < 0)
		return NN_EINVAL;
	memset(d, 0, sizeof *d);
	if (!capacity)
		capacity = 4096;
	if (capacity > DEDUP_MAX_CAP)
		return NN_EINVAL;
	for (int g = 0; g < 2; g++) {
		if (gen_alloc(d, g, capacity) < 0) {
			nn_routing_dedup_free(d);
			return NN_ENOMEM;
		}
	}
	d->max_cap = capacity;
	d->min_cap = capacity;
	d->period = period ? period : 2 * NN_ROUTING_MAX_AGE;
	memcpy(d->key, key, 16);
	return 0;
}

int nn_routing_dedup_set_growth(nn_routing_dedup *d, size_t max_capacity)
{
	if (!d || !d->slots[0] || max_capacity > DEDUP_MAX_CAP)
		return NN_EINVAL;
	d->max_cap = max_capacity > d->cap[d->cur] ? max_capacity : d->cap[d->cur];
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
	memset(d->slots[g], 0, (d->mask[g] + 1) * sizeof *d->slots[g]);
	d->n[g] = 0;
}

/* The current generation ends: the older one is emptied and becomes the current one, at its
 * own size (a trim may have made it smaller); this never allocates. */
static void rotate(nn_routing_dedup *d, nn_time now)
{
	d->cur ^= 1;
	clear_gen(d, d->cur);
	d->start = now;
}

/* Re-insert every record of generation g into a table with room for cap records. */
static int gen_resize(nn_routing_dedup *d, int g, size_t cap)
{
	static const uint8_t zero[NN_ROUTING_DEDUP_FP];
	size_t slots = slots_for(cap);
	nn_routing_dedup_slot *p = calloc(slots, sizeof *p);
	if (!p)
		return NN_ENOMEM;
	for (size_t i = 0; i <= d->mask[g]; i++) {
		const uint8_t *fp = d->slots[g][i].fp;
		if (!memcmp(fp, zero, sizeof zero))
			continue;
		uint64_t h;
		memcpy(&h, fp, sizeof h);
		size_t j = (size_t)h & (slots - 1);
		while (memcmp(p[j].fp, zero, sizeof zero))
			j = (j + 1) & (slots - 1);
		memcpy(p[j].fp, fp, NN_ROUTING_DEDUP_FP);
	}
	free(d->slots[g]);
	d->slots[g] = p;
	d->mask[g] = slots - 1;
	d->cap[g] = cap;
	return 0;
}

size_t nn_routing_dedup_trim(nn_routing_dedup *d)
{
	if (!d || !d->slots[0])
		return 0;
	int g = d->cur ^ 1;
	size_t n = d->n[0] > d->n[1] ? d->n[0] : d->n[1];
	size_t cap = d->cap[g];
	while (cap / 2 >= d->min_cap && n * 4 <= cap)
		cap /= 2;
	if (cap == d->cap[g] || gen_resize(d, g, cap) < 0)
		return 0;
	return cap;
}

/* The current generation filled before its period and the growth limit allows more room: both
 * generations double, keeping every record (at most log2(max/cap) times between trims; if
 * an allocation fails the old size is kept and the caller rotates early). */
static bool grow(nn_routing_dedup *d)
{
	size_t want = d->cap[d->cur];
	if (want >= d->max_cap)
		return false;
	want = want * 2 < d->max_cap ? want * 2 : d->max_cap;
	if (d->cap[d->cur ^ 1] < want && gen_resize(d, d->cur ^ 1, want) < 0)
		return false;
	return gen_resize(d, d->cur, want) == 0;
}

static bool elapsed(nn_time now, nn_time then, nn_time p)
{
	return now > then && (uint64_t)now - (uint64_t)then >= (uint64_t)p;
}

static void age(nn_routing_dedup *d, nn_time now)
{
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
}

static void fingerprint(const nn_routing_dedup *d, const uint8_t *sig,
			uint8_t fp[NN_ROUTING_DEDUP_FP])
{
	crypto_generichash(fp, NN_ROUTING_DEDUP_FP, sig, NN_ED_SIG_LEN, d->key, sizeof d->key);
	static const uint8_t zero[NN_ROUTING_DEDUP_FP];
	if (!memcmp(fp, zero, sizeof zero))
		fp[0] = 1; /* all zero marks an empty slot */
}

/* Slot of fp in generation g: where it is, or the empty slot where it would go. */
static size_t probe(const nn_routing_dedup *d, int g, const uint8_t *fp, bool *found)
{
	static const uint8_t zero[NN_ROUTING_DEDUP_FP];
	uint64_t h;
	memcpy(&h, fp, sizeof h);
	size_t i = (size_t)h & d->mask[g];
	while (memcmp(d->slots[g][i].fp, zero, sizeof zero)) {
		if (!memcmp(d->slots[g][i].fp, fp, NN_ROUTING_DEDUP_FP)) {
			*found = true;
			return i;
		}
		i = (i + 1) & d->mask[g];
	}
	*found = false;
	return i;
}

bool nn_routing_dedup_seen(nn_routing_dedup *d, const uint8_t sig[NN_ED_SIG_LEN], nn_time now)
{
	if (!d || !sig || !d->slots[0])
		return false;
	age(d, now);
	uint8_t fp[NN_ROUTING_DEDUP_FP];
	fingerprint(d, sig, fp);
	bool found;
	(void)probe(d, d->cur ^ 1, fp, &found);
	if (!found)
		(void)probe(d, d->cur, fp, &found);
	return found;
}

int nn_routing_dedup_check(nn_routing_dedup *d, const uint8_t sig[NN_ED_SIG_LEN], nn_time now)
{
	if (!d || !sig || !d->slots[0])
		return NN_EINVAL;
	age(d, now);
	uint8_t fp[NN_ROUTING_DEDUP_FP];
	fingerprint(d, sig, fp);
	bool found;
	(void)probe(d, d->cur ^ 1, fp, &found);
	if (found)
		return NN_EREPLAY;
	size_t i = probe(d, d->cur, fp, &found);
	if (found)
		return NN_EREPLAY;
	if (d->n[d->cur] >= d->cap[d->cur]) {
		if (!grow(d)) {
			d->early_rotations++;
			rotate(d, now);
		}
		i = probe(d, d->cur, fp, &found);
	}
	memcpy(d->slots[d->cur][i].fp, fp, NN_ROUTING_DEDUP_FP);
	d->n[d->cur]++;
	return 0;
}

uint64_t nn_routing_dedup_early_rotations(const nn_routing_dedup *d) { return d->early_rotations; }

size_t nn_routing_dedup_bytes(const nn_routing_dedup *d)
{
	if (!d || !d->slots[0])
		return 0;
	return (d->mask[0] + d->mask[1] + 2) * sizeof(nn_routing_dedup_slot);
}
