/* hello.c — the rendezvous Hello (routed type 8): make, encode, decode, verify. */
#include <string.h>

#include "rendezvous/rdv_impl.h"

/* label | target | x_pub | addr list | nonce into msg; returns its length or a negative NN_E*. */
static int hello_sigmsg(uint8_t msg[NN_RDV_SIGMSG_MAX], const nn_rdv_hello *h, const nn_id *target)
{
	int rc = nn_rdv__check_addrs(h->addrs, h->naddrs);
	if (rc)
		return rc;
	nn_wr w;
	nn_wr_init(&w, msg, NN_RDV_SIGMSG_MAX);
	nn_wr_bytes(&w, NN_RDV_HELLO_LABEL, sizeof NN_RDV_HELLO_LABEL - 1);
	nn_wr_id(&w, target);
	nn_rdv__write_body(&w, h->x_pub, h->addrs, h->naddrs, h->nonce);
	return w.err ? w.err : (int)w.off;
}

int nn_rdv_hello_make(nn_rdv_hello *h, const nn_identity *self, const nn_id *target,
		      const nn_addr *addrs, size_t naddrs, const uint8_t nonce[NN_RDV_NONCE_LEN])
{
	uint8_t msg[NN_RDV_SIGMSG_MAX];
	if (!h || !self || !target || !nonce)
		return NN_EINVAL;
	int rc = nn_rdv__check_addrs(addrs, naddrs);
	if (rc)
		return rc;
	memset(h, 0, sizeof *h);
	memcpy(h->x_pub, self->x_pub, NN_X_PUB_LEN);
	if (naddrs)
		memcpy(h->addrs, addrs, naddrs * sizeof *addrs);
	h->naddrs = naddrs;
	memcpy(h->nonce, nonce, NN_RDV_NONCE_LEN);
	int n = hello_sigmsg(msg, h, target);
	if (n < 0)
		return n;
	return nn_identity_sign(self, h->sig, msg, (size_t)n);
}

int nn_rdv_hello_encode(const nn_rdv_hello *h, uint8_t *buf, size_t cap)
{
	if (!h || (!buf && cap))
		return NN_EINVAL;
	int rc = nn_rdv__check_addrs(h->addrs, h->naddrs);
	if (rc)
		return rc;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_rdv__write_body(&w, h->x_pub, h->addrs, h->naddrs, h->nonce);
	nn_wr_bytes(&w, h->sig, NN_ED_SIG_LEN);
	return w.err ? w.err : (int)w.off;
}

int nn_rdv_hello_decode(nn_rdv_hello *h, const uint8_t *buf, size_t len)
{
	if (!h || (!buf && len))
		return NN_EINVAL;
	memset(h, 0, sizeof *h);
	if (len > NN_RDV_HELLO_MAX)
		return NN_ETOOBIG;
	nn_rd r;
	nn_rd_init(&r, buf, len);
	nn_rdv__read_body(&r, h->x_pub, h->addrs, &h->naddrs, h->nonce);
	nn_rd_copy(&r, h->sig, NN_ED_SIG_LEN);
	return nn_rd_end(&r);
}

int nn_rdv_hello_verify(const nn_rdv_hello *h, const nn_id *target,
			const uint8_t env_ed_pub[NN_ED_PUB_LEN])
{
	uint8_t msg[NN_RDV_SIGMSG_MAX];
	if (!h || !target || !env_ed_pub)
		return NN_EINVAL;
	int n = hello_sigmsg(msg, h, target);
	if (n < 0)
		return n;
	return nn_identity_verify(env_ed_pub, h->sig, msg, (size_t)n);
}
