/* nn_err.h — the project-wide error vocabulary.
 *
 * Every libnodenet function that can fail returns 0 (or a non-negative count) on success and a
 * negative NN_E* code on failure. The list lives at the bottom of the layer DAG (in kad/, which
 * needs nothing but libc) so every layer can use the same codes; node/nodenet.h re-exports them
 * unchanged. Codes are stable once released: never renumber, only append.
 *
 * nn_strerror() gives a one-line English description, nn_errname() the bare symbol without the
 * NN_ prefix (e.g. "EINVAL"), as printed by the daemon's console (`error EINVAL ...`).
 */
#ifndef NN_ERR_H
#define NN_ERR_H

/* X(name, value, description) */
#define NN_ERR_LIST(X)                                                              \
	X(EINVAL,        -1,  "invalid argument")                                   \
	X(ENOMEM,        -2,  "out of memory")                                      \
	X(ETRUNC,        -3,  "input truncated")                                    \
	X(EOVERFLOW,     -4,  "value out of range")                                 \
	X(ENONMINIMAL,   -5,  "non-minimal variable-length integer")                \
	X(EBADVERSION,   -6,  "unsupported protocol version")                       \
	X(ETOOBIG,       -7,  "message exceeds size limit")                         \
	X(ETRAILING,     -8,  "trailing bytes after message")                       \
	X(ENOSPC,        -9,  "output buffer too small")                            \
	X(EIO,           -10, "I/O error")                                          \
	X(ENOENT,        -11, "no such file or entry")                              \
	X(ECORRUPT,      -12, "corrupt or malformed data")                          \
	X(EEXIST,        -13, "already exists")                                     \
	X(EBADSIG,       -14, "signature verification failed")                      \
	X(EPOW,          -15, "proof-of-work below the required difficulty")        \
	X(ECANCELED,     -16, "operation canceled")                                 \
	X(EAGAIN,        -17, "queue full, try again later (backpressure)")         \
	X(ETIMEDOUT,     -18, "operation timed out")                                \
	X(ECLOSED,       -19, "connection closed")                                  \
	X(EIDMISMATCH,   -20, "peer authenticated as a different NodeID")           \
	X(EUNREACH,      -21, "peer unreachable")                                   \
	X(EUNROUTABLE,   -22, "no live edge to route through")                      \
	X(EUNSUPPORTED,  -23, "operation not supported by this transport or peer")  \
	X(EREFUSED,      -24, "refused by policy")                                  \
	X(ESTALE,        -25, "timestamp outside the freshness window")             \
	X(EREPLAY,       -26, "replayed message")                                   \
	X(ELIMIT,        -27, "rate limit or capacity cap reached")                 \
	X(ECRYPTO,       -28, "cryptographic failure")                              \
	X(ETLS,          -29, "TLS handshake or certificate failure")               \
	X(EADDR,         -30, "bad or unusable address")                            \
	X(EBUSY,         -31, "resource busy")                                      \
	X(ESTATE,        -32, "operation not valid in the current state")           \
	X(EWRONGTARGET,  -33, "reply keys do not hash to the target NodeID")        \
	X(ENONCE,        -34, "nonce does not match a pending request")             \
	X(EINTERNAL,     -35, "internal error")                                    \
	X(EINSECURE,     -36, "secret file open to group or others (want mode 0600)")

enum nn_err {
	NN_OK = 0,
#define NN_ERR_ENUM_(name, value, desc) NN_##name = (value),
	NN_ERR_LIST(NN_ERR_ENUM_)
#undef NN_ERR_ENUM_
};

/* One-line description of an error code; never NULL ("unknown error" for unknown codes). */
const char *nn_strerror(int err);
/* Symbol without the NN_ prefix ("EINVAL"); "OK" for 0, "EUNKNOWN" for unknown codes. */
const char *nn_errname(int err);

#endif
