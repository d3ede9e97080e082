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

/* A bucket's state without its configuration: for tables of many buckets that share one rate
 * and burst (one per edge, one per originator), 24 bytes instead of 40. The caller passes the
 * same rate and burst on every call. All zeros = not started (the first use fills it). */
typedef struct nn_tbucket_state {
	double tokens;
	nn_time last;
	bool started;
} nn_tbucket_state;

typedef struct nn_tbucket {
	double rate;   /* tokens per second */
	double burst;  /* capacity */
	nn_tbucket_state s;
} nn_tbucket;

void nn_tbucket_init(nn_tbucket *b, double rate, double burst);
/* Consume n tokens if available at `now`; true if they were. */
bool nn_tbucket_take(nn_tbucket *b, double n, nn_time now);
/* Tokens available at `now`, consuming nothing. */
double nn_tbucket_peek(const nn_tbucket *b, nn_time now);

/* The same on a bare state with its rate and burst; nn_tbucket_state_init zeroes it. */
void nn_tbucket_state_init(nn_tbucket_state *s);
bool nn_tbucket_state_take(nn_tbucket_state *s, double rate, double burst, double n, nn_time now);
double nn_tbucket_state_peek(const nn_tbucket_state *s, double rate, double burst, nn_time now);

#endif
