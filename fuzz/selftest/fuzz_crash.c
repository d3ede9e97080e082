/* A target that crashes on purpose (a heap overflow on any input starting with 'X'): the
 * fuzz-long-selftest test checks that scripts/fuzz-long.sh reports it, keeps the artifact and
 * exits non-zero. Not a fuzz_specs target. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 'X') {
        char *volatile p = malloc(4); /* volatile: the compiler may not drop the pair */
        if (p == NULL) return 0;
        memset(p, 'X', 8 + size % 4); /* overflow: ASan reports it */
        int r = p[5];
        free(p);
        return r == 'X' ? 0 : 0;
    }
    return 0;
}
