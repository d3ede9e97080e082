/* endpoint.c — a mem endpoint as an nn_tp: the ops table, local address, punch, destroy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/mem/mem_int.h"

static int ep_dial(nn_tp *tp, const nn_id *want, const nn_addr *addr, void *user)
{
	return mem_dial_start((mem_ep *)tp, want, addr, user, NN_CONN_OVERLAY);
}

static int ep_dial_media(nn_tp *tp, nn_conn *edge, void *user)
{
	if (!(tp->caps & NN_TP_CAP_MEDIA))
		return NN_EUNSUPPORTED;
	if (edge->tp != tp || edge->kind != NN_CONN_OVERLAY)
		return NN_EINVAL;
	return mem_dial_start((mem_ep *)tp, &edge->remote_id, &edge->remote_addr, user,
			      NN_CONN_MEDIA);
}

/* A media session moves onto the edge's path: the pair now travels like the edge (through
 * its relay or direct) and both ends see the edge's addresses. Stream frames already sent
 * stay in the receiver's queue (reliable, in order); nothing is closed. */
static int ep_move_media(nn_tp *tp, nn_conn *media, nn_conn *edge)
{
	if (!media || !edge || media->tp != tp || edge->tp != tp || media->kind != NN_CONN_MEDIA ||
	    edge->kind != NN_CONN_OVERLAY || !media->outbound ||
	    memcmp(media->remote_id.b, edge->remote_id.b, sizeof media->remote_id.b))
		return NN_EINVAL;
	mem_conn *m = (mem_conn *)media, *e = (mem_conn *)edge;
	if (m->state != MC_OPEN || !m->peer || !e->peer)
		return NN_ECLOSED;
	m->via = m->peer->via = e->via;
	m->pub.remote_addr = e->pub.remote_addr;
	m->peer->pub.remote_addr = e->peer->pub.remote_addr;
	return 0;
}

static size_t ep_local_addrs(nn_tp *tp, nn_addr *out, size_t cap)
{
	if (cap >= 1)
		out[0] = ((mem_ep *)tp)->addr;
	return 1;
}

/* ---- relay volunteer model (NN_TP_CAP_RELAY, opt-in for tests) ----
 * Not a packet forwarder: a session only routes a dial. The callee side pins the first
 * endpoint that punches its address; a dial to the caller side then reaches that endpoint as
 * if through the relay (the link cuts and the callee's NAT model are checked against the relay,
 * not the caller: caller and callee may be cut from each other). A relayed connection's frames
 * travel both legs (conn.c); freeing the session does not close it. */
static int relay_name(const mem_ep *ep, uint64_t id, char side, nn_addr *out)
{
	char name[NN_ADDR_EP_MAX + 2];
	int n = snprintf(name, sizeof name, "%.*s:relay%llu:%c", (int)ep->addr.ep_len, ep->addr.ep,
			 (unsigned long long)id, side);
	if (n < 0 || n > NN_ADDR_EP_MAX)
		return NN_ETOOBIG;
	return nn_addr_set(out, "mem", name);
}

static int ep_relay_alloc(nn_tp *tp, nn_tp_relay *out)
{
	mem_ep *ep = (mem_ep *)tp;
	if (!(tp->caps & NN_TP_CAP_RELAY))
		return NN_EUNSUPPORTED;
	if (!out)
		return NN_EINVAL;
	if (!ep->relays && !(ep->relays = calloc(MEM_RELAY_MAX, sizeof *ep->relays)))
		return NN_ENOMEM;
	if (ep->nrelays >= MEM_RELAY_MAX)
		return NN_EBUSY;
	for (uint32_t i = 0; i < MEM_RELAY_MAX; i++) {
		if (ep->relays[i].id)
			continue;
		nn_tp_relay r = {.id = ++ep->relay_serial};
		int rc = relay_name(ep, r.id, 'a', &r.a);
		if (rc == 0)
			rc = relay_name(ep, r.id, 'b', &r.b);
		if (rc != 0)
			return rc;
		ep->relays[i] = (struct mem_relay){.id = r.id};
		ep->nrelays++;
		*out = r;
		return 0;
	}
	return NN_EBUSY;
}

static int ep_relay_free(nn_tp *tp, uint64_t id)
{
	mem_ep *ep = (mem_ep *)tp;
	if (!(tp->caps & NN_TP_CAP_RELAY))
		return NN_EUNSUPPORTED;
	for (uint32_t i = 0; ep->relays && i < MEM_RELAY_MAX; i++)
		if (id && ep->relays[i].id == id) {
			ep->relays[i] = (struct mem_relay){0};
			ep->nrelays--;
			return 0;
		}
	return NN_ENOENT;
}

struct mem_relay *mem_relay_find(nn_mem_hub *h, const nn_addr *addr, mem_ep **relay, char *side)
{
	if (addr->net_len != 3 || memcmp(addr->net, "mem", 3) || addr->ep_len < 9)
		return NULL;
	const char *e = addr->ep;
	size_t len = addr->ep_len;
	if (e[len - 2] != ':' || (e[len - 1] != 'a' && e[len - 1] != 'b'))
		return NULL;
	size_t i = len - 2; /* back over the digits of the id */
	uint64_t id = 0, mul = 1;
	while (i > 0 && e[i - 1] >= '0' && e[i - 1] <= '9' && mul <= 1000000000000ull) {
		id += (uint64_t)(e[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (!id || i < 7 || memcmp(e + i - 6, ":relay", 6))
		return NULL;
	nn_addr name;
	char buf[NN_ADDR_EP_MAX + 1];
	snprintf(buf, sizeof buf, "%.*s", (int)(i - 6), e);
	if (nn_addr_set(&name, "mem", buf) != 0)
		return NULL;
	mem_ep *r = mem_hub_lookup(h, &name);
	if (!r || !(r->tp.caps & NN_TP_CAP_RELAY) || !r->relays)
		return NULL;
	for (uint32_t k = 0; k < MEM_RELAY_MAX; k++)
		if (r->relays[k].id == id) {
			*relay = r;
			*side = e[len - 1];
			return &r->relays[k];
		}
	return NULL;
}

mem_ep *mem_hub_by_serial(nn_mem_hub *h, uint32_t serial)
{
	for (uint32_t i = 0; serial && i < h->neps; i++)
		if (h->eps[i] && h->eps[i]->serial == serial)
			return h->eps[i];
	return NULL;
}

mem_ep *mem_relay_callee(nn_mem_hub *h, const struct mem_relay *r)
{
	return mem_hub_by_serial(h, r->pinned_b);
}

static int ep_punch(nn_tp *tp, const nn_addr *to)
{
	mem_ep *ep = (mem_ep *)tp;
	if (!(tp->caps & NN_TP_CAP_PUNCH))
		return NN_EUNSUPPORTED;
	if (to->net_len != 3 || memcmp(to->net, "mem", 3))
		return NN_EADDR;
	tp->stats.punches_tx++;
	mem_ep *t = mem_hub_lookup(ep->hub, to);
	if (!t) {
		/* a relay allocation: the punch pins its callee side (first puncher wins) */
		mem_ep *relay;
		char side;
		struct mem_relay *r = mem_relay_find(ep->hub, to, &relay, &side);
		if (r && relay != ep && !mem_hub_cut(ep->hub, ep, relay)) {
			mem_ep_open(ep, relay);
			if (side == 'b' && !r->pinned_b)
				r->pinned_b = ep->serial;
		}
		return 0;
	}
	if (t)
		mem_ep_open(ep, t);
	if (!t || mem_hub_cut(ep->hub, ep, t) ||
	    mem_hub_chance(ep->hub, mem_hub_link(ep->hub, ep, t)->loss_ppm))
		return 0; /* fire and forget, like UDP */
	t->tp.stats.punches_rx++;
	return 0;
}

/* Birthday probing is not modelled (no ports, no mappings): with the opt-in capability the
 * call is recorded and runs as a plain dial to the first address, so the node's signalling and
 * its sub-stage can be tested; the NAT model and link cuts apply as to any dial. */
static int ep_birthday(nn_tp *tp, const nn_id *want, const nn_addr *peers, size_t npeers,
		       unsigned sockets, nn_time window, void *user)
{
	mem_ep *ep = (mem_ep *)tp;
	if (!(tp->caps & NN_TP_CAP_BIRTHDAY))
		return NN_EUNSUPPORTED;
	if (!want || !peers || !npeers || !sockets || window <= 0)
		return NN_EINVAL;
	ep->bday_calls++;
	ep->bday_first = peers[0];
	return mem_dial_start(ep, want, &peers[0], user, NN_CONN_OVERLAY);
}

uint32_t nn_mem_endpoint_birthday_calls(const nn_tp *tp, nn_addr *first)
{
	const mem_ep *ep = (const mem_ep *)tp;
	if (first)
		*first = ep->bday_first;
	return ep->bday_calls;
}

void mem_ep_open(mem_ep *ep, const mem_ep *peer)
{
	for (uint32_t i = 0; i < MEM_NAT_OPENED; i++)
		if (ep->opened[i].serial == peer->serial) {
			ep->opened[i].at = nn_clock_now(ep->hub->clk);
			return;
		}
	ep->opened[ep->opened_next].serial = peer->serial;
	ep->opened[ep->opened_next].at = nn_clock_now(ep->hub->clk);
	ep->opened_next = (ep->opened_next + 1) % MEM_NAT_OPENED;
}

bool mem_ep_admits(const mem_ep *ep, const mem_ep *peer, nn_time now)
{
	if (!ep->nat)
		return true;
	for (uint32_t i = 0; i < MEM_NAT_OPENED; i++)
		if (ep->opened[i].serial == peer->serial && now - ep->opened[i].at <= ep->nat_timeout)
			return true;
	return false;
}

void nn_mem_endpoint_set_nat(nn_tp *tp, bool on, nn_time timeout)
{
	mem_ep *ep = (mem_ep *)tp;
	ep->nat = on;
	ep->nat_timeout = timeout > 0 ? timeout : 30 * NN_SEC;
}

static void ep_destroy(nn_tp *tp)
{
	mem_ep *ep = (mem_ep *)tp;
	while (ep->conns)
		mem_conn_drop(ep->conns, NN_TP_REASON_POLICY);
	mem_dial_free_all(ep);
	mem_hub_remove(ep->hub, ep);
	free(ep->relays);
	free(ep);
}

void nn_mem_endpoint_set_read_delay(nn_tp *tp, nn_time d)
{
	((mem_ep *)tp)->read_delay = d > 0 ? d : 0;
}

static void ep_guard_stats(nn_tp *tp, nn_tp_guard *out) { *out = ((mem_ep *)tp)->guard; }

static const nn_tp_ops mem_ops = {
	.name = "mem",
	.dial = ep_dial,
	.send = mem_conn_send,
	.close = mem_conn_close,
	.local_addrs = ep_local_addrs,
	.queued = mem_conn_queued,
	.destroy = ep_destroy,
	.punch = ep_punch,
	.relay_alloc = ep_relay_alloc,
	.relay_free = ep_relay_free,
	.dial_media = ep_dial_media,
	.move_media = ep_move_media,
	.send_datagram = mem_conn_send_datagram,
	.birthday = ep_birthday,
	.guard_stats = ep_guard_stats,
};

int nn_mem_endpoint_new(nn_mem_hub *h, const char *name, const nn_id *id, uint32_t caps,
			nn_tp **out)
{
	*out = NULL;
	if (!name || !*name || !id || (caps & ~(uint32_t)(NN_TP_CAP_PUNCH | NN_TP_CAP_MEDIA | NN_TP_CAP_BIRTHDAY |
						  NN_TP_CAP_RELAY)))
		return NN_EINVAL;
	mem_ep *ep = calloc(1, sizeof *ep);
	if (!ep)
		return NN_ENOMEM;
	int rc = nn_addr_set(&ep->addr, "mem", name);
	if (rc == 0)
		rc = mem_hub_add(h, ep);
	if (rc != 0) {
		free(ep);
		return rc;
	}
	ep->hub = h;
	ep->tp.ops = &mem_ops;
	ep->tp.clock = h->clk;
	ep->tp.pool = h->pool;
	ep->tp.local_id = *id;
	ep->tp.caps = caps;
	*out = &ep->tp;
	return 0;
}

void nn_mem_endpoint_set_key(nn_tp *tp, const uint8_t ed_pub[32])
{
	memcpy(((mem_ep *)tp)->ed_pub, ed_pub, 32);
}
