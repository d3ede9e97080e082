/* test_control.c — control payloads: exact bytes, strictness, Neighbors caps checked before
 * use, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "routing/control.h"
#include "tests/routing/rt_util.h"

static uint8_t g_buf[NN_WIRE_MAX_FRAME];
static nn_routing_neighbors g_nb, g_got;

static void test_small_frames(void **state)
{
	uint8_t ping[] = {1, 2, 0}, leave[] = {1, 7, 0};
	assert_int_equal(nn_routing_ping_frame(g_buf, sizeof g_buf), 3);
	assert_memory_equal(g_buf, ping, 3);
	assert_int_equal(nn_routing_leave_frame(g_buf, sizeof g_buf), 3);
	assert_memory_equal(g_buf, leave, 3);
	assert_int_equal(nn_routing_ping_frame(g_buf, 2), NN_ENOSPC);
	assert_int_equal(nn_routing_empty_decode(NULL, 0), 0);
	assert_int_equal(nn_routing_empty_decode(g_buf, 1), NN_ETRAILING);

	uint8_t nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8}, got[8];
	int n = nn_routing_siblings_frame(g_buf, sizeof g_buf, nonce);
	assert_int_equal(n, 11);
	assert_int_equal(g_buf[1], NN_T_SIBLINGS);
	assert_int_equal(g_buf[2], 8);
	assert_int_equal(nn_routing_nonce_decode(g_buf + 3, 8, got), 0);
	assert_memory_equal(got, nonce, 8);
	assert_int_equal(nn_routing_nonce_decode(g_buf + 3, 7, got), NN_ETRUNC);
	assert_int_equal(nn_routing_nonce_decode(g_buf + 3, 9, got), NN_ETRAILING);
	assert_int_equal(nn_routing_nonce_encode(g_buf, 8, nonce), 8);
	assert_int_equal(nn_routing_nonce_encode(g_buf, 7, nonce), NN_ENOSPC);
}

static void test_pong_exact(void **state)
{
	nn_addr a, got;
	nn_addr_set(&a, "quic", "203.0.113.7:4433");
	int n = nn_routing_pong_frame(g_buf, sizeof g_buf, &a);
	/* 01 03 len | 04 "quic" 10 "203.0.113.7:4433" */
	assert_int_equal(n, 3 + 1 + 4 + 1 + 16);
	assert_int_equal(g_buf[1], NN_T_PONG);
	assert_int_equal(g_buf[2], 22);
	assert_int_equal(g_buf[3], 4);
	assert_memory_equal(g_buf + 4, "quic", 4);
	assert_int_equal(g_buf[8], 16);
	assert_int_equal(nn_routing_pong_decode(g_buf + 3, 22, &got), 0);
	assert_true(nn_addr_eq(&a, &got));
	assert_int_equal(nn_routing_pong_decode(g_buf + 3, 21, &got), NN_ETRUNC);
	g_buf[3 + 22] = 0;
	assert_int_equal(nn_routing_pong_decode(g_buf + 3, 23, &got), NN_ETRAILING);
	uint8_t empty_net[] = {0, 0};
	assert_int_equal(nn_routing_pong_decode(empty_net, 2, &got), NN_ECORRUPT);
	uint8_t nonmin[] = {0x84, 0x00, 'q', 'u', 'i', 'c', 0};
	assert_int_equal(nn_routing_pong_decode(nonmin, sizeof nonmin, &got), NN_ENONMINIMAL);
}

static void make_answer(nn_routing_neighbors *nb, size_t count, size_t addrs_each)
{
	uint8_t nonce[8] = {9, 9, 9, 9, 1, 2, 3, 4};
	nn_routing_neighbors_init(nb, nonce);
	nn_test_rng r = {77};
	for (size_t i = 0; i < count; i++) {
		nn_routing_contact c;
		nn_id id;
		rt_random_id(&r, &id);
		rt_contact(&c, &id, NULL, 0);
		nn_test_rng_fill(&r, c.ed_pub, 32);
		nn_test_rng_fill(&r, c.x_pub, 32);
		c.caps = (uint32_t)i;
		for (size_t a = 0; a < addrs_each; a++) {
			char ep[64];
			snprintf(ep, sizeof ep, "10.1.%zu.%zu:1", i, a);
			nn_addr_set(&c.addrs[a], "quic", ep);
		}
		c.naddrs = (uint8_t)addrs_each;
		assert_int_equal(nn_routing_neighbors_append(nb, &c), 0);
	}
}

static void test_neighbors_roundtrip(void **state)
{
	make_answer(&g_nb, NN_ROUTING_NEIGHBORS_MAX, 3);
	int n = nn_routing_neighbors_encode(g_buf, sizeof g_buf, &g_nb);
	assert_true(n > 0);
	assert_int_equal(nn_routing_neighbors_decode(g_buf, (size_t)n, &g_got), 0);
	assert_int_equal(g_got.count, NN_ROUTING_NEIGHBORS_MAX);
	assert_int_equal(g_got.naddrs, 3 * NN_ROUTING_NEIGHBORS_MAX);
	assert_memory_equal(g_got.nonce, g_nb.nonce, 8);
	nn_routing_contact c;
	assert_int_equal(nn_routing_neighbors_get(&g_got, 5, &c), 0);
	assert_true(nn_kad_id_eq(&c.id, &g_nb.c[5].id));
	assert_int_equal(c.caps, 5);
	assert_int_equal(c.naddrs, 3);
	assert_string_equal(c.addrs[2].ep, "10.1.5.2:1");
	assert_int_equal(nn_routing_neighbors_get(&g_got, 17, &c), NN_EINVAL);
	/* Re-encoding gives the same bytes. */
	static uint8_t again[NN_WIRE_MAX_FRAME];
	assert_int_equal(nn_routing_neighbors_encode(again, sizeof again, &g_got), n);
	assert_memory_equal(again, g_buf, (size_t)n);
	/* Every strict prefix and a trailing byte fail. */
	for (int l = 0; l < n; l += 7)
		assert_true(nn_routing_neighbors_decode(g_buf, (size_t)l, &g_got) < 0);
	g_buf[n] = 0;
	assert_int_equal(nn_routing_neighbors_decode(g_buf, (size_t)n + 1, &g_got), NN_ETRAILING);
	assert_int_equal(g_got.count, 0);
	/* The answer holds at most 17 contacts. */
	nn_routing_contact extra = c;
	assert_int_equal(nn_routing_neighbors_append(&g_nb, &extra), NN_ELIMIT);
}

static void test_neighbors_caps(void **state)
{
	/* 18 contacts: refused on the count, before any contact is read. */
	uint8_t b[4096];
	memset(b, 0, sizeof b);
	b[8] = 18;
	assert_int_equal(nn_routing_neighbors_decode(b, 9 + 18 * 101, &g_got), NN_ELIMIT);
	/* 17 declared but bytes for only 16 minimal contacts: refused on remaining/101, before
	 * any contact is read (the output is not touched). */
	b[8] = 17;
	memset(&g_got, 0xaa, sizeof g_got);
	assert_int_equal(nn_routing_neighbors_decode(b, 9 + 16 * 101 + 100, &g_got), NN_ETRUNC);
	assert_int_equal(g_got.c[0].id.b[0], 0xaa);
	assert_int_equal(g_got.c[0].caps, 0xaaaaaaaa);
	/* 17 minimal contacts exactly: fine. */
	assert_int_equal(nn_routing_neighbors_decode(b, 9 + 17 * 101, &g_got), 0);
	assert_int_equal(g_got.count, 17);
	assert_int_equal(g_got.naddrs, 0);

	/* 256 addresses in total are fine, 257 are not: the list whose count would pass the total
	 * is refused before its entries are read. */
	make_answer(&g_nb, 16, 0);
	for (size_t i = 0; i < 16; i++) { /* 16 x 16 addresses = 256 */
		g_nb.c[i].addr_off = (uint16_t)(i * 16);
		g_nb.c[i].naddrs = 16;
	}
	g_nb.naddrs = 256;
	for (size_t i = 0; i < 256; i++)
		nn_addr_set(&g_nb.addrs[i], "m", "x");
	int n = nn_routing_neighbors_encode(g_buf, sizeof g_buf, &g_nb);
	assert_true(n > 0);
	assert_int_equal(nn_routing_neighbors_decode(g_buf, (size_t)n, &g_got), 0);
	assert_int_equal(g_got.naddrs, 256);
	g_nb.c[15].naddrs = 17; /* encoder refuses to exceed */
	g_nb.naddrs = 257;
	assert_int_equal(nn_routing_neighbors_encode(g_buf, sizeof g_buf, &g_nb), NN_ELIMIT);
	/* Hand-craft: last contact declares 17 addresses -> 257 in total. */
	g_nb.c[15].naddrs = 16;
	g_nb.naddrs = 256;
	n = nn_routing_neighbors_encode(g_buf, sizeof g_buf, &g_nb);
	/* the last list's count byte sits right before its 16 addresses of 4 bytes each */
	size_t cnt_at = (size_t)n - 16 * 4 - 1;
	assert_int_equal(g_buf[cnt_at], 16);
	g_buf[cnt_at] = 17;
	g_buf[n] = 1; /* one more address "m"/"" */
	g_buf[n + 1] = 'm';
	g_buf[n + 2] = 0;
	assert_int_equal(nn_routing_neighbors_decode(g_buf, (size_t)n + 3, &g_got), NN_ELIMIT);
	assert_int_equal(g_got.count, 0);
	/* A contact may not declare more addresses than remaining bytes / 2. */
	make_answer(&g_nb, 1, 1);
	n = nn_routing_neighbors_encode(g_buf, sizeof g_buf, &g_nb);
	g_buf[9 + 100] = 100; /* address count */
	assert_int_equal(nn_routing_neighbors_decode(g_buf, (size_t)n, &g_got), NN_ETRUNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_frames),
		cmocka_unit_test(test_pong_exact),
		cmocka_unit_test(test_neighbors_roundtrip),
		cmocka_unit_test(test_neighbors_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
