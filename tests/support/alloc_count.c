/* alloc_count.c — --wrap wrappers counting malloc/calloc/realloc (see alloc_count.h). */
#include <stdatomic.h>
#include <stddef.h>

#include "tests/support/alloc_count.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static atomic_uint_fast64_t allocs;

/* wolfSSL's requests that never reach malloc (transport/quic/tls.c: its slabs and own pages);
 * weak, so binaries without the QUIC transport link without it */
uint64_t nn_quic_test_wolf_allocs(void) __attribute__((weak));

uint64_t nn_test_allocs(void)
{
	return atomic_load(&allocs) + (nn_quic_test_wolf_allocs ? nn_quic_test_wolf_allocs() : 0);
}

void *__wrap_malloc(size_t n)
{
	atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
	return __real_malloc(n);
}

void *__wrap_calloc(size_t a, size_t b)
{
	atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
	return __real_calloc(a, b);
}

void *__wrap_realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
	return __real_realloc(p, n);
}

void __wrap_free(void *p) { __real_free(p); }
