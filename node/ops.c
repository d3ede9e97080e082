/* ops.c — the node's asynchronous calls: rendezvous, connect (the cascade) and send_direct.
 *
 * Each call takes a slot of a fixed table (NN_NODE_MAX_OPS) with its own timer and a deadline,
 * and completes exactly once: the result is parked in the slot (stage DONE) and the callback
 * runs from the slot's timer, so it never runs inside the call that started it and a callback
 * may start new calls. Stop and free complete everything pending with NN_ECANCELED.
 *
 * The connect cascade (local policy; §13.7 of the v1 facts, bounded): an existing edge wins at
 * once; else rendezvous (Hellos resent 1, 3, 7 s after the first) → direct: Happy Eyeballs over
 * the verified addresses (RFC 8305 style: one attempt every NN_OP_STAGGER, the next one at once
 * when an attempt fails, the stage ends NN_OP_DIRECT_TAIL after its last attempt or when every
 * attempt failed) → punch → relay (not built yet) → the most meaningful error. An edge
 * to the target that comes up by any route (we dialled, it dialled us, maintenance) completes
 * the call; later winners of the same race are closed by conn.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

static void op_timer(nn_timer *t, void *arg);

static struct nn_op *op_at(nn_node *n, unsigned i) { return &n->ops[i]; }

static int op_new(nn_node *n, uint8_t kind, const nn_id *target, int64_t timeout_ms,
		  struct nn_op **out)
{
	if (!target || timeout_ms < 0)
		return NN_EINVAL;
	if (nn_kad_id_eq(target, &n->ident.id))
		return NN_EINVAL;
	if (n->stopping)
		return NN_ESTATE;
	if (!n->ops && !(n->ops = calloc(NN_NODE_MAX_OPS, sizeof *n->ops)))
		return NN_ENOMEM;
	for (unsigned i = 0; i < NN_NODE_MAX_OPS; i++) {
		struct nn_op *op = op_at(n, i);
		if (op->kind != NN_OP_FREE)
			continue;
		uint32_t serial = ++n->op_serial;
		memset(op, 0, sizeof *op);
		op->kind = kind;
		op->serial = serial;
		op->target = *target;
		nn_time now = nn_node_now(n);
		op->deadline = now + nn_node_ms(timeout_ms ? timeout_ms : NN_NODE_DEFAULT_TIMEOUT_MS);
		op->last_err = NN_ETIMEDOUT;
		nn_timer_init(&op->timer, op_timer, n);
		*out = op;
		return 0;
	}
	return NN_ELIMIT;
}

static void op_arm(nn_node *n, struct nn_op *op)
{
	nn_time at = op->deadline;
	if (op->stage == NN_STAGE_DONE) {
		at = nn_node_now(n);
	} else if (op->stage == NN_STAGE_RENDEZVOUS) {
		if (op->next_hello < at)
			at = op->next_hello;
	} else if (op->stage == NN_STAGE_DIRECT) {
		if (op->next_cand < op->ncand && op->next_dial < at)
			at = op->next_dial;
		if (op->stage_end < at)
			at = op->stage_end;
	}
	nn_timer_stop(n->clock, &op->timer);
	(void)nn_timer_start(n->clock, &op->timer, at);
}

/* Park the result; the callback runs from the timer (never inside the starting call). */
static void op_finish(nn_node *n, struct nn_op *op, int status)
{
	if (op->stage == NN_STAGE_DONE)
		return;
	op->stage = NN_STAGE_DONE;
	op->status = status;
	if (op->kind != NN_OP_RENDEZVOUS) {
		if (status == 0)
			n->stats.connects_ok++;
		else
			n->stats.connects_failed++;
	}
	op_arm(n, op);
}

/* Run the callback and free the slot (before the call: the callback may start new calls). */
static void op_deliver(nn_node *n, struct nn_op *op)
{
	struct nn_op o = *op;
	nn_timer_stop(n->clock, &op->timer);
	op->kind = NN_OP_FREE;
	op->payload = NULL;
	op->keys = NULL;
	int st = o.status;
	n->in_app++; /* the application is on the stack: nn_node_free refuses */
	switch (o.kind) {
	case NN_OP_RENDEZVOUS:
		if (o.cb.rdv)
			o.cb.rdv(o.user, st, &o.target, st == 0 ? o.keys : NULL);
		break;
	case NN_OP_CONNECT:
		if (o.cb.conn)
			o.cb.conn(o.user, st, &o.target, st == 0 ? "direct" : NULL,
				  st == 0 ? o.won_addr : NULL);
		break;
	case NN_OP_DIRECT:
		if (o.cb.done)
			o.cb.done(o.user, st, &o.target);
		break;
	default:
		break;
	}
	n->in_app--;
	free(o.payload);
	free(o.keys);
}

/* Prefer the error that tells the most: an identity mismatch or a refusal over plain
 * unreachability over a timeout. */
static int rank_err(int err)
{
	switch (err) {
	case NN_EIDMISMATCH:
	case NN_EPOW:
	case NN_EREFUSED:
		return 3;
	case NN_EUNREACH:
	case NN_ETLS:
		return 2;
	case NN_ETIMEDOUT:
		return 1;
	default:
		return 0;
	}
}

static void note_err(struct nn_op *op, int err)
{
	if (rank_err(err) >= rank_err(op->last_err))
		op->last_err = err;
}

/* ---- the cascade ---- */
static void stage_next(nn_node *n, struct nn_op *op)
{
	switch (op->stage) {
	case NN_STAGE_DIRECT:
		/* punch: needs the NAT layer (hole-punch signalling), not built yet */
		op->stage = NN_STAGE_PUNCH;
		/* fall through */
	case NN_STAGE_PUNCH:
		/* relay: needs a volunteer relay (NAT layer), not built yet */
		op->stage = NN_STAGE_RELAY;
		/* fall through */
	default:
		op_finish(n, op, op->last_err);
		break;
	}
}

static void dial_next(nn_node *n, struct nn_op *op)
{
	nn_time now = nn_node_now(n);
	while (op->next_cand < op->ncand) {
		const nn_addr *a = &op->cand[op->next_cand++];
		int rc = nn_node_dial_for(n, &op->target, a, (unsigned)(op - n->ops), op->serial);
		if (rc == 0) {
			op->dials_out++;
			op->next_dial = now + NN_OP_STAGGER;
			op->stage_end = now + NN_OP_DIRECT_TAIL;
			return;
		}
		note_err(op, rc == NN_EADDR || rc == NN_EINVAL ? NN_EUNREACH : rc);
	}
}

static void direct_check(nn_node *n, struct nn_op *op)
{
	if (op->next_cand >= op->ncand && (op->dials_out == 0 || nn_node_now(n) >= op->stage_end))
		stage_next(n, op);
	else
		op_arm(n, op);
}

static void direct_start(nn_node *n, struct nn_op *op, const struct vkey *k)
{
	op->stage = NN_STAGE_DIRECT;
	op->ncand = op->next_cand = op->dials_out = 0;
	for (size_t i = 0; i < k->naddrs && op->ncand < NN_OP_CANDIDATES; i++) {
		bool dup = false;
		for (unsigned j = 0; j < op->ncand; j++)
			dup |= nn_addr_eq(&op->cand[j], &k->addrs[i]);
		if (!dup)
			op->cand[op->ncand++] = k->addrs[i];
	}
	if (!op->ncand)
		note_err(op, NN_EUNREACH);
	dial_next(n, op);
	direct_check(n, op);
}

/* The connect (or direct) call has its edge. */
static void op_connected(nn_node *n, struct nn_op *op, nn_conn *c)
{
	snprintf(op->won_addr, sizeof op->won_addr, "%.*s", (int)c->remote_addr.ep_len,
		 c->remote_addr.ep);
	int st = 0;
	if (op->kind == NN_OP_DIRECT) {
		int len = nn_wire_frame_encode(n->tx, NN_WIRE_MAX_FRAME, NN_T_APP, op->payload,
					       op->plen);
		st = len < 0 ? len : nn_node_send_conn(n, c, n->tx, (size_t)len);
		if (st == 0)
			n->stats.direct_tx++;
	}
	op_finish(n, op, st);
}

static void op_timer(nn_timer *t, void *arg)
{
	nn_node *n = arg;
	struct nn_op *op = (struct nn_op *)((char *)t - offsetof(struct nn_op, timer));
	nn_time now = nn_node_now(n);
	if (op->stage == NN_STAGE_DONE) {
		op_deliver(n, op);
		return;
	}
	if (now >= op->deadline) {
		op_finish(n, op, op->stage == NN_STAGE_RENDEZVOUS ? NN_ETIMEDOUT : op->last_err);
		return;
	}
	if (op->stage == NN_STAGE_RENDEZVOUS) {
		if (now >= op->next_hello) {
			int rc = nn_node_send_hello(n, op);
			op->hellos++;
			if (rc < 0 && op->hellos == 1) {
				op_finish(n, op, rc);
				return;
			}
			op->next_hello = now + (NN_SEC << (op->hellos < 3 ? op->hellos - 1 : 2));
		}
		op_arm(n, op);
		return;
	}
	if (op->stage == NN_STAGE_DIRECT) {
		if (now >= op->next_dial)
			dial_next(n, op);
		direct_check(n, op);
	}
}

/* ---- hooks from the rest of the node ---- */
void nn_node_ops_keys(nn_node *n, const nn_id *target, const struct vkey *k)
{
	for (unsigned i = 0; n->ops && i < NN_NODE_MAX_OPS; i++) {
		struct nn_op *op = op_at(n, i);
		if (op->kind == NN_OP_FREE || op->stage != NN_STAGE_RENDEZVOUS ||
		    !nn_kad_id_eq(&op->target, target))
			continue;
		if (op->kind != NN_OP_RENDEZVOUS) {
			direct_start(n, op, k);
			continue;
		}
		nn_peer_keys *pk = calloc(1, sizeof *pk);
		if (!pk) {
			op_finish(n, op, NN_ENOMEM);
			continue;
		}
		pk->id = *target;
		memcpy(pk->ed_pub, k->ed_pub, sizeof pk->ed_pub);
		memcpy(pk->x_pub, k->x_pub, sizeof pk->x_pub);
		for (size_t j = 0; j < k->naddrs && j < NN_NODE_MAX_ADDRS; j++)
			snprintf(pk->addrs[pk->naddrs++], sizeof pk->addrs[0], "%.*s",
				 (int)k->addrs[j].ep_len, k->addrs[j].ep);
		op->keys = pk;
		op_finish(n, op, 0);
	}
}

void nn_node_ops_edge_up(nn_node *n, const nn_id *peer, nn_conn *c)
{
	for (unsigned i = 0; n->ops && i < NN_NODE_MAX_OPS; i++) {
		struct nn_op *op = op_at(n, i);
		if ((op->kind == NN_OP_CONNECT || op->kind == NN_OP_DIRECT) &&
		    op->stage != NN_STAGE_DONE && nn_kad_id_eq(&op->target, peer))
			op_connected(n, op, c);
	}
}

static struct nn_op *op_live(nn_node *n, unsigned i, uint32_t serial)
{
	if (!n->ops || i >= NN_NODE_MAX_OPS)
		return NULL;
	struct nn_op *op = op_at(n, i);
	return op->kind != NN_OP_FREE && op->serial == serial ? op : NULL;
}

void nn_node_ops_dial_failed(nn_node *n, unsigned i, uint32_t serial, int err)
{
	struct nn_op *op = op_live(n, i, serial);
	if (!op || op->stage != NN_STAGE_DIRECT)
		return;
	if (op->dials_out)
		op->dials_out--;
	note_err(op, err);
	dial_next(n, op); /* RFC 8305: the next attempt starts as soon as one fails */
	direct_check(n, op);
}

void nn_node_ops_cancel_all(nn_node *n)
{
	for (unsigned i = 0; n->ops && i < NN_NODE_MAX_OPS; i++) {
		struct nn_op *op = op_at(n, i);
		if (op->kind == NN_OP_FREE)
			continue;
		if (op->stage != NN_STAGE_DONE) {
			op->stage = NN_STAGE_DONE;
			op->status = NN_ECANCELED;
		}
		op_deliver(n, op);
	}
}

void nn_node_ops_free(nn_node *n)
{
	nn_node_ops_cancel_all(n);
	free(n->ops);
	n->ops = NULL;
}

/* ---- public calls ---- */
int nn_node_rendezvous(nn_node *n, const nn_id *target, int64_t timeout_ms, nn_rendezvous_cb cb,
		       void *user)
{
	if (!n)
		return NN_EINVAL;
	struct nn_op *op;
	int rc = op_new(n, NN_OP_RENDEZVOUS, target, timeout_ms, &op);
	if (rc < 0)
		return rc;
	op->cb.rdv = cb;
	op->user = user;
	op->next_hello = nn_node_now(n); /* the first Hello goes from the timer, at once */
	op_arm(n, op);
	return 0;
}

/* Connect or direct: an existing edge completes at once, else the cascade starts. */
static void cascade_start(nn_node *n, struct nn_op *op)
{
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &op->target);
	if (e) {
		op_connected(n, op, e->conn);
		return;
	}
	op->stage = NN_STAGE_RENDEZVOUS;
	op->next_hello = nn_node_now(n);
	op_arm(n, op);
}

int nn_node_connect(nn_node *n, const nn_id *target, int64_t timeout_ms, nn_connect_cb cb,
		    void *user)
{
	if (!n)
		return NN_EINVAL;
	struct nn_op *op;
	int rc = op_new(n, NN_OP_CONNECT, target, timeout_ms, &op);
	if (rc < 0)
		return rc;
	op->cb.conn = cb;
	op->user = user;
	cascade_start(n, op);
	return 0;
}

int nn_node_send_direct(nn_node *n, const nn_id *target, const void *data, size_t len,
			int64_t timeout_ms, nn_done_cb cb, void *user)
{
	if (!n || (!data && len))
		return NN_EINVAL;
	if (len > NN_NODE_MAX_DIRECT)
		return NN_ETOOBIG;
	struct nn_op *op;
	int rc = op_new(n, NN_OP_DIRECT, target, timeout_ms, &op);
	if (rc < 0)
		return rc;
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, target);
	if (e) {
		/* the common case: no copy, the frame goes out now; only the callback waits */
		int flen = nn_wire_frame_encode(n->tx, NN_WIRE_MAX_FRAME, NN_T_APP, data, len);
		rc = flen < 0 ? flen : nn_node_send_conn(n, e->conn, n->tx, (size_t)flen);
		if (rc < 0) {
			op->kind = NN_OP_FREE;
			return rc;
		}
		n->stats.direct_tx++;
		op->cb.done = cb;
		op->user = user;
		op->stage = NN_STAGE_DONE; /* not counted as a connect */
		op->status = 0;
		op_arm(n, op);
		return 0;
	}
	if (len && !(op->payload = malloc(len))) {
		op->kind = NN_OP_FREE;
		return NN_ENOMEM;
	}
	if (len)
		memcpy(op->payload, data, len);
	op->plen = len;
	op->cb.done = cb;
	op->user = user;
	cascade_start(n, op);
	return 0;
}
