/* tokenbucket.h — the token bucket behind every rate limit (pure; time is a parameter).
 *
 * Holds (tokens, last). The first use fills it (tokens = burst). Each take adds elapsed
 * seconds x rate, caps at burst, then consumes n tokens if at least n are there; a refused
 * take consumes nothing. Time going backwards adds nothing. Local policy: rates and bursts
 * are configuration.
 */
#ifndef NN_TRANSPORT_TOKENBUCKET_H
#define NN_TRANSPORT_TOKENBUCKET_H

#include <stdbool.h>

#include "kad/nn_time.h"

typedef struct nn_tbucket {
	double rate;   /* tokens per second */
	double burst;  /* capacity */
	double tokens;
	nn_time last;
	bool started;
} nn_tbucket;

void nn_tbucket_init(nn_tbucket *b, double rate, double burst);
/* Consume n tokens if available at `now`; true if they were. */
bool nn_tbucket_take(nn_tbucket *b, double n, nn_time now);
/* Tokens available at `now`, consuming nothing. */
double nn_tbucket_peek(const nn_tbucket *b, nn_time now);

#endif
