/* test_envelope.c — routed envelope v1: exact layout, signature coverage, strict decoding,
 * in-place patching, size limits, freshness edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "routing/envelope.h"
#include "tests/routing/rt_util.h"

static nn_identity g_id;
static uint8_t g_buf[NN_WIRE_MAX_FRAME + 64];

static int setup(void **state)
{
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	return nn_identity_from_seed(&g_id, seed);
}

/* Build a signed frame of type NN_T_ROUTE into g_buf; returns its length. */
static int build(nn_routing_env *env, const uint8_t *payload, size_t plen, size_t navoid,
		 uint8_t sig[64])
{
	memset(env, 0, sizeof *env);
	for (int i = 0; i < 32; i++)
		env->target.b[i] = (uint8_t)(0xa0 + i);
	env->ttl = 16;
	memcpy(env->ed_pub, g_id.ed_pub, 32);
	env->sent = 1700000000123456789LL;
	env->navoid = (uint8_t)navoid;
	for (size_t i = 0; i < navoid; i++)
		memset(env->avoid[i].b, (int)(0x11 * (i + 1)), 32);
	env->payload = payload;
	env->plen = plen;
	assert_int_equal(nn_routing_env_sign(&g_id, NN_T_ROUTE, &env->target, env->sent, payload,
					     plen, sig),
			 0);
	env->sig = sig;
	return nn_routing_frame_encode(g_buf, sizeof g_buf, NN_T_ROUTE, env);
}

static void test_layout_and_roundtrip(void **state)
{
	nn_routing_env env, got;
	uint8_t sig[64];
	const uint8_t pl[] = "hello";
	int n = build(&env, pl, 5, 2, sig);
	/* header 4 (uvarint 208 takes 2 bytes) + 73 fixed + 1 + 64 avoid + 1 + 5 + 64 */
	assert_int_equal(n, 4 + 73 + 1 + 64 + 1 + 5 + 64);
	assert_int_equal(g_buf[2], (208 & 0x7f) | 0x80);
	assert_int_equal(g_buf[3], 1);
	assert_int_equal(g_buf[0], 1);
	assert_int_equal(g_buf[1], NN_T_ROUTE);
	const uint8_t *p = g_buf + 4;
	assert_memory_equal(p, env.target.b, 32);
	assert_int_equal(p[32], 16); /* TTL at payload offset 32 */
	assert_memory_equal(p + 33, g_id.ed_pub, 32);
	uint8_t sent_be[8];
	for (int i = 0; i < 8; i++)
		sent_be[i] = (uint8_t)((uint64_t)env.sent >> (56 - 8 * i));
	assert_memory_equal(p + 65, sent_be, 8);
	assert_int_equal(p[73], 2);
	assert_memory_equal(p + 74, env.avoid[0].b, 32);
	assert_memory_equal(p + 106, env.avoid[1].b, 32);
	assert_int_equal(p[138], 5);
	assert_memory_equal(p + 139, "hello", 5);
	assert_memory_equal(p + 144, sig, 64);

	uint8_t type;
	assert_int_equal(nn_routing_frame_decode(g_buf, (size_t)n, &type, &got), 0);
	assert_int_equal(type, NN_T_ROUTE);
	assert_true(nn_kad_id_eq(&got.target, &env.target));
	assert_int_equal(got.ttl, 16);
	assert_int_equal(got.sent, env.sent);
	assert_int_equal(got.navoid, 2);
	assert_true(nn_kad_id_eq(&got.avoid[1], &env.avoid[1]));
	assert_int_equal(got.plen, 5);
	assert_memory_equal(got.payload, "hello", 5);
	assert_int_equal(nn_routing_env_verify(&got, NN_T_ROUTE), 0);
	assert_int_equal(nn_routing_frame_ttl_offset(g_buf, (size_t)n), 4 + 32);
}

static void test_digest_layout(void **state)
{
	/* The digest is BLAKE2b-256 over the exact concatenation of §8.5. */
	nn_id t;
	memset(t.b, 0x33, 32);
	uint8_t pub[32], pl[3] = {9, 8, 7}, cat[27 + 1 + 32 + 32 + 8 + 3];
	memset(pub, 0x44, 32);
	nn_time sent = -2; /* two's complement on the wire */
	size_t o = 0;
	memcpy(cat, "nodenet/v1/routing-envelope", 27);
	o += 27;
	cat[o++] = NN_T_HELLO;
	memcpy(cat + o, t.b, 32);
	o += 32;
	memcpy(cat + o, pub, 32);
	o += 32;
	memset(cat + o, 0xff, 7);
	cat[o + 7] = 0xfe;
	o += 8;
	memcpy(cat + o, pl, 3);
	o += 3;
	uint8_t want[32], got[32];
	nn_blake2b256(want, cat, o);
	nn_routing_env_digest(got, NN_T_HELLO, &t, pub, sent, pl, 3);
	assert_memory_equal(got, want, 32);
}

static void test_signature_coverage(void **state)
{
	nn_routing_env env, got;
	uint8_t sig[64];
	const uint8_t pl[] = "payload";
	int n = build(&env, pl, 7, 2, sig);
	/* TTL and avoid set are unsigned: patching them keeps the signature valid. */
	assert_int_equal(nn_routing_frame_set_ttl(g_buf, (size_t)n, 3), 0);
	nn_id av[2];
	memset(av[0].b, 0xee, 32);
	memset(av[1].b, 0xdd, 32);
	assert_int_equal(nn_routing_frame_set_avoid(g_buf, (size_t)n, av, 2), 0);
	assert_int_equal(nn_routing_frame_set_avoid(g_buf, (size_t)n, av, 1), NN_EINVAL);
	assert_int_equal(nn_routing_frame_decode(g_buf, (size_t)n, NULL, &got), 0);
	assert_int_equal(got.ttl, 3);
	assert_true(nn_kad_id_eq(&got.avoid[0], &av[0]));
	assert_int_equal(nn_routing_env_verify(&got, NN_T_ROUTE), 0);
	/* Type, target, ed_pub, sent and payload are signed. */
	assert_int_equal(nn_routing_env_verify(&got, NN_T_HELLO), NN_EBADSIG);
	size_t offs[] = {4 + 0, 4 + 33, 4 + 65, (size_t)n - 64 - 1, (size_t)n - 1};
	for (size_t i = 0; i < 5; i++) {
		g_buf[offs[i]] ^= 1;
		assert_int_equal(nn_routing_frame_decode(g_buf, (size_t)n, NULL, &got), 0);
		assert_int_equal(nn_routing_env_verify(&got, NN_T_ROUTE), NN_EBADSIG);
		g_buf[offs[i]] ^= 1;
	}
}

static void test_strict_decoding(void **state)
{
	nn_routing_env env, got;
	uint8_t sig[64];
	const uint8_t pl[] = "abc";
	int n = build(&env, pl, 3, 1, sig);
	const uint8_t *p = g_buf + 4;
	size_t len = (size_t)n - 4;
	assert_int_equal(nn_routing_env_decode(p, len, &got), 0);
	/* Every strict prefix fails. */
	for (size_t l = 0; l < len; l++)
		assert_true(nn_routing_env_decode(p, l, &got) < 0);
	/* A trailing byte fails. */
	uint8_t big[512];
	memcpy(big, p, len);
	big[len] = 0;
	assert_int_equal(nn_routing_env_decode(big, len + 1, &got), NN_ETRAILING);
	/* navoid 4 is refused before any avoid entry is read. */
	memcpy(big, p, len);
	big[73] = 4;
	assert_int_equal(nn_routing_env_decode(big, len, &got), NN_ELIMIT);
	assert_int_equal(got.navoid, 0);
	/* Non-minimal navoid (0x81 0x00 = 1). */
	uint8_t nm[512];
	memcpy(nm, p, 73);
	nm[73] = 0x81;
	nm[74] = 0x00;
	memcpy(nm + 75, p + 74, len - 74);
	assert_int_equal(nn_routing_env_decode(nm, len + 1, &got), NN_ENONMINIMAL);
	/* A plen that does not leave exactly 64 bytes for the signature. */
	memcpy(big, p, len);
	big[73 + 1 + 32] = 4; /* plen 3 -> 4 */
	assert_true(nn_routing_env_decode(big, len, &got) < 0);
	big[73 + 1 + 32] = 2; /* plen 3 -> 2: one byte too many */
	assert_int_equal(nn_routing_env_decode(big, len, &got), NN_ETRAILING);
	big[73 + 1 + 32] = 0x7f; /* far beyond */
	assert_int_equal(nn_routing_env_decode(big, len, &got), NN_ETRUNC);
	/* A huge plen near 2^64 cannot wrap the bound. */
	uint8_t huge[600];
	memcpy(huge, p, 73 + 1 + 32);
	size_t o = 73 + 1 + 32;
	for (int i = 0; i < 9; i++)
		huge[o++] = 0xff;
	huge[o++] = 0x01;
	memset(huge + o, 0, 100);
	assert_true(nn_routing_env_decode(huge, o + 100, &got) < 0);
	/* Non-routed frame types are refused by the frame decoder. */
	g_buf[1] = NN_T_PING;
	assert_int_equal(nn_routing_frame_decode(g_buf, (size_t)n, NULL, &got), NN_EINVAL);
	g_buf[1] = NN_T_ROUTE;
}

static void test_max_payload(void **state)
{
	assert_int_equal(NN_ROUTING_MAX_PAYLOAD, 65294);
	uint8_t *pl = calloc(1, NN_ROUTING_MAX_PAYLOAD + 1);
	nn_routing_env env;
	uint8_t sig[64];
	/* The maximum fits with a full avoid set: exactly one 64 KiB packet. */
	int n = build(&env, pl, NN_ROUTING_MAX_PAYLOAD, 3, sig);
	assert_int_equal(n, NN_WIRE_MAX_FRAME);
	nn_routing_env got;
	assert_int_equal(nn_routing_frame_decode(g_buf, (size_t)n, NULL, &got), 0);
	assert_int_equal(nn_routing_env_verify(&got, NN_T_ROUTE), 0);
	/* One more byte is refused whatever the avoid set. */
	for (size_t navoid = 0; navoid <= 3; navoid++) {
		env.navoid = (uint8_t)navoid;
		env.plen = NN_ROUTING_MAX_PAYLOAD + 1;
		assert_int_equal(nn_routing_frame_encode(g_buf, sizeof g_buf, NN_T_ROUTE, &env),
				 NN_ETOOBIG);
	}
	/* Too small a buffer. */
	env.plen = 10;
	env.navoid = 0;
	assert_int_equal(nn_routing_frame_encode(g_buf, 50, NN_T_ROUTE, &env), NN_ENOSPC);
	env.navoid = 4;
	assert_int_equal(nn_routing_frame_encode(g_buf, sizeof g_buf, NN_T_ROUTE, &env), NN_EINVAL);
	free(pl);
}

static void test_zero_copy_encode(void **state)
{
	/* Write the payload in place first, then sign and encode around it. */
	nn_routing_env env;
	memset(&env, 0, sizeof env);
	memset(env.target.b, 0x21, 32);
	env.ttl = 16;
	memcpy(env.ed_pub, g_id.ed_pub, 32);
	env.sent = 42;
	env.navoid = 2;
	int off = nn_routing_frame_payload_offset(2, 300);
	assert_true(off > 0);
	for (int i = 0; i < 300; i++)
		g_buf[off + i] = (uint8_t)i;
	uint8_t sig[64];
	nn_routing_env_sign(&g_id, NN_T_CONNECT, &env.target, env.sent, g_buf + off, 300, sig);
	env.payload = g_buf + off;
	env.plen = 300;
	env.sig = sig;
	int n = nn_routing_frame_encode(g_buf, sizeof g_buf, NN_T_CONNECT, &env);
	assert_true(n > 0);
	nn_routing_env got;
	uint8_t type;
	assert_int_equal(nn_routing_frame_decode(g_buf, (size_t)n, &type, &got), 0);
	assert_int_equal(type, NN_T_CONNECT);
	assert_ptr_equal(got.payload, g_buf + off);
	assert_int_equal(got.payload[299], (uint8_t)299);
	assert_int_equal(nn_routing_env_verify(&got, NN_T_CONNECT), 0);
}

static void test_freshness_edges(void **state)
{
	const nn_time W = NN_ROUTING_MAX_AGE, now = 1700000000LL * NN_SEC;
	assert_true(nn_routing_env_fresh(now, now));
	assert_true(nn_routing_env_fresh(now - W, now));
	assert_true(nn_routing_env_fresh(now + W, now));
	assert_false(nn_routing_env_fresh(now - W - 1, now));
	assert_false(nn_routing_env_fresh(now + W + 1, now));
	/* Extreme values never wrap into "fresh". */
	assert_false(nn_routing_env_fresh(INT64_MIN, INT64_MAX));
	assert_false(nn_routing_env_fresh(INT64_MAX, INT64_MIN));
	assert_false(nn_routing_env_fresh(INT64_MIN, 0));
	assert_false(nn_routing_env_fresh(INT64_MAX, 0));
	assert_false(nn_routing_env_fresh(INT64_MIN, now));
	assert_false(nn_routing_env_fresh(0, INT64_MIN));
	assert_true(nn_routing_env_fresh(INT64_MAX, INT64_MAX));
	assert_true(nn_routing_env_fresh(INT64_MIN, INT64_MIN));
	assert_true(nn_routing_env_fresh(INT64_MAX, INT64_MAX - W));
	assert_false(nn_routing_env_fresh(INT64_MAX, INT64_MAX - W - 1));
	assert_true(nn_routing_env_fresh(INT64_MIN, INT64_MIN + W));
	assert_false(nn_routing_env_fresh(INT64_MIN, INT64_MIN + W + 1));
	assert_false(nn_routing_time_within(0, 0, -1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_roundtrip),
		cmocka_unit_test(test_digest_layout),
		cmocka_unit_test(test_signature_coverage),
		cmocka_unit_test(test_strict_decoding),
		cmocka_unit_test(test_max_payload),
		cmocka_unit_test(test_zero_copy_encode),
		cmocka_unit_test(test_freshness_edges),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
