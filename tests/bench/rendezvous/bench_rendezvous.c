/* bench_rendezvous.c — sealed box seal/open, Hello/Reply make and verify, replay-cache check:
 * ns/op and allocs/op. */
#include <stdlib.h>
#include <string.h>

#include "rendezvous/rendezvous.h"
#include "tests/support/bench.h"

int main(int argc, char **argv)
{
	bool quick = nn_bench_quick(argc, argv);
	uint64_t it = quick ? 20 : 5000;
	nn_identity a, b;
	uint8_t seed[32];
	memset(seed, 1, 32);
	nn_identity_from_seed(&a, seed);
	memset(seed, 2, 32);
	nn_identity_from_seed(&b, seed);
	static uint8_t pt[16384], box[16384 + 256], out[16384 + 256];
	memset(pt, 0x5a, sizeof pt);
	const nn_time now = (nn_time)1700000000 * NN_SEC;
	size_t sizes[] = {64, 1024, 16384};
	for (size_t s = 0; s < 3; s++) {
		char name[64];
		size_t n = sizes[s], pl;
		int len = 0;
		snprintf(name, sizeof name, "sbox_seal_%zuB", n);
		NN_BENCH(name, it, {
			len = nn_sbox_seal(box, sizeof box, &a, b.x_pub, now, pt, n, NULL, 0, NULL);
			if (len < 0)
				abort();
		});
		snprintf(name, sizeof name, "sbox_open_%zuB", n);
		NN_BENCH(name, it, {
			if (nn_sbox_open(out, sizeof out, &pl, NULL, &b, box, (size_t)len, NULL, 0, now,
					 60 * NN_SEC) != 0)
				abort();
		});
	}
	nn_addr addrs[4];
	for (int i = 0; i < 4; i++)
		nn_addr_set(&addrs[i], "quic", "203.0.113.7:4433");
	uint8_t nonce[16] = {7}, buf[NN_RDV_REPLY_MAX];
	nn_rdv_hello h;
	nn_rdv_reply r;
	NN_BENCH("rdv_hello_make_encode", it, {
		nn_rdv_hello_make(&h, &a, &b.id, addrs, 4, nonce);
		nn_rdv_hello_encode(&h, buf, sizeof buf);
	});
	int hl = nn_rdv_hello_encode(&h, buf, sizeof buf);
	NN_BENCH("rdv_hello_decode_verify", it, {
		if (nn_rdv_hello_decode(&h, buf, (size_t)hl) || nn_rdv_hello_verify(&h, &b.id, a.ed_pub))
			abort();
	});
	nn_rdv_reply_make(&r, &b, addrs, 4, nonce);
	int rl = nn_rdv_reply_encode(&r, buf, sizeof buf);
	NN_BENCH("rdv_reply_decode_verify", it, {
		if (nn_rdv_reply_decode(&r, buf, (size_t)rl) || nn_rdv_reply_verify(&r, &b.id, nonce))
			abort();
	});
	nn_replay c;
	uint8_t secret[16] = {1};
	if (nn_replay_create(&c, NN_REPLAY_GEN_CAP, secret))
		abort();
	uint64_t k = 0, rit = quick ? 1000 : 2000000;
	NN_BENCH("replay_check_insert", rit, {
		k++;
		(void)nn_replay_check(&c, &k, sizeof k, (nn_time)(k / 1000 + 60), (nn_time)(k / 1000));
	});
	NN_BENCH("replay_check_hit", rit, {
		(void)nn_replay_check(&c, &k, sizeof k, (nn_time)(k / 1000 + 60), (nn_time)(k / 1000));
	});
	nn_replay_destroy(&c);
	return 0;
}
