/* test_media.c — media frame codec: channels, carrier limits, strictness, round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "transport/media.h"

static void test_round_trip(void **st)
{
	uint8_t buf[1300], pl[1200];
	for (size_t i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)i;
	for (unsigned ch = NN_MEDIA_CH_APP_FIRST; ch <= 255; ch += 13) {
		for (size_t n = 0; n <= 1200; n += 300) {
			int len = nn_media_frame_encode(buf, sizeof buf, NN_MEDIA_DATAGRAM, (uint8_t)ch,
							pl, n);
			assert_int_equal(len, (int)n + 1);
			uint8_t c;
			const uint8_t *p;
			size_t pn;
			assert_int_equal(nn_media_frame_decode(buf, (size_t)len, NN_MEDIA_DATAGRAM, &c,
							       &p, &pn), 0);
			assert_int_equal(c, ch);
			assert_int_equal(pn, n);
			assert_ptr_equal(p, buf + 1); /* a view, no copy */
			assert_memory_equal(p, pl, n);
		}
	}
}

static void test_reserved_channels(void **st)
{
	uint8_t buf[8] = {0};
	uint8_t c;
	const uint8_t *p;
	size_t pn;
	for (unsigned ch = 0; ch < 16; ch++) {
		assert_int_equal(nn_media_frame_encode(buf, sizeof buf, NN_MEDIA_MESSAGE, (uint8_t)ch,
						       (const uint8_t *)"x", 1), NN_EINVAL);
		buf[0] = (uint8_t)ch;
		assert_int_equal(nn_media_frame_decode(buf, 2, NN_MEDIA_MESSAGE, &c, &p, &pn),
				 NN_ECORRUPT);
	}
	buf[0] = 16;
	assert_int_equal(nn_media_frame_decode(buf, 2, NN_MEDIA_MESSAGE, &c, &p, &pn), 0);
	assert_true(nn_media_channel_reserved(15));
	assert_false(nn_media_channel_reserved(16));
}

static void test_limits(void **st)
{
	uint8_t *buf = calloc(1, 65538);
	uint8_t c;
	const uint8_t *p;
	size_t pn;
	buf[0] = 200;
	/* datagram: 1200 payload bytes max */
	assert_int_equal(nn_media_frame_decode(buf, 1201, NN_MEDIA_DATAGRAM, &c, &p, &pn), 0);
	assert_int_equal(nn_media_frame_decode(buf, 1202, NN_MEDIA_DATAGRAM, &c, &p, &pn),
			 NN_ETOOBIG);
	assert_int_equal(nn_media_frame_encode(buf, 65538, NN_MEDIA_DATAGRAM, 200, buf + 1, 1201),
			 NN_ETOOBIG);
	/* message: 65536 payload bytes max */
	assert_int_equal(nn_media_frame_decode(buf, 65537, NN_MEDIA_MESSAGE, &c, &p, &pn), 0);
	assert_int_equal(nn_media_frame_decode(buf, 65538, NN_MEDIA_MESSAGE, &c, &p, &pn),
			 NN_ETOOBIG);
	assert_int_equal(nn_media_frame_encode(buf, 65538, NN_MEDIA_MESSAGE, 200, buf + 1, 65536),
			 65537);
	/* empty, no space, NULL payload */
	assert_int_equal(nn_media_frame_decode(buf, 0, NN_MEDIA_MESSAGE, &c, &p, &pn), NN_ETRUNC);
	assert_int_equal(nn_media_frame_encode(buf, 10, NN_MEDIA_MESSAGE, 200, buf + 20, 10),
			 NN_ENOSPC);
	assert_int_equal(nn_media_frame_encode(buf, 0, NN_MEDIA_MESSAGE, 200, NULL, 0), NN_ENOSPC);
	assert_int_equal(nn_media_frame_encode(buf, 10, NN_MEDIA_MESSAGE, 200, NULL, 3), NN_EINVAL);
	assert_int_equal(nn_media_frame_encode(buf, 1, NN_MEDIA_MESSAGE, 200, NULL, 0), 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reserved_channels),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
