/* certext.c — make and verify the 96-byte identity extension (see certext.h). */
#include "transport/quic/certext.h"

#include <string.h>

#include "kad/nn_err.h"
#include "transport/quic/der.h"

int nn_quic_certext_make(uint8_t out[NN_QUIC_CERTEXT_LEN], const nn_identity *id,
			 const uint8_t *spki, size_t spki_len)
{
	if (!out || !id || !spki || !spki_len)
		return NN_EINVAL;
	memcpy(out, id->ed_pub, NN_ED_PUB_LEN);
	return nn_identity_sign(id, out + NN_ED_PUB_LEN, spki, spki_len);
}

static int refuse(nn_quic_cert_verdict *verdict, nn_quic_cert_verdict v)
{
	if (verdict)
		*verdict = v;
	return NN_ETLS;
}

int nn_quic_certext_verify(const uint8_t *der, size_t len, nn_id *peer,
			   uint8_t ed_pub[NN_ED_PUB_LEN], nn_quic_cert_verdict *verdict)
{
	nn_quic_cert_view v;
	int rc = nn_quic_der_cert_walk(der, len, &v);
	if (rc == NN_ENOENT)
		return refuse(verdict, NN_QUIC_CERT_MISSING);
	if (rc)
		return refuse(verdict, NN_QUIC_CERT_MALFORMED);
	if (v.critical)
		return refuse(verdict, NN_QUIC_CERT_CRITICAL);
	if (v.ext_len != NN_QUIC_CERTEXT_LEN)
		return refuse(verdict, NN_QUIC_CERT_BAD_LENGTH);
	if (nn_identity_verify(v.ext, v.ext + NN_ED_PUB_LEN, v.spki, v.spki_len) != 0)
		return refuse(verdict, NN_QUIC_CERT_BAD_SIG);
	if (peer)
		nn_identity_node_id(peer, v.ext);
	if (ed_pub)
		memcpy(ed_pub, v.ext, NN_ED_PUB_LEN);
	if (verdict)
		*verdict = NN_QUIC_CERT_OK;
	return 0;
}

const char *nn_quic_cert_verdict_str(nn_quic_cert_verdict v)
{
	switch (v) {
	case NN_QUIC_CERT_OK: return "ok";
	case NN_QUIC_CERT_MISSING: return "missing extension";
	case NN_QUIC_CERT_MALFORMED: return "malformed certificate";
	case NN_QUIC_CERT_BAD_LENGTH: return "extension length is not 96";
	case NN_QUIC_CERT_CRITICAL: return "extension marked critical";
	case NN_QUIC_CERT_BAD_SIG: return "extension signature invalid";
	default: return "unknown";
	}
}
