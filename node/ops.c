/* ops.c — the node's asynchronous calls: rendezvous, connect (the cascade) and send_direct.
 *
 * Each call takes a slot of a fixed table (NN_NODE_MAX_OPS) with its own timer and a deadline,
 * and completes exactly once: the result is parked in the slot (stage DONE) and the callback
 * runs from the slot's timer, so it never runs inside the call that started it and a callback
 * may start new calls. Stop and free complete everything pending with NN_ECANCELED.
 *
 * The connect cascade (local policy; §13.7 of the v1 facts, bounded): an existing edge wins at
 * once; a call whose target's verified addresses we hold and that look directly reachable
 * dials them first and holds the rendezvous back NN_OP_EARLY_WAIT (or until those dials failed); else
 * rendezvous (Hellos resent 1, 3, 7 s after the first) → direct: Happy Eyeballs over
 * the verified addresses (RFC 8305 style: one attempt every NN_OP_STAGGER, the next one at once
 * when an attempt fails, the stage ends NN_OP_DIRECT_TAIL after its last attempt or when every
 * attempt failed) → punch (Connect/ConnectAck over the overlay, volleys and dials from both
 * sides, nat.c; the Connect leaves with the first direct dial, or for a call to a target that
 * looks directly reachable after NN_OP_CONNECT_DELAY_*; each wait bounded; between a
 * symmetric side and a cone / filtered one, birthday probing as its bounded sub-stage) → relay
 * (RelayRequest to volunteers among our edges, nearest the target first, next one on a Refuse
 * or an unanswered wait, a dial through the granted allocation; bounded by NN_OP_RELAY_SPAN)
 * → the most meaningful error. A rendezvous unanswered for NN_OP_RDV_SPAN goes straight to the
 * relay stage (nothing to dial without the Reply's addresses). The maintenance dialer's
 * cascades relay only where birthday probing could not help (they never probe). An edge
 * to the target that comes up by any route (we dialled, it dialled us, maintenance) completes
 * the call; later winners of the same race are closed by conn.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
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
		if (op->kind != NN_OP_RENDEZVOUS && op->stage_end && op->stage_end < at)
			at = op->stage_end;
	} else if (op->stage == NN_STAGE_DIRECT) {
		if (op->next_cand < op->ncand && op->next_dial < at)
			at = op->next_dial;
		if (op->connect_at && op->connect_at < at)
			at = op->connect_at;
		if (op->stage_end < at)
			at = op->stage_end;
	} else if (op->stage == NN_STAGE_PUNCH) {
		if (op->acked && op->volleys < NN_OP_VOLLEYS && op->next_volley < at)
			at = op->next_volley;
		if (op->bday_role && !op->bday_started && op->bday_at < at)
			at = op->bday_at;
		if (op->bday_started && op->bday_role == NN_NAT_BDAY_SPRAY &&
		    op->probes < NN_OP_BDAY_PROBES && op->next_probe < at)
			at = op->next_probe;
		if (op->stage_end < at)
			at = op->stage_end;
	} else if (op->stage == NN_STAGE_RELAY) {
		if (op->relay_waiting && op->relay_wait_end < at)
			at = op->relay_wait_end;
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
	if (op->bday_started && status != 0)
		n->stats.birthday_gave_up++;
	if (op->upgrade) {
		if (status == 0)
			n->stats.upgrades_ok++;
	} else if (op->maint) {
		if (status == 0)
			n->stats.maint_cascades_ok++;
	} else if (op->kind == NN_OP_CONNECT || op->kind == NN_OP_DIRECT) {
		if (status == 0)
			n->stats.connects_ok++;
		else
			n->stats.connects_failed++;
	} else if (op->kind == NN_OP_PUNCHBACK && status == 0) {
		n->stats.punchbacks_ok++;
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
			o.cb.conn(o.user, st, &o.target, st == 0 ? o.how : NULL,
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
static void punch_start(nn_node *n, struct nn_op *op);
static void relay_start(nn_node *n, struct nn_op *op);

static void stage_next(nn_node *n, struct nn_op *op)
{
	switch (op->stage) {
	case NN_STAGE_DIRECT:
		if (op->kind != NN_OP_PUNCHBACK && (n->tp->caps & NN_TP_CAP_PUNCH)) {
			if (!op->connect_sent) {
				punch_start(n, op);
				return;
			}
			/* the Connect went out with the direct stage: wait for its Ack, no longer than
			 * its own bound */
			op->stage = NN_STAGE_PUNCH;
			op->stage_end = op->ack_by;
			op_arm(n, op);
			return;
		}
		/* fall through */
	case NN_STAGE_PUNCH:
		/* a background cascade relays only pairs no direct path joins: where birthday
		 * probing could open one, it leaves the pair to a call (which probes) */
		if (op->kind != NN_OP_PUNCHBACK && !op->upgrade && !(op->maint && op->bday_could)) {
			if (op->bday_started)
				n->stats.relay_after_birthday++; /* probing missed: the relay rescues */
			relay_start(n, op);
			return;
		}
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

/* ---- the punch stage ----
 * Initiator: Connect(nonce, coords) to the target, bounded wait for its ConnectAck; then punch
 * volleys to every candidate (the Ack's addresses first, then the Reply's) and, with the second
 * volley, a dial to each. A punchback (the target's half) starts at the volleys. The stage ends
 * NN_OP_PUNCH_TAIL after the dials, or when every dial failed. */
static int send_connect(nn_node *n, struct nn_op *op)
{
	op->acked = false;
	op->volleys = 0;
	op->ack_by = nn_node_now(n) + NN_OP_PUNCH_ACK_WAIT;
	int rc = nn_node_send_connect(n, op);
	op->connect_sent = rc == 0;
	return rc;
}

static void punch_start(nn_node *n, struct nn_op *op)
{
	op->stage = NN_STAGE_PUNCH;
	op->connect_at = 0;
	int rc = send_connect(n, op);
	op->stage_end = op->ack_by;
	if (rc < 0) {
		note_err(op, rc == NN_EUNROUTABLE ? NN_EUNREACH : rc);
		stage_next(n, op);
		return;
	}
	op_arm(n, op);
}

/* Put the addresses first (in order), then what op->cand held, deduplicated, dialable only. */
static void punch_candidates(nn_node *n, struct nn_op *op, const nn_addr *first, size_t nfirst)
{
	nn_addr old[NN_OP_CANDIDATES];
	unsigned nold = op->ncand;
	memcpy(old, op->cand, nold * sizeof *old);
	op->ncand = 0;
	for (size_t i = 0; i < nfirst + nold && op->ncand < NN_OP_CANDIDATES; i++) {
		const nn_addr *a = i < nfirst ? &first[i] : &old[i - nfirst];
		if (!nn_node_addr_dialable(n, a))
			continue;
		bool dup = false;
		for (unsigned j = 0; j < op->ncand; j++)
			dup |= nn_addr_eq(&op->cand[j], a);
		if (!dup)
			op->cand[op->ncand++] = *a;
	}
	op->next_cand = 0;
}

static void punch_go(nn_node *n, struct nn_op *op, nn_time end)
{
	op->acked = true;
	op->volleys = 0; /* dials_out keeps counting direct dials still in flight */
	op->bday_role = NN_NAT_BDAY_NONE;
	op->bday_started = false;
	op->next_volley = nn_node_now(n);
	op->stage_end = end;
	if (!op->ncand)
		note_err(op, NN_EUNREACH);
}

/* ---- birthday probing, a sub-stage of the punch (nat.c, transport ops.birthday) ----
 * Decided when the other side's Connect / ConnectAck arrives (its NAT hint and our verdict);
 * starts NN_OP_BDAY_DELAY later unless an edge came up meanwhile, and stretches the punch
 * stage (and a punchback's deadline) to NN_OP_BDAY_SPAN after its start. */
static void bday_plan(nn_node *n, struct nn_op *op, const nn_nat_connect *m)
{
	op->bday_role = (uint8_t)nn_node_bday_role(n, m);
	op->bday_could = op->bday_role != NN_NAT_BDAY_NONE;
	if (op->maint)
		op->bday_role = NN_NAT_BDAY_NONE; /* calls only (see NN_OP_BDAY_SPRAYS) */
	if (!op->bday_role || !op->ncand) {
		op->bday_role = NN_NAT_BDAY_NONE;
		return;
	}
	op->bday_at = nn_node_now(n) + NN_OP_BDAY_DELAY;
	op->bday_to = op->cand[0]; /* the other side's first coordinate: its public address */
	nn_time end = op->bday_at + NN_OP_BDAY_SPAN;
	if (op->stage_end < end)
		op->stage_end = end;
	if (op->kind == NN_OP_PUNCHBACK && op->deadline < end)
		op->deadline = end;
}

static void bday_tick(nn_node *n, struct nn_op *op, nn_time now)
{
	if (!op->bday_role)
		return;
	if (!op->bday_started) {
		if (now < op->bday_at)
			return;
		/* a sprayer: the Connect's addresses are unverified hints, so a node sprays for at most
		 * NN_OP_BDAY_SPRAYS ops at once (a flood of Connects cannot turn it into a
		 * packet cannon; each is charged to its originator's limiter too) */
		unsigned spraying = 0;
		for (unsigned i = 0; i < NN_NODE_MAX_OPS; i++) {
			const struct nn_op *o = op_at(n, i);
			spraying += o != op && o->kind != NN_OP_FREE && o->stage != NN_STAGE_DONE &&
				    o->bday_started && o->bday_role == NN_NAT_BDAY_SPRAY &&
				    o->probes < NN_OP_BDAY_PROBES;
		}
		if (op->bday_role == NN_NAT_BDAY_SPRAY &&
		    (spraying >= NN_OP_BDAY_SPRAYS || !nn_tbucket_take(&n->spray_budget, 1, now))) {
			n->stats.dropped_birthday_busy++;
			op->bday_role = NN_NAT_BDAY_NONE;
			return;
		}
		op->bday_started = true;
		n->stats.birthday_started++;
		char hex[65];
		nn_node_log(n, NN_LOG_DEBUG, "birthday %s with %s",
			    op->bday_role == NN_NAT_BDAY_SOCKETS ? "sockets" : "spray",
			    nn_node_hex(&op->target, hex));
		if (op->bday_role == NN_NAT_BDAY_SOCKETS) {
			int rc = nn_node_birthday_for(n, &op->target, op->cand, op->ncand,
						      NN_OP_BDAY_SOCKETS, NN_OP_BDAY_WINDOW,
						      (unsigned)(op - n->ops), op->serial);
			if (rc == 0)
				op->dials_out++;
			else
				note_err(op, rc == NN_EADDR || rc == NN_EINVAL ? NN_EUNREACH : rc);
			return;
		}
		/* a random permutation of the port range (start, step coprime with it), so no port
		 * is probed twice */
		uint32_t r[2];
		nn_node_rand_bytes(n, (uint8_t *)r, sizeof r);
		op->spray_start = r[0] % NN_OP_BDAY_PORTS;
		op->spray_step = 1 + r[1] % (NN_OP_BDAY_PORTS - 1);
		while (op->spray_step % 2 == 0 || op->spray_step % 3 == 0 || op->spray_step % 7 == 0)
			op->spray_step = 1 + op->spray_step % (NN_OP_BDAY_PORTS - 1);
		op->probes = 0;
		op->next_probe = now + NN_OP_BDAY_SPRAY_LAG;
	}
	while (op->bday_role == NN_NAT_BDAY_SPRAY && op->probes < NN_OP_BDAY_PROBES &&
	       now >= op->next_probe) {
		nn_node_bday_spray(n, op, NN_OP_BDAY_BATCH);
		op->next_probe += NN_OP_BDAY_PACE;
	}
}

static void punch_tick(nn_node *n, struct nn_op *op)
{
	nn_time now = nn_node_now(n);
	while (op->acked && op->volleys < NN_OP_VOLLEYS && now >= op->next_volley) {
		nn_node_punch_volley(n, op);
		op->volleys++;
		op->next_volley += NN_OP_VOLLEY_GAP;
		if (op->volleys == 2) {
			/* both NATs have seen a volley go out: dial every candidate at once */
			while (op->next_cand < op->ncand) {
				const nn_addr *a = &op->cand[op->next_cand++];
				int rc = nn_node_dial_for(n, &op->target, a, (unsigned)(op - n->ops),
							  op->serial);
				if (rc == 0)
					op->dials_out++;
				else
					note_err(op, rc == NN_EADDR || rc == NN_EINVAL ? NN_EUNREACH : rc);
			}
		}
	}
	bday_tick(n, op, now);
	bool dialled = op->acked && op->volleys >= 2;
	bool bday_busy = op->bday_role &&
			 (!op->bday_started || (op->bday_role == NN_NAT_BDAY_SPRAY &&
						op->probes < NN_OP_BDAY_PROBES));
	if (now >= op->stage_end ||
	    (dialled && op->dials_out == 0 && op->volleys >= NN_OP_VOLLEYS && !bday_busy)) {
		stage_next(n, op);
		return;
	}
	op_arm(n, op);
}

void nn_node_ops_connect_ack(nn_node *n, const nn_id *origin, const nn_nat_connect *m)
{
	for (unsigned i = 0; n->ops && i < NN_NODE_MAX_OPS; i++) {
		struct nn_op *op = op_at(n, i);
		if ((op->kind != NN_OP_CONNECT && op->kind != NN_OP_DIRECT) ||
		    (op->stage != NN_STAGE_PUNCH && op->stage != NN_STAGE_DIRECT) ||
		    !op->connect_sent || op->acked || !nn_kad_id_eq(&op->target, origin) ||
		    sodium_memcmp(op->punch_nonce, m->nonce, NN_NAT_NONCE_LEN))
			continue;
		n->stats.connect_acks_rx++;
		op->stage = NN_STAGE_PUNCH; /* direct dials still in flight may yet win */
		punch_candidates(n, op, m->addrs, m->naddrs);
		punch_go(n, op, nn_node_now(n) + NN_OP_VOLLEYS * NN_OP_VOLLEY_GAP + NN_OP_PUNCH_TAIL);
		bday_plan(n, op, m);
		punch_tick(n, op);
		return;
	}
	n->stats.dropped_unsolicited++; /* no punch of ours waits for it */
}

int nn_node_ops_punchback(nn_node *n, const nn_id *origin, const nn_nat_connect *m)
{
	unsigned running = 0;
	struct nn_op *op = NULL;
	for (unsigned i = 0; n->ops && i < NN_NODE_MAX_OPS; i++) {
		struct nn_op *o = op_at(n, i);
		if (o->kind != NN_OP_PUNCHBACK || o->stage == NN_STAGE_DONE)
			continue;
		running++;
		if (nn_kad_id_eq(&o->target, origin))
			op = o;
	}
	nn_time span = NN_OP_VOLLEYS * NN_OP_VOLLEY_GAP + NN_OP_PUNCH_TAIL;
	if (!op) {
		if (running >= NN_OP_PUNCHBACKS)
			return NN_ELIMIT;
		int rc = op_new(n, NN_OP_PUNCHBACK, origin, span / NN_MS, &op);
		if (rc < 0)
			return rc;
	}
	op->stage = NN_STAGE_PUNCH;
	op->ncand = 0;
	punch_candidates(n, op, m->addrs, m->naddrs);
	op->deadline = nn_node_now(n) + span;
	punch_go(n, op, op->deadline);
	bday_plan(n, op, m);
	punch_tick(n, op);
	return 0;
}

/* ---- the relay stage ----
 * Volunteers: live edges (not the target) whose knowledge entry advertises CanRelay, nearest
 * the target first (the nearest is the likeliest to have an edge to it). One RelayRequest at a
 * time; a Refuse or NN_OP_RELAY_WAIT without an answer moves to the next; a Grant starts a
 * dial through the relay (its failure moves to the next too). Bounded by NN_OP_RELAY_SPAN. */
static void relay_next(nn_node *n, struct nn_op *op)
{
	nn_time now = nn_node_now(n);
	op->relay_waiting = false;
	while (op->next_relay < op->nrelays && now < op->stage_end) {
		const nn_id *r = &op->relays[op->next_relay++];
		const nn_routing_edge *e = nn_routing_edges_find(n->edges, r);
		if (!e || !e->conn)
			continue; /* the edge went away meanwhile */
		nn_node_rand_bytes(n, op->relay_nonce, sizeof op->relay_nonce);
		if (nn_node_send_relay_request(n, e->conn, &op->target, op->relay_nonce) < 0)
			continue;
		op->relay_waiting = true;
		op->relay_wait_end = now + NN_OP_RELAY_WAIT;
		if (op->relay_wait_end > op->stage_end)
			op->relay_wait_end = op->stage_end;
		op_arm(n, op);
		return;
	}
	if (op->dials_out == 0 || now >= op->stage_end) {
		if (op->nrelays)
			note_err(op, NN_EUNREACH);
		op_finish(n, op, op->last_err);
		return;
	}
	op_arm(n, op); /* earlier stages' dials are still out: they may yet win */
}

static void relay_start(nn_node *n, struct nn_op *op)
{
	op->stage = NN_STAGE_RELAY;
	op->stage_end = nn_node_now(n) + NN_OP_RELAY_SPAN;
	op->nrelays = op->next_relay = 0;
	op->relay_waiting = op->relay_dialled = false;
	size_t ne = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < ne; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		if (!e || !e->conn || nn_kad_id_eq(&e->id, &op->target))
			continue;
		const nn_routing_kc *k = nn_routing_kt_get(n->kt, &e->id, NULL);
		if (!k || !(k->caps & NN_ROUTING_CAP_RELAY))
			continue;
		/* insertion into the nearest NN_OP_RELAYS, by distance to the target */
		unsigned j = op->nrelays;
		while (j > 0 && nn_kad_cmp_distance(&op->target, &e->id, &op->relays[j - 1]) < 0)
			j--;
		if (j >= NN_OP_RELAYS)
			continue;
		unsigned last = op->nrelays < NN_OP_RELAYS ? op->nrelays : NN_OP_RELAYS - 1;
		memmove(&op->relays[j + 1], &op->relays[j], (last - j) * sizeof op->relays[0]);
		op->relays[j] = e->id;
		if (op->nrelays < NN_OP_RELAYS)
			op->nrelays++;
	}
	if (!op->nrelays)
		n->stats.relay_no_volunteer++;
	relay_next(n, op);
}

static void relay_tick(nn_node *n, struct nn_op *op)
{
	nn_time now = nn_node_now(n);
	if (now >= op->stage_end) {
		if (op->relay_waiting)
			n->stats.relay_timeouts++;
		note_err(op, NN_ETIMEDOUT);
		op_finish(n, op, op->last_err);
		return;
	}
	if (op->relay_waiting && now >= op->relay_wait_end) {
		n->stats.relay_timeouts++; /* a reference relay that cannot serve stays silent */
		note_err(op, NN_ETIMEDOUT);
		relay_next(n, op);
		return;
	}
	op_arm(n, op);
}

int nn_node_ops_relay_answer(nn_node *n, const nn_id *relay, const uint8_t *nonce,
			     const nn_addr *addr, uint8_t reason)
{
	for (unsigned i = 0; n->ops && i < NN_NODE_MAX_OPS; i++) {
		struct nn_op *op = op_at(n, i);
		if (op->kind == NN_OP_FREE || op->stage != NN_STAGE_RELAY || !op->relay_waiting ||
		    !op->next_relay || !nn_kad_id_eq(&op->relays[op->next_relay - 1], relay) ||
		    sodium_memcmp(op->relay_nonce, nonce, NN_NAT_RELAY_NONCE_LEN))
			continue;
		op->relay_waiting = false;
		char hex[65];
		if (!addr) {
			n->stats.relay_refusals_rx++;
			nn_node_log(n, NN_LOG_DEBUG, "relay %s refused (%s)",
				    nn_node_hex(relay, hex), nn_nat_relay_reason_name(reason));
			note_err(op, NN_EREFUSED);
			relay_next(n, op);
			return 0;
		}
		n->stats.relay_grants_rx++;
		int rc = NN_EADDR;
		if (nn_node_addr_dialable(n, addr)) {
			/* noted before the dial: the connection records that it runs through the
			 * relay (conn.c) whichever op or dial its edge comes up for first */
			nn_node_relayed_note(n, &op->target, relay, addr);
			rc = nn_node_dial_for(n, &op->target, addr, i, op->serial);
		}
		if (rc < 0) {
			note_err(op, rc == NN_EADDR || rc == NN_EINVAL ? NN_EUNREACH : rc);
			relay_next(n, op);
			return 0;
		}
		op->dials_out++;
		op->relay_dialled = true;
		op->relay_addr = *addr;
		nn_node_log(n, NN_LOG_DEBUG, "relay %s granted: dialling %s through it",
			    nn_node_hex(relay, hex), nn_node_hex(&op->target, hex));
		op_arm(n, op);
		return 0;
	}
	return NN_ENONCE;
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
	/* addresses dialled early (before the rendezvous) stay candidates, dialled and counted */
	op->stage = NN_STAGE_DIRECT;
	op->stage_end = nn_node_now(n) + NN_OP_DIRECT_TAIL;
	for (size_t i = 0; i < k->naddrs && op->ncand < NN_OP_CANDIDATES; i++) {
		if (!nn_node_addr_dialable(n, &k->addrs[i]))
			continue;
		bool dup = false;
		for (unsigned j = 0; j < op->ncand; j++) {
			if (!nn_addr_eq(&op->cand[j], &k->addrs[i]))
				continue;
			dup = true;
			uint8_t bit = (uint8_t)(1u << j);
			if ((op->early_live & bit) && !(op->early_adopted & bit)) {
				op->early_adopted |= bit; /* the target signed it: our direct dial now */
				op->dials_out++;
			}
		}
		if (!dup)
			op->cand[op->ncand++] = k->addrs[i];
	}
	if (!op->ncand)
		note_err(op, NN_EUNREACH);
	dial_next(n, op);
	/* Punch alongside (local policy, NN_OP_CONNECT_DELAY_*): the Connect goes out with the
	 * first direct dial, so a target behind a NAT starts its half while our direct attempts
	 * run, and such a connect costs one round of signalling, not the direct stage's timeouts
	 * first. A call to a target whose signed addresses all look reachable defers it: such a
	 * target answers our dial within a round trip or two, and a Connect would make it dial
	 * back, two handshakes racing for one edge. It may still filter (a firewall keeps its
	 * address), so the Connect follows after a bounded wait, or at once when every direct dial
	 * failed (stage_next). A target that already has the edge when a Connect arrives answers
	 * without punching. */
	if (op->kind != NN_OP_PUNCHBACK && (n->tp->caps & NN_TP_CAP_PUNCH)) {
		if (!op->maint && !op->upgrade && op->dials_out &&
		    nn_node_addrs_look_direct(n, k->addrs, k->naddrs)) {
			nn_time now = nn_node_now(n), d = 2 * (now - op->rdv_start);
			if (d < NN_OP_CONNECT_DELAY_MIN)
				d = NN_OP_CONNECT_DELAY_MIN;
			if (d > NN_OP_CONNECT_DELAY_MAX)
				d = NN_OP_CONNECT_DELAY_MAX;
			op->connect_at = now + d;
			n->stats.connects_deferred++;
		} else {
			(void)send_connect(n, op);
		}
	}
	direct_check(n, op);
}

/* What op itself knows of how c came up: birthday or punch when it ran those stages (a
 * punchback: the Connect arrived), punch too when c is the target's dial to us after our
 * Connect went out (the target's half of the punch), else a plain dial. */
static uint8_t op_path(const struct nn_op *op, const nn_conn *c)
{
	if (op->bday_started)
		return NN_PATH_BIRTHDAY;
	if (op->acked || (op->connect_sent && !c->outbound))
		return NN_PATH_PUNCH;
	return NN_PATH_DIRECT;
}

/* The connect (or direct) call has its edge (existing: it was up before the call). */
static void op_connected(nn_node *n, struct nn_op *op, nn_conn *c, bool existing)
{
	snprintf(op->won_addr, sizeof op->won_addr, "%.*s", (int)c->remote_addr.ep_len,
		 c->remote_addr.ep);
	/* A connection through a relay knows it from its making (conn.c: the allocation address
	 * was noted before the dial, or by the Bind before the inbound connection), whichever op,
	 * maintenance dial or peer's dial it came from; an edge that existed keeps how it came up.
	 * Otherwise the stages the ops for this peer ran tell punch and birthday from a plain
	 * dial: the connection keeps the strongest word of them (nn_node_ops_edge_up raises it
	 * before any op completes, so a call op that knows less, e.g. whose ConnectAck is still
	 * on its way while a punch-back op for the same peer had the target's Connect, reports
	 * the same). */
	static const char *const how[] = {"direct", "punch", "birthday", "relay"};
	struct nconn *nc = c->user;
	bool relayed = nn_node_conn_relayed(n, c);
	if (relayed || existing) {
		op->how = nn_node_edge_path(n, c);
	} else { /* nc->path already holds every waiting op's word (nn_node_ops_edge_up) */
		op->how = how[nc ? nc->path : op_path(op, c)];
	}
	if (!op->maint && !op->upgrade && op->kind != NN_OP_PUNCHBACK) { /* connect calls only */
		if (relayed)
			n->stats.connects_relayed++;
		else if (op->bday_started)
			n->stats.connects_birthday++;
		else if (op->acked)
			n->stats.connects_punched++;
	}
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
		if (op->kind != NN_OP_RENDEZVOUS && op->stage_end && now >= op->stage_end) {
			/* no Reply: no addresses to dial or punch (a target only volunteers' edges
			 * reach, e.g. behind a firewall that lets UDP out to a few hosts, is not
			 * routable for the Hello either) — a relay needs none */
			if (op->upgrade) { /* the edge is relayed already */
				op_finish(n, op, NN_ETIMEDOUT);
				return;
			}
			n->stats.relay_after_rendezvous++;
			relay_start(n, op);
			return;
		}
		if (now >= op->next_hello) {
			if (!op->hellos)
				op->rdv_start = now;
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
		if (op->connect_at && now >= op->connect_at) {
			op->connect_at = 0;
			if (!op->connect_sent)
				(void)send_connect(n, op); /* no edge yet: the target may filter */
		}
		if (now >= op->next_dial)
			dial_next(n, op);
		direct_check(n, op);
	} else if (op->stage == NN_STAGE_PUNCH) {
		punch_tick(n, op);
	} else if (op->stage == NN_STAGE_RELAY) {
		relay_tick(n, op);
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

static bool op_waits_for(nn_node *n, const struct nn_op *op, const nn_id *peer, nn_conn *c)
{
	return (op->kind == NN_OP_CONNECT || op->kind == NN_OP_DIRECT ||
		op->kind == NN_OP_PUNCHBACK) &&
	       op->stage != NN_STAGE_DONE && nn_kad_id_eq(&op->target, peer) &&
	       !(op->upgrade && nn_node_conn_relayed(n, c));
}

void nn_node_ops_edge_up(nn_node *n, const nn_id *peer, nn_conn *c)
{
	struct nconn *nc = c->user;
	if (!n->ops)
		return;
	for (unsigned i = 0; nc && i < NN_NODE_MAX_OPS; i++) { /* every op's word first */
		const struct nn_op *op = op_at(n, i);
		uint8_t p = op_waits_for(n, op, peer, c) ? op_path(op, c) : NN_PATH_DIRECT;
		if (p > nc->path)
			nc->path = p;
	}
	for (unsigned i = 0; i < NN_NODE_MAX_OPS; i++) {
		struct nn_op *op = op_at(n, i);
		if (op_waits_for(n, op, peer, c))
			op_connected(n, op, c, false);
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
	unsigned cand = i >> 8;
	struct nn_op *op = op_live(n, i & 0xffu, serial);
	if (op && cand) {
		uint8_t bit = (uint8_t)(1u << (cand - 1));
		op->early_live &= (uint8_t)~bit;
		if (!(op->early_adopted & bit)) {
			/* an early dial the Reply did not (yet) name failed: a stale address is no
			 * word on the target (not noted); with none left before any Hello, the
			 * rendezvous starts now */
			if (op->stage == NN_STAGE_RENDEZVOUS && !op->early_live && !op->hellos) {
				op->next_hello = nn_node_now(n);
				op->stage_end = op->next_hello + NN_OP_RDV_SPAN;
				op_arm(n, op);
			}
			return;
		}
		op->early_adopted &= (uint8_t)~bit; /* a direct dial since the Reply: below */
	}
	if (!op || (op->stage != NN_STAGE_DIRECT && op->stage != NN_STAGE_PUNCH &&
		    op->stage != NN_STAGE_RELAY))
		return;
	if (op->dials_out)
		op->dials_out--;
	note_err(op, err);
	if (op->stage == NN_STAGE_RELAY) {
		/* the dial through the relay (or a late one of an earlier stage) failed: the next
		 * volunteer, unless a request is out already */
		if (!op->relay_waiting)
			relay_next(n, op);
		return;
	}
	if (op->stage == NN_STAGE_PUNCH) {
		punch_tick(n, op);
		return;
	}
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

/* An early dial's tag for conn.c (nconn.op): the slot and, above it, its candidate + 1. Until
 * the Reply names its address it is counted apart from dials_out (early_live): a dial to a
 * stale address must not hold the stages' "every dial failed" ends for its whole handshake
 * timeout. */
#define EARLY_TAG(op, i) ((op) | (((unsigned)(i) + 1u) << 8))

/* Dial addrs[0..k) for op as early candidates (verified: the target's own coordinates; else
 * knowledge-table addresses, in their own budget). Returns how many dials are out. */
static unsigned early_dials(nn_node *n, struct nn_op *op, const nn_addr *a, size_t k,
			    bool verified)
{
	unsigned out = 0;
	for (size_t i = 0; i < k && op->ncand < NN_OP_CANDIDATES; i++) {
		if (!nn_node_addr_dialable(n, &a[i]))
			continue;
		bool dup = false;
		for (unsigned j = 0; j < op->ncand; j++)
			dup |= nn_addr_eq(&op->cand[j], &a[i]);
		if (dup)
			continue;
		unsigned j = op->ncand;
		unsigned tag = EARLY_TAG((unsigned)(op - n->ops), j);
		int rc = verified ? nn_node_dial_for(n, &op->target, &a[i], tag, op->serial)
				  : nn_node_dial_early_kt(n, &op->target, &a[i], tag, op->serial);
		if (rc == NN_ELIMIT)
			break;
		op->cand[op->ncand++] = a[i];
		op->next_cand = op->ncand;
		if (rc == 0) {
			op->early_live |= (uint8_t)(1u << j);
			out++;
		}
	}
	return out;
}

/* A call that already holds addresses of its target that all look directly reachable dials
 * them before (or with) the rendezvous. The target's own signed coordinates (verified keys,
 * from an earlier Reply or its Hello): dialled at once, the Hello NN_OP_EARLY_WAIT later.
 * Without those, the knowledge table's addresses (NN_OP_EARLY_KT_DIALS): dialled alongside
 * the first Hello, which does not wait for them. Returns the Hello's delay: NN_OP_EARLY_WAIT,
 * or 0. */
static nn_time early_dial(nn_node *n, struct nn_op *op)
{
	const struct vkey *v = nn_node_vkey(n, &op->target);
	nn_time wait = 0;
	if (v && nn_node_addrs_look_direct(n, v->addrs, v->naddrs)) {
		if (early_dials(n, op, v->addrs, v->naddrs, true)) {
			wait = NN_OP_EARLY_WAIT;
			n->stats.connects_early++;
		}
	} else if (!v) {
		const nn_routing_kc *kc = nn_routing_kt_get(n->kt, &op->target, NULL);
		nn_routing_contact k;
		if (kc) {
			nn_routing_kc_contact(&k, kc);
			if (nn_node_addrs_look_direct(n, k.addrs, k.naddrs) &&
			    early_dials(n, op, k.addrs, k.naddrs, false))
				n->stats.connects_early_kt++;
		}
	}
	op->early = op->early_live != 0;
	return wait;
}

/* Connect or direct: an existing edge completes at once, else the cascade starts. */
static void cascade_start(nn_node *n, struct nn_op *op)
{
	const nn_routing_edge *e = nn_routing_edges_find(n->edges, &op->target);
	if (e && !(op->upgrade && nn_node_conn_relayed(n, e->conn))) {
		op_connected(n, op, e->conn, true);
		return;
	}
	op->stage = NN_STAGE_RENDEZVOUS;
	op->next_hello = nn_node_now(n);
	if (!op->maint && !op->upgrade)
		op->next_hello += early_dial(n, op);
	op->stage_end = op->next_hello + NN_OP_RDV_SPAN;
	op_arm(n, op);
}

void nn_node_ops_maintain(nn_node *n, const nn_id *id, int err)
{
	/* only where a punch can help: the transport punches, we have edges to signal over, and
	 * the dial went unanswered (not a wrong identity, a refusal or a bad address) */
	if (!(n->tp->caps & NN_TP_CAP_PUNCH) || n->stopping || !nn_routing_edges_len(n->edges) ||
	    (err != NN_ETIMEDOUT && err != NN_EUNREACH))
		return;
	unsigned running = 0;
	for (unsigned i = 0; n->ops && i < NN_NODE_MAX_OPS; i++) {
		const struct nn_op *o = op_at(n, i);
		if (o->kind == NN_OP_FREE || o->stage == NN_STAGE_DONE)
			continue;
		if (nn_kad_id_eq(&o->target, id) && o->kind != NN_OP_PUNCHBACK)
			return; /* a cascade for it runs already */
		running += o->maint;
	}
	if (running >= NN_OP_MAINT_CASCADES) {
		n->stats.dropped_maint_cascade_busy++;
		return;
	}
	struct nn_op *op;
	if (op_new(n, NN_OP_CONNECT, id, NN_OP_MAINT_TIMEOUT_MS, &op) < 0)
		return;
	op->maint = true;
	n->stats.maint_cascades++;
	cascade_start(n, op);
}

/* The relay -> direct upgrade (upgrade.c): the cascade without its relay stage, for a peer
 * whose edge runs through a relay; birthday probing where the NAT types call for it (it is a
 * background op, but paced by upgrade.c's back-off). A direct connection that comes up moves
 * the edge (conn.c) and completes the op. */
int nn_node_ops_upgrade(nn_node *n, const nn_id *id)
{
	if (n->stopping || !(n->tp->caps & NN_TP_CAP_PUNCH))
		return NN_ESTATE;
	for (unsigned i = 0; n->ops && i < NN_NODE_MAX_OPS; i++) {
		const struct nn_op *o = op_at(n, i);
		if (o->kind != NN_OP_FREE && o->stage != NN_STAGE_DONE &&
		    nn_kad_id_eq(&o->target, id) && o->kind != NN_OP_PUNCHBACK)
			return NN_EEXIST; /* a cascade for it runs already */
	}
	struct nn_op *op;
	int rc = op_new(n, NN_OP_CONNECT, id, NN_OP_MAINT_TIMEOUT_MS, &op);
	if (rc < 0)
		return rc;
	op->upgrade = true;
	n->stats.upgrades_tried++;
	cascade_start(n, op);
	return 0;
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
