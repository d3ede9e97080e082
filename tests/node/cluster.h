/* cluster.h — a deterministic cluster of nodes on the in-memory transport in virtual time.
 *
 * Every node gets a seed from the cluster's seeded RNG (minted to meet `pow` when pow > 0), a
 * mem endpoint "n<i>" keyed with its identity, and records what it receives. All nodes share
 * one scratch buffer (one thread). Same seed, same run, when the process's randomness is seeded
 * too (cl_seed_randombytes): the nodes draw table keys, nonces and lookup targets from
 * libsodium's randombytes. */
#ifndef NN_TEST_CLUSTER_H
#define NN_TEST_CLUSTER_H

#include "node/node_impl.h"
#include "tests/support/testutil.h"
#include "transport/mem/mem.h"

typedef struct cl_msg {
	uint32_t to, from_idx;
	nn_id from;
	uint64_t tag; /* first 8 payload bytes */
	size_t len;
	nn_time at; /* virtual time of delivery */
} cl_msg;

typedef struct cluster cluster;

typedef struct cl_node {
	cluster *cl;
	uint32_t idx;
	nn_node *node;
	nn_tp *tp;
	uint8_t seed[32];
	nn_id id;
	bool up;
} cl_node;

struct cluster {
	nn_clock *clk;
	nn_pool pool;
	nn_mem_hub *hub;
	uint8_t *scratch;
	cl_node *nodes;
	uint32_t n;
	nn_test_rng rng;
	int pow;
	nn_node_opts base; /* options every node starts with */
	uint32_t caps;     /* transport capabilities of new endpoints (NN_TP_CAP_*) [0] */
	cl_msg *msgs;
	size_t nmsgs, capmsgs;
	uint64_t direct_rx;
};

/* Seeded randomness for a whole test or simulation process: libsodium's randombytes replaced
 * by a seeded splitmix64 stream. cl_seed_randombytes installs it and must come before
 * sodium_init (first thing in main; NN_EINVAL if libsodium refuses); cl_reseed_randombytes
 * restarts the stream, so a test's run does not depend on the tests before it. Never outside
 * a test or a simulation. */
int cl_seed_randombytes(uint64_t seed);
void cl_reseed_randombytes(uint64_t seed);

/* n nodes (not started). base may be NULL. */
cluster *cl_new(uint32_t n, uint64_t seed, int pow, const nn_node_opts *base);
void cl_free(cluster *cl);
/* Start nodes [from, to), then bootstrap each of them (node 0 excepted) from node 0, 20 ms
 * apart. Returns 0 or the first error. */
int cl_join(cluster *cl, uint32_t from, uint32_t to);
/* Create node i's endpoint and node. */
int cl_start(cluster *cl, uint32_t i);
/* Destroy node i abruptly (a crash: no Leave) or gracefully (Leave first). */
void cl_kill(cluster *cl, uint32_t i, bool graceful);
/* Bootstrap node i from node j. */
int cl_bootstrap(cluster *cl, uint32_t i, uint32_t j);
/* Advance virtual time. */
void cl_run(cluster *cl, nn_time dt);
/* Number of messages to node `to` carrying tag. */
size_t cl_count(const cluster *cl, uint32_t to, uint64_t tag);
/* Send a tagged message from i to j. */
int cl_send(cluster *cl, uint32_t i, uint32_t j, uint64_t tag);
size_t cl_edges(const cluster *cl, uint32_t i);
/* Print the non-zero counters summed over live nodes ("# stat name value"). */
void cl_print_stats(cluster *cl);

/* A raw endpoint that speaks frames by hand: a hostile or odd peer. It counts the frames it
 * receives and keeps the last one; c is NULL once the connection closed. */
typedef struct cl_raw {
	nn_tp *tp;
	nn_conn *c;
	int closed;
	size_t frames;
	uint8_t last[2048];
	size_t last_len;
} cl_raw;
/* A mem endpoint `name` with the identity of seed, waiting to be dialled. */
void cl_raw_listen(cluster *cl, cl_raw *r, const char *name, const uint8_t seed[32]);
/* A mem endpoint "raw" with the identity of seed, dialled to node `to` (connected, not yet
 * registered there: it registers on its first frame). */
void cl_raw_connect(cluster *cl, cl_raw *r, const uint8_t seed[32], uint32_t to);

#endif
