/* fuzz_sbox.c — sealed-box open with a fixed recipient (seed 0x21..0x40, the golden vectors'
 * recipient). 1) The input as a box: parse and open never crash; a parsed box re-encodes to the
 * same bytes; an opened one is consistent with its view. 2) The input as plaintext: sealed with
 * fixed keys it opens to the same bytes, and one flipped byte (chosen by the input) makes the
 * open fail — so the fuzzer also drives every step past the signature. */
#include <stdlib.h>
#include <string.h>

#include "rendezvous/sbox.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nn_identity rcpt, sender;

static void setup(void)
{
	static int done;
	uint8_t seed[32];
	if (done)
		return;
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x21 + i);
	if (nn_identity_from_seed(&rcpt, seed) != 0)
		abort();
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(1 + i);
	if (nn_identity_from_seed(&sender, seed) != 0)
		abort();
	done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[NN_SBOX_MAX_CT + 256], box[NN_SBOX_MAX_CT + 256];
	static const uint8_t aad[] = "aad-v1";
	setup();

	/* 1. the input as a box */
	nn_sbox_view v;
	if (nn_sbox_parse(&v, data, size) == 0) {
		nn_wr w;
		nn_wr_init(&w, box, sizeof box);
		nn_wr_bytes(&w, v.eph_pub, 32);
		nn_wr_bytes(&w, v.sender_ed_pub, 32);
		nn_wr_i64(&w, v.ts);
		nn_wr_uvarint(&w, v.ct_len);
		nn_wr_bytes(&w, v.ct, v.ct_len);
		nn_wr_bytes(&w, v.sig, 64);
		if (w.err || w.off != size || memcmp(box, data, size) != 0)
			abort();
		size_t pl = 1;
		nn_sbox_meta m;
		int rc = nn_sbox_open(out, sizeof out, &pl, &m, &rcpt, data, size, aad, 6, v.ts,
				      NN_SEC);
		if (rc == 0) {
			nn_id id;
			nn_identity_node_id(&id, v.sender_ed_pub);
			if (pl != v.ct_len - 16 || m.ts != v.ts || !nn_kad_id_eq(&id, &m.sender) ||
			    memcmp(m.eph_pub, v.eph_pub, 32) != 0)
				abort();
		} else if (pl != 0) {
			abort();
		}
	} else {
		size_t pl = 1;
		if (nn_sbox_open(out, sizeof out, &pl, NULL, &rcpt, data, size, aad, 6, 0, NN_SEC) ==
			    0 ||
		    pl != 0)
			abort();
	}

	/* 2. the input as plaintext: seal, open, compare; then tamper */
	if (size > NN_SBOX_MAX_PLAINTEXT)
		return 0;
	uint8_t eph[32];
	memset(eph, 0x41, sizeof eph);
	if (size)
		eph[0] = data[0];
	int n = nn_sbox_seal(box, sizeof box, &sender, rcpt.x_pub, 12345, data, size, aad, 6, eph);
	if (n < 0 || (size_t)n != nn_sbox_sealed_len(size))
		abort();
	size_t pl = 0;
	if (nn_sbox_open(out, sizeof out, &pl, NULL, &rcpt, box, (size_t)n, aad, 6, 12345, 0) != 0 ||
	    pl != size || (size && memcmp(out, data, size) != 0))
		abort();
	size_t at = size ? ((size_t)data[size - 1] * 257u + size) % (size_t)n : 0;
	box[at] ^= 0x01;
	if (nn_sbox_open(out, sizeof out, &pl, NULL, &rcpt, box, (size_t)n, aad, 6, 12345, 0) == 0)
		abort();
	return 0;
}
