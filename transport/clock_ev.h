/* clock_ev.h — the real-time clock on a libev loop (production; QUIC transport, daemon).
 *
 * Monotonic time is CLOCK_MONOTONIC, wall time CLOCK_REALTIME, randomness getrandom(2)-seeded
 * xoshiro256** (timing jitter only, never keys). The clock drives all its nn_timers with one
 * ev_timer armed for the earliest deadline, so transports and the node share one loop. The loop
 * is the caller's (embeddable: we never create a thread or a default loop); nn_clock_run runs
 * ev_run(EV_RUN_ONCE) turns until the predicate holds or the deadline passes. Destroying the
 * clock stops its watchers; the loop stays the caller's.
 */
#ifndef NN_TRANSPORT_CLOCK_EV_H
#define NN_TRANSPORT_CLOCK_EV_H

#include <ev.h>

#include "transport/clock.h"

/* NULL on allocation failure. */
nn_clock *nn_evclock_new(struct ev_loop *loop);
struct ev_loop *nn_evclock_loop(nn_clock *c);
bool nn_clock_is_ev(const nn_clock *c);

#endif
