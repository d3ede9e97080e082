/* idmap.c — NodeID-keyed open-addressing hash map with backward-shift deletion; starts small
 * and doubles (rehash) when half full, up to the capacity fixed at init; a trim halves it
 * (rehash) while at most an eighth full, so it follows its load back down. */
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

#define IDMAP_START 16 /* slots at init: room for 8 entries before the first doubling */

int nn_idmap_init(nn_idmap *m, size_t max_entries, size_t vsize, const uint8_t key[16])
{
	memset(m, 0, sizeof *m);
	size_t max_cap = IDMAP_START;
	while (max_cap < max_entries * 2)
		max_cap <<= 1;
	m->max_cap = max_cap;
	m->cap = IDMAP_START;
	m->vsize = vsize;
	m->stride = (VAL_OFF + vsize + 7) & ~(size_t)7;
	memcpy(m->key, key, sizeof m->key);
	m->slots = calloc(m->cap, m->stride);
	return m->slots ? 0 : NN_ENOMEM;
}

/* Move every member into a slot array of ncap slots (ncap >= 2 n, a power of two). On
 * allocation failure the map keeps its size. */
static int resize(nn_idmap *m, size_t ncap)
{
	uint8_t *ns = calloc(ncap, m->stride);
	if (!ns)
		return NN_ENOMEM;
	nn_idmap old = *m;
	m->slots = ns;
	m->cap = ncap;
	for (size_t i = 0; i < old.cap; i++) {
		const uint8_t *s = old.slots + i * old.stride;
		if (!s[0])
			continue;
		nn_id id;
		memcpy(id.b, s + ID_OFF, NN_ID_LEN);
		size_t j = hash(m, &id);
		while (slot(m, j)[0])
			j = (j + 1) & (ncap - 1);
		memcpy(slot(m, j), s, m->stride);
	}
	free(old.slots);
	return 0;
}

/* Double the slot array (insertion only: no deletion happens during it). */
static int grow(nn_idmap *m) { return resize(m, m->cap * 2); }

size_t nn_idmap_trim(nn_idmap *m)
{
	size_t ncap = m->cap;
	while (ncap > IDMAP_START && m->n * 8 <= ncap)
		ncap >>= 1;
	if (ncap == m->cap || resize(m, ncap) < 0)
		return 0;
	return ncap;
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
	if (m->n * 2 >= m->cap && m->cap < m->max_cap && !nn_idmap_get(m, id))
		(void)grow(m); /* not the hot path: a new peer or dial; at most log2(max/16) times */
	size_t i = hash(m, id);
	for (size_t k = 0; k < m->cap; i = (i + 1) & (m->cap - 1), k++) {
		uint8_t *s = slot(m, i);
		if (s[0] && !memcmp(s + ID_OFF, id->b, NN_ID_LEN))
			return s + VAL_OFF;
		if (!s[0]) {
			if (m->n * 2 >= m->cap)
				return NULL;
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
