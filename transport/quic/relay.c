/* relay.c — the relay volunteer's data plane (ops.relay_alloc / relay_free, NN_TP_CAP_RELAY).
 *
 * A session is two fresh UDP sockets bound to the main socket's host IP with ephemeral ports:
 * side A faces the caller, side B the callee. Each side pins the source of the first datagram
 * it receives; afterwards only datagrams from that IP are taken (a port change from the same
 * IP is followed: a NAT rebind survives), everything else is dropped and counted. An accepted
 * datagram is forwarded, unparsed (it is QUIC ciphertext between the two ends; there is no
 * relay framing), from the other side's socket to the other side's pinned address — or dropped
 * when that side is not pinned yet. Facts §7.5.
 *
 * Bounds (local policy, nn_quic_config relay_*): a shaper per session (bytes: 250,000 B/s,
 * burst 131,072; packets: 1000/s, burst 256) and one across all sessions (2,000,000 B/s, burst
 * 262,144); a datagram over any of them is dropped. At most 256 sessions (NN_EBUSY beyond). A
 * session that forwarded nothing for 30 s is closed (checked every half of that); drops are not
 * activity. Unlike the reference every drop is counted (nn_quic_stats relay_*, guard stats
 * relay_*). Reads per wakeup are bounded. Destroying the endpoint closes every session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"

typedef struct relay_side {
	struct nn_quic_relay *s;
	int fd;
	ev_io io;
	struct sockaddr_storage local;
	socklen_t local_len;
	struct sockaddr_storage peer; /* pinned source */
	socklen_t peer_len;
	uint8_t peer_ip[16];
	bool pinned;
} relay_side;

struct nn_quic_relay {
	nn_quic_ep *ep;
	struct nn_quic_relay *next;
	uint64_t id;
	relay_side side[2];
	nn_tbucket bytes, pkts;
	nn_time last_fwd;
	uint64_t fwd_pkts[2]; /* forwarded from side i (test hook) */
};

static void side_read_cb(struct ev_loop *loop, ev_io *w, int revents);

static void side_close(nn_quic_ep *ep, relay_side *sd)
{
	if (sd->fd < 0)
		return;
	if (ep->loop)
		ev_io_stop(ep->loop, &sd->io);
	close(sd->fd);
	sd->fd = -1;
}

static int side_open(nn_quic_ep *ep, nn_quic_relay *s, relay_side *sd)
{
	sd->s = s;
	sd->fd = socket(ep->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sd->fd < 0)
		return NN_EIO;
	int zero = 0;
	if (ep->family == AF_INET6)
		(void)setsockopt(sd->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	/* the main socket's host IP, a fresh port */
	struct sockaddr_storage ss = ep->local;
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	else
		((struct sockaddr_in *)&ss)->sin_port = 0;
	sd->local_len = sizeof sd->local;
	if (bind(sd->fd, (struct sockaddr *)&ss, ep->local_len) != 0 ||
	    getsockname(sd->fd, (struct sockaddr *)&sd->local, &sd->local_len) != 0) {
		close(sd->fd);
		sd->fd = -1;
		return NN_EIO;
	}
	ev_io_init(&sd->io, side_read_cb, sd->fd, EV_READ);
	sd->io.data = sd;
	ev_io_start(ep->loop, &sd->io);
	return 0;
}

static void relay_end(nn_quic_relay *s)
{
	nn_quic_ep *ep = s->ep;
	for (nn_quic_relay **pp = &ep->relays; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	ep->nrelays--;
	side_close(ep, &s->side[0]);
	side_close(ep, &s->side[1]);
	free(s);
	if (!ep->relays)
		nn_timer_stop(ep->base.clock, &ep->relay_reap);
}

static void reap_cb(nn_timer *t, void *arg)
{
	(void)t;
	nn_quic_ep *ep = arg;
	nn_time now = nn_quic_now(ep);
	for (nn_quic_relay *s = ep->relays, *next; s; s = next) {
		next = s->next;
		if (now - s->last_fwd >= ep->cfg.relay_idle) {
			ep->st.relay_reaped++;
			relay_end(s);
		}
	}
	if (ep->relays)
		(void)nn_timer_start(ep->base.clock, &ep->relay_reap, now + ep->cfg.relay_idle / 2);
}

/* Shaper: the session's bytes and packets and the aggregate bytes, all or nothing. */
static bool shaper_pass(nn_quic_ep *ep, nn_quic_relay *s, size_t n, nn_time now)
{
	double b = (double)n;
	if (nn_tbucket_peek(&s->bytes, now) < b || nn_tbucket_peek(&s->pkts, now) < 1.0 ||
	    nn_tbucket_peek(&ep->relay_agg, now) < b)
		return false;
	(void)nn_tbucket_take(&s->bytes, b, now);
	(void)nn_tbucket_take(&s->pkts, 1.0, now);
	(void)nn_tbucket_take(&ep->relay_agg, b, now);
	return true;
}

static void side_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	relay_side *sd = w->data;
	nn_quic_relay *s = sd->s;
	nn_quic_ep *ep = s->ep;
	unsigned me = sd == &s->side[0] ? 0 : 1;
	relay_side *other = &s->side[1 - me];
	uint8_t buf[NN_QUIC_RX_BUFSZ];
	for (int i = 0; i < 64 && !ep->destroying; i++) { /* bounded per wakeup */
		struct sockaddr_storage src;
		socklen_t srclen = sizeof src;
		ssize_t n = recvfrom(sd->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&src, &srclen);
		if (n < 0)
			break;
		ep->st.relay_rx++;
		if ((size_t)n > sizeof buf || n == 0) {
			ep->st.relay_garbage++;
			continue;
		}
		uint8_t ip[16];
		nn_quic_ip_key((struct sockaddr *)&src, ip);
		if (!sd->pinned) {
			sd->pinned = true;
			memcpy(sd->peer_ip, ip, 16);
			sd->peer = src;
			sd->peer_len = srclen;
		} else if (memcmp(sd->peer_ip, ip, 16) != 0) {
			ep->st.relay_foreign++; /* not the pinned host */
			continue;
		} else if (sd->peer_len != srclen || memcmp(&sd->peer, &src, srclen) != 0) {
			ep->st.relay_rebind++; /* same IP, new port: a NAT rebind, followed */
			sd->peer = src;
			sd->peer_len = srclen;
		}
		if (!other->pinned) {
			ep->st.relay_unpinned++;
			continue;
		}
		nn_time now = nn_quic_now(ep);
		if (!shaper_pass(ep, s, (size_t)n, now)) {
			ep->st.relay_shaped++;
			continue;
		}
		ssize_t w2 = sendto(other->fd, buf, (size_t)n, MSG_DONTWAIT,
				    (struct sockaddr *)&other->peer, other->peer_len);
		if (w2 != n) {
			ep->st.relay_tx_failed++;
			continue;
		}
		s->last_fwd = now;
		s->fwd_pkts[me]++;
		ep->st.relay_fwd_pkts++;
		ep->st.relay_fwd_bytes += (uint64_t)n;
	}
}

int nn_quic_relay_alloc(nn_tp *tp, nn_tp_relay *out)
{
	nn_quic_ep *ep = (nn_quic_ep *)tp;
	if (!out)
		return NN_EINVAL;
	if (ep->nrelays >= ep->cfg.relay_max_sessions) {
		ep->st.relay_refused++;
		return NN_EBUSY;
	}
	nn_quic_relay *s = calloc(1, sizeof *s);
	if (!s)
		return NN_ENOMEM;
	s->ep = ep;
	s->side[0].fd = s->side[1].fd = -1;
	int rc = side_open(ep, s, &s->side[0]);
	if (rc == 0)
		rc = side_open(ep, s, &s->side[1]);
	nn_tp_relay r = {0};
	if (rc == 0 &&
	    (nn_addr_from_sockaddr(&r.a, (struct sockaddr *)&s->side[0].local,
				   s->side[0].local_len) != 0 ||
	     nn_addr_from_sockaddr(&r.b, (struct sockaddr *)&s->side[1].local,
				   s->side[1].local_len) != 0))
		rc = NN_EIO;
	if (rc != 0) {
		side_close(ep, &s->side[0]);
		side_close(ep, &s->side[1]);
		free(s);
		ep->st.relay_refused++;
		return rc;
	}
	s->id = r.id = ++ep->relay_serial;
	nn_tbucket_init(&s->bytes, ep->cfg.relay_rate, ep->cfg.relay_burst);
	nn_tbucket_init(&s->pkts, ep->cfg.relay_pkt_rate, ep->cfg.relay_pkt_burst);
	s->last_fwd = nn_quic_now(ep);
	if (!ep->relays)
		(void)nn_timer_start(ep->base.clock, &ep->relay_reap,
				     nn_quic_now(ep) + ep->cfg.relay_idle / 2);
	s->next = ep->relays;
	ep->relays = s;
	ep->nrelays++;
	ep->st.relay_sessions++;
	*out = r;
	return 0;
}

int nn_quic_relay_free(nn_tp *tp, uint64_t id)
{
	nn_quic_ep *ep = (nn_quic_ep *)tp;
	for (nn_quic_relay *s = ep->relays; s; s = s->next)
		if (s->id == id) {
			relay_end(s);
			return 0;
		}
	return NN_ENOENT;
}

void nn_quic_relay_init(nn_quic_ep *ep)
{
	nn_tbucket_init(&ep->relay_agg, ep->cfg.relay_agg_rate, ep->cfg.relay_agg_burst);
	nn_timer_init(&ep->relay_reap, reap_cb, ep);
}

void nn_quic_relay_destroy(nn_quic_ep *ep)
{
	while (ep->relays)
		relay_end(ep->relays);
}

size_t nn_quic_test_relay_sessions(nn_tp *tp) { return ((nn_quic_ep *)tp)->nrelays; }

uint64_t nn_quic_test_relay_forwarded(nn_tp *tp, uint64_t id, unsigned from_side)
{
	for (nn_quic_relay *s = ((nn_quic_ep *)tp)->relays; s; s = s->next)
		if (s->id == id)
			return s->fwd_pkts[from_side & 1];
	return 0;
}
