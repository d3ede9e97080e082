/* pcp.c — PCP MAP request / answer codec (RFC 6887 §7.1, §7.2, §11.1). */
#include <string.h>

#include "kad/nn_err.h"
#include "nat/pcp.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* an IPv4 address as the IPv4-mapped IPv6 address ::ffff:a.b.c.d (RFC 6887 §5) */
static void put_v4mapped(uint8_t *p, const uint8_t ip[4])
{
	memset(p, 0, 10);
	p[10] = p[11] = 0xff;
	memcpy(p + 12, ip, 4);
}

int nn_nat_pcp_map_encode(uint8_t *out, size_t cap, const uint8_t client_ip[4],
			  const nn_pcp_map *m, uint32_t lifetime_s)
{
	if (!out || !client_ip || !m || cap < NN_PCP_MAP_LEN)
		return NN_ENOSPC;
	memset(out, 0, NN_PCP_MAP_LEN);
	out[0] = NN_PCP_VERSION;
	out[1] = NN_PCP_OP_MAP; /* R = 0: a request */
	put32(out + 4, lifetime_s);
	put_v4mapped(out + 8, client_ip);
	uint8_t *b = out + NN_PCP_HEADER_LEN;
	memcpy(b, m->nonce, NN_PCP_NONCE_LEN);
	b[12] = m->protocol;
	b[16] = (uint8_t)(m->internal_port >> 8), b[17] = (uint8_t)m->internal_port;
	b[18] = (uint8_t)(m->external_port >> 8), b[19] = (uint8_t)m->external_port;
	put_v4mapped(b + 20, m->external_ip);
	return NN_PCP_MAP_LEN;
}

int nn_nat_pcp_answer_decode(nn_pcp_answer *a, const uint8_t *p, size_t len)
{
	if (!a || !p)
		return NN_EINVAL;
	memset(a, 0, sizeof *a);
	if (len < 2)
		return NN_ECORRUPT;
	if (!(p[1] & 0x80))
		return NN_ECORRUPT; /* a request, not an answer */
	if (p[0] != NN_PCP_VERSION)
		return NN_EBADVERSION; /* NAT-PMP's version 0 "unsupported version", or a future PCP */
	if (len < NN_PCP_HEADER_LEN || len > 1100 || len % 4)
		return NN_ECORRUPT; /* RFC 6887 §7: at most 1100 octets, a multiple of 4 */
	a->opcode = p[1] & 0x7f;
	a->result = p[3];
	a->lifetime_s = get32(p + 4);
	a->epoch_s = get32(p + 8);
	if (a->result != NN_PCP_SUCCESS || a->opcode != NN_PCP_OP_MAP)
		return 0; /* an error answer: the header is all there is to read */
	if (len < NN_PCP_MAP_LEN)
		return NN_ECORRUPT;
	const uint8_t *b = p + NN_PCP_HEADER_LEN;
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(b + 20, v4mapped, sizeof v4mapped))
		return NN_ECORRUPT; /* we only ask for IPv4 mappings */
	memcpy(a->map.nonce, b, NN_PCP_NONCE_LEN);
	a->map.protocol = b[12];
	a->map.internal_port = (uint16_t)(b[16] << 8 | b[17]);
	a->map.external_port = (uint16_t)(b[18] << 8 | b[19]);
	memcpy(a->map.external_ip, b + 32, 4);
	return 0;
}

const char *nn_nat_pcp_result_name(uint8_t result)
{
	static const char *const names[] = {
		"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST",
		"UNSUPP_OPCODE", "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE",
		"NO_RESOURCES", "UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL",
		"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS"};
	return result < sizeof names / sizeof names[0] ? names[result] : "UNKNOWN";
}
