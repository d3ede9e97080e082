/* upgrade.c — relay -> direct upgrade: while an edge runs through a relay allocation, keep
 * looking for a direct path in the background with back-off, and let conn.c move the edge
 * when one comes up.
 *
 * Rules (local policy): one timer for the node. For every edge whose connection is relayed
 * (recorded on the connection when it was made, conn.c) an entry holds its back-off: the first
 * attempt NN_NODE_UPGRADE_FIRST after the edge is seen relayed, then one every
 * NN_NODE_UPGRADE_STEADY for the first NN_NODE_UPGRADE_EAGER attempts, then doubling up to
 * NN_NODE_UPGRADE_MAX, at most NN_NODE_UPGRADE_TRIES attempts (counted: upgrades_tried,
 * upgrades_gave_up). Both ends of the edge run attempts, the one with the larger NodeID half
 * a step behind the other (their dials would otherwise cross). An attempt still running when
 * the next is due is not doubled. An attempt is ops.c's cascade without its relay stage
 * (nn_node_ops_upgrade): rendezvous, direct, punch and birthday as the NAT types call for.
 * When a direct connection to the peer authenticates, conn.c registers it in place of the
 * relayed one (make-before-break: the relayed connection is retired, still read for the
 * grace period, then closed) without an edge down/up for the application. At most
 * NN_NODE_UPGRADES relayed peers are tracked; further ones wait for a free entry.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"

static void upgrade_tick(nn_timer *t, void *arg);

static void arm(nn_node *n, nn_time at)
{
	if (!n->upgrade_timer_on) {
		nn_timer_init(&n->upgrade_timer, upgrade_tick, n);
		n->upgrade_timer_on = true;
	}
	nn_time now = nn_node_now(n);
	nn_timer_stop(n->clock, &n->upgrade_timer);
	(void)nn_timer_start_in(n->clock, &n->upgrade_timer, at > now ? at - now : 0);
}

static struct upgrade *entry(nn_node *n, const nn_id *peer, bool make)
{
	if (!n->upgrade && (!make || !(n->upgrade = calloc(NN_NODE_UPGRADES, sizeof *n->upgrade))))
		return NULL;
	struct upgrade *free_slot = NULL;
	for (unsigned i = 0; i < NN_NODE_UPGRADES; i++) {
		struct upgrade *u = &n->upgrade[i];
		if (u->used && nn_kad_id_eq(&u->peer, peer))
			return u;
		if (!u->used && !free_slot)
			free_slot = u;
	}
	if (!make || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof *free_slot);
	free_slot->peer = *peer;
	/* both ends of a relayed edge run attempts; the end with the larger NodeID runs them
	 * half a step later, so the two do not dial each other at once (crossed dials) and a
	 * path that opens is tried from one end or the other every half step */
	free_slot->next = nn_node_now(n) + NN_NODE_UPGRADE_FIRST +
			  (nn_kad_cmp(&n->ident.id, peer) > 0 ? NN_NODE_UPGRADE_STEADY / 2 : 0);
	free_slot->used = true;
	return free_slot;
}

static void upgrade_tick(nn_timer *t, void *arg)
{
	(void)t;
	nn_node *n = arg;
	if (n->stopping)
		return;
	nn_time now = nn_node_now(n);
	/* entries whose edge is gone or direct now are done */
	for (unsigned i = 0; n->upgrade && i < NN_NODE_UPGRADES; i++) {
		struct upgrade *u = &n->upgrade[i];
		if (!u->used)
			continue;
		const nn_routing_edge *e = nn_routing_edges_find(n->edges, &u->peer);
		if (!e || !nn_node_conn_relayed(n, e->conn))
			u->used = false;
	}
	nn_time soonest = 0;
	size_t ne = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < ne; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		if (!e || !nn_node_conn_relayed(n, e->conn))
			continue;
		struct upgrade *u = entry(n, &e->id, true);
		if (!u || u->tries >= NN_NODE_UPGRADE_TRIES)
			continue;
		if (now >= u->next) {
			unsigned late = u->tries + 1 > NN_NODE_UPGRADE_EAGER
						? u->tries + 1 - NN_NODE_UPGRADE_EAGER : 0;
			nn_time gap = NN_NODE_UPGRADE_STEADY << (late < 6 ? late : 6);
			if (gap > NN_NODE_UPGRADE_MAX)
				gap = NN_NODE_UPGRADE_MAX;
			int rc = nn_node_ops_upgrade(n, &e->id);
			if (rc != NN_EEXIST) /* a cascade running for it already: not our attempt */
				u->tries++;
			u->next = now + gap;
			if (u->tries >= NN_NODE_UPGRADE_TRIES) {
				n->stats.upgrades_gave_up++;
				continue;
			}
		}
		if (!soonest || u->next < soonest)
			soonest = u->next;
	}
	if (soonest)
		arm(n, soonest);
}

void nn_node_upgrade_kick(nn_node *n)
{
	if (n->stopping)
		return;
	if (n->upgrade_timer_on && nn_timer_armed(&n->upgrade_timer))
		return; /* the tick sees every relayed edge */
	arm(n, nn_node_now(n) + NN_NODE_UPGRADE_FIRST);
}

void nn_node_upgrade_stop(nn_node *n)
{
	if (n->upgrade_timer_on)
		nn_timer_stop(n->clock, &n->upgrade_timer);
}
