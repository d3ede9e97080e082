/* seed.h — the daemon's identity: load the seed file, or mint one that meets the PoW (with a
 * progress bar when stderr is a terminal) and save it (directory 0700, file 0600).
 *
 * Built on the public API (node/nodenet.h) only. The seed is the node's one secret: callers
 * wipe their copy with nn_cmd_wipe() once the node has taken its own.
 */
#ifndef NN_CMD_SEED_H
#define NN_CMD_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "node/nodenet.h"

/* Default seed path: $XDG_CONFIG_HOME/nodenet/nodenet.seed, else ~/.config/nodenet/nodenet.seed.
 * Returns 0 or NN_EINVAL (no HOME). */
int nn_cmd_default_seed_path(char *buf, size_t cap);

/* Load path (minting and saving it when missing) into seed and its NodeID into id; the NodeID
 * must meet difficulty (NN_EPOW). A seed file open to group or others is refused
 * (NN_EINSECURE, from nn_seed_load; the reason says "chmod 600 <path>"). On failure returns an
 * NN_E* code and a one-line reason in err, and seed is wiped. *minted tells which happened. */
int nn_cmd_load_or_mint(const char *path, int difficulty, uint8_t seed[NN_SEED_BYTES], nn_id *id,
			int *minted, char *err, size_t errcap);

/* Leading zero bits of a NodeID. */
unsigned nn_cmd_leading_zeros(const nn_id *id);

/* Clear a secret (not optimised away). */
void nn_cmd_wipe(void *p, size_t len);

#endif
