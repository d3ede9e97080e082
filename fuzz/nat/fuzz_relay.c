/* fuzz_relay.c — the relay frames' decoders (RelayRequest 12, RelayGrant 13, RelayBind 14,
 * RelayRefuse 62). The first input byte picks the decoder (low two bits), the rest is the
 * payload. What decodes re-encodes to a prefix of the input (trailing bytes are ignored by
 * rule) and every decoded address is within the grammar. */
#include <stdlib.h>
#include <string.h>

#include "nat/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned which = data[0] & 3;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	uint8_t buf[256];
	int len = -1;
	switch (which) {
	case 0: {
		nn_nat_relay_request m;
		if (nn_nat_relay_request_decode(&m, p, n) < 0)
			return 0;
		len = nn_nat_relay_request_encode(&m, buf, sizeof buf);
		break;
	}
	case 1: {
		nn_nat_relay_grant m;
		if (nn_nat_relay_grant_decode(&m, p, n) < 0)
			return 0;
		if (nn_addr_check(&m.addr) < 0)
			abort();
		len = nn_nat_relay_grant_encode(&m, buf, sizeof buf);
		break;
	}
	case 2: {
		nn_addr a;
		if (nn_nat_relay_bind_decode(&a, p, n) < 0)
			return 0;
		if (nn_addr_check(&a) < 0)
			abort();
		len = nn_nat_relay_bind_encode(&a, buf, sizeof buf);
		break;
	}
	default: {
		nn_nat_relay_refuse m;
		if (nn_nat_relay_refuse_decode(&m, p, n) < 0)
			return 0;
		(void)nn_nat_relay_reason_name(m.reason);
		len = nn_nat_relay_refuse_encode(&m, buf, sizeof buf);
		break;
	}
	}
	if (len < 0 || (size_t)len > n || memcmp(buf, p, (size_t)len))
		abort();
	return 0;
}
