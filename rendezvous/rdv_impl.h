/* rdv_impl.h — internals shared by hello.c and reply.c (not installed, not for other layers). */
#ifndef NN_RENDEZVOUS_RDV_IMPL_H
#define NN_RENDEZVOUS_RDV_IMPL_H

#include "rendezvous/rdv.h"

/* Largest signed message: label | target or ed_pub | x_pub | addr list | nonce. */
#define NN_RDV_SIGMSG_MAX                                                                   \
	(sizeof NN_RDV_HELLO_LABEL - 1 + 32 + NN_X_PUB_LEN + NN_RDV_ADDR_LIST_MAX +          \
	 NN_RDV_NONCE_LEN)

/* 0 if the list can be encoded: n <= 16 (NN_ELIMIT) and every address within the codec's
 * bounds (NN_EINVAL), so an encoder never writes what our own decoder would refuse. */
int nn_rdv__check_addrs(const nn_addr *a, size_t n);

/* x_pub | addr list | nonce — the part Hello and Reply share, signed as it is encoded. */
void nn_rdv__write_body(nn_wr *w, const uint8_t x_pub[NN_X_PUB_LEN], const nn_addr *a, size_t n,
			const uint8_t nonce[NN_RDV_NONCE_LEN]);
void nn_rdv__read_body(nn_rd *r, uint8_t x_pub[NN_X_PUB_LEN], nn_addr *a, size_t *n,
		       uint8_t nonce[NN_RDV_NONCE_LEN]);

#endif
