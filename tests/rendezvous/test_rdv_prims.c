/* test_rdv_prims.c — known answers for the sealed box's building blocks, run through the very
 * functions the box uses: RFC 7748 X25519 (§5.2 and §6.1), RFC 8439 ChaCha20-Poly1305 AEAD
 * (§2.8.2), and whole-message golden vectors (Hello, Reply, sealed box) computed independently
 * by gen_vectors.py (pyca/cryptography). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "rendezvous/rendezvous.h"
#include "tests/support/testutil.h"

static void unhex(uint8_t *out, size_t n, const char *hex)
{
	assert_int_equal(nn_test_unhex(out, n, hex), n);
}

static void x25519_kat(const char *k, const char *u, const char *want)
{
	uint8_t sk[32], pub[32], out[32], exp[32];
	unhex(sk, 32, k);
	unhex(pub, 32, u);
	unhex(exp, 32, want);
	assert_int_equal(nn_sbox_x25519(out, sk, pub), 0);
	assert_memory_equal(out, exp, 32);
}

static void test_x25519_rfc7748_5_2(void **state)
{
	x25519_kat("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		   "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		   "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	x25519_kat("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		   "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		   "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
	/* iterated: k = u = 9; k, u = X25519(k, u), k */
	uint8_t k[32] = {9}, u[32] = {9}, r[32], want1[32], want1000[32];
	unhex(want1, 32, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
	unhex(want1000, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
	for (int i = 1; i <= 1000; i++) {
		assert_int_equal(nn_sbox_x25519(r, k, u), 0);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			assert_memory_equal(k, want1, 32);
	}
	assert_memory_equal(k, want1000, 32);
}

static void test_x25519_rfc7748_6_1(void **state)
{
	uint8_t a[32], b[32], apub[32], bpub[32], k[32], out[32];
	unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	uint8_t want_a[32], want_b[32];
	unhex(want_a, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	unhex(want_b, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	assert_int_equal(nn_sbox_x25519_base(apub, a), 0);
	assert_int_equal(nn_sbox_x25519_base(bpub, b), 0);
	assert_memory_equal(apub, want_a, 32);
	assert_memory_equal(bpub, want_b, 32);
	assert_int_equal(nn_sbox_x25519(out, a, bpub), 0);
	assert_memory_equal(out, k, 32);
	assert_int_equal(nn_sbox_x25519(out, b, apub), 0);
	assert_memory_equal(out, k, 32);
}

/* Low-order points give an all-zero shared secret: refused, output wiped. */
static void test_x25519_low_order(void **state)
{
	static const char *points[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t sk[32], pub[32], out[32];
	memset(sk, 0x5a, sizeof sk);
	for (size_t i = 0; i < sizeof points / sizeof *points; i++) {
		unhex(pub, 32, points[i]);
		memset(out, 0xee, sizeof out);
		assert_int_equal(nn_sbox_x25519(out, sk, pub), NN_ECRYPTO);
		for (int j = 0; j < 32; j++)
			assert_int_equal(out[j], 0);
	}
}

static const char SUNSCREEN[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				"only one tip for the future, sunscreen would be it.";

static void test_aead_rfc8439_2_8_2(void **state)
{
	uint8_t key[32], nonce[12], aad[12], want[sizeof SUNSCREEN - 1 + 16];
	uint8_t ct[sizeof want], pt[sizeof SUNSCREEN];
	size_t n = sizeof SUNSCREEN - 1;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	unhex(nonce, 12, "070000004041424344454647");
	unhex(aad, 12, "50515253c0c1c2c3c4c5c6c7");
	unhex(want, sizeof want,
	      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	      "3ff4def08e4b7a9de576d26586cec64b6116"
	      "1ae10b594f09e26a7e902ecbd0600691");
	assert_int_equal(nn_sbox_aead_encrypt(ct, (const uint8_t *)SUNSCREEN, n, aad, 12, nonce,
					      key), 0);
	assert_memory_equal(ct, want, sizeof want);
	memset(pt, 0, sizeof pt);
	assert_int_equal(nn_sbox_aead_decrypt(pt, ct, sizeof ct, aad, 12, nonce, key), 0);
	assert_memory_equal(pt, SUNSCREEN, n);
	/* any bit of ct, tag or aad flipped: refused, output wiped */
	for (size_t i = 0; i < sizeof ct; i++) {
		ct[i] ^= 0x01;
		assert_int_equal(nn_sbox_aead_decrypt(pt, ct, sizeof ct, aad, 12, nonce, key),
				 NN_ECRYPTO);
		ct[i] ^= 0x01;
	}
	aad[11] ^= 0x80;
	assert_int_equal(nn_sbox_aead_decrypt(pt, ct, sizeof ct, aad, 12, nonce, key), NN_ECRYPTO);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pt[i], 0);
}

/* ---- whole messages against gen_vectors.py ---- */

#define GOLD_HELLO                                                                         \
	"26d74bba073a11ce1fbd8089f82b2daeb3a010c4ba78d31af5172b09a3fc2a310204717569630c312e32" \
	"2e332e343a35363738036d656d056875622d61a0a1a2a3a4a5a6a7a8a9aaabacadaeaf8a750b5a62f852" \
	"87d36ed758019c325207785c06cf25f110c0c0899708e0c7c43a91ecac3836d6d095f71d3f73a95d3c06" \
	"f5ecc074979093dfe1e3694ae7280a"
#define GOLD_REPLY                                                                         \
	"75bebe00a037e55b4d70af168444bda8a2944e803e35c840a19239092565eeedff5d721099110d18004b" \
	"2bfc895ab3c2f4c7973a54524c9fd72386fbfd8249320204717569630c312e322e332e343a3536373803" \
	"6d656d056875622d61a0a1a2a3a4a5a6a7a8a9aaabacadaeaf8e33512e0f4e8c4729a48f94b15562c8f5" \
	"4ae8a7a6c311cb3f76faee81a7bd724c1034f98637c2a21fb5d8733a491460c8e7cbd27d5725ea16afe8" \
	"f6ea464c0d"
#define GOLD_BOX                                                                           \
	"64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466f921dfe6a43d8e34b001" \
	"9cd7cef3f8605052b37db5d792583294375d996c086217979cfe3d85cd1523c4bce3d88a52c802845288" \
	"4fcccbf0ce2b7d971cf29bdd89fa68780898c23e38354264eac3c560011e7ad3b4c377e041fe8f9c7e50" \
	"a63ba1912940cb6b91ac1167ea82e8590e7b5a57c25b0ae842de640cb84fea3e78a40e262e91269f1bbf" \
	"63caf002"
#define GOLD_RCPT_ID "c47a437aa8cb4990ced0c9101a6fc2c95155e29a8232fbc2e45f730768b55aa3"
#define GOLD_TS ((nn_time)1700000000123456789LL)

static void seed_from(uint8_t seed[32], uint8_t first)
{
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
}

static void gold_parties(nn_identity *sender, nn_identity *rcpt, nn_addr addrs[2],
			 uint8_t nonce[16])
{
	uint8_t seed[32];
	seed_from(seed, 0x01);
	assert_int_equal(nn_identity_from_seed(sender, seed), 0);
	seed_from(seed, 0x21);
	assert_int_equal(nn_identity_from_seed(rcpt, seed), 0);
	assert_int_equal(nn_addr_set(&addrs[0], "quic", "1.2.3.4:5678"), 0);
	assert_int_equal(nn_addr_set(&addrs[1], "mem", "hub-a"), 0);
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(0xa0 + i);
}

static void test_golden_hello_reply(void **state)
{
	nn_identity s, r;
	nn_addr addrs[2];
	uint8_t nonce[16], want[NN_RDV_REPLY_MAX], buf[NN_RDV_REPLY_MAX];
	gold_parties(&s, &r, addrs, nonce);
	nn_id rid;
	assert_int_equal(nn_kad_id_from_hex(&rid, GOLD_RCPT_ID, 64), 0);
	assert_true(nn_kad_id_eq(&rid, &r.id));

	nn_rdv_hello h, h2;
	size_t wl = nn_test_unhex(want, sizeof want, GOLD_HELLO);
	assert_int_equal(nn_rdv_hello_make(&h, &s, &r.id, addrs, 2, nonce), 0);
	assert_int_equal(nn_rdv_hello_encode(&h, buf, sizeof buf), (int)wl);
	assert_memory_equal(buf, want, wl);
	assert_int_equal(nn_rdv_hello_decode(&h2, want, wl), 0);
	assert_int_equal(nn_rdv_hello_verify(&h2, &r.id, s.ed_pub), 0);
	assert_int_equal(h2.naddrs, 2);
	assert_true(nn_addr_eq(&h2.addrs[1], &addrs[1]));

	nn_rdv_reply rp, rp2;
	wl = nn_test_unhex(want, sizeof want, GOLD_REPLY);
	assert_int_equal(nn_rdv_reply_make(&rp, &r, addrs, 2, nonce), 0);
	assert_int_equal(nn_rdv_reply_encode(&rp, buf, sizeof buf), (int)wl);
	assert_memory_equal(buf, want, wl);
	assert_int_equal(nn_rdv_reply_decode(&rp2, want, wl), 0);
	assert_int_equal(nn_rdv_reply_verify(&rp2, &r.id, nonce), 0);
	assert_memory_equal(rp2.x_pub, r.x_pub, 32);
}

static void test_golden_box(void **state)
{
	nn_identity s, r;
	nn_addr addrs[2];
	uint8_t nonce[16], eph[32], want[512], box[512], pt[512];
	gold_parties(&s, &r, addrs, nonce);
	for (int i = 0; i < 32; i++)
		eph[i] = (uint8_t)(0x41 + i);
	size_t wl = nn_test_unhex(want, sizeof want, GOLD_BOX);
	const char *msg = "hello, sealed world";
	int n = nn_sbox_seal(box, sizeof box, &s, r.x_pub, GOLD_TS, (const uint8_t *)msg,
			     strlen(msg), (const uint8_t *)"aad-v1", 6, eph);
	assert_int_equal(n, (int)wl);
	assert_int_equal(nn_sbox_sealed_len(strlen(msg)), wl);
	assert_memory_equal(box, want, wl);

	size_t pl;
	nn_sbox_meta m;
	assert_int_equal(nn_sbox_open(pt, sizeof pt, &pl, &m, &r, want, wl,
				      (const uint8_t *)"aad-v1", 6, GOLD_TS + 5 * NN_SEC,
				      30 * NN_SEC), 0);
	assert_int_equal(pl, strlen(msg));
	assert_memory_equal(pt, msg, pl);
	assert_true(nn_kad_id_eq(&m.sender, &s.id));
	assert_memory_equal(m.sender_ed_pub, s.ed_pub, 32);
	assert_int_equal(m.ts, GOLD_TS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x25519_rfc7748_5_2),
		cmocka_unit_test(test_x25519_rfc7748_6_1),
		cmocka_unit_test(test_x25519_low_order),
		cmocka_unit_test(test_aead_rfc8439_2_8_2),
		cmocka_unit_test(test_golden_hello_reply),
		cmocka_unit_test(test_golden_box),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
