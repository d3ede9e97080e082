/* connect.c — the Connect / ConnectAck payload codec. */
#include <string.h>

#include "nat/connect.h"

int nn_nat_connect_encode(const nn_nat_connect *m, uint8_t *buf, size_t cap)
{
	if (!m || (!buf && cap))
		return NN_EINVAL;
	int rc = nn_addr_list_check(m->addrs, m->naddrs, NN_NAT_MAX_ADDRS);
	if (rc)
		return rc;
	nn_wr w;
	nn_wr_init(&w, buf, cap);
	nn_wr_bytes(&w, m->nonce, NN_NAT_NONCE_LEN);
	nn_addr_list_write(&w, m->addrs, m->naddrs);
	return w.err ? w.err : (int)w.off;
}

int nn_nat_connect_decode(nn_nat_connect *m, const uint8_t *buf, size_t len)
{
	if (!m || (!buf && len))
		return NN_EINVAL;
	memset(m, 0, sizeof *m);
	if (len > NN_NAT_CONNECT_MAX)
		return NN_ETOOBIG;
	nn_rd r;
	nn_rd_init(&r, buf, len);
	nn_rd_copy(&r, m->nonce, NN_NAT_NONCE_LEN);
	nn_addr_list_read(&r, m->addrs, NN_NAT_MAX_ADDRS, NN_NAT_MAX_ADDRS, &m->naddrs);
	int rc = nn_rd_end(&r);
	if (rc < 0)
		memset(m, 0, sizeof *m);
	return rc;
}
