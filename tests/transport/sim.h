/* sim.h — a random-graph ping-pong workload on the mem hub, shared by the scale test, the
 * determinism test and the benchmark. Every endpoint dials `degree` random others; each new
 * outbound connection starts a ball that bounces `rounds` times. Every sink event is folded
 * into an FNV-1a trace hash (time, endpoint, event, connection serial, frame bytes). */
#ifndef NN_TEST_SIM_H
#define NN_TEST_SIM_H

#include <stdint.h>

#include "transport/mem/mem.h"

typedef struct nn_sim_opts {
	uint32_t n, degree, rounds;
	uint64_t seed;
	nn_mem_link link;
	uint32_t frame_len; /* >= 4 */
} nn_sim_opts;

typedef struct nn_sim_result {
	uint64_t trace, conns, frames, bad, eagain, dial_failed;
	nn_time vtime;   /* virtual time the run took */
	double wall_s;   /* real seconds, setup and teardown included */
	double run_s;    /* real seconds inside the loop (dials complete and frames flow) */
	uint64_t allocs; /* heap allocations during the run */
	int rc;          /* nn_clock_run result */
} nn_sim_result;

int nn_sim_run(const nn_sim_opts *o, nn_sim_result *r);

#endif
