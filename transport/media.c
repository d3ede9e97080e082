/* media.c — media frame codec (channel byte + payload). */
#include <string.h>

#include "transport/media.h"

int nn_media_frame_encode(uint8_t *buf, size_t cap, enum nn_media_carrier k, uint8_t ch,
			  const uint8_t *payload, size_t plen)
{
	if (nn_media_channel_reserved(ch) || (!payload && plen))
		return NN_EINVAL;
	if (plen > nn_media_max_payload(k))
		return NN_ETOOBIG;
	if (cap < 1 || cap - 1 < plen)
		return NN_ENOSPC;
	buf[0] = ch;
	if (plen)
		memmove(buf + 1, payload, plen);
	return (int)(plen + 1);
}

int nn_media_frame_decode(const uint8_t *buf, size_t len, enum nn_media_carrier k, uint8_t *ch,
			  const uint8_t **payload, size_t *plen)
{
	if (len == 0)
		return NN_ETRUNC;
	if (nn_media_channel_reserved(buf[0]))
		return NN_ECORRUPT;
	if (len - 1 > nn_media_max_payload(k))
		return NN_ETOOBIG;
	*ch = buf[0];
	*payload = buf + 1;
	*plen = len - 1;
	return 0;
}
