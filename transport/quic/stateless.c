/* stateless.c — the two replies an endpoint sends without any connection state: Version
 * Negotiation (a long-header packet of another QUIC version, at least 1,200 bytes, so it cannot
 * amplify) and Stateless Reset (a short-header packet for a connection we no longer have: the
 * peer learns at once instead of at its idle timeout; the token is keyed by the endpoint secret
 * and the DCID, exactly as announced for every CID we issued). Both are rate-limited by one
 * token bucket (local policy: 200/s, burst 200) and a reset is always shorter than the packet
 * that triggered it, so two endpoints cannot loop. */
#include <sodium.h>
#include <string.h>

#include "transport/quic/internal.h"

static bool allowed(nn_quic_ep *ep)
{
	if (nn_tbucket_take(&ep->stateless_bucket, 1, nn_quic_now(ep)))
		return true;
	ep->st.stateless_limited++;
	return false;
}

void nn_quic_send_version_negotiation(nn_quic_ep *ep, const ngtcp2_version_cid *vc, size_t n,
				      const struct sockaddr *src, socklen_t srclen)
{
	if (n < NGTCP2_MAX_UDP_PAYLOAD_SIZE || !allowed(ep))
		return;
	uint8_t buf[256];
	uint8_t r;
	randombytes_buf(&r, 1);
	const uint32_t sv[] = {NGTCP2_PROTO_VER_V1};
	ngtcp2_ssize w = ngtcp2_pkt_write_version_negotiation(buf, sizeof buf, r, vc->scid,
							      vc->scidlen, vc->dcid, vc->dcidlen,
							      sv, 1);
	if (w > 0 && nn_quic_socket_send(ep, src, srclen, buf, (size_t)w, (size_t)w) == 0)
		ep->st.tx_version_neg++;
}

void nn_quic_send_stateless_reset(nn_quic_ep *ep, const uint8_t *dcid, size_t dcidlen, size_t n,
				  const struct sockaddr *src, socklen_t srclen)
{
	/* smallest reset: 1 + 5 random + 16 token = 22 bytes; stay shorter than the trigger */
	const size_t min = 1 + NGTCP2_MIN_STATELESS_RESET_RANDLEN + NGTCP2_STATELESS_RESET_TOKENLEN;
	if (n <= min + 1 || dcidlen != NN_QUIC_CIDLEN || !allowed(ep))
		return;
	size_t len = n - 1 < 64 ? n - 1 : 64;
	ngtcp2_cid cid;
	ngtcp2_cid_init(&cid, dcid, dcidlen);
	uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN], rnd[64], buf[64];
	if (ngtcp2_crypto_generate_stateless_reset_token(token, ep->secret, sizeof ep->secret,
							  &cid) != 0)
		return;
	size_t randlen = len - 1 - NGTCP2_STATELESS_RESET_TOKENLEN;
	randombytes_buf(rnd, randlen);
	ngtcp2_ssize w = ngtcp2_pkt_write_stateless_reset(buf, sizeof buf, token, rnd, randlen);
	if (w > 0 && nn_quic_socket_send(ep, src, srclen, buf, (size_t)w, (size_t)w) == 0)
		ep->st.tx_stateless_reset++;
}
