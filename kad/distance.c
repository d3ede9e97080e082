/* distance.c — XOR distance, distance comparison, common-prefix length. */
#include "kad/kad.h"

static inline uint64_t load_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

void nn_kad_distance(nn_id *out, const nn_id *a, const nn_id *b)
{
	for (size_t i = 0; i < NN_ID_LEN; i++)
		out->b[i] = (uint8_t)(a->b[i] ^ b->b[i]);
}

int nn_kad_cmp_distance(const nn_id *target, const nn_id *a, const nn_id *b)
{
	for (size_t w = 0; w < NN_ID_LEN; w += 8) {
		uint64_t t = load_be64(target->b + w);
		uint64_t da = load_be64(a->b + w) ^ t;
		uint64_t db = load_be64(b->b + w) ^ t;
		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

int nn_kad_cmp(const nn_id *a, const nn_id *b)
{
	for (size_t w = 0; w < NN_ID_LEN; w += 8) {
		uint64_t x = load_be64(a->b + w), y = load_be64(b->b + w);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

unsigned nn_kad_cpl(const nn_id *a, const nn_id *b)
{
	for (size_t w = 0; w < NN_ID_LEN; w += 8) {
		uint64_t x = load_be64(a->b + w) ^ load_be64(b->b + w);
		if (x)
			return (unsigned)(w * 8) + (unsigned)__builtin_clzll(x);
	}
	return NN_ID_BITS;
}

unsigned nn_kad_leading_zeros(const nn_id *a)
{
	for (size_t w = 0; w < NN_ID_LEN; w += 8) {
		uint64_t x = load_be64(a->b + w);
		if (x)
			return (unsigned)(w * 8) + (unsigned)__builtin_clzll(x);
	}
	return NN_ID_BITS;
}
