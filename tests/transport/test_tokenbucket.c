/* test_tokenbucket.c — the token bucket behind every rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "transport/tokenbucket.h"

static void test_burst_then_refill(void **st)
{
	nn_tbucket b;
	nn_tbucket_init(&b, 10, 5); /* 10/s, burst 5 */
	nn_time t = 1000 * NN_SEC;
	assert_true(nn_tbucket_peek(&b, t) == 5); /* starts full */
	for (int i = 0; i < 5; i++)
		assert_true(nn_tbucket_take(&b, 1, t));
	assert_false(nn_tbucket_take(&b, 1, t)); /* exactly the burst */
	/* 100 ms later: one token */
	assert_true(nn_tbucket_take(&b, 1, t + 100 * NN_MS));
	assert_false(nn_tbucket_take(&b, 1, t + 100 * NN_MS));
	/* a long pause refills only up to the burst */
	assert_true(nn_tbucket_peek(&b, t + 100 * NN_SEC) == 5);
}

static void test_refused_consumes_nothing(void **st)
{
	nn_tbucket b;
	nn_tbucket_init(&b, 1, 3);
	assert_true(nn_tbucket_take(&b, 2, 0));
	assert_false(nn_tbucket_take(&b, 2, 0)); /* 1 left, 2 asked */
	assert_true(nn_tbucket_peek(&b, 0) == 1);
	assert_true(nn_tbucket_take(&b, 1, 0));
}

static void test_time_backwards(void **st)
{
	nn_tbucket b;
	nn_tbucket_init(&b, 1000, 2);
	nn_time t = 50 * NN_SEC;
	assert_true(nn_tbucket_take(&b, 2, t));
	assert_false(nn_tbucket_take(&b, 1, t - 10 * NN_SEC)); /* going back adds nothing */
	assert_true(nn_tbucket_peek(&b, t - 10 * NN_SEC) == 0);
	/* and does not move "last" back: 1.5 ms later there are 1.5 tokens, not a full burst */
	assert_true(nn_tbucket_take(&b, 1, t + 1500 * NN_US));
	assert_false(nn_tbucket_take(&b, 1, t + 1500 * NN_US));
}

/* The bare state with its rate and burst passed in behaves exactly as the bucket does. */
static void test_state_matches_bucket(void **st)
{
	nn_tbucket b;
	nn_tbucket_init(&b, 3, 4);
	nn_tbucket_state s;
	memset(&s, 0, sizeof s); /* zeroed = not started, like nn_tbucket_state_init */
	assert_true(nn_tbucket_state_peek(&s, 3, 4, 0) == 4);
	nn_time t = 7 * NN_SEC;
	for (int i = 0; i < 40; i++) {
		nn_time now = t + (nn_time)(i % 7) * 90 * NN_MS * (i / 7);
		double n = (i % 3) ? 1.0 : 2.5;
		assert_true(nn_tbucket_take(&b, n, now) == nn_tbucket_state_take(&s, 3, 4, n, now));
		assert_true(nn_tbucket_peek(&b, now) == nn_tbucket_state_peek(&s, 3, 4, now));
	}
	assert_true(sizeof(nn_tbucket_state) <= 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_refused_consumes_nothing),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_state_matches_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
