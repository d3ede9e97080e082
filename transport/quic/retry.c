/* retry.c — QUIC Retry once the handshake rate passes a threshold (local policy; the WireGuard
 * "cookie under load" idea). New handshakes draw from a token bucket (retry_rate/s, burst
 * retry_burst); while it has tokens, Initials are accepted at once. When it is empty, an Initial
 * without a token gets a stateless Retry carrying an address-bound token (AEAD under the
 * endpoint's random secret, valid retry_token_lifetime); only a client that really owns its
 * source address can come back with it, so a spoofed flood costs one small packet each and no
 * state. Tokens are checked with ngtcp2_crypto_verify_retry_token. A caller can force the Retry
 * (endpoint.c does when an Initial would displace a silent connection at a cap: only a proven
 * source address may do that). */
#include <sodium.h>
#include <string.h>

#include "transport/quic/internal.h"

static void send_retry(nn_quic_ep *ep, const ngtcp2_pkt_hd *hd, const struct sockaddr *src,
		       socklen_t srclen)
{
	ngtcp2_cid scid;
	scid.datalen = NN_QUIC_CIDLEN;
	randombytes_buf(scid.data, scid.datalen);
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
	ngtcp2_ssize tl = ngtcp2_crypto_generate_retry_token(
		token, ep->secret, sizeof ep->secret, hd->version, (const ngtcp2_sockaddr *)src,
		srclen, &scid, &hd->dcid, (ngtcp2_tstamp)nn_quic_now(ep));
	if (tl < 0)
		return;
	uint8_t buf[256];
	ngtcp2_ssize n = ngtcp2_crypto_write_retry(buf, sizeof buf, hd->version, &hd->scid, &scid,
						   &hd->dcid, token, (size_t)tl);
	if (n < 0)
		return;
	ep->st.retry_sent++;
	nn_quic_socket_send(ep, src, srclen, buf, (size_t)n, (size_t)n);
}

int nn_quic_retry_gate(nn_quic_ep *ep, const ngtcp2_pkt_hd *hd, const struct sockaddr *src,
		       socklen_t srclen, bool force, ngtcp2_cid *odcid, bool *validated)
{
	*validated = false;
	nn_time now = nn_quic_now(ep);
	if (hd->tokenlen && hd->token[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
		if (ngtcp2_crypto_verify_retry_token(
			    odcid, hd->token, hd->tokenlen, ep->secret, sizeof ep->secret,
			    hd->version, (const ngtcp2_sockaddr *)src, srclen, &hd->dcid,
			    (ngtcp2_duration)ep->cfg.retry_token_lifetime,
			    (ngtcp2_tstamp)now) != 0) {
			ep->st.retry_token_bad++;
			return 0;
		}
		ep->st.retry_token_ok++;
		*validated = true;
		return 1;
	}
	if (!force && !ep->cfg.retry_always && nn_tbucket_take(&ep->hs_bucket, 1, now))
		return 1;
	send_retry(ep, hd, src, srclen);
	return 0;
}
