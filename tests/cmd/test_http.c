/* test_http.c — the metrics endpoint: its HTTP request parser (complete, partial, refused
 * heads; the size cap; every prefix of a good head is "more" and every prefix never reads past
 * its end) and the Prometheus text a real node renders (every stat, HELP and TYPE before each
 * sample, the labelled gauges), checked line by line against the format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/http.h"
#include "cmd/metrics.h"

static int parse(const char *s, nn_http_req *r) { return nn_http_parse(s, strlen(s), r); }

static void test_good(void **state)
{
	(void)state;
	nn_http_req r;
	const char *req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\nAccept: */*\r\n\r\n";
	assert_int_equal(parse(req, &r), 1);
	assert_true(nn_http_method_is(&r, "GET"));
	assert_false(nn_http_method_is(&r, "GE"));
	assert_int_equal(r.path_len, 8);
	assert_memory_equal(r.path, "/metrics", 8);
	assert_int_equal(r.minor, 1);
	assert_int_equal(r.head_len, strlen(req));
	/* every proper prefix needs more, from an exact-size copy (ASan sees any overread) */
	for (size_t n = 0; n < strlen(req); n++) {
		char *p = malloc(n ? n : 1);
		memcpy(p, req, n);
		assert_int_equal(nn_http_parse(p, n, &r), 0);
		free(p);
	}
	/* a body or a pipelined request after the head is not looked at */
	char more[128];
	snprintf(more, sizeof more, "%s\x01\x02garbage", req);
	assert_int_equal(parse(more, &r), 1);
	assert_int_equal(r.head_len, strlen(req));
	/* the query is not part of the path; bare LF ends lines; HTTP/1.0; HEAD */
	assert_int_equal(parse("HEAD /metrics?name=x HTTP/1.0\n\n", &r), 1);
	assert_true(nn_http_method_is(&r, "HEAD"));
	assert_int_equal(r.path_len, 8);
	assert_int_equal(r.minor, 0);
	assert_int_equal(parse("POST / HTTP/1.0\r\n\r\n", &r), 1);
	assert_true(nn_http_method_is(&r, "POST"));
}

static void test_refused(void **state)
{
	(void)state;
	nn_http_req r;
	static const char *const bad[] = {
		"\r\n\r\n",                               /* no request line */
		"get /metrics HTTP/1.0\r\n\r\n",          /* lowercase method */
		"GET metrics HTTP/1.0\r\n\r\n",           /* target without '/' */
		"GET  /metrics HTTP/1.0\r\n\r\n",         /* two spaces */
		"GET /metrics HTTP/2.0\r\n\r\n",          /* version */
		"GET /metrics HTTP/1.0 \r\n\r\n",         /* trailing space */
		"GET /metrics\r\n\r\n",                   /* HTTP/0.9 */
		"GET /a\x01z HTTP/1.0\r\n\r\n",           /* control byte in the target */
		"GET /metrics HTTP/1.0\r\nHost\r\n\r\n",  /* header without a colon */
		"GET /metrics HTTP/1.0\r\n folded\r\n\r\n", /* line folding */
		"GET /metrics HTTP/1.0\r\nX: a\rb\r\n\r\n", /* bare CR */
		"ABCDEFGHIJKLMNOPQ / HTTP/1.0\r\n\r\n",   /* 17-letter method */
		"GET /\x1b[2J HTTP/1.0\r\n",              /* ESC, before the head is complete */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(parse(bad[i], &r), NN_EINVAL);
	/* bad bytes are refused at once, without waiting for the end of the head */
	assert_int_equal(nn_http_parse("GET /\x7f", 6, &r), NN_EINVAL);
	/* a 257-byte target */
	char big[600];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	memcpy(big + 5 + 256, " HTTP/1.0\r\n\r\n", 14);
	assert_int_equal(nn_http_parse(big, 5 + 256 + 13, &r), NN_EINVAL);
	memcpy(big + 5 + 255, " HTTP/1.0\r\n\r\n", 14);
	assert_int_equal(nn_http_parse(big, 5 + 255 + 13, &r), 1);
}

static void test_caps(void **state)
{
	(void)state;
	nn_http_req r;
	static char buf[NN_HTTP_MAX_REQUEST + 100];
	/* a head that never ends within the cap */
	size_t o = (size_t)snprintf(buf, sizeof buf, "GET /metrics HTTP/1.0\r\n");
	while (o + 8 < sizeof buf)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "X: %s\r\n", "aaa");
	assert_int_equal(nn_http_parse(buf, NN_HTTP_MAX_REQUEST - 1, &r), NN_ETOOBIG);
	assert_int_equal(nn_http_parse(buf, o, &r), NN_ETOOBIG);
	/* one long header line without an end */
	memset(buf, 'x', sizeof buf);
	memcpy(buf, "GET / HTTP/1.0\r\nA: ", 19);
	assert_int_equal(nn_http_parse(buf, NN_HTTP_MAX_REQUEST - 1, &r), 0);
	assert_int_equal(nn_http_parse(buf, NN_HTTP_MAX_REQUEST, &r), NN_ETOOBIG);
	assert_int_equal(nn_http_parse(buf, sizeof buf, &r), NN_ETOOBIG);
	/* 64 headers are fine, 65 are not */
	o = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.0\r\n");
	for (int i = 0; i < 64; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "H%d: v\r\n", i);
	memcpy(buf + o, "\r\n", 2);
	assert_int_equal(nn_http_parse(buf, o + 2, &r), 1);
	o += (size_t)snprintf(buf + o, sizeof buf - o, "H: v\r\n");
	memcpy(buf + o, "\r\n", 2);
	assert_int_equal(nn_http_parse(buf, o + 2, &r), NN_ETOOBIG);
	assert_int_equal(nn_http_parse(NULL, 0, &r), NN_EINVAL);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(nn_metrics_is_loopback("127.0.0.1:9100"));
	assert_true(nn_metrics_is_loopback("127.5.6.7:0"));
	assert_true(nn_metrics_is_loopback("[::1]:9100"));
	assert_false(nn_metrics_is_loopback("0.0.0.0:9100"));
	assert_false(nn_metrics_is_loopback("10.0.0.1:9100"));
	assert_false(nn_metrics_is_loopback("[::]:9100"));
	assert_false(nn_metrics_is_loopback("[::ffff:127.0.0.1]:9100"));
	assert_false(nn_metrics_is_loopback("localhost:9100")); /* literals only, resolved before */
	assert_false(nn_metrics_is_loopback("127.0.0.1"));
	assert_false(nn_metrics_is_loopback(NULL));
}

/* The rendered text, line by line: a strict reading of the text format 0.0.4. */
static void test_render(void **state)
{
	(void)state;
	uint8_t seed[32];
	memset(seed, 0x24, sizeof seed);
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = "127.0.0.1:0";
	o.log_level = NN_LOG_ERROR;
	o.no_maintenance = true;
	nn_node *n = NULL;
	assert_int_equal(nn_node_new(&n, &o, NULL), 0);
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	nn_metrics_render(f, n);
	fclose(f);
	nn_node_stats s;
	nn_node_get_stats(n, &s);
	size_t nstats = 0, samples = 0, counters = 0, gauges = 0;
	uint64_t v;
	while (nn_node_stat(&s, nstats, &v))
		nstats++;
	char typed[64] = "", helped[64] = "";
	for (char *line = strtok(body, "\n"); line; line = strtok(NULL, "\n")) {
		char name[64], kind[16];
		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%63s", helped), 1);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line + 7, "%63s %15s", typed, kind), 2);
			assert_string_equal(typed, helped); /* HELP then TYPE for each family */
			assert_true(!strcmp(kind, "counter") || !strcmp(kind, "gauge"));
			counters += !strcmp(kind, "counter");
			gauges += !strcmp(kind, "gauge");
			/* Prometheus naming: counters, and only they, end in _total */
			size_t tl = strlen(typed);
			bool total = tl > 6 && !strcmp(typed + tl - 6, "_total");
			assert_int_equal(total, !strcmp(kind, "counter"));
			continue;
		}
		assert_true(line[0] != '#');
		/* name[{labels}] value: the family was typed just before */
		size_t nl = strcspn(line, "{ ");
		assert_true(nl < sizeof name);
		memcpy(name, line, nl);
		name[nl] = 0;
		assert_string_equal(name, typed);
		assert_int_equal(strncmp(name, "nodenet_", 8), 0);
		for (size_t i = 0; i < nl; i++)
			assert_true(strchr("abcdefghijklmnopqrstuvwxyz0123456789_", name[i]) != NULL);
		const char *val = strrchr(line, ' ');
		assert_non_null(val);
		char *end;
		(void)strtoull(val + 1, &end, 10);
		assert_true(end != val + 1 && *end == 0);
		samples++;
	}
	/* every stat, one sample each; plus 2 + 2 + 4 + 5 + 1 labelled samples */
	assert_int_equal(samples, nstats + 14);
	assert_int_equal(counters + gauges, nstats + 5);
	/* the stats whose description says "gauge:", and the five families */
	size_t stat_gauges = 0;
#define NN_COUNT_GAUGE_(name, desc) stat_gauges += !strncmp(desc, "gauge: ", 7);
	NN_NODE_STATS(NN_COUNT_GAUGE_)
#undef NN_COUNT_GAUGE_
	assert_true(stat_gauges >= 6);
	assert_int_equal(gauges, stat_gauges + 5);
	free(body);
	/* spot checks */
	f = open_memstream(&body, &len);
	nn_metrics_render(f, n);
	fclose(f);
	assert_non_null(strstr(body, "# TYPE nodenet_dials_total counter\nnodenet_dials_total 0\n"));
	assert_non_null(strstr(body, "# TYPE nodenet_edges gauge\nnodenet_edges 0\n"));
	assert_null(strstr(body, "nodenet_dials "));
	assert_non_null(strstr(body, "# TYPE nodenet_tp_rx_garbage_total counter\n"));
	assert_non_null(strstr(body, "nodenet_nat_type{type=\"unknown\"} 1\n"));
	assert_non_null(strstr(body, "nodenet_phase{phase=\"bootstrap\"} 1\n"));
	assert_non_null(strstr(body, "nodenet_edges_by_direction{direction=\"in\"} 0\n"));
	free(body);
	assert_int_equal(nn_node_free(n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),     cmocka_unit_test(test_refused),
		cmocka_unit_test(test_caps),     cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
