/* tokenbucket.c — refill-on-use token bucket. */
#include "transport/tokenbucket.h"

void nn_tbucket_init(nn_tbucket *b, double rate, double burst)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = burst;
	b->last = 0;
	b->started = false;
}

static double level(const nn_tbucket *b, nn_time now)
{
	if (!b->started)
		return b->burst;
	double t = b->tokens;
	if (now > b->last)
		t += (double)(now - b->last) / (double)NN_SEC * b->rate;
	return t > b->burst ? b->burst : t;
}

bool nn_tbucket_take(nn_tbucket *b, double n, nn_time now)
{
	double t = level(b, now);
	if (!b->started || now > b->last)
		b->last = now;
	b->started = true;
	b->tokens = t;
	if (t < n)
		return false;
	b->tokens = t - n;
	return true;
}

double nn_tbucket_peek(const nn_tbucket *b, nn_time now) { return level(b, now); }
