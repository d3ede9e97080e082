/* test_framer.c — the stream frame-length reader: every split point, limits, strictness, zero
 * copy when a frame lies in one chunk, zero allocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "kad/nn_err.h"
#include "tests/support/alloc_count.h"
#include "tests/support/testutil.h"
#include "transport/quic/framer.h"

static uint8_t fbuf[NN_QUIC_FRAME_MAX];
static uint8_t stream[3 * (NN_QUIC_FRAME_MAX + 3)];

/* Build a stream of frames of the given lengths, contents from rng. */
static size_t build(nn_test_rng *r, const size_t *lens, size_t n)
{
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		int h = nn_quic_framer_prefix(stream + off, lens[i]);
		assert_true(h > 0);
		off += (size_t)h;
		nn_test_rng_fill(r, stream + off, lens[i]);
		off += lens[i];
	}
	return off;
}

/* Feed stream[0..len) in chunks of `chunk`, check frames come back in order. lazy: no buffer
 * until the reader asks for one (NN_QUIC_FRAMER_NEED_BUF, only for a frame split across
 * chunks, with need = its length), dropped again after each frame (as stream.c does). */
static void replay(const size_t *lens, size_t n, size_t len, size_t chunk, bool lazy)
{
	nn_quic_framer f;
	nn_quic_framer_init(&f, lazy ? NULL : fbuf);
	size_t off = 0, got = 0, pos = 0;
	while (off < len) {
		size_t c = len - off < chunk ? len - off : chunk;
		size_t done = 0;
		while (done < c) {
			size_t used;
			const uint8_t *fr;
			size_t fl;
			int rc = nn_quic_framer_feed(&f, stream + off + done, c - done, &used, &fr, &fl);
			assert_true(rc >= 0);
			done += used;
			if (rc == NN_QUIC_FRAMER_NEED_BUF) {
				assert_true(lazy);
				assert_null(f.buf);
				assert_true(got < n);
				assert_int_equal(f.need, lens[got]);
				/* asked only when the body does not lie whole in what is left */
				assert_true(c - done < lens[got] && c - done > 0);
				f.buf = fbuf;
				continue;
			}
			if (rc == 1) {
				if (lazy)
					f.buf = NULL;
				assert_true(got < n);
				pos += (size_t)nn_quic_framer_prefix((uint8_t[3]){0}, lens[got]);
				assert_int_equal(fl, lens[got]);
				assert_memory_equal(fr, stream + pos, fl);
				pos += fl;
				got++;
			} else {
				assert_int_equal(done, c);
			}
		}
		off += c;
	}
	assert_int_equal(got, n);
	assert_true(nn_quic_framer_idle(&f));
}

static void test_splits(void **st)
{
	nn_test_rng r = {42};
	const size_t lens[] = {0, 1, 127, 128, 16383, 16384, 65536, 2, 300};
	size_t len = build(&r, lens, 9);
	const size_t chunks[] = {1, 2, 3, 7, 1200, 1452, 65535, 65536, 65539, len};
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		replay(lens, 9, len, chunks[i], false);
		replay(lens, 9, len, chunks[i], true);
	}
}

static void test_limits(void **st)
{
	nn_quic_framer f;
	size_t used;
	const uint8_t *fr;
	size_t fl;
	/* 65537 = 81 80 04 */
	static const uint8_t over[] = {0x81, 0x80, 0x04};
	nn_quic_framer_init(&f, fbuf);
	assert_int_equal(nn_quic_framer_feed(&f, over, 3, &used, &fr, &fl), NN_ETOOBIG);
	/* sticky */
	assert_int_equal(nn_quic_framer_feed(&f, over, 1, &used, &fr, &fl), NN_ETOOBIG);
	assert_false(nn_quic_framer_idle(&f));
	/* a 4-byte prefix is refused after 3 bytes, byte by byte */
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0x7f};
	nn_quic_framer_init(&f, fbuf);
	int rc = 0;
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = nn_quic_framer_feed(&f, huge + i, 1, &used, &fr, &fl);
	assert_int_equal(rc, NN_ETOOBIG);
	/* non-minimal */
	static const uint8_t nm[] = {0x80, 0x00};
	nn_quic_framer_init(&f, fbuf);
	assert_int_equal(nn_quic_framer_feed(&f, nm, 2, &used, &fr, &fl), NN_ENONMINIMAL);
	/* prefix encoder refuses > 65536 */
	uint8_t p[3];
	assert_int_equal(nn_quic_framer_prefix(p, 65537), NN_ETOOBIG);
	assert_int_equal(nn_quic_framer_prefix(p, 65536), 3);
}

static void test_zero_copy_and_no_alloc(void **st)
{
	nn_test_rng r = {7};
	const size_t lens[] = {1000, 1000};
	size_t len = build(&r, lens, 2);
	nn_quic_framer f;
	nn_quic_framer_init(&f, fbuf);
	uint64_t a0 = nn_test_allocs();
	size_t used;
	const uint8_t *fr;
	size_t fl;
	assert_int_equal(nn_quic_framer_feed(&f, stream, len, &used, &fr, &fl), 1);
	assert_ptr_equal(fr, stream + 2);
	assert_int_equal(nn_quic_framer_feed(&f, stream + used, len - used, &used, &fr, &fl), 1);
	assert_true(fr > stream && fr < stream + len);
	assert_int_equal(nn_test_allocs(), a0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_zero_copy_and_no_alloc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
