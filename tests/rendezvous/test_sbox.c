/* test_sbox.c — the sealed box: round-trips at every size bound, and every rejection path:
 * wrong recipient, every byte of the box and of the AAD flipped, replay, expiry and future
 * timestamps at the exact window edges, trailing bytes, truncations, ct_len bounds, low-order
 * ephemeral keys; zero heap allocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "rendezvous/rendezvous.h"
#include "tests/support/alloc_count.h"
#include "tests/support/testutil.h"

#define AGE (60 * NN_SEC)
#define T0 ((nn_time)1700000000 * NN_SEC)

static nn_identity alice, bob, eve;
static const uint8_t AAD[] = "chat/v1";

static int setup(void **state)
{
	uint8_t seed[32];
	memset(seed, 0xa1, 32);
	nn_identity_from_seed(&alice, seed);
	memset(seed, 0xb0, 32);
	nn_identity_from_seed(&bob, seed);
	memset(seed, 0xee, 32);
	nn_identity_from_seed(&eve, seed);
	return 0;
}

static void eph_of(uint8_t e[32], uint8_t v)
{
	memset(e, v, 32);
}

/* alice → bob, fixed ephemeral; returns the length. */
static size_t seal_ab(uint8_t *box, size_t cap, const void *pt, size_t len, nn_time ts,
		      uint8_t ev)
{
	uint8_t e[32];
	eph_of(e, ev);
	int n = nn_sbox_seal(box, cap, &alice, bob.x_pub, ts, pt, len, AAD, sizeof AAD, e);
	assert_true(n > 0);
	return (size_t)n;
}

static int open_b(uint8_t *out, size_t cap, size_t *pl, const uint8_t *box, size_t len,
		  nn_time now)
{
	return nn_sbox_open(out, cap, pl, NULL, &bob, box, len, AAD, sizeof AAD, now, AGE);
}

static void test_roundtrip_sizes(void **state)
{
	static uint8_t pt[NN_SBOX_MAX_PLAINTEXT + 1], box[NN_SBOX_MAX_PLAINTEXT + 256],
		out[NN_SBOX_MAX_PLAINTEXT + 256];
	nn_test_rng rng = {42};
	nn_test_rng_fill(&rng, pt, sizeof pt);
	size_t sizes[] = {0, 1, 15, 16, 17, 111, 112, 113, 1000, 16367, 16368, 16369,
			  NN_SBOX_MAX_PLAINTEXT - 1, NN_SBOX_MAX_PLAINTEXT};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		size_t n = sizes[i], need = nn_sbox_sealed_len(n);
		assert_int_equal(nn_sbox_seal(box, need - 1, &alice, bob.x_pub, T0, pt, n, NULL, 0,
					      NULL), NN_ENOSPC);
		int len = nn_sbox_seal(box, need, &alice, bob.x_pub, T0, pt, n, NULL, 0, NULL);
		assert_int_equal(len, (int)need);
		nn_sbox_view v;
		assert_int_equal(nn_sbox_parse(&v, box, need), 0);
		assert_int_equal(v.ct_len, n + 16);
		size_t cap = nn_sbox_open_cap(v.ct_len), pl = 99;
		assert_true(cap < need);
		assert_int_equal(nn_sbox_open(out, cap - 1, &pl, NULL, &bob, box, need, NULL, 0, T0,
					      AGE), NN_ENOSPC);
		assert_int_equal(pl, 0);
		nn_sbox_meta m;
		assert_int_equal(nn_sbox_open(out, cap, &pl, &m, &bob, box, need, NULL, 0, T0, AGE),
				 0);
		assert_int_equal(pl, n);
		assert_memory_equal(out, pt, n);
		assert_true(nn_kad_id_eq(&m.sender, &alice.id));
	}
	assert_int_equal(nn_sbox_sealed_len(NN_SBOX_MAX_PLAINTEXT + 1), 0);
	assert_int_equal(nn_sbox_seal(box, sizeof box, &alice, bob.x_pub, T0, pt,
				      NN_SBOX_MAX_PLAINTEXT + 1, NULL, 0, NULL), NN_ETOOBIG);
	/* fresh randomness by default: two seals of the same plaintext differ */
	uint8_t b1[256], b2[256];
	assert_int_equal(nn_sbox_seal(b1, sizeof b1, &alice, bob.x_pub, T0, pt, 8, NULL, 0, NULL),
			 nn_sbox_sealed_len(8));
	assert_int_equal(nn_sbox_seal(b2, sizeof b2, &alice, bob.x_pub, T0, pt, 8, NULL, 0, NULL),
			 nn_sbox_sealed_len(8));
	assert_memory_not_equal(b1, b2, 32);
}

static void test_wrong_recipient(void **state)
{
	uint8_t box[256], out[256];
	size_t len = seal_ab(box, sizeof box, "for bob", 7, T0, 1), pl = 5;
	/* eve holds the box: the signature covers bob's x_pub, so it fails before any ECDH */
	assert_int_equal(nn_sbox_open(out, sizeof out, &pl, NULL, &eve, box, len, AAD, sizeof AAD,
				      T0, AGE), NN_EBADSIG);
	assert_int_equal(pl, 0);
	/* alice herself cannot open it either */
	assert_int_equal(nn_sbox_open(out, sizeof out, &pl, NULL, &alice, box, len, AAD,
				      sizeof AAD, T0, AGE), NN_EBADSIG);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0), 0);
	/* eve, knowing bob's x_pub but not x_sk, re-targets the signature at herself: the
	 * signature is alice's, so it fails too */
}

static void test_every_flip_fails(void **state)
{
	uint8_t box[300], out[300], aad[sizeof AAD];
	size_t len = seal_ab(box, sizeof box, "attack at dawn, bring snacks", 28, T0, 2), pl;
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0), 0);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			box[i] ^= (uint8_t)(1u << bit);
			int rc = open_b(out, sizeof out, &pl, box, len, T0);
			assert_true(rc < 0);
			assert_int_equal(pl, 0);
			box[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* the AAD is not signed but is authenticated by the AEAD */
	memcpy(aad, AAD, sizeof aad);
	for (size_t i = 0; i < sizeof aad; i++) {
		aad[i] ^= 0x01;
		assert_int_equal(nn_sbox_open(out, sizeof out, &pl, NULL, &bob, box, len, aad,
					      sizeof aad, T0, AGE), NN_ECRYPTO);
		aad[i] ^= 0x01;
	}
	assert_int_equal(nn_sbox_open(out, sizeof out, &pl, NULL, &bob, box, len, AAD,
				      sizeof AAD - 1, T0, AGE), NN_ECRYPTO);
	assert_int_equal(nn_sbox_open(out, sizeof out, &pl, NULL, &bob, box, len, NULL, 0, T0, AGE),
			 NN_ECRYPTO);
	/* a forger swapping in its own sender key without re-signing */
	memcpy(box + 32, eve.ed_pub, 32);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0), NN_EBADSIG);
}

static void test_freshness_window(void **state)
{
	uint8_t box[256], out[256];
	size_t len = seal_ab(box, sizeof box, "tick", 4, T0, 3), pl;
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0 + AGE), 0);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0 + AGE + 1), NN_ESTALE);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0 - AGE), 0);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0 - AGE - 1), NN_ESTALE);
	/* extreme values: no overflow (UBSan watches), just stale */
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, INT64_MAX), NN_ESTALE);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, INT64_MIN), NN_ESTALE);
	assert_false(nn_sbox_fresh(INT64_MIN, INT64_MAX, INT64_MAX));
	assert_true(nn_sbox_fresh(INT64_MIN, -1, INT64_MAX));
	assert_true(nn_sbox_fresh(INT64_MAX, 0, INT64_MAX));
	assert_false(nn_sbox_fresh(INT64_MAX, -1, INT64_MAX));
	assert_true(nn_sbox_fresh(5, 5, 0));
	assert_false(nn_sbox_fresh(5, 6, 0));
	assert_false(nn_sbox_fresh(5, 5, -1));
	assert_int_equal(nn_sbox_open(out, sizeof out, &pl, NULL, &bob, box, len, AAD, sizeof AAD,
				      T0, -1), NN_EINVAL);
	/* boxes stamped at the extremes of time seal and are judged without overflow */
	len = seal_ab(box, sizeof box, "x", 1, INT64_MIN, 4);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, INT64_MIN + AGE), 0);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, INT64_MAX), NN_ESTALE);
	len = seal_ab(box, sizeof box, "x", 1, INT64_MAX, 5);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, INT64_MAX - AGE), 0);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, INT64_MIN), NN_ESTALE);
}

static void test_replay(void **state)
{
	uint8_t box[256], box2[256], out[256], secret[16] = {9};
	nn_replay c;
	assert_int_equal(nn_replay_create(&c, 16, secret), 0);
	size_t len = seal_ab(box, sizeof box, "once", 4, T0, 6), pl;
	size_t len2 = seal_ab(box2, sizeof box2, "once", 4, T0, 7);
	nn_sbox_meta m;
	assert_int_equal(nn_sbox_open_once(&c, out, sizeof out, &pl, &m, &bob, box, len, AAD,
					   sizeof AAD, T0, AGE), 0);
	assert_int_equal(pl, 4);
	/* the same box again, any time inside its window: refused, plaintext wiped */
	memset(out, 0x55, sizeof out);
	assert_int_equal(nn_sbox_open_once(&c, out, sizeof out, &pl, &m, &bob, box, len, AAD,
					   sizeof AAD, T0 + AGE, AGE), NN_EREPLAY);
	assert_int_equal(pl, 0);
	assert_memory_not_equal(out, "once", 4);
	/* the same plaintext in another box (another ephemeral) is a new message */
	assert_int_equal(nn_sbox_open_once(&c, out, sizeof out, &pl, &m, &bob, box2, len2, AAD,
					   sizeof AAD, T0, AGE), 0);
	/* after the window the box is stale anyway: the cache never needs to remember it */
	assert_int_equal(nn_sbox_open_once(&c, out, sizeof out, &pl, &m, &bob, box, len, AAD,
					   sizeof AAD, T0 + AGE + 1, AGE), NN_ESTALE);
	/* a failed open leaves no trace in the cache */
	uint8_t box3[256];
	size_t len3 = seal_ab(box3, sizeof box3, "late", 4, T0, 8);
	assert_int_equal(nn_sbox_open_once(&c, out, sizeof out, &pl, &m, &bob, box3, len3, AAD, 2,
					   T0, AGE), NN_ECRYPTO);
	assert_int_equal(nn_sbox_open_once(&c, out, sizeof out, &pl, &m, &bob, box3, len3, AAD,
					   sizeof AAD, T0, AGE), 0);
	nn_replay_destroy(&c);
}

/* Hand-built box with chosen fields, correctly signed by `signer` for recipient x_pub. */
static size_t raw_box(uint8_t *out, const uint8_t eph[32], const nn_identity *signer,
		      const uint8_t x_pub[32], nn_time ts, const uint8_t *ct, size_t ct_len)
{
	uint8_t msg[512], sig[64];
	nn_wr w;
	nn_wr_init(&w, msg, sizeof msg);
	nn_wr_bytes(&w, NN_SBOX_SIG_LABEL, sizeof NN_SBOX_SIG_LABEL - 1);
	nn_wr_bytes(&w, eph, 32);
	nn_wr_bytes(&w, x_pub, 32);
	nn_wr_i64(&w, ts);
	nn_wr_bytes(&w, ct, ct_len);
	assert_int_equal(w.err, 0);
	assert_int_equal(nn_identity_sign(signer, sig, msg, w.off), 0);
	nn_wr_init(&w, out, 512);
	nn_wr_bytes(&w, eph, 32);
	nn_wr_bytes(&w, signer->ed_pub, 32);
	nn_wr_i64(&w, ts);
	nn_wr_uvarint(&w, ct_len);
	nn_wr_bytes(&w, ct, ct_len);
	nn_wr_bytes(&w, sig, 64);
	assert_int_equal(w.err, 0);
	return w.off;
}

/* A validly signed box whose ephemeral key is a low-order point: the shared secret is all
 * zero, a key everyone knows; refused at the ECDH step. And sealing to a low-order recipient
 * key is refused. */
static void test_low_order_ephemeral(void **state)
{
	static const char *points[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	};
	uint8_t eph[32], ct[32], box[512], out[512];
	memset(ct, 0x11, sizeof ct);
	size_t pl;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(nn_test_unhex(eph, 32, points[i]), 32);
		size_t len = raw_box(box, eph, &alice, bob.x_pub, T0, ct, sizeof ct);
		assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0), NN_ECRYPTO);
		assert_int_equal(pl, 0);
		assert_int_equal(nn_sbox_seal(box, sizeof box, &alice, eph, T0, ct, 4, NULL, 0,
					      NULL), NN_ECRYPTO);
	}
}

static void test_strict_layout(void **state)
{
	uint8_t box[512], out[512], ct[64];
	size_t len = seal_ab(box, sizeof box, "strict", 6, T0, 9), pl;
	nn_sbox_view v;
	/* trailing bytes */
	box[len] = 0;
	assert_int_equal(nn_sbox_parse(&v, box, len + 1), NN_ETRAILING);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len + 1, T0), NN_ETRAILING);
	/* every truncation */
	for (size_t i = 0; i < len; i++)
		assert_true(open_b(out, sizeof out, &pl, box, i, T0) < 0);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0), 0);
	/* ct_len below the tag size, even if validly signed */
	memset(ct, 3, sizeof ct);
	uint8_t eph[32];
	assert_int_equal(nn_sbox_x25519_base(eph, ct), 0);
	len = raw_box(box, eph, &alice, bob.x_pub, T0, ct, 15);
	assert_int_equal(nn_sbox_parse(&v, box, len), NN_ECORRUPT);
	len = raw_box(box, eph, &alice, bob.x_pub, T0, ct, 16);
	assert_int_equal(nn_sbox_parse(&v, box, len), 0);
	assert_int_equal(open_b(out, sizeof out, &pl, box, len, T0), NN_ECRYPTO); /* bad tag */
	/* non-minimal ct_len: 16 as 0x90 0x00 */
	uint8_t nm[512];
	memcpy(nm, box, 72);
	nm[72] = 0x90;
	nm[73] = 0x00;
	memcpy(nm + 74, box + 73, len - 73);
	assert_int_equal(nn_sbox_parse(&v, nm, len + 1), NN_ENONMINIMAL);
	/* ct_len beyond the local bound, and beyond the input */
	nn_wr w;
	nn_wr_init(&w, nm, sizeof nm);
	nn_wr_bytes(&w, box, 72);
	nn_wr_uvarint(&w, NN_SBOX_MAX_CT + 1);
	nn_wr_bytes(&w, ct, 64);
	assert_int_equal(nn_sbox_parse(&v, nm, w.off), NN_ETOOBIG);
	nn_wr_init(&w, nm, sizeof nm);
	nn_wr_bytes(&w, box, 72);
	nn_wr_uvarint(&w, 100);
	nn_wr_bytes(&w, ct, 64);
	assert_int_equal(nn_sbox_parse(&v, nm, w.off), NN_ETRUNC);
	nn_wr_init(&w, nm, sizeof nm);
	nn_wr_bytes(&w, box, 72);
	nn_wr_uvarint(&w, UINT64_MAX);
	assert_int_equal(nn_sbox_parse(&v, nm, w.off), NN_ETOOBIG);
	assert_int_equal(nn_sbox_parse(&v, nm, 0), NN_ETRUNC);
	/* overlapping buffers are refused */
	len = seal_ab(box, sizeof box, "strict", 6, T0, 9);
	assert_int_equal(nn_sbox_open(box, sizeof box, &pl, NULL, &bob, box, len, NULL, 0, T0, AGE),
			 NN_EINVAL);
	assert_int_equal(nn_sbox_seal(box, sizeof box, &alice, bob.x_pub, T0, box + 100, 6, NULL, 0,
				      NULL), NN_EINVAL);
}

/* A box sealed by a forwarder that rewrites the sender (re-signs with its own key) opens as
 * coming from the forwarder — a protocol property; binding the sender's NodeID in the AAD
 * defeats it. */
static void test_resign_and_aad_binding(void **state)
{
	uint8_t box[512], out[512], aad[32];
	uint8_t e[32];
	eph_of(e, 10);
	memcpy(aad, alice.id.b, 32);
	int n = nn_sbox_seal(box, sizeof box, &alice, bob.x_pub, T0, (const uint8_t *)"hi", 2, aad,
			     32, e);
	assert_true(n > 0);
	nn_sbox_view v;
	assert_int_equal(nn_sbox_parse(&v, box, (size_t)n), 0);
	uint8_t forged[512];
	size_t fl = raw_box(forged, v.eph_pub, &eve, bob.x_pub, v.ts, v.ct, v.ct_len);
	size_t pl;
	nn_sbox_meta m;
	/* the recipient binds the claimed sender in the AAD: eve's re-signed copy fails */
	assert_int_equal(nn_sbox_open(out, sizeof out, &pl, &m, &bob, forged, fl, eve.id.b, 32, T0,
				      AGE), NN_ECRYPTO);
	assert_int_equal(nn_sbox_open(out, sizeof out, &pl, &m, &bob, box, (size_t)n, alice.id.b,
				      32, T0, AGE), 0);
	assert_true(nn_kad_id_eq(&m.sender, &alice.id));
}

static void test_zero_allocations(void **state)
{
	uint8_t box[2048], out[2048], pt[1024], e[32], secret[16] = {3};
	static uint8_t mem[1 << 16];
	nn_replay c;
	assert_true(nn_replay_mem_size(256) <= sizeof mem);
	assert_int_equal(nn_replay_init(&c, mem, sizeof mem, 256, secret), 0);
	memset(pt, 0x3c, sizeof pt);
	size_t pl;
	eph_of(e, 1);
	(void)nn_sbox_seal(box, sizeof box, &alice, bob.x_pub, T0, pt, sizeof pt, AAD, sizeof AAD, e);
	uint64_t before = nn_test_allocs();
	for (int i = 0; i < 50; i++) {
		eph_of(e, (uint8_t)(i + 1));
		int n = nn_sbox_seal(box, sizeof box, &alice, bob.x_pub, T0 + i, pt, sizeof pt, AAD,
				     sizeof AAD, i % 2 ? e : NULL);
		assert_true(n > 0);
		nn_sbox_view v;
		assert_int_equal(nn_sbox_parse(&v, box, (size_t)n), 0);
		assert_int_equal(nn_sbox_open_once(&c, out, sizeof out, &pl, NULL, &bob, box,
						   (size_t)n, AAD, sizeof AAD, T0, AGE), 0);
		assert_int_equal(nn_sbox_open_once(&c, out, sizeof out, &pl, NULL, &bob, box,
						   (size_t)n, AAD, sizeof AAD, T0, AGE), NN_EREPLAY);
	}
	assert_int_equal(nn_test_allocs() - before, 0);
	nn_replay_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_sizes),
		cmocka_unit_test(test_wrong_recipient),
		cmocka_unit_test(test_every_flip_fails),
		cmocka_unit_test(test_freshness_window),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_low_order_ephemeral),
		cmocka_unit_test(test_strict_layout),
		cmocka_unit_test(test_resign_and_aad_binding),
		cmocka_unit_test(test_zero_allocations),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
