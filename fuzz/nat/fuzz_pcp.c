/* fuzz_pcp.c — the PCP answer decoder (RFC 6887), fed whatever a gateway (or anyone who can
 * reach our port-mapping socket) might send. What decodes as a successful MAP answer is
 * re-encoded as a request and decoded again after setting the R bit: the fields must survive
 * unchanged. */
#include <stdlib.h>
#include <string.h>

#include "nat/pcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nn_pcp_answer a;
	int rc = nn_nat_pcp_answer_decode(&a, data, size);
	(void)nn_nat_pcp_result_name(a.result);
	if (rc < 0 || a.result != NN_PCP_SUCCESS || a.opcode != NN_PCP_OP_MAP)
		return 0;
	uint8_t buf[NN_PCP_MAP_LEN];
	static const uint8_t me[4] = {10, 0, 0, 1};
	if (nn_nat_pcp_map_encode(buf, sizeof buf, me, &a.map, a.lifetime_s) != NN_PCP_MAP_LEN)
		abort();
	buf[1] |= 0x80;
	nn_pcp_answer b;
	if (nn_nat_pcp_answer_decode(&b, buf, sizeof buf) != 0 || b.lifetime_s != a.lifetime_s ||
	    memcmp(&b.map, &a.map, sizeof a.map))
		abort();
	return 0;
}
