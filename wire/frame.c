/* frame.c — the v1 frame envelope and the type registry. */
#include <string.h>

#include "wire/wire.h"

const char *nn_wire_type_name(uint8_t type)
{
	switch (type) {
	case NN_T_ROUTE: return "route";
	case NN_T_PING: return "ping";
	case NN_T_PONG: return "pong";
	case NN_T_LOOKUP: return "lookup";
	case NN_T_NEIGHBORS: return "neighbors";
	case NN_T_SIBLINGS: return "siblings";
	case NN_T_LEAVE: return "leave";
	case NN_T_HELLO: return "hello";
	case NN_T_REPLY: return "reply";
	case NN_T_CONNECT: return "connect";
	case NN_T_CONNECT_ACK: return "connect-ack";
	case NN_T_RELAY_REQUEST: return "relay-request";
	case NN_T_RELAY_GRANT: return "relay-grant";
	case NN_T_RELAY_BIND: return "relay-bind";
	case NN_T_KA_ECHO: return "ka-echo";
	case NN_T_KA_PROBE: return "ka-probe";
	case NN_T_RELAY_REFUSE: return "relay-refuse";
	case NN_T_REFERRAL: return "referral";
	case NN_T_APP: return "app";
	default: return NULL;
	}
}

int nn_wire_frame_decode(const uint8_t *buf, size_t len, nn_frame *out, size_t *consumed)
{
	if (!buf || !out)
		return NN_EINVAL;
	if (len < 3)
		return NN_ETRUNC;
	if (buf[0] != NN_WIRE_VERSION)
		return NN_EBADVERSION;
	uint64_t plen;
	int n = nn_uvarint_get(buf + 2, len - 2, &plen);
	if (n < 0)
		return n;
	size_t hdr = 2 + (size_t)n;
	if (plen > NN_WIRE_MAX_FRAME - hdr)
		return NN_ETOOBIG;
	if (plen > len - hdr)
		return NN_ETRUNC;
	out->type = buf[1];
	out->payload = buf + hdr;
	out->len = (size_t)plen;
	if (consumed)
		*consumed = hdr + (size_t)plen;
	return 0;
}

int nn_wire_frame_decode_exact(const uint8_t *buf, size_t len, nn_frame *out)
{
	size_t used = 0;
	int rc = nn_wire_frame_decode(buf, len, out, &used);
	if (rc == 0 && used != len)
		return NN_ETRAILING;
	return rc;
}

int nn_wire_header_put(uint8_t *buf, size_t cap, uint8_t type, size_t plen)
{
	size_t hdr = nn_wire_header_len(plen);
	if (plen > NN_WIRE_MAX_FRAME || hdr + plen > NN_WIRE_MAX_FRAME)
		return NN_ETOOBIG;
	if (!buf || cap < hdr)
		return NN_ENOSPC;
	buf[0] = NN_WIRE_VERSION;
	buf[1] = type;
	(void)nn_uvarint_put(buf + 2, cap - 2, plen);
	return (int)hdr;
}

int nn_wire_frame_encode(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *payload,
			 size_t plen)
{
	int hdr = nn_wire_header_put(buf, cap, type, plen);
	if (hdr < 0)
		return hdr;
	if (cap - (size_t)hdr < plen)
		return NN_ENOSPC;
	if (plen)
		memmove(buf + hdr, payload, plen);
	return hdr + (int)plen;
}
