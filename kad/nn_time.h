/* nn_time.h — the one time type: signed 64-bit nanoseconds.
 *
 * Wall-clock instants (envelope "sent" fields) are nanoseconds since the Unix epoch, as on the
 * wire; monotonic instants (timers, buckets, idle detection) come from the clock interface in
 * transport/clock.h and are nanoseconds since an arbitrary origin. Pure layers never read a
 * clock: they take `now` as a parameter.
 */
#ifndef NN_TIME_H
#define NN_TIME_H

#include <stdint.h>

typedef int64_t nn_time;

#define NN_NS ((nn_time)1)
#define NN_US ((nn_time)1000)
#define NN_MS ((nn_time)1000000)
#define NN_SEC ((nn_time)1000000000)

#endif
