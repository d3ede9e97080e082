/* kaframe.h — the keepalive probe and its echo (per-edge types 61 and 60), libnodenet additions
 * that teach a node how long its NAT keeps an idle mapping (keepalive.h).
 *
 * Bytes (protocol of the addition; reference peers ignore both types):
 *   KaProbe (61): nonce (8) | delay_ms (u32, big-endian), 1 <= delay_ms <= NN_NAT_KA_PROBE_MAX_MS
 *   KaEcho  (60): nonce (8)
 * A KaProbe asks the receiver to send KaEcho with the same nonce on the same edge once delay_ms
 * have passed, and to send nothing else on that edge meanwhile that it can hold back (its own
 * keepalives). Verifiable tier: exact lengths (NN_ETRUNC / NN_ETRAILING), delay within bounds
 * (NN_ECORRUPT). Decoding copies into caller memory and never allocates.
 */
#ifndef NN_NAT_KAFRAME_H
#define NN_NAT_KAFRAME_H

#include <stddef.h>
#include <stdint.h>

#define NN_NAT_KA_NONCE_LEN 8
#define NN_NAT_KA_PROBE_LEN (NN_NAT_KA_NONCE_LEN + 4)
#define NN_NAT_KA_PROBE_MAX_MS 120000u /* longest delay we honour (protocol of the addition) */
#define NN_NAT_KA_FRAME_MAX 16          /* header + the larger payload */

/* Whole frames, header included; return the frame length or NN_ENOSPC / NN_EINVAL. */
int nn_nat_ka_probe_frame(uint8_t *buf, size_t cap, const uint8_t nonce[NN_NAT_KA_NONCE_LEN],
			  uint32_t delay_ms);
int nn_nat_ka_echo_frame(uint8_t *buf, size_t cap, const uint8_t nonce[NN_NAT_KA_NONCE_LEN]);

/* Payload decoders. */
int nn_nat_ka_probe_decode(const uint8_t *p, size_t len, uint8_t nonce[NN_NAT_KA_NONCE_LEN],
			   uint32_t *delay_ms);
int nn_nat_ka_echo_decode(const uint8_t *p, size_t len, uint8_t nonce[NN_NAT_KA_NONCE_LEN]);

#endif
