/* test_dedup.c — the signature cache: one delivery per message, replays inside the window
 * reported, records kept at least one period, bounded memory with early rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "routing/dedup.h"
#include "tests/routing/rt_util.h"

static void sig_of(uint8_t sig[64], uint32_t i)
{
	nn_test_rng r = {1000 + i};
	nn_test_rng_fill(&r, sig, 64);
}

static void test_once_then_replay(void **state)
{
	nn_routing_dedup d;
	uint8_t key[16] = {1};
	assert_int_equal(nn_routing_dedup_init(&d, 0, 0, key), 0);
	uint8_t a[64], b[64];
	sig_of(a, 1);
	sig_of(b, 2);
	const nn_time t0 = 5000 * NN_SEC;
	assert_int_equal(nn_routing_dedup_check(&d, a, t0), 0);
	/* The other two disjoint copies of the same Send. */
	assert_int_equal(nn_routing_dedup_check(&d, a, t0 + NN_MS), NN_EREPLAY);
	assert_int_equal(nn_routing_dedup_check(&d, a, t0 + 2 * NN_MS), NN_EREPLAY);
	assert_int_equal(nn_routing_dedup_check(&d, b, t0), 0);
	/* A replay anywhere inside the freshness window (and up to 2 x 30 s later) is caught:
	 * sent + 30 s is the last instant the envelope can pass the freshness check. */
	assert_int_equal(nn_routing_dedup_check(&d, a, t0 + 59 * NN_SEC), NN_EREPLAY);
	assert_int_equal(nn_routing_dedup_check(&d, a, t0 + 60 * NN_SEC), NN_EREPLAY);
	assert_int_equal(nn_routing_dedup_check(&d, a, t0 + 119 * NN_SEC), NN_EREPLAY);
	/* Two idle periods later it is forgotten (and would fail freshness anyway). */
	assert_int_equal(nn_routing_dedup_check(&d, a, t0 + 400 * NN_SEC), 0);
	/* Time going backwards rotates nothing. */
	assert_int_equal(nn_routing_dedup_check(&d, a, t0), NN_EREPLAY);
	/* Extreme times do not wrap. */
	assert_int_equal(nn_routing_dedup_check(&d, b, INT64_MAX), 0);
	assert_int_equal(nn_routing_dedup_check(&d, b, INT64_MIN), NN_EREPLAY);
	nn_routing_dedup_free(&d);
}

static void test_bounded(void **state)
{
	nn_routing_dedup d;
	uint8_t key[16] = {2};
	assert_int_equal(nn_routing_dedup_init(&d, 100, 0, key), 0);
	uint8_t s[64];
	for (uint32_t i = 0; i < 100; i++) {
		sig_of(s, i);
		assert_int_equal(nn_routing_dedup_check(&d, s, 0), 0);
	}
	for (uint32_t i = 0; i < 100; i++) {
		sig_of(s, i);
		assert_int_equal(nn_routing_dedup_check(&d, s, 1), NN_EREPLAY);
	}
	assert_int_equal(nn_routing_dedup_early_rotations(&d), 0);
	/* A full generation rotates early; the older one is still consulted. */
	sig_of(s, 100);
	assert_int_equal(nn_routing_dedup_check(&d, s, 2), 0);
	assert_int_equal(nn_routing_dedup_early_rotations(&d), 1);
	sig_of(s, 3);
	assert_int_equal(nn_routing_dedup_check(&d, s, 3), NN_EREPLAY);
	/* Thousands of distinct messages: memory is fixed, recent ones are always caught. */
	for (uint32_t i = 200; i < 5000; i++) {
		sig_of(s, i);
		assert_int_equal(nn_routing_dedup_check(&d, s, 4), 0);
		assert_int_equal(nn_routing_dedup_check(&d, s, 4), NN_EREPLAY);
	}
	assert_int_equal(nn_routing_dedup_init(&d, 0, -1, key), NN_EINVAL);
	nn_routing_dedup_free(&d);
}

/* seen() looks without recording: a forged frame checked with it plants nothing. */
static void test_seen_records_nothing(void **state)
{
	nn_routing_dedup d;
	uint8_t key[16] = {3};
	assert_int_equal(nn_routing_dedup_init(&d, 16, 0, key), 0);
	uint8_t s[64];
	sig_of(s, 7);
	assert_false(nn_routing_dedup_seen(&d, s, 0));
	assert_false(nn_routing_dedup_seen(&d, s, 1));
	assert_int_equal(nn_routing_dedup_check(&d, s, 2), 0);
	assert_true(nn_routing_dedup_seen(&d, s, 3));
	/* still seen in the older generation, gone after two periods */
	assert_true(nn_routing_dedup_seen(&d, s, 2 + 2 * NN_ROUTING_MAX_AGE));
	assert_false(nn_routing_dedup_seen(&d, s, 3 + 5 * NN_ROUTING_MAX_AGE));
	nn_routing_dedup_free(&d);
}

/* A table of 64 records a generation that may grow to 1024, given 1000 distinct envelopes at
 * t = 1; returns its size before them. */
static size_t burst_into_growing(nn_routing_dedup *d, uint8_t keybyte)
{
	uint8_t key[16] = {keybyte};
	assert_int_equal(nn_routing_dedup_init(d, 64, 0, key), 0);
	size_t small = nn_routing_dedup_bytes(d);
	assert_int_equal(nn_routing_dedup_set_growth(d, 1024), 0);
	uint8_t s[64];
	for (uint32_t i = 0; i < 1000; i++) {
		sig_of(s, i);
		assert_int_equal(nn_routing_dedup_check(d, s, 1), 0);
	}
	return small;
}

/* Below the growth limit a full generation doubles both generations in place: a burst within
 * one window is remembered whole, with no early rotation. */
static void test_growth_keeps_records(void **state)
{
	nn_routing_dedup d;
	size_t small = burst_into_growing(&d, 5);
	uint8_t s[64];
	assert_int_equal(nn_routing_dedup_early_rotations(&d), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		sig_of(s, i);
		assert_int_equal(nn_routing_dedup_check(&d, s, 2), NN_EREPLAY);
	}
	assert_int_equal(nn_routing_dedup_bytes(&d), 2 * 2048 * sizeof(nn_routing_dedup_slot));
	assert_true(nn_routing_dedup_bytes(&d) > small);
	/* at the limit: the 1025th record rotates early, never grows past it */
	for (uint32_t i = 1000; i < 1025; i++) {
		sig_of(s, i);
		assert_int_equal(nn_routing_dedup_check(&d, s, 3), 0);
	}
	assert_int_equal(nn_routing_dedup_early_rotations(&d), 1);
	assert_int_equal(nn_routing_dedup_bytes(&d), 2 * 2048 * sizeof(nn_routing_dedup_slot));
	nn_routing_dedup_free(&d);
}

/* With a growth limit, memory stops growing at the limit, and a grown table remembers a burst
 * of distinct envelopes within one window. */
static void test_growth(void **state)
{
	nn_routing_dedup d;
	uint8_t key[16] = {4};
	assert_int_equal(nn_routing_dedup_init(&d, 64, 0, key), 0);
	size_t small = nn_routing_dedup_bytes(&d);
	assert_int_equal(nn_routing_dedup_set_growth(&d, 1024), 0);
	uint8_t s[64];
	uint32_t next = 0;
	for (int round = 0; round < 8; round++)
		for (uint32_t i = 0; i < 1000; i++) {
			sig_of(s, next++);
			assert_int_equal(nn_routing_dedup_check(&d, s, round), 0);
		}
	size_t big = nn_routing_dedup_bytes(&d);
	assert_true(big > small);
	assert_true(big <= 2 * 2048 * sizeof(nn_routing_dedup_slot));
	/* grown: 1000 more within the window rotate at most once, and all of them are caught */
	uint64_t rot = nn_routing_dedup_early_rotations(&d);
	uint32_t first = next;
	for (uint32_t i = 0; i < 1000; i++) {
		sig_of(s, next++);
		assert_int_equal(nn_routing_dedup_check(&d, s, 100), 0);
	}
	assert_true(nn_routing_dedup_early_rotations(&d) - rot <= 1);
	for (uint32_t i = first; i < next; i++) {
		sig_of(s, i);
		assert_true(nn_routing_dedup_seen(&d, s, 101));
	}
	assert_int_equal(nn_routing_dedup_bytes(&d), big);
	assert_int_equal(nn_routing_dedup_set_growth(&d, ((size_t)1 << 24) + 1), NN_EINVAL);
	nn_routing_dedup_free(&d);
}

/* A trim gives back what a burst grew, and only that: while either generation holds the burst
 * nothing shrinks; once both are quiet the older generation halves down to the starting size,
 * keeping its records, and becomes the current one at that size; a new burst grows it again
 * with no early rotation and no record forgotten. */
static void test_trim_after_burst(void **state)
{
	nn_routing_dedup d;
	nn_time P = 2 * NN_ROUTING_MAX_AGE;
	size_t small = burst_into_growing(&d, 6);
	uint8_t s[64];
	size_t big = nn_routing_dedup_bytes(&d);
	assert_int_equal(big, 2 * 2048 * sizeof(nn_routing_dedup_slot));
	assert_int_equal(nn_routing_dedup_trim(&d), 0); /* the burst is current */
	/* next period: the burst is the older generation, 10 new records */
	for (uint32_t i = 5000; i < 5010; i++) {
		sig_of(s, i);
		assert_int_equal(nn_routing_dedup_check(&d, s, 1 + P), 0);
	}
	assert_int_equal(nn_routing_dedup_trim(&d), 0); /* the older one holds the burst */
	/* one more: the 10 are older, the current is empty; the 10 fit a quarter of 64 */
	sig_of(s, 7000);
	assert_int_equal(nn_routing_dedup_check(&d, s, 1 + 2 * P), 0);
	assert_int_equal(nn_routing_dedup_trim(&d), 64);
	assert_int_equal(nn_routing_dedup_trim(&d), 0);
	assert_true(nn_routing_dedup_bytes(&d) < big);
	for (uint32_t i = 5000; i < 5010; i++) {
		sig_of(s, i);
		assert_true(nn_routing_dedup_seen(&d, s, 2 + 2 * P));
	}
	/* the next rotation makes the small generation current; the other shrinks at a trim */
	sig_of(s, 7001);
	assert_int_equal(nn_routing_dedup_check(&d, s, 1 + 3 * P), 0);
	assert_true(nn_routing_dedup_seen(&d, s, 2 + 3 * P));
	sig_of(s, 7000);
	assert_true(nn_routing_dedup_seen(&d, s, 2 + 3 * P));
	assert_int_equal(nn_routing_dedup_trim(&d), 64);
	assert_int_equal(nn_routing_dedup_bytes(&d), small);
	/* a new burst grows it again, keeping every record */
	uint64_t rot = nn_routing_dedup_early_rotations(&d);
	for (uint32_t i = 10000; i < 11000; i++) {
		sig_of(s, i);
		assert_int_equal(nn_routing_dedup_check(&d, s, 3 + 3 * P), 0);
	}
	assert_int_equal(nn_routing_dedup_early_rotations(&d), rot);
	for (uint32_t i = 10000; i < 11000; i++) {
		sig_of(s, i);
		assert_true(nn_routing_dedup_seen(&d, s, 4 + 3 * P));
	}
	nn_routing_dedup_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once_then_replay),
		cmocka_unit_test(test_growth_keeps_records),
		cmocka_unit_test(test_seen_records_nothing),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_trim_after_burst),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
