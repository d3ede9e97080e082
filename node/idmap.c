/* idmap.c — NodeID-keyed open-addressing hash map with backward-shift deletion. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

static size_t hash(const nn_idmap *m, const nn_id *id)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, id->b, NN_ID_LEN, m->key);
	uint64_t v;
	memcpy(&v, h, sizeof v);
	return (size_t)v & (m->cap - 1);
}

/* Slot layout: used flag, padding, id (32), value: the value starts at an 8-aligned offset so
 * callers may store structs with 8-byte members. */
#define ID_OFF 8
#define VAL_OFF (ID_OFF + NN_ID_LEN)

static uint8_t *slot(const nn_idmap *m, size_t i) { return m->slots + i * m->stride; }

/* Slots in use at first: pages of the reservation are touched only as the map fills. */
#define IDMAP_CAP0 16

int nn_idmap_init(nn_idmap *m, size_t max_entries, size_t vsize, const uint8_t key[16])
{
	memset(m, 0, sizeof *m);
	size_t cap = IDMAP_CAP0;
	while (cap < max_entries * 2)
		cap <<= 1;
	m->max_cap = cap;
	m->cap = cap < IDMAP_CAP0 ? cap : IDMAP_CAP0;
	m->vsize = vsize;
	m->stride = (VAL_OFF + vsize + 7) & ~(size_t)7;
	memcpy(m->key, key, sizeof m->key);
	m->slots = calloc(cap, m->stride); /* zero pages: resident only once written */
	return m->slots ? 0 : NN_ENOMEM;
}

/* Double the slots in use, in place (the reservation holds max_cap slots, all zero beyond
 * cap): every entry is re-homed under the larger mask. Entries still to move are marked 2,
 * moved ones 1. The entry in slot i goes to the first slot from its new home that holds no
 * moved entry: i itself, an empty slot, or one still to move, which then swaps into slot i and
 * is placed next. Moved entries never move again, so a probe chain through them stays whole.
 * No allocation. */
static void swap_slots(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		uint8_t t = a[k];
		a[k] = b[k];
		b[k] = t;
	}
}

static void grow(nn_idmap *m)
{
	size_t old = m->cap;
	m->cap = old * 2;
	size_t mask = m->cap - 1;
	for (size_t i = 0; i < old; i++)
		if (slot(m, i)[0])
			slot(m, i)[0] = 2;
	for (size_t i = 0; i < old; i++) {
		uint8_t *s = slot(m, i);
		while (s[0] == 2) {
			nn_id id;
			memcpy(id.b, s + ID_OFF, NN_ID_LEN);
			size_t j = hash(m, &id);
			while (slot(m, j)[0] == 1)
				j = (j + 1) & mask;
			uint8_t *t = slot(m, j);
			s[0] = 1;
			if (t == s)
				break;
			if (!t[0]) {
				memcpy(t, s, m->stride);
				memset(s, 0, m->stride);
				break;
			}
			swap_slots(s, t, m->stride); /* t now holds ours (1); s the one to place next */
		}
	}
}

void nn_idmap_fini(nn_idmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->n = 0;
}

void *nn_idmap_get(const nn_idmap *m, const nn_id *id)
{
	for (size_t i = hash(m, id), k = 0; k < m->cap; i = (i + 1) & (m->cap - 1), k++) {
		uint8_t *s = slot(m, i);
		if (!s[0])
			return NULL;
		if (!memcmp(s + ID_OFF, id->b, NN_ID_LEN))
			return s + VAL_OFF;
	}
	return NULL;
}

void *nn_idmap_put(nn_idmap *m, const nn_id *id, bool *fresh)
{
	if (fresh)
		*fresh = false;
	size_t i = hash(m, id);
	for (size_t k = 0; k < m->cap; i = (i + 1) & (m->cap - 1), k++) {
		uint8_t *s = slot(m, i);
		if (s[0] && !memcmp(s + ID_OFF, id->b, NN_ID_LEN))
			return s + VAL_OFF;
		if (!s[0]) {
			if (nn_idmap_full(m))
				return NULL;
			if (m->n * 2 >= m->cap) {
				grow(m); /* room below the reservation: the id's home moved */
				return nn_idmap_put(m, id, fresh);
			}
			s[0] = 1;
			memcpy(s + ID_OFF, id->b, NN_ID_LEN);
			memset(s + VAL_OFF, 0, m->vsize);
			m->n++;
			if (fresh)
				*fresh = true;
			return s + VAL_OFF;
		}
	}
	return NULL;
}

bool nn_idmap_del(nn_idmap *m, const nn_id *id)
{
	size_t mask = m->cap - 1, i = hash(m, id);
	for (size_t k = 0;; i = (i + 1) & mask, k++) {
		uint8_t *s = slot(m, i);
		if (!s[0] || k >= m->cap)
			return false;
		if (!memcmp(s + ID_OFF, id->b, NN_ID_LEN))
			break;
	}
	/* backward-shift: pull later members of the cluster into the hole when allowed */
	size_t hole = i;
	for (size_t j = (hole + 1) & mask;; j = (j + 1) & mask) {
		uint8_t *s = slot(m, j);
		if (!s[0])
			break;
		nn_id sid;
		memcpy(sid.b, s + ID_OFF, NN_ID_LEN);
		size_t home = hash(m, &sid);
		/* s may move into the hole if its home is not in (hole, j] cyclically */
		bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!in_range) {
			memcpy(slot(m, hole), s, m->stride);
			hole = j;
		}
	}
	memset(slot(m, hole), 0, m->stride);
	m->n--;
	return true;
}

void *nn_idmap_slot(const nn_idmap *m, size_t i, nn_id *id)
{
	uint8_t *s = slot(m, i);
	if (!s[0])
		return NULL;
	if (id)
		memcpy(id->b, s + ID_OFF, NN_ID_LEN);
	return s + VAL_OFF;
}
