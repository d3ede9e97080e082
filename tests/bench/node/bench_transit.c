/* bench_transit.c — what one transit hop costs per routed frame, measured on its own.
 *
 * Three nodes on the in-memory transport in virtual time, S - T - D (maintenance off, so S and
 * D have no edge but T). Frames from S to D are signed and encoded beforehand, outside the
 * measurement; the timed part is only T handling each frame the way its transport sink would:
 * nn_node_route_frame() on the arrival buffer (decode, the arriving edge's forward bucket, PoW
 * of the originator, freshness, decide, the transit checks, TTL patch, the send into the mem
 * transport's queue toward D). Between batches (untimed) virtual time advances 1 s, so T's
 * per-edge forward bucket refills and D drains its queue; the batch size stays under the
 * bucket's burst, so no frame is refused by the rate limit (the figure says how many were).
 *
 * Prints ns and allocations per transit frame and the frames/s one core sustains at that cost.
 * It asserts nothing about speed. --quick: two batches (the test suite's smoke run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/node/cluster.h"
#include "tests/support/bench.h"

#define BATCH 500

static int build_frame(const cl_node *s, const nn_id *target, nn_time wall, uint64_t tag,
		       size_t plen, uint8_t *out, size_t cap)
{
	nn_identity id;
	int rc = nn_identity_from_seed(&id, s->seed);
	if (rc < 0)
		return rc;
	int off = nn_routing_frame_payload_offset(0, plen);
	if (off < 0 || (size_t)off + plen > cap)
		return NN_ENOSPC;
	uint8_t *p = out + off;
	memset(p, 0x5a, plen);
	memcpy(p, &tag, sizeof tag);
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	env.target = *target;
	env.ttl = NN_ROUTING_MAX_HOPS;
	memcpy(env.ed_pub, id.ed_pub, NN_ED_PUB_LEN);
	env.sent = wall;
	env.payload = p;
	env.plen = plen;
	uint8_t sig[NN_ED_SIG_LEN];
	rc = nn_routing_env_sign(&id, NN_T_ROUTE, target, wall, p, plen, sig);
	nn_identity_wipe(&id);
	if (rc < 0)
		return rc;
	env.sig = sig;
	return nn_routing_frame_encode(out, cap, NN_T_ROUTE, &env);
}

int main(int argc, char **argv)
{
	bool quick = nn_bench_quick(argc, argv);
	size_t batches = quick ? 2 : 40;
	nn_node_opts base;
	nn_node_opts_init(&base);
	base.no_maintenance = true;
	cluster *cl = cl_new(3, 11, 0, &base);
	enum { S = 0, T = 1, D = 2 };
	nn_mem_link link = nn_mem_link_default();
	link.queue_frames = 2 * BATCH; /* a batch fits T's queue toward D */
	nn_mem_link_set_default(cl->hub, &link);
	if (cl_start(cl, T) || cl_start(cl, S) || cl_start(cl, D) || cl_bootstrap(cl, S, T) ||
	    cl_bootstrap(cl, D, T)) {
		printf("bench node-transit: set-up failed\n");
		return 1;
	}
	cl_run(cl, 200 * NN_MS);
	nn_node *t = cl->nodes[T].node;
	const nn_routing_edge *from = nn_routing_edges_find(t->edges, &cl->nodes[S].id);
	if (!from || cl_edges(cl, S) != 1 || cl_edges(cl, D) != 1) {
		printf("bench node-transit: the edges did not come up\n");
		return 1;
	}
	size_t plen = 1024;
	uint8_t (*frames)[1400] = malloc(BATCH * sizeof *frames);
	int *lens = malloc(BATCH * sizeof *lens);
	uint64_t ns = 0, allocs = 0, handled = 0, tag = 1;
	uint64_t fw0 = t->stats.forwarded, rl0 = t->stats.dropped_rate_limited;
	uint64_t dl0 = cl->nodes[D].node->stats.delivered;
	for (size_t b = 0; b < batches; b++) {
		nn_time wall = nn_clock_wall(cl->clk);
		for (size_t i = 0; i < BATCH; i++) {
			lens[i] = build_frame(&cl->nodes[S], &cl->nodes[D].id, wall, tag++, plen,
					      frames[i], sizeof frames[i]);
			if (lens[i] < 0) {
				printf("bench node-transit: encode: %s\n", nn_strerror(lens[i]));
				return 1;
			}
		}
		uint64_t a0 = nn_test_allocs(), t0 = nn_bench_now_ns();
		for (size_t i = 0; i < BATCH; i++)
			nn_node_route_frame(t, from->conn, NN_T_ROUTE, frames[i], (size_t)lens[i]);
		uint64_t t1 = nn_bench_now_ns(), a1 = nn_test_allocs();
		if (b > 0 || batches == 1) { /* the first batch warms pools and queues up */
			ns += t1 - t0;
			allocs += a1 - a0;
			handled += BATCH;
		}
		cl_run(cl, NN_SEC);
	}
	uint64_t fw = t->stats.forwarded - fw0, rl = t->stats.dropped_rate_limited - rl0;
	uint64_t dl = cl->nodes[D].node->stats.delivered - dl0;
	double per = handled ? (double)ns / (double)handled : 0;
	printf("bench node-transit: %.0f ns CPU per transit frame (1 KiB payload, one core, mem "
	       "transport), %.3f allocs/frame, %.0f frames/s/core at that cost; %llu frames, "
	       "forwarded %llu, rate-limited %llu, delivered at D %llu\n",
	       per, handled ? (double)allocs / (double)handled : 0, per > 0 ? 1e9 / per : 0,
	       (unsigned long long)(batches * BATCH), (unsigned long long)fw,
	       (unsigned long long)rl, (unsigned long long)dl);
	nn_node_stats st;
	nn_node_get_stats(t, &st);
	uint64_t v;
	const char *k;
	for (size_t i = 0; (k = nn_node_stat(&st, i, &v)); i++)
		if (v && !strncmp(k, "dropped_", 8))
			printf("bench node-transit: T %s %llu\n", k, (unsigned long long)v);
	free(frames);
	free(lens);
	cl_free(cl);
	return 0;
}
