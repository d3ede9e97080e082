/* test_clock.c — timer heap ordering against an oracle, the virtual scheduler (determinism,
 * run/deadline semantics, re-entrant timers, zero allocations), and the libev clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/support/alloc_count.h"
#include "tests/support/testutil.h"
#include "transport/clock.h"
#include "transport/clock_ev.h"

typedef struct log {
	int order[1024];
	nn_time at[1024];
	int n;
	nn_clock *clk;
} log_t;

typedef struct tt {
	nn_timer t;
	int id;
	log_t *log;
	/* behaviours */
	nn_timer *stop_other;
	nn_timer *start_other;
	nn_time start_other_at;
} tt;

static void fire(nn_timer *t, void *arg)
{
	tt *x = arg;
	x->log->order[x->log->n] = x->id;
	x->log->at[x->log->n++] = nn_clock_now(x->log->clk);
	if (x->stop_other)
		nn_timer_stop(x->log->clk, x->stop_other);
	if (x->start_other)
		nn_timer_start(x->log->clk, x->start_other, x->start_other_at);
}

static void test_order_and_ties(void **st)
{
	nn_clock *c = nn_vclock_new(1, 0, 0);
	log_t lg = {.clk = c};
	tt t[6];
	for (int i = 0; i < 6; i++) {
		memset(&t[i], 0, sizeof t[i]);
		t[i].id = i;
		t[i].log = &lg;
		nn_timer_init(&t[i].t, fire, &t[i]);
	}
	nn_timer_start(c, &t[0].t, 30);
	nn_timer_start(c, &t[1].t, 10);
	nn_timer_start(c, &t[2].t, 20);
	nn_timer_start(c, &t[3].t, 10); /* same time as 1: after it */
	nn_timer_start(c, &t[4].t, 10);
	nn_timer_start(c, &t[1].t, 10); /* restarted: now after 3 and 4 */
	nn_timer_start(c, &t[5].t, 5);
	nn_timer_stop(c, &t[5].t);      /* stopped: never fires */
	assert_false(nn_timer_armed(&t[5].t));
	assert_int_equal(nn_clock_run(c, NULL, NULL, 100), NN_ETIMEDOUT);
	int want[] = {3, 4, 1, 2, 0};
	assert_int_equal(lg.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(lg.order[i], want[i]);
	assert_int_equal(lg.at[0], 10);
	assert_int_equal(lg.at[3], 20);
	assert_int_equal(lg.at[4], 30);
	assert_int_equal(nn_clock_now(c), 100); /* time ends at the deadline */
	nn_clock_destroy(c);
}

static void test_reentrant(void **st)
{
	nn_clock *c = nn_vclock_new(1, 0, 0);
	log_t lg = {.clk = c};
	tt a = {.id = 0, .log = &lg}, b = {.id = 1, .log = &lg}, d = {.id = 2, .log = &lg};
	nn_timer_init(&a.t, fire, &a);
	nn_timer_init(&b.t, fire, &b);
	nn_timer_init(&d.t, fire, &d);
	/* a fires at 10, stops b (also due at 10) and starts d at 5 (in the past: fires at once) */
	a.stop_other = &b.t;
	a.start_other = &d.t;
	a.start_other_at = 5;
	nn_timer_start(c, &a.t, 10);
	nn_timer_start(c, &b.t, 10);
	nn_clock_run(c, NULL, NULL, 50);
	assert_int_equal(lg.n, 2);
	assert_int_equal(lg.order[0], 0);
	assert_int_equal(lg.order[1], 2);
	assert_int_equal(lg.at[1], 10); /* time never goes backwards */
	nn_clock_destroy(c);
}

/* Random starts/restarts/stops against an oracle: fire order = sort by (when, last start). */
static void test_heap_oracle(void **st)
{
	enum { N = 400 };
	nn_test_rng r = {42};
	nn_clock *c = nn_vclock_new(7, 0, 0);
	log_t *lg = calloc(1, sizeof *lg);
	lg->clk = c;
	tt *t = calloc(N, sizeof *t);
	uint64_t *last = calloc(N, sizeof *last);
	nn_time *when = calloc(N, sizeof *when);
	bool *armed = calloc(N, sizeof *armed);
	uint64_t seq = 0;
	for (int i = 0; i < N; i++) {
		t[i].id = i;
		t[i].log = lg;
		nn_timer_init(&t[i].t, fire, &t[i]);
	}
	for (int op = 0; op < 3000; op++) {
		int i = (int)(nn_test_rng_next(&r) % N);
		if (nn_test_rng_next(&r) % 4 == 0) {
			nn_timer_stop(c, &t[i].t);
			armed[i] = false;
		} else {
			when[i] = (nn_time)(nn_test_rng_next(&r) % 50); /* many ties */
			nn_timer_start(c, &t[i].t, when[i]);
			last[i] = ++seq;
			armed[i] = true;
		}
	}
	int expect[N], ne = 0;
	for (int i = 0; i < N; i++)
		if (armed[i])
			expect[ne++] = i;
	for (int i = 1; i < ne; i++) /* insertion sort by (when, seq) */
		for (int j = i; j > 0; j--) {
			int p = expect[j - 1], q = expect[j];
			if (when[p] < when[q] || (when[p] == when[q] && last[p] < last[q]))
				break;
			expect[j - 1] = q;
			expect[j] = p;
		}
	nn_clock_run(c, NULL, NULL, 1000);
	assert_int_equal(lg->n, ne);
	for (int i = 0; i < ne; i++)
		assert_int_equal(lg->order[i], expect[i]);
	nn_clock_destroy(c);
	free(lg);
	free(t);
	free(last);
	free(when);
	free(armed);
}

static bool reached(void *arg) { return *(int *)arg >= 3; }

static void count_cb(nn_timer *t, void *arg)
{
	int *n = arg;
	(*n)++;
}

static void test_run_pred_deadline(void **st)
{
	nn_clock *c = nn_vclock_new(1, 1000, 5 * NN_SEC);
	int n = 0;
	nn_timer t[5];
	for (int i = 0; i < 5; i++) {
		nn_timer_init(&t[i], count_cb, &n);
		nn_timer_start(c, &t[i], 1000 + (i + 1) * NN_MS);
	}
	assert_int_equal(nn_clock_run(c, reached, &n, 1 * NN_SEC), 0);
	assert_int_equal(n, 3); /* stopped right after the third */
	assert_int_equal(nn_clock_now(c), 1000 + 3 * NN_MS);
	assert_int_equal(nn_clock_wall(c), 5 * NN_SEC + 3 * NN_MS);
	assert_int_equal(nn_vclock_advance(c, 1000 + 4 * NN_MS), 0);
	assert_int_equal(n, 4);
	assert_int_equal(nn_clock_run(c, NULL, NULL, 2 * NN_SEC), NN_ETIMEDOUT);
	assert_int_equal(n, 5);
	assert_int_equal(nn_clock_now(c), 2 * NN_SEC);
	nn_clock_destroy(c);
}

static void test_rand_determinism(void **st)
{
	nn_clock *a = nn_vclock_new(99, 0, 0), *b = nn_vclock_new(99, 0, 0),
		 *d = nn_vclock_new(100, 0, 0);
	int same_ad = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = nn_clock_rand(a), y = nn_clock_rand(b), z = nn_clock_rand(d);
		assert_true(x == y);
		same_ad += x == z;
		uint64_t v = nn_clock_rand_below(a, 7);
		assert_true(v < 7);
		nn_clock_rand_below(b, 7);
		nn_clock_rand_below(d, 7);
	}
	assert_true(same_ad < 5);
	assert_int_equal(nn_clock_rand_below(a, 0), 0);
	assert_int_equal(nn_clock_rand_below(a, 1), 0);
	nn_clock_destroy(a);
	nn_clock_destroy(b);
	nn_clock_destroy(d);
}

static void rearm_cb(nn_timer *t, void *arg)
{
	nn_clock *c = arg;
	nn_timer_start(c, t, nn_clock_now(c) + 1 + (nn_time)(nn_clock_rand(c) % 100));
}

static void test_no_alloc_steady_state(void **st)
{
	enum { N = 1000 };
	nn_clock *c = nn_vclock_new(3, 0, 0);
	nn_timer *t = calloc(N, sizeof *t);
	for (int i = 0; i < N; i++) {
		nn_timer_init(&t[i], rearm_cb, c);
		nn_timer_start(c, &t[i], i);
	}
	nn_clock_run(c, NULL, NULL, 1000);
	uint64_t a0 = nn_test_allocs(), f0 = c->fired;
	nn_clock_run(c, NULL, NULL, 100000);
	assert_true(c->fired - f0 > 100000);
	assert_int_equal(nn_test_allocs() - a0, 0);
	nn_clock_destroy(c); /* timers still armed: destroy disarms them */
	for (int i = 0; i < N; i++)
		assert_false(nn_timer_armed(&t[i]));
	free(t);
}

static void test_libev_clock(void **st)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	nn_clock *c = nn_evclock_new(loop);
	assert_non_null(c);
	assert_true(nn_clock_is_ev(c));
	assert_false(nn_clock_is_virtual(c));
	int n = 0;
	nn_timer t[3];
	nn_time t0 = nn_clock_now(c);
	for (int i = 0; i < 3; i++) {
		nn_timer_init(&t[i], count_cb, &n);
		nn_timer_start(c, &t[i], t0 + (3 - i) * 5 * NN_MS);
	}
	assert_int_equal(nn_clock_run(c, reached, &n, t0 + 5 * NN_SEC), 0);
	nn_time el = nn_clock_now(c) - t0;
	assert_true(el >= 15 * NN_MS);
	assert_true(el < 2 * NN_SEC);
	/* a deadline with nothing to do times out at about the deadline */
	t0 = nn_clock_now(c);
	assert_int_equal(nn_clock_run(c, NULL, NULL, t0 + 20 * NN_MS), NN_ETIMEDOUT);
	assert_true(nn_clock_now(c) - t0 >= 20 * NN_MS);
	/* a stopped timer never fires */
	nn_timer_start(c, &t[0], nn_clock_now(c) + 5 * NN_MS);
	nn_timer_stop(c, &t[0]);
	n = 0;
	assert_int_equal(nn_clock_run(c, reached, &n, nn_clock_now(c) + 30 * NN_MS), NN_ETIMEDOUT);
	assert_int_equal(n, 0);
	assert_true(nn_clock_wall(c) > 1600000000 * NN_SEC);
	nn_clock_destroy(c);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_ties),
		cmocka_unit_test(test_reentrant),
		cmocka_unit_test(test_heap_oracle),
		cmocka_unit_test(test_run_pred_deadline),
		cmocka_unit_test(test_rand_determinism),
		cmocka_unit_test(test_no_alloc_steady_state),
		cmocka_unit_test(test_libev_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
