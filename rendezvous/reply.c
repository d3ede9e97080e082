/* reply.c — the rendezvous Reply (routed type 9): make, encode, decode, verify in the protocol's
 * order WrongTarget → NonceMismatch → BadSignature. */
#include <sodium.h>
#include <string.h>

#include "rendezvous/rdv_impl.h"

/* label | ed_pub | x_pub | addr list | nonce into msg; returns its length or a negative NN_E*. */
static int reply_sigmsg(uint8_t msg[NN_RDV_SIGMSG_MAX], const nn_rdv_reply *r)
{
	int rc = nn_rdv__check_addrs(r->addrs, r->naddrs);
	if (rc)
		return rc;
	nn_wr w;
	nn_wr_init(&w, msg, NN_RDV_SIGMSG_MAX);
	nn_wr_bytes(&w, NN_RDV_REPLY_LABEL, sizeof NN_RDV_REPLY_LABEL - 1);
	nn_wr_bytes(&w, r->ed_pub, NN_ED_PUB_LEN);
	nn_rdv__write_body(&w, r->x_pub, r->addrs, r->naddrs, r->nonce);
	return w.err ? w.err : (int)w.off;
}

int nn_rdv_reply_make(nn_rdv_reply *r, const nn_identity *self, const nn_addr *addrs,
		      size_t naddrs, const uint8_t nonce[NN_RDV_NONCE_LEN])
{
	uint8_t msg[NN_RDV_SIGMSG_MAX];
	if (!r || !self || !nonce)
		return NN_EINVAL;
	int rc = nn_rdv__check_addrs(addrs, naddrs);
	if (rc)
		return rc;
	memset(r, 0, sizeof *r);
	memcpy(r->ed_pub, self->ed_pub, NN_ED_PUB_LEN);
	memcpy(r->x_pub, self->x_pub, NN_X_PUB_LEN);
	if (naddrs)
		memcpy(r->addrs, addrs, naddrs * sizeof *addrs);
	r->naddrs = naddrs;
	memcpy(r->nonce, nonce, NN_RDV_NONCE_LEN);
	int n = reply_sigmsg(msg, r);
	if (n < 0)
		return n;
	return nn_identity_sign(self, r->sig, msg, (size_t)n);
}

int nn_rdv_reply_encode(const nn_rdv_reply *r, uint8_t *buf, size_t cap)
{
	if (!r || (!buf && cap))
		return NN_EINVAL;
	int rc = nn_rdv__check_addrs(r->addrs, r->naddrs);
	if (rc)
		return rc;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_wr_bytes(&w, r->ed_pub, NN_ED_PUB_LEN);
	nn_rdv__write_body(&w, r->x_pub, r->addrs, r->naddrs, r->nonce);
	nn_wr_bytes(&w, r->sig, NN_ED_SIG_LEN);
	return w.err ? w.err : (int)w.off;
}

int nn_rdv_reply_decode(nn_rdv_reply *r, const uint8_t *buf, size_t len)
{
	if (!r || (!buf && len))
		return NN_EINVAL;
	memset(r, 0, sizeof *r);
	if (len > NN_RDV_REPLY_MAX)
		return NN_ETOOBIG;
	nn_rd rd;
	nn_rd_init(&rd, buf, len);
	nn_rd_copy(&rd, r->ed_pub, NN_ED_PUB_LEN);
	nn_rdv__read_body(&rd, r->x_pub, r->addrs, &r->naddrs, r->nonce);
	nn_rd_copy(&rd, r->sig, NN_ED_SIG_LEN);
	return nn_rd_end(&rd);
}

int nn_rdv_reply_verify(const nn_rdv_reply *r, const nn_id *target,
			const uint8_t hello_nonce[NN_RDV_NONCE_LEN])
{
	uint8_t msg[NN_RDV_SIGMSG_MAX];
	nn_id id;
	if (!r || !target || !hello_nonce)
		return NN_EINVAL;
	nn_identity_node_id(&id, r->ed_pub);
	if (!nn_kad_id_eq(&id, target))
		return NN_EWRONGTARGET; /* a forwarder's own keys: the anti-MITM check */
	if (sodium_memcmp(r->nonce, hello_nonce, NN_RDV_NONCE_LEN) != 0)
		return NN_ENONCE;
	int n = reply_sigmsg(msg, r);
	if (n < 0)
		return n;
	return nn_identity_verify(r->ed_pub, r->sig, msg, (size_t)n);
}
