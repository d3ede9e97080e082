/* tlsid.c — fresh ECDSA P-256 key + self-signed certificate with the identity extension. */
#include "transport/quic/tlsid.h"

#include <string.h>

#include "kad/nn_err.h"
#include "transport/quic/certext.h"
#include "transport/quic/der.h"
#include "transport/quic/wolf.h"

/* DER times, tag and length included (what wolfSSL copies verbatim into the Validity). */
static const uint8_t not_before[] = {0x17, 0x0d, '7', '0', '0', '1', '0', '1', '0', '0', '0',
				     '0', '0', '0', 'Z'};
static const uint8_t not_after[] = {0x18, 0x0f, '9', '9', '9', '9', '1', '2', '3', '1', '2',
				    '3', '5', '9', '5', '9', 'Z'};

static int make_cert(nn_quic_tlsid *out, ecc_key *key, WC_RNG *rng, const nn_identity *id,
		     nn_quic_tlsid_mode mode, const nn_identity *other)
{
	uint8_t spki[160];
	int n = wc_EccPublicKeyToDer(key, spki, sizeof spki, 1);
	if (n <= 0)
		return NN_ECRYPTO;
	uint8_t ext[NN_QUIC_CERTEXT_LEN + 1];
	int rc = nn_quic_certext_make(ext, id, spki, (size_t)n);
	if (rc)
		return rc;
	if (mode == NN_QUIC_TLSID_OTHER_KEY) {
		if (!other)
			return NN_EINVAL;
		rc = nn_identity_sign(other, ext + NN_ED_PUB_LEN, spki, (size_t)n);
		if (rc)
			return rc;
	}
	ext[NN_QUIC_CERTEXT_LEN] = 0x00;
	word32 ext_len = NN_QUIC_CERTEXT_LEN;
	if (mode == NN_QUIC_TLSID_SHORT)
		ext_len--;
	if (mode == NN_QUIC_TLSID_LONG)
		ext_len++;

	Cert cert;
	if (wc_InitCert(&cert) != 0)
		return NN_ECRYPTO;
	cert.version = 2;
	cert.serial[0] = 0x01;
	cert.serialSz = 1;
	cert.selfSigned = 1;
	cert.isCA = 0;
	cert.sigType = CTC_SHA256wECDSA;
	strncpy(cert.subject.commonName, "nodenet", CTC_NAME_SIZE - 1);
	memcpy(cert.beforeDate, not_before, sizeof not_before);
	cert.beforeDateSz = (int)sizeof not_before;
	memcpy(cert.afterDate, not_after, sizeof not_after);
	cert.afterDateSz = (int)sizeof not_after;
	if (mode != NN_QUIC_TLSID_NO_EXT &&
	    wc_SetCustomExtension(&cert, mode == NN_QUIC_TLSID_CRITICAL,
				  NN_QUIC_CERTEXT_OID_TEXT, ext, ext_len) != 0)
		return NN_ECRYPTO;
	n = wc_MakeCert_ex(&cert, out->cert, sizeof out->cert, ECC_TYPE, key, rng);
	if (n <= 0)
		return NN_ECRYPTO;
	n = wc_SignCert_ex(cert.bodySz, cert.sigType, out->cert, sizeof out->cert, ECC_TYPE, key,
			   rng);
	if (n <= 0)
		return NN_ENOSPC;
	out->cert_len = (size_t)n;
	return 0;
}

int nn_quic_tlsid_make_ex(nn_quic_tlsid *out, const nn_identity *id, nn_quic_tlsid_mode mode,
			  const nn_identity *other)
{
	if (!out || !id)
		return NN_EINVAL;
	memset(out, 0, sizeof *out);
	WC_RNG rng;
	ecc_key key;
	if (wc_InitRng(&rng) != 0)
		return NN_ECRYPTO;
	int rc = NN_ECRYPTO;
	if (wc_ecc_init(&key) != 0)
		goto out_rng;
	if (wc_ecc_make_key(&rng, 32, &key) != 0)
		goto out_key;
	int n = wc_EccKeyToDer(&key, out->key, sizeof out->key);
	if (n <= 0)
		goto out_key;
	out->key_len = (size_t)n;
	rc = make_cert(out, &key, &rng, id, mode, other);
out_key:
	wc_ecc_free(&key);
out_rng:
	wc_FreeRng(&rng);
	if (rc)
		nn_quic_tlsid_wipe(out);
	return rc;
}

int nn_quic_tlsid_make(nn_quic_tlsid *out, const nn_identity *id)
{
	return nn_quic_tlsid_make_ex(out, id, NN_QUIC_TLSID_NORMAL, NULL);
}

void nn_quic_tlsid_wipe(nn_quic_tlsid *t)
{
	if (!t)
		return;
	volatile uint8_t *p = (volatile uint8_t *)t;
	for (size_t i = 0; i < sizeof *t; i++)
		p[i] = 0;
}
