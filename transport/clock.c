/* clock.c — the timer heap shared by every clock: a binary min-heap on (when, seq). */
#include <stdlib.h>

#include "transport/clock.h"

static bool before(const nn_timer *a, const nn_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(nn_clock *c, uint32_t i, nn_timer *t)
{
	c->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(nn_clock *c, uint32_t i)
{
	nn_timer *t = c->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!before(t, c->heap[p]))
			break;
		place(c, i, c->heap[p]);
		i = p;
	}
	place(c, i, t);
}

static void sift_down(nn_clock *c, uint32_t i)
{
	nn_timer *t = c->heap[i];
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		const nn_timer *best = t;
		if (l < c->n && before(c->heap[l], best)) {
			m = l;
			best = c->heap[l];
		}
		if (l + 1 < c->n && before(c->heap[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		place(c, i, c->heap[m]);
		i = m;
	}
	place(c, i, t);
}

int nn_clock_reserve(nn_clock *c, uint32_t n)
{
	if (n <= c->cap)
		return 0;
	nn_timer **h = realloc(c->heap, (size_t)n * sizeof *h);
	if (!h)
		return NN_ENOMEM;
	c->heap = h;
	c->cap = n;
	return 0;
}

int nn_clock_base_init(nn_clock *c, const nn_clock_ops *ops)
{
	c->ops = ops;
	c->heap = NULL;
	c->n = c->cap = 0;
	c->seq = 0;
	c->fired = 0;
	return nn_clock_reserve(c, 64);
}

void nn_clock_base_fini(nn_clock *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		c->heap[i]->slot = 0;
	free(c->heap);
	c->heap = NULL;
	c->n = c->cap = 0;
}

void nn_timer_init(nn_timer *t, nn_timer_cb cb, void *arg)
{
	t->when = 0;
	t->seq = 0;
	t->slot = 0;
	t->cb = cb;
	t->arg = arg;
}

static void remove_at(nn_clock *c, uint32_t i)
{
	nn_timer *t = c->heap[i];
	t->slot = 0;
	c->n--;
	if (i == c->n)
		return;
	nn_timer *last = c->heap[c->n];
	place(c, i, last);
	if (i > 0 && before(last, c->heap[(i - 1) / 2]))
		sift_up(c, i);
	else
		sift_down(c, i);
}

int nn_timer_start(nn_clock *c, nn_timer *t, nn_time when)
{
	const nn_timer *top = nn_clock_peek(c);
	if (t->slot)
		remove_at(c, t->slot - 1);
	else if (c->n == c->cap) {
		uint32_t ncap = c->cap ? c->cap * 2 : 64;
		if (ncap < c->cap || nn_clock_reserve(c, ncap) != 0)
			return NN_ENOMEM;
	}
	t->when = when;
	t->seq = ++c->seq;
	place(c, c->n++, t);
	sift_up(c, c->n - 1);
	if (nn_clock_peek(c) != top || top == t)
		c->ops->rearm(c);
	return 0;
}

void nn_timer_stop(nn_clock *c, nn_timer *t)
{
	if (!t->slot)
		return;
	bool was_top = t->slot == 1;
	remove_at(c, t->slot - 1);
	if (was_top)
		c->ops->rearm(c);
}

bool nn_clock_fire_one(nn_clock *c, nn_time now)
{
	nn_timer *t = nn_clock_peek(c);
	if (!t || t->when > now)
		return false;
	remove_at(c, 0);
	c->fired++;
	t->cb(t, t->arg);
	return true;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t nn_clock_xoshiro(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

uint64_t nn_clock_rand_below(nn_clock *c, uint64_t n)
{
	if (n == 0)
		return 0;
	/* Lemire's unbiased range reduction via rejection. */
	uint64_t x, lim = -n % n;
	do {
		x = nn_clock_rand(c);
	} while (x < lim);
	return x % n;
}
