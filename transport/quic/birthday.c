/* birthday.c — birthday probing, the side behind an endpoint-dependent (symmetric) NAT.
 *
 * Such a NAT gives each (socket, destination) a new random public port, so the other side
 * (behind an endpoint-independent mapping with address-and-port-dependent filtering, or a
 * stateful firewall) cannot guess one. An attempt opens K extra UDP sockets (at most
 * NN_QUIC_BDAY_SOCKETS) and sends punch datagrams from each to the other side's addresses: K
 * mappings toward it. The other side sprays punches at random ports of our public IP (the
 * node does that with ops.punch); when one of them hits one of our K mappings, that socket
 * hears a punch from one of the addresses it punched: it wins, dials the peer over exactly
 * that 4-tuple (its connection sends and receives on this socket, and ngtcp2's local path
 * address is this socket's) and the losers are closed at once. No winner within the window:
 * every socket is closed and the dial fails with NN_ETIMEDOUT.
 *
 * Bounds (local policy): sockets per attempt, attempts at once (NN_QUIC_BDAY_RUNNING), the
 * window (<= NN_QUIC_BDAY_WINDOW_MAX), punches per socket (one per NN_QUIC_BDAY_RESEND, to at
 * most NN_QUIC_BDAY_PEERS addresses), datagrams read per wakeup. Counted in nn_quic_stats
 * (bday_*) and in the guard stats (birthday_*). An extra socket never accepts connections:
 * before it wins it takes only the expected punch, afterwards only its own connection's
 * packets; everything else is dropped and counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kad/nn_err.h"
#include "transport/quic/internal.h"

struct nn_quic_bday {
	nn_quic_ep *ep;
	nn_quic_bday *next;
	nn_id want;
	void *user;
	nn_addr peer_addr[NN_QUIC_BDAY_PEERS];
	struct sockaddr_storage peer[NN_QUIC_BDAY_PEERS];
	socklen_t peer_len[NN_QUIC_BDAY_PEERS];
	unsigned npeers, nsocks;
	nn_time end;
	nn_timer timer;
	nn_quic_xsock *socks[NN_QUIC_BDAY_SOCKETS];
};

static void xs_read_cb(struct ev_loop *loop, ev_io *w, int revents);

void nn_quic_xsock_close(nn_quic_xsock *xs)
{
	if (!xs)
		return;
	if (xs->ep->loop)
		ev_io_stop(xs->ep->loop, &xs->io);
	if (xs->fd >= 0)
		close(xs->fd);
	free(xs);
}

static nn_quic_xsock *xs_open(nn_quic_ep *ep, nn_quic_bday *b)
{
	nn_quic_xsock *xs = calloc(1, sizeof *xs);
	if (!xs)
		return NULL;
	xs->ep = ep;
	xs->b = b;
	xs->fd = socket(ep->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (xs->fd < 0) {
		free(xs);
		return NULL;
	}
	int zero = 0;
	if (ep->family == AF_INET6)
		(void)setsockopt(xs->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	/* the main socket's address with port 0: same interface, a fresh port */
	struct sockaddr_storage ss = ep->local;
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	else
		((struct sockaddr_in *)&ss)->sin_port = 0;
	xs->local_len = sizeof xs->local;
	if (bind(xs->fd, (struct sockaddr *)&ss, ep->local_len) != 0 ||
	    getsockname(xs->fd, (struct sockaddr *)&xs->local, &xs->local_len) != 0) {
		close(xs->fd);
		free(xs);
		return NULL;
	}
	ev_io_init(&xs->io, xs_read_cb, xs->fd, EV_READ);
	xs->io.data = xs;
	ev_io_start(ep->loop, &xs->io);
	ep->st.bday_sockets++;
	return xs;
}

static void punch_all(nn_quic_bday *b)
{
	nn_quic_ep *ep = b->ep;
	for (unsigned i = 0; i < b->nsocks; i++)
		for (unsigned p = 0; p < b->npeers; p++)
			if (nn_quic_socket_send_fd(ep, b->socks[i]->fd, (struct sockaddr *)&b->peer[p],
						   b->peer_len[p], (const uint8_t *)NN_QUIC_PUNCH,
						   NN_QUIC_PUNCH_LEN, NN_QUIC_PUNCH_LEN) == 0)
				ep->st.bday_punch_tx++;
}

/* Unlink and free the attempt; every socket still in it is closed. */
static void bday_end(nn_quic_bday *b)
{
	nn_quic_ep *ep = b->ep;
	nn_timer_stop(ep->base.clock, &b->timer);
	for (nn_quic_bday **pp = &ep->bdays; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	for (unsigned i = 0; i < b->nsocks; i++)
		nn_quic_xsock_close(b->socks[i]);
	free(b);
}

static void bday_timer(nn_timer *t, void *arg)
{
	nn_quic_bday *b = arg;
	nn_quic_ep *ep = b->ep;
	if (nn_quic_now(ep) < b->end) {
		punch_all(b); /* keep the mappings fresh while the other side sprays */
		nn_time next = nn_quic_now(ep) + NN_QUIC_BDAY_RESEND;
		(void)nn_timer_start(ep->base.clock, &b->timer, next < b->end ? next : b->end);
		return;
	}
	ep->st.bday_gave_up++;
	nn_id want = b->want;
	nn_addr addr = b->peer_addr[0];
	void *user = b->user;
	bday_end(b);
	ep->base.stats.dial_failed++;
	const nn_tp_sink *s = &ep->base.sink;
	if (s->on_dial_failed)
		s->on_dial_failed(s->ctx, user, &want, &addr, NN_ETIMEDOUT);
}

static int peer_index(const nn_quic_bday *b, const struct sockaddr *src, socklen_t len)
{
	for (unsigned p = 0; p < b->npeers; p++)
		if (b->peer_len[p] == len && !memcmp(&b->peer[p], src, len))
			return (int)p;
	return -1;
}

/* xs heard the other side: it carries the dial, the others close. */
static void win(nn_quic_xsock *xs, unsigned p)
{
	nn_quic_bday *b = xs->b;
	nn_quic_ep *ep = xs->ep;
	for (unsigned i = 0; i < b->nsocks; i++)
		if (b->socks[i] == xs)
			b->socks[i] = b->socks[--b->nsocks]; /* detach the winner */
	xs->b = NULL;
	ep->st.bday_won++;
	nn_id want = b->want;
	void *user = b->user;
	nn_addr addr = b->peer_addr[p];
	struct sockaddr_storage to = b->peer[p];
	socklen_t tolen = b->peer_len[p];
	bday_end(b);
	int err;
	nn_quic_conn *c = nn_quic_conn_client(ep, &want, (struct sockaddr *)&to, tolen, &addr, xs,
					      user, NN_CONN_OVERLAY, &err);
	if (!c) {
		nn_quic_xsock_close(xs);
		ep->base.stats.dial_failed++;
		const nn_tp_sink *s = &ep->base.sink;
		if (s->on_dial_failed)
			s->on_dial_failed(s->ctx, user, &want, &addr, err);
		return;
	}
	xs->conn = c;
	ep->base.stats.dials++;
	nn_quic_mark_dirty(c);
}

static void xs_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	nn_quic_xsock *xs = w->data;
	nn_quic_ep *ep = xs->ep;
	uint8_t buf[NN_QUIC_RX_BUFSZ];
	for (int i = 0; i < 64 && !ep->destroying; i++) { /* bounded per wakeup */
		struct sockaddr_storage src;
		socklen_t srclen = sizeof src;
		ssize_t n = recvfrom(xs->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&src, &srclen);
		if (n < 0)
			break;
		ep->rx_at = nn_quic_now(ep);
		ep->st.rx_datagrams++;
		ep->st.rx_bytes_udp += (uint64_t)n;
		if ((size_t)n > sizeof buf) {
			ep->st.rx_garbage++;
			continue;
		}
		bool punch = n == NN_QUIC_PUNCH_LEN && !memcmp(buf, NN_QUIC_PUNCH, NN_QUIC_PUNCH_LEN);
		if (xs->b) {
			int p = punch ? peer_index(xs->b, (struct sockaddr *)&src, srclen) : -1;
			if (p < 0) {
				ep->st.bday_rx_dropped++;
				continue;
			}
			ep->st.rx_punch++;
			ep->base.stats.punches_rx++;
			win(xs, (unsigned)p); /* may free other sockets, never this one */
			continue;
		}
		if (punch) {
			ep->st.rx_punch++;
			ep->base.stats.punches_rx++;
			continue;
		}
		nn_quic_conn *c = xs->conn;
		ngtcp2_version_cid vc;
		if (!c || n == 0 || !(buf[0] & 0x40) ||
		    ngtcp2_pkt_decode_version_cid(&vc, buf, (size_t)n, NN_QUIC_CIDLEN) != 0 ||
		    nn_quic_cidmap_get(&ep->cids, vc.dcid, vc.dcidlen) != c) {
			ep->st.bday_rx_dropped++;
			continue;
		}
		nn_quic_conn_read(c, buf, (size_t)n, (struct sockaddr *)&src, srclen);
		if (c->state >= NN_QS_CLOSING)
			break; /* may be reaped (and this socket closed) by the flush below */
	}
	ep->rx_at = 0;
	nn_quic_flush(ep);
}

int nn_quic_birthday(nn_tp *tp, const nn_id *want, const nn_addr *peers, size_t npeers,
		     unsigned sockets, nn_time window, void *user)
{
	nn_quic_ep *ep = (nn_quic_ep *)tp;
	if (!want || !peers || !npeers || !sockets || window <= 0)
		return NN_EINVAL;
	unsigned running = 0;
	for (nn_quic_bday *b = ep->bdays; b; b = b->next)
		running++;
	if (running >= NN_QUIC_BDAY_RUNNING) {
		ep->st.bday_refused++;
		return NN_ELIMIT;
	}
	nn_quic_bday *b = calloc(1, sizeof *b);
	if (!b)
		return NN_ENOMEM;
	b->ep = ep;
	b->want = *want;
	b->user = user;
	for (size_t i = 0; i < npeers && b->npeers < NN_QUIC_BDAY_PEERS; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		if (!nn_addr_is_quic(&peers[i]) || nn_addr_to_sockaddr(&peers[i], &ss, &len) != 0 ||
		    !nn_quic_punch_target_ok((struct sockaddr *)&ss, ep->cfg.punch_allow_loopback) ||
		    nn_quic_sockaddr_for(ep, &peers[i], &ss, &len) != 0)
			continue;
		b->peer_addr[b->npeers] = peers[i];
		b->peer[b->npeers] = ss;
		b->peer_len[b->npeers++] = len;
	}
	if (!b->npeers) {
		free(b);
		ep->st.punch_refused++;
		return NN_EADDR;
	}
	if (sockets > NN_QUIC_BDAY_SOCKETS)
		sockets = NN_QUIC_BDAY_SOCKETS;
	while (b->nsocks < sockets) {
		nn_quic_xsock *xs = xs_open(ep, b);
		if (!xs)
			break; /* out of descriptors or ports: probe with what we have */
		b->socks[b->nsocks++] = xs;
	}
	if (!b->nsocks) {
		free(b);
		ep->st.bday_refused++;
		return NN_EIO;
	}
	if (window > NN_QUIC_BDAY_WINDOW_MAX)
		window = NN_QUIC_BDAY_WINDOW_MAX;
	b->end = nn_quic_now(ep) + window;
	b->next = ep->bdays;
	ep->bdays = b;
	ep->st.bday_attempts++;
	nn_timer_init(&b->timer, bday_timer, b);
	punch_all(b);
	(void)nn_timer_start(ep->base.clock, &b->timer, nn_quic_now(ep) + NN_QUIC_BDAY_RESEND);
	return 0;
}

void nn_quic_birthday_destroy(nn_quic_ep *ep)
{
	while (ep->bdays)
		bday_end(ep->bdays);
}

size_t nn_quic_test_birthday_ports(nn_tp *tp, uint16_t *out, size_t cap)
{
	size_t n = 0;
	for (nn_quic_bday *b = ((nn_quic_ep *)tp)->bdays; b; b = b->next)
		for (unsigned i = 0; i < b->nsocks; i++, n++) {
			const struct sockaddr_storage *ss = &b->socks[i]->local;
			if (n < cap)
				out[n] = ntohs(ss->ss_family == AF_INET6
						       ? ((const struct sockaddr_in6 *)ss)->sin6_port
						       : ((const struct sockaddr_in *)ss)->sin_port);
		}
	return n;
}
