/* seed.h — the daemon's identity: load the seed file, or mint one that meets the PoW (with a
 * progress bar when stderr is a terminal) and save it (directory 0700, file 0600). */
#ifndef NN_CMD_SEED_H
#define NN_CMD_SEED_H

#include <stddef.h>

#include "identity/identity.h"

/* Default seed path: $XDG_CONFIG_HOME/nodenet/nodenet.seed, else ~/.config/nodenet/nodenet.seed.
 * Returns 0 or NN_EINVAL (no HOME). */
int nn_cmd_default_seed_path(char *buf, size_t cap);

/* Load path (minting and saving it when missing) into id; the NodeID must meet difficulty.
 * On failure returns an NN_E* code and a one-line reason in err. *minted tells which happened. */
int nn_cmd_load_or_mint(const char *path, int difficulty, nn_identity *id, int *minted,
			char *err, size_t errcap);

#endif
