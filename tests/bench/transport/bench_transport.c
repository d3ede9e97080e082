/* bench_transport.c — the mem transport's figures: bytes of memory per endpoint (idle and with
 * edges), frames/s through the hub (random graph), ns and allocations per send+receive and per
 * forward in steady state. Prints, never asserts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/bench.h"
#include "tests/transport/sim.h"
#include "transport/mem/mem.h"

static void memory(uint32_t n)
{
	nn_clock *clk = nn_vclock_new(1, 0, 0);
	nn_pool pool;
	nn_pool_init(&pool, NULL);
	nn_mem_hub *hub = nn_mem_hub_new(clk, &pool, NULL);
	nn_tp **tp = calloc(n, sizeof *tp);
	uint64_t a0 = nn_test_allocs();
	for (uint32_t i = 0; i < n; i++) {
		char name[16];
		nn_id id;
		memset(&id, 0, sizeof id);
		memcpy(id.b, &i, sizeof i);
		snprintf(name, sizeof name, "e%u", i);
		nn_mem_endpoint_new(hub, name, &id, 0, &tp[i]);
	}
	size_t idle = nn_mem_hub_bytes(hub);
	uint64_t a1 = nn_test_allocs();
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t d = 1; d <= 3; d++) {
			uint32_t j = (i + d * 7919u) % n;
			nn_addr a;
			nn_tp_local_addrs(tp[j], &a, 1);
			nn_tp_dial(tp[i], &tp[j]->local_id, &a, NULL);
		}
	nn_vclock_advance(clk, NN_SEC);
	size_t linked = nn_mem_hub_bytes(hub);
	printf("bench %-32s %12.1f bytes/endpoint (%u endpoints, %.2f allocs/endpoint)\n",
	       "mem memory idle", (double)idle / n, n, (double)(a1 - a0) / n);
	printf("bench %-32s %12.1f bytes/endpoint (3 dials each = 6 connection ends, %zu B/end)\n",
	       "mem memory with edges", (double)linked / n, nn_mem_conn_footprint());
	nn_mem_hub_free(hub);
	nn_pool_fini(&pool);
	nn_clock_destroy(clk);
	free(tp);
}

static void throughput(uint32_t n, uint32_t rounds)
{
	nn_sim_opts o = {.n = n, .degree = 3, .rounds = rounds, .seed = 9, .frame_len = 200};
	o.link = nn_mem_link_default();
	o.link.jitter = 1 * NN_MS;
	nn_sim_result r;
	nn_sim_run(&o, &r);
	printf("bench %-32s %12.0f frames/s (%llu frames over %u endpoints x 3 edges in %.2f s of "
	       "loop; %.2f s with setup)\n",
	       "mem hub random graph", (double)r.frames / r.run_s, (unsigned long long)r.frames, n,
	       r.run_s, r.wall_s);
}

typedef struct pair {
	nn_tp *tp;
	nn_conn *c;
	uint64_t rx;
	nn_conn *fwd;
} pair;

static void p_conn(void *ctx, nn_conn *c)
{
	pair *p = ctx;
	if (c->outbound || !p->c)
		p->c = c;
}

static void p_frame(void *ctx, nn_conn *c, nn_pkt **k)
{
	pair *p = ctx;
	p->rx++;
	if (p->fwd)
		nn_tp_send(p->tp, p->fwd, (*k)->data, (*k)->len);
}

static void hot_paths(uint64_t iters)
{
	nn_clock *clk = nn_vclock_new(1, 0, 0);
	nn_pool pool;
	nn_pool_init(&pool, &(nn_pool_opts){.debug = 0});
	nn_mem_link l = nn_mem_link_default();
	l.latency = 0;
	nn_mem_hub *hub = nn_mem_hub_new(clk, &pool, &l);
	pair p[3] = {0};
	for (int i = 0; i < 3; i++) {
		nn_id id;
		memset(&id, i + 1, sizeof id);
		char name[4] = {'p', (char)('0' + i), 0};
		nn_mem_endpoint_new(hub, name, &id, 0, &p[i].tp);
		nn_tp_sink s = {.ctx = &p[i], .on_conn = p_conn, .on_frame = p_frame};
		nn_tp_set_sink(p[i].tp, &s);
	}
	nn_addr a;
	nn_tp_local_addrs(p[1].tp, &a, 1);
	nn_tp_dial(p[0].tp, &p[1].tp->local_id, &a, NULL);
	nn_vclock_advance(clk, NN_SEC);
	static uint8_t f[1200], big[16000];
	nn_time t = nn_clock_now(clk);
	NN_BENCH("mem send+receive 1200 B", iters, {
		nn_tp_send(p[0].tp, p[0].c, f, sizeof f);
		nn_vclock_advance(clk, ++t);
	});
	NN_BENCH("mem send+receive 16 kB", iters / 4, {
		nn_tp_send(p[0].tp, p[0].c, big, sizeof big);
		nn_vclock_advance(clk, ++t);
	});
	NN_BENCH("mem send x32 then deliver", iters / 32, {
		for (int k = 0; k < 32; k++)
			nn_tp_send(p[0].tp, p[0].c, f, 200);
		nn_vclock_advance(clk, ++t);
	});
	nn_tp_local_addrs(p[2].tp, &a, 1);
	nn_tp_dial(p[1].tp, &p[2].tp->local_id, &a, NULL);
	nn_vclock_advance(clk, t += NN_SEC);
	p[1].fwd = p[1].c; /* p1's outbound edge to p2 */
	NN_BENCH("mem send+forward+receive", iters, {
		nn_tp_send(p[0].tp, p[0].c, f, sizeof f);
		nn_vclock_advance(clk, ++t);
	});
	printf("bench %-32s %12llu frames at the far end\n", "mem forward check",
	       (unsigned long long)p[2].rx);
	nn_mem_hub_free(hub);
	nn_pool_fini(&pool);
	nn_clock_destroy(clk);
}

int main(int argc, char **argv)
{
	bool q = nn_bench_quick(argc, argv);
	memory(q ? 1000 : 10000);
	throughput(q ? 1000 : 10000, q ? 4 : 20);
	hot_paths(q ? 20000 : 1000000);
	return 0;
}
