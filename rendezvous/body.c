/* body.c — the x_pub | address list | nonce section common to Hello and Reply. */
#include "rendezvous/rdv_impl.h"

int nn_rdv__check_addrs(const nn_addr *a, size_t n)
{
	return nn_addr_list_check(a, n, NN_RDV_MAX_ADDRS);
}

void nn_rdv__write_body(nn_wr *w, const uint8_t x_pub[NN_X_PUB_LEN], const nn_addr *a, size_t n,
			const uint8_t nonce[NN_RDV_NONCE_LEN])
{
	nn_wr_bytes(w, x_pub, NN_X_PUB_LEN);
	nn_addr_list_write(w, a, n);
	nn_wr_bytes(w, nonce, NN_RDV_NONCE_LEN);
}

void nn_rdv__read_body(nn_rd *r, uint8_t x_pub[NN_X_PUB_LEN], nn_addr *a, size_t *n,
		       uint8_t nonce[NN_RDV_NONCE_LEN])
{
	nn_rd_copy(r, x_pub, NN_X_PUB_LEN);
	nn_addr_list_read(r, a, NN_RDV_MAX_ADDRS, NN_RDV_MAX_ADDRS, n);
	nn_rd_copy(r, nonce, NN_RDV_NONCE_LEN);
}
