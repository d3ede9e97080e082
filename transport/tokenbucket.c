/* tokenbucket.c — refill-on-use token bucket. */
#include "transport/tokenbucket.h"

void nn_tbucket_state_init(nn_tbucket_state *s)
{
	s->tokens = 0;
	s->last = 0;
	s->started = false;
}

void nn_tbucket_init(nn_tbucket *b, double rate, double burst)
{
	b->rate = rate;
	b->burst = burst;
	nn_tbucket_state_init(&b->s);
}

static double level(const nn_tbucket_state *s, double rate, double burst, nn_time now)
{
	if (!s->started)
		return burst;
	double t = s->tokens;
	if (now > s->last)
		t += (double)(now - s->last) / (double)NN_SEC * rate;
	return t > burst ? burst : t;
}

bool nn_tbucket_state_take(nn_tbucket_state *s, double rate, double burst, double n, nn_time now)
{
	double t = level(s, rate, burst, now);
	if (!s->started || now > s->last)
		s->last = now;
	s->started = true;
	s->tokens = t;
	if (t < n)
		return false;
	s->tokens = t - n;
	return true;
}

double nn_tbucket_state_peek(const nn_tbucket_state *s, double rate, double burst, nn_time now)
{
	return level(s, rate, burst, now);
}

bool nn_tbucket_take(nn_tbucket *b, double n, nn_time now)
{
	return nn_tbucket_state_take(&b->s, b->rate, b->burst, n, now);
}

double nn_tbucket_peek(const nn_tbucket *b, nn_time now)
{
	return level(&b->s, b->rate, b->burst, now);
}
