/* vclock.c — the virtual-time discrete-event scheduler: jumps from timer to timer, never
 * sleeps; same seed and same sequence of calls give the same run, bit for bit. */
#include <stdlib.h>

#include "transport/clock.h"

typedef struct nn_vclock {
	nn_clock base;
	nn_time now, start, wall_origin;
	uint64_t s[4]; /* xoshiro256** state */
} nn_vclock;

static nn_time v_now(nn_clock *c) { return ((nn_vclock *)c)->now; }

static nn_time v_wall(nn_clock *c)
{
	nn_vclock *v = (nn_vclock *)c;
	return v->wall_origin + (v->now - v->start);
}

static void v_rearm(nn_clock *c) { (void)c; }

static uint64_t v_rand(nn_clock *c) { return nn_clock_xoshiro(((nn_vclock *)c)->s); }

static int v_run(nn_clock *c, bool (*pred)(void *), void *arg, nn_time deadline)
{
	nn_vclock *v = (nn_vclock *)c;
	for (;;) {
		if (pred && pred(arg))
			return 0;
		const nn_timer *t = nn_clock_peek(c);
		if (!t || t->when > deadline) {
			if (deadline > v->now)
				v->now = deadline;
			return pred && pred(arg) ? 0 : NN_ETIMEDOUT;
		}
		if (t->when > v->now)
			v->now = t->when;
		nn_clock_fire_one(c, v->now);
	}
}

static void v_destroy(nn_clock *c)
{
	nn_clock_base_fini(c);
	free(c);
}

static const nn_clock_ops vclock_ops = {
	.name = "virtual",
	.now = v_now,
	.wall = v_wall,
	.rearm = v_rearm,
	.run = v_run,
	.rand = v_rand,
	.destroy = v_destroy,
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

nn_clock *nn_vclock_new(uint64_t seed, nn_time start, nn_time wall_origin)
{
	nn_vclock *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	if (nn_clock_base_init(&v->base, &vclock_ops) != 0) {
		free(v);
		return NULL;
	}
	v->now = v->start = start;
	v->wall_origin = wall_origin;
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		v->s[i] = splitmix64(&x);
	return &v->base;
}

bool nn_clock_is_virtual(const nn_clock *c) { return c->ops == &vclock_ops; }

int nn_vclock_advance(nn_clock *c, nn_time t)
{
	if (!nn_clock_is_virtual(c))
		return NN_EUNSUPPORTED;
	int rc = v_run(c, NULL, NULL, t);
	return rc == NN_ETIMEDOUT ? 0 : rc;
}
