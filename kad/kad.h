/* kad.h — keyspace maths: the 256-bit ID, XOR distance, common-prefix length, hex text form.
 *
 * Pure, no I/O, no allocation, libc only; the bottom of the layer DAG.
 * An ID is 32 raw bytes read as one big-endian 256-bit number (byte 0 most significant).
 * Distance between a and b is a XOR b compared as an unsigned 256-bit integer; equal distance
 * to one target happens only for equal IDs (protocol). Bucket indices are defined by routing
 * as nn_kad_cpl(self, id) and are not a kad concept.
 *
 * Rules: callers own every nn_id they pass; functions never retain pointers.
 */
#ifndef NN_KAD_H
#define NN_KAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/nn_err.h"

#define NN_ID_LEN 32
#define NN_ID_BITS 256
#define NN_ID_HEX_LEN 64 /* characters, without terminator */

#ifndef NN_ID_DEFINED /* node/nodenet.h defines the same type for the public API */
#define NN_ID_DEFINED
typedef struct nn_id {
	uint8_t b[32];
} nn_id;
#endif

static inline bool nn_kad_id_eq(const nn_id *a, const nn_id *b)
{
	uint8_t d = 0;
	for (size_t i = 0; i < NN_ID_LEN; i++)
		d |= (uint8_t)(a->b[i] ^ b->b[i]);
	return d == 0;
}

bool nn_kad_id_is_zero(const nn_id *a);

/* out = a XOR b. out may alias a or b. */
void nn_kad_distance(nn_id *out, const nn_id *a, const nn_id *b);

/* Which of a and b is closer to target: < 0 if a is closer, > 0 if b is, 0 if a == b.
 * Compares one 64-bit word at a time, most significant first, stopping at the first
 * difference. Hot path of routing. */
int nn_kad_cmp_distance(const nn_id *target, const nn_id *a, const nn_id *b);

/* Compare two distances (or any two IDs) as unsigned big-endian integers: <0, 0, >0. */
int nn_kad_cmp(const nn_id *a, const nn_id *b);

/* Number of equal leading bits of a and b, 0..256 (256 when equal). */
unsigned nn_kad_cpl(const nn_id *a, const nn_id *b);

/* Number of leading zero bits of a, 0..256. */
unsigned nn_kad_leading_zeros(const nn_id *a);

/* Parse exactly 64 hex digits (either case; nothing else: no prefix, no whitespace).
 * Returns 0, NN_EINVAL for a wrong length or a non-hex character. Never reads past len. */
int nn_kad_id_from_hex(nn_id *out, const char *s, size_t len);

/* Write 64 lowercase hex digits and a terminating NUL into out[65]. Returns out. */
char *nn_kad_id_to_hex(char out[NN_ID_HEX_LEN + 1], const nn_id *id);

/* A random ID in the bucket at prefix length `cpl` from self: the first cpl bits equal self's,
 * bit cpl differs, the rest come from rnd (32 caller-supplied random bytes).
 * cpl must be 0..255 (NN_EINVAL otherwise). Used by bucket refresh. */
int nn_kad_random_in_bucket(nn_id *out, const nn_id *self, unsigned cpl,
			    const uint8_t rnd[NN_ID_LEN]);

#endif
