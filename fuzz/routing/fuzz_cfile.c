/* fuzz_cfile.c — the contacts file decoder (routing/cfile.c): no read outside the input, the
 * cap holds, and an accepted file re-encodes to the same bytes. Each input is decoded as it is
 * and again with a valid checksum appended (else the fuzzer would never get past the sum), as
 * a file of the writer named in its bytes 8..40. */
#include <stdlib.h>
#include <string.h>

#include "identity/identity.h"
#include "routing/cfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size)
{
	static nn_routing_contact c[NN_ROUTING_CFILE_MAX];
	static uint8_t out[NN_ROUTING_CFILE_BYTES_MAX];
	nn_id self;
	memset(&self, 0, sizeof self);
	if (size >= 40)
		memcpy(self.b, data + 8, 32);
	size_t k = 0;
	if (nn_routing_cfile_decode(data, size, &self, c, NN_ROUTING_CFILE_MAX, &k) != 0)
		return;
	if (k > NN_ROUTING_CFILE_MAX)
		abort();
	for (size_t i = 0; i < k; i++)
		if (c[i].naddrs > NN_ROUTING_CONTACT_ADDRS || nn_routing_contact_check_key(&c[i]))
			abort();
	int n = nn_routing_cfile_encode(out, sizeof out, &self, c, k);
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[NN_ROUTING_CFILE_BYTES_MAX];
	one(data, size);
	if (size + NN_ROUTING_CFILE_SUM <= sizeof buf) {
		memcpy(buf, data, size);
		nn_blake2b256(buf + size, data, size);
		one(buf, size + NN_ROUTING_CFILE_SUM);
	}
	return 0;
}
