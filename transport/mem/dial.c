/* dial.c — mem dials: after one round trip, authenticate the target and create both ends. */
#include <stdlib.h>
#include <string.h>

#include "transport/mem/mem_int.h"

static void unlink_dial(mem_dial *d)
{
	mem_ep *ep = d->ep;
	if (d->prev)
		d->prev->next = d->next;
	else
		ep->dials = d->next;
	if (d->next)
		d->next->prev = d->prev;
	nn_timer_stop(ep->hub->clk, &d->timer);
}

static void fail(mem_dial *d, int err)
{
	nn_tp *tp = &d->ep->tp;
	tp->stats.dial_failed++;
	if (err == NN_EIDMISMATCH)
		tp->stats.dial_idmismatch++;
	if (tp->sink.on_dial_failed)
		tp->sink.on_dial_failed(tp->sink.ctx, d->user, &d->want, &d->addr, err);
}

static void on_dial_due(nn_timer *t, void *arg)
{
	(void)t;
	mem_dial *d = arg;
	mem_ep *ep = d->ep;
	nn_mem_hub *h = ep->hub;
	unlink_dial(d);
	mem_ep *target = mem_hub_lookup(h, &d->addr);
	/* a relay's caller-facing allocation: the callee pinned on its other side, reached
	 * through the relay (endpoint.c) */
	mem_ep *relay = NULL;
	nn_addr via_b;
	if (!target) {
		char side;
		struct mem_relay *r = mem_relay_find(h, &d->addr, &relay, &side);
		if (r && side == 'a') {
			target = mem_relay_callee(h, r);
			memcpy(&via_b, &d->addr, sizeof via_b);
			via_b.ep[via_b.ep_len - 1] = 'b';
		} else {
			relay = NULL;
		}
	}
	const mem_ep *hop = relay ? relay : ep; /* who the target's side sees sending */
	int err = 0;
	if (!target || target == ep || (relay && (relay == ep || relay == target)) ||
	    mem_hub_cut(h, ep, relay ? relay : target) ||
	    mem_hub_cut(h, relay ? relay : target, ep) || mem_hub_cut(h, hop, target) ||
	    mem_hub_cut(h, target, hop) || !mem_ep_admits(target, hop, nn_clock_now(h->clk)))
		err = NN_EUNREACH;
	else if (!nn_kad_id_eq(&target->tp.local_id, &d->want))
		err = NN_EIDMISMATCH;
	else if (d->kind == NN_CONN_MEDIA && !(target->tp.caps & NN_TP_CAP_MEDIA))
		err = NN_EUNSUPPORTED;
	mem_conn *a = NULL, *b = NULL;
	if (!err) {
		a = mem_conn_new(ep, &target->tp.local_id, &d->addr, true, d->kind, d->user);
		b = mem_conn_new(target, &ep->tp.local_id, relay ? &via_b : &ep->addr, false, d->kind,
				 NULL);
		if (a)
			memcpy(a->pub.remote_ed_pub, target->ed_pub, sizeof a->pub.remote_ed_pub);
		if (b)
			memcpy(b->pub.remote_ed_pub, ep->ed_pub, sizeof b->pub.remote_ed_pub);
		if (!a || !b) {
			free(a);
			free(b);
			a = b = NULL;
			err = NN_ENOMEM;
		}
	}
	if (err) {
		if (err == NN_EUNSUPPORTED)
			ep->guard.media_unsupported++;
		fail(d, err);
		free(d);
		return;
	}
	free(d);
	if (relay)
		a->via = b->via = relay->serial;
	mem_conn_pair(a, b);
	/* The acceptor learns of the connection first, so a frame the dialler sends from its
	 * on_conn always arrives on a connection the acceptor already knows. */
	target->tp.stats.conns_in++;
	if (a->pub.kind == NN_CONN_MEDIA) {
		target->guard.media_in++;
		ep->guard.media_out++;
	}
	if (target->tp.sink.on_conn)
		target->tp.sink.on_conn(target->tp.sink.ctx, &b->pub);
	ep->tp.stats.conns_out++;
	if (ep->tp.sink.on_conn)
		ep->tp.sink.on_conn(ep->tp.sink.ctx, &a->pub);
}

int mem_dial_start(mem_ep *ep, const nn_id *want, const nn_addr *addr, void *user, uint8_t kind)
{
	nn_mem_hub *h = ep->hub;
	if (!want || !addr)
		return NN_EINVAL;
	if (addr->net_len != 3 || memcmp(addr->net, "mem", 3) || addr->ep_len == 0)
		return NN_EADDR;
	mem_dial *d = calloc(1, sizeof *d);
	if (!d)
		return NN_ENOMEM;
	d->ep = ep;
	d->want = *want;
	d->addr = *addr;
	d->user = user;
	d->kind = kind;
	nn_timer_init(&d->timer, on_dial_due, d);
	/* one round trip on the profile of the dialled pair (or the default for unknown names) */
	const mem_ep *t = mem_hub_lookup(h, addr);
	const nn_mem_link *l = t ? mem_hub_link(h, ep, t) : &h->dflt;
	if (t) {
		mem_ep_open(ep, t); /* our own packets open our NAT toward the peer */
	} else {
		mem_ep *relay;
		char side;
		if (mem_relay_find(h, addr, &relay, &side))
			mem_ep_open(ep, relay); /* a relay allocation: toward the relay */
	}
	nn_time rtt = 2 * l->latency + mem_hub_jitter(h, l->jitter);
	if (nn_timer_start(h->clk, &d->timer, nn_clock_now(h->clk) + rtt) != 0) {
		free(d);
		return NN_ENOMEM;
	}
	d->next = ep->dials;
	if (ep->dials)
		ep->dials->prev = d;
	ep->dials = d;
	ep->tp.stats.dials++;
	return 0;
}

void mem_dial_free_all(mem_ep *ep)
{
	while (ep->dials) {
		mem_dial *d = ep->dials;
		unlink_dial(d);
		free(d);
	}
}
