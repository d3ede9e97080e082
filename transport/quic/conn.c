/* conn.c — one QUIC connection: ngtcp2 client/server setup, callbacks, the read and write
 * paths, timers, and the close/report lifecycle.
 *
 * Lifecycle: HANDSHAKE → OPEN (handshake confirmed, certificate bound, ALPN checked: on_conn)
 * → CLOSING (an error or close(): CONNECTION_CLOSE goes out at the next flush) → DEAD (reported
 * through on_closed / on_dial_failed at the next flush, then freed). Nothing is freed while
 * ngtcp2 is on the stack: callbacks only record state and mark the connection dirty; the
 * endpoint's flush (outside any ngtcp2 call) writes, reports and frees. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"

#define WIN_STREAM (256u * 1024)
#define WIN_CONN (1024u * 1024)

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	nn_quic_conn *c = ref->user_data;
	return c->qc;
}

/* ---- callbacks ---- */

static void rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	randombytes_buf(dest, len);
}

static int new_cid_cb(ngtcp2_conn *qc, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
		      void *user)
{
	nn_quic_conn *c = user;
	randombytes_buf(cid->data, cidlen);
	cid->datalen = cidlen;
	if (ngtcp2_crypto_generate_stateless_reset_token(token, c->ep->secret,
							  sizeof c->ep->secret, cid) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	if (nn_quic_cidmap_put(&c->ep->cids, cid->data, cid->datalen, c) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int remove_cid_cb(ngtcp2_conn *qc, const ngtcp2_cid *cid, void *user)
{
	nn_quic_conn *c = user;
	nn_quic_cidmap_del(&c->ep->cids, cid->data, cid->datalen);
	return 0;
}

static void report_open(nn_quic_conn *c)
{
	nn_quic_ep *ep = c->ep;
	c->state = NN_QS_OPEN;
	c->reported = true;
	ep->st.handshakes_ok++;
	if (c->m) {
		/* a media session: no edge stream, no first-frame bound (its own idle reaper) */
		c->first_frame_seen = true;
		if (c->base.outbound)
			ep->base.stats.conns_out++;
		else
			ep->base.stats.conns_in++;
		nn_quic_media_opened(c);
	} else if (c->base.outbound) {
		ep->base.stats.conns_out++;
		int64_t sid;
		if (ngtcp2_conn_open_bidi_stream(c->qc, &sid, NULL) == 0) {
			c->sid = sid;
			c->announce = true;
		}
	} else {
		ep->base.stats.conns_in++;
		if (ep->cfg.first_frame_timeout > 0)
			nn_timer_start_in(ep->base.clock, &c->guard, ep->cfg.first_frame_timeout);
	}
	if (ep->base.sink.on_conn)
		ep->base.sink.on_conn(ep->base.sink.ctx, &c->base);
}

/* The handshake is done and checked (certificate bound in the verify callback, ALPN, media's
 * DATAGRAM support): report the connection. false when the checks closed it. */
static bool open_checked(nn_quic_conn *c)
{
	if (nn_quic_tls_check(c) != 0) {
		ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_POLICY, NULL, 0);
		nn_quic_conn_fail(c, NN_ETLS, NN_TP_REASON_POLICY, true);
		c->ep->st.handshake_failed++;
		return false;
	}
	if (c->base.kind == NN_CONN_MEDIA) {
		/* protocol: DATAGRAM is required on both sides, else application close code 1 */
		const ngtcp2_transport_params *rp = ngtcp2_conn_get_remote_transport_params(c->qc);
		if (!rp || rp->max_datagram_frame_size == 0 || nn_quic_media_attach(c) != 0) {
			c->ep->st.media_unsupported++;
			ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_UNSUPPORTED,
							   NULL, 0);
			nn_quic_conn_fail(c, NN_EUNSUPPORTED, NN_TP_REASON_UNSUPPORTED, true);
			return false;
		}
	}
	nn_quic_mark_dirty(c);
	report_open(c);
	return true;
}

/* Server: handshake complete (it has the client's Finished, so it is confirmed too). Client:
 * HANDSHAKE_DONE, the server's word that it accepted our certificate. Either way TLS is done:
 * it is freed at the next write, outside ngtcp2 (nn_quic_tls_release). */
static int confirmed_cb(ngtcp2_conn *qc, void *user)
{
	nn_quic_conn *c = user;
	(void)qc;
	if (c->state == NN_QS_OPEN && c->ssl) {
		c->tls_release = true; /* a client that reported at completion */
		nn_quic_mark_dirty(c);
		return 0;
	}
	if (c->state != NN_QS_HANDSHAKE || !open_checked(c))
		return 0;
	c->tls_release = true;
	return 0;
}

/* Client, handshake complete: the server proved its identity (certificate, CertificateVerify,
 * Finished) and our Finished is queued. An overlay connection reports open now, so its first
 * frames ride with our Finished instead of waiting a round trip for HANDSHAKE_DONE: the
 * server's only remaining check is our certificate, which we made to the same rules it applies.
 * Not so under a test mode that breaks our own certificate (or sends none), and not for media
 * sessions (their path migration needs the confirmed handshake): those report at
 * HANDSHAKE_DONE. If the server still refuses us, the connection closes like any other. */
static int client_completed_cb(ngtcp2_conn *qc, void *user)
{
	nn_quic_conn *c = user;
	(void)qc;
	if (c->state != NN_QS_HANDSHAKE || c->base.kind != NN_CONN_OVERLAY ||
	    c->ep->cfg.no_client_cert || c->ep->cfg.cert_mode != NN_QUIC_TLSID_NORMAL)
		return 0;
	(void)open_checked(c);
	return 0;
}

/* CRYPTO data: TLS while it runs; after the TLS object was released, nothing TLS 1.3 may send
 * over QUIC needs an answer (no tickets are issued or wanted, KeyUpdate and post-handshake
 * authentication do not exist in QUIC): ngtcp2 has acknowledged it, we count and drop it. */
static int recv_crypto_cb(ngtcp2_conn *qc, ngtcp2_encryption_level level, uint64_t off,
			  const uint8_t *data, size_t len, void *user)
{
	nn_quic_conn *c = user;
	if (!c->ssl) {
		c->ep->st.tls_post_hs_dropped++;
		return 0;
	}
	return ngtcp2_crypto_recv_crypto_data_cb(qc, level, off, data, len, user);
}

static int stream_open_cb(ngtcp2_conn *qc, int64_t sid, void *user)
{
	nn_quic_conn *c = user;
	bool bidi = (sid & 0x2) == 0;
	if (c->m && !bidi && c->state == NN_QS_OPEN) {
		nn_quic_media_stream_open(c, sid); /* one message */
		return 0;
	}
	if (!c->m && !c->base.outbound && c->sid < 0 && bidi && c->state == NN_QS_OPEN) {
		c->sid = sid; /* the dialler's edge stream */
		nn_quic_mark_dirty(c); /* frames queued before it opened can go now */
		return 0;
	}
	c->ep->st.streams_reset++;
	ngtcp2_conn_shutdown_stream(qc, 0, sid, 0);
	return 0;
}

static int recv_stream_cb(ngtcp2_conn *qc, uint32_t flags, int64_t sid, uint64_t off,
			  const uint8_t *data, size_t len, void *user, void *suser)
{
	nn_quic_conn *c = user;
	ngtcp2_conn_extend_max_offset(qc, len);
	if (c->m) {
		/* a message stream: its reader is bounded (65,537 bytes), so credit flows back */
		ngtcp2_conn_extend_max_stream_offset(qc, sid, len);
		nn_quic_media_stream_data(c, sid, suser, off, data, len,
					  flags & NGTCP2_STREAM_DATA_FLAG_FIN);
		return 0;
	}
	if (sid != c->sid || c->state != NN_QS_OPEN || c->lingering) {
		ngtcp2_conn_extend_max_stream_offset(qc, sid, len);
		return 0;
	}
	nn_quic_stream_recv(c, data, len, flags & NGTCP2_STREAM_DATA_FLAG_FIN);
	if (c->state == NN_QS_OPEN)
		ngtcp2_conn_extend_max_stream_offset(qc, sid, len);
	return 0;
}

static int acked_cb(ngtcp2_conn *qc, int64_t sid, uint64_t off, uint64_t len, void *user,
		    void *suser)
{
	nn_quic_conn *c = user;
	if (sid == c->sid)
		nn_quic_sendq_acked(c, off, len);
	return 0;
}

static int stream_close_cb(ngtcp2_conn *qc, uint32_t flags, int64_t sid, uint64_t code,
			   void *user, void *suser)
{
	nn_quic_conn *c = user;
	bool remote = ((sid & 1) != 0) == c->base.outbound; /* bit 0: 1 = server-initiated */
	if (remote && (sid & 0x2) == 0 && sid != c->sid)
		ngtcp2_conn_extend_max_streams_bidi(qc, 1); /* a reset extra stream gives its credit back */
	if (remote && (sid & 0x2) != 0)
		ngtcp2_conn_extend_max_streams_uni(qc, 1); /* a finished message's credit comes back */
	if (c->m) {
		nn_quic_media_stream_close(c, sid, suser,
					   flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET);
		return 0;
	}
	if (sid == c->sid && c->state == NN_QS_OPEN) {
		c->sid = -1;
		nn_quic_conn_fail(c, NN_ECLOSED, code, true);
		ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_NORMAL, NULL, 0);
	}
	return 0;
}

static int stream_reset_cb(ngtcp2_conn *qc, int64_t sid, uint64_t final, uint64_t code,
			   void *user, void *suser)
{
	nn_quic_conn *c = user;
	if (c->m)
		return 0; /* a message reset by its sender: stream_close drops and counts it */
	if (sid == c->sid && c->state == NN_QS_OPEN) {
		nn_quic_conn_fail(c, NN_ECLOSED, code, true);
		ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_NORMAL, NULL, 0);
	}
	return 0;
}

static int recv_datagram_cb(ngtcp2_conn *qc, uint32_t flags, const uint8_t *data, size_t len,
			    void *user)
{
	nn_quic_media_recv_datagram(user, data, len);
	return 0;
}

static int extend_stream_cb(ngtcp2_conn *qc, int64_t sid, uint64_t max, void *user,
			    void *suser)
{
	nn_quic_conn *c = user;
	if (sid == c->sid)
		nn_quic_mark_dirty(c);
	return 0;
}

void nn_quic_callbacks_init(nn_quic_ep *ep)
{
	ngtcp2_callbacks cb = {
		.recv_crypto_data = recv_crypto_cb,
		.encrypt = ngtcp2_crypto_encrypt_cb,
		.decrypt = ngtcp2_crypto_decrypt_cb,
		.hp_mask = ngtcp2_crypto_hp_mask_cb,
		.update_key = ngtcp2_crypto_update_key_cb,
		.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
		.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
		.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
		.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
		.rand = rand_cb,
		.get_new_connection_id = new_cid_cb,
		.remove_connection_id = remove_cid_cb,
		.handshake_confirmed = confirmed_cb,
		.stream_open = stream_open_cb,
		.recv_stream_data = recv_stream_cb,
		.acked_stream_data_offset = acked_cb,
		.stream_close = stream_close_cb,
		.stream_reset = stream_reset_cb,
		.extend_max_stream_data = extend_stream_cb,
		.recv_datagram = recv_datagram_cb,
	};
	ep->ccb = cb;
	ep->ccb.handshake_completed = client_completed_cb;
	ep->ccb.client_initial = ngtcp2_crypto_client_initial_cb;
	ep->ccb.recv_retry = ngtcp2_crypto_recv_retry_cb;
	ep->scb = cb;
	ep->scb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
	/* the server has verified the client's certificate once its handshake completes */
	ep->scb.handshake_completed = confirmed_cb;
}

/* ---- timers ---- */

static void guard_cb(nn_timer *t, void *arg)
{
	nn_quic_conn *c = arg;
	nn_quic_ep *ep = c->ep;
	if (c->state != NN_QS_OPEN)
		return;
	if (c->lingering) {
		/* the frames of a close were not all acknowledged in time: close anyway */
		nn_quic_conn_fail(c, 0, c->linger_reason, true);
	} else if (!c->base.outbound && !c->first_frame_seen) {
		ep->st.first_frame_timeout++;
		ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_POLICY, NULL, 0);
		nn_quic_conn_fail(c, NN_ETIMEDOUT, NN_TP_REASON_POLICY, true);
	} else if (c->q.eagain) {
		ep->st.send_stalled++;
		ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_STALLED, NULL, 0);
		nn_quic_conn_fail(c, NN_ETIMEDOUT, NN_TP_REASON_STALLED, true);
	}
	nn_quic_flush(ep);
}

static void qtimer_cb(nn_timer *t, void *arg)
{
	nn_quic_conn *c = arg;
	nn_quic_ep *ep = c->ep;
	if (c->state >= NN_QS_CLOSING)
		return;
	int rv = ngtcp2_conn_handle_expiry(c->qc, (ngtcp2_tstamp)nn_quic_now(ep));
	if (rv == NGTCP2_ERR_IDLE_CLOSE) {
		ep->st.idle_timeout++;
		nn_quic_conn_fail(c, NN_ETIMEDOUT, 0, false);
	} else if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
		ep->st.handshake_timeout++;
		nn_quic_conn_fail(c, NN_ETIMEDOUT, 0, false);
	} else if (rv != 0) {
		ep->st.conn_errors++;
		ngtcp2_ccerr_set_liberr(&c->ccerr, rv, NULL, 0);
		nn_quic_conn_fail(c, NN_EIO, 0, true);
	} else {
		nn_quic_mark_dirty(c);
	}
	nn_quic_flush(ep);
}

void nn_quic_conn_arm(nn_quic_conn *c)
{
	if (c->state >= NN_QS_CLOSING)
		return;
	ngtcp2_tstamp exp = ngtcp2_conn_get_expiry(c->qc);
	if (exp == UINT64_MAX)
		nn_timer_stop(c->ep->base.clock, &c->qtimer);
	else
		nn_timer_start(c->ep->base.clock, &c->qtimer, (nn_time)exp);
}

/* ---- creation ---- */

static nn_quic_conn *conn_alloc(nn_quic_ep *ep, const struct sockaddr *remote, socklen_t rlen,
				nn_quic_xsock *xs)
{
	nn_quic_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->ep = ep;
	c->base.tp = &ep->base;
	c->base.kind = NN_CONN_OVERLAY;
	c->base.serial = ++ep->serial;
	c->sid = -1;
	c->ref.get_conn = get_conn;
	c->ref.user_data = c;
	memcpy(&c->remote, remote, rlen);
	c->remote_len = rlen;
	c->born = nn_quic_now(ep);
	nn_quic_ip_key(remote, c->ipkey);
	c->xs = xs; /* the path's local half is the socket the datagrams use */
	ngtcp2_path_storage_init(&c->ps,
				 (const ngtcp2_sockaddr *)(xs ? &xs->local : &ep->local),
				 xs ? xs->local_len : ep->local_len,
				 (const ngtcp2_sockaddr *)remote, rlen, NULL);
	nn_timer_init(&c->qtimer, qtimer_cb, c);
	nn_timer_init(&c->guard, guard_cb, c);
	nn_quic_sendq_init(&c->q);
	nn_quic_framer_init(&c->framer, NULL);
	ngtcp2_ccerr_default(&c->ccerr);
	/* link */
	c->next = ep->conns;
	if (ep->conns)
		ep->conns->prev = c;
	ep->conns = c;
	return c;
}

static void settings_init(nn_quic_ep *ep, ngtcp2_settings *s)
{
	ngtcp2_settings_default(s);
	s->initial_ts = (ngtcp2_tstamp)nn_quic_now(ep);
	s->handshake_timeout = (ngtcp2_duration)ep->cfg.handshake_timeout;
	s->max_window = 8u * WIN_CONN;
	s->max_stream_window = 6u * WIN_CONN;
	/* acknowledge every ack-eliciting packet at the next write (ngtcp2's default waits for a
	 * second one, or srtt / 8): an answer written at once (a Pong) then carries the ACK of
	 * what it answers instead of an ACK-only packet following it ~1 ms later (issue 16: an
	 * idle edge's keepalive cost the answering end two datagrams and a timer wake-up instead
	 * of one). Bulk traffic is unchanged: a receive batch gets one ACK at the flush either way. */
	s->ack_thresh = 1;
	s->rand_ctx.native_handle = NULL;
}

static void params_init(nn_quic_ep *ep, ngtcp2_transport_params *p, bool client, bool media)
{
	ngtcp2_transport_params_default(p);
	p->initial_max_stream_data_bidi_local = WIN_STREAM;
	p->initial_max_stream_data_bidi_remote = WIN_STREAM;
	p->initial_max_data = WIN_CONN;
	/* the dialler lets the peer open no streams; the acceptor takes the edge stream and has
	 * room for one more, which it resets (credit comes back as streams close) */
	p->initial_max_streams_bidi = client ? 0 : 2;
	p->initial_max_streams_uni = 0;
	p->max_idle_timeout = (ngtcp2_duration)ep->cfg.idle_timeout;
	p->max_udp_payload_size = NN_QUIC_RX_BUFSZ;
	p->active_connection_id_limit = 4;
	/* media (facts §7.6): the listener serves both ALPNs, so it always advertises what a media
	 * session needs (an overlay edge resets any uni stream and drops any datagram); a media
	 * dialler lets the peer open 256 uni streams and no bidi ones, idle 10 s */
	bool serve = !client && !ep->cfg.no_media;
	if (media || serve) {
		if (!ep->cfg.media_no_datagram)
			p->max_datagram_frame_size = NN_QUIC_MEDIA_DGRAM_PARAM;
		p->initial_max_streams_uni = NN_QUIC_MEDIA_UNI_STREAMS;
		p->initial_max_stream_data_uni = NN_QUIC_MEDIA_STREAM_WIN;
	}
	if (media) {
		p->initial_max_streams_bidi = 0;
		p->max_idle_timeout = (ngtcp2_duration)ep->cfg.media_idle_timeout;
	}
}

static int map_scids(nn_quic_conn *c)
{
	ngtcp2_cid ids[8];
	size_t n = ngtcp2_conn_get_scid(c->qc, NULL);
	if (n > 8)
		n = 8;
	ngtcp2_conn_get_scid(c->qc, ids);
	for (size_t i = 0; i < n; i++)
		if (nn_quic_cidmap_put(&c->ep->cids, ids[i].data, ids[i].datalen, c) != 0)
			return NN_ENOMEM;
	return 0;
}

nn_quic_conn *nn_quic_conn_client(nn_quic_ep *ep, const nn_id *want,
				  const struct sockaddr *to, socklen_t tolen, const nn_addr *addr,
				  nn_quic_xsock *xs, void *user, uint8_t kind, int *err)
{
	nn_quic_conn *c = conn_alloc(ep, to, tolen, xs);
	if (!c) {
		*err = NN_ENOMEM;
		return NULL;
	}
	bool media = kind == NN_CONN_MEDIA;
	if (media && nn_quic_media_attach(c) != 0) {
		*err = NN_ENOMEM;
		nn_quic_conn_free(c);
		return NULL;
	}
	c->base.outbound = true;
	c->base.user = user;
	c->base.remote_addr = *addr;
	c->base.remote_id = *want;
	c->want = *want;
	ngtcp2_cid dcid, scid;
	dcid.datalen = scid.datalen = NN_QUIC_CIDLEN;
	randombytes_buf(dcid.data, dcid.datalen);
	randombytes_buf(scid.data, scid.datalen);
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	settings_init(ep, &s);
	params_init(ep, &p, true, media);
	*err = NN_ENOMEM;
	if (ngtcp2_conn_client_new(&c->qc, &dcid, &scid, &c->ps.path, NGTCP2_PROTO_VER_V1,
				   &ep->ccb, &s, &p, NULL, c) != 0)
		goto fail;
	c->ssl = nn_quic_tls_new(ep, c, true);
	if (!c->ssl) {
		*err = NN_ECRYPTO;
		goto fail;
	}
	ngtcp2_conn_set_tls_native_handle(c->qc, c->ssl);
	if (media && ep->cfg.media_keepalive > 0)
		ngtcp2_conn_set_keep_alive_timeout(c->qc, (ngtcp2_duration)ep->cfg.media_keepalive);
	if (map_scids(c) != 0)
		goto fail;
	*err = 0;
	return c;
fail:
	nn_quic_conn_free(c);
	return NULL;
}

nn_quic_conn *nn_quic_conn_server(nn_quic_ep *ep, const ngtcp2_pkt_hd *hd,
				  const ngtcp2_cid *odcid, const struct sockaddr *src,
				  socklen_t srclen, int *err)
{
	nn_quic_conn *c = conn_alloc(ep, src, srclen, NULL);
	if (!c) {
		*err = NN_ENOMEM;
		return NULL;
	}
	nn_addr_from_sockaddr(&c->base.remote_addr, src, srclen);
	ngtcp2_cid scid;
	scid.datalen = NN_QUIC_CIDLEN;
	randombytes_buf(scid.data, scid.datalen);
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	settings_init(ep, &s);
	params_init(ep, &p, false, false);
	p.original_dcid_present = 1;
	if (odcid) { /* came back with a valid Retry token */
		p.original_dcid = *odcid;
		p.retry_scid = hd->dcid;
		p.retry_scid_present = 1;
		s.token = hd->token;
		s.tokenlen = hd->tokenlen;
		s.token_type = NGTCP2_TOKEN_TYPE_RETRY;
	} else {
		p.original_dcid = hd->dcid;
	}
	p.stateless_reset_token_present = 1;
	*err = NN_ECRYPTO;
	if (ngtcp2_crypto_generate_stateless_reset_token(p.stateless_reset_token, ep->secret,
							  sizeof ep->secret, &scid) != 0)
		goto fail;
	*err = NN_ENOMEM;
	if (ngtcp2_conn_server_new(&c->qc, &hd->scid, &scid, &c->ps.path, hd->version, &ep->scb,
				   &s, &p, NULL, c) != 0)
		goto fail;
	c->ssl = nn_quic_tls_new(ep, c, false);
	if (!c->ssl) {
		*err = NN_ECRYPTO;
		goto fail;
	}
	ngtcp2_conn_set_tls_native_handle(c->qc, c->ssl);
	c->odcid = hd->dcid;
	c->has_odcid = true;
	if (nn_quic_cidmap_put(&ep->cids, hd->dcid.data, hd->dcid.datalen, c) != 0 ||
	    map_scids(c) != 0)
		goto fail;
	*err = 0;
	return c;
fail:
	nn_quic_conn_free(c);
	return NULL;
}

/* ---- read ---- */

static void peer_closed(nn_quic_conn *c)
{
	nn_quic_ep *ep = c->ep;
	const ngtcp2_ccerr *e = ngtcp2_conn_get_ccerr(c->qc);
	if (c->state == NN_QS_HANDSHAKE) {
		ep->st.handshake_failed++;
		if (c->base.kind == NN_CONN_MEDIA && c->base.outbound &&
		    ((e->type == NGTCP2_CCERR_TYPE_TRANSPORT &&
		      e->error_code == (NGTCP2_CRYPTO_ERROR | 120)) ||
		     (e->type == NGTCP2_CCERR_TYPE_APPLICATION &&
		      e->error_code == NN_TP_REASON_UNSUPPORTED))) {
			/* no_application_protocol (the peer serves no media), or its refusal
			 * for missing DATAGRAM support: protocol facts §7.2, §7.6 */
			ep->st.media_unsupported++;
			nn_quic_conn_fail(c, NN_EUNSUPPORTED, NN_TP_REASON_UNSUPPORTED, false);
			return;
		}
		if (e->type == NGTCP2_CCERR_TYPE_TRANSPORT &&
		    (e->error_code & 0xff00) == NGTCP2_CRYPTO_ERROR) {
			ep->st.tls_alerts_rx++;
			nn_quic_conn_fail(c, NN_ETLS, e->error_code, false);
		} else {
			nn_quic_conn_fail(c, NN_EREFUSED, e->error_code, false);
		}
		return;
	}
	ep->st.closed_by_peer++;
	nn_quic_conn_fail(c, NN_ECLOSED,
			  e->type == NGTCP2_CCERR_TYPE_APPLICATION ? e->error_code : 0, false);
}

void nn_quic_conn_read(nn_quic_conn *c, const uint8_t *d, size_t n, const struct sockaddr *src,
		       socklen_t srclen)
{
	nn_quic_ep *ep = c->ep;
	if (c->state >= NN_QS_CLOSING)
		return;
	ngtcp2_path path = {
		.local = {.addr = (ngtcp2_sockaddr *)(c->alias_len ? &c->alias
						       : c->xs ? &c->xs->local : &ep->local),
			  .addrlen = c->alias_len ? c->alias_len
				     : c->xs ? c->xs->local_len : ep->local_len},
		.remote = {.addr = (ngtcp2_sockaddr *)src, .addrlen = srclen},
	};
	ngtcp2_pkt_info pi = {0};
	c->in_read = true;
	int rv = ngtcp2_conn_read_pkt(c->qc, &path, &pi, d, n, (ngtcp2_tstamp)nn_quic_now(ep));
	c->in_read = false;
	if (c->m)
		c->m->last_rx = nn_quic_now(ep);
	if (rv == 0) {
		ngtcp2_conn_info ci;
		ngtcp2_conn_get_conn_info(c->qc, &ci);
		c->base.rtt = (nn_time)ci.smoothed_rtt; /* ns, as nn_time */
		nn_quic_mark_dirty(c);
		return;
	}
	if (c->state >= NN_QS_CLOSING)
		return; /* a callback already decided */
	switch (rv) {
	case NGTCP2_ERR_DRAINING:
		peer_closed(c);
		break;
	case NGTCP2_ERR_DROP_CONN:
		ep->st.rx_dropped_conn++;
		nn_quic_conn_fail(c, NN_EIO, 0, false);
		break;
	case NGTCP2_ERR_CRYPTO: {
		ep->st.handshake_failed++;
		int err = NN_ETLS;
		if (c->idmismatch) {
			ep->st.id_mismatch++;
			ep->base.stats.dial_idmismatch++;
			err = NN_EIDMISMATCH;
		} else if (c->verdict != NN_QUIC_CERT_OK) {
			ep->st.cert_refused[c->verdict]++;
		} else {
			int e = c->ssl ? wolfSSL_get_error(c->ssl, -1) : 0;
			if (e == NO_PEER_CERT)
				ep->st.no_peer_cert++;
			else if (e == UNKNOWN_ALPN_PROTOCOL_NAME_E)
				ep->st.alpn_mismatch++;
			else if (e == ASN_CRIT_EXT_E)
				ep->st.cert_refused[NN_QUIC_CERT_CRITICAL]++;
		}
		ngtcp2_ccerr_set_tls_alert(&c->ccerr, ngtcp2_conn_get_tls_alert(c->qc), NULL, 0);
		nn_quic_conn_fail(c, err, 0, true);
		break;
	}
	default:
		ep->st.conn_errors++;
		if (c->state == NN_QS_HANDSHAKE)
			ep->st.handshake_failed++;
		ngtcp2_ccerr_set_liberr(&c->ccerr, rv, NULL, 0);
		nn_quic_conn_fail(c, c->state == NN_QS_HANDSHAKE ? NN_ETLS : NN_EIO, 0, true);
		break;
	}
}

/* ---- write ---- */

static void write_close(nn_quic_conn *c)
{
	nn_quic_ep *ep = c->ep;
	if (!c->send_cc || !c->qc || ngtcp2_conn_in_draining_period(c->qc) ||
	    ngtcp2_conn_in_closing_period(c->qc))
		return;
	ngtcp2_pkt_info pi;
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(
		c->qc, &c->ps.path, &pi, ep->tbuf, NGTCP2_MAX_UDP_PAYLOAD_SIZE, &c->ccerr,
		(ngtcp2_tstamp)nn_quic_now(ep));
	if (n > 0)
		nn_quic_conn_send(c, ep->tbuf, (size_t)n, (size_t)n);
}

void nn_quic_conn_goodbye(nn_quic_conn *c)
{
	if (c->state >= NN_QS_DEAD || !c->qc)
		return;
	if (c->state < NN_QS_CLOSING) {
		ngtcp2_ccerr_set_application_error(&c->ccerr, NN_TP_REASON_POLICY, NULL, 0);
		c->send_cc = true;
	}
	write_close(c);
	c->state = NN_QS_DEAD;
}

static bool same_remote(const ngtcp2_addr *a, const struct sockaddr_storage *b, socklen_t blen)
{
	return (socklen_t)a->addrlen == blen && !memcmp(a->addr, b, blen);
}

/* Conservative bytes a 1-RTT packet spends around a DATAGRAM frame's data: short header (1 +
 * our 16-byte CID + 4-byte packet number), frame type + length (1 + 2), AEAD tag (16). */
#define DGRAM_OVERHEAD 48

/* Write what the connection has: handshake, acks, and — when stream_ok — media datagrams (ahead
 * of everything else: they are the latency-sensitive ones), media messages, or the edge stream's
 * data. */
static void write_pkts(nn_quic_conn *c, bool stream_ok)
{
	nn_quic_ep *ep = c->ep;
	ngtcp2_tstamp ts = (ngtcp2_tstamp)nn_quic_now(ep);
	size_t size = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->qc);
	size_t max_pkts = ngtcp2_conn_get_send_quantum(c->qc) / size;
	if (max_pkts < 1)
		max_pkts = 1;
	if (max_pkts > NN_QUIC_GSO_MAX)
		max_pkts = NN_QUIC_GSO_MAX;
	size_t off = 0, npkts = 0, seg = size; /* seg: the GSO segment size of the train */
	struct sockaddr_storage tdst;           /* the train's destination */
	socklen_t tdlen = 0;
	bool blocked = false, dg_blocked = false;
	bool media = c->m && stream_ok;
	/* media sessions offer ngtcp2 room for a Path MTU probe (it writes none into a buffer of
	 * the current path size), so PMTUD can lift the path above 1,200 bytes and a full media
	 * frame (1,201 bytes) fits one DATAGRAM; a probe, bigger than `size`, goes out alone */
	size_t room = size;
	if (c->m) {
		size_t mx = ngtcp2_conn_get_max_tx_udp_payload_size(c->qc);
		if (mx > room && mx <= NN_QUIC_TX_BUFSZ)
			room = mx;
	}
	if (media)
		nn_quic_media_write_begin(c);
	for (;;) {
		ngtcp2_vec v[4];
		size_t nv = 0;
		int64_t sid = -1;
		ngtcp2_ssize ndata = -1;
		ngtcp2_pkt_info pi;
		ngtcp2_ssize n;
		nn_pkt *dg = NULL;
		nn_quic_mtx *mt = NULL;
		if (media && !dg_blocked && (dg = nn_quic_media_dgram_peek(c)) != NULL) {
			if (dg->len + DGRAM_OVERHEAD > size) {
				nn_quic_media_dgram_pop(c, false); /* the path cannot carry it */
				continue;
			}
			int accepted = 0;
			ngtcp2_vec dv = {.base = dg->data, .len = dg->len};
			n = ngtcp2_conn_writev_datagram(c->qc, &c->ps.path, &pi, ep->tbuf + off, room,
							&accepted, NGTCP2_WRITE_DATAGRAM_FLAG_MORE, 0,
							&dv, 1, ts);
			if (n == NGTCP2_ERR_WRITE_MORE) {
				nn_quic_media_dgram_pop(c, true);
				continue;
			}
			if (n == NGTCP2_ERR_INVALID_ARGUMENT || n == NGTCP2_ERR_INVALID_STATE) {
				nn_quic_media_dgram_pop(c, false); /* over the peer's limit */
				continue;
			}
			if (n >= 0 && accepted)
				nn_quic_media_dgram_pop(c, true);
			else if (n == 0)
				dg_blocked = true; /* congestion / amplification limit: try no more */
			if (n == 0)
				continue; /* let stream writes (and their acks) have their turn */
		} else {
			uint32_t fl = NGTCP2_WRITE_STREAM_FLAG_MORE;
			if (media) {
				mt = nn_quic_media_next_tx(c);
				if (mt) {
					const uint8_t *b = mt->ext ? mt->ext : mt->pkt->data;
					v[0].base = (uint8_t *)b + mt->wr;
					v[0].len = mt->len - mt->wr;
					nv = 1;
					sid = mt->sid;
					if (!mt->nofin)
						fl |= NGTCP2_WRITE_STREAM_FLAG_FIN;
				}
			} else if (c->sid >= 0 && !blocked && stream_ok) {
				nv = nn_quic_sendq_vecs(&c->q, v, 4);
				if (nv || c->announce)
					sid = c->sid;
			}
			n = ngtcp2_conn_writev_stream(c->qc, &c->ps.path, &pi, ep->tbuf + off, room,
						      &ndata, fl, sid, nv ? v : NULL, nv, ts);
		}
		if (n < 0) {
			if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
			    n == NGTCP2_ERR_STREAM_NOT_FOUND) {
				if (mt)
					mt->blocked = true; /* this message waits; the others go on */
				else
					blocked = true;
				continue;
			}
			if (n == NGTCP2_ERR_WRITE_MORE) {
				if (mt) {
					nn_quic_media_tx_wrote(c, mt, (size_t)ndata,
							       (size_t)ndata == v[0].len);
				} else if (!dg) {
					if (sid >= 0)
						c->announce = false;
					nn_quic_sendq_wrote(c, (size_t)ndata);
				}
				continue;
			}
			ep->st.conn_errors++;
			ngtcp2_ccerr_set_liberr(&c->ccerr, (int)n, NULL, 0);
			nn_quic_conn_fail(c, NN_EIO, 0, true);
			break;
		}
		if (mt) {
			if (ndata >= 0)
				nn_quic_media_tx_wrote(c, mt, (size_t)ndata, (size_t)ndata == v[0].len);
		} else if (!dg) {
			if (ndata >= 0 && sid >= 0)
				c->announce = false; /* the stream is on the wire (a STREAM frame went out) */
			if (ndata > 0)
				nn_quic_sendq_wrote(c, (size_t)ndata);
		}
		if (n == 0)
			break;
		/* every packet goes where ngtcp2 says (c->ps.path, written with it): a migrated
		 * media session's path validation sends on two paths; a train has one */
		if (off && !same_remote(&c->ps.path.remote, &tdst, tdlen)) {
			nn_quic_conn_send_to(c, &tdst, tdlen, ep->tbuf, off, seg);
			memmove(ep->tbuf, ep->tbuf + off, (size_t)n);
			off = 0;
		}
		if (off == 0) {
			tdlen = (socklen_t)c->ps.path.remote.addrlen;
			memcpy(&tdst, c->ps.path.remote.addr, tdlen);
		}
		if ((size_t)n > size) {
			/* a PMTUD probe: the train so far, then the probe on its own */
			if (off)
				nn_quic_conn_send_to(c, &tdst, tdlen, ep->tbuf, off, seg);
			nn_quic_conn_send(c, ep->tbuf + off, (size_t)n, (size_t)n);
			off = 0;
			continue;
		}
		if (!c->m) {
			seg = size;
		} else if (off == 0) {
			/* media: a train's segment size is its first packet's, so runs of equal
			 * DATAGRAM packets (shorter than the path size) still go out in one GSO call */
			seg = (size_t)n;
		} else if ((size_t)n > seg) {
			nn_quic_conn_send_to(c, &tdst, tdlen, ep->tbuf, off, seg);
			memmove(ep->tbuf, ep->tbuf + off, (size_t)n);
			off = 0;
			seg = (size_t)n;
		}
		off += (size_t)n;
		npkts++;
		/* a shorter packet ends a GSO train; so does a full buffer */
		if ((size_t)n < seg || npkts >= max_pkts) {
			nn_quic_conn_send_to(c, &tdst, tdlen, ep->tbuf, off, seg);
			off = 0;
			if (npkts >= max_pkts)
				break;
		}
	}
	if (off)
		nn_quic_conn_send_to(c, &tdst, tdlen, ep->tbuf, off, seg);
	ngtcp2_conn_update_pkt_tx_time(c->qc, ts);
	nn_quic_conn_arm(c);
}

void nn_quic_conn_write(nn_quic_conn *c)
{
	nn_quic_ep *ep = c->ep;
	if (c->state == NN_QS_DEAD)
		return;
	if (c->state == NN_QS_CLOSING) {
		/* a close by the sink: the frames it sent before it go out ahead of the
		 * CONNECTION_CLOSE: normally they were acknowledged while the close lingered;
		 * what is left after NN_QUIC_LINGER gets this one last try */
		if (c->flush_on_close && c->qc && c->sid >= 0 && c->reported &&
		    !ngtcp2_conn_in_closing_period(c->qc) && !ngtcp2_conn_in_draining_period(c->qc))
			write_pkts(c, true);
		c->flush_on_close = false;
		write_close(c);
		c->state = NN_QS_DEAD;
		nn_timer_stop(ep->base.clock, &c->qtimer);
		nn_timer_stop(ep->base.clock, &c->guard);
		return;
	}
	if (c->tls_release)
		nn_quic_tls_release(c);
	write_pkts(c, c->state == NN_QS_OPEN);
}

/* ---- close ---- */

void nn_quic_conn_fail(nn_quic_conn *c, int err, uint64_t reason, bool send_cc)
{
	if (c->state >= NN_QS_CLOSING)
		return;
	if (c->lingering) {
		/* whatever ends a linger, the sink asked for this close: it hears err 0 */
		err = 0;
		reason = c->linger_reason;
		c->lingering = false;
	}
	c->state = NN_QS_CLOSING;
	c->close_err = err;
	c->close_reason = reason;
	c->send_cc = send_cc;
	if (send_cc && c->ccerr.type == NGTCP2_CCERR_TYPE_TRANSPORT && c->ccerr.error_code == 0)
		ngtcp2_ccerr_set_application_error(&c->ccerr, reason, NULL, 0);
	nn_quic_mark_dirty(c);
}

int nn_quic_conn_send_to(nn_quic_conn *c, const struct sockaddr_storage *to, socklen_t tolen,
			 const uint8_t *buf, size_t total, size_t size)
{
	return nn_quic_socket_send_fd(c->ep, c->xs ? c->xs->fd : c->ep->fd,
				      (const struct sockaddr *)to, tolen, buf, total, size);
}

int nn_quic_conn_send(nn_quic_conn *c, const uint8_t *buf, size_t total, size_t size)
{
	/* the path of the packet ngtcp2 wrote last (c->ps.path): the connection's own remote,
	 * unless a migration (media.c) or the peer's moved it */
	return nn_quic_socket_send_fd(c->ep, c->xs ? c->xs->fd : c->ep->fd,
				      (const struct sockaddr *)c->ps.path.remote.addr,
				      (socklen_t)c->ps.path.remote.addrlen, buf, total, size);
}

void nn_quic_conn_free(nn_quic_conn *c)
{
	nn_quic_ep *ep = c->ep;
	nn_timer_stop(ep->base.clock, &c->qtimer);
	nn_timer_stop(ep->base.clock, &c->guard);
	if (c->qc) {
		ngtcp2_cid ids[8];
		size_t n = ngtcp2_conn_get_scid(c->qc, NULL);
		if (n <= 8) {
			ngtcp2_conn_get_scid(c->qc, ids);
			for (size_t i = 0; i < n; i++)
				nn_quic_cidmap_del(&ep->cids, ids[i].data, ids[i].datalen);
		}
	}
	/* any entry left (odcid, retired ids) must not point at freed memory */
	if (c->has_odcid)
		nn_quic_cidmap_del(&ep->cids, c->odcid.data, c->odcid.datalen);
	for (size_t i = 0; i < ep->cids.cap;) {
		if (ep->cids.tab[i].conn == c) {
			nn_quic_cident e = ep->cids.tab[i];
			nn_quic_cidmap_del(&ep->cids, e.cid, e.len);
			i = 0; /* entries shifted back: rescan */
			continue;
		}
		i++;
	}
	if (c->inbound_counted)
		nn_quic_caps_release(&ep->caps, c->ipkey);
	/* the TLS object first: nn_quic_tls_free clears ngtcp2's handle to it, a write into the
	 * ngtcp2 connection (after ngtcp2_conn_del it landed in freed memory; valgrind saw it,
	 * ASan does not instrument the static ngtcp2) */
	nn_quic_tls_free(c);
	if (c->qc)
		ngtcp2_conn_del(c->qc);
	c->qc = NULL;
	if (c->rx_pkt)
		nn_pkt_release(c->rx_pkt);
	nn_quic_media_detach(c);
	nn_quic_sendq_fini(&c->q);
	if (c->xs)
		nn_quic_xsock_close(c->xs); /* a birthday winner dies with its connection */
	if (c->prev)
		c->prev->next = c->next;
	else
		ep->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

void nn_quic_conn_reap(nn_quic_conn *c)
{
	nn_quic_ep *ep = c->ep;
	bool reported = c->reported, outbound = c->base.outbound;
	int err = c->close_err;
	uint64_t reason = c->close_reason;
	const nn_tp_sink *s = &ep->base.sink;
	if (reported) {
		ep->base.stats.closed++;
		/* the sink may look at the conn during the call; free afterwards */
		if (s->on_closed)
			s->on_closed(s->ctx, &c->base, err, reason);
		nn_quic_conn_free(c);
		return;
	}
	void *user = c->base.user;
	nn_id want = c->want;
	nn_addr addr = c->base.remote_addr;
	nn_quic_conn_free(c);
	if (outbound) {
		ep->base.stats.dial_failed++;
		if (s->on_dial_failed)
			s->on_dial_failed(s->ctx, user, &want, &addr, err);
	}
}
