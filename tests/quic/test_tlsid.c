/* test_tlsid.c — TLS identity binding: certificate generation, the DER walker, the extension
 * check, and every refusal (missing, truncated, critical, wrong length, other key). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "kad/nn_err.h"
#include "tests/support/testutil.h"
#include "transport/quic/certext.h"
#include "transport/quic/der.h"
#include "transport/quic/tlsid.h"

static nn_identity ida, idb;

static int setup(void **st)
{
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	assert_int_equal(nn_identity_from_seed(&ida, seed), 0);
	seed[0] ^= 0xff;
	assert_int_equal(nn_identity_from_seed(&idb, seed), 0);
	return 0;
}

/* Find needle in hay. */
static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static void test_golden_round_trip(void **st)
{
	nn_quic_tlsid t;
	assert_int_equal(nn_quic_tlsid_make(&t, &ida), 0);
	assert_true(t.cert_len > 200 && t.cert_len < NN_QUIC_TLSID_CERT_MAX);
	nn_id peer;
	uint8_t ed[32];
	nn_quic_cert_verdict v = NN_QUIC_CERT_VERDICTS;
	assert_int_equal(nn_quic_certext_verify(t.cert, t.cert_len, &peer, ed, &v), 0);
	assert_int_equal(v, NN_QUIC_CERT_OK);
	assert_memory_equal(ed, ida.ed_pub, 32);
	assert_true(nn_kad_id_eq(&peer, &ida.id));
	/* golden NodeID of seed 01..20 */
	uint8_t want[32];
	nn_test_unhex(want, 32, "45cd1496465d1e9e045a991d920ec5054c312f077765113c936b4d5c6d1e6ad5");
	assert_memory_equal(peer.b, want, 32);

	/* fixed fields: serial 1, CN nodenet, the validity period, non-critical extension */
	static const uint8_t serial[] = {0x02, 0x01, 0x01};
	static const uint8_t cn[] = {0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x07, 'n', 'o', 'd', 'e',
				     'n', 'e', 't'};
	static const uint8_t validity[] = {0x30, 0x20, 0x17, 0x0d, '7', '0', '0', '1', '0', '1',
					   '0', '0', '0', '0', '0', '0', 'Z', 0x18, 0x0f, '9',
					   '9', '9', '9', '1', '2', '3', '1', '2', '3', '5', '9',
					   '5', '9', 'Z'};
	assert_non_null(find(t.cert, t.cert_len, serial, sizeof serial));
	assert_non_null(find(t.cert, t.cert_len, cn, sizeof cn));
	assert_non_null(find(t.cert, t.cert_len, validity, sizeof validity));
	nn_quic_cert_view view;
	assert_int_equal(nn_quic_der_cert_walk(t.cert, t.cert_len, &view), 0);
	assert_false(view.critical);
	assert_int_equal(view.ext_len, 96);
	assert_int_equal(view.spki_len, 91); /* P-256 SPKI */
	/* extension TLV: SEQUENCE { OID, OCTET STRING(96) } with no BOOLEAN */
	static const uint8_t ext_hdr[] = {0x30, 0x6e, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
					  0x83, 0xc6, 0x23, 0x01, 0x01, 0x04, 0x60};
	assert_non_null(find(t.cert, t.cert_len, ext_hdr, sizeof ext_hdr));

	/* fresh key per call */
	nn_quic_tlsid t2;
	assert_int_equal(nn_quic_tlsid_make(&t2, &ida), 0);
	assert_memory_not_equal(t.key, t2.key, t.key_len < t2.key_len ? t.key_len : t2.key_len);
	nn_quic_tlsid_wipe(&t);
	nn_quic_tlsid_wipe(&t2);
}

static void expect_verdict(nn_quic_tlsid_mode mode, nn_quic_cert_verdict want)
{
	nn_quic_tlsid t;
	assert_int_equal(nn_quic_tlsid_make_ex(&t, &ida, mode, &idb), 0);
	nn_quic_cert_verdict v = NN_QUIC_CERT_OK;
	nn_id peer;
	assert_int_equal(nn_quic_certext_verify(t.cert, t.cert_len, &peer, NULL, &v), NN_ETLS);
	assert_int_equal(v, want);
	nn_quic_tlsid_wipe(&t);
}

static void test_missing_extension(void **st) { expect_verdict(NN_QUIC_TLSID_NO_EXT, NN_QUIC_CERT_MISSING); }
static void test_critical(void **st) { expect_verdict(NN_QUIC_TLSID_CRITICAL, NN_QUIC_CERT_CRITICAL); }
static void test_wrong_length(void **st)
{
	expect_verdict(NN_QUIC_TLSID_SHORT, NN_QUIC_CERT_BAD_LENGTH);
	expect_verdict(NN_QUIC_TLSID_LONG, NN_QUIC_CERT_BAD_LENGTH);
}
static void test_other_key(void **st) { expect_verdict(NN_QUIC_TLSID_OTHER_KEY, NN_QUIC_CERT_BAD_SIG); }

static void test_every_truncation(void **st)
{
	nn_quic_tlsid t;
	assert_int_equal(nn_quic_tlsid_make(&t, &ida), 0);
	uint8_t buf[NN_QUIC_TLSID_CERT_MAX];
	for (size_t n = 0; n < t.cert_len; n++) {
		memcpy(buf, t.cert, n);
		nn_quic_cert_verdict v = NN_QUIC_CERT_OK;
		assert_int_equal(nn_quic_certext_verify(n ? buf : NULL, n, NULL, NULL, &v), NN_ETLS);
		assert_int_equal(v, NN_QUIC_CERT_MALFORMED);
	}
	/* trailing byte */
	memcpy(buf, t.cert, t.cert_len);
	buf[t.cert_len] = 0;
	assert_int_equal(nn_quic_certext_verify(buf, t.cert_len + 1, NULL, NULL, NULL), NN_ETLS);
	nn_quic_tlsid_wipe(&t);
}

/* Every single-bit flip is refused or, if it still verifies, still names the same NodeID
 * (flips in the self-signature or fields outside the SPKI and extension). */
static void test_bit_flips(void **st)
{
	nn_quic_tlsid t;
	assert_int_equal(nn_quic_tlsid_make(&t, &ida), 0);
	uint8_t buf[NN_QUIC_TLSID_CERT_MAX];
	nn_quic_cert_view view;
	assert_int_equal(nn_quic_der_cert_walk(t.cert, t.cert_len, &view), 0);
	size_t spki_off = (size_t)(view.spki - t.cert), ext_off = (size_t)(view.ext - t.cert);
	for (size_t i = 0; i < t.cert_len; i++) {
		for (int b = 0; b < 8; b++) {
			memcpy(buf, t.cert, t.cert_len);
			buf[i] ^= (uint8_t)(1 << b);
			nn_id peer;
			int rc = nn_quic_certext_verify(buf, t.cert_len, &peer, NULL, NULL);
			bool in_bound = (i >= spki_off && i < spki_off + view.spki_len) ||
					(i >= ext_off && i < ext_off + 96);
			if (in_bound)
				assert_int_equal(rc, NN_ETLS);
			else if (rc == 0)
				assert_true(nn_kad_id_eq(&peer, &ida.id));
		}
	}
	nn_quic_tlsid_wipe(&t);
}

static void test_der_strictness(void **st)
{
	nn_quic_der e;
	static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
	static const uint8_t nonmin[] = {0x04, 0x81, 0x05, 1, 2, 3, 4, 5};
	static const uint8_t lead0[] = {0x04, 0x82, 0x00, 0x80};
	static const uint8_t ok[] = {0x04, 0x81, 0x80};
	assert_int_equal(nn_quic_der_next(indefinite, sizeof indefinite, &e), NN_ECORRUPT);
	assert_int_equal(nn_quic_der_next(nonmin, sizeof nonmin, &e), NN_ECORRUPT);
	assert_int_equal(nn_quic_der_next(lead0, sizeof lead0, &e), NN_ECORRUPT);
	assert_int_equal(nn_quic_der_next(ok, sizeof ok, &e), NN_ETRUNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_round_trip),
		cmocka_unit_test(test_missing_extension),
		cmocka_unit_test(test_critical),
		cmocka_unit_test(test_wrong_length),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_der_strictness),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
