/* fuzz_certext.c — the certificate-extension parser: the DER walker and the extension check
 * never crash or read outside the input; every view they return lies inside it; an accepted
 * certificate names BLAKE2b(ed_pub) of its extension. */
#include <stdlib.h>
#include <string.h>

#include "transport/quic/certext.h"
#include "transport/quic/der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *p, size_t n, const uint8_t *d, size_t size)
{
	return p >= d && n <= size && p + n <= d + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nn_quic_cert_view v;
	int rc = nn_quic_der_cert_walk(data, size, &v);
	if (rc == 0 && (!inside(v.ext, v.ext_len, data, size) ||
			!inside(v.spki, v.spki_len, data, size)))
		abort();
	nn_id peer;
	uint8_t ed[32];
	nn_quic_cert_verdict verdict;
	rc = nn_quic_certext_verify(data, size, &peer, ed, &verdict);
	if ((rc == 0) != (verdict == NN_QUIC_CERT_OK))
		abort();
	if (rc == 0) {
		nn_id want;
		nn_identity_node_id(&want, ed);
		if (memcmp(&want, &peer, sizeof want))
			abort();
	}
	nn_quic_der e;
	if (nn_quic_der_next(data, size, &e) == 0 && !inside(e.tlv, e.tlv_len, data, size))
		abort();
	return 0;
}
