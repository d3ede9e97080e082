/* alloc_count.h — count heap allocations made by code linked into a test or benchmark.
 *
 * Test binaries that include tests/support are linked with -Wl,--wrap=malloc,calloc,realloc,
 * free (see tests/meson.build: alloc_link_args), so every call to these from code linked
 * statically into the binary (our layers, static wolfSSL/ngtcp2) goes through a counting
 * wrapper. Calls made inside shared libraries (libc itself, libsodium) are not seen.
 */
#ifndef NN_TEST_ALLOC_COUNT_H
#define NN_TEST_ALLOC_COUNT_H

#include <stdint.h>

/* Allocations (malloc, calloc, realloc) since the program started, plus wolfSSL's requests
 * the QUIC transport serves from its own pages (nn_quic_test_wolf_allocs), when linked. */
uint64_t nn_test_allocs(void);

#endif
