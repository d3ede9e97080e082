/* bench_routing.c — ns/op and allocs/op of the routed-frame hot path: decode, decide, TTL
 * patch, decide+patch (goal: >= 2 M/s per core), encode, launch plan, dedup check; plus the
 * terminal's signature verify and the table queries, for scale. Edges: 64 outgoing fingers and
 * 64 inbound, as a Normal node has. */
#include <stdio.h>
#include <string.h>

#include "routing/control.h"
#include "routing/decide.h"
#include "routing/dedup.h"
#include "routing/knowledge.h"
#include "tests/support/bench.h"
#include "tests/support/testutil.h"

static uint8_t g_frame[NN_WIRE_MAX_FRAME], g_out[NN_WIRE_MAX_FRAME];
static volatile uint64_t g_sink;

int main(int argc, char **argv)
{
	bool quick = nn_bench_quick(argc, argv);
	uint64_t N = quick ? 20000 : 2000000;
	nn_test_rng r = {9};
	nn_id self;
	nn_test_rng_fill(&r, self.b, 32);
	nn_routing_edges *e;
	nn_routing_edges_new(&e, &self, NULL);
	for (int i = 0; i < 128; i++) {
		nn_id id;
		nn_test_rng_fill(&r, id.b, 32);
		nn_routing_edges_add(e, &id, (void *)(uintptr_t)(i + 1), i < 64, 0, NULL, 0);
	}
	uint8_t seed[32] = {3};
	nn_identity me;
	nn_identity_from_seed(&me, seed);
	static uint8_t payload[1024];
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	nn_test_rng_fill(&r, env.target.b, 32);
	env.ttl = 16;
	memcpy(env.ed_pub, me.ed_pub, 32);
	env.sent = 1700000000LL * NN_SEC;
	env.navoid = 2;
	env.payload = payload;
	env.plen = sizeof payload;
	uint8_t sig[64];
	nn_routing_env_sign(&me, NN_T_ROUTE, &env.target, env.sent, payload, sizeof payload, sig);
	env.sig = sig;
	int n = nn_routing_frame_encode(g_frame, sizeof g_frame, NN_T_ROUTE, &env);
	printf("routing bench: %zu edges, %d-byte routed frame (1 KiB payload)\n",
	       nn_routing_edges_len(e), n);

	/* Calibration: a bare branchy scan of 128 64-bit keys, to judge the machine's state (the
	 * shared CI box varies several-fold with load). */
	{
		static uint64_t keys[128];
		for (int i = 0; i < 128; i++)
			keys[i] = nn_test_rng_next(&r);
		uint64_t c0 = 0;
		NN_BENCH("calibration/scan-128-keys", N / 4, {
			uint64_t t = keys[c0++ & 127] * 0x9e3779b97f4a7c15ull;
			uint64_t lim = t;
			unsigned c = 0;
			for (int i = 0; i < 128; i++) {
				uint64_t x = keys[i] ^ t;
				if (x < lim && ++c > 8)
					lim = x;
			}
			g_sink += c;
		});
	}
	nn_routing_env got;
	nn_routing_decision d;
	uint64_t i2 = 0;
	NN_BENCH("routing/decode", N, {
		nn_routing_frame_decode(g_frame, (size_t)n, NULL, &got);
		g_sink += got.ttl;
	});
	/* Vary the target so decide sees many shapes. */
	nn_id targets[256];
	for (int i = 0; i < 256; i++)
		nn_test_rng_fill(&r, targets[i].b, 32);
	NN_BENCH("routing/decide", N, {
		nn_routing_decide(e, &targets[i2++ & 255], 16, env.avoid, 2, &d);
		g_sink += d.n;
	});
	NN_BENCH("routing/ttl-patch", N, {
		nn_routing_frame_set_ttl(g_frame, (size_t)n, (uint8_t)(i2++ & 15));
	});
	NN_BENCH("routing/decode+decide+patch", N, {
		nn_routing_frame_decode(g_frame, (size_t)n, NULL, &got);
		got.target = targets[i2++ & 255];
		got.ttl = 16;
		if (nn_routing_decide_env(e, &got, &d) == NN_ROUTING_FORWARD)
			nn_routing_frame_set_ttl(g_frame, (size_t)n, d.ttl);
	});
	NN_BENCH("routing/decide+patch", N, {
		if (nn_routing_decide(e, &targets[i2++ & 255], 16, NULL, 0, &d) == NN_ROUTING_FORWARD)
			nn_routing_frame_set_ttl(g_frame, (size_t)n, d.ttl);
	});
	NN_BENCH("routing/encode(1KiB)", N / 4, {
		g_sink += (uint64_t)nn_routing_frame_encode(g_out, sizeof g_out, NN_T_ROUTE, &env);
	});
	nn_routing_launch L;
	NN_BENCH("routing/launch-plan(3)", N / 4, {
		nn_routing_launch_plan(e, &targets[i2++ & 255], 3, NULL, 0, &L);
		g_sink += L.n;
	});
	nn_routing_dedup dd;
	uint8_t key[16] = {1};
	nn_routing_dedup_init(&dd, 8192, 0, key);
	uint8_t s[64] = {0};
	NN_BENCH("routing/dedup-check", N / 4, {
		uint64_t v = i2++;
		memcpy(s, &v, sizeof v);
		g_sink += (uint64_t)nn_routing_dedup_check(&dd, s, (nn_time)v * 1000);
	});
	NN_BENCH("routing/verify(1KiB)", quick ? 200 : 20000, {
		nn_routing_frame_decode(g_frame, (size_t)n, NULL, &got);
		g_sink += (uint64_t)nn_routing_env_verify(&got, NN_T_ROUTE);
	});
	/* Knowledge: a table learnt from 20,000 random contacts. */
	nn_routing_kt *kt;
	nn_routing_kt_opts ko = {.capacity = 8192};
	nn_routing_kt_new(&kt, &self, &ko);
	nn_routing_contact c;
	memset(&c, 0, sizeof c);
	NN_BENCH("routing/kt-observe", quick ? 20000 : 200000, {
		nn_test_rng_fill(&r, c.id.b, 32);
		g_sink += (uint64_t)nn_routing_kt_observe(kt, &c, NN_ROUTING_SRC_SELF, 0, NULL);
	});
	const nn_routing_kc *cl[16];
	NN_BENCH("routing/kt-closest(16)", N / 10, {
		g_sink += nn_routing_kt_closest(kt, &targets[i2++ & 255], 16, cl);
	});
	nn_routing_dedup_free(&dd);
	nn_routing_kt_free(kt);
	nn_routing_edges_free(e);
	return 0;
}
