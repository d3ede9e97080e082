/* bench_mem.c — private memory of one node at 0, 20 and 64 edges (issue 16: <= 1 MiB at 0
 * edges, <= 48 KiB per additional edge).
 *
 * The measured node (the hub) runs alone in its own process: this program re-executes itself
 * with --hub, the child creates one nn_node (library defaults, maintenance on, listening on
 * 127.0.0.1) on its own libev loop and answers commands on stdin ("q": its edge count and heap
 * in use; "x": free the node and exit). The peers live in this (parent) process, one loopback
 * /24 each (127.100.i.1), maintenance off, so every edge the hub gets is one a peer dialled.
 * Memory is read from the hub's /proc/<pid>/smaps after a settle period (the node's timers keep
 * running):
 *   private without text   Anonymous pages of every mapping (heap, stacks, mmapped buffers,
 *                  written data and relocations): what this node costs, private since the
 *                  hub was exec'd (nothing shared with a parent); page tables not included
 *   private with text      Private_Clean + Private_Dirty over every mapping: adds the pages of
 *                  the binary's code and read-only data no other process has touched (page
 *                  cache, shared by every process running it; right after linking they even
 *                  count as dirty), so it varies from run to run: printed, not used
 *   heap in use    glibc mallinfo2().uordblks in the hub (bytes handed out by malloc)
 * Two runs, each with a fresh hub: "one" adds edges one at a time (next dial once the previous
 * edge is up at both ends); "burst" dials 20, then 44 more, all at once.
 * Per-edge figures: (private without text at k edges - at 0 edges) / k.
 * NN_BENCH_MEM_WRAP=<program> runs the hub under it (heaptrack, valgrind: analysis only);
 * NN_BENCH_MEM_MAPS=1 lists the hub's mappings holding anonymous pages at each measurement,
 * NN_BENCH_MEM_TABLES=1 the resident pages of the node's hash tables, NN_BENCH_MEM_INFO=1 the
 * hub's malloc_info (free chunks by size: the holes a burst of handshakes leaves),
 * NN_BENCH_MEM_WALK=1 the hub's resident heap pages by the live bytes on them (a walk of glibc's
 * chunks: pages only partly live are what fragmentation costs) and its in-use chunks of 4 KiB
 * and more with their resident pages.
 * --quick: 4 and 8 edges, short settle (the `bench` suite's smoke run: prints, asserts only
 * that the hub ran and the edges came up; under ASan the figures mean nothing, its allocator
 * replaces malloc). Figures: release build (`make bench`).
 */
#include <ev.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node/node_impl.h"
#include "transport/pool.h"
#include "transport/quic/quic.h"
#include "tests/support/bench.h"

#define MAX_PEERS 64

/* ---- the hub (child process) ---- */

typedef struct hub {
	struct ev_loop *loop;
	nn_node *node;
	ev_io in;
	char line[64];
	size_t n;
} hub;

/* Analysis (NN_BENCH_MEM_TABLES): the node's hash tables, the bytes of slots in use and the
 * pages of them that are resident and ours (/proc/self/pagemap: present and exclusively
 * mapped; a read of an untouched zero page maps the shared zero page, which is not ours). */
static void hub_tables(nn_node *n)
{
	struct {
		const char *name;
		void *p;
		size_t len;
	} t[] = {
		{"dials", n->dials.slots, n->dials.cap * n->dials.stride},
		{"olimit", n->olimit.map.slots, n->olimit.map.cap * n->olimit.map.stride},
		{"vkeys", n->vkeys.slots, n->vkeys.cap * n->vkeys.stride},
		{"dedup0", n->dedup.slots[0], (n->dedup.mask[0] + 1) * 16},
		{"dedup1", n->dedup.slots[1], (n->dedup.mask[1] + 1) * 16},
		{"transit0", n->transit.slots[0], (n->transit.mask[0] + 1) * 16},
		{"transit1", n->transit.slots[1], (n->transit.mask[1] + 1) * 16},
	};
	int pm = open("/proc/self/pagemap", O_RDONLY);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (!t[i].p)
			continue;
		uintptr_t lo = (uintptr_t)t[i].p & ~(uintptr_t)4095;
		uintptr_t hi = ((uintptr_t)t[i].p + t[i].len + 4095) & ~(uintptr_t)4095;
		size_t res = 0;
		for (uintptr_t pg = lo; pm >= 0 && pg < hi; pg += 4096) {
			uint64_t e = 0;
			if (pread(pm, &e, sizeof e, (off_t)(pg / 4096 * 8)) == 8 && (e >> 63) &&
			    ((e >> 56) & 1))
				res++;
		}
		printf("table %s: %zu KiB in use, %zu KiB resident\n", t[i].name, t[i].len / 1024,
		       res * 4);
	}
	if (pm >= 0)
		close(pm);
	printf("mend\n");
	fflush(stdout);
}

/* Analysis (NN_BENCH_MEM_WALK): walk glibc's main heap chunk by chunk (the [heap] mapping;
 * glibc's chunk layout: size word before the user data, low bits flags, a chunk is in use when
 * the next one's PREV_INUSE bit is set) and count, for each resident page (mincore), the bytes
 * of chunks in use on it: pages holding little live data are what fragmentation costs. Also
 * lists in-use chunks of 4 KiB and more with their resident pages. glibc only; analysis. */
static void hub_walk(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t lo = 0, hi = 0;
	char l[512];
	while (f && fgets(l, sizeof l, f))
		if (strstr(l, "[heap]") && sscanf(l, "%lx-%lx", &lo, &hi) == 2)
			break;
	if (f)
		fclose(f);
	if (!lo) {
		printf("mend\n");
		fflush(stdout);
		return;
	}
	size_t npg = (hi - lo) / 4096;
	unsigned char *vec = malloc(npg);
	uint32_t *live = calloc(npg, sizeof *live);
	if (!vec || !live || mincore((void *)lo, hi - lo, vec) != 0) {
		free(vec);
		free(live);
		printf("mend\n");
		fflush(stdout);
		return;
	}
	uintptr_t p = lo;
	size_t nbig = 0;
	while (p + 16 <= hi) {
		size_t sz = *(size_t *)(p + 8) & ~(size_t)7;
		if (sz < 16 || p + sz + 16 > hi)
			break; /* the top chunk */
		bool inuse = *(size_t *)(p + sz + 8) & 1;
		if (inuse) {
			for (uintptr_t a = p; a < p + sz;) {
				uintptr_t pe = (a & ~(uintptr_t)4095) + 4096;
				uintptr_t e = pe < p + sz ? pe : p + sz;
				live[(a - lo) / 4096] += (uint32_t)(e - a);
				a = e;
			}
			if (sz >= 4096) {
				size_t res = 0;
				for (uintptr_t a = (p + 4095) & ~(uintptr_t)4095; a + 4096 <= p + sz; a += 4096)
					res += vec[(a - lo) / 4096] & 1;
				printf("  big chunk %zu B, %zu KiB of whole pages resident\n", sz, res * 4);
				nbig++;
			}
		}
		p += sz;
	}
	size_t hist[9] = {0}, res = 0;
	for (size_t i = 0; i < npg; i++)
		if (vec[i] & 1) {
			res++;
			hist[live[i] >= 4096 ? 8 : live[i] / 512]++;
		}
	printf("  walk: %zu pages resident; by live bytes on the page:", res);
	for (int i = 0; i < 9; i++)
		printf(" <%d:%zu", (i + 1) * 512, hist[i]);
	printf("\n");
	free(vec);
	free(live);
	printf("mend\n");
	fflush(stdout);
}

static void hub_cmd(struct ev_loop *loop, ev_io *w, int revents)
{
	hub *h = w->data;
	(void)revents;
	ssize_t r = read(0, h->line + h->n, sizeof h->line - 1 - h->n);
	if (r <= 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	h->n += (size_t)r;
	char *nl;
	while ((nl = memchr(h->line, '\n', h->n)) != NULL) {
		char c = h->line[0];
		size_t used = (size_t)(nl - h->line) + 1;
		memmove(h->line, h->line + used, h->n - used);
		h->n -= used;
		if (c == 't') {
			(void)malloc_trim(0); /* analysis: what a trim right now would give back */
		} else if (c == 'q') {
			struct mallinfo2 mi = mallinfo2();
			nn_tp *tp = nn_node_transport(h->node);
			const nn_quic_stats *qs = nn_quic_stats_of(tp);
			nn_node_stats ns;
			nn_node_get_stats(h->node, &ns);
			printf("edges %zu heap %zu tls %zu hs %llu dials %llu pool %u+%u\n",
			       nn_node_peers(h->node, NULL, 0), (size_t)mi.uordblks,
			       nn_quic_test_tls_live(tp), (unsigned long long)qs->handshakes_ok,
			       (unsigned long long)ns.dials,
			       nn_pool_stats_of(h->node->pool, NN_POOL_DGRAM)->allocated,
			       nn_pool_stats_of(h->node->pool, NN_POOL_FRAME)->allocated);
			fflush(stdout);
		} else if (c == 'm') {
			hub_tables(h->node);
		} else if (c == 'w') {
			hub_walk();
		} else if (c == 'i') {
			malloc_info(0, stdout);
			printf("mend\n");
			fflush(stdout);
		} else if (c == 'x') {
			ev_break(loop, EVBREAK_ALL);
			return;
		}
	}
	if (h->n == sizeof h->line - 1)
		h->n = 0;
}

static int hub_main(void)
{
	hub h = {.loop = ev_default_loop(0)};
	uint8_t seed[NN_SEED_BYTES] = {0xb3, 0x4d};
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = "127.0.0.1:0";
	o.log_level = NN_LOG_ERROR;
	int rc = nn_node_new(&h.node, &o, h.loop);
	if (rc < 0) {
		fprintf(stderr, "hub: nn_node_new: %s\n", nn_strerror(rc));
		return 1;
	}
	char addr[4][64], hex[65];
	if (nn_node_addrs(h.node, addr, 4) < 1)
		return 1;
	printf("hub %s %s\n", addr[0], nn_id_format(hex, nn_node_id(h.node)));
	fflush(stdout);
	ev_io_init(&h.in, hub_cmd, 0, EV_READ);
	h.in.data = &h;
	ev_io_start(h.loop, &h.in);
	ev_run(h.loop, 0);
	ev_io_stop(h.loop, &h.in);
	nn_node_free(h.node);
	return 0;
}

/* ---- the parent: peers and measurement ---- */

typedef struct bench {
	struct ev_loop *loop;
	nn_node *peers[MAX_PEERS];
	size_t n;
	pid_t pid;
	FILE *to, *from;
	char hub_addr[64];
	nn_id hub_id;
	double settle;
	char extra[96]; /* the hub's last diagnostics: TLS objects live, handshakes, pool buffers */
} bench;

typedef struct mem {
	long priv_kib, anon_kib, brk_kib, heap_kib, edges;
} mem;

static void pump(bench *b, double seconds)
{
	double end = ev_time() + seconds;
	while (ev_time() < end) {
		ev_now_update(b->loop);
		ev_run(b->loop, EVRUN_NOWAIT);
		usleep(1000);
	}
}

static bool hub_query(bench *b, long *edges, long *heap)
{
	fprintf(b->to, getenv("NN_BENCH_MEM_TRIM") ? "t\nq\n" : "q\n");
	fflush(b->to);
	char line[256];
	size_t e, hp;
	do /* lines that are not ours: a wrapper's (NN_BENCH_MEM_WRAP) */
		if (!fgets(line, sizeof line, b->from))
			return false;
	while (sscanf(line, "edges %zu heap %zu", &e, &hp) != 2);
	char *extra = strstr(line, " tls ");
	if (extra) {
		extra[strcspn(extra, "\n")] = 0;
		snprintf(b->extra, sizeof b->extra, "%s", extra + 1);
	}
	*edges = (long)e;
	*heap = (long)(hp / 1024);
	return true;
}

static bool measure(bench *b, mem *m)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)b->pid);
	if (!hub_query(b, &m->edges, &m->heap_kib))
		return false;
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[512], map[512] = "";
	long priv = 0, anon = 0, heap = 0;
	bool in_heap = false, maps = getenv("NN_BENCH_MEM_MAPS") != NULL;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi, off, inode;
		char perms[8], dev[16];
		if (sscanf(line, "%lx-%lx %7s %lx %15s %lu", &lo, &hi, perms, &off, dev, &inode) == 6) {
			in_heap = strstr(line, "[heap]") != NULL;
			snprintf(map, sizeof map, "%s", line);
			map[strcspn(map, "\n")] = 0;
			continue;
		}
		long kb;
		if (sscanf(line, "Private_Dirty: %ld kB", &kb) == 1 ||
		    sscanf(line, "Private_Clean: %ld kB", &kb) == 1)
			priv += kb;
		else if (sscanf(line, "Anonymous: %ld kB", &kb) == 1) {
			anon += kb;
			if (in_heap)
				heap += kb;
			if (maps && kb) /* analysis: where the anonymous pages are */
				printf("  map %6ld KiB  %s\n", kb, map);
		}
	}
	fclose(f);
	m->priv_kib = priv;
	m->anon_kib = anon;
	m->brk_kib = heap;
	return true;
}

static bool hub_start(bench *b, const char *self)
{
	int in[2], out[2];
	if (pipe(in) || pipe(out))
		return false;
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		const char *wrap = getenv("NN_BENCH_MEM_WRAP"); /* e.g. heaptrack, for analysis */
		if (wrap && *wrap)
			execlp(wrap, wrap, self, "--hub", (char *)NULL);
		else
			execl(self, self, "--hub", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	b->pid = pid;
	b->to = fdopen(in[1], "w");
	b->from = fdopen(out[0], "r");
	char line[256], hex[80];
	do
		if (!fgets(line, sizeof line, b->from))
			return false;
	while (sscanf(line, "hub %63s %79s", b->hub_addr, hex) != 2);
	if (nn_id_parse(&b->hub_id, hex, strlen(hex)) != 0)
		return false;
	return true;
}

static void hub_stop(bench *b)
{
	if (b->to) {
		fprintf(b->to, "x\n");
		fclose(b->to);
	}
	if (b->from)
		fclose(b->from);
	b->to = b->from = NULL;
	int st;
	waitpid(b->pid, &st, 0);
}

static nn_node *add_peer(bench *b)
{
	uint8_t seed[NN_SEED_BYTES] = {0};
	seed[0] = 0xbe;
	seed[1] = 0xef;
	seed[2] = (uint8_t)(b->n + 1);
	char listen[64];
	snprintf(listen, sizeof listen, "127.100.%zu.1:0", b->n + 1);
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = listen;
	o.no_maintenance = true;
	o.log_level = NN_LOG_ERROR;
	nn_node *n;
	if (nn_node_new(&n, &o, b->loop) < 0)
		return NULL;
	b->peers[b->n++] = n;
	return n;
}

/* Dial the hub from `k` new peers at once; wait until every one has its edge and the hub
 * counts `want` edges. */
static bool add_edges(bench *b, size_t k, long want)
{
	size_t first = b->n;
	for (size_t i = 0; i < k; i++) {
		nn_node *p = add_peer(b);
		if (!p || nn_node_bootstrap(p, &b->hub_id, b->hub_addr) < 0)
			return false;
	}
	double end = ev_time() + 20;
	while (ev_time() < end) {
		pump(b, 0.005);
		bool all = true;
		for (size_t i = first; all && i < b->n; i++)
			all = nn_node_peers(b->peers[i], NULL, 0) >= 1;
		long e, h;
		if (all && hub_query(b, &e, &h) && e >= want)
			return true;
	}
	return false;
}

/* Analysis: the hub's answer to `cmd` (lines up to "mend"), copied to our output. */
static void hub_dump(bench *b, const char *cmd)
{
	fprintf(b->to, "%s\n", cmd);
	fflush(b->to);
	char l[256];
	while (fgets(l, sizeof l, b->from) && strncmp(l, "mend", 4))
		fputs(l, stdout);
}

static void print_mem(const bench *b, const char *mode, size_t edges, const mem *m, const mem *m0)
{
	long net = m->anon_kib, net0 = m0->anon_kib;
	printf("bench mem-%s: %zu edges (hub counts %ld): private without text %ld KiB "
	       "(%.2f MiB), private with text %ld KiB, heap in use %ld KiB",
	       mode, edges, m->edges, net, (double)net / 1024.0, m->priv_kib, m->heap_kib);
	if (edges)
		printf(", per edge %.1f KiB (heap %.1f KiB)", (double)(net - net0) / (double)edges,
		       (double)(m->heap_kib - m0->heap_kib) / (double)edges);
	printf(" [hub: brk heap resident %ld KiB, %s]\n", m->brk_kib, b->extra);
	fflush(stdout);
}

static int run(const char *self, const char *mode, bool burst, const size_t *steps, size_t nsteps,
	       double settle)
{
	bench b = {.loop = ev_loop_new(0), .settle = settle};
	if (!hub_start(&b, self)) {
		printf("bench mem-%s: the hub did not start\n", mode);
		return 1;
	}
	pump(&b, settle);
	mem m0;
	if (!measure(&b, &m0)) {
		printf("bench mem-%s: no figures from the hub\n", mode);
		hub_stop(&b);
		return 1;
	}
	print_mem(&b, mode, 0, &m0, &m0);
	int rc = 0;
	for (size_t s = 0; s < nsteps && !rc; s++) {
		size_t k = steps[s] - b.n;
		bool ok = true;
		if (burst) {
			ok = add_edges(&b, k, (long)steps[s]);
		} else {
			for (size_t i = 0; i < k && ok; i++)
				ok = add_edges(&b, 1, (long)b.n + 1);
		}
		if (!ok) {
			printf("bench mem-%s: edges did not come up (%zu wanted)\n", mode, steps[s]);
			rc = 1;
			break;
		}
		pump(&b, settle);
		mem m;
		if (!measure(&b, &m)) {
			rc = 1;
			break;
		}
		print_mem(&b, mode, steps[s], &m, &m0);
		if (getenv("NN_BENCH_MEM_INFO"))
			hub_dump(&b, "i");
		if (getenv("NN_BENCH_MEM_TABLES"))
			hub_dump(&b, "m");
		if (getenv("NN_BENCH_MEM_WALK"))
			hub_dump(&b, "w");
	}
	hub_stop(&b);
	for (size_t i = 0; i < b.n; i++)
		nn_node_free(b.peers[i]);
	ev_loop_destroy(b.loop);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--hub"))
		return hub_main();
	signal(SIGPIPE, SIG_IGN);
	bool quick = nn_bench_quick(argc, argv);
	static const size_t full[] = {20, 64}, small[] = {4, 8};
	const size_t *steps = quick ? small : full;
	double settle = quick ? 0.5 : 3.0;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 1;
	self[n] = 0;
	int rc = run(self, "one", false, steps, 2, settle);
	rc |= run(self, "burst", true, steps, 2, settle);
	return rc;
}
