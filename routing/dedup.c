/* dedup.c — two-generation table of keyed signature fingerprints. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "routing/dedup.h"

#define DEDUP_MAX_CAP ((size_t)1 << 24)
#define DEDUP_CAP0 64 /* records a generation holds at first */
#define MOVED 0x80u   /* fp[15] bit: clear outside a rehash, marks moved entries during one */

static size_t slots_for(size_t cap)
{
	size_t slots = 16;
	while (slots < 2 * cap)
		slots <<= 1;
	return slots;
}

static size_t first_cap(size_t capacity) { return capacity < DEDUP_CAP0 ? capacity : DEDUP_CAP0; }

/* Reserve both generations for `reserve` records (zero pages: resident only once written),
 * keeping what the slots in use hold. */
static int reserve(nn_routing_dedup *d, size_t reserve)
{
	size_t slots = slots_for(reserve);
	nn_routing_dedup_slot *p[2];
	for (int g = 0; g < 2; g++) {
		p[g] = calloc(slots, sizeof *p[g]);
		if (!p[g]) {
			free(p[0]);
			return NN_ENOMEM;
		}
	}
	for (int g = 0; g < 2; g++) {
		if (d->slots[g])
			memcpy(p[g], d->slots[g], (d->mask[g] + 1) * sizeof *p[g]);
		free(d->slots[g]);
		d->slots[g] = p[g];
	}
	d->max_cap = reserve;
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
		d->cap[g] = first_cap(capacity);
		d->mask[g] = slots_for(d->cap[g]) - 1;
	}
	if (reserve(d, capacity) < 0)
		return NN_ENOMEM;
	d->period = period ? period : 2 * NN_ROUTING_MAX_AGE;
	memcpy(d->key, key, 16);
	return 0;
}

int nn_routing_dedup_set_growth(nn_routing_dedup *d, size_t max_capacity)
{
	if (!d || !d->slots[0] || max_capacity > DEDUP_MAX_CAP)
		return NN_EINVAL;
	if (max_capacity <= d->max_cap)
		return 0; /* the reservation only grows */
	return reserve(d, max_capacity);
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

static bool is_empty(const nn_routing_dedup_slot *s)
{
	static const uint8_t zero[NN_ROUTING_DEDUP_FP];
	return !memcmp(s->fp, zero, sizeof zero);
}

static size_t home(const uint8_t *fp, size_t mask)
{
	uint64_t h;
	memcpy(&h, fp, sizeof h);
	return (size_t)h & mask;
}

/* Double generation g's slots in place (zero beyond them up to the reservation): every entry
 * is re-homed under the larger mask. The entry in slot i goes to the first slot from its new
 * home that holds no moved entry: i itself, an empty slot, or one still to move, which then
 * swaps into slot i and is placed next. Moved entries (MOVED set) never move again, so a probe
 * chain through them stays whole; the marks are cleared at the end. No allocation. */
static void rehash(nn_routing_dedup *d, int g, size_t slots)
{
	nn_routing_dedup_slot *t = d->slots[g];
	size_t old = d->mask[g] + 1, mask = slots - 1;
	for (size_t i = 0; i < old; i++) {
		while (!is_empty(&t[i]) && !(t[i].fp[15] & MOVED)) {
			size_t j = home(t[i].fp, mask);
			while (t[j].fp[15] & MOVED)
				j = (j + 1) & mask;
			t[i].fp[15] |= MOVED;
			if (j == i)
				break;
			nn_routing_dedup_slot s = t[j];
			t[j] = t[i];
			t[i] = s; /* empty, or the next entry to place */
		}
	}
	for (size_t i = 0; i < slots; i++)
		t[i].fp[15] &= (uint8_t)~MOVED;
	d->mask[g] = mask;
}

/* Room for twice the records in generation g, up to the reservation: false at the limit. */
static bool grow(nn_routing_dedup *d, int g)
{
	if (d->cap[g] >= d->max_cap)
		return false;
	size_t cap = d->cap[g] * 2 < d->max_cap ? d->cap[g] * 2 : d->max_cap;
	size_t slots = slots_for(cap);
	if (slots > d->mask[g] + 1)
		rehash(d, g, slots);
	d->cap[g] = cap;
	return true;
}

/* The current generation ends; the other one, emptied, takes over at the size the ending one
 * reached (the traffic's size). */
static void rotate(nn_routing_dedup *d, nn_time now)
{
	size_t want = d->cap[d->cur];
	d->cur ^= 1;
	clear_gen(d, d->cur);
	if (want > d->cap[d->cur]) { /* slots beyond the old ones are zero: no rehash needed */
		d->cap[d->cur] = want;
		d->mask[d->cur] = slots_for(want) - 1;
	}
	d->start = now;
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
	fp[15] &= (uint8_t)~MOVED; /* the rehash mark: clear in every stored fingerprint */
	static const uint8_t zero[NN_ROUTING_DEDUP_FP];
	if (!memcmp(fp, zero, sizeof zero))
		fp[0] = 1; /* all zero marks an empty slot */
}

/* Slot of fp in generation g: where it is, or the empty slot where it would go. */
static size_t probe(const nn_routing_dedup *d, int g, const uint8_t *fp, bool *found)
{
	size_t i = home(fp, d->mask[g]);
	while (!is_empty(&d->slots[g][i])) {
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
		if (!grow(d, d->cur)) {
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
