/* testutil.h — small helpers shared by unit tests: a seeded xorshift RNG, hex decoding. */
#ifndef NN_TEST_UTIL_H
#define NN_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct nn_test_rng {
	uint64_t s;
} nn_test_rng;

static inline uint64_t nn_test_rng_next(nn_test_rng *r)
{
	uint64_t x = r->s ? r->s : 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline void nn_test_rng_fill(nn_test_rng *r, void *out, size_t n)
{
	uint8_t *p = out;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(nn_test_rng_next(r) >> 24);
}

/* Decode lowercase/uppercase hex into out; returns bytes written or (size_t)-1. */
static inline size_t nn_test_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > cap)
		return (size_t)-1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		char b[3] = {hex[2 * i], hex[2 * i + 1], 0};
		if (sscanf(b, "%2x", &v) != 1)
			return (size_t)-1;
		out[i] = (uint8_t)v;
	}
	return n / 2;
}

#endif
