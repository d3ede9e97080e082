/* test_pow.c — the leading-zero gate and the minter (result, cancellation, progress, limits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "pow/pow.h"
#include "tests/support/testutil.h"

static void test_gate(void **state)
{
	nn_id id;
	memset(&id, 0, sizeof id);
	id.b[2] = 0x10; /* 19 leading zero bits */
	assert_true(nn_pow_ok(&id, 0));
	assert_true(nn_pow_ok(&id, -5));
	assert_true(nn_pow_ok(&id, 19));
	assert_false(nn_pow_ok(&id, 20));
	assert_int_equal(nn_pow_check(&id, 20), NN_EPOW);
	assert_int_equal(nn_pow_check(&id, 1), 0);
	memset(&id, 0, sizeof id);
	assert_true(nn_pow_ok(&id, 256));
	assert_false(nn_pow_ok(&id, 257));
	id.b[0] = 0x80;
	assert_false(nn_pow_ok(&id, 1));
}

static void check_minted(const uint8_t seed[32], int d)
{
	nn_identity id;
	assert_int_equal(nn_identity_from_seed(&id, seed), 0);
	assert_true(nn_kad_leading_zeros(&id.id) >= (unsigned)d);
	nn_identity_wipe(&id);
}

static void test_mint_meets_difficulty(void **state)
{
	for (int d = 0; d <= 10; d += 5) {
		nn_pow_opts o = {.difficulty = d, .threads = 2};
		uint8_t seed[32];
		uint64_t tries = 0;
		assert_int_equal(nn_pow_mint(&o, seed, &tries), 0);
		assert_true(tries >= 1);
		check_minted(seed, d);
	}
}

static void test_mint_refuses_bad_difficulty(void **state)
{
	uint8_t seed[32];
	nn_pow_opts o = {.difficulty = 257};
	assert_int_equal(nn_pow_mint(&o, seed, NULL), NN_EINVAL);
	o.difficulty = -1;
	assert_int_equal(nn_pow_mint(&o, seed, NULL), NN_EINVAL);
	assert_int_equal(nn_pow_mint(NULL, seed, NULL), NN_EINVAL);
}

struct progress_log {
	int calls;
	uint64_t last;
	double expected;
	int cancel_after;
};

static int on_progress(void *user, uint64_t tries, double expected)
{
	struct progress_log *p = user;
	p->calls++;
	assert_true(tries >= p->last); /* monotonic */
	p->last = tries;
	p->expected = expected;
	return p->cancel_after && p->calls >= p->cancel_after;
}

static void test_mint_cancel_by_progress(void **state)
{
	/* d = 60 never finishes: cancellation is the only way out */
	struct progress_log p = {.cancel_after = 3};
	nn_pow_opts o = {.difficulty = 60, .threads = 2, .progress = on_progress, .user = &p,
			 .progress_ms = 10};
	uint8_t seed[32];
	uint64_t tries = 0;
	assert_int_equal(nn_pow_mint(&o, seed, &tries), NN_ECANCELED);
	assert_int_equal(p.calls, 3);
	assert_true(p.expected == 1152921504606846976.0); /* 2^60 */
	assert_true(tries > 0);
}

struct canceller {
	atomic_int *flag;
};

static void *cancel_soon(void *arg)
{
	struct canceller *c = arg;
	usleep(50 * 1000);
	atomic_store(c->flag, 1);
	return NULL;
}

static void test_mint_cancel_by_flag(void **state)
{
	atomic_int flag;
	atomic_init(&flag, 0);
	struct canceller c = {&flag};
	pthread_t t;
	pthread_create(&t, NULL, cancel_soon, &c);
	nn_pow_opts o = {.difficulty = 64, .threads = 2, .cancel = &flag, .progress_ms = 5};
	uint8_t seed[32];
	assert_int_equal(nn_pow_mint(&o, seed, NULL), NN_ECANCELED);
	pthread_join(t, NULL);
}

static void seeded_rng(void *user, uint8_t *buf, size_t len)
{
	nn_test_rng_fill(user, buf, len);
}

static void test_mint_deterministic_with_injected_rng(void **state)
{
	uint8_t a[32], b[32];
	nn_test_rng r1 = {1234}, r2 = {1234};
	nn_pow_opts o = {.difficulty = 6, .threads = 1, .rng = seeded_rng, .rng_user = &r1};
	assert_int_equal(nn_pow_mint(&o, a, NULL), 0);
	o.rng_user = &r2;
	assert_int_equal(nn_pow_mint(&o, b, NULL), 0);
	assert_memory_equal(a, b, 32);
	check_minted(a, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_mint_meets_difficulty),
		cmocka_unit_test(test_mint_refuses_bad_difficulty),
		cmocka_unit_test(test_mint_cancel_by_progress),
		cmocka_unit_test(test_mint_cancel_by_flag),
		cmocka_unit_test(test_mint_deterministic_with_injected_rng),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
