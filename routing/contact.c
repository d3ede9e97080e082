/* contact.c — contact helpers: key binding, hint sanitizing, the stored contact (unpacking,
 * its subnet). */
#include <stddef.h>
#include <string.h>

#include "routing/routing.h"

bool nn_routing_key_is_zero(const uint8_t ed_pub[NN_ED_PUB_LEN])
{
	uint8_t d = 0;
	for (size_t i = 0; i < NN_ED_PUB_LEN; i++)
		d |= ed_pub[i];
	return d == 0;
}

int nn_routing_contact_check_key(const nn_routing_contact *c)
{
	if (nn_routing_key_is_zero(c->ed_pub))
		return 0;
	nn_id h;
	nn_identity_node_id(&h, c->ed_pub);
	return nn_kad_id_eq(&h, &c->id) ? 0 : NN_EIDMISMATCH;
}

void nn_routing_contact_sanitize_hint(nn_routing_contact *c)
{
	memset(c->x_pub, 0, sizeof c->x_pub);
	if (nn_routing_key_is_zero(c->ed_pub))
		c->naddrs = 0;
	if (c->naddrs > NN_ROUTING_CONTACT_ADDRS)
		c->naddrs = NN_ROUTING_CONTACT_ADDRS;
}

void nn_routing_kc_addr(const nn_routing_kc *k, size_t i, nn_addr *out)
{
	nn_addr_unpack(out, &k->addrs[i]);
}

void nn_routing_kc_contact(nn_routing_contact *dst, const nn_routing_kc *k)
{
	size_t n = k->naddrs < NN_ROUTING_CONTACT_ADDRS ? k->naddrs : NN_ROUTING_CONTACT_ADDRS;
	memset(dst, 0, sizeof *dst);
	dst->id = k->id;
	memcpy(dst->ed_pub, k->ed_pub, NN_ED_PUB_LEN);
	dst->caps = k->caps;
	dst->naddrs = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		nn_addr_unpack(&dst->addrs[i], &k->addrs[i]);
}

bool nn_routing_kc_subnet(const nn_routing_kc *k, nn_routing_subnet_fn fn, void *user,
			  uint8_t key[16])
{
	if (!fn)
		fn = nn_routing_default_subnet;
	size_t n = k->naddrs < NN_ROUTING_CONTACT_ADDRS ? k->naddrs : NN_ROUTING_CONTACT_ADDRS;
	for (size_t i = 0; i < n; i++) {
		nn_addr a;
		nn_addr_unpack(&a, &k->addrs[i]);
		if (fn(user, &a, key) == 0)
			return true;
	}
	return false;
}

int nn_routing_default_subnet(void *user, const nn_addr *a, uint8_t key[16])
{
	(void)user;
	return nn_addr_subnet(a, key);
}
