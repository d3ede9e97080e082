/* connect.c — the Connect / ConnectAck payload codec. */
#include <string.h>

#include "nat/connect.h"
#include "nat/reflex.h"

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
	if (m->has_hint)
		nn_wr_u8(&w, m->hint);
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
	if (nn_rd_left(&r) == 1) { /* the NAT hint; more than one byte is still trailing */
		m->has_hint = true;
		m->hint = nn_rd_u8(&r);
	}
	int rc = nn_rd_end(&r);
	if (rc < 0)
		memset(m, 0, sizeof *m);
	return rc;
}

uint8_t nn_nat_hint_make(unsigned type, bool filter_open)
{
	return (uint8_t)((type & NN_NAT_HINT_TYPE) | (filter_open ? NN_NAT_HINT_FILTER_OPEN : 0));
}

enum { T_PUBLIC = NN_NAT_PUBLIC, T_CONE = NN_NAT_CONE, T_SYM = NN_NAT_SYMMETRIC };

static bool eim_filtered(unsigned type, bool filter_open)
{
	return (type == T_CONE || type == T_PUBLIC) && !filter_open;
}

int nn_nat_birthday_role(unsigned self_type, bool self_filter_open, bool peer_has_hint,
			 uint8_t peer_hint)
{
	if (!peer_has_hint)
		return NN_NAT_BDAY_NONE;
	unsigned peer_type = peer_hint & NN_NAT_HINT_TYPE;
	bool peer_open = (peer_hint & NN_NAT_HINT_FILTER_OPEN) != 0;
	if (self_type == T_SYM && eim_filtered(peer_type, peer_open))
		return NN_NAT_BDAY_SOCKETS;
	if (peer_type == T_SYM && eim_filtered(self_type, self_filter_open))
		return NN_NAT_BDAY_SPRAY;
	return NN_NAT_BDAY_NONE;
}
