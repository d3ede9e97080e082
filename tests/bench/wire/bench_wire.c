/* bench_wire.c — frame decode and encode, ns/op and allocs/op (goal: 0 allocs). */
#include "tests/support/bench.h"
#include "wire/wire.h"

int main(int argc, char **argv)
{
	uint64_t iters = nn_bench_quick(argc, argv) ? 100000 : 20000000;
	static uint8_t buf[NN_WIRE_MAX_FRAME], payload[1024];
	memset(payload, 0xab, sizeof payload);
	int n = nn_wire_frame_encode(buf, sizeof buf, NN_T_ROUTE, payload, sizeof payload);
	volatile size_t sink = 0;
	NN_BENCH("wire/frame_decode_1KiB", iters, {
		nn_frame f;
		if (nn_wire_frame_decode(buf, (size_t)n, &f, NULL) == 0)
			sink += f.len;
	});
	static uint8_t out[2048];
	NN_BENCH("wire/frame_header_put", iters, {
		sink += (size_t)nn_wire_header_put(out, sizeof out, NN_T_ROUTE, sizeof payload);
	});
	uint8_t vb[10];
	int vn = nn_uvarint_put(vb, sizeof vb, 65536);
	NN_BENCH("wire/uvarint_get", iters, {
		uint64_t v;
		sink += (size_t)nn_uvarint_get(vb, (size_t)vn, &v) + v;
	});
	(void)sink;
	return 0;
}
