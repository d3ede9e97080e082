/* test_cfile.c — the contacts file codec: exact layout, round trip of 256 contacts, and every
 * kind of bad file (truncated at each length, a flipped byte anywhere, foreign writer, unknown
 * version, count over the cap, bad key, self as a contact, bad address, trailing bytes) is
 * refused whole without reading outside the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "routing/cfile.h"

static uint8_t g_buf[NN_ROUTING_CFILE_BYTES_MAX + 64];
static nn_routing_contact g_c[NN_ROUTING_CFILE_MAX + 1], g_got[NN_ROUTING_CFILE_MAX];

static void make(nn_routing_contact *c, unsigned i, unsigned naddrs)
{
	memset(c, 0, sizeof *c);
	memset(c->ed_pub, 0, sizeof c->ed_pub);
	c->ed_pub[0] = (uint8_t)(i >> 8);
	c->ed_pub[1] = (uint8_t)i;
	c->ed_pub[2] = 0x77;
	nn_identity_node_id(&c->id, c->ed_pub);
	c->caps = i;
	c->naddrs = (uint8_t)naddrs;
	for (unsigned a = 0; a < naddrs; a++) {
		char ep[64];
		snprintf(ep, sizeof ep, "127.0.%u.%u:%u", a, i & 0xff, 1000 + i);
		assert_int_equal(nn_addr_set(&c->addrs[a], "quic", ep), 0);
	}
}

static nn_id g_self = {{1, 2, 3}};

static void test_layout(void **state)
{
	(void)state;
	make(&g_c[0], 1, 1);
	int n = nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, g_c, 1);
	/* header 42 | id ed x 96 | caps 4 | count 1 | "quic" 1+4 | "127.0.0.1:1001" 1+14 | sum 32 */
	assert_int_equal(n, 42 + 96 + 4 + 1 + 5 + 15 + 32);
	assert_memory_equal(g_buf, "nnctcts\x01", 8);
	assert_memory_equal(g_buf + 8, g_self.b, 32);
	assert_int_equal(g_buf[40], 0);
	assert_int_equal(g_buf[41], 1);
	size_t k = 99;
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)n, &g_self, g_got, 4, &k), 0);
	assert_int_equal(k, 1);
	assert_memory_equal(&g_got[0].id, &g_c[0].id, 32);
	assert_int_equal(g_got[0].naddrs, 1);
	assert_true(nn_addr_eq(&g_got[0].addrs[0], &g_c[0].addrs[0]));
	/* an empty file is valid */
	n = nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, g_c, 0);
	assert_int_equal(n, 42 + 32);
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)n, &g_self, g_got, 4, &k), 0);
	assert_int_equal(k, 0);
	/* the encoder refuses what the decoder would */
	assert_int_equal(nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, g_c, 257), NN_EINVAL);
	nn_routing_contact keyless = g_c[0];
	memset(keyless.ed_pub, 0, 32);
	assert_int_equal(nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, &keyless, 1),
			 NN_EINVAL);
	assert_int_equal(nn_routing_cfile_encode(g_buf, 50, &g_self, g_c, 1), NN_ENOSPC);
}

static void test_roundtrip_max(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NN_ROUTING_CFILE_MAX; i++)
		make(&g_c[i], i, i % (NN_ROUTING_CONTACT_ADDRS + 1));
	int n = nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, g_c, NN_ROUTING_CFILE_MAX);
	assert_true(n > 0 && (size_t)n <= NN_ROUTING_CFILE_BYTES_MAX);
	size_t k = 0;
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)n, &g_self, g_got,
						 NN_ROUTING_CFILE_MAX, &k), 0);
	assert_int_equal(k, NN_ROUTING_CFILE_MAX);
	for (unsigned i = 0; i < k; i++) {
		assert_memory_equal(&g_got[i].id, &g_c[i].id, 32);
		assert_int_equal(g_got[i].naddrs, g_c[i].naddrs);
		assert_int_equal(g_got[i].caps, g_c[i].caps);
	}
	/* a cap smaller than the file's count is refused, not overrun */
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)n, &g_self, g_got, 10, &k),
			 NN_ELIMIT);
}

/* Every prefix and every single flipped byte of a valid file is refused. */
static void test_truncated_and_flipped(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++)
		make(&g_c[i], i + 5, 2);
	int n = nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, g_c, 3);
	assert_true(n > 0);
	size_t k;
	for (int len = 0; len < n; len++) {
		uint8_t *copy = malloc((size_t)len + 1); /* exact size: ASan sees any overread */
		memcpy(copy, g_buf, (size_t)len);
		assert_true(nn_routing_cfile_decode(copy, (size_t)len, &g_self, g_got, 8, &k) < 0);
		free(copy);
	}
	for (int i = 0; i < n; i++) {
		g_buf[i] ^= 0x20;
		assert_true(nn_routing_cfile_decode(g_buf, (size_t)n, &g_self, g_got, 8, &k) < 0);
		g_buf[i] ^= 0x20;
	}
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)n, &g_self, g_got, 8, &k), 0);
}

/* Files that carry a valid checksum but are still wrong. */
static int resum(int n)
{
	nn_blake2b256(g_buf + n - 32, g_buf, (size_t)n - 32);
	return n;
}

static void test_bad_files(void **state)
{
	(void)state;
	size_t k;
	make(&g_c[0], 9, 1);
	int n = nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, g_c, 1);
	nn_id other = {{9, 9, 9}};
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)n, &other, g_got, 8, &k),
			 NN_EIDMISMATCH);
	g_buf[7] = 2;
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)resum(n), &g_self, g_got, 8, &k),
			 NN_EBADVERSION);
	g_buf[7] = 1;
	g_buf[0] = 'N';
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)resum(n), &g_self, g_got, 8, &k),
			 NN_ECORRUPT);
	g_buf[0] = 'n';
	/* a key that does not hash to the id */
	g_buf[42 + 32] ^= 1;
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)resum(n), &g_self, g_got, 8, &k),
			 NN_ECORRUPT);
	g_buf[42 + 32] ^= 1;
	/* an address outside the grammar */
	g_buf[n - 32 - 3] = ' ';
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)resum(n), &g_self, g_got, 8, &k),
			 NN_EADDR);
	/* a count over the cap, and a count the bytes cannot hold */
	n = nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, g_c, 0);
	g_buf[40] = 1, g_buf[41] = 1; /* 257 */
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)resum(n), &g_self, g_got,
						 NN_ROUTING_CFILE_MAX, &k), NN_ELIMIT);
	g_buf[40] = 0, g_buf[41] = 1;
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)resum(n), &g_self, g_got, 8, &k),
			 NN_ETRUNC);
	/* trailing bytes before the checksum */
	n = nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_self, g_c, 0);
	g_buf[n - 32] = 0;
	n += 1;
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)resum(n), &g_self, g_got, 8, &k),
			 NN_ETRAILING);
	/* the writer itself as a contact */
	make(&g_c[0], 3, 1);
	n = nn_routing_cfile_encode(g_buf, sizeof g_buf, &g_c[0].id, g_c, 1);
	assert_int_equal(nn_routing_cfile_decode(g_buf, (size_t)n, &g_c[0].id, g_got, 8, &k),
			 NN_ECORRUPT);
	assert_int_equal(nn_routing_cfile_decode(NULL, 0, &g_self, g_got, 8, &k), NN_ETRUNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_roundtrip_max),
		cmocka_unit_test(test_truncated_and_flipped),
		cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
