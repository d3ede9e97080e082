/* test_addr.c — the v1 address codec is strict: every bound is tested so that removing the
 * check makes a test fail (not merely crash). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "transport/addr.h"

static void test_round_trip(void **st)
{
	nn_addr a[3], b[3];
	assert_int_equal(nn_addr_set(&a[0], "quic", "1.2.3.4:5678"), 0);
	assert_int_equal(nn_addr_set(&a[1], "quic", "[2001:db8::1]:443"), 0);
	assert_int_equal(nn_addr_set(&a[2], "mem", "hub"), 0);
	uint8_t buf[256];
	nn_wr w;
	nn_wr_init(&w, buf, sizeof buf);
	nn_addr_list_write(&w, a, 3);
	assert_int_equal(w.err, 0);
	/* exact layout of the first entry: uvarint(4) quic uvarint(12) 1.2.3.4:5678 */
	assert_int_equal(buf[0], 3);
	assert_int_equal(buf[1], 4);
	assert_memory_equal(buf + 2, "quic", 4);
	assert_int_equal(buf[6], 12);
	assert_int_equal(w.off, 1 + nn_addr_wire_len(&a[0]) + nn_addr_wire_len(&a[1]) +
					nn_addr_wire_len(&a[2]));
	nn_rd r;
	size_t n;
	nn_rd_init(&r, buf, w.off);
	nn_addr_list_read(&r, b, 3, 3, &n);
	assert_int_equal(nn_rd_end(&r), 0);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++)
		assert_true(nn_addr_eq(&a[i], &b[i]));
	char txt[NN_ADDR_TEXT_MAX];
	assert_string_equal(nn_addr_str(&b[1], txt, sizeof txt), "quic/[2001:db8::1]:443");
}

static int read_one(const uint8_t *p, size_t len, nn_addr *a)
{
	nn_rd r;
	nn_rd_init(&r, p, len);
	nn_addr_read(&r, a);
	return r.err ? r.err : nn_rd_end(&r);
}

static void test_strict_single(void **st)
{
	nn_addr a;
	uint8_t buf[200];
	/* non-minimal length varint: 0x84 0x00 for 4 */
	const uint8_t nonmin[] = {0x84, 0x00, 'q', 'u', 'i', 'c', 0x00};
	assert_int_equal(read_one(nonmin, sizeof nonmin, &a), NN_ENONMINIMAL);
	/* net: 15 bytes ok, 16 too long */
	memset(buf, 'n', sizeof buf);
	buf[0] = 15;
	buf[16] = 1;
	assert_int_equal(read_one(buf, 18, &a), 0);
	assert_int_equal(a.net_len, 15);
	buf[0] = 16;
	buf[17] = 1;
	assert_int_equal(read_one(buf, 19, &a), NN_ETOOBIG);
	/* endpoint: 63 ok, 64 too long */
	buf[0] = 3;
	memcpy(buf + 1, "mem", 3);
	buf[4] = 63;
	memset(buf + 5, 'e', 64);
	assert_int_equal(read_one(buf, 5 + 63, &a), 0);
	assert_int_equal(a.ep_len, 63);
	buf[4] = 64;
	assert_int_equal(read_one(buf, 5 + 64, &a), NN_ETOOBIG);
	/* empty net, truncation, trailing bytes */
	const uint8_t empty_net[] = {0x00, 0x00};
	assert_int_equal(read_one(empty_net, 2, &a), NN_ECORRUPT);
	const uint8_t trunc[] = {0x04, 'q', 'u', 'i'};
	assert_int_equal(read_one(trunc, sizeof trunc, &a), NN_ETRUNC);
	const uint8_t trail[] = {0x03, 'm', 'e', 'm', 0x01, 'x', 0x00};
	assert_int_equal(read_one(trail, sizeof trail, &a), NN_ETRAILING);
	assert_int_equal(nn_addr_set(&a, "", "x"), NN_EINVAL);
	char big[80];
	memset(big, 'x', sizeof big);
	big[64] = 0;
	assert_int_equal(nn_addr_set(&a, "quic", big), NN_ETOOBIG);
	big[63] = 0;
	assert_int_equal(nn_addr_set(&a, "quic", big), 0);
}

static void test_strict_list(void **st)
{
	nn_addr one, out[3];
	nn_addr_set(&one, "m", "a"); /* 4 bytes on the wire */
	uint8_t buf[64];
	nn_wr w;
	nn_rd r;
	size_t n;
	/* two valid entries; cap 1: refused before anything is written past out[0] */
	nn_wr_init(&w, buf, sizeof buf);
	nn_wr_uvarint(&w, 2);
	nn_addr_write(&w, &one);
	nn_addr_write(&w, &one);
	memset(out, 0x77, sizeof out);
	nn_rd_init(&r, buf, w.off);
	nn_addr_list_read(&r, out, 1, 10, &n);
	assert_int_equal(r.err, NN_ELIMIT);
	assert_int_equal(n, 0);
	assert_int_equal(((uint8_t *)&out[1])[0], 0x77); /* guard untouched */
	assert_int_equal(((uint8_t *)&out[0])[0], 0x77); /* nothing read at all */
	/* the message's cap */
	nn_rd_init(&r, buf, w.off);
	nn_addr_list_read(&r, out, 3, 1, &n);
	assert_int_equal(r.err, NN_ELIMIT);
	nn_rd_init(&r, buf, w.off);
	nn_addr_list_read(&r, out, 3, 2, &n);
	assert_int_equal(r.err, 0);
	assert_int_equal(n, 2);
	/* count > remaining / 2 is refused before any entry is read: 3 entries claimed, 4 bytes
	 * left (one real 4-byte entry) */
	nn_wr_init(&w, buf, sizeof buf);
	nn_wr_uvarint(&w, 3);
	nn_addr_write(&w, &one);
	assert_int_equal(w.off, 5);
	memset(out, 0x77, sizeof out);
	nn_rd_init(&r, buf, w.off);
	nn_addr_list_read(&r, out, 3, 3, &n);
	assert_int_equal(r.err, NN_ETRUNC);
	assert_int_equal(((uint8_t *)&out[0])[0], 0x77); /* the first entry was never decoded */
	/* a count exactly at remaining / 2 is allowed to proceed: the entries are then read (and
	 * these two smallest ones, with empty endpoints, fail the grammar, not the count) */
	const uint8_t two_min[] = {0x02, 0x01, 'x', 0x00, 0x01, 'y', 0x00};
	nn_rd_init(&r, two_min, sizeof two_min);
	nn_addr_list_read(&r, out, 3, 3, &n);
	assert_int_equal(r.err, NN_EADDR);
	assert_int_equal(n, 0);
	/* non-minimal count */
	const uint8_t nonmin[] = {0x81, 0x00, 0x01, 'x', 0x00};
	nn_rd_init(&r, nonmin, sizeof nonmin);
	nn_addr_list_read(&r, out, 3, 3, &n);
	assert_int_equal(r.err, NN_ENONMINIMAL);
	/* a huge count is refused, not looped over */
	const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	nn_rd_init(&r, huge, sizeof huge);
	nn_addr_list_read(&r, out, 3, 3, &n);
	assert_int_equal(r.err, NN_ELIMIT);
}

/* An address with explicit lengths (hostile bytes, NULs included). */
static nn_addr mk(const char *net, const char *ep, size_t eplen)
{
	nn_addr a;
	memset(&a, 0, sizeof a);
	a.net_len = (uint8_t)strlen(net);
	memcpy(a.net, net, a.net_len);
	a.ep_len = (uint8_t)eplen;
	memcpy(a.ep, ep, eplen);
	return a;
}
#define MK(net, lit) mk(net, lit, sizeof lit - 1)

/* Encode a, decode it with nn_addr_read: the decoder's verdict. */
static int decode_verdict(const nn_addr *a, nn_addr *out)
{
	uint8_t buf[128];
	nn_wr w;
	nn_wr_init(&w, buf, sizeof buf);
	nn_addr_write(&w, a);
	assert_int_equal(w.err, 0);
	memset(out, 0x33, sizeof *out);
	return read_one(buf, w.off, out);
}

static void test_grammar_accepts(void **st)
{
	static const char *const quic[] = {
		"1.2.3.4:5678", "0.0.0.0:1", "255.255.255.255:65535", "127.0.0.1:4242",
		"[2001:db8::1]:443", "[::]:1", "[::1]:9", "[::ffff:192.0.2.1]:9", "[FE80::1]:2",
		"[2001:db8:1:2:3:4:5:6]:7", "localhost:4242", "node-1.example.org:1", "a:1",
		"xn--bcher-kva.example:443", "1.2.3.4x:5", "a1.b2.c3:60000", "EXAMPLE.COM:80",
		/* 63 bytes: the longest endpoint the codec carries */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example:999",
	};
	for (size_t i = 0; i < sizeof quic / sizeof quic[0]; i++) {
		nn_addr a, b;
		assert_int_equal(nn_addr_set(&a, "quic", quic[i]), 0);
		if (nn_addr_check(&a) != 0)
			fail_msg("refused a good endpoint: %s", quic[i]);
		assert_int_equal(decode_verdict(&a, &b), 0);
		assert_true(nn_addr_eq(&a, &b));
	}
	static const char *const mem[] = {"n0", "hub-a", "raw9002", "a.b_c:d[e]-f"};
	for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++) {
		nn_addr a;
		assert_int_equal(nn_addr_set(&a, "mem", mem[i]), 0);
		assert_int_equal(nn_addr_check(&a), 0);
	}
	nn_addr a;
	assert_int_equal(nn_addr_set(&a, "tcp6", "[::1]:1"), 0); /* a net we do not speak */
	assert_int_equal(nn_addr_check(&a), 0);
}

static void test_grammar_refuses_hostile(void **st)
{
	const nn_addr bad[] = {
		/* console and terminal injection */
		MK("quic", "127.0.0.1:1\nrecv forged"),
		MK("quic", "127.0.0.1:1\nok"),
		MK("quic", "127.0.0.1:1\r\nend"),
		MK("quic", "\x1b[2J127.0.0.1:1"),
		MK("quic", "127.0.0.1:1\x1b[31m"),
		MK("quic", "ho\x1b]0;title\x07st:1"),
		MK("quic", "1.2.3.4:1 "),
		MK("quic", " 1.2.3.4:1"),
		MK("quic", "bad host:1"),
		MK("quic", "\"x\":1"),
		MK("quic", "a\\b:1"),
		MK("quic", "caf\xc3\xa9.example:1"),
		MK("quic", "\xc2\x9b" "31m.example:1"),
		MK("quic", "1.2.3.4\0:1"),
		MK("quic", "1.2.3.4:1\0"),
		MK("quic", "a\tb:1"),
		MK("quic", "a\x7f:1"),
		/* empty or missing parts */
		MK("quic", ""),
		MK("quic", ":1"),
		MK("quic", "1.2.3.4"),
		MK("quic", "1.2.3.4:"),
		MK("quic", "[]:1"),
		MK("quic", "[::1]"),
		MK("quic", "[::1]80"),
		/* ports */
		MK("quic", "1.2.3.4:0"),
		MK("quic", "[::1]:0"),
		MK("quic", "1.2.3.4:065"),
		MK("quic", "1.2.3.4:65536"),
		MK("quic", "1.2.3.4:123456"),
		MK("quic", "1.2.3.4:+80"),
		MK("quic", "1.2.3.4:8a"),
		/* IPv4 */
		MK("quic", "01.2.3.4:1"),
		MK("quic", "1.2.3.256:1"),
		MK("quic", "1.2.3:1"),
		MK("quic", "1.2.3.4.5:1"),
		MK("quic", "1..2.3:1"),
		MK("quic", "1.2.3.4.:1"),
		MK("quic", "0x7f.1:1"),
		/* IPv6 */
		MK("quic", "::1:80"),
		MK("quic", "[::1%eth0]:1"),
		MK("quic", "[1.2.3.4]:1"),
		MK("quic", "[2001:db8::g]:1"),
		MK("quic", "[:::]:1"),
		MK("quic", "[[::1]]:1"),
		MK("quic", "[::1]:1]:1"),
		/* DNS names */
		MK("quic", "-a.example:1"),
		MK("quic", "a-.example:1"),
		MK("quic", "a..b:1"),
		MK("quic", ".a:1"),
		MK("quic", "example.:1"),
		MK("quic", "example.123:1"),
		MK("quic", "a_b:1"),
		MK("quic", "a/b:1"),
		MK("quic", "a%41:1"),
		/* nets and other endpoints */
		MK("QUIC", "1.2.3.4:1"),
		MK("qu ic", "1.2.3.4:1"),
		MK("m\n", "x"),
		MK("mem", ""),
		MK("mem", "a b"),
		MK("mem", "n\n0"),
		MK("mem", "\x1b[0m"),
		MK("mem", "x\0"),
		MK("mem", "a/b"),
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		nn_addr out;
		if (nn_addr_check(&bad[i]) != NN_EADDR)
			fail_msg("accepted hostile address #%zu (%.*s)", i, (int)bad[i].ep_len, bad[i].ep);
		/* refused at decode too, with a precise error, and nothing left in the output */
		assert_int_equal(decode_verdict(&bad[i], &out), NN_EADDR);
		nn_addr zero;
		memset(&zero, 0, sizeof zero);
		assert_memory_equal(&out, &zero, sizeof out);
	}
	/* a structural fault is reported as such, before the grammar */
	const uint8_t empty_net[] = {0x00, 0x01, '\n'};
	nn_addr a;
	assert_int_equal(read_one(empty_net, sizeof empty_net, &a), NN_ECORRUPT);
}

static void test_list_strict_and_filtered(void **st)
{
	nn_addr in[4], out[4];
	in[0] = MK("quic", "192.0.2.1:1");
	in[1] = MK("quic", "127.0.0.1:1\nok");
	in[2] = MK("mem", "hub");
	in[3] = MK("quic", "\x1b[2J:1");
	uint8_t buf[256];
	nn_wr w;
	nn_wr_init(&w, buf, sizeof buf);
	nn_addr_list_write(&w, in, 4);
	nn_rd r;
	size_t n, declared, dropped;
	/* the strict list fails on the first bad entry */
	nn_rd_init(&r, buf, w.off);
	nn_addr_list_read(&r, out, 4, 4, &n);
	assert_int_equal(r.err, NN_EADDR);
	assert_int_equal(n, 0);
	/* the filtered list keeps the good ones, in order, and says how many it dropped */
	nn_rd_init(&r, buf, w.off);
	memset(out, 0x77, sizeof out);
	nn_addr_list_read_valid(&r, out, 4, 4, &n, &declared, &dropped);
	assert_int_equal(nn_rd_end(&r), 0);
	assert_int_equal(n, 2);
	assert_int_equal(declared, 4);
	assert_int_equal(dropped, 2);
	assert_true(nn_addr_eq(&out[0], &in[0]));
	assert_true(nn_addr_eq(&out[1], &in[2]));
	/* caps and structure still fail the reader */
	nn_rd_init(&r, buf, w.off);
	nn_addr_list_read_valid(&r, out, 3, 4, &n, &declared, &dropped);
	assert_int_equal(r.err, NN_ELIMIT);
	assert_int_equal(n + declared + dropped, 0);
	nn_rd_init(&r, buf, w.off - 1);
	nn_addr_list_read_valid(&r, out, 4, 4, &n, &declared, &dropped);
	assert_int_equal(r.err, NN_ETRUNC);
	assert_int_equal(n + declared + dropped, 0);
}

static void test_sockaddr(void **st)
{
	nn_addr a, b;
	struct sockaddr_storage ss;
	socklen_t len;
	nn_addr_set(&a, "quic", "10.1.2.3:9000");
	assert_int_equal(nn_addr_to_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(nn_addr_from_sockaddr(&b, (struct sockaddr *)&ss, len), 0);
	assert_true(nn_addr_eq(&a, &b));
	nn_addr_set(&a, "quic", "[2001:db8::5]:1");
	assert_int_equal(nn_addr_to_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(nn_addr_from_sockaddr(&b, (struct sockaddr *)&ss, len), 0);
	assert_true(nn_addr_eq(&a, &b));
	const char *bad[] = {"1.2.3.4:65536", "1.2.3.4:", "1.2.3.4", "::1:80", "[::1]80",
			     "[::1]:", "host.example:80", "1.2.3.4:8a", "1.2.3.4:123456", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		nn_addr_set(&a, "quic", bad[i]);
		assert_int_equal(nn_addr_to_sockaddr(&a, &ss, &len), NN_EADDR);
	}
	nn_addr_set(&a, "mem", "1.2.3.4:5");
	assert_int_equal(nn_addr_to_sockaddr(&a, &ss, &len), NN_EADDR);
	/* v4-mapped prints as v4 */
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(77)};
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &s6.sin6_addr);
	assert_int_equal(nn_addr_from_sockaddr(&b, (struct sockaddr *)&s6, sizeof s6), 0);
	assert_string_equal(b.ep, "192.0.2.9:77");
	/* subnet keys: /24 for v4, /64 for v6 */
	uint8_t k1[16], k2[16];
	nn_addr_set(&a, "quic", "192.0.2.1:1");
	nn_addr_set(&b, "quic", "192.0.2.200:2");
	assert_int_equal(nn_addr_subnet(&a, k1), 0);
	assert_int_equal(nn_addr_subnet(&b, k2), 0);
	assert_memory_equal(k1, k2, 16);
	nn_addr_set(&b, "quic", "192.0.3.1:1");
	nn_addr_subnet(&b, k2);
	assert_memory_not_equal(k1, k2, 16);
	nn_addr_set(&a, "quic", "[2001:db8:1:2::1]:1");
	nn_addr_set(&b, "quic", "[2001:db8:1:2:ffff::9]:1");
	nn_addr_subnet(&a, k1);
	nn_addr_subnet(&b, k2);
	assert_memory_equal(k1, k2, 16);
	nn_addr_set(&a, "mem", "x");
	assert_int_equal(nn_addr_subnet(&a, k1), NN_EADDR);
	/* loopback has no subnet: one host, caps inert */
	const char *loop[] = {"127.0.0.1:1", "127.100.3.1:9", "[::1]:2", "[::ffff:127.0.0.1]:3"};
	for (size_t i = 0; i < 4; i++) {
		nn_addr_set(&a, "quic", loop[i]);
		assert_int_equal(nn_addr_subnet(&a, k1), NN_EADDR);
	}
	nn_addr_set(&a, "quic", "128.0.0.1:1"); /* just outside 127/8 */
	assert_int_equal(nn_addr_subnet(&a, k1), 0);
}

/* The packed form: IP literals as binary, short text as text, the rest refused; unpack gives
 * back the very address; equal packed bytes iff equal addresses. */
static void test_pack(void **st)
{
	(void)st;
	static const char *const fit[][2] = {
		{"quic", "192.0.2.1:4242"},
		{"quic", "255.255.255.255:65535"},
		{"quic", "[2001:db8::1]:5"},
		{"quic", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"}, /* binary: 47 chars */
		{"quic", "[2001:DB8::1]:5"},     /* not canonical: kept as text */
		{"quic", "[::ffff:1.2.3.4]:9"},  /* v4-mapped prints as v4: kept as text */
		{"quic", "node.example:4242"},   /* a short name */
		{"mem", "n12345"},
		{"mem", "n1:relay17:a"},
		{"x", "0123456789012345678901234567"}, /* 1 + 28 = 29 bytes of text: fits */
	};
	nn_addr a, b;
	nn_addr_pk pk[sizeof fit / sizeof fit[0]];
	for (size_t i = 0; i < sizeof fit / sizeof fit[0]; i++) {
		assert_int_equal(nn_addr_set(&a, fit[i][0], fit[i][1]), 0);
		assert_int_equal(nn_addr_pack(&pk[i], &a), 0);
		memset(&b, 0x55, sizeof b);
		nn_addr_unpack(&b, &pk[i]);
		assert_true(nn_addr_eq(&a, &b));
		assert_int_equal(b.net[b.net_len], 0);
		assert_int_equal(b.ep[b.ep_len], 0);
		for (size_t j = 0; j < i; j++)
			assert_false(nn_addr_pk_eq(&pk[i], &pk[j]));
		nn_addr_pk again;
		nn_addr_pack(&again, &b);
		assert_true(nn_addr_pk_eq(&again, &pk[i]));
	}
	nn_addr_pk p;
	nn_addr_set(&a, "x", "01234567890123456789012345678"); /* 30 bytes of text */
	assert_int_equal(nn_addr_pack(&p, &a), NN_ETOOBIG);
	nn_addr_set(&a, "quic", "a-rather-long-bootstrap-host.example.org:4242");
	assert_int_equal(nn_addr_pack(&p, &a), NN_ETOOBIG);
	memset(&a, 0, sizeof a);
	assert_int_equal(nn_addr_pack(&p, &a), NN_EINVAL);
	/* bytes no pack made unpack to the empty address */
	memset(&p, 0xff, sizeof p);
	nn_addr_unpack(&b, &p);
	assert_int_equal(b.net_len, 0);
	assert_int_equal(b.ep_len, 0);
	memset(&p, 0, sizeof p);
	p.b[0] = 3;
	p.b[1] = 20;
	p.b[2] = 20; /* 40 bytes of text cannot be in 29 */
	nn_addr_unpack(&b, &p);
	assert_int_equal(b.net_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_strict_single),
		cmocka_unit_test(test_strict_list),
		cmocka_unit_test(test_grammar_accepts),
		cmocka_unit_test(test_grammar_refuses_hostile),
		cmocka_unit_test(test_list_strict_and_filtered),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_pack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
