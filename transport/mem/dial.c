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
	int err = 0;
	if (!target || target == ep || mem_hub_cut(h, ep, target) || mem_hub_cut(h, target, ep) ||
	    !mem_ep_admits(target, ep, nn_clock_now(h->clk)))
		err = NN_EUNREACH;
	else if (!nn_kad_id_eq(&target->tp.local_id, &d->want))
		err = NN_EIDMISMATCH;
	else if (d->kind == NN_CONN_MEDIA && !(target->tp.caps & NN_TP_CAP_MEDIA))
		err = NN_EUNSUPPORTED;
	mem_conn *a = NULL, *b = NULL;
	if (!err) {
		a = mem_conn_new(ep, &target->tp.local_id, &d->addr, true, d->kind, d->user);
		b = mem_conn_new(target, &ep->tp.local_id, &ep->addr, false, d->kind, NULL);
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
	if (t)
		mem_ep_open(ep, t); /* our own packets open our NAT toward the peer */
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
