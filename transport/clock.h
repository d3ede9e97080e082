/* clock.h — the clock and one-shot timers every non-pure layer uses; one loop, one thread.
 *
 * A clock gives monotonic time (nn_time ns since an arbitrary origin), wall time (ns since the
 * Unix epoch, for wire timestamps), a random source, one-shot timers, and a way to run the loop
 * until a predicate holds or a deadline passes (tests, simulation, shutdown). Two
 * implementations: the virtual-time scheduler (nn_vclock_new, below) and libev
 * (transport/clock_ev.h).
 *
 * Timers live in caller storage (embed an nn_timer in your struct; no allocation per timer).
 * All timers of a clock sit in one binary heap ordered by (when, start sequence): timers due at
 * the same instant fire in the order they were started — that is what makes virtual runs
 * deterministic. The heap grows geometrically and never shrinks, so a steady state allocates
 * nothing. A timer callback may start/stop any timer (its own included) and may free the
 * struct holding its own timer; it must not block.
 *
 * Threading: a clock and its timers belong to the thread that runs its loop. Nothing here is
 * thread-safe.
 */
#ifndef NN_TRANSPORT_CLOCK_H
#define NN_TRANSPORT_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/nn_err.h"
#include "kad/nn_time.h"

typedef struct nn_clock nn_clock;
typedef struct nn_timer nn_timer;
typedef void (*nn_timer_cb)(nn_timer *t, void *arg);

struct nn_timer {
	nn_time when;   /* absolute monotonic deadline while armed */
	uint64_t seq;   /* start order, breaks ties */
	uint32_t slot;  /* heap index + 1; 0 = not armed */
	nn_timer_cb cb;
	void *arg;
};

typedef struct nn_clock_ops {
	const char *name;
	nn_time (*now)(nn_clock *c);
	nn_time (*wall)(nn_clock *c);
	/* The earliest deadline changed (heap top); real-time clocks re-arm their OS timer. */
	void (*rearm)(nn_clock *c);
	/* See nn_clock_run. */
	int (*run)(nn_clock *c, bool (*pred)(void *arg), void *arg, nn_time deadline);
	uint64_t (*rand)(nn_clock *c);
	void (*destroy)(nn_clock *c);
} nn_clock_ops;

/* Base struct; implementations embed it first. Fields are for implementations. */
struct nn_clock {
	const nn_clock_ops *ops;
	nn_timer **heap;
	uint32_t n, cap;
	uint64_t seq;
	uint64_t fired; /* timers fired so far */
};

static inline nn_time nn_clock_now(nn_clock *c) { return c->ops->now(c); }
static inline nn_time nn_clock_wall(nn_clock *c) { return c->ops->wall(c); }
static inline uint64_t nn_clock_rand(nn_clock *c) { return c->ops->rand(c); }
/* Uniform in [0, n) (n > 0; returns 0 for n == 0). */
uint64_t nn_clock_rand_below(nn_clock *c, uint64_t n);

/* Run the loop until pred(arg) is true (checked before running and after every timer or I/O
 * event; pred may be NULL = never) or monotonic time reaches `deadline`. Returns 0 when pred
 * held, NN_ETIMEDOUT at the deadline. The virtual clock jumps straight from event to event and,
 * when no timer is due before the deadline, to the deadline itself. */
static inline int nn_clock_run(nn_clock *c, bool (*pred)(void *arg), void *arg, nn_time deadline)
{
	return c->ops->run(c, pred, arg, deadline);
}
static inline void nn_clock_destroy(nn_clock *c)
{
	if (c)
		c->ops->destroy(c);
}

void nn_timer_init(nn_timer *t, nn_timer_cb cb, void *arg);
/* Arm (or re-arm) t to fire once at absolute time `when` (a past `when` fires at the next
 * turn). Returns 0, or NN_ENOMEM when the heap had to grow and could not. */
int nn_timer_start(nn_clock *c, nn_timer *t, nn_time when);
static inline int nn_timer_start_in(nn_clock *c, nn_timer *t, nn_time delay)
{
	return nn_timer_start(c, t, nn_clock_now(c) + (delay > 0 ? delay : 0));
}
/* Disarm; harmless if not armed. */
void nn_timer_stop(nn_clock *c, nn_timer *t);
static inline bool nn_timer_armed(const nn_timer *t) { return t->slot != 0; }
/* Pre-size the heap for n armed timers (so later starts cannot fail). */
int nn_clock_reserve(nn_clock *c, uint32_t n);

/* ---- for implementations ---- */
int nn_clock_base_init(nn_clock *c, const nn_clock_ops *ops);
void nn_clock_base_fini(nn_clock *c);
/* One step of xoshiro256** over state s (not all zero): the generator behind both clocks'
 * rand(). */
uint64_t nn_clock_xoshiro(uint64_t s[4]);
/* Earliest armed timer or NULL. */
static inline nn_timer *nn_clock_peek(const nn_clock *c) { return c->n ? c->heap[0] : NULL; }
/* Disarm and fire the earliest timer if it is due at `now`; true if one fired. */
bool nn_clock_fire_one(nn_clock *c, nn_time now);

/* ---- the virtual-time discrete-event scheduler ----
 * Time starts at `start` (monotonic) and wall time is wall_origin + (now - start). rand() is a
 * xoshiro256** stream seeded from `seed` (splitmix64), so one seed gives one run, bit for bit.
 * It never sleeps. */
nn_clock *nn_vclock_new(uint64_t seed, nn_time start, nn_time wall_origin);
/* Virtual clocks only: move time forward to t, firing everything due on the way (= run with no
 * predicate). */
int nn_vclock_advance(nn_clock *c, nn_time t);
bool nn_clock_is_virtual(const nn_clock *c);

#endif
