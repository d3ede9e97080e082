/* subnets.c — subnet-key multiset: linear probing, backward-shift deletion. */
#include <stdlib.h>
#include <string.h>

#include "kad/nn_err.h"
#include "routing/subnets.h"

static size_t hash16(const uint8_t k[16])
{
	uint64_t a, b;
	memcpy(&a, k, 8);
	memcpy(&b, k + 8, 8);
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (size_t)h;
}

int nn_routing_subnets_init(nn_routing_subnets *s, size_t keys)
{
	size_t n = 16;
	while (n < 2 * keys)
		n <<= 1;
	s->slots = calloc(n, sizeof *s->slots);
	if (!s->slots)
		return NN_ENOMEM;
	s->mask = n - 1;
	s->used = 0;
	s->max = n / 2;
	return 0;
}

int nn_routing_subnets_reserve(nn_routing_subnets *s, size_t keys)
{
	size_t n = s->mask + 1;
	while (n < 2 * keys)
		n <<= 1;
	if (n == s->mask + 1)
		return 0;
	nn_routing_subnet_slot *ns = calloc(n, sizeof *ns);
	if (!ns)
		return NN_ENOMEM;
	for (size_t i = 0; i <= s->mask; i++) {
		if (!s->slots[i].count)
			continue;
		size_t j = hash16(s->slots[i].key) & (n - 1);
		while (ns[j].count)
			j = (j + 1) & (n - 1);
		ns[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = ns;
	s->mask = n - 1;
	s->max = n / 2;
	return 0;
}

void nn_routing_subnets_free(nn_routing_subnets *s)
{
	free(s->slots);
	s->slots = NULL;
}

static size_t find(const nn_routing_subnets *s, const uint8_t key[16], int *found)
{
	size_t i = hash16(key) & s->mask;
	while (s->slots[i].count) {
		if (!memcmp(s->slots[i].key, key, 16)) {
			*found = 1;
			return i;
		}
		i = (i + 1) & s->mask;
	}
	*found = 0;
	return i;
}

uint32_t nn_routing_subnets_count(const nn_routing_subnets *s, const uint8_t key[16])
{
	int f;
	size_t i = find(s, key, &f);
	return f ? s->slots[i].count : 0;
}

int nn_routing_subnets_inc(nn_routing_subnets *s, const uint8_t key[16])
{
	int f;
	size_t i = find(s, key, &f);
	if (f) {
		s->slots[i].count++;
		return 0;
	}
	if (s->used >= s->max)
		return NN_ELIMIT;
	memcpy(s->slots[i].key, key, 16);
	s->slots[i].count = 1;
	s->used++;
	return 0;
}

void nn_routing_subnets_dec(nn_routing_subnets *s, const uint8_t key[16])
{
	int f;
	size_t i = find(s, key, &f);
	if (!f)
		return;
	if (--s->slots[i].count)
		return;
	s->used--;
	/* Backward-shift: pull later members of the probe run into the hole. */
	size_t hole = i, j = i;
	for (;;) {
		j = (j + 1) & s->mask;
		if (!s->slots[j].count)
			break;
		size_t home = hash16(s->slots[j].key) & s->mask;
		/* j may move into hole iff home is not cyclically in (hole, j]. */
		int in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!in_range) {
			s->slots[hole] = s->slots[j];
			s->slots[j].count = 0;
			hole = j;
		}
	}
	s->slots[hole].count = 0;
}
