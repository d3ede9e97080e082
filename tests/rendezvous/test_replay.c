/* test_replay.c — the two-generation replay cache: window edges, rotation, reuse of expired
 * slots, and saturation: a flood never evicts a live key (the reference's rotation would), it
 * is refused with NN_ELIMIT at exactly 2 * gen_cap live keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous/replay.h"
#include "tests/support/alloc_count.h"

static const uint8_t SECRET[NN_REPLAY_SECRET_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static void key_of(uint8_t k[32], uint32_t i)
{
	memset(k, 0, 32);
	memcpy(k, &i, sizeof i);
}

static int check(nn_replay *c, uint32_t i, nn_time expiry, nn_time now)
{
	uint8_t k[32];
	key_of(k, i);
	return nn_replay_check(c, k, 32, expiry, now);
}

static void test_window_edges(void **state)
{
	nn_replay c;
	assert_int_equal(nn_replay_create(&c, 8, SECRET), 0);
	assert_int_equal(check(&c, 1, 100, 50), 0);
	assert_int_equal(check(&c, 1, 100, 50), NN_EREPLAY);
	assert_int_equal(check(&c, 1, 100, 100), NN_EREPLAY); /* live while now <= expiry */
	uint8_t k[32];
	key_of(k, 1);
	assert_true(nn_replay_seen(&c, k, 32, 100));
	assert_false(nn_replay_seen(&c, k, 32, 101));
	/* past its expiry the same key is a new message again (its window moved) */
	assert_int_equal(check(&c, 1, 300, 101), 0);
	assert_int_equal(check(&c, 1, 300, 200), NN_EREPLAY);
	/* an expiry already past: nothing to remember */
	assert_int_equal(check(&c, 2, 99, 100), NN_ESTALE);
	assert_false(nn_replay_seen(&c, k + 1, 31, 0));
	/* extreme times */
	assert_int_equal(check(&c, 3, INT64_MAX, INT64_MIN), 0);
	assert_int_equal(check(&c, 3, INT64_MAX, INT64_MAX), NN_EREPLAY);
	assert_int_equal(check(&c, 4, INT64_MIN, INT64_MIN), 0);
	assert_int_equal(check(&c, 4, INT64_MIN, INT64_MIN), NN_EREPLAY);
	assert_int_equal(nn_replay_expiry(INT64_MAX - 5, 10), INT64_MAX);
	assert_int_equal(nn_replay_expiry(INT64_MIN, 10), INT64_MIN + 10);
	assert_int_equal(nn_replay_expiry(7, -1), 7);
	/* keys of any length, including none */
	assert_int_equal(nn_replay_check(&c, NULL, 0, 10, 0), 0);
	assert_int_equal(nn_replay_check(&c, NULL, 0, 10, 0), NN_EREPLAY);
	assert_int_equal(nn_replay_check(&c, NULL, 1, 10, 0), NN_EINVAL);
	nn_replay_destroy(&c);
}

/* Saturation: gen_cap G. 2G live keys fill both generations; the next new key is refused and
 * every one of the 2G is still caught. The reference's rule (drop the previous generation when
 * the current one fills) would forget the oldest G keys here: the EREPLAY checks below fail on
 * it. Once the older generation has wholly expired, new keys are accepted again. */
static void test_flood_never_evicts_live_keys(void **state)
{
	const size_t G = 64;
	nn_replay c;
	assert_int_equal(nn_replay_create(&c, G, SECRET), 0);
	nn_time now = 1000;
	/* first generation expires at 2000, the second at 3000 */
	for (uint32_t i = 0; i < G; i++)
		assert_int_equal(check(&c, i, 2000, now), 0);
	for (uint32_t i = G; i < 2 * G; i++)
		assert_int_equal(check(&c, i, 3000, now), 0);
	assert_int_equal(nn_replay_count(&c), 2 * G);
	/* the flood goes on: refused, fail closed */
	for (uint32_t i = 2 * G; i < 4 * G; i++)
		assert_int_equal(check(&c, i, 3000, now), NN_ELIMIT);
	/* nothing live was forgotten */
	for (uint32_t i = 0; i < 2 * G; i++)
		assert_int_equal(check(&c, i, i < G ? 2000 : 3000, now), NN_EREPLAY);
	/* still refused while any key of the older generation is live (the last instant: 2000) */
	assert_int_equal(check(&c, 9999, 3000, 2000), NN_ELIMIT);
	/* at 2001 the older generation is wholly expired: rotation, new keys accepted */
	assert_int_equal(check(&c, 9999, 3000, 2001), 0);
	for (uint32_t i = G; i < 2 * G; i++)
		assert_int_equal(check(&c, i, 3000, 2001), NN_EREPLAY);
	/* their old windows are over: new messages, G - 1 of them fit beside key 9999 */
	for (uint32_t i = 0; i < G - 1; i++)
		assert_int_equal(check(&c, i, 4000, 2001), 0);
	assert_int_equal(nn_replay_count(&c), 2 * G);
	assert_int_equal(check(&c, G - 1, 4000, 2001), NN_ELIMIT); /* 2G live again */
	assert_int_equal(check(&c, G - 1, 4000, 3001), 0);
	nn_replay_destroy(&c);
}

/* Expired entries met on a probe chain are reused, and rotation retires expired generations,
 * so a steady stream of short-lived keys never hits the limit. */
static void test_steady_stream(void **state)
{
	const size_t G = 32;
	nn_replay c;
	assert_int_equal(nn_replay_create(&c, G, SECRET), 0);
	const nn_time window = 10;
	uint32_t k = 0;
	for (nn_time now = 0; now < 2000; now++)
		for (int j = 0; j < 2; j++, k++) { /* 2 per tick, 20 live per window, G = 32 */
			assert_int_equal(check(&c, k, now + window, now), 0);
			assert_int_equal(check(&c, k, now + window, now), NN_EREPLAY);
			assert_true(nn_replay_count(&c) <= 2 * G);
		}
	nn_replay_destroy(&c);
}

/* Different secrets place keys differently but behave the same; the secret matters only for
 * collision resistance against chosen keys. Colliding probe chains: many keys, tiny table. */
static void test_chains_and_secrets(void **state)
{
	for (uint8_t s = 0; s < 4; s++) {
		uint8_t secret[NN_REPLAY_SECRET_LEN];
		memset(secret, s, sizeof secret);
		nn_replay c;
		assert_int_equal(nn_replay_create(&c, 4, secret), 0);
		for (uint32_t i = 0; i < 8; i++)
			assert_int_equal(check(&c, i, 100, 0), 0);
		for (uint32_t i = 0; i < 8; i++)
			assert_int_equal(check(&c, i, 100, 0), NN_EREPLAY);
		assert_int_equal(check(&c, 8, 100, 0), NN_ELIMIT);
		nn_replay_destroy(&c);
	}
}

static void test_init_and_memory(void **state)
{
	nn_replay c;
	assert_int_equal(nn_replay_mem_size(0), 0);
	assert_int_equal(nn_replay_mem_size(NN_REPLAY_GEN_CAP_MAX + 1), 0);
	/* the default: 2 x 65,536 slots of 24 bytes */
	assert_int_equal(nn_replay_mem_size(NN_REPLAY_GEN_CAP), 2 * 65536 * sizeof(nn_replay_slot));
	size_t need = nn_replay_mem_size(100);
	uint64_t *mem = malloc(need);
	assert_non_null(mem);
	assert_int_equal(nn_replay_init(&c, mem, need - 1, 100, SECRET), NN_EINVAL);
	assert_int_equal(nn_replay_init(&c, (uint8_t *)mem + 1, need - 8, 100, SECRET), NN_EINVAL);
	assert_int_equal(nn_replay_init(&c, mem, need, 0, SECRET), NN_EINVAL);
	assert_int_equal(nn_replay_init(&c, mem, need, 100, SECRET), 0);
	/* no allocation per operation, whatever happens */
	uint64_t before = nn_test_allocs();
	for (uint32_t i = 0; i < 1000; i++) {
		int rc = check(&c, i, 100 + i / 50, i / 10);
		assert_true(rc == 0 || rc == NN_ELIMIT);
		assert_int_equal(check(&c, i, 100 + i / 50, i / 10), rc == 0 ? NN_EREPLAY : NN_ELIMIT);
	}
	assert_int_equal(nn_test_allocs() - before, 0);
	nn_replay_destroy(&c); /* caller memory: not freed by the cache */
	free(mem);
	assert_int_equal(nn_replay_check(&c, "k", 1, 1, 0), NN_EINVAL);
}

/* The full default size works and holds 65,536 live keys. */
static void test_default_capacity(void **state)
{
	nn_replay c;
	assert_int_equal(nn_replay_create(&c, NN_REPLAY_GEN_CAP, SECRET), 0);
	for (uint32_t i = 0; i < 2 * NN_REPLAY_GEN_CAP; i++)
		assert_int_equal(check(&c, i, 10, 0), 0);
	assert_int_equal(check(&c, 2 * NN_REPLAY_GEN_CAP, 10, 0), NN_ELIMIT);
	assert_int_equal(check(&c, 0, 10, 0), NN_EREPLAY);
	assert_int_equal(check(&c, 2 * NN_REPLAY_GEN_CAP - 1, 10, 0), NN_EREPLAY);
	nn_replay_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_flood_never_evicts_live_keys),
		cmocka_unit_test(test_steady_stream),
		cmocka_unit_test(test_chains_and_secrets),
		cmocka_unit_test(test_init_and_memory),
		cmocka_unit_test(test_default_capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
