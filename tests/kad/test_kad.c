/* test_kad.c — kad against brute-force oracles (bit-by-bit reference implementations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "kad/kad.h"
#include "tests/support/testutil.h"

static int bit(const nn_id *a, unsigned i) { return (a->b[i / 8] >> (7 - i % 8)) & 1; }

static unsigned oracle_cpl(const nn_id *a, const nn_id *b)
{
	unsigned i = 0;
	while (i < 256 && bit(a, i) == bit(b, i))
		i++;
	return i;
}

static int oracle_cmp_distance(const nn_id *t, const nn_id *a, const nn_id *b)
{
	for (unsigned i = 0; i < 256; i++) {
		int da = bit(a, i) ^ bit(t, i), db = bit(b, i) ^ bit(t, i);
		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

static int sign(int x) { return (x > 0) - (x < 0); }

static void random_id(nn_test_rng *r, nn_id *id) { nn_test_rng_fill(r, id->b, sizeof id->b); }

/* Make b share exactly k leading bits with a (k < 256). */
static void id_with_cpl(nn_test_rng *r, const nn_id *a, unsigned k, nn_id *b)
{
	random_id(r, b);
	for (unsigned i = 0; i < k; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));
		b->b[i / 8] = (uint8_t)((b->b[i / 8] & ~m) | (a->b[i / 8] & m));
	}
	uint8_t m = (uint8_t)(0x80 >> (k % 8));
	b->b[k / 8] = (uint8_t)((b->b[k / 8] & ~m) | (~a->b[k / 8] & m));
}

static void test_cpl_vs_oracle(void **state)
{
	nn_test_rng r = {42};
	for (unsigned k = 0; k < 256; k++) {
		nn_id a, b;
		random_id(&r, &a);
		id_with_cpl(&r, &a, k, &b);
		assert_int_equal(nn_kad_cpl(&a, &b), k);
		assert_int_equal(oracle_cpl(&a, &b), k);
	}
	nn_id a;
	random_id(&r, &a);
	assert_int_equal(nn_kad_cpl(&a, &a), 256);
}

static void test_cmp_distance_vs_oracle(void **state)
{
	nn_test_rng r = {7};
	for (int i = 0; i < 20000; i++) {
		nn_id t, a, b;
		random_id(&r, &t);
		random_id(&r, &a);
		/* make b close to a in interesting ways: differ only in a late word/bit */
		b = a;
		unsigned k = (unsigned)(nn_test_rng_next(&r) % 256);
		if (i % 3)
			b.b[k / 8] ^= (uint8_t)(0x80 >> (k % 8));
		else
			random_id(&r, &b);
		assert_int_equal(sign(nn_kad_cmp_distance(&t, &a, &b)), oracle_cmp_distance(&t, &a, &b));
		assert_int_equal(sign(nn_kad_cmp_distance(&t, &b, &a)), -oracle_cmp_distance(&t, &a, &b));
		nn_id da, db;
		nn_kad_distance(&da, &a, &t);
		nn_kad_distance(&db, &b, &t);
		assert_int_equal(sign(nn_kad_cmp(&da, &db)), oracle_cmp_distance(&t, &a, &b));
	}
	nn_id t, a;
	random_id(&r, &t);
	random_id(&r, &a);
	assert_int_equal(nn_kad_cmp_distance(&t, &a, &a), 0);
}

static void test_leading_zeros(void **state)
{
	nn_id z;
	memset(&z, 0, sizeof z);
	assert_int_equal(nn_kad_leading_zeros(&z), 256);
	assert_true(nn_kad_id_is_zero(&z));
	for (unsigned k = 0; k < 256; k++) {
		memset(&z, 0, sizeof z);
		z.b[k / 8] = (uint8_t)(0x80 >> (k % 8));
		z.b[31] |= 1;
		assert_int_equal(nn_kad_leading_zeros(&z), k);
		assert_false(nn_kad_id_is_zero(&z));
	}
}

static void test_hex_roundtrip_and_strictness(void **state)
{
	const char *golden = "45cd1496465d1e9e045a991d920ec5054c312f077765113c936b4d5c6d1e6ad5";
	nn_id id;
	char out[65];
	assert_int_equal(nn_kad_id_from_hex(&id, golden, 64), 0);
	assert_int_equal(id.b[0], 0x45);
	assert_int_equal(id.b[31], 0xd5);
	assert_string_equal(nn_kad_id_to_hex(out, &id), golden);

	/* upper case accepted, formatted lower */
	char up[65];
	for (int i = 0; i < 65; i++)
		up[i] = (char)((golden[i] >= 'a' && golden[i] <= 'f') ? golden[i] - 32 : golden[i]);
	assert_int_equal(nn_kad_id_from_hex(&id, up, 64), 0);
	assert_string_equal(nn_kad_id_to_hex(out, &id), golden);

	/* wrong lengths */
	assert_int_equal(nn_kad_id_from_hex(&id, golden, 63), NN_EINVAL);
	assert_int_equal(nn_kad_id_from_hex(&id, golden, 62), NN_EINVAL);
	assert_int_equal(nn_kad_id_from_hex(&id, "", 0), NN_EINVAL);
	char longer[67];
	memcpy(longer, golden, 64);
	longer[64] = '0';
	longer[65] = '0';
	longer[66] = 0;
	assert_int_equal(nn_kad_id_from_hex(&id, longer, 66), NN_EINVAL);
	/* every position rejects a non-hex character, and a failed parse leaves out untouched */
	nn_id before;
	memset(&before, 0xAB, sizeof before);
	for (int i = 0; i < 64; i++) {
		const char bad[] = {'g', ' ', 'x', '\0', '-', 'G', '/', ':', '@', '`'};
		for (size_t j = 0; j < sizeof bad; j++) {
			char s[65];
			memcpy(s, golden, 65);
			s[i] = bad[j];
			nn_id o = before;
			assert_int_equal(nn_kad_id_from_hex(&o, s, 64), NN_EINVAL);
			assert_memory_equal(&o, &before, sizeof o);
		}
	}
}

static void test_random_in_bucket(void **state)
{
	nn_test_rng r = {99};
	nn_id self;
	random_id(&r, &self);
	for (unsigned k = 0; k < 256; k++) {
		for (int rep = 0; rep < 8; rep++) {
			uint8_t rnd[32];
			nn_test_rng_fill(&r, rnd, sizeof rnd);
			nn_id out;
			assert_int_equal(nn_kad_random_in_bucket(&out, &self, k, rnd), 0);
			assert_int_equal(nn_kad_cpl(&self, &out), k);
		}
	}
	uint8_t rnd[32] = {0};
	nn_id out;
	assert_int_equal(nn_kad_random_in_bucket(&out, &self, 256, rnd), NN_EINVAL);
}

static void test_errors_named(void **state)
{
	assert_string_equal(nn_errname(NN_EINVAL), "EINVAL");
	assert_string_equal(nn_errname(0), "OK");
	assert_string_equal(nn_errname(-9999), "EUNKNOWN");
	assert_string_equal(nn_strerror(NN_ETRUNC), "input truncated");
	assert_string_equal(nn_strerror(12345), "unknown error");
	/* every code in the list has a distinct name */
	for (int a = -1; a >= NN_EINTERNAL; a--)
		for (int b = a - 1; b >= NN_EINTERNAL; b--)
			assert_string_not_equal(nn_errname(a), nn_errname(b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpl_vs_oracle),
		cmocka_unit_test(test_cmp_distance_vs_oracle),
		cmocka_unit_test(test_leading_zeros),
		cmocka_unit_test(test_hex_roundtrip_and_strictness),
		cmocka_unit_test(test_random_in_bucket),
		cmocka_unit_test(test_errors_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
