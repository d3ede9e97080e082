/* fuzz_connect.c — Connect / ConnectAck decode; what decodes re-encodes to the same bytes
 * (NAT hint included); the birthday decision never pairs two symmetric sides. */
#include <stdlib.h>
#include <string.h>

#include "nat/connect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nn_nat_connect m;
	if (nn_nat_connect_decode(&m, data, size) < 0)
		return 0;
	if (m.naddrs > NN_NAT_MAX_ADDRS)
		abort();
	for (size_t i = 0; i < m.naddrs; i++)
		if (nn_addr_check(&m.addrs[i]) < 0)
			abort(); /* nothing outside the grammar gets through */
	for (unsigned self = 0; self < 4; self++)
		for (int open = 0; open < 2; open++) {
			int role = nn_nat_birthday_role(self, open, m.has_hint, m.hint);
			unsigned peer = m.hint & NN_NAT_HINT_TYPE;
			if (role && (!m.has_hint || (self == 3) == (peer == 3)))
				abort(); /* exactly one side symmetric, and only with a hint */
		}
	uint8_t buf[NN_NAT_CONNECT_MAX];
	int len = nn_nat_connect_encode(&m, buf, sizeof buf);
	if (len < 0 || (size_t)len != size || memcmp(buf, data, size))
		abort();
	return 0;
}
