/* der.c — bounded DER walker over an X.509 certificate (see der.h). */
#include "transport/quic/der.h"

#include <string.h>

#include "kad/nn_err.h"

int nn_quic_der_next(const uint8_t *buf, size_t cap, nn_quic_der *out)
{
	if (cap < 2)
		return NN_ETRUNC;
	uint8_t tag = buf[0];
	if ((tag & 0x1f) == 0x1f)
		return NN_ECORRUPT; /* high tag numbers never occur in what we read */
	size_t hdr = 2, len = buf[1];
	if (len & 0x80) {
		size_t n = len & 0x7f;
		if (n == 0 || n > 4)
			return NN_ECORRUPT; /* indefinite, or longer than any certificate */
		if (cap < 2 + n)
			return NN_ETRUNC;
		if (buf[2] == 0)
			return NN_ECORRUPT; /* leading zero: not minimal */
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = (len << 8) | buf[2 + i];
		if (len < 0x80)
			return NN_ECORRUPT; /* long form where short form fits */
		hdr = 2 + n;
	}
	if (len > cap - hdr)
		return NN_ETRUNC;
	out->tag = tag;
	out->tlv = buf;
	out->tlv_len = hdr + len;
	out->val = buf + hdr;
	out->len = len;
	return 0;
}

/* Read the next element of a container into e and advance; require tag if tag >= 0. */
static int take(const uint8_t **p, size_t *left, int tag, nn_quic_der *e)
{
	int rc = nn_quic_der_next(*p, *left, e);
	if (rc)
		return rc;
	if (tag >= 0 && e->tag != (uint8_t)tag)
		return NN_ECORRUPT;
	*p += e->tlv_len;
	*left -= e->tlv_len;
	return 0;
}

/* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
static int walk_extension(const nn_quic_der *seq, nn_quic_cert_view *out, bool *found)
{
	const uint8_t *p = seq->val;
	size_t left = seq->len;
	nn_quic_der oid, e;
	int rc = take(&p, &left, 0x06, &oid);
	if (rc)
		return rc;
	bool critical = false;
	if ((rc = take(&p, &left, -1, &e)))
		return rc;
	if (e.tag == 0x01) {
		if (e.len != 1 || (e.val[0] != 0x00 && e.val[0] != 0xff))
			return NN_ECORRUPT;
		critical = e.val[0] == 0xff;
		if ((rc = take(&p, &left, -1, &e)))
			return rc;
	}
	if (e.tag != 0x04 || left != 0)
		return NN_ECORRUPT;
	if (oid.len != NN_QUIC_CERTEXT_OID_LEN ||
	    memcmp(oid.val, NN_QUIC_CERTEXT_OID_DER, NN_QUIC_CERTEXT_OID_LEN) != 0)
		return 0;
	if (*found)
		return NN_ECORRUPT; /* RFC 5280: at most one instance of an extension */
	*found = true;
	out->ext = e.val;
	out->ext_len = e.len;
	out->critical = critical;
	return 0;
}

int nn_quic_der_cert_walk(const uint8_t *der, size_t len, nn_quic_cert_view *out)
{
	memset(out, 0, sizeof *out);
	if (!der)
		return NN_EINVAL;
	nn_quic_der cert, tbs, e;
	const uint8_t *p = der;
	size_t left = len;
	int rc = take(&p, &left, 0x30, &cert);
	if (rc)
		return rc;
	if (left != 0)
		return NN_ECORRUPT;
	p = cert.val;
	left = cert.len;
	if ((rc = take(&p, &left, 0x30, &tbs)))
		return rc;
	/* signatureAlgorithm and signatureValue must follow (content not checked: TLS verifies
	 * the handshake signature with the SPKI, the self-signature means nothing). */
	if ((rc = take(&p, &left, 0x30, &e)) || (rc = take(&p, &left, 0x03, &e)))
		return rc;
	if (left != 0)
		return NN_ECORRUPT;

	p = tbs.val;
	left = tbs.len;
	if ((rc = take(&p, &left, -1, &e)))
		return rc;
	if (e.tag == 0xa0) { /* [0] EXPLICIT version */
		if ((rc = take(&p, &left, 0x02, &e)))
			return rc;
	} else if (e.tag != 0x02) {
		return NN_ECORRUPT;
	}
	/* signature, issuer, validity, subject */
	for (int i = 0; i < 4; i++)
		if ((rc = take(&p, &left, 0x30, &e)))
			return rc;
	nn_quic_der spki;
	if ((rc = take(&p, &left, 0x30, &spki)))
		return rc;
	out->spki = spki.tlv;
	out->spki_len = spki.tlv_len;

	bool found = false, seen_ext = false;
	while (left) {
		if ((rc = take(&p, &left, -1, &e)))
			return rc;
		if (e.tag == 0x81 || e.tag == 0xa1 || e.tag == 0x82 || e.tag == 0xa2) {
			if (seen_ext)
				return NN_ECORRUPT;
			continue; /* issuer/subject unique IDs */
		}
		if (e.tag != 0xa3 || seen_ext)
			return NN_ECORRUPT;
		seen_ext = true;
		const uint8_t *q = e.val;
		size_t qleft = e.len;
		nn_quic_der exts, ext;
		if ((rc = take(&q, &qleft, 0x30, &exts)))
			return rc;
		if (qleft != 0)
			return NN_ECORRUPT;
		q = exts.val;
		qleft = exts.len;
		while (qleft) {
			if ((rc = take(&q, &qleft, 0x30, &ext)))
				return rc;
			if ((rc = walk_extension(&ext, out, &found)))
				return rc;
		}
	}
	return found ? 0 : NN_ENOENT;
}
