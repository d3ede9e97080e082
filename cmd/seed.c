/* seed.c — load-or-mint for the daemon's identity. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/seed.h"

unsigned nn_cmd_leading_zeros(const nn_id *id)
{
	unsigned z = 0;
	for (size_t i = 0; i < sizeof id->b; i++) {
		if (id->b[i] == 0) {
			z += 8;
			continue;
		}
		for (uint8_t m = 0x80; m && !(id->b[i] & m); m >>= 1)
			z++;
		break;
	}
	return z;
}

void nn_cmd_wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;
	while (len--)
		*v++ = 0;
}

int nn_cmd_default_seed_path(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, cap, "%s/nodenet/nodenet.seed", xdg);
	else if (home && home[0])
		n = snprintf(buf, cap, "%s/.config/nodenet/nodenet.seed", home);
	else
		return NN_EINVAL;
	return n > 0 && (size_t)n < cap ? 0 : NN_EINVAL;
}

/* mkdir -p for the parent of path; the last component is created 0700. */
static int make_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash || slash == path)
		return 0;
	size_t n = (size_t)(slash - path);
	if (n >= sizeof dir)
		return NN_EINVAL;
	memcpy(dir, path, n);
	dir[n] = 0;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return NN_EIO;
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return NN_EIO;
	return 0;
}

static int bar(void *user, uint64_t tries, double expected)
{
	(void)user;
	double frac = expected > 0 ? (double)tries / expected : 1;
	int width = 30, fill = frac >= 1 ? width : (int)(frac * width);
	fprintf(stderr, "\rminting identity [%.*s%*s] %llu / ~%.0f tries", fill,
		"##############################", width - fill, "", (unsigned long long)tries,
		expected);
	fflush(stderr);
	return 0;
}

int nn_cmd_load_or_mint(const char *path, int difficulty, uint8_t seed[NN_SEED_BYTES], nn_id *id,
			int *minted, char *err, size_t errcap)
{
	*minted = 0;
	int rc = nn_seed_load(path, seed);
	if (rc == NN_ENOENT) {
		rc = make_parent(path);
		if (rc < 0) {
			snprintf(err, errcap, "cannot create the directory for %s: %s", path,
				 strerror(errno));
			return rc;
		}
		bool tty = isatty(STDERR_FILENO);
		rc = nn_seed_mint(seed, difficulty, 0, tty ? bar : NULL, NULL);
		if (tty)
			fputc('\n', stderr);
		if (rc < 0) {
			snprintf(err, errcap, "minting an identity failed: %s", nn_strerror(rc));
			goto fail;
		}
		rc = nn_seed_save(path, seed);
		if (rc < 0) {
			snprintf(err, errcap, "cannot save seed file %s: %s", path, nn_strerror(rc));
			goto fail;
		}
		*minted = 1;
	} else if (rc == NN_EINSECURE) {
		struct stat st;
		unsigned mode = stat(path, &st) == 0 ? (unsigned)(st.st_mode & 0777) : 0;
		snprintf(err, errcap, "seed file %s is accessible by group or others (mode %04o): "
			 "it is the node's only secret; run: chmod 600 %s", path, mode, path);
		goto fail;
	} else if (rc == NN_ECORRUPT) {
		snprintf(err, errcap, "seed file %s is corrupt: want exactly 32 bytes in a regular file "
			 "(left untouched)", path);
		goto fail;
	} else if (rc < 0) {
		snprintf(err, errcap, "cannot read seed file %s: %s", path, strerror(errno));
		goto fail;
	}
	rc = nn_seed_node_id(id, seed);
	if (rc < 0) {
		snprintf(err, errcap, "deriving keys failed: %s", nn_strerror(rc));
		goto fail;
	}
	if (nn_cmd_leading_zeros(id) < (unsigned)difficulty) {
		snprintf(err, errcap, "seed file %s gives a NodeID with %u leading zero bits, below the "
			 "required -pow %d", path, nn_cmd_leading_zeros(id), difficulty);
		rc = NN_EPOW;
		goto fail;
	}
	return 0;
fail:
	nn_cmd_wipe(seed, NN_SEED_BYTES);
	return rc;
}
