/* kaframe.c — KaProbe / KaEcho codecs (bytes in kaframe.h). */
#include "nat/kaframe.h"

#include <string.h>

#include "kad/nn_err.h"
#include "wire/wire.h"

static int frame(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *nonce, const uint8_t *tail,
		 size_t tlen)
{
	if (!nonce)
		return NN_EINVAL;
	size_t plen = NN_NAT_KA_NONCE_LEN + tlen;
	int hdr = nn_wire_header_put(buf, cap, type, plen);
	if (hdr < 0)
		return hdr;
	if ((size_t)hdr + plen > cap)
		return NN_ENOSPC;
	memcpy(buf + hdr, nonce, NN_NAT_KA_NONCE_LEN);
	if (tlen)
		memcpy(buf + hdr + NN_NAT_KA_NONCE_LEN, tail, tlen);
	return hdr + (int)plen;
}

int nn_nat_ka_probe_frame(uint8_t *buf, size_t cap, const uint8_t nonce[NN_NAT_KA_NONCE_LEN],
			  uint32_t delay_ms)
{
	if (delay_ms < 1 || delay_ms > NN_NAT_KA_PROBE_MAX_MS)
		return NN_EINVAL;
	uint8_t d[4] = {(uint8_t)(delay_ms >> 24), (uint8_t)(delay_ms >> 16), (uint8_t)(delay_ms >> 8),
			(uint8_t)delay_ms};
	return frame(buf, cap, NN_T_KA_PROBE, nonce, d, sizeof d);
}

int nn_nat_ka_echo_frame(uint8_t *buf, size_t cap, const uint8_t nonce[NN_NAT_KA_NONCE_LEN])
{
	return frame(buf, cap, NN_T_KA_ECHO, nonce, NULL, 0);
}

static int exact(const uint8_t *p, size_t len, size_t want)
{
	if (!p && len)
		return NN_EINVAL;
	return len < want ? NN_ETRUNC : len > want ? NN_ETRAILING : 0;
}

int nn_nat_ka_probe_decode(const uint8_t *p, size_t len, uint8_t nonce[NN_NAT_KA_NONCE_LEN],
			   uint32_t *delay_ms)
{
	if (!nonce || !delay_ms)
		return NN_EINVAL;
	int rc = exact(p, len, NN_NAT_KA_PROBE_LEN);
	if (rc)
		return rc;
	const uint8_t *d = p + NN_NAT_KA_NONCE_LEN;
	uint32_t v = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	if (v < 1 || v > NN_NAT_KA_PROBE_MAX_MS)
		return NN_ECORRUPT;
	memcpy(nonce, p, NN_NAT_KA_NONCE_LEN);
	*delay_ms = v;
	return 0;
}

int nn_nat_ka_echo_decode(const uint8_t *p, size_t len, uint8_t nonce[NN_NAT_KA_NONCE_LEN])
{
	if (!nonce)
		return NN_EINVAL;
	int rc = exact(p, len, NN_NAT_KA_NONCE_LEN);
	if (rc)
		return rc;
	memcpy(nonce, p, NN_NAT_KA_NONCE_LEN);
	return 0;
}
