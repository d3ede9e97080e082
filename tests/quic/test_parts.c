/* test_parts.c — the QUIC transport's small data structures against oracles: the DCID map
 * (random insert/lookup/delete churn vs a flat array) and the inbound caps (many source IPs,
 * IPv4-mapped IPv6 unmapped to the same key), and the send queue's growing frame ring (random
 * sends and partial writes vs a list of frame ends), wolfSSL's allocator (its slabs and own
 * pages, random requests vs each block's expected contents), and wolfSSL's random source
 * (libsodium through nn_quic_wolf_rand, when the wolfSSL build names it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "kad/nn_err.h"
#include "tests/support/alloc_count.h"
#include "tests/support/testutil.h"
#include "transport/quic/internal.h"

#define N 3000

static void test_cidmap_vs_oracle(void **st)
{
	static uint8_t ids[N][20];
	static uint8_t lens[N];
	static bool in[N];
	static nn_quic_conn conns[N]; /* only their addresses are used */
	nn_test_rng r = {11};
	uint8_t key[16] = {1};
	nn_quic_cidmap m;
	assert_int_equal(nn_quic_cidmap_init(&m, key), 0);
	for (int i = 0; i < N; i++) {
		lens[i] = (uint8_t)(8 + nn_test_rng_next(&r) % 13);
		nn_test_rng_fill(&r, ids[i], lens[i]);
	}
	for (int step = 0; step < 40000; step++) {
		int i = (int)(nn_test_rng_next(&r) % N);
		if (nn_test_rng_next(&r) % 3) {
			assert_int_equal(nn_quic_cidmap_put(&m, ids[i], lens[i], &conns[i]), 0);
			in[i] = true;
		} else {
			nn_quic_cidmap_del(&m, ids[i], lens[i]);
			in[i] = false;
		}
		if (step % 1000 == 0)
			for (int k = 0; k < N; k++)
				assert_ptr_equal(nn_quic_cidmap_get(&m, ids[k], lens[k]),
						 in[k] ? &conns[k] : NULL);
	}
	size_t n = 0;
	for (int k = 0; k < N; k++)
		n += in[k];
	assert_int_equal(m.n, n);
	/* a different conn under a present id is refused */
	for (int k = 0; k < N; k++)
		if (in[k]) {
			assert_int_equal(nn_quic_cidmap_put(&m, ids[k], lens[k], &conns[(k + 1) % N]),
					 NN_EEXIST);
			break;
		}
	assert_int_equal(nn_quic_cidmap_put(&m, ids[0], 0, &conns[0]), NN_EINVAL);
	assert_int_equal(nn_quic_cidmap_put(&m, ids[0], 21, &conns[0]), NN_EINVAL);
	nn_quic_cidmap_fini(&m);
}

static void test_caps_many_ips(void **st)
{
	nn_quic_caps c;
	assert_int_equal(nn_quic_caps_init(&c, 256, 32), 0);
	uint8_t ip[16] = {0x20, 0x01};
	int which = 0;
	/* 8 sources x 32 fill the global cap exactly */
	for (int s = 0; s < 8; s++) {
		ip[15] = (uint8_t)s;
		for (int k = 0; k < 32; k++)
			assert_int_equal(nn_quic_caps_admit(&c, ip, &which), 0);
		assert_int_equal(nn_quic_caps_admit(&c, ip, &which), NN_ELIMIT);
		assert_int_equal(which, s < 7 ? 2 : 1); /* the last one also fills the global cap */
	}
	ip[15] = 99;
	assert_int_equal(nn_quic_caps_admit(&c, ip, &which), NN_ELIMIT);
	assert_int_equal(which, 1);
	/* releasing frees exactly one slot for anyone */
	ip[15] = 3;
	nn_quic_caps_release(&c, ip);
	ip[15] = 99;
	assert_int_equal(nn_quic_caps_admit(&c, ip, &which), 0);
	assert_int_equal(c.total, 256);
	/* release everything: the table empties */
	nn_quic_caps_release(&c, ip);
	for (int s = 0; s < 8; s++) {
		ip[15] = (uint8_t)s;
		for (int k = 0; k < 32; k++)
			nn_quic_caps_release(&c, ip);
	}
	assert_int_equal(c.total, 0);
	assert_int_equal(c.n, 0);
	nn_quic_caps_fini(&c);
}

static void test_ip_key_unmaps_v4(void **st)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(1)};
	inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(2)};
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	uint8_t a[16], b[16];
	nn_quic_ip_key((struct sockaddr *)&s4, a);
	nn_quic_ip_key((struct sockaddr *)&s6, b);
	assert_memory_equal(a, b, 16);
	inet_pton(AF_INET6, "2001:db8::7", &s6.sin6_addr);
	nn_quic_ip_key((struct sockaddr *)&s6, b);
	assert_memory_not_equal(a, b, 16);
}

/* The send queue's frame ring (stream.c) against an oracle: it starts small, grows by doubling
 * while frames are queued and partly written (so growth happens with the ring wrapped), never
 * beyond send_queue_frames (a send past it is NN_EAGAIN), and counts unsent frames exactly as
 * the oracle of frame end offsets does after every write. Allocations: none once grown. */
static void test_sendq_ring_vs_oracle(void **st)
{
	enum { MAXF = 100 }; /* not a power of two: the last growth stops at the cap */
	static nn_quic_ep ep;
	static nn_quic_conn c;
	static nn_pool pool;
	static uint64_t ends[4096];
	memset(&ep, 0, sizeof ep);
	memset(&c, 0, sizeof c);
	nn_pool_opts po = {.prealloc = {[NN_POOL_DGRAM] = 512}, .debug = -1};
	assert_int_equal(nn_pool_init(&pool, &po), 0); /* warm: any later allocation is the ring's */
	ep.base.pool = &pool;
	ep.base.clock = nn_vclock_new(1, 0, 0);
	ep.cfg.send_queue_bytes = 1u << 30;
	ep.cfg.send_queue_frames = MAXF;
	ep.cfg.send_deadline = 0;
	c.ep = &ep;
	c.state = NN_QS_OPEN;
	nn_timer_init(&c.guard, NULL, NULL);
	nn_timer_init(&c.qtimer, NULL, NULL);
	nn_quic_sendq_init(&c.q);
	nn_test_rng r = {5};
	uint8_t frame[3000];
	memset(frame, 0x42, sizeof frame);
	size_t head = 0, tail = 0; /* oracle: ends[head..tail) not yet fully written */
	uint32_t caps_seen = 0;
	uint64_t allocs_grown = 0;
	bool full_seen = false;
	for (int round = 0; round < 400; round++) {
		unsigned k = (unsigned)(nn_test_rng_next(&r) % 40);
		for (unsigned i = 0; i < k; i++) {
			size_t len = 1 + (size_t)(nn_test_rng_next(&r) % sizeof frame);
			uint32_t cap0 = c.q.fr_cap;
			int rc = nn_quic_stream_send(&c, frame, len, false);
			if (tail - head == MAXF) {
				assert_int_equal(rc, NN_EAGAIN);
				full_seen = true;
				continue;
			}
			assert_int_equal(rc, 0);
			ends[tail++ % 4096] = c.q.end_off;
			if (c.q.fr_cap != cap0) {
				/* grown only when full, doubling from 16, capped */
				assert_int_equal(tail - head - 1, cap0);
				assert_int_equal(c.q.fr_cap, cap0 ? (cap0 * 2 > MAXF ? MAXF : cap0 * 2)
								: 16);
				caps_seen++;
			}
		}
		assert_true(c.q.fr_cap <= MAXF);
		/* hand part of the unsent bytes to "QUIC", then acknowledge what was written */
		uint64_t unsent = c.q.end_off - c.q.wr_off;
		uint64_t w = nn_test_rng_next(&r) % (unsent / 3 + 1);
		if (round % 50 == 49)
			w = unsent; /* now and then everything */
		nn_quic_sendq_wrote(&c, (size_t)w);
		while (head < tail && ends[head % 4096] <= c.q.wr_off)
			head++;
		assert_int_equal(nn_quic_sendq_unsent_frames(&c.q), tail - head);
		nn_quic_sendq_acked(&c, 0, c.q.wr_off);
		if (c.q.fr_cap == MAXF && !allocs_grown)
			allocs_grown = nn_test_allocs();
	}
	assert_true(full_seen);
	assert_int_equal(c.q.fr_cap, MAXF);
	assert_int_equal(caps_seen, 4); /* 16, 32, 64, 100 */
	/* the grown ring allocates nothing more */
	assert_int_equal(nn_test_allocs(), allocs_grown);
	nn_quic_sendq_fini(&c.q);
	nn_pool_fini(&pool);
	nn_clock_destroy(ep.base.clock);
}

/* wolfSSL's allocator (tls.c) on its own pages, whatever the build: random allocations, reallocs
 * and frees of sizes around every class edge and the own-page threshold (2,048 bytes with the
 * header), each block filled with its own pattern and checked before it is touched again and
 * in full sweeps, so two live blocks that overlap, a block cut short by a realloc or a page
 * handed out twice shows as a wrong byte. At the end every block is freed and the trim runs:
 * the bytes held outside malloc are back where they started. */
#define WA_SLOTS 600
static uint8_t wa_fill(size_t slot, uint32_t gen) { return (uint8_t)(slot * 131u + gen * 7u + 1u); }
static void wa_check(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			fail_msg("byte %zu of a %zu-byte block is %u, not %u", i, len, p[i], v);
}
static size_t wa_size(nn_test_rng *r)
{
	switch (nn_test_rng_next(r) % 4) {
	case 0: return 1 + nn_test_rng_next(r) % 200;           /* the small classes */
	case 1: return 1 + nn_test_rng_next(r) % 2100;          /* all classes, the threshold */
	case 2: return 2000 + nn_test_rng_next(r) % 64;         /* around 2,048 - 16 */
	default: return 1 + nn_test_rng_next(r) % 20000;        /* own pages, several lengths */
	}
}
static void test_wolf_allocator_vs_oracle(void **st)
{
	(void)st;
	static uint8_t *p[WA_SLOTS];
	static size_t len[WA_SLOTS];
	static uint32_t gen[WA_SLOTS];
	nn_test_rng r = {23};
	size_t base = nn_quic_test_wolf_bytes();
	for (uint32_t step = 1; step <= 60000; step++) {
		size_t i = (size_t)(nn_test_rng_next(&r) % WA_SLOTS);
		if (p[i])
			wa_check(p[i], len[i], wa_fill(i, gen[i]));
		uint64_t what = nn_test_rng_next(&r) % 3;
		if (!p[i]) {
			len[i] = wa_size(&r);
			p[i] = nn_quic_test_wolf_own_alloc(len[i]);
			assert_non_null(p[i]);
			assert_int_equal((uintptr_t)p[i] % 16, 0);
		} else if (what == 0) {
			nn_quic_test_wolf_free(p[i]);
			p[i] = NULL;
			continue;
		} else if (what == 1) {
			size_t n = wa_size(&r);
			uint8_t *q = nn_quic_test_wolf_realloc(p[i], n);
			assert_non_null(q);
			wa_check(q, len[i] < n ? len[i] : n, wa_fill(i, gen[i])); /* kept */
			p[i] = q;
			len[i] = n;
		}
		gen[i] = step;
		memset(p[i], wa_fill(i, gen[i]), len[i]);
		if (step % 10000 == 0)
			for (size_t j = 0; j < WA_SLOTS; j++)
				if (p[j])
					wa_check(p[j], len[j], wa_fill(j, gen[j]));
	}
	for (size_t j = 0; j < WA_SLOTS; j++) {
		if (p[j])
			wa_check(p[j], len[j], wa_fill(j, gen[j]));
		nn_quic_test_wolf_free(p[j]);
		p[j] = NULL;
	}
	nn_quic_test_wolf_trim();
	assert_int_equal(nn_quic_test_wolf_bytes(), base);
}

/* scripts/setup.sh builds wolfSSL with CUSTOM_RAND_GENERATE_BLOCK = nn_quic_wolf_rand. Its
 * ngtcp2 configure link test uses a stand-in that fails every request: were that one linked
 * into the library instead of ours, wolfSSL's RNG would fail here (and every handshake with it).
 * Two blocks from a wolfSSL RNG are filled and differ; a seed block (wolfSSL_RAND_poll's
 * source) works too. */
static void test_wolf_rng_is_ours(void **st)
{
	(void)st;
#if defined(CUSTOM_RAND_GENERATE_BLOCK)
	WC_RNG rng;
	uint8_t a[32], b[32], zero[32] = {0};
	assert_int_equal(wc_InitRng(&rng), 0);
	assert_int_equal(wc_RNG_GenerateBlock(&rng, a, sizeof a), 0);
	assert_int_equal(wc_RNG_GenerateBlock(&rng, b, sizeof b), 0);
	assert_memory_not_equal(a, b, sizeof a);
	assert_memory_not_equal(a, zero, sizeof a);
	assert_int_equal(wc_FreeRng(&rng), 0);
	assert_int_equal(nn_quic_wolf_rand(a, sizeof a), 0);
	assert_memory_not_equal(a, b, sizeof a);
#else
	skip(); /* a wolfSSL of the system's: its own DRBG, nn_quic_wolf_rand unused */
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidmap_vs_oracle),
		cmocka_unit_test(test_caps_many_ips),
		cmocka_unit_test(test_ip_key_unmaps_v4),
		cmocka_unit_test(test_sendq_ring_vs_oracle),
		cmocka_unit_test(test_wolf_allocator_vs_oracle),
		cmocka_unit_test(test_wolf_rng_is_ours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
