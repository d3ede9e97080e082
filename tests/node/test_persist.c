/* test_persist.c — knowledge across restarts (nn_node_save_contacts / nn_node_load_contacts),
 * in virtual time on the in-memory transport:
 *  - a node restarted with its saved contacts and no bootstrap contact has live edges again
 *    within one maintenance tick (and the same node restarted without them has none);
 *  - the file is 0600, bounded, edges first, replaced atomically;
 *  - a missing, truncated, damaged, foreign, oversized or non-regular file is refused whole
 *    with an error, nothing is learned, and the node runs on. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "routing/cfile.h"
#include "tests/node/cluster.h"

static char g_dir[64];

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", g_dir, name);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof g_dir, "/tmp/nn_persist_XXXXXX");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static cluster *joined(uint32_t n)
{
	cluster *cl = cl_new(n, 0x5eed1e55, 0, NULL);
	assert_non_null(cl);
	assert_int_equal(cl_join(cl, 0, n), 0);
	cl_run(cl, 60 * NN_SEC);
	return cl;
}

static void test_restart_rejoins(void **state)
{
	(void)state;
	cluster *cl = joined(12);
	const uint32_t me = 7;
	size_t before = cl_edges(cl, me);
	assert_true(before > 0);
	char path[128];
	path_of(path, sizeof path, "contacts");
	int saved = nn_node_save_contacts(cl->nodes[me].node, path);
	assert_true(saved >= (int)before);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed, not left behind */

	/* control: restarted without the file and without a bootstrap contact, it stays alone */
	cl_kill(cl, me, true);
	cl_run(cl, NN_SEC);
	assert_int_equal(cl_start(cl, me), 0);
	cl_run(cl, 5 * NN_SEC);
	assert_int_equal(cl_edges(cl, me), 0);

	/* restarted with it: live edges again within one tick (5 s) */
	cl_kill(cl, me, true);
	cl_run(cl, NN_SEC);
	assert_int_equal(cl_start(cl, me), 0);
	nn_node_stats s;
	int learned = nn_node_load_contacts(cl->nodes[me].node, path);
	assert_int_equal(learned, saved);
	nn_node_get_stats(cl->nodes[me].node, &s);
	assert_int_equal(s.knowledge, (uint64_t)saved);
	cl_run(cl, 5 * NN_SEC);
	assert_true(cl_edges(cl, me) > 0);
	/* and routes again */
	assert_int_equal(cl_send(cl, 2, me, 0xfeed), 0);
	cl_run(cl, NN_SEC);
	assert_int_equal(cl_count(cl, me, 0xfeed), 1);
	cl_free(cl);
}

/* The file holds at most 256 contacts, live edges first. */
static void test_bounded_edges_first(void **state)
{
	(void)state;
	cluster *cl = joined(120);
	const uint32_t me = 17;
	char path[128];
	path_of(path, sizeof path, "big");
	nn_node_stats s;
	nn_node_get_stats(cl->nodes[me].node, &s);
	int saved = nn_node_save_contacts(cl->nodes[me].node, path);
	assert_true(saved > 0 && saved <= NN_ROUTING_CFILE_MAX);
	assert_true((uint64_t)saved <= s.knowledge);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static uint8_t buf[NN_ROUTING_CFILE_BYTES_MAX];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	static nn_routing_contact c[NN_ROUTING_CFILE_MAX];
	size_t k = 0;
	assert_int_equal(nn_routing_cfile_decode(buf, len, &cl->nodes[me].id, c,
						 NN_ROUTING_CFILE_MAX, &k), 0);
	assert_int_equal(k, (size_t)saved);
	/* every live edge the knowledge table holds comes first (inbound edges it has no room for
	 * are not known contacts: they are left out) */
	nn_node *n = cl->nodes[me].node;
	size_t ne = nn_routing_edges_len(nn_node_edges(n)), known = 0;
	for (size_t i = 0; i < ne; i++)
		known += nn_routing_kt_get(nn_node_knowledge(n),
					  &nn_routing_edges_at(nn_node_edges(n), i)->id, NULL) != NULL;
	assert_true(known > 0 && known <= k);
	for (size_t i = 0; i < k; i++)
		assert_true((nn_routing_edges_find(nn_node_edges(n), &c[i].id) != NULL) == (i < known));
	cl_free(cl);
}

static void write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

static void expect_refused(cluster *cl, uint32_t me, const char *path, int want)
{
	nn_node_stats s;
	assert_int_equal(nn_node_load_contacts(cl->nodes[me].node, path), want);
	nn_node_get_stats(cl->nodes[me].node, &s);
	assert_int_equal(s.knowledge, 0);
	assert_int_equal(s.dials, 0);
}

static void test_bad_files(void **state)
{
	(void)state;
	cluster *cl = joined(6);
	char good[128], bad[128], foreign[128];
	path_of(good, sizeof good, "good");
	path_of(bad, sizeof bad, "bad");
	path_of(foreign, sizeof foreign, "foreign");
	assert_true(nn_node_save_contacts(cl->nodes[3].node, good) > 0);
	assert_true(nn_node_save_contacts(cl->nodes[4].node, foreign) > 0);
	static uint8_t buf[NN_ROUTING_CFILE_BYTES_MAX + 2];
	FILE *f = fopen(good, "rb");
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_true(len > 74);

	cl_kill(cl, 3, false);
	assert_int_equal(cl_start(cl, 3), 0);
	nn_node *n = cl->nodes[3].node;
	expect_refused(cl, 3, bad, NN_ENOENT);
	expect_refused(cl, 3, foreign, NN_EIDMISMATCH);
	write_file(bad, buf, len - 1); /* truncated */
	expect_refused(cl, 3, bad, NN_ECORRUPT);
	write_file(bad, buf, 0); /* empty */
	expect_refused(cl, 3, bad, NN_ECORRUPT);
	buf[len / 2] ^= 0x01; /* damaged */
	write_file(bad, buf, len);
	expect_refused(cl, 3, bad, NN_ECORRUPT);
	buf[len / 2] ^= 0x01;
	memset(buf + len, 0, sizeof buf - len); /* larger than any valid file */
	write_file(bad, buf, sizeof buf);
	expect_refused(cl, 3, bad, NN_ECORRUPT);
	expect_refused(cl, 3, g_dir, NN_ECORRUPT); /* a directory */
	char link[128];
	path_of(link, sizeof link, "link");
	assert_int_equal(symlink(good, link), 0);
	expect_refused(cl, 3, link, NN_ECORRUPT); /* not followed */
	assert_int_equal(nn_node_load_contacts(n, NULL), NN_EINVAL);
	assert_int_equal(nn_node_save_contacts(n, ""), NN_EINVAL);
	/* the node runs on, and the good file still works */
	assert_true(nn_node_load_contacts(n, good) > 0);
	cl_run(cl, 5 * NN_SEC);
	assert_true(cl_edges(cl, 3) > 0);
	/* saving replaces the old file */
	assert_true(nn_node_save_contacts(n, good) > 0);
	cl_free(cl);
}

int main(void)
{
	if (cl_seed_randombytes(1) != 0) /* one run per build: cluster.h */
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_rejoins),
		cmocka_unit_test(test_bounded_edges_first),
		cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
