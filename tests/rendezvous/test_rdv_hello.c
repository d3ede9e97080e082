/* test_rdv_hello.c — Hello and Reply: round-trips, strict decoding at every bound, and every
 * rejection path (MITM forwarder, replayed Reply, Reply for a Hello never sent, bad or
 * misdirected Hello signatures). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "rendezvous/rendezvous.h"
#include "tests/support/alloc_count.h"
#include "tests/support/testutil.h"

static void ident(nn_identity *id, uint8_t tag)
{
	uint8_t seed[32];
	memset(seed, tag, sizeof seed);
	assert_int_equal(nn_identity_from_seed(id, seed), 0);
}

static size_t fill_addrs(nn_addr *a, size_t n)
{
	char ep[64];
	for (size_t i = 0; i < n; i++) {
		snprintf(ep, sizeof ep, "10.0.%zu.%zu:%zu", i, i + 1, 4000 + i);
		assert_int_equal(nn_addr_set(&a[i], i % 2 ? "mem" : "quic", ep), 0);
	}
	return n;
}

/* Longest legal addresses, to hit NN_RDV_*_MAX exactly. */
static void fill_max_addrs(nn_addr *a)
{
	char net[NN_ADDR_NET_MAX + 1], ep[NN_ADDR_EP_MAX + 1];
	memset(net, 'n', NN_ADDR_NET_MAX);
	net[NN_ADDR_NET_MAX] = 0;
	memset(ep, 'e', NN_ADDR_EP_MAX);
	ep[NN_ADDR_EP_MAX] = 0;
	for (int i = 0; i < NN_RDV_MAX_ADDRS; i++)
		assert_int_equal(nn_addr_set(&a[i], net, ep), 0);
}

static void nonce_of(uint8_t n[16], uint8_t v) { memset(n, v, 16); }

static void test_hello_roundtrip(void **state)
{
	nn_identity a, b;
	ident(&a, 1);
	ident(&b, 2);
	nn_addr addrs[NN_RDV_MAX_ADDRS];
	uint8_t nonce[16], buf[NN_RDV_HELLO_MAX];
	nonce_of(nonce, 7);
	for (size_t n = 0; n <= NN_RDV_MAX_ADDRS; n++) {
		fill_addrs(addrs, n);
		nn_rdv_hello h, d;
		assert_int_equal(nn_rdv_hello_make(&h, &a, &b.id, addrs, n, nonce), 0);
		int len = nn_rdv_hello_encode(&h, buf, sizeof buf);
		assert_true(len >= (int)NN_RDV_HELLO_MIN);
		assert_int_equal(nn_rdv_hello_decode(&d, buf, (size_t)len), 0);
		assert_int_equal(d.naddrs, n);
		for (size_t i = 0; i < n; i++)
			assert_true(nn_addr_eq(&d.addrs[i], &addrs[i]));
		assert_memory_equal(d.x_pub, a.x_pub, 32);
		assert_memory_equal(d.nonce, nonce, 16);
		assert_int_equal(nn_rdv_hello_verify(&d, &b.id, a.ed_pub), 0);
		/* the encoder is exact: one byte less is NN_ENOSPC */
		assert_int_equal(nn_rdv_hello_encode(&h, buf, (size_t)len - 1), NN_ENOSPC);
	}
	/* the largest Hello is exactly NN_RDV_HELLO_MAX */
	fill_max_addrs(addrs);
	nn_rdv_hello h, d;
	assert_int_equal(nn_rdv_hello_make(&h, &a, &b.id, addrs, NN_RDV_MAX_ADDRS, nonce), 0);
	assert_int_equal(nn_rdv_hello_encode(&h, buf, sizeof buf), NN_RDV_HELLO_MAX);
	assert_int_equal(nn_rdv_hello_decode(&d, buf, NN_RDV_HELLO_MAX), 0);
	assert_int_equal(nn_rdv_hello_verify(&d, &b.id, a.ed_pub), 0);
}

static void test_hello_rejections(void **state)
{
	nn_identity a, b, c;
	ident(&a, 1);
	ident(&b, 2);
	ident(&c, 3);
	nn_addr addrs[3];
	uint8_t nonce[16], buf[NN_RDV_HELLO_MAX + 1];
	nonce_of(nonce, 9);
	fill_addrs(addrs, 3);
	nn_rdv_hello h, d;
	assert_int_equal(nn_rdv_hello_make(&h, &a, &b.id, addrs, 3, nonce), 0);
	int len = nn_rdv_hello_encode(&h, buf, sizeof buf);
	assert_true(len > 0);

	/* signed for another target: a Hello for b replayed toward c fails at c */
	assert_int_equal(nn_rdv_hello_verify(&h, &c.id, a.ed_pub), NN_EBADSIG);
	/* checked against the envelope's ed_pub: another originator's envelope fails */
	assert_int_equal(nn_rdv_hello_verify(&h, &b.id, c.ed_pub), NN_EBADSIG);

	/* every single-byte flip: refused by the decoder or by the signature */
	for (int i = 0; i < len; i++) {
		buf[i] ^= 0x20;
		int rc = nn_rdv_hello_decode(&d, buf, (size_t)len);
		if (rc == 0)
			rc = nn_rdv_hello_verify(&d, &b.id, a.ed_pub);
		assert_true(rc < 0);
		buf[i] ^= 0x20;
	}
	/* every truncation, and a trailing byte */
	for (int i = 0; i < len; i++)
		assert_true(nn_rdv_hello_decode(&d, buf, (size_t)i) < 0);
	buf[len] = 0;
	assert_int_equal(nn_rdv_hello_decode(&d, buf, (size_t)len + 1), NN_ETRAILING);
	assert_int_equal(nn_rdv_hello_decode(&d, buf, (size_t)len), 0);

	/* too many addresses: refused by make, encode and decode */
	nn_addr many[NN_RDV_MAX_ADDRS + 1];
	fill_addrs(many, NN_RDV_MAX_ADDRS + 1);
	assert_int_equal(nn_rdv_hello_make(&h, &a, &b.id, many, NN_RDV_MAX_ADDRS + 1, nonce),
			 NN_ELIMIT);
	nn_rdv_hello big = d;
	big.naddrs = NN_RDV_MAX_ADDRS + 1;
	assert_int_equal(nn_rdv_hello_encode(&big, buf, sizeof buf), NN_ELIMIT);
	assert_int_equal(nn_rdv_hello_verify(&big, &b.id, a.ed_pub), NN_ELIMIT);
	/* a malformed address in the struct is never encoded */
	big = d;
	big.addrs[0].net_len = 0;
	assert_int_equal(nn_rdv_hello_encode(&big, buf, sizeof buf), NN_EINVAL);
}

/* Hand-built payload with `count` declared addresses of the 4-byte form "\x01q\x01x" (net "q",
 * endpoint "x": the smallest that meets the address grammar). */
static size_t raw_hello(uint8_t *buf, uint64_t count, size_t present)
{
	nn_wr w;
	nn_wr_init(&w, buf, 4096);
	uint8_t z[64] = {0};
	nn_wr_bytes(&w, z, 32);
	nn_wr_uvarint(&w, count);
	for (size_t i = 0; i < present; i++) {
		nn_wr_u8(&w, 1);
		nn_wr_u8(&w, 'q');
		nn_wr_u8(&w, 1);
		nn_wr_u8(&w, 'x');
	}
	nn_wr_bytes(&w, z, 16);
	nn_wr_bytes(&w, z, 64);
	assert_int_equal(w.err, 0);
	return w.off;
}

/* The address-count bound: 16 decodes, 17 is refused before any entry is read. Removing the
 * cap check in the decoder (or passing a larger cap) makes this test fail, and ASan would
 * catch the write past addrs[16]. */
static void test_decode_bounds(void **state)
{
	uint8_t buf[4096];
	nn_rdv_hello h;
	nn_rdv_reply r;
	assert_int_equal(nn_rdv_hello_decode(&h, buf, raw_hello(buf, 16, 16)), 0);
	assert_int_equal(h.naddrs, 16);
	assert_int_equal(nn_rdv_hello_decode(&h, buf, raw_hello(buf, 17, 17)), NN_ELIMIT);
	assert_int_equal(h.naddrs, 0);
	assert_int_equal(nn_rdv_hello_decode(&h, buf, raw_hello(buf, 1u << 30, 0)), NN_ELIMIT);
	/* declared count larger than what the bytes can hold */
	assert_int_equal(nn_rdv_hello_decode(&h, buf, raw_hello(buf, 5, 1)), NN_ECORRUPT);
	/* a non-minimal count (0x80 0x00 for 0) */
	size_t n = raw_hello(buf, 0, 0);
	memmove(buf + 34, buf + 33, n - 33);
	buf[32] = 0x80;
	buf[33] = 0x00;
	assert_int_equal(nn_rdv_hello_decode(&h, buf, n + 1), NN_ENONMINIMAL);
	/* an address outside the grammar (a newline for an endpoint): the whole Hello goes */
	n = raw_hello(buf, 1, 1);
	assert_int_equal(buf[36], 'x');
	buf[36] = '\n';
	assert_int_equal(nn_rdv_hello_decode(&h, buf, n), NN_EADDR);
	assert_int_equal(h.naddrs, 0);
	/* an empty network name */
	n = raw_hello(buf, 1, 1);
	buf[33] = 0;
	buf[34] = 0;
	buf[35] = 0;
	assert_true(nn_rdv_hello_decode(&h, buf, n) < 0);
	/* longer than the largest possible Hello */
	memset(buf, 0, sizeof buf);
	assert_int_equal(nn_rdv_hello_decode(&h, buf, NN_RDV_HELLO_MAX + 1), NN_ETOOBIG);
	assert_int_equal(nn_rdv_reply_decode(&r, buf, NN_RDV_REPLY_MAX + 1), NN_ETOOBIG);
	/* a Reply with 17 addresses */
	uint8_t rb[4096];
	memset(rb, 0, 32);
	memcpy(rb + 32, buf, raw_hello(buf, 17, 17));
	assert_int_equal(nn_rdv_reply_decode(&r, rb, 32 + raw_hello(buf, 17, 17)), NN_ELIMIT);
	memcpy(rb + 32, buf, raw_hello(buf, 16, 16));
	assert_int_equal(nn_rdv_reply_decode(&r, rb, 32 + raw_hello(buf, 16, 16)), 0);
	assert_int_equal(r.naddrs, 16);
}

static void test_reply_roundtrip(void **state)
{
	nn_identity b;
	ident(&b, 2);
	nn_addr addrs[NN_RDV_MAX_ADDRS];
	uint8_t nonce[16], buf[NN_RDV_REPLY_MAX];
	nonce_of(nonce, 3);
	for (size_t n = 0; n <= NN_RDV_MAX_ADDRS; n += 4) {
		fill_addrs(addrs, n);
		nn_rdv_reply r, d;
		assert_int_equal(nn_rdv_reply_make(&r, &b, addrs, n, nonce), 0);
		int len = nn_rdv_reply_encode(&r, buf, sizeof buf);
		assert_true(len >= (int)NN_RDV_REPLY_MIN);
		assert_int_equal(nn_rdv_reply_decode(&d, buf, (size_t)len), 0);
		assert_int_equal(nn_rdv_reply_verify(&d, &b.id, nonce), 0);
		assert_memory_equal(d.ed_pub, b.ed_pub, 32);
		assert_memory_equal(d.x_pub, b.x_pub, 32);
		assert_int_equal(d.naddrs, n);
	}
	fill_max_addrs(addrs);
	nn_rdv_reply r;
	assert_int_equal(nn_rdv_reply_make(&r, &b, addrs, NN_RDV_MAX_ADDRS, nonce), 0);
	assert_int_equal(nn_rdv_reply_encode(&r, buf, sizeof buf), NN_RDV_REPLY_MAX);
}

/* A forwarder m on the path sees the Hello a→b (and its nonce) and answers itself. */
static void test_reply_mitm_forwarder(void **state)
{
	nn_identity a, b, m;
	ident(&a, 1);
	ident(&b, 2);
	ident(&m, 0x66);
	nn_addr addrs[2], evil[1];
	fill_addrs(addrs, 2);
	assert_int_equal(nn_addr_set(&evil[0], "quic", "6.6.6.6:666"), 0);
	uint8_t nonce[16];
	nonce_of(nonce, 0x42);

	/* 1. a complete, validly signed Reply of its own: WrongTarget, the anti-MITM check */
	nn_rdv_reply r;
	assert_int_equal(nn_rdv_reply_make(&r, &m, evil, 1, nonce), 0);
	assert_int_equal(nn_rdv_reply_verify(&r, &b.id, nonce), NN_EWRONGTARGET);
	/* 2. b's genuine Reply with m's x_pub (so m could open boxes meant for b): BadSignature */
	nn_rdv_reply g;
	assert_int_equal(nn_rdv_reply_make(&g, &b, addrs, 2, nonce), 0);
	nn_rdv_reply t = g;
	memcpy(t.x_pub, m.x_pub, 32);
	assert_int_equal(nn_rdv_reply_verify(&t, &b.id, nonce), NN_EBADSIG);
	/* 3. b's genuine Reply with m's address: BadSignature */
	t = g;
	t.addrs[0] = evil[0];
	assert_int_equal(nn_rdv_reply_verify(&t, &b.id, nonce), NN_EBADSIG);
	/* 4. b's keys with m's addresses re-signed by m: fails the signature by b */
	t = g;
	t.addrs[1] = evil[0];
	uint8_t msg[1500];
	nn_wr w;
	nn_wr_init(&w, msg, sizeof msg);
	nn_wr_bytes(&w, NN_RDV_REPLY_LABEL, sizeof NN_RDV_REPLY_LABEL - 1);
	nn_wr_bytes(&w, t.ed_pub, 32);
	nn_wr_bytes(&w, t.x_pub, 32);
	nn_addr_list_write(&w, t.addrs, t.naddrs);
	nn_wr_bytes(&w, t.nonce, 16);
	assert_int_equal(nn_identity_sign(&m, t.sig, msg, w.off), 0);
	assert_int_equal(nn_rdv_reply_verify(&t, &b.id, nonce), NN_EBADSIG);
	/* the genuine one passes */
	assert_int_equal(nn_rdv_reply_verify(&g, &b.id, nonce), 0);
}

static void test_reply_order_and_nonce(void **state)
{
	nn_identity b, m;
	ident(&b, 2);
	ident(&m, 0x66);
	uint8_t nonce[16], other[16];
	nonce_of(nonce, 1);
	nonce_of(other, 2);
	nn_rdv_reply r;
	assert_int_equal(nn_rdv_reply_make(&r, &b, NULL, 0, nonce), 0);
	/* a Reply for a Hello never sent: its nonce matches no pending Hello */
	assert_int_equal(nn_rdv_reply_verify(&r, &b.id, other), NN_ENONCE);
	/* a replayed Reply (answering an earlier Hello to the same target) */
	nn_rdv_reply old;
	assert_int_equal(nn_rdv_reply_make(&old, &b, NULL, 0, other), 0);
	assert_int_equal(nn_rdv_reply_verify(&old, &b.id, nonce), NN_ENONCE);
	/* order: WrongTarget before NonceMismatch before BadSignature */
	nn_rdv_reply bad = r;
	bad.sig[0] ^= 1;
	assert_int_equal(nn_rdv_reply_verify(&bad, &m.id, other), NN_EWRONGTARGET);
	assert_int_equal(nn_rdv_reply_verify(&bad, &b.id, other), NN_ENONCE);
	assert_int_equal(nn_rdv_reply_verify(&bad, &b.id, nonce), NN_EBADSIG);
	/* every flip of the encoded Reply is refused */
	uint8_t buf[NN_RDV_REPLY_MAX];
	nn_addr addrs[2];
	fill_addrs(addrs, 2);
	assert_int_equal(nn_rdv_reply_make(&r, &b, addrs, 2, nonce), 0);
	int len = nn_rdv_reply_encode(&r, buf, sizeof buf);
	for (int i = 0; i < len; i++) {
		buf[i] ^= 0x04;
		nn_rdv_reply d;
		int rc = nn_rdv_reply_decode(&d, buf, (size_t)len);
		if (rc == 0)
			rc = nn_rdv_reply_verify(&d, &b.id, nonce);
		assert_true(rc < 0);
		buf[i] ^= 0x04;
	}
}

/* Replays of one Hello (3 disjoint paths, or a forwarder) and of one Reply are caught by the
 * replay cache keyed as rdv.h recommends: Hello by envelope ed_pub | nonce, Reply by ed_pub |
 * nonce, expiring with the envelope's freshness window. */
static void test_hello_reply_replay_keys(void **state)
{
	nn_identity a, b;
	ident(&a, 1);
	ident(&b, 2);
	uint8_t secret[16] = {1}, nonce[16], key[48];
	nonce_of(nonce, 0x77);
	nn_replay c;
	assert_int_equal(nn_replay_create(&c, 64, secret), 0);
	nn_time sent = 1000 * NN_SEC, now = sent + NN_SEC, exp = nn_replay_expiry(sent, 30 * NN_SEC);
	nn_rdv_hello h;
	assert_int_equal(nn_rdv_hello_make(&h, &a, &b.id, NULL, 0, nonce), 0);
	memcpy(key, a.ed_pub, 32);
	memcpy(key + 32, h.nonce, 16);
	assert_int_equal(nn_replay_check(&c, key, 48, exp, now), 0);
	assert_int_equal(nn_replay_check(&c, key, 48, exp, now + 1), NN_EREPLAY);
	assert_int_equal(nn_replay_check(&c, key, 48, exp, exp), NN_EREPLAY);
	assert_int_equal(nn_replay_check(&c, key, 48, exp, exp + 1), NN_ESTALE);
	nn_rdv_reply r;
	assert_int_equal(nn_rdv_reply_make(&r, &b, NULL, 0, nonce), 0);
	memcpy(key, r.ed_pub, 32);
	assert_int_equal(nn_replay_check(&c, key, 48, exp, now), 0);
	assert_int_equal(nn_replay_check(&c, key, 48, exp, now), NN_EREPLAY);
	nn_replay_destroy(&c);
}

/* The requester's side: pending Hellos matched by nonce, then verified against their target. */
static void test_pending_hellos(void **state)
{
	nn_identity b, c, m;
	ident(&b, 2);
	ident(&c, 3);
	ident(&m, 0x66);
	nn_rdv_pending_entry ent[2];
	nn_rdv_pending p;
	nn_rdv_pending_init(&p, ent, 2);
	uint8_t n1[16], n2[16], n3[16];
	nonce_of(n1, 1);
	nonce_of(n2, 2);
	nonce_of(n3, 3);
	assert_int_equal(nn_rdv_pending_add(&p, &b.id, n1, 100, 0), 0);
	assert_int_equal(nn_rdv_pending_add(&p, &b.id, n1, 100, 0), NN_EEXIST);
	assert_int_equal(nn_rdv_pending_add(&p, &c.id, n2, 50, 0), 0);
	assert_int_equal(nn_rdv_pending_add(&p, &c.id, n3, 50, 0), NN_ELIMIT);
	assert_int_equal(nn_rdv_pending_add(&p, &c.id, n3, 5, 10), NN_EINVAL);
	assert_int_equal(nn_rdv_pending_waiting(&p, 0), 2);

	nn_rdv_reply r;
	nn_id who;
	/* a Reply for a Hello never sent */
	assert_int_equal(nn_rdv_reply_make(&r, &b, NULL, 0, n3), 0);
	assert_int_equal(nn_rdv_pending_match(&p, &r, 1, &who), NN_ENONCE);
	/* a forwarder answering b's Hello with its own keys: refused, and b's Hello stays pending */
	assert_int_equal(nn_rdv_reply_make(&r, &m, NULL, 0, n1), 0);
	assert_int_equal(nn_rdv_pending_match(&p, &r, 1, &who), NN_EWRONGTARGET);
	/* c answering b's nonce (c saw it pass): WrongTarget too */
	assert_int_equal(nn_rdv_reply_make(&r, &c, NULL, 0, n1), 0);
	assert_int_equal(nn_rdv_pending_match(&p, &r, 1, &who), NN_EWRONGTARGET);
	/* b's genuine Reply, tampered on the way: BadSignature, still pending */
	assert_int_equal(nn_rdv_reply_make(&r, &b, NULL, 0, n1), 0);
	nn_rdv_reply t = r;
	t.x_pub[5] ^= 1;
	assert_int_equal(nn_rdv_pending_match(&p, &t, 1, &who), NN_EBADSIG);
	/* the genuine one answers once; its copies over the other paths are replays */
	assert_int_equal(nn_rdv_pending_match(&p, &r, 2, &who), 0);
	assert_true(nn_kad_id_eq(&who, &b.id));
	assert_int_equal(nn_rdv_pending_match(&p, &r, 3, &who), NN_EREPLAY);
	assert_int_equal(nn_rdv_pending_match(&p, &r, 100, &who), NN_EREPLAY);
	assert_int_equal(nn_rdv_pending_waiting(&p, 3), 1);
	/* after the deadline: nothing pending, the slot is reused */
	assert_int_equal(nn_rdv_pending_match(&p, &r, 101, &who), NN_ENONCE);
	assert_int_equal(nn_rdv_pending_add(&p, &c.id, n3, 200, 101), 0);
	/* c's Hello (n2) expired at 50 */
	assert_int_equal(nn_rdv_reply_make(&r, &c, NULL, 0, n2), 0);
	assert_int_equal(nn_rdv_pending_match(&p, &r, 51, &who), NN_ENONCE);
	assert_int_equal(nn_rdv_pending_remove(&p, n3), 0);
	assert_int_equal(nn_rdv_pending_remove(&p, n3), NN_ENOENT);
	assert_int_equal(nn_rdv_pending_waiting(&p, 101), 0);
}

static void test_zero_allocations(void **state)
{
	nn_identity a, b;
	ident(&a, 1);
	ident(&b, 2);
	nn_addr addrs[NN_RDV_MAX_ADDRS];
	fill_addrs(addrs, NN_RDV_MAX_ADDRS);
	uint8_t nonce[16], buf[NN_RDV_REPLY_MAX];
	nonce_of(nonce, 5);
	nn_rdv_hello h, hd;
	nn_rdv_reply r, rd;
	/* warm up (libsodium init) */
	assert_int_equal(nn_rdv_hello_make(&h, &a, &b.id, addrs, 16, nonce), 0);
	uint64_t before = nn_test_allocs();
	for (int i = 0; i < 10; i++) {
		assert_int_equal(nn_rdv_hello_make(&h, &a, &b.id, addrs, 16, nonce), 0);
		int n = nn_rdv_hello_encode(&h, buf, sizeof buf);
		assert_int_equal(nn_rdv_hello_decode(&hd, buf, (size_t)n), 0);
		assert_int_equal(nn_rdv_hello_verify(&hd, &b.id, a.ed_pub), 0);
		assert_int_equal(nn_rdv_reply_make(&r, &b, addrs, 16, nonce), 0);
		n = nn_rdv_reply_encode(&r, buf, sizeof buf);
		assert_int_equal(nn_rdv_reply_decode(&rd, buf, (size_t)n), 0);
		assert_int_equal(nn_rdv_reply_verify(&rd, &b.id, nonce), 0);
	}
	assert_int_equal(nn_test_allocs() - before, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_hello_rejections),
		cmocka_unit_test(test_decode_bounds),
		cmocka_unit_test(test_reply_roundtrip),
		cmocka_unit_test(test_reply_mitm_forwarder),
		cmocka_unit_test(test_reply_order_and_nonce),
		cmocka_unit_test(test_hello_reply_replay_keys),
		cmocka_unit_test(test_pending_hellos),
		cmocka_unit_test(test_zero_allocations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
