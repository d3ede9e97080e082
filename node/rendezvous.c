/* rendezvous.c — Hello and Reply at the terminals, and the verified keys they yield.
 *
 * The requester sends a Hello (routed type 8, three disjoint paths) with a fresh nonce that it
 * records as pending; the target answers with a Reply (type 9, three paths) carrying its own
 * ed_pub, x_pub and addresses, signed. The requester accepts the first Reply that verifies
 * against the pending Hello (rendezvous/pending.h: WrongTarget → Nonce → BadSignature, in that
 * protocol order), remembers the keys (struct vkey: sealed boxes take x_pub from there) and learns the target
 * as a contact. Copies that arrive over the other paths are suppressed by the terminal dedup;
 * a Hello re-wrapped or replayed later is caught by the Hello replay cache (envelope ed_pub |
 * nonce, fail closed), so each Hello gets one Reply. Work at the target is charged to the
 * per-originator limiter after the signatures verified (verifiable tier; limits are local
 * policy). Every rejection is counted.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node_impl.h"
#include "routing/control.h"

/* ---- lazily allocated state ---- */
static int ensure_pending(nn_node *n)
{
	if (n->pending_e)
		return 0;
	n->pending_e = calloc(NN_NODE_PENDING_HELLOS, sizeof *n->pending_e);
	if (!n->pending_e)
		return NN_ENOMEM;
	nn_rdv_pending_init(&n->pending, n->pending_e, NN_NODE_PENDING_HELLOS);
	return 0;
}

static int ensure_vkeys(nn_node *n)
{
	if (n->vkeys_ready)
		return 0;
	uint8_t key[16];
	nn_node_rand_bytes(n, key, sizeof key);
	int rc = nn_idmap_init(&n->vkeys, NN_NODE_VKEYS, sizeof(struct vkey), key);
	n->vkeys_ready = rc == 0;
	return rc;
}

static int ensure_replay(nn_node *n, nn_replay *r, bool *ready, size_t gen)
{
	if (*ready)
		return 0;
	uint8_t secret[NN_REPLAY_SECRET_LEN];
	nn_node_rand_bytes(n, secret, sizeof secret);
	int rc = nn_replay_create(r, gen, secret);
	*ready = rc == 0;
	return rc;
}

int nn_node_box_replay(nn_node *n, nn_replay **out)
{
	int rc = ensure_replay(n, &n->box_replay, &n->box_replay_ready, NN_NODE_BOX_REPLAY_GEN);
	*out = rc == 0 ? &n->box_replay : NULL;
	return rc;
}

void nn_node_rdv_free(nn_node *n)
{
	free(n->pending_e);
	n->pending_e = NULL;
	if (n->vkeys_ready)
		nn_idmap_fini(&n->vkeys);
	n->vkeys_ready = false;
	if (n->hello_replay_ready)
		nn_replay_destroy(&n->hello_replay);
	if (n->box_replay_ready)
		nn_replay_destroy(&n->box_replay);
	n->hello_replay_ready = n->box_replay_ready = false;
}

/* ---- verified keys ---- */
const struct vkey *nn_node_vkey(nn_node *n, const nn_id *id)
{
	return n->vkeys_ready ? nn_idmap_get(&n->vkeys, id) : NULL;
}

/* Remember keys whose signature verified; the oldest entry makes room (local policy). */
static struct vkey *vkey_store(nn_node *n, const nn_id *id, const uint8_t ed_pub[NN_ED_PUB_LEN],
			       const uint8_t x_pub[NN_X_PUB_LEN], const nn_addr *addrs,
			       size_t naddrs)
{
	if (ensure_vkeys(n) < 0)
		return NULL;
	if (!nn_idmap_get(&n->vkeys, id) && nn_idmap_full(&n->vkeys)) {
		nn_id oldest_id, sid;
		nn_time oldest = 0;
		bool found = false;
		for (size_t i = 0; i < n->vkeys.cap; i++) {
			struct vkey *v = nn_idmap_slot(&n->vkeys, i, &sid);
			if (v && (!found || v->learned < oldest)) {
				oldest = v->learned;
				oldest_id = sid;
				found = true;
			}
		}
		if (found)
			nn_idmap_del(&n->vkeys, &oldest_id);
	}
	bool fresh;
	struct vkey *v = nn_idmap_put(&n->vkeys, id, &fresh);
	if (!v)
		return NULL;
	memcpy(v->ed_pub, ed_pub, NN_ED_PUB_LEN);
	memcpy(v->x_pub, x_pub, NN_X_PUB_LEN);
	v->learned = nn_node_now(n);
	if (naddrs > NN_RDV_MAX_ADDRS)
		naddrs = NN_RDV_MAX_ADDRS;
	v->naddrs = (uint8_t)naddrs;
	for (size_t i = 0; i < naddrs; i++)
		v->addrs[i] = addrs[i];
	return v;
}

/* Learn a peer from its own signed word (Hello or Reply): a keyed contact with its addresses.
 * Its x_pub stays with the verified keys (vkey_store), not in the knowledge table. */
static void learn(nn_node *n, const nn_id *id, const uint8_t ed_pub[NN_ED_PUB_LEN],
		  const nn_addr *addrs, size_t naddrs)
{
	nn_routing_contact c;
	memset(&c, 0, sizeof c);
	c.id = *id;
	memcpy(c.ed_pub, ed_pub, NN_ED_PUB_LEN);
	for (size_t i = 0; i < naddrs && c.naddrs < NN_ROUTING_CONTACT_ADDRS; i++)
		c.addrs[c.naddrs++] = addrs[i];
	(void)nn_node_observe(n, &c, NN_ROUTING_SRC_SELF);
}

/* ---- requester ---- */
int nn_node_send_hello(nn_node *n, struct nn_op *op)
{
	int rc = ensure_pending(n);
	if (rc < 0)
		return rc;
	uint8_t nonce[NN_RDV_NONCE_LEN];
	nn_node_rand_bytes(n, nonce, sizeof nonce);
	nn_time now = nn_node_now(n);
	rc = nn_rdv_pending_add(&n->pending, &op->target, nonce, op->deadline, now);
	if (rc < 0)
		return rc;
	nn_rdv_hello h;
	nn_addr coords[NN_RDV_MAX_ADDRS];
	size_t nc = nn_node_coords(n, coords, NN_RDV_MAX_ADDRS);
	rc = nn_rdv_hello_make(&h, &n->ident, &op->target, coords, nc, nonce);
	uint8_t buf[NN_RDV_HELLO_MAX];
	if (rc == 0)
		rc = nn_rdv_hello_encode(&h, buf, sizeof buf);
	if (rc >= 0)
		rc = nn_node_originate(n, NN_T_HELLO, &op->target, buf, (size_t)rc);
	if (rc < 0) {
		(void)nn_rdv_pending_remove(&n->pending, nonce);
		return rc;
	}
	n->stats.hellos_tx++;
	return 0;
}

void nn_node_on_reply(nn_node *n, const nn_id *origin, const nn_routing_env *env)
{
	(void)origin; /* whoever wrapped it: the Reply's own signature is what counts */
	nn_rdv_reply r;
	if (!n->pending_e) {
		n->stats.dropped_unsolicited++;
		return;
	}
	/* signed as sent: one bad address sinks the whole message */
	if (nn_node_decoded(n, nn_rdv_reply_decode(&r, env->payload, env->plen)) < 0)
		return;
	nn_id target;
	int rc = nn_rdv_pending_match(&n->pending, &r, nn_node_now(n), &target);
	switch (rc) {
	case 0:
		break;
	case NN_EWRONGTARGET:
		n->stats.dropped_wrong_target++;
		nn_node_log(n, NN_LOG_WARN, "rendezvous: a Reply with keys that are not the target's "
					    "(forwarder substituting keys?) dropped");
		return;
	case NN_EREPLAY:
		n->stats.dropped_replay++;
		return;
	case NN_EBADSIG:
		n->stats.dropped_bad_sig++;
		return;
	default: /* NN_ENONCE: a Reply for a Hello we never sent, or too late */
		n->stats.dropped_unsolicited++;
		return;
	}
	n->stats.rendezvous_ok++;
	const struct vkey *k = vkey_store(n, &target, r.ed_pub, r.x_pub, r.addrs, r.naddrs);
	learn(n, &target, r.ed_pub, r.addrs, r.naddrs);
	if (k)
		nn_node_ops_keys(n, &target, k);
}

/* ---- target ---- */
void nn_node_on_hello(nn_node *n, const nn_id *origin, const nn_routing_env *env)
{
	nn_time wall = nn_node_wall(n);
	if (!nn_olimit_allow(&n->olimit, origin, nn_node_now(n))) {
		n->stats.dropped_rate_limited++;
		return;
	}
	nn_rdv_hello h;
	/* signed as sent: one bad address sinks the whole message */
	if (nn_node_decoded(n, nn_rdv_hello_decode(&h, env->payload, env->plen)) < 0)
		return;
	if (nn_rdv_hello_verify(&h, &n->ident.id, env->ed_pub) < 0) {
		n->stats.dropped_bad_sig++;
		return;
	}
	if (ensure_replay(n, &n->hello_replay, &n->hello_replay_ready, NN_NODE_HELLO_REPLAY_GEN) < 0) {
		n->stats.dropped_rate_limited++;
		return;
	}
	uint8_t key[NN_ED_PUB_LEN + NN_RDV_NONCE_LEN];
	memcpy(key, env->ed_pub, NN_ED_PUB_LEN);
	memcpy(key + NN_ED_PUB_LEN, h.nonce, NN_RDV_NONCE_LEN);
	int rc = nn_replay_check(&n->hello_replay, key, sizeof key,
				 nn_replay_expiry(env->sent, NN_ROUTING_MAX_AGE), wall);
	if (rc == NN_EREPLAY) {
		n->stats.dropped_replay++;
		return;
	}
	if (rc == NN_ESTALE) {
		n->stats.dropped_stale++;
		return;
	}
	if (rc < 0) { /* NN_ELIMIT: the replay memory is full of live Hellos: fail closed */
		n->stats.dropped_rate_limited++;
		return;
	}
	/* the Hello's signature covers x_pub and the addresses under the originator's key */
	(void)vkey_store(n, origin, env->ed_pub, h.x_pub, h.addrs, h.naddrs);
	learn(n, origin, env->ed_pub, h.addrs, h.naddrs);
	nn_rdv_reply r;
	uint8_t buf[NN_RDV_REPLY_MAX];
	nn_addr coords[NN_RDV_MAX_ADDRS];
	size_t nc = nn_node_coords(n, coords, NN_RDV_MAX_ADDRS);
	rc = nn_rdv_reply_make(&r, &n->ident, coords, nc, h.nonce);
	if (rc == 0)
		rc = nn_rdv_reply_encode(&r, buf, sizeof buf);
	if (rc >= 0)
		rc = nn_node_originate(n, NN_T_REPLY, origin, buf, (size_t)rc);
	if (rc >= 0)
		n->stats.replies_tx++;
}
