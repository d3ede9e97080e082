/* persist.c — the contacts file: save the contacts a node knows, load them at start (public
 * nn_node_save_contacts / nn_node_load_contacts). The codec is routing/cfile.c (pure, fuzzed);
 * this file does the file I/O: an atomic replace (temp file, fsync, rename, mode 0600) on
 * save, a bounded read of a regular file on load. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/node_impl.h"
#include "pow/pow.h"
#include "routing/cfile.h"

/* Keyed, addressed, not self, not yet in out[0..k). */
static bool worth_saving(const nn_node *n, const nn_routing_contact *c,
			 const nn_routing_contact *out, size_t k)
{
	bool keyed = false;
	for (size_t i = 0; i < NN_ED_PUB_LEN; i++)
		keyed |= c->ed_pub[i] != 0;
	if (!keyed || !c->naddrs || nn_kad_id_eq(&c->id, &n->ident.id) ||
	    nn_routing_contact_check_key(c) != 0)
		return false;
	for (size_t i = 0; i < k; i++)
		if (nn_kad_id_eq(&out[i].id, &c->id))
			return false;
	return true;
}

/* Live edges first (those the knowledge table holds: an inbound edge it has no room for is no
 * known contact), then the known contacts closest to us. */
static size_t collect(nn_node *n, nn_routing_contact *out, size_t cap)
{
	size_t k = 0;
	size_t ne = nn_routing_edges_len(n->edges);
	for (size_t i = 0; i < ne && k < cap; i++) {
		const nn_routing_edge *e = nn_routing_edges_at(n->edges, i);
		const nn_routing_kc *c = nn_routing_kt_get(n->kt, &e->id, NULL);
		if (!c)
			continue;
		nn_routing_kc_contact(&out[k], c); /* no x_pub: a rendezvous binds it afresh */
		if (worth_saving(n, &out[k], out, k))
			k++;
	}
	const nn_routing_kc **near = calloc(cap, sizeof *near);
	if (!near)
		return k;
	size_t m = nn_routing_kt_closest(n->kt, &n->ident.id, cap, near);
	for (size_t i = 0; i < m && k < cap; i++) {
		nn_routing_kc_contact(&out[k], near[i]);
		if (worth_saving(n, &out[k], out, k))
			k++;
	}
	free(near);
	return k;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return NN_EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int nn_node_save_contacts(nn_node *n, const char *path)
{
	if (!n || !path || !*path)
		return NN_EINVAL;
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return NN_EINVAL;
	nn_routing_contact *c = calloc(NN_ROUTING_CFILE_MAX, sizeof *c);
	uint8_t *buf = malloc(NN_ROUTING_CFILE_BYTES_MAX);
	int rc = NN_ENOMEM;
	if (!c || !buf)
		goto out;
	size_t k = collect(n, c, NN_ROUTING_CFILE_MAX);
	int len = nn_routing_cfile_encode(buf, NN_ROUTING_CFILE_BYTES_MAX, &n->ident.id, c, k);
	if (len < 0) {
		rc = len;
		goto out;
	}
	(void)unlink(tmp); /* a leftover of a crash mid-save */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = NN_EIO;
		goto out;
	}
	rc = write_all(fd, buf, (size_t)len);
	if (rc == 0 && fsync(fd) != 0)
		rc = NN_EIO;
	if (close(fd) != 0 && rc == 0)
		rc = NN_EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = NN_EIO;
	if (rc < 0) {
		(void)unlink(tmp);
		goto out;
	}
	/* make the rename durable: fsync the directory */
	char dir[4096];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
		 slash ? path : ".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		(void)close(dfd);
	}
	rc = (int)k;
out:
	free(buf);
	free(c);
	return rc;
}

int nn_node_load_contacts(nn_node *n, const char *path)
{
	if (!n || !path || !*path)
		return NN_EINVAL;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? NN_ENOENT : errno == ELOOP ? NN_ECORRUPT : NN_EIO;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		(void)close(fd);
		return NN_EIO;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size > NN_ROUTING_CFILE_BYTES_MAX) {
		(void)close(fd);
		return NN_ECORRUPT;
	}
	nn_routing_contact *c = calloc(NN_ROUTING_CFILE_MAX, sizeof *c);
	uint8_t *buf = malloc(NN_ROUTING_CFILE_BYTES_MAX + 1);
	int rc = NN_ENOMEM;
	if (!c || !buf)
		goto out;
	size_t len = 0;
	for (;;) { /* read to EOF (the size may have changed since fstat) */
		ssize_t r = read(fd, buf + len, NN_ROUTING_CFILE_BYTES_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = NN_EIO;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > NN_ROUTING_CFILE_BYTES_MAX) {
			rc = NN_ECORRUPT;
			goto out;
		}
	}
	size_t k = 0;
	rc = nn_routing_cfile_decode(buf, len, &n->ident.id, c, NN_ROUTING_CFILE_MAX, &k);
	if (rc < 0) {
		rc = rc == NN_EIDMISMATCH ? NN_EIDMISMATCH : NN_ECORRUPT;
		goto out;
	}
	nn_id ids[NN_NODE_REJOIN_FROM_FILE];
	size_t nids = 0, learned = 0;
	for (size_t i = 0; i < k; i++) {
		if (!nn_pow_ok(&c[i].id, n->pow))
			continue; /* saved under an easier difficulty */
		nn_routing_contact_sanitize_hint(&c[i]);
		if (nn_node_observe(n, &c[i], NN_ROUTING_SRC_HINT) < 0)
			continue;
		learned++;
		if (nids < NN_NODE_REJOIN_FROM_FILE && nn_routing_kt_get(n->kt, &c[i].id, NULL))
			ids[nids++] = c[i].id;
	}
	/* the first ones were live edges when the file was written: dial them now (the tick's
	 * rejoin takes the rest in turn while there is no live edge) */
	if (!n->stopping && !n->opts.no_maintenance)
		nn_node_dial_some(n, ids, nids);
	rc = (int)learned;
out:
	(void)close(fd);
	free(buf);
	free(c);
	return rc;
}
