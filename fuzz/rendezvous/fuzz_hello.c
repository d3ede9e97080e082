/* fuzz_hello.c — the Hello decoder: never crash, never read outside the input; whatever it
 * accepts matches the address grammar (transport/addr.h), re-encodes to the same bytes (strict
 * decoding makes the encoding unique) and can be verified without harm. */
#include <stdlib.h>
#include <string.h>

#include "rendezvous/rdv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[NN_RDV_HELLO_MAX];
	static const nn_id target = {{0x01}};
	static const uint8_t ed_pub[32] = {0x02};
	nn_rdv_hello h;
	if (nn_rdv_hello_decode(&h, data, size) != 0)
		return 0;
	if (size < NN_RDV_HELLO_MIN || size > NN_RDV_HELLO_MAX || h.naddrs > NN_RDV_MAX_ADDRS)
		abort();
	for (size_t i = 0; i < h.naddrs; i++)
		if (nn_addr_check(&h.addrs[i]) != 0)
			abort(); /* the address grammar (transport/addr.h) holds for what is accepted */
	int n = nn_rdv_hello_encode(&h, out, sizeof out);
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
	int rc = nn_rdv_hello_verify(&h, &target, ed_pub);
	if (rc != 0 && rc != NN_EBADSIG)
		abort();
	return 0;
}
