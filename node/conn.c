/* conn.c — the transport sink: connection records, dials, edge registration and removal.
 *
 * An outbound connection registers as an edge as soon as it authenticates (and sends a Ping at
 * once, so the acceptor registers it too: DESIGN §5.8). An inbound connection registers on its
 * first well-formed frame. Admission, in order: PoW of the peer's NodeID, the application's
 * hook, crossed dials, then for inbound edges the shares and the cap with shedding (admit.c;
 * a refused newcomer gets a Referral), the edge table (duplicates). Crossed dials (both sides dialled each other)
 * keep the connection dialled by the smaller NodeID, so both ends agree on one edge.
 * Media sessions (conn->kind NN_CONN_MEDIA) are handed to media.c at every sink entry: they
 * never register as edges.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"
#include "pow/pow.h"
#include "routing/control.h"

struct nconn *nn_node_nconn_new(nn_node *n)
{
	struct nconn *nc = calloc(1, sizeof *nc);
	if (!nc)
		return NULL;
	nc->next = n->conns;
	if (n->conns)
		n->conns->prev = nc;
	n->conns = nc;
	return nc;
}

void nn_node_nconn_free(nn_node *n, struct nconn *nc)
{
	if (nc->prev)
		nc->prev->next = nc->next;
	else
		n->conns = nc->next;
	if (nc->next)
		nc->next->prev = nc->prev;
	if (nc->c)
		nc->c->user = NULL;
	free(nc);
}

/* The record of a dial to id in flight (NULL when out of memory). */
static struct nconn *dial_record(nn_node *n, const nn_id *id, bool for_op, unsigned op,
				 uint32_t serial)
{
	struct nconn *nc = nn_node_nconn_new(n);
	if (!nc)
		return NULL;
	nc->want = *id;
	nc->dialling = true;
	nc->for_op = for_op;
	nc->op = op;
	nc->op_serial = serial;
	return nc;
}

static int dial(nn_node *n, const nn_id *id, const nn_addr *addr, bool probe, bool bootstrap,
		bool for_op, unsigned op, uint32_t serial, bool early_kt)
{
	if (!nn_node_addr_dialable(n, addr))
		return NN_EADDR; /* one of our own addresses, or a remote peer's loopback */
	struct nconn *nc = dial_record(n, id, for_op, op, serial);
	if (!nc)
		return NN_ENOMEM;
	nc->probe = probe;
	nc->bootstrap = bootstrap;
	nc->early_kt = early_kt;
	if (nn_node_relayed_addr(n, addr))
		nc->path = NN_PATH_RELAY; /* a dial through a relay allocation (the op noted it) */
	nn_node_nat_sent_to(n, addr);
	int rc = nn_tp_dial(n->tp, id, addr, nc);
	if (rc < 0) {
		nn_node_nconn_free(n, nc);
		return rc;
	}
	if (early_kt)
		n->early_kt_dials++;
	else
		n->dials_in_flight++;
	n->stats.dials++;
	return 0;
}

/* A dial of ours ended (connected or failed): its slot is free again. */
static void dial_settled(nn_node *n, const struct nconn *nc)
{
	if (nc->early_kt)
		n->early_kt_dials--;
	else
		n->dials_in_flight--;
}

int nn_node_dial(nn_node *n, const nn_id *id, const nn_addr *addr, bool probe, bool bootstrap)
{
	return dial(n, id, addr, probe, bootstrap, false, 0, 0, false);
}

int nn_node_dial_for(nn_node *n, const nn_id *id, const nn_addr *addr, unsigned op,
		     uint32_t serial)
{
	return dial(n, id, addr, false, false, true, op, serial, false);
}

int nn_node_dial_early_kt(nn_node *n, const nn_id *id, const nn_addr *addr, unsigned op,
			  uint32_t serial)
{
	if (n->early_kt_dials >= NN_OP_EARLY_KT_DIALS)
		return NN_ELIMIT;
	return dial(n, id, addr, false, false, true, op, serial, true);
}

int nn_node_birthday_for(nn_node *n, const nn_id *id, const nn_addr *peers, size_t npeers,
			 unsigned sockets, nn_time window, unsigned op, uint32_t serial)
{
	struct nconn *nc = dial_record(n, id, true, op, serial);
	if (!nc)
		return NN_ENOMEM;
	int rc = nn_tp_birthday(n->tp, id, peers, npeers, sockets, window, nc);
	if (rc < 0) {
		nn_node_nconn_free(n, nc);
		return rc;
	}
	n->dials_in_flight++;
	n->stats.dials++;
	return 0;
}

void nn_node_close_conn(nn_node *n, nn_conn *c, uint64_t reason)
{
	struct nconn *nc = c->user;
	if (nc) {
		if (nc->closing)
			return;
		nc->closing = true;
	}
	nn_tp_close(n->tp, c, reason);
}

/* A live edge is gone (dropped by us or closed under us): count it, tell discovery and the
 * app. The caller has removed it from the edge table. */
static void edge_gone(nn_node *n, const nn_id *peer)
{
	n->stats.edges_down++;
	nn_node_news(n);
	nn_node_nat_forget(n, peer);
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "edge down %s", nn_node_hex(peer, hex));
	if (n->opts.cb.on_edge)
		n->opts.cb.on_edge(n->opts.cb.user, peer, false);
}

void nn_node_drop_edge(nn_node *n, const nn_id *id, uint64_t reason)
{
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, id);
	if (!e)
		return;
	nn_conn *c = e->conn;
	nn_id peer = e->id;
	nn_routing_edges_remove(n->edges, &peer);
	if (c->user)
		((struct nconn *)c->user)->registered = false;
	nn_node_close_conn(n, c, reason);
	edge_gone(n, &peer);
}

/* Crossed dials: both ends dialled each other and keep the connection dialled by the smaller
 * NodeID. The peer may not have decided yet and may still send on the loser, so the loser is
 * not closed at once: it stays readable (frames on it are handled as the edge's) for a grace
 * period, then closes. Nothing in flight is lost to the swap. */
#define RETIRE_GRACE (3 * NN_SEC)

static void retire(nn_node *n, nn_conn *c)
{
	struct nconn *nc = c->user;
	if (!nc) {
		nn_node_close_conn(n, c, NN_TP_REASON_NORMAL);
		return;
	}
	nc->registered = false;
	nc->retired = true;
	nc->retire_at = nn_node_now(n) + RETIRE_GRACE;
}

/* An authenticated dial whose peer stays silent (not even the Pong to our first Ping) within
 * dial_timeout_ms is a failed dial: the peer gave up the handshake on its side, or lost it.
 * Without this the edge would sit dead until the idle reaper (45-75 s) or QUIC's idle timeout. */
static void drop_unanswered(nn_node *n, struct nconn *nc)
{
	nn_conn *c = nc->c;
	nn_id peer = c->remote_id;
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "dial %s: authenticated but silent, dropped",
		    nn_node_hex(&peer, hex));
	n->stats.dial_failures++;
	n->stats.dials_unanswered++;
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &peer);
	if (e && e->conn == c)
		nn_node_drop_edge(n, &peer, NN_TP_REASON_NORMAL);
	else
		nn_node_close_conn(n, c, NN_TP_REASON_NORMAL);
	nn_node_dial_done(n, &peer, false);
}

void nn_node_sweep_conns(nn_node *n, nn_time now)
{
	struct nconn *next;
	for (struct nconn *nc = n->conns; nc; nc = next) {
		next = nc->next; /* closing never frees at once (on_closed does), but be safe */
		if (!nc->c || nc->closing)
			continue;
		if (nc->retired && now >= nc->retire_at)
			nn_node_close_conn(n, nc->c, NN_TP_REASON_NORMAL);
		else if (nc->answer_by && now >= nc->answer_by)
			drop_unanswered(n, nc);
	}
}

/* The contact the connection proves: its key from the handshake and its address: the one we
 * reached it at (outbound) or the one it came from (inbound). A node dials from the socket it
 * listens on, so the source of an inbound edge is the peer's own address (or its NAT mapping,
 * which a later dial may find closed; the backoff handles that). Learned on the peer's own
 * authenticated edge, so it may update a keyed contact (DESIGN §5.4). */
static void learn_from_conn(nn_node *n, const nn_conn *c, uint32_t caps)
{
	if (nn_routing_key_is_zero(c->remote_ed_pub))
		return;
	nn_routing_contact ct;
	memset(&ct, 0, sizeof ct);
	ct.id = c->remote_id;
	memcpy(ct.ed_pub, c->remote_ed_pub, sizeof ct.ed_pub);
	ct.caps = caps;
	ct.addrs[0] = c->remote_addr;
	ct.naddrs = 1;
	(void)nn_node_observe(n, &ct, NN_ROUTING_SRC_SELF);
}

/* A second connection for an edge within this long of the first is a crossed dial (both ends
 * dialled at once); later, the peer dialled again because it lost the edge (it restarted, or
 * its NAT rebound): the new one wins whichever side dialled (local policy; only the peer's
 * NodeID can authenticate it). */
#define NN_NODE_CROSSED_WINDOW (10 * NN_SEC)

static bool redialled(nn_node *n, const nn_conn *old, const nn_conn *fresh)
{
	const struct nconn *onc = old->user;
	return !fresh->outbound && old->outbound &&
	       onc && nn_node_now(n) - onc->up_at > NN_NODE_CROSSED_WINDOW;
}

static bool keep_new(nn_node *n, const nn_conn *old, const nn_conn *fresh)
{
	/* crossed dials keep the connection dialled by the smaller NodeID */
	const nn_id *old_dialler = old->outbound ? &n->ident.id : &old->remote_id;
	const nn_id *new_dialler = fresh->outbound ? &n->ident.id : &fresh->remote_id;
	if (old->outbound == fresh->outbound)
		return true; /* the same side dialled again: it gave up on the old one */
	if (redialled(n, old, fresh)) {
		n->stats.dup_restarted++; /* it dialled us while we had its edge: it lost it */
		return true;
	}
	return nn_kad_cmp(new_dialler, old_dialler) < 0;
}

/* An inbound connection from a peer whose edge it dialled too, or that we dialled and have held
 * past the crossed-dial window: the peer lost that edge (it restarted, often on a new port, or
 * its NAT rebound) and the new connection replaces it (keep_new). It takes no new place: the
 * inbound shares (admit.c) do not apply to it (they leave the peer's own edge out of the count,
 * but the others from its IP may fill the share). Refused, it left us the old edge, dead on
 * the peer's side: greedy routes for the peer ended on it (its closest neighbours are those
 * that dialled it) until traffic over it went unanswered for 25 s, and the peer, redialling
 * every tick, was refused again (the 50-process soak on one loopback IP, where the per-IP share
 * of 16 binds: losses to targets restarted up to 137 s before, docs/EVALUATION.md). */
static bool replaces_own_edge(nn_node *n, const nn_conn *c)
{
	const nn_routing_edge *old = nn_routing_edges_find(n->edges, &c->remote_id);
	return old && old->conn != c &&
	       nn_node_conn_relayed(n, old->conn) == nn_node_conn_relayed(n, c) &&
	       (!((const nn_conn *)old->conn)->outbound || redialled(n, old->conn, c));
}

int nn_node_register(nn_node *n, nn_conn *c)
{
	struct nconn *nc = c->user;
	const nn_id *peer = &c->remote_id;
	if (!nn_pow_ok(peer, n->pow)) {
		n->stats.dropped_sub_pow++;
		nn_node_close_conn(n, c, NN_TP_REASON_POLICY);
		return NN_EPOW;
	}
	if (n->opts.cb.admit_edge && !n->opts.cb.admit_edge(n->opts.cb.user, peer, !c->outbound)) {
		n->stats.dropped_edge_refused++;
		nn_node_close_conn(n, c, NN_TP_REASON_POLICY);
		return NN_EREFUSED;
	}
	if (!c->outbound && !replaces_own_edge(n, c)) {
		/* inbound admission (admit.c): the shares here (the peer's own edge, if any, does
		 * not count), the cap with shedding below */
		int why = nn_node_admit_shares(n, c);
		if (why) {
			/* a contact we already know (a restarted neighbour on a new port, whose old
			 * edge we had dropped): its key and source are authenticated all the same, so
			 * its new address is learnt and our own fill dials it if it is near us (our
			 * dials are outside the inbound shares, under the live-edge share); before, it
			 * was refused on every redial and reached only once we dialled its old
			 * address, failed, and heard of the new one elsewhere. A newcomer we do not
			 * know is not learnt: refused identities of one crowded /24 or IP (an eclipse
			 * attempt's) would otherwise flow into our table and our fill
			 * (eclipse.txt seed 1: to the victim 99.00 % -> 98.20 % when they were). */
			const nn_routing_kc *k = nn_routing_kt_get(n->kt, peer, NULL);
			if (k)
				learn_from_conn(n, c, k->caps);
			nn_node_refuse(n, c, (uint8_t)why);
			return NN_ELIMIT;
		}
	}
	const nn_routing_edge *old = nn_routing_edges_find(n->edges, peer);
	bool moved = false;
	if (old) {
		if (old->conn == c)
			return 0;
		bool old_relayed = nn_node_conn_relayed(n, old->conn);
		bool new_relayed = nn_node_conn_relayed(n, c);
		if (old_relayed != new_relayed) {
			/* relay -> direct upgrade, make-before-break: the direct connection takes the
			 * edge, the relayed one is retired (still carries what is in flight on it for
			 * the grace period, then closes; its relay session idles out). Both ends
			 * decide alike: each knows which of its connections runs through the relay. */
			if (new_relayed) {
				n->stats.dropped_dup_inbound++;
				retire(n, c);
				return NN_EEXIST;
			}
			nn_conn *oc = old->conn;
			nn_routing_edges_remove(n->edges, peer);
			retire(n, oc);
			moved = true;
			n->stats.upgrades_moved++;
		} else if (!keep_new(n, old->conn, c)) {
			n->stats.dropped_dup_inbound++;
			retire(n, c);
			return NN_EEXIST;
		} else {
			/* the crossed dial wins: swap connections without telling the app */
			nn_conn *oc = old->conn;
			nn_routing_edges_remove(n->edges, peer);
			retire(n, oc);
			n->stats.edges_down++;
		}
	}
	uint32_t caps = 0;
	const nn_routing_kc *k = nn_routing_kt_get(n->kt, peer, NULL);
	if (k)
		caps = k->caps;
	int rc = nn_routing_edges_add(n->edges, peer, c, c->outbound, caps, &c->remote_addr,
				      nn_node_now(n));
	if (rc == NN_ELIMIT && !c->outbound && nn_node_make_inbound_room(n))
		rc = nn_routing_edges_add(n->edges, peer, c, c->outbound, caps, &c->remote_addr,
					  nn_node_now(n));
	if (rc < 0) {
		if (rc == NN_ELIMIT) {
			n->stats.dropped_inbound_full++;
			if (!c->outbound) {
				nn_node_refuse(n, c, NN_ROUTING_REFER_FULL);
				return rc;
			}
		} else {
			n->stats.dropped_dup_inbound++;
		}
		nn_node_close_conn(n, c, NN_TP_REASON_POLICY);
		return rc;
	}
	if (nc) {
		nc->registered = true;
		nc->up_at = nn_node_now(n);
	}
	if (moved) {
		/* the same edge on another connection: no edge down/up for the application */
		char hex[65];
		nn_node_log(n, NN_LOG_INFO, "edge %s moved from relay to direct %s",
			    nn_node_hex(peer, hex), c->outbound ? "out" : "in");
		learn_from_conn(n, c, caps);
		nn_node_media_edge_moved(n, peer, c); /* calls we dialled follow the edge */
		nn_node_ops_edge_up(n, peer, c);
		return 0;
	}
	n->stats.edges_up++;
	if (nn_node_conn_relayed(n, c))
		nn_node_upgrade_kick(n); /* look for a direct path (upgrade.c) */
	nn_node_nat_inbound(n, c); /* an unsolicited inbound edge: our filtering is open */
	learn_from_conn(n, c, caps);
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "edge up %s %s", nn_node_hex(peer, hex), c->outbound ? "out" : "in");
	if (n->opts.cb.on_edge)
		n->opts.cb.on_edge(n->opts.cb.user, peer, true);
	nn_node_ops_edge_up(n, peer, c);
	return 0;
}

static int send_conn(nn_node *n, nn_conn *c, const uint8_t *frame, size_t len, bool answer)
{
	int rc = nn_tp_send(n->tp, c, frame, len);
	if (rc == 0 && c->user) {
		struct nconn *nc = c->user;
		nc->last_tx = nn_node_now(n); /* keepalive.c */
		if (!nc->unanswered_since && !answer)
			nc->unanswered_since = nc->last_tx; /* keepalive.c: until we hear back */
	}
	else if (rc == NN_EAGAIN) {
		n->stats.dropped_queue_full++;
	} else if (rc == NN_ECLOSED) {
		nn_node_drop_edge(n, &c->remote_id, NN_TP_REASON_NORMAL);
	}
	return rc;
}

int nn_node_send_conn(nn_node *n, nn_conn *c, const uint8_t *frame, size_t len)
{
	return send_conn(n, c, frame, len, false);
}

/* An answer (Pong, KaEcho) waits for nothing back: it does not start the unanswered clock
 * (keepalive.c), or each end's Pong would draw the other's ping 10 s later, for ever. */
int nn_node_send_answer(nn_node *n, nn_conn *c, const uint8_t *frame, size_t len)
{
	return send_conn(n, c, frame, len, true);
}

/* ---- sink ---- */
static void on_conn(void *ctx, nn_conn *c)
{
	nn_node *n = ctx;
	if (c->kind == NN_CONN_MEDIA) {
		nn_node_media_on_conn(n, c); /* sessions never become edges */
		return;
	}
	if (n->stopping) {
		nn_tp_close(n->tp, c, NN_TP_REASON_POLICY);
		return;
	}
	if (c->outbound) {
		struct nconn *nc = c->user;
		if (nc) {
			nc->c = c;
			nc->dialling = false;
			dial_settled(n, nc);
		} else if (!(nc = nn_node_nconn_new(n))) {
			nn_tp_close(n->tp, c, NN_TP_REASON_POLICY);
			return;
		} else {
			nc->c = c;
			c->user = nc;
			if (nn_node_relayed_addr(n, &c->remote_addr))
				nc->path = NN_PATH_RELAY;
		}
		nn_node_dial_done(n, &c->remote_id, true);
		const nn_routing_edge *e = nn_routing_edges_find(n->edges, &c->remote_id);
		if (nc->for_op && e &&
		    !(nn_node_conn_relayed(n, e->conn) && !nn_node_conn_relayed(n, c))) {
			/* Happy Eyeballs: the race was won by another attempt (or the peer dialled
			 * us meanwhile): close the loser, keep the edge we have */
			nn_node_close_conn(n, c, NN_TP_REASON_NORMAL);
			return;
		}
		if (nc->probe) {
			/* probe-before-evict: the incumbent answered */
			(void)nn_routing_kt_confirm(n->kt, &c->remote_id, true, nn_node_now(n));
			nn_node_close_conn(n, c, NN_TP_REASON_NORMAL);
			return;
		}
		bool for_op = nc->for_op, bootstrap = nc->bootstrap;
		if (!for_op && !bootstrap && nn_node_subnet_full_addr(n, &c->remote_addr, &c->remote_id)) {
			/* a maintenance dial whose subnet filled up (inbound) while it was in flight */
			nn_node_close_conn(n, c, NN_TP_REASON_POLICY);
			return;
		}
		unsigned op = nc->op;
		uint32_t serial = nc->op_serial;
		int rc = nn_node_register(n, c); /* may close c (and free nc) */
		if (rc == 0) {
			if (n->m.dial_timeout_ms > 0 && c->user)
				((struct nconn *)c->user)->answer_by =
					nn_node_now(n) + nn_node_ms(n->m.dial_timeout_ms);
			(void)nn_node_send_ping(n, c);
			if (bootstrap)
				nn_node_joined(n, c);
			else
				nn_node_edge_up(n, c);
		} else if (for_op) {
			nn_node_ops_dial_failed(n, op, serial, rc); /* refused: PoW, admission hook */
		}
		return;
	}
	struct nconn *nc = nn_node_nconn_new(n);
	if (!nc) {
		nn_tp_close(n->tp, c, NN_TP_REASON_POLICY);
		return;
	}
	nc->c = c;
	c->user = nc;
	if (nn_node_relayed_addr(n, &c->remote_addr))
		nc->path = NN_PATH_RELAY; /* from an allocation a Bind made us punch */
	nn_node_admit_keys(n, nc, c);
	/* registers on its first frame (nn_node_on_frame) */
}

static void on_dial_failed(void *ctx, void *user, const nn_id *want, const nn_addr *addr, int err)
{
	nn_node *n = ctx;
	struct nconn *nc = user;
	(void)addr;
	if (nn_node_media_dial_failed(n, user, err))
		return; /* a media dial: no edge, no backoff */
	n->stats.dial_failures++;
	if (nc) {
		dial_settled(n, nc);
		bool probe = nc->probe, for_op = nc->for_op;
		unsigned op = nc->op;
		uint32_t serial = nc->op_serial;
		nn_node_nconn_free(n, nc);
		if (for_op) {
			/* one address of a connect failed: the call decides, the contact's
			 * maintenance backoff is not charged */
			nn_node_ops_dial_failed(n, op, serial, err);
			return;
		}
		if (probe) {
			(void)nn_routing_kt_confirm(n->kt, want, false, nn_node_now(n));
			return;
		}
	}
	char hex[65];
	nn_node_log(n, NN_LOG_DEBUG, "dial %s failed: %s", nn_node_hex(want, hex), nn_errname(err));
	nn_node_dial_done(n, want, false);
	nn_node_ops_maintain(n, want, err); /* the contact may sit behind a NAT: punch */
}

static void on_closed(void *ctx, nn_conn *c, int err, uint64_t reason)
{
	nn_node *n = ctx;
	if (c->kind == NN_CONN_MEDIA) {
		nn_node_media_on_closed(n, c, err, reason);
		return;
	}
	struct nconn *nc = c->user;
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &c->remote_id);
	if (c->outbound && err == NN_ECLOSED && reason == NN_TP_REASON_POLICY)
		nn_node_dial_done(n, &c->remote_id, false); /* refused by the peer: back off */
	if (e && e->conn == c) {
		nn_id peer = e->id;
		nn_routing_edges_remove(n->edges, &peer);
		edge_gone(n, &peer);
	}
	if (nc)
		nn_node_nconn_free(n, nc);
}

static void on_writable(void *ctx, nn_conn *c)
{
	if (c->kind == NN_CONN_MEDIA)
		nn_node_media_on_writable(ctx, c);
}

static void on_frame(void *ctx, nn_conn *c, nn_pkt **pkt)
{
	if (c->kind == NN_CONN_MEDIA)
		nn_node_media_on_frame(ctx, c, pkt);
	else
		nn_node_on_frame(ctx, c, pkt);
}

static void on_datagram(void *ctx, nn_conn *c, nn_pkt **pkt)
{
	if (c->kind == NN_CONN_MEDIA)
		nn_node_media_on_datagram(ctx, c, pkt);
}

void nn_node_sink_install(nn_node *n)
{
	nn_tp_sink s = {
		.ctx = n,
		.on_conn = on_conn,
		.on_dial_failed = on_dial_failed,
		.on_frame = on_frame,
		.on_datagram = on_datagram,
		.on_writable = on_writable,
		.on_closed = on_closed,
	};
	nn_tp_set_sink(n->tp, &s);
}
