/* box.c — sealed boxes for applications: seal to a verified x_pub, open once.
 *
 * The box is the v1 sealed box (rendezvous/sbox.h). Local policy on top: the recipient key is
 * one a rendezvous verified (never a third party's hint), the associated data is the sender's
 * NodeID (so a box cannot be re-signed by someone else as theirs: the AEAD tag would fail), the
 * freshness window is +-NN_NODE_BOX_MAX_AGE_MS, and every box opens at most once inside its
 * window (the replay cache, which fails closed when full). Rejections are counted.
 */
#include <string.h>

#include "node/node_impl.h"
#include "rendezvous/sbox.h"

size_t nn_node_box_len(size_t len)
{
	return len > NN_NODE_MAX_BOX_PLAINTEXT ? 0 : nn_sbox_sealed_len(len);
}

int nn_node_seal(nn_node *n, const nn_id *target, const void *data, size_t len, uint8_t *out,
		 size_t cap)
{
	if (!n || !target || !out || (!data && len))
		return NN_EINVAL;
	if (len > NN_NODE_MAX_BOX_PLAINTEXT)
		return NN_ETOOBIG;
	const struct vkey *k = nn_node_vkey(n, target);
	if (!k)
		return NN_ENOENT;
	static const uint8_t empty[1];
	return nn_sbox_seal(out, cap, &n->ident, k->x_pub, nn_node_wall(n),
			    len ? data : empty, len, n->ident.id.b, NN_ID_LEN, NULL);
}

int nn_node_open(nn_node *n, const uint8_t *box, size_t len, uint8_t *out, size_t cap,
		 size_t *out_len, nn_id *sender)
{
	if (!n || !box || !out || !out_len)
		return NN_EINVAL;
	*out_len = 0;
	nn_sbox_view v;
	int rc = nn_sbox_parse(&v, box, len);
	nn_replay *cache = NULL;
	if (rc == 0)
		rc = nn_node_box_replay(n, &cache);
	if (rc == 0) {
		nn_id from;
		nn_identity_node_id(&from, v.sender_ed_pub);
		nn_sbox_meta meta;
		rc = nn_sbox_open_once(cache, out, cap, out_len, &meta, &n->ident, box, len,
				       from.b, NN_ID_LEN, nn_node_wall(n),
				       nn_node_ms(NN_NODE_BOX_MAX_AGE_MS));
		if (rc == 0 && sender)
			*sender = meta.sender;
	}
	if (rc < 0) {
		n->stats.dropped_box++;
		if (rc == NN_EREPLAY)
			n->stats.dropped_replay++;
		*out_len = 0;
	}
	return rc;
}
