/* test_cmd.c — the daemon's pure pieces: -addr/-bootstrap parsing, console parsing, the
 * printable-UTF-8 rule, the line machinery (over-long lines, CRLF, quit, EOF) and the event
 * formats (text and JSON), all without a node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/bootstrap.h"
#include "cmd/console.h"
#include "cmd/seed.h"

#define HEXA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEXB "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789"

static int hp(const char *s, bool empty_host, bool zero_port, nn_cmd_hostport *out)
{
	char err[256];
	err[0] = 0;
	int rc = nn_cmd_parse_hostport(out, s, strlen(s), empty_host, zero_port, err, sizeof err);
	if (rc < 0)
		assert_true(err[0] != 0 && !strchr(err, '\n'));
	return rc;
}

static void test_hostport(void **state)
{
	nn_cmd_hostport h;
	assert_int_equal(hp("127.0.0.1:4242", false, false, &h), 0);
	assert_string_equal(h.host, "127.0.0.1");
	assert_int_equal(h.port, 4242);
	assert_int_equal(hp("[::1]:1", false, false, &h), 0);
	assert_string_equal(h.host, "::1");
	assert_int_equal(h.port, 1);
	assert_int_equal(hp("localhost:65535", false, false, &h), 0);
	assert_int_equal(hp(":4242", true, true, &h), 0);
	assert_string_equal(h.host, "");
	assert_int_equal(hp(":0", true, true, &h), 0);
	const char *bad[] = {"", ":", "4242", "host", "host:", "host:0", "host:65536", "host:-1",
			     "host:12a", "host:123456", "::1:80", "[::1]", "[::1]80", "[zz]:80",
			     "[]:80", ":4242", "a b:80", "host: 80", "host:+80", "[::1:80"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (hp(bad[i], false, false, &h) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_true(hp(":99999", true, true, &h) < 0);
	char big[400];
	memset(big, 'a', sizeof big);
	memcpy(big + sizeof big - 4, ":80", 4);
	assert_true(hp(big, false, false, &h) < 0);
}

static void test_bootstrap(void **state)
{
	nn_cmd_contact c[4];
	char err[512];
	int n = nn_cmd_parse_bootstrap(c, 4, HEXA "@127.0.0.1:4242," HEXB "@[::1]:7", err,
				       sizeof err);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].id.b[0], 0xaa);
	assert_int_equal(c[0].hp.port, 4242);
	assert_int_equal(c[1].id.b[0], 0x01);
	assert_int_equal(c[1].id.b[5], 0xab);
	assert_string_equal(c[1].hp.host, "::1");
	struct {
		const char *in, *want;
	} bad[] = {
		{"", "empty"},
		{HEXA "127.0.0.1:4242", "missing '@'"},
		{"abc@127.0.0.1:4242", "64 hex"},
		{HEXA "0@127.0.0.1:4242", "64 hex"},
		{"zz" HEXA "@127.0.0.1:4242", "64 hex"},
		{HEXA "@127.0.0.1", "host:port"},
		{HEXA "@127.0.0.1:0", "bad port"},
		{HEXA "@127.0.0.1:70000", "bad port"},
		{HEXA "@:4242", "missing host"},
		{HEXA "@127.0.0.1:4242,", "empty entry"},
		{"," HEXA "@127.0.0.1:4242", "empty entry"},
		{HEXA "@127.0.0.1:1," HEXA "@127.0.0.1:2", "twice"},
		{HEXA "@127.0.0.1:1," HEXB "@127.0.0.1:2,x@y:1", "64 hex"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		n = nn_cmd_parse_bootstrap(c, 4, bad[i].in, err, sizeof err);
		if (n >= 0)
			fail_msg("accepted \"%s\"", bad[i].in);
		if (!strstr(err, bad[i].want))
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].want);
		assert_null(strchr(err, '\n'));
	}
	/* more contacts than room */
	n = nn_cmd_parse_bootstrap(c, 1, HEXA "@127.0.0.1:1," HEXB "@127.0.0.1:2", err, sizeof err);
	assert_true(n < 0);
	/* user input is quoted printable and bounded */
	n = nn_cmd_parse_bootstrap(c, 4, "\x01\x02\x1b[31m", err, sizeof err);
	assert_true(n < 0);
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void test_resolve(void **state)
{
	nn_cmd_hostport h;
	char out[300], err[300];
	assert_int_equal(hp("127.0.0.1:4242", false, false, &h), 0);
	assert_int_equal(nn_cmd_resolve(&h, out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, "127.0.0.1:4242");
	assert_int_equal(hp("[::1]:5", false, false, &h), 0);
	assert_int_equal(nn_cmd_resolve(&h, out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, "[::1]:5");
	assert_int_equal(hp(":7", true, true, &h), 0);
	assert_int_equal(nn_cmd_resolve(&h, out, sizeof out, err, sizeof err), 0);
	assert_string_equal(out, ":7");
	assert_int_equal(hp("localhost:9", false, false, &h), 0);
	assert_int_equal(nn_cmd_resolve(&h, out, sizeof out, err, sizeof err), 0);
	assert_true(!strcmp(out, "127.0.0.1:9") || !strcmp(out, "[::1]:9"));
	assert_int_equal(hp("no-such-host.invalid:9", false, false, &h), 0);
	assert_true(nn_cmd_resolve(&h, out, sizeof out, err, sizeof err) < 0);
	assert_non_null(strstr(err, "cannot resolve"));
}

static int parse(nn_console_cmd *c, const char *line)
{
	char err[160];
	err[0] = 0;
	int rc = nn_console_parse(c, line, strlen(line), err, sizeof err);
	if (rc < 0) {
		assert_true(err[0] != 0);
		for (const char *p = err; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
	}
	return rc;
}

static void test_console_parse(void **state)
{
	nn_console_cmd c;
	assert_int_equal(parse(&c, "send " HEXA " hello world"), 0);
	assert_int_equal(c.op, NN_CON_SEND);
	assert_int_equal(c.target.b[31], 0xaa);
	assert_int_equal(c.text_len, 11);
	assert_memory_equal(c.text, "hello world", 11);
	assert_int_equal(parse(&c, "send   " HEXA "  two spaces\r"), 0);
	assert_int_equal(c.text_len, 11);
	assert_memory_equal(c.text, " two spaces", 11);
	assert_int_equal(parse(&c, "send " HEXA " "), 0); /* empty text */
	assert_int_equal(c.text_len, 0);
	assert_int_equal(parse(&c, "direct " HEXA " hi there"), 0);
	assert_int_equal(c.op, NN_CON_DIRECT);
	assert_int_equal(c.text_len, 8);
	assert_memory_equal(c.text, "hi there", 8);
	assert_int_equal(parse(&c, "rendezvous " HEXA), 0);
	assert_int_equal(c.op, NN_CON_RENDEZVOUS);
	assert_int_equal(c.target.b[0], 0xaa);
	assert_int_equal(parse(&c, "connect\t" HEXA "  \r"), 0);
	assert_int_equal(c.op, NN_CON_CONNECT);
	assert_int_equal(parse(&c, "peers"), 0);
	assert_int_equal(c.op, NN_CON_PEERS);
	assert_int_equal(parse(&c, "  stats  \r"), 0);
	assert_int_equal(c.op, NN_CON_STATS);
	assert_int_equal(parse(&c, "quit"), 0);
	assert_int_equal(c.op, NN_CON_QUIT);
	assert_int_equal(parse(&c, ""), 0);
	assert_int_equal(c.op, NN_CON_NONE);
	assert_int_equal(parse(&c, " \t \r"), 0);
	assert_int_equal(c.op, NN_CON_NONE);
	const char *bad[] = {"send", "send ", "send " HEXA, "send xyz hi", "send " HEXA "0 hi",
			     "SEND " HEXA " hi", "peers x", "stats 1", "quit now", "bogus",
			     "\x01\x02", "sendx " HEXA " hi", "\xff\xfe", "direct " HEXA,
			     "direct", "rendezvous", "rendezvous " HEXA " extra", "connect 12",
			     "connect " HEXA "0", "rendezvous\t"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse(&c, bad[i]) != NN_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	/* a NUL inside the line is just a byte */
	char nul[] = "peers\0x";
	char err[160];
	assert_int_equal(nn_console_parse(&c, nul, sizeof nul - 1, err, sizeof err), NN_EINVAL);
}

static void test_printable(void **state)
{
	struct {
		const char *s;
		bool ok;
	} v[] = {
		{"hello world", true}, {"", true}, {"caf\xc3\xa9", true}, {"\xe2\x82\xac", true},
		{"\xf0\x9f\x98\x80", true}, {"a\nb", false}, {"a\rb", false}, {"tab\t", false},
		{"\x7f", false}, {"\xc2\x85", false} /* NEL */, {"\xe2\x80\xa8", false} /* U+2028 */,
		{"\xc0\xaf", false} /* overlong */, {"\xe0\x80\xaf", false}, {"\xed\xa0\x80", false},
		{"\xf4\x90\x80\x80", false}, {"\xc3", false}, {"\xe2\x82", false}, {"\x80", false},
		{"\xff", false}, {"\xf8\x88\x80\x80\x80", false},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (nn_console_printable((const uint8_t *)v[i].s, strlen(v[i].s)) != v[i].ok)
			fail_msg("case %zu", i);
	assert_false(nn_console_printable((const uint8_t *)"a\0b", 3));
}

/* A console writing into a memory stream. */
typedef struct {
	nn_console c;
	FILE *f;
	char *buf;
	size_t len;
} mem_console;

static void mc_open(mem_console *m, bool json)
{
	memset(m, 0, sizeof *m);
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	assert_int_equal(nn_console_init(&m->c, NULL, m->f, json), 0);
}

static const char *mc_text(mem_console *m)
{
	fflush(m->f);
	return m->buf ? m->buf : "";
}

static void mc_close(mem_console *m)
{
	nn_console_fini(&m->c);
	fclose(m->f);
	free(m->buf);
}

static void test_console_lines(void **state)
{
	mem_console m;
	mc_open(&m, false);
	/* split across feeds, CRLF, blank lines */
	nn_console_feed(&m.c, "bog", 3);
	nn_console_feed(&m.c, "us\r\n\n\r\npeers\n", 13);
	const char *t = mc_text(&m);
	assert_non_null(strstr(t, "error EINVAL unknown command \"bogus\""));
	assert_non_null(strstr(t, "error ESTATE no node\n"));
	/* an over-long line: one error, never executed, the next line works */
	size_t big = NN_CONSOLE_MAX_LINE + 100;
	char *line = malloc(big);
	memset(line, 'x', big);
	memcpy(line, "quit ", 5);
	for (size_t off = 0; off < big; off += 1000)
		nn_console_feed(&m.c, line + off, big - off < 1000 ? big - off : 1000);
	nn_console_feed(&m.c, "\nstats x\n", 9);
	t = mc_text(&m);
	assert_non_null(strstr(t, "error ETOOBIG line longer than 70000 bytes"));
	assert_non_null(strstr(t, "error EINVAL stats takes no arguments"));
	assert_false(m.c.quit);
	/* exactly the limit is fine (a command that then fails to parse) */
	memset(line, ' ', NN_CONSOLE_MAX_LINE);
	memcpy(line, "quit", 4);
	nn_console_feed(&m.c, line, NN_CONSOLE_MAX_LINE);
	nn_console_feed(&m.c, "\n", 1);
	assert_true(m.c.quit);
	/* after quit nothing runs */
	size_t before = m.len;
	nn_console_feed(&m.c, "bogus\n", 6);
	mc_text(&m);
	assert_int_equal(m.len, before);
	free(line);
	mc_close(&m);

	/* EOF runs an unterminated last line */
	mc_open(&m, false);
	nn_console_feed(&m.c, "quit", 4);
	assert_false(m.c.quit);
	nn_console_eof(&m.c);
	assert_true(m.c.quit);
	mc_close(&m);

	/* random bytes never crash and always answer with errors */
	mc_open(&m, false);
	uint32_t x = 12345;
	char rnd[4096];
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof rnd; i++) {
			x = x * 1103515245u + 12345u;
			rnd[i] = (char)(x >> 16);
		}
		nn_console_feed(&m.c, rnd, sizeof rnd);
		m.c.quit = false;
	}
	mc_close(&m);
}

static void test_events(void **state)
{
	nn_id from;
	memset(from.b, 0xab, sizeof from.b);
	mem_console m;
	mc_open(&m, false);
	nn_console_recv(&m.c, &from, (const uint8_t *)"hi there", 8);
	nn_console_recv(&m.c, &from, (const uint8_t *)"a\nb", 3);
	nn_console_ok(&m.c);
	nn_console_error(&m.c, NN_EUNROUTABLE, NULL);
	nn_console_error(&m.c, NN_EINVAL, "two\nlines");
	const char *want =
		"recv abababababababababababababababababababababababababababababababab hi there\n"
		"recv abababababababababababababababababababababababababababababababab hex:610a62\n"
		"ok\n"
		"error EUNROUTABLE no live edge to route through\n"
		"error EINVAL two\\x0alines\n";
	assert_string_equal(mc_text(&m), want);
	mc_close(&m);

	mc_open(&m, true);
	nn_console_recv(&m.c, &from, (const uint8_t *)"say \"hi\" \\ caf\xc3\xa9", 16);
	nn_console_recv(&m.c, &from, (const uint8_t *)"\x00\xff", 2);
	nn_console_ok(&m.c);
	nn_console_error(&m.c, NN_EUNROUTABLE, NULL);
	nn_console_feed(&m.c, "x\x01\"\n", 4);
	want = "{\"event\":\"recv\",\"from\":\"abababababababababababababababababababababababababababababababab\",\"text\":\"say \\\"hi\\\" \\\\ caf\xc3\xa9\"}\n"
	       "{\"event\":\"recv\",\"from\":\"abababababababababababababababababababababababababababababababab\",\"hex\":\"00ff\"}\n"
	       "{\"event\":\"ok\"}\n"
	       "{\"event\":\"error\",\"name\":\"EUNROUTABLE\",\"message\":\"no live edge to route through\"}\n"
	       "{\"event\":\"error\",\"name\":\"EINVAL\",\"message\":\"unknown command \\\"x?\\\"\\\" (commands: send, direct, rendezvous, connect, peers, stats, nat, status, call, hangup, say, tell, quit)\"}\n";
	assert_string_equal(mc_text(&m), want);
	mc_close(&m);
}

/* Calls: call / hangup take one NodeID, say and tell a NodeID, an application channel
 * (16..255; the reserved 0..15 are refused at parse) and text; call and media events escape
 * what the peer sent like recv does, in text and JSON. */
static void test_console_calls(void **state)
{
	(void)state;
	nn_console_cmd c;
	assert_int_equal(parse(&c, "call " HEXA), 0);
	assert_int_equal(c.op, NN_CON_CALL);
	assert_int_equal(c.target.b[0], 0xaa);
	assert_int_equal(parse(&c, "hangup\t" HEXA " \r"), 0);
	assert_int_equal(c.op, NN_CON_HANGUP);
	assert_int_equal(parse(&c, "say " HEXA " 16 hello there"), 0);
	assert_int_equal(c.op, NN_CON_SAY);
	assert_int_equal(c.channel, 16);
	assert_int_equal(c.text_len, 11);
	assert_memory_equal(c.text, "hello there", 11);
	assert_int_equal(parse(&c, "say " HEXA " 255 x"), 0);
	assert_int_equal(c.channel, 255);
	assert_int_equal(parse(&c, "tell " HEXA " 17 one message"), 0);
	assert_int_equal(c.op, NN_CON_TELL);
	assert_int_equal(c.channel, 17);
	assert_int_equal(c.text_len, 11);
	assert_memory_equal(c.text, "one message", 11);
	const char *bad[] = {"call", "call " HEXA " x", "call 12", "hangup", "hangup " HEXA "0",
			     "say " HEXA, "say " HEXA " 16", "say " HEXA " 15 hi", "say " HEXA " 0 hi",
			     "say " HEXA " 256 hi", "say " HEXA " 1x hi", "say " HEXA " 0016 hi",
			     "say xyz 16 hi", "say " HEXA " -1 hi", "tell " HEXA " 15 hi",
			     "tell " HEXA " 16", "tell xyz 16 hi"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse(&c, bad[i]) != NN_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);

	nn_id from;
	memset(from.b, 0xab, sizeof from.b);
	mem_console m;
	mc_open(&m, false);
	nn_console_call(&m.c, &from, true, 0);
	nn_console_call(&m.c, &from, false, NN_ECLOSED);
	nn_console_media(&m.c, &from, 16, (const uint8_t *)"hi", 2);
	nn_console_media(&m.c, &from, 200, (const uint8_t *)"\x1b[2Jmedia x\ncall", 16);
	nn_console_media(&m.c, &from, 17, (const uint8_t *)"hex:00", 6);
	const char *want =
		"call abababababababababababababababababababababababababababababababab up\n"
		"call abababababababababababababababababababababababababababababababab down ECLOSED\n"
		"media abababababababababababababababababababababababababababababababab 16 hi\n"
		"media abababababababababababababababababababababababababababababababab 200 hex:1b5b324a6d6564696120780a63616c6c\n"
		"media abababababababababababababababababababababababababababababababab 17 hex:6865783a3030\n";
	assert_string_equal(mc_text(&m), want);
	mc_close(&m);
	mc_open(&m, true);
	nn_console_call(&m.c, &from, false, NN_EREFUSED);
	nn_console_media(&m.c, &from, 16, (const uint8_t *)"\"q\"", 3);
	nn_console_media(&m.c, &from, 16, (const uint8_t *)"\xff", 1);
	want = "{\"event\":\"call\",\"id\":\"abababababababababababababababababababababababababababababababab\",\"state\":\"down\",\"error\":\"EREFUSED\"}\n"
	       "{\"event\":\"media\",\"from\":\"abababababababababababababababababababababababababababababababab\",\"channel\":16,\"text\":\"\\\"q\\\"\"}\n"
	       "{\"event\":\"media\",\"from\":\"abababababababababababababababababababababababababababababababab\",\"channel\":16,\"hex\":\"ff\"}\n";
	assert_string_equal(mc_text(&m), want);
	mc_close(&m);
}

/* Every byte of out is printable ASCII or a line's end, and there are exactly `lines` lines. */
static void assert_clean_lines(const char *out, size_t lines)
{
	size_t nl = 0;
	for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
		if (*p == '\n') {
			nl++;
			continue;
		}
		if (*p < 0x20 || *p >= 0x7f)
			fail_msg("raw byte 0x%02x reached the console output", *p);
	}
	assert_int_equal(nl, lines);
}

/* Peer-supplied strings (addresses from a rendezvous Reply, a connect, the peers list, payloads)
 * cannot forge console lines or reach the terminal raw, in text mode as in JSON. */
static void test_peer_strings_escaped(void **state)
{
	static const char *const hostile[] = {
		"127.0.0.1:1\nrecv forged", "127.0.0.1:1\r\nok", "\x1b[2J\x1b[H1.2.3.4:1", "a b",
		"back\\slash", ("\xc2\x9b" "31m"), "\xff\xfe", "",
	};
	nn_peer_keys k;
	memset(&k, 0, sizeof k);
	memset(k.id.b, 0xab, sizeof k.id.b);
	k.naddrs = sizeof hostile / sizeof hostile[0];
	for (size_t i = 0; i < k.naddrs; i++)
		snprintf(k.addrs[i], sizeof k.addrs[i], "%s", hostile[i]);
	nn_peer_info pi;
	memset(&pi, 0, sizeof pi);
	memset(pi.id.b, 0xcd, sizeof pi.id.b);
	snprintf(pi.addr, sizeof pi.addr, "%s", hostile[0]);
	pi.inbound = true;
	nn_id from;
	memset(from.b, 0xef, sizeof from.b);

	mem_console m;
	mc_open(&m, false);
	nn_console_keys(&m.c, &k);
	nn_console_connected(&m.c, &k.id, "direct", hostile[2]);
	nn_console_peer(&m.c, &pi);
	nn_console_recv(&m.c, &from, (const uint8_t *)"\x1b[2Jok\nend", 10);
	nn_console_recv(&m.c, &from, (const uint8_t *)"hex:41", 6); /* not a fake binary payload */
	nn_console_error(&m.c, NN_EINVAL, "x\nrecv forged");
	const char *t = mc_text(&m);
	assert_clean_lines(t, 6);
	const char *want =
		"keys abababababababababababababababababababababababababababababababab "
		"0000000000000000000000000000000000000000000000000000000000000000 "
		"0000000000000000000000000000000000000000000000000000000000000000 "
		"127.0.0.1:1\\x0arecv\\x20forged 127.0.0.1:1\\x0d\\x0aok "
		"\\x1b[2J\\x1b[H1.2.3.4:1 a\\x20b back\\x5cslash \\xc2\\x9b31m \\xff\\xfe -\n"
		"connected abababababababababababababababababababababababababababababababab direct "
		"\\x1b[2J\\x1b[H1.2.3.4:1\n"
		"peer cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd "
		"127.0.0.1:1\\x0arecv\\x20forged in finger direct rtt=0.0ms\n"
		"recv efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef "
		"hex:1b5b324a6f6b0a656e64\n"
		"recv efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef hex:6865783a3431\n"
		"error EINVAL x\\x0arecv forged\n";
	assert_string_equal(t, want);
	mc_close(&m);

	mc_open(&m, true);
	nn_console_keys(&m.c, &k);
	nn_console_connected(&m.c, &k.id, "direct", hostile[2]);
	nn_console_peer(&m.c, &pi);
	nn_console_error(&m.c, NN_EINVAL, "x\nrecv forged");
	t = mc_text(&m);
	assert_clean_lines(t, 4);
	assert_non_null(strstr(t, "\"addrs\":[\"127.0.0.1:1\\u000arecv forged\",\"127.0.0.1:1\\u000d\\u000aok\","
				  "\"\\u001b[2J\\u001b[H1.2.3.4:1\",\"a b\",\"back\\\\slash\","
				  "\"\\u00c2\\u009b31m\",\"\\u00ff\\u00fe\",\"\"]"));
	assert_non_null(strstr(t, "\"addr\":\"\\u001b[2J\\u001b[H1.2.3.4:1\"}"));
	assert_non_null(strstr(t, "\"path\":\"direct\",\"rtt_us\":0}"));
	assert_non_null(strstr(t, "\"message\":\"x\\u000arecv forged\""));
	mc_close(&m);
}

/* status: one screen of lines (text) or one object (JSON); the peer-supplied strings (the
 * reflexive address neighbours report, the edges' observed addresses) are escaped. */
static void test_status_escaped(void **state)
{
	(void)state;
	static const char local[2][64] = {"127.0.0.1:4242", "[::1]:4242"};
	nn_peer_info p[2];
	memset(p, 0, sizeof p);
	memset(p[0].id.b, 0xcd, sizeof p[0].id.b);
	snprintf(p[0].addr, sizeof p[0].addr, "%s", "127.0.0.1:1\nend");
	p[0].inbound = true;
	memset(p[1].id.b, 0x12, sizeof p[1].id.b);
	snprintf(p[1].addr, sizeof p[1].addr, "%s", "\x1b[2J10.0.0.1:9");
	p[1].sibling = true;
	p[1].path = "relay";
	p[1].rtt_us = 12345;
	nn_console_status st;
	memset(&st, 0, sizeof st);
	memset(st.id.b, 0xab, sizeof st.id.b);
	st.phase = "critical";
	st.naddrs = 2;
	st.addrs = local;
	st.nat.type = "cone";
	snprintf(st.nat.reflexive, sizeof st.nat.reflexive, "%s", "1.2.3.4:5\r\nok");
	st.known = 7;
	st.mapped = "203.0.113.7:4242";
	st.npeers = 2;
	st.peers = p;
	mem_console m;
	mc_open(&m, false);
	nn_console_status_print(&m.c, &st);
	const char *t = mc_text(&m);
	assert_clean_lines(t, 10);
	const char *want =
		"status id abababababababababababababababababababababababababababababababab\n"
		"status phase critical edges=2 out=1 in=1 siblings=1 fingers=1 known=7\n"
		"status local 127.0.0.1:4242\n"
		"status local [::1]:4242\n"
		"status reflexive 1.2.3.4:5\\x0d\\x0aok\n"
		"status mapped 203.0.113.7:4242\n"
		"status nat cone\n"
		"status edge cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd "
		"127.0.0.1:1\\x0aend in finger direct rtt=0.0ms\n"
		"status edge 1212121212121212121212121212121212121212121212121212121212121212 "
		"\\x1b[2J10.0.0.1:9 out sibling relay rtt=12.3ms\n"
		"end\n";
	assert_string_equal(t, want);
	mc_close(&m);

	mc_open(&m, true);
	nn_console_status_print(&m.c, &st);
	t = mc_text(&m);
	assert_clean_lines(t, 1);
	want = "{\"event\":\"status\",\"id\":\"abababababababababababababababababababababababababababababababab\","
	       "\"phase\":\"critical\",\"edges\":2,\"edges_out\":1,\"edges_in\":1,\"siblings\":1,"
	       "\"fingers\":1,\"known\":7,\"local\":[\"127.0.0.1:4242\",\"[::1]:4242\"],"
	       "\"reflexive\":\"1.2.3.4:5\\u000d\\u000aok\",\"mapped\":\"203.0.113.7:4242\","
	       "\"nat\":\"cone\",\"peers\":["
	       "{\"id\":\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\","
	       "\"addr\":\"127.0.0.1:1\\u000aend\",\"dir\":\"in\",\"role\":\"finger\","
	       "\"path\":\"direct\",\"rtt_us\":0},"
	       "{\"id\":\"1212121212121212121212121212121212121212121212121212121212121212\","
	       "\"addr\":\"\\u001b[2J10.0.0.1:9\",\"dir\":\"out\",\"role\":\"sibling\","
	       "\"path\":\"relay\",\"rtt_us\":12345}]}\n";
	assert_string_equal(t, want);
	mc_close(&m);
}

/* status on a real node (QUIC on loopback, no edge yet). */
static void test_status_node(void **state)
{
	(void)state;
	uint8_t seed[32];
	memset(seed, 0x42, sizeof seed);
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = "127.0.0.1:0";
	o.log_level = NN_LOG_ERROR;
	o.no_maintenance = true;
	nn_node *n = NULL;
	assert_int_equal(nn_node_new(&n, &o, NULL), 0);
	char addrs[4][64], hex[65], line[160];
	assert_int_equal(nn_node_addrs(n, addrs, 4), 1);
	nn_id_format(hex, nn_node_id(n));
	assert_string_equal(nn_node_phase(n), "bootstrap");
	mem_console m;
	mc_open(&m, false);
	m.c.node = n;
	nn_console_feed(&m.c, "status\nstatus now\n", 18);
	const char *t = mc_text(&m);
	char want[1024];
	snprintf(want, sizeof want,
		 "status id %s\n"
		 "status phase bootstrap edges=0 out=0 in=0 siblings=0 fingers=0 known=0\n"
		 "status local %s\n"
		 "status reflexive -\n"
		 "status mapped -\n"
		 "status nat unknown\n"
		 "end\n"
		 "error EINVAL status takes no arguments\n",
		 hex, addrs[0]);
	assert_string_equal(t, want);
	mc_close(&m);
	mc_open(&m, true);
	m.c.node = n;
	nn_console_feed(&m.c, "status\n", 7);
	snprintf(line, sizeof line, "{\"event\":\"status\",\"id\":\"%s\",\"phase\":\"bootstrap\",", hex);
	assert_true(strncmp(mc_text(&m), line, strlen(line)) == 0);
	assert_non_null(strstr(mc_text(&m), "\"peers\":[]}\n"));
	mc_close(&m);
	assert_int_equal(nn_node_free(n), 0);
}

static void test_leading_zeros(void **state)
{
	nn_id id;
	memset(id.b, 0, sizeof id.b);
	assert_int_equal(nn_cmd_leading_zeros(&id), 256);
	id.b[1] = 0x10;
	assert_int_equal(nn_cmd_leading_zeros(&id), 11);
	id.b[0] = 0x80;
	assert_int_equal(nn_cmd_leading_zeros(&id), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_bootstrap),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_console_parse),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_console_lines),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_console_calls),
		cmocka_unit_test(test_peer_strings_escaped),
		cmocka_unit_test(test_status_escaped),
		cmocka_unit_test(test_status_node),
		cmocka_unit_test(test_leading_zeros),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
