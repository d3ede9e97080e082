/* fuzz_referral.c — the Referral decoder (the payload of frame type 63): caps (16 contacts, 256
 * addresses) hold, no read outside the input; every address kept matches the grammar; accepted
 * input without dropped addresses re-encodes to the same bytes (with some, to fewer), and every
 * contact survives the hint sanitizer and the key check. */
#include <stdlib.h>
#include <string.h>

#include "routing/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nn_routing_neighbors nb;
	static uint8_t out[NN_WIRE_MAX_FRAME];
	uint8_t reason;
	if (nn_routing_referral_decode(data, size, &reason, &nb) == 0) {
		if (nb.count > NN_ROUTING_REFERRAL_MAX || nb.naddrs > NN_ROUTING_NEIGHBORS_MAX_ADDRS)
			abort();
		int n = nn_routing_referral_frame(out, sizeof out, reason, &nb);
		if (n < 0)
			abort();
		for (size_t i = 0; i < nb.naddrs; i++)
			if (nn_addr_check(&nb.addrs[i]) != 0)
				abort();
		nn_frame f;
		if (nn_wire_frame_decode_exact(out, (size_t)n, &f) != 0 || f.type != NN_T_REFERRAL)
			abort();
		/* addresses outside the grammar are dropped at decode (as in Neighbors): then the
		 * re-encoding is shorter, else identical */
		if (nb.dropped_addrs == 0 && (f.len != size || memcmp(f.payload, data, size) != 0))
			abort();
		if (nb.dropped_addrs != 0 && f.len >= size)
			abort();
		for (size_t i = 0; i < nb.count; i++) {
			nn_routing_contact c;
			if (nn_routing_neighbors_get(&nb, i, &c) != 0 ||
			    c.naddrs > NN_ROUTING_CONTACT_ADDRS)
				abort();
			nn_routing_contact_sanitize_hint(&c);
			(void)nn_routing_contact_check_key(&c);
		}
	}
	return 0;
}
