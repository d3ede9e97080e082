/* fuzz_http.c — the metrics endpoint's request parser (cmd/http.c): no read outside the input,
 * results point inside it and respect the caps, "need more" only below the size cap, and a
 * complete head parses the same when cut right after it (what follows never matters). */
#include <stdlib.h>
#include <string.h>

#include "cmd/http.h"
#include "node/nodenet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	nn_http_req r;
	int rc = nn_http_parse(buf, size, &r);
	if (rc == 0 && size >= NN_HTTP_MAX_REQUEST)
		abort();
	if (rc != 1 && rc != 0 && rc != NN_EINVAL && rc != NN_ETOOBIG)
		abort();
	if (rc != 1)
		return 0;
	if (r.head_len > size || r.head_len > NN_HTTP_MAX_REQUEST || r.method < buf ||
	    r.method + r.method_len > buf + r.head_len || r.path < buf ||
	    r.path + r.path_len > buf + r.head_len || r.path_len == 0 ||
	    r.path_len > NN_HTTP_MAX_TARGET || r.path[0] != '/' || (r.minor != 0 && r.minor != 1) ||
	    r.method_len == 0 || r.method_len > 16)
		abort();
	nn_http_req again;
	if (nn_http_parse(buf, r.head_len, &again) != 1 || again.head_len != r.head_len ||
	    again.path_len != r.path_len || again.method_len != r.method_len)
		abort();
	if (r.head_len > 0 && nn_http_parse(buf, r.head_len - 1, &again) == 1)
		abort(); /* the head ends at its empty line, not before */
	return 0;
}
