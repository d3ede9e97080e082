/* fuzz_media.c — the media frame decoder for both carriers: never crash, reject reserved
 * channels and oversize payloads, and every accepted frame re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "transport/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[NN_MEDIA_MAX_MSG_PAYLOAD + 1];
	for (int k = 0; k < 2; k++) {
		enum nn_media_carrier c = k ? NN_MEDIA_MESSAGE : NN_MEDIA_DATAGRAM;
		uint8_t ch;
		const uint8_t *p;
		size_t pn;
		if (nn_media_frame_decode(data, size, c, &ch, &p, &pn) != 0)
			continue;
		if (nn_media_channel_reserved(ch) || pn > nn_media_max_payload(c) || pn + 1 != size ||
		    p != data + 1)
			abort();
		int n = nn_media_frame_encode(out, sizeof out, c, ch, p, pn);
		if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
			abort();
	}
	return 0;
}
