/* overlay.h — a loopback QUIC overlay of N real nodes in one process, for benchmarks.
 *
 * Nodes are spread round-robin over a few threads, each running its own libev loop; a node
 * lives on its loop's thread only (docs/API.md, threading). The harness acts on a node from
 * the main thread through nn_node_call (nn_ov_exec waits for the function to have run).
 * Node i binds its own loopback address 127.(100 + i/256).(i%256).1 on an ephemeral port: one
 * /24 per node, so neither the QUIC per-IP inbound cap nor the knowledge table's per-subnet cap
 * (8 contacts per /24) sees the overlay as one crowd.
 *
 * Use: nn_ov_new (nodes created, loops running), nn_ov_join (bootstrap in waves),
 * nn_ov_settle (every node at KMin, then a quiet period), measure with nn_ov_exec and the
 * hooks, nn_ov_free (graceful stop, loops joined, nodes freed). Hooks run on the node's loop
 * thread; they record what they need and call nn_ov_notify to wake nn_ov_wait.
 */
#ifndef NN_BENCH_OVERLAY_H
#define NN_BENCH_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/nodenet.h"

typedef struct nn_ov nn_ov;

/* Called on node `at`'s loop thread; `peer` is the other node's index (SIZE_MAX: not ours). */
typedef struct nn_ov_hooks {
	void *ctx;
	void (*on_message)(void *ctx, size_t at, size_t peer, const uint8_t *data, size_t len);
	void (*on_direct)(void *ctx, size_t at, size_t peer, const uint8_t *data, size_t len);
	void (*on_edge)(void *ctx, size_t at, size_t peer, bool up);
	/* the node's admit_edge: false refuses (and keeps maintenance from dialling) the peer */
	bool (*admit_edge)(void *ctx, size_t at, size_t peer, bool inbound);
} nn_ov_hooks;

typedef struct nn_ov_opts {
	size_t nodes;        /* N (at most 5,120) */
	unsigned threads;    /* loops [2] */
	int pow;             /* network PoW; > 0 mints each seed [0: deterministic seeds] */
	int64_t tick_ms;     /* maintenance tick [0: the node's default, 5 s] */
	size_t wave;         /* nodes bootstrapped per wave [20] */
	int log_level;       /* [NN_LOG_ERROR]; lines go to stderr prefixed with the node index */
	nn_ov_hooks hooks;
} nn_ov_opts;

/* What nn_ov_settle saw last: edges per node, and edge churn over the quiet window. */
typedef struct nn_ov_shape {
	size_t min_edges, max_edges, min_out;
	double mean_edges;
	uint64_t churn;    /* edges up + down, all nodes, during the last window */
	uint64_t knowledge_min;
} nn_ov_shape;

/* Create the nodes and start the loops. */
int nn_ov_new(nn_ov **out, const nn_ov_opts *o);
/* Graceful stop of every node, then join the loops and free everything. NULL is fine. */
void nn_ov_free(nn_ov *ov);

/* Node 0 starts alone; then waves of o->wave nodes bootstrap, each from a random node that
 * already joined; a wave is done when each of its nodes has an edge. 0, or NN_ETIMEDOUT. */
int nn_ov_join(nn_ov *ov, double timeout_s);
/* Wait until every node has >= KMin (3) edges and the overlay's edge churn over the last
 * `quiet_s` seconds is at most `max_churn` events. Prints a progress line per window to
 * stderr. 0, or NN_ETIMEDOUT (shape still filled in). */
int nn_ov_settle(nn_ov *ov, double quiet_s, uint64_t max_churn, double timeout_s,
		 nn_ov_shape *shape);

size_t nn_ov_len(const nn_ov *ov);
const nn_id *nn_ov_id(const nn_ov *ov, size_t i);
/* Node i's advertised address ("127.100.x.1:port"). */
const char *nn_ov_addr(const nn_ov *ov, size_t i);
/* Index of a node of the overlay, or SIZE_MAX. Any thread. */
size_t nn_ov_index(const nn_ov *ov, const nn_id *id);

/* Run fn(node, arg) on node i's loop thread and wait until it returned. */
int nn_ov_exec(nn_ov *ov, size_t i, void (*fn)(nn_node *n, void *arg), void *arg);
/* Is there a live edge between i and j (as i sees it)? */
bool nn_ov_is_edge(nn_ov *ov, size_t i, size_t j);
/* Summed counters of every node (each read on its own thread). */
void nn_ov_stats(nn_ov *ov, nn_node_stats *sum);

/* Wake nn_ov_wait (from a hook). */
void nn_ov_notify(nn_ov *ov);
/* Wait until pred(arg) holds (checked after each notify and every 50 ms) or timeout_s passes.
 * true if pred held. */
bool nn_ov_wait(nn_ov *ov, bool (*pred)(void *arg), void *arg, double timeout_s);

/* Monotonic nanoseconds, comparable across the process's threads. */
int64_t nn_ov_now_ns(void);
/* Sort ms[0..n) and print "bench <name>: n <n> p50 .. p90 .. p99 .. max .. ms<tail>". */
void nn_ov_print_dist(const char *name, double *ms, size_t n, const char *tail);

#endif
