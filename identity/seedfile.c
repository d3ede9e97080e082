/* seedfile.c — the 32-byte seed file: strict load (mode 0600 or stricter), atomic no-clobber
 * save with mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/identity.h"

int nn_identity_seed_load(const char *path, uint8_t seed[NN_SEED_LEN])
{
	if (!path || !seed)
		return NN_EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? NN_ENOENT : (errno == ELOOP ? NN_ECORRUPT : NN_EIO);
	struct stat st;
	int rc = 0;
	uint8_t buf[NN_SEED_LEN + 1];
	if (fstat(fd, &st) != 0)
		rc = NN_EIO;
	else if (!S_ISREG(st.st_mode) || st.st_size != NN_SEED_LEN)
		rc = NN_ECORRUPT;
	else if (st.st_mode & 077)
		rc = NN_EINSECURE; /* like ssh with a private key: never use an exposed secret */
	else {
		size_t got = 0;
		while (got < sizeof buf) {
			ssize_t n = read(fd, buf + got, sizeof buf - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = NN_EIO;
				break;
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
		if (rc == 0 && got != NN_SEED_LEN)
			rc = NN_ECORRUPT; /* changed under us: short or grew */
		if (rc == 0)
			memcpy(seed, buf, NN_SEED_LEN);
	}
	sodium_memzero(buf, sizeof buf);
	close(fd);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return NN_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash) {
		strcpy(dir, ".");
	} else {
		size_t n = (size_t)(slash - path);
		if (n == 0)
			n = 1;
		if (n >= sizeof dir)
			return;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int nn_identity_seed_save(const char *path, const uint8_t seed[NN_SEED_LEN])
{
	if (!path || !seed)
		return NN_EINVAL;
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return NN_EINVAL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == ENOENT ? NN_ENOENT : NN_EIO;
	int rc = fchmod(fd, 0600) == 0 ? 0 : NN_EIO; /* whatever the umask */
	if (rc == 0)
		rc = write_all(fd, seed, NN_SEED_LEN);
	if (rc == 0 && fsync(fd) != 0)
		rc = NN_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = NN_EIO;
	if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
		if (errno == EEXIST) {
			rc = NN_EEXIST;
		} else if (errno == EINVAL || errno == ENOSYS) {
			/* file system without RENAME_NOREPLACE: link() never replaces either */
			rc = link(tmp, path) == 0 ? 0 : (errno == EEXIST ? NN_EEXIST : NN_EIO);
		} else {
			rc = NN_EIO;
		}
	}
	unlink(tmp); /* gone after a rename; removes the leftover otherwise */
	if (rc == 0)
		fsync_parent(path);
	return rc;
}
