/* pcp.h — the Port Control Protocol's MAP request and answer (RFC 6887 §7, §11), pure codec.
 *
 * The port-mapping code of the node (node/portmap.c) speaks PCP first, before NAT-PMP and
 * UPnP-IGD: one 60-byte request to the default gateway's UDP port 5351, one answer. This file
 * only builds the request and reads the answer; sockets, timers and the policy (when to map,
 * renew, back off: nat/portmap.h) live elsewhere.
 *
 * Rules. Protocol: a request is version 2, opcode MAP (1), with our address as the gateway
 * sees it (IPv4 as an IPv4-mapped IPv6 address) and a 96-bit nonce the answer must repeat;
 * a lifetime of 0 deletes the mapping the nonce names. Verifiable (checked by the decoder,
 * which never allocates and reads nothing past `len`): an answer is at least the 24-byte
 * header; it has the R bit; a version other than 2 is reported as NN_EBADVERSION (a NAT-PMP-only
 * gateway answers "unsupported version" in its own version-0 format, RFC 6887 §9); a
 * successful MAP answer carries the 36-byte MAP body and an IPv4-mapped external address.
 * Local policy (the caller's): matching the nonce, the protocol and the internal port.
 */
#ifndef NN_NAT_PCP_H
#define NN_NAT_PCP_H

#include <stddef.h>
#include <stdint.h>

#define NN_PCP_PORT 5351
#define NN_PCP_VERSION 2
#define NN_PCP_OP_MAP 1
#define NN_PCP_NONCE_LEN 12
#define NN_PCP_HEADER_LEN 24
#define NN_PCP_MAP_LEN (NN_PCP_HEADER_LEN + 36) /* a MAP request or answer */
#define NN_PCP_PROTO_UDP 17

/* result codes (RFC 6887 §7.4) */
enum nn_pcp_result {
	NN_PCP_SUCCESS = 0,
	NN_PCP_UNSUPP_VERSION = 1,
	NN_PCP_NOT_AUTHORIZED = 2,
	NN_PCP_MALFORMED_REQUEST = 3,
	NN_PCP_UNSUPP_OPCODE = 4,
	NN_PCP_UNSUPP_OPTION = 5,
	NN_PCP_MALFORMED_OPTION = 6,
	NN_PCP_NETWORK_FAILURE = 7,
	NN_PCP_NO_RESOURCES = 8,
	NN_PCP_UNSUPP_PROTOCOL = 9,
	NN_PCP_USER_EX_QUOTA = 10,
	NN_PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	NN_PCP_ADDRESS_MISMATCH = 12,
	NN_PCP_EXCESSIVE_REMOTE_PEERS = 13,
};

typedef struct nn_pcp_map {
	uint8_t nonce[NN_PCP_NONCE_LEN];
	uint8_t protocol;        /* IANA protocol number: NN_PCP_PROTO_UDP */
	uint16_t internal_port;
	uint16_t external_port;  /* request: suggested (0: any); answer: assigned */
	uint8_t external_ip[4];  /* request: suggested (0.0.0.0: any); answer: assigned (IPv4) */
} nn_pcp_map;

typedef struct nn_pcp_answer {
	uint8_t opcode;          /* without the R bit */
	uint8_t result;          /* enum nn_pcp_result */
	uint32_t lifetime_s;     /* granted (0 on a delete or an error) */
	uint32_t epoch_s;        /* the server's epoch: a jump back means it lost its mappings */
	nn_pcp_map map;          /* filled only for a successful MAP answer */
} nn_pcp_answer;

/* Build a MAP request for `m` from client_ip (our IPv4 address toward the gateway, network
 * order) asking for lifetime_s seconds (0 deletes). Returns NN_PCP_MAP_LEN or NN_ENOSPC. */
int nn_nat_pcp_map_encode(uint8_t *out, size_t cap, const uint8_t client_ip[4],
			  const nn_pcp_map *m, uint32_t lifetime_s);
/* Read an answer. 0 when it is a well-formed PCP answer (look at a->result), NN_EBADVERSION for
 * a server that speaks another version (NAT-PMP only), NN_ECORRUPT for anything malformed. */
int nn_nat_pcp_answer_decode(nn_pcp_answer *a, const uint8_t *p, size_t len);
/* A result code's RFC name ("UNKNOWN" for others). */
const char *nn_nat_pcp_result_name(uint8_t result);

#endif
