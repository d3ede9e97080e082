/* pool.h — pooled packet buffers with exactly one owner at a time.
 *
 * Two size classes: NN_POOL_FRAME (64 KiB, one whole frame, NN_WIRE_MAX_FRAME) and
 * NN_POOL_DGRAM (NN_POOL_DGRAM_CAP bytes: a UDP datagram / media datagram). nn_pool_get()
 * hands out the smallest class that fits. A packet is owned by whoever got it (or was handed it
 * explicitly, e.g. by setting the transport's on_frame `*pkt` to NULL); the owner either passes
 * it on or calls nn_pkt_release() exactly once. Released buffers go back on a per-class free list;
 * the pool only calls malloc when a class's free list is empty and stays within its cap, so a
 * warmed-up pool allocates nothing (hot-path rule: 0 heap allocations in steady state).
 *
 * Debug (local policy, for tests): with `debug` set (default: the meson option pool_debug), a
 * released buffer is filled with NN_POOL_POISON, a second release or a use of a released packet
 * (nn_pkt_check, and poison found overwritten at the next get) is reported to `fault`, which
 * defaults to abort(). These are programming errors of our own code, never peer input.
 *
 * Threading: a pool belongs to one event-loop thread; no locks.
 */
#ifndef NN_TRANSPORT_POOL_H
#define NN_TRANSPORT_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kad/nn_err.h"
#include "kad/nn_time.h"

#define NN_POOL_FRAME_CAP 65537u /* >= NN_WIRE_MAX_FRAME and NN_TP_MAX_MEDIA_MSG (channel + 64 KiB) */
#define NN_POOL_DGRAM_CAP 1536u  /* >= 1 channel byte + 1200 media payload + headroom */
#define NN_POOL_POISON 0xDBu

enum nn_pool_class { NN_POOL_DGRAM = 0, NN_POOL_FRAME = 1, NN_POOL_NCLASS = 2 };

struct nn_pool;

typedef struct nn_pkt {
	uint8_t *data;        /* cap bytes of storage, right after this header */
	uint32_t len;         /* bytes in use, set by the writer */
	uint32_t cap;         /* NN_POOL_FRAME_CAP or NN_POOL_DGRAM_CAP */
	/* Scratch for the current owner only (queues, timestamps); reset by nn_pool_get. */
	struct nn_pkt *next;
	nn_time at;
	uint64_t tag;
	/* Pool bookkeeping: do not touch. */
	struct nn_pool *pool;
	uint8_t cls;
	uint8_t state; /* NN_PKT_OWNED / NN_PKT_FREE */
} nn_pkt;

enum { NN_PKT_FREE = 0x5a, NN_PKT_OWNED = 0xa5 };

typedef void (*nn_pool_fault_cb)(void *ctx, const char *what, const nn_pkt *pkt);

typedef struct nn_pool_opts {
	uint32_t max[NN_POOL_NCLASS];      /* cap on buffers per class (0 = default) */
	uint32_t prealloc[NN_POOL_NCLASS]; /* buffers made at init */
	int debug;                         /* -1 = build default (pool_debug), 0 off, 1 on */
	nn_pool_fault_cb fault;            /* NULL = abort() */
	void *fault_ctx;
} nn_pool_opts;

typedef struct nn_pool_stats {
	uint64_t gets, releases, fails; /* fails: cap reached or out of memory */
	uint64_t double_releases;
	uint64_t shed; /* free buffers given back to malloc by nn_pool_shed */
	uint32_t allocated, in_use;
} nn_pool_stats;

typedef struct nn_pool {
	nn_pkt *free[NN_POOL_NCLASS];
	uint32_t nfree[NN_POOL_NCLASS];
	uint32_t max[NN_POOL_NCLASS];
	nn_pool_stats st[NN_POOL_NCLASS];
	bool debug;
	nn_pool_fault_cb fault;
	void *fault_ctx;
} nn_pool;

#define NN_POOL_DEFAULT_MAX_FRAME 4096u
#define NN_POOL_DEFAULT_MAX_DGRAM 65536u

/* opts may be NULL (defaults). Returns 0 or NN_ENOMEM (prealloc failed). */
int nn_pool_init(nn_pool *p, const nn_pool_opts *opts);
/* Frees every free buffer. Buffers still owned by someone are not the pool's to free: in debug
 * they are reported to fault ("leak"); otherwise ASan's leak checker sees them. */
void nn_pool_fini(nn_pool *p);

/* A packet of the smallest class holding `need` bytes, len = 0; NULL if need > 64 KiB, the
 * class is at its cap, or malloc failed (counted in fails). */
nn_pkt *nn_pool_get(nn_pool *p, size_t need);
nn_pkt *nn_pool_get_class(nn_pool *p, enum nn_pool_class cls);
/* Give the packet back. NULL is ignored. A second release of the same packet is a fault in debug
 * and ignored (counted in double_releases) otherwise. */
void nn_pkt_release(nn_pkt *pkt);
/* Debug builds: report a packet that is not currently owned (use after release). */
void nn_pkt_check(const nn_pkt *pkt);

/* Give free buffers of class cls back to malloc until at most `keep` are free; returns how
 * many went. Not for the hot path: for a quiet moment after a burst (the QUIC endpoint calls it
 * after a burst of handshakes, which leaves the pool at the burst's peak of buffers in flight),
 * since the next burst allocates them again. */
uint32_t nn_pool_shed(nn_pool *p, enum nn_pool_class cls, uint32_t keep);

const nn_pool_stats *nn_pool_stats_of(const nn_pool *p, enum nn_pool_class cls);
/* True when the library was built with -Dpool_debug=true. */
bool nn_pool_debug_default(void);

#endif
