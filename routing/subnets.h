/* subnets.h — a fixed-capacity multiset of 16-byte subnet keys (internal to routing).
 *
 * One purpose: count how many table entries sit in each /24 or /64 so the knowledge table can
 * enforce its subnet cap (local policy) in O(1). Open addressing with linear probing and
 * backward-shift deletion over a power-of-two slot array, at most half full, so every probe
 * sequence ends; it is allocated at init and grows only by an explicit reserve (the knowledge
 * table reserves room for every entry it can hold before it takes one), so inc, dec and count
 * never allocate. The caller owns the struct.
 */
#ifndef NN_ROUTING_SUBNETS_H
#define NN_ROUTING_SUBNETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct nn_routing_subnet_slot {
	uint8_t key[16];
	uint32_t count; /* 0 = empty slot */
} nn_routing_subnet_slot;

typedef struct nn_routing_subnets {
	nn_routing_subnet_slot *slots;
	size_t mask; /* slots - 1 */
	size_t used; /* distinct keys */
	size_t max;  /* distinct keys allowed (half the slots) */
} nn_routing_subnets;

/* Room for at least `keys` distinct keys. NN_ENOMEM. */
int nn_routing_subnets_init(nn_routing_subnets *s, size_t keys);
/* Room for at least `keys` distinct keys, rehashing into a bigger slot array when needed.
 * NN_ENOMEM (the set is unchanged). */
int nn_routing_subnets_reserve(nn_routing_subnets *s, size_t keys);
void nn_routing_subnets_free(nn_routing_subnets *s);
/* Current count for key (0 when absent). */
uint32_t nn_routing_subnets_count(const nn_routing_subnets *s, const uint8_t key[16]);
/* count += 1; NN_ELIMIT when the set holds `keys` distinct keys already. */
int nn_routing_subnets_inc(nn_routing_subnets *s, const uint8_t key[16]);
/* count -= 1 (removes the key at 0); absent keys are ignored. */
void nn_routing_subnets_dec(nn_routing_subnets *s, const uint8_t key[16]);

#endif
