/* fuzz_hexid.c — the hex NodeID parser: never crashes, and on success formats back to the
 * input (case-folded) and re-parses to the same ID. */
#include <stdlib.h>
#include <string.h>

#include "kad/kad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nn_id id, again;
	if (nn_kad_id_from_hex(&id, (const char *)data, size) != 0)
		return 0;
	char out[NN_ID_HEX_LEN + 1];
	nn_kad_id_to_hex(out, &id);
	for (size_t i = 0; i < NN_ID_HEX_LEN; i++) {
		char c = (char)data[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c + 32);
		if (c != out[i])
			abort();
	}
	if (nn_kad_id_from_hex(&again, out, NN_ID_HEX_LEN) != 0 || !nn_kad_id_eq(&id, &again))
		abort();
	return 0;
}
