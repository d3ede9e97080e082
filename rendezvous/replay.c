/* replay.c — two-generation replay cache: keyed-hash open addressing, fail-closed rotation. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous/replay.h"

static size_t slots_for(size_t gen_cap)
{
	size_t s = 2;
	while (s < 2 * gen_cap)
		s <<= 1;
	return s;
}

size_t nn_replay_mem_size(size_t gen_cap)
{
	if (gen_cap == 0 || gen_cap > NN_REPLAY_GEN_CAP_MAX)
		return 0;
	return 2 * slots_for(gen_cap) * sizeof(nn_replay_slot);
}

int nn_replay_init(nn_replay *c, void *mem, size_t mem_len, size_t gen_cap,
		   const uint8_t secret[NN_REPLAY_SECRET_LEN])
{
	size_t need = nn_replay_mem_size(gen_cap);
	if (!c || !mem || !secret || need == 0 || mem_len < need ||
	    ((uintptr_t)mem % _Alignof(nn_replay_slot)) != 0)
		return NN_EINVAL;
	if (sodium_init() < 0)
		return NN_ECRYPTO;
	size_t slots = slots_for(gen_cap);
	memset(c, 0, sizeof *c);
	memset(mem, 0, need);
	c->gen[0].slots = mem;
	c->gen[1].slots = (nn_replay_slot *)mem + slots;
	c->gen[0].max_expiry = c->gen[1].max_expiry = INT64_MIN;
	c->gen_cap = gen_cap;
	c->mask = slots - 1;
	memcpy(c->secret, secret, NN_REPLAY_SECRET_LEN);
	return 0;
}

int nn_replay_create(nn_replay *c, size_t gen_cap, const uint8_t secret[NN_REPLAY_SECRET_LEN])
{
	size_t need = nn_replay_mem_size(gen_cap);
	if (!c || need == 0)
		return NN_EINVAL;
	void *mem = malloc(need);
	if (!mem)
		return NN_ENOMEM;
	int rc = nn_replay_init(c, mem, need, gen_cap, secret);
	if (rc) {
		free(mem);
		return rc;
	}
	c->owned = mem;
	return 0;
}

void nn_replay_destroy(nn_replay *c)
{
	if (!c)
		return;
	free(c->owned);
	sodium_memzero(c, sizeof *c);
}

static void tag_of(const nn_replay *c, const void *key, size_t len, uint64_t tag[2])
{
	uint8_t h[crypto_shorthash_siphashx24_BYTES];
	crypto_shorthash_siphashx24(h, key, len, c->secret);
	memcpy(tag, h, sizeof h);
	if (tag[0] == 0 && tag[1] == 0)
		tag[0] = 1; /* {0,0} marks an empty slot */
}

static bool slot_empty(const nn_replay_slot *s) { return s->tag[0] == 0 && s->tag[1] == 0; }

/* Walk tag's probe chain in g: the slot holding tag, or NULL. *reuse receives the first slot on
 * the chain whose entry has expired (NULL if none), *empty the empty slot ending the chain. The
 * load stays <= 1/2, so every chain ends. */
static nn_replay_slot *probe(const nn_replay *c, const nn_replay_gen *g, const uint64_t tag[2],
			     nn_time now, nn_replay_slot **reuse, nn_replay_slot **empty)
{
	size_t i = (size_t)tag[0] & c->mask;
	if (reuse)
		*reuse = NULL;
	for (;;) {
		nn_replay_slot *s = &g->slots[i];
		if (slot_empty(s)) {
			if (empty)
				*empty = s;
			return NULL;
		}
		if (s->tag[0] == tag[0] && s->tag[1] == tag[1])
			return s;
		if (reuse && !*reuse && s->expiry < now)
			*reuse = s;
		i = (i + 1) & c->mask;
	}
}

static void put(nn_replay_gen *g, nn_replay_slot *s, const uint64_t tag[2], nn_time expiry)
{
	s->tag[0] = tag[0];
	s->tag[1] = tag[1];
	s->expiry = expiry;
	if (expiry > g->max_expiry)
		g->max_expiry = expiry;
}

int nn_replay_check(nn_replay *c, const void *key, size_t key_len, nn_time expiry, nn_time now)
{
	uint64_t tag[2];
	nn_replay_slot *s, *reuse, *empty = NULL;
	if (!c || !c->gen[0].slots || (!key && key_len))
		return NN_EINVAL;
	if (expiry < now)
		return NN_ESTALE;
	tag_of(c, key, key_len, tag);
	nn_replay_gen *cur = &c->gen[c->cur], *prev = &c->gen[c->cur ^ 1];

	s = probe(c, prev, tag, now, NULL, NULL);
	if (s && s->expiry >= now)
		return NN_EREPLAY;

	s = probe(c, cur, tag, now, &reuse, &empty);
	if (s) {
		if (s->expiry >= now)
			return NN_EREPLAY;
		put(cur, s, tag, expiry); /* the same key again after its window: a new message */
		return 0;
	}
	if (reuse) {
		put(cur, reuse, tag, expiry);
		return 0;
	}
	if (cur->count < c->gen_cap) {
		put(cur, empty, tag, expiry);
		cur->count++;
		return 0;
	}
	/* Current generation full: rotate, but only if that forgets nothing live. */
	if (prev->count && prev->max_expiry >= now)
		return NN_ELIMIT;
	memset(prev->slots, 0, (c->mask + 1) * sizeof *prev->slots);
	prev->count = 0;
	prev->max_expiry = INT64_MIN;
	c->cur ^= 1;
	cur = prev;
	(void)probe(c, cur, tag, now, NULL, &empty);
	put(cur, empty, tag, expiry);
	cur->count++;
	return 0;
}

bool nn_replay_seen(const nn_replay *c, const void *key, size_t key_len, nn_time now)
{
	uint64_t tag[2];
	if (!c || !c->gen[0].slots || (!key && key_len))
		return false;
	tag_of(c, key, key_len, tag);
	for (int g = 0; g < 2; g++) {
		const nn_replay_slot *s = probe(c, &c->gen[g], tag, now, NULL, NULL);
		if (s && s->expiry >= now)
			return true;
	}
	return false;
}

size_t nn_replay_count(const nn_replay *c)
{
	return c ? c->gen[0].count + c->gen[1].count : 0;
}

nn_time nn_replay_expiry(nn_time ts, nn_time max_age)
{
	if (max_age <= 0)
		return ts;
	if (ts > INT64_MAX - max_age)
		return INT64_MAX;
	return ts + max_age;
}
