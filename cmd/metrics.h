/* metrics.h — nodenet-node's Prometheus endpoint (`-metrics 127.0.0.1:9100`).
 *
 * A tiny HTTP/1.0 responder on the node's libev loop: non-blocking sockets, no threads, at most
 * NN_METRICS_MAX_CONNS connections at once (the listener pauses at the cap), a request head of
 * at most NN_HTTP_MAX_REQUEST bytes (cmd/http.h) read within NN_METRICS_TIMEOUT_S, one response
 * per connection, then close. `GET /metrics` (or HEAD) answers 200 with the Prometheus text
 * exposition format 0.0.4; another path 404, another method 405, bytes that are not a request
 * 400, an over-long head 431.
 *
 * The body (nn_metrics_render): every stat of nn_node_stats, with # HELP (its description) and
 * # TYPE: a gauge (description starting "gauge:") as nodenet_<name>, a counter as
 * nodenet_<name>_total (Prometheus naming: counters end in _total; no stat has a unit), then
 *   nodenet_edges_by_direction{direction="in"|"out"}, nodenet_edges_by_role{role="sibling"|
 *   "finger"}, nodenet_nat_type{type="unknown"|"public"|"cone"|"symmetric"} (1 for the
 *   current verdict, 0 for the others), nodenet_phase{phase=...} (likewise) and
 *   nodenet_info{version="...",id="<hex>"} 1.
 * Every label value is ours (fixed strings, hex); nothing a peer sends reaches the body.
 *
 * The address is refused unless it is loopback (127.0.0.0/8, ::1), or allow_remote is set: the
 * metrics tell anyone who can read them a lot about the node.
 */
#ifndef NN_CMD_METRICS_H
#define NN_CMD_METRICS_H

#include <stdbool.h>
#include <stdio.h>

#include "node/nodenet.h"

#define NN_METRICS_MAX_CONNS 8
#define NN_METRICS_TIMEOUT_S 5.0

/* Write the metrics of n in the text format. */
void nn_metrics_render(FILE *f, nn_node *n);

/* True when the literal address "ip:port" / "[ip6]:port" is a loopback one. */
bool nn_metrics_is_loopback(const char *hostport);

typedef struct nn_metrics nn_metrics;
struct ev_loop;
/* Listen on the literal address hostport ("ip:port" or "[ip6]:port"; port 0 picks one) on
 * loop, serving n. NN_EREFUSED (not loopback and !allow_remote), NN_EADDR, NN_EIO (bind,
 * listen: errno kept), NN_ENOMEM. */
int nn_metrics_start(nn_metrics **out, struct ev_loop *loop, nn_node *n, const char *hostport,
		     bool allow_remote);
/* The bound address as "ip:port" (for logs and tests). */
const char *nn_metrics_addr(const nn_metrics *m);
/* Close the listener and every connection. NULL is fine. */
void nn_metrics_stop(nn_metrics *m);

#endif
