/* test_wire.c — uvarint, bounded reader/writer and the frame envelope: strictness and bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/alloc_count.h"
#include "tests/support/testutil.h"
#include "wire/wire.h"

static void test_uvarint_roundtrip_and_lengths(void **state)
{
	const uint64_t vals[] = {0, 1, 127, 128, 255, 300, 16383, 16384, 65536, UINT32_MAX,
				 (uint64_t)1 << 56, UINT64_MAX - 1, UINT64_MAX};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		uint8_t b[NN_UVARINT_MAX_LEN];
		int n = nn_uvarint_put(b, sizeof b, vals[i]);
		assert_true(n > 0);
		assert_int_equal((size_t)n, nn_uvarint_len(vals[i]));
		uint64_t v = 42;
		assert_int_equal(nn_uvarint_get(b, (size_t)n, &v), n);
		assert_true(v == vals[i]);
		/* every strict prefix is truncated */
		for (int k = 0; k < n; k++)
			assert_int_equal(nn_uvarint_get(b, (size_t)k, &v), NN_ETRUNC);
		/* no room */
		assert_int_equal(nn_uvarint_put(b, (size_t)n - 1, vals[i]), NN_ENOSPC);
	}
	uint8_t b[10];
	assert_int_equal(nn_uvarint_put(b, 10, UINT64_MAX), 10);
	assert_int_equal(b[9], 1);
}

static void test_uvarint_rejects_nonminimal_and_overflow(void **state)
{
	uint64_t v;
	const uint8_t zero2[] = {0x80, 0x00};           /* 0 in two bytes: reference accepts */
	const uint8_t one3[] = {0x81, 0x80, 0x00};      /* 1 in three bytes */
	const uint8_t ok2[] = {0x80, 0x01};             /* 128: minimal */
	assert_int_equal(nn_uvarint_get(zero2, 2, &v), NN_ENONMINIMAL);
	assert_int_equal(nn_uvarint_get(one3, 3, &v), NN_ENONMINIMAL);
	assert_int_equal(nn_uvarint_get(ok2, 2, &v), 2);
	assert_true(v == 128);
	/* 10th byte > 1 overflows 64 bits; 11 bytes never valid */
	uint8_t big[11];
	memset(big, 0xff, sizeof big);
	big[9] = 0x02;
	assert_int_equal(nn_uvarint_get(big, 10, &v), NN_EOVERFLOW);
	big[9] = 0x80;
	assert_int_equal(nn_uvarint_get(big, 11, &v), NN_EOVERFLOW);
}

static void test_reader_sticky_bounds(void **state)
{
	const uint8_t buf[] = {0x01, 0x02, 0x03, 0x04, 0x05};
	nn_rd r;
	nn_rd_init(&r, buf, sizeof buf);
	assert_int_equal(nn_rd_u16(&r), 0x0102);
	assert_int_equal(nn_rd_left(&r), 3);
	assert_int_equal(nn_rd_u32(&r), 0); /* would read past the end */
	assert_int_equal(r.err, NN_ETRUNC);
	assert_int_equal(r.off, 2);         /* nothing consumed on failure */
	assert_int_equal(nn_rd_u8(&r), 0);  /* sticky */
	assert_int_equal(nn_rd_left(&r), 0);

	nn_rd_init(&r, buf, sizeof buf);
	(void)nn_rd_bytes(&r, 4);
	assert_int_equal(nn_rd_end(&r), NN_ETRAILING);
	nn_rd_init(&r, buf, sizeof buf);
	(void)nn_rd_bytes(&r, 5);
	assert_int_equal(nn_rd_end(&r), 0);

	/* lenbytes: declared length over max, and past the end */
	const uint8_t lb[] = {0x03, 'a', 'b'};
	size_t n;
	nn_rd_init(&r, lb, sizeof lb);
	assert_null(nn_rd_lenbytes(&r, 2, &n));
	assert_int_equal(r.err, NN_ETOOBIG);
	nn_rd_init(&r, lb, sizeof lb);
	assert_null(nn_rd_lenbytes(&r, 10, &n));
	assert_int_equal(r.err, NN_ETRUNC);
	assert_int_equal(n, 0);

	/* i64 round-trips negative values (two's complement) */
	uint8_t w8[8];
	nn_wr w;
	nn_wr_init(&w, w8, sizeof w8);
	nn_wr_i64(&w, INT64_MIN + 5);
	nn_rd_init(&r, w8, 8);
	assert_true(nn_rd_i64(&r) == INT64_MIN + 5);
}

static void test_writer_bounds(void **state)
{
	uint8_t buf[6];
	nn_wr w;
	nn_wr_init(&w, buf, sizeof buf);
	nn_wr_u32(&w, 0xdeadbeef);
	assert_int_equal(w.err, 0);
	nn_wr_u32(&w, 1); /* 8 > 6 */
	assert_int_equal(w.err, NN_ENOSPC);
	assert_int_equal(w.off, 4);
	nn_wr_u8(&w, 1); /* sticky */
	assert_int_equal(w.off, 4);
	assert_int_equal(buf[0], 0xde);
	assert_int_equal(buf[3], 0xef);

	nn_wr_init(&w, buf, sizeof buf);
	nn_wr_lenbytes(&w, "hello", 5);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.off, 6);
	assert_int_equal(buf[0], 5);
}

static void test_frame_roundtrip(void **state)
{
	static uint8_t buf[NN_WIRE_MAX_FRAME], payload[NN_WIRE_MAX_FRAME];
	nn_test_rng rng = {1};
	nn_test_rng_fill(&rng, payload, sizeof payload);
	const size_t sizes[] = {0, 1, 127, 128, 16383, 16384, NN_WIRE_MAX_FRAME - 5};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_APP, payload, sizes[i]);
		assert_true(n > 0);
		assert_int_equal((size_t)n, nn_wire_header_len(sizes[i]) + sizes[i]);
		nn_frame f;
		size_t used;
		assert_int_equal(nn_wire_frame_decode(buf, (size_t)n, &f, &used), 0);
		assert_int_equal(used, (size_t)n);
		assert_int_equal(f.type, NN_T_APP);
		assert_int_equal(f.len, sizes[i]);
		if (sizes[i])
			assert_memory_equal(f.payload, payload, sizes[i]);
		/* the largest frame is exactly the limit */
		assert_true((size_t)n <= NN_WIRE_MAX_FRAME);
	}
	/* Ping is 01 02 00 */
	int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_PING, NULL, 0);
	assert_int_equal(n, 3);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], 2);
	assert_int_equal(buf[2], 0);
}

static void test_frame_limits(void **state)
{
	static uint8_t buf[NN_WIRE_MAX_FRAME + 16];
	/* payload that makes the frame one byte too big */
	assert_int_equal(nn_wire_frame_encode(buf, sizeof buf, NN_T_APP, buf, NN_WIRE_MAX_FRAME - 3),
			 NN_ETOOBIG);
	assert_int_equal(nn_wire_header_put(buf, sizeof buf, NN_T_APP, NN_WIRE_MAX_FRAME - 4),
			 NN_ETOOBIG);
	assert_int_equal(nn_wire_header_put(buf, sizeof buf, NN_T_APP, NN_WIRE_MAX_FRAME - 5), 5);
	/* a header that declares more than the limit is TOOBIG even if bytes follow */
	uint8_t h[8];
	int hl = nn_uvarint_put(h + 2, 6, NN_WIRE_MAX_FRAME);
	h[0] = 1;
	h[1] = NN_T_APP;
	memcpy(buf, h, 2 + (size_t)hl);
	nn_frame f;
	assert_int_equal(nn_wire_frame_decode(buf, sizeof buf, &f, NULL), NN_ETOOBIG);
	/* the biggest legal declaration with too few bytes is TRUNC */
	(void)nn_wire_header_put(buf, sizeof buf, NN_T_APP, NN_WIRE_MAX_FRAME - 5);
	assert_int_equal(nn_wire_frame_decode(buf, 100, &f, NULL), NN_ETRUNC);
	/* the reference's parser cap (1 MiB) would accept this; we do not */
	(void)nn_uvarint_put(buf + 2, 8, 1048576);
	assert_int_equal(nn_wire_frame_decode(buf, sizeof buf, &f, NULL), NN_ETOOBIG);
}

static void test_frame_rejects(void **state)
{
	nn_frame f;
	const uint8_t badver[] = {0x02, 0x02, 0x00};
	const uint8_t trunc_hdr[] = {0x01, 0x02};
	const uint8_t nonmin[] = {0x01, 0x02, 0x80, 0x00};
	const uint8_t trunc_payload[] = {0x01, 0x40, 0x05, 'a', 'b'};
	const uint8_t trailing[] = {0x01, 0x02, 0x00, 0xff};
	assert_int_equal(nn_wire_frame_decode(badver, 3, &f, NULL), NN_EBADVERSION);
	assert_int_equal(nn_wire_frame_decode(trunc_hdr, 2, &f, NULL), NN_ETRUNC);
	assert_int_equal(nn_wire_frame_decode(nonmin, 4, &f, NULL), NN_ENONMINIMAL);
	assert_int_equal(nn_wire_frame_decode(trunc_payload, 5, &f, NULL), NN_ETRUNC);
	size_t used;
	assert_int_equal(nn_wire_frame_decode(trailing, 4, &f, &used), 0);
	assert_int_equal(used, 3);
	assert_int_equal(nn_wire_frame_decode_exact(trailing, 4, &f), NN_ETRAILING);
	/* exhaustive: every truncation of a valid frame fails with ETRUNC */
	uint8_t buf[300];
	int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_ROUTE, buf + 100, 200);
	for (int k = 0; k < n; k++)
		assert_int_equal(nn_wire_frame_decode(buf, (size_t)k, &f, NULL), NN_ETRUNC);
}

static void test_type_registry(void **state)
{
	assert_string_equal(nn_wire_type_name(NN_T_ROUTE), "route");
	assert_string_equal(nn_wire_type_name(NN_T_RELAY_BIND), "relay-bind");
	assert_string_equal(nn_wire_type_name(NN_T_APP), "app");
	assert_null(nn_wire_type_name(NN_T_TEST));
	assert_null(nn_wire_type_name(59));
	assert_string_equal(nn_wire_type_name(NN_T_RELAY_REFUSE), "relay-refuse");
	assert_string_equal(nn_wire_type_name(NN_T_REFERRAL), "referral");
	assert_string_equal(nn_wire_type_name(NN_T_KA_PROBE), "ka-probe");
	assert_string_equal(nn_wire_type_name(NN_T_KA_ECHO), "ka-echo");
	assert_int_equal(NN_T_RELAY_BIND, 14);
	assert_int_equal(NN_T_APP, 64);
}

static void test_decode_allocates_nothing(void **state)
{
	uint8_t buf[2048];
	memset(buf, 0x5a, sizeof buf);
	int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_ROUTE, buf + 1024, 1000);
	uint64_t before = nn_test_allocs();
	for (int i = 0; i < 1000; i++) {
		nn_frame f;
		assert_int_equal(nn_wire_frame_decode(buf, (size_t)n, &f, NULL), 0);
		(void)nn_wire_frame_encode(buf, sizeof buf, NN_T_ROUTE, f.payload, f.len);
	}
	assert_true(nn_test_allocs() == before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uvarint_roundtrip_and_lengths),
		cmocka_unit_test(test_uvarint_rejects_nonminimal_and_overflow),
		cmocka_unit_test(test_reader_sticky_bounds),
		cmocka_unit_test(test_writer_bounds),
		cmocka_unit_test(test_frame_roundtrip),
		cmocka_unit_test(test_frame_limits),
		cmocka_unit_test(test_frame_rejects),
		cmocka_unit_test(test_type_registry),
		cmocka_unit_test(test_decode_allocates_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
