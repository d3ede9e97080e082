/* fuzz_reply.c — the Reply decoder: never crash; accepted addresses match the grammar
 * (transport/addr.h); accepted input re-encodes identically; the verifier is driven past its
 * target and nonce checks to the signature, and keeps its order. */
#include <stdlib.h>
#include <string.h>

#include "rendezvous/rdv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[NN_RDV_REPLY_MAX];
	static const nn_id other = {{0xff}};
	nn_rdv_reply r;
	if (nn_rdv_reply_decode(&r, data, size) != 0)
		return 0;
	if (size < NN_RDV_REPLY_MIN || size > NN_RDV_REPLY_MAX || r.naddrs > NN_RDV_MAX_ADDRS)
		abort();
	for (size_t i = 0; i < r.naddrs; i++)
		if (nn_addr_check(&r.addrs[i]) != 0)
			abort(); /* the address grammar (transport/addr.h) holds for what is accepted */
	int n = nn_rdv_reply_encode(&r, out, sizeof out);
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
	nn_id self_id;
	nn_identity_node_id(&self_id, r.ed_pub);
	uint8_t wrong[NN_RDV_NONCE_LEN];
	memcpy(wrong, r.nonce, sizeof wrong);
	wrong[0] ^= 1;
	if (!nn_kad_id_eq(&self_id, &other) &&
	    nn_rdv_reply_verify(&r, &other, wrong) != NN_EWRONGTARGET)
		abort();
	if (nn_rdv_reply_verify(&r, &self_id, wrong) != NN_ENONCE)
		abort();
	int rc = nn_rdv_reply_verify(&r, &self_id, r.nonce);
	if (rc != 0 && rc != NN_EBADSIG)
		abort();
	return 0;
}
