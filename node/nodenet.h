/* nodenet.h — libnodenet's public API: run a node of the nodenet v1 overlay, or embed one.
 *
 * A node is its NodeID (BLAKE2b-256 of its Ed25519 key, with proof-of-work). It keeps live edges
 * (QUIC connections with mutual TLS bound to the NodeID) to other nodes and routes for everyone:
 * a message to a NodeID travels greedily by XOR distance, down up to three disjoint paths, and
 * arrives exactly once. This is the only installed header; everything else is internal.
 *
 * Errors: every fallible function returns 0 (or a count) on success and a negative NN_E* code
 * on failure; nn_strerror() describes a code and nn_errname() gives its symbol ("EINVAL").
 *
 * Threading: a node lives on one libev loop thread, its own (nn_node_run) or the host's (pass a
 * `struct ev_loop *` to nn_node_new and run that loop yourself). Every call below must be made
 * on that thread (from callbacks, or before the loop runs), except the two marked THREAD-SAFE:
 * nn_node_stop() and nn_node_call(), which hand work to the loop thread. Callbacks run on the
 * loop thread and must not block; the data they receive is valid only during the call. Every
 * call is allowed from a callback except nn_node_free() (refused with NN_ESTATE there).
 *
 * Ownership: the node copies what it keeps from options and arguments; the seed is wiped from
 * the node's memory when it is freed. Sends never block and never take ownership of the buffer.
 */
#ifndef NODENET_H
#define NODENET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NN_VERSION_STRING "0.1.0"

/* ---- errors: this block is identical to kad/nn_err.h (a test checks it) ---- */
/* BEGIN nn_err */
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
/* END nn_err */

/* ---- NodeIDs ---- */
#ifndef NN_ID_DEFINED
#define NN_ID_DEFINED
/* A NodeID: 32 bytes, read as a big-endian 256-bit number. */
typedef struct nn_id {
	uint8_t b[32];
} nn_id;
#endif

/* Parse exactly 64 hex digits (either case). NN_EINVAL otherwise. */
int nn_id_parse(nn_id *out, const char *hex, size_t len);
/* Format as 64 lowercase hex digits plus NUL into out[65]; returns out. */
char *nn_id_format(char out[65], const nn_id *id);

/* ---- identities ---- */
#define NN_SEED_BYTES 32
/* Load a seed file (exactly 32 bytes, a regular file). NN_ENOENT (missing), NN_ECORRUPT (wrong
 * size or type), NN_EINSECURE (readable, writable or executable by group or others: mode & 077;
 * nothing is read, like ssh with a private key; chmod 600 fixes it), NN_EIO. */
int nn_seed_load(const char *path, uint8_t seed[NN_SEED_BYTES]);
/* Save atomically with mode 0600; never replaces an existing file (NN_EEXIST). */
int nn_seed_save(const char *path, const uint8_t seed[NN_SEED_BYTES]);
/* Mint a seed whose NodeID has >= difficulty leading zero bits, on `threads` worker threads
 * (0 = one per CPU) that are joined before return. progress (may be NULL) runs on the calling
 * thread every ~100 ms; returning non-zero cancels (NN_ECANCELED). */
int nn_seed_mint(uint8_t seed[NN_SEED_BYTES], int difficulty, unsigned threads,
		 int (*progress)(void *user, uint64_t tries, double expected), void *user);
/* The NodeID of a seed. */
int nn_seed_node_id(nn_id *out, const uint8_t seed[NN_SEED_BYTES]);

/* ---- options ---- */
enum nn_log_level { NN_LOG_DEBUG = 0, NN_LOG_INFO = 1, NN_LOG_WARN = 2, NN_LOG_ERROR = 3 };

/* Maintenance timings in milliseconds. 0 takes the default in brackets; a negative value turns a
 * periodic task off. The defaults are the reference's (nodenet v1). Local policy on the three
 * discovery periods (self-lookup, sibling exchange, bucket refresh): each task runs at its floor
 * while its rounds bring news (a new contact, a lost edge, a join) and backs off exponentially
 * while they bring none, in every phase, up to 16 times its period (16 min, 8 min, 16 min by
 * default); the floor is the tick below Normal (filling, or an overlay too small to ever reach
 * Normal) and the period in Normal; news returns it to the floor at once. Once a task has backed
 * off past its period its rounds ask one copy (a routed lookup alone; the sibling exchange half
 * as many siblings each round, at least one). The reference runs them at their periods for
 * ever, and every tick for as long as it is filling. */
typedef struct nn_maintenance {
	int64_t tick_ms;              /* maintenance tick [5000] */
	int64_t keepalive_sibling_ms; /* ping a sibling idle this long [15000] */
	int64_t keepalive_finger_ms;  /* ping a finger idle this long [25000] */
	int64_t dead_sibling_ms;      /* drop a sibling silent this long [45000] */
	int64_t dead_finger_ms;       /* drop a finger silent this long [75000] */
	int64_t self_lookup_ms;       /* look up our own ID; back-off up to 16x [60000] */
	int64_t sibling_exchange_ms;  /* ask siblings for their closest contacts; idem [30000] */
	int64_t bucket_refresh_ms;    /* refresh the stalest bucket; idem [60000] */
	int64_t bucket_stale_ms;      /* a bucket is stale after [900000] */
	int64_t dial_timeout_ms;      /* a dialled edge silent this long after the handshake
					 * (not even a Pong) is dropped as a failed dial [10000] */
	int64_t backoff_base_ms;      /* first retry delay after a failed dial [1000] */
	int64_t backoff_max_ms;       /* retry delay cap; purge after 3 failures at the cap [300000] */
	unsigned dialers;             /* concurrent maintenance dials [4] */
} nn_maintenance;

typedef struct nn_node_callbacks {
	void *user;
	/* A routed message for this node, delivered once per Send however many copies arrive. */
	void (*on_message)(void *user, const nn_id *from, const uint8_t *data, size_t len);
	/* An application frame received over a direct edge from `from` (nn_node_send_direct). */
	void (*on_direct)(void *user, const nn_id *from, const uint8_t *data, size_t len);
	/* Edge admission: return false to refuse keeping an edge with `peer` (after its identity and
	 * PoW were verified). NULL admits everyone. */
	bool (*admit_edge)(void *user, const nn_id *peer, bool inbound);
	/* An edge came up (up = true) or went down. */
	void (*on_edge)(void *user, const nn_id *peer, bool up);
	/* One log line (no newline) at `level` or above the node's log_level. */
	void (*on_log)(void *user, int level, const char *line);
	/* ---- media sessions (calls); see "media sessions" below ---- */
	/* Consent for an inbound session from `peer` (its PoW and the caps already passed):
	 * return true to accept. NULL refuses every inbound session (default deny). */
	bool (*media_consent)(void *user, const nn_id *peer, uint64_t sid);
	/* Session sid came up (status 0: outbound open completed, or inbound accepted) or went
	 * down (status < 0: NN_EUNSUPPORTED the peer has no media, NN_ECLOSED the peer hung up,
	 * NN_ETIMEDOUT, a connect error ...). Nothing follows a down for that sid. Not called for
	 * sessions the application closed itself. */
	void (*on_media_state)(void *user, uint64_t sid, const nn_id *peer, bool inbound,
			       int status);
	/* One datagram on channel ch (16-255); rx_ns: its receive timestamp, taken by the
	 * transport when it read the datagram (QUIC: when the socket read returned it), on the
	 * node's monotonic clock, so time spent before this call does not count. */
	void (*on_media_datagram)(void *user, uint64_t sid, uint8_t ch, const uint8_t *data,
				  size_t len, int64_t rx_ns);
	/* One whole message on channel ch. */
	void (*on_media_message)(void *user, uint64_t sid, uint8_t ch, const uint8_t *data,
				 size_t len);
	/* The session's datagram send ring drained to half after an NN_EAGAIN. */
	void (*on_media_writable)(void *user, uint64_t sid);
} nn_node_callbacks;

#define NN_NODE_TARGET_EDGES_MIN 16 /* nn_node_opts.target_edges: the closest contacts' count */
#define NN_NODE_TARGET_EDGES_MAX 64 /* ... and the default */

typedef struct nn_node_opts {
	const uint8_t *seed;          /* the 32-byte identity seed (required); copied */
	const char *listen;           /* UDP "host:port", ":port" or "[::]:port"; NULL/"" = ":0" */
	int pow;                      /* network PoW difficulty [0 = off] */
	bool relay;                   /* volunteer as a relay (advertise CanRelay) [false] */
	/* Port mapping on the gateway: NN_PORTMAP_* bits, the protocols to try (PCP first, then
	 * NAT-PMP, then UPnP-IGD); 0 = off [0]. When on, the node asks the gateway to forward its UDP port,
	 * renews the mapping at half its lifetime, removes it on nn_node_stop / nn_node_free and
	 * advertises the mapped address first (it becomes a public contact). UPnP discovery sends
	 * SSDP multicast to 239.255.255.250 and PCP / NAT-PMP talk to the default gateway: off by
	 * default for embedding and tests. The protocol calls block the loop briefly: about 1 s for
	 * a first UPnP mapping (SSDP discovery), milliseconds for PCP, NAT-PMP and renewals, 1 s per attempt
	 * when no gateway answers (attempts back off from 5 s to 15 min). */
	unsigned portmap;
	uint32_t portmap_lifetime_s;  /* the mapping lifetime asked for, in seconds [3600] */
	/* Inbound admission (local policy; 0 takes the default in brackets). The node decides
	 * whom to keep: its edge caps sit below the transport's connection caps, so a newcomer
	 * always reaches the node, which admits it within the shares below, sheds the
	 * longest-idle inbound finger at the edge cap, or refuses it with a Referral (contacts
	 * of other nodes) before closing. Keep max_inbound above max_inbound_edges. */
	unsigned max_inbound;         /* concurrent inbound QUIC connections, handshakes and
				       * silent ones included [2 x max_inbound_edges = 512] */
	unsigned max_inbound_per_ip;  /* the same per source IP
				       * [2 x max_inbound_edges_per_ip = 32] */
	unsigned max_inbound_edges;   /* inbound overlay edges [256] */
	unsigned max_inbound_edges_per_ip;     /* ... from one source IP [max_inbound_edges / 16
						* = 16] */
	unsigned max_inbound_edges_per_subnet; /* ... from one /24 (IPv4) or /64 (IPv6); loopback
						* has no subnet [max_inbound_edges / 32 = 8] */
	unsigned max_edges_per_subnet; /* live edges, dialled and inbound, with one /24 or /64,
					* for our own dials: past it the node dials other contacts
					* than one there (inbound: the share above) [2] */
	unsigned max_near_edges_per_subnet; /* inbound newcomers near us (sharing at least D
					     * leading bits, D = our first knowledge bucket that is
					     * not full after the full ones; none while no bucket
					     * is full): at most
					     * this many live edges, either direction, with near
					     * peers of its /24 or /64 [2] */
	/* Outgoing edges the node keeps dialled (local policy) [64, the most]:
	 * NN_NODE_TARGET_EDGES_MIN to _MAX, else nn_node_new fails with NN_EINVAL. Each edge
	 * costs a connection (on QUIC tens of KB) and its keepalives; fewer edges cost longer
	 * routes and attack resistance (docs/EVALUATION.md, "Fewer edges"). The 16 contacts
	 * closest to the node are dialled whatever the figure. */
	unsigned target_edges;
	int log_level;                /* enum nn_log_level [NN_LOG_INFO] */
	bool no_maintenance;          /* no keepalive, fill, refresh (tests) [false] */
	nn_maintenance maint;
	nn_node_callbacks cb;
} nn_node_opts;

/* Fill o with the defaults (all zero, log_level INFO). */
void nn_node_opts_init(nn_node_opts *o);

/* ---- lifecycle ---- */
typedef struct nn_node nn_node;
struct ev_loop;

/* Create a node: derives the identity (it must meet o->pow: NN_EPOW), binds the UDP socket
 * (NN_EADDR, NN_EIO). loop = NULL gives the node its own loop for nn_node_run(); otherwise the
 * node attaches to the host's loop, which the host runs. */
int nn_node_new(nn_node **out, const nn_node_opts *o, struct ev_loop *loop);
/* Free the node: closes every edge and the socket (no Leave is sent: call nn_node_stop() and
 * let the loop finish first for a graceful exit). NULL is fine. Returns 0, or NN_ESTATE without
 * freeing anything when called from inside one of this node's callbacks (nn_node_callbacks, a
 * completion callback, a function run by nn_node_call): the node and its transport are on the
 * stack below the callback. Call nn_node_stop() there instead and free the node after its loop
 * returned. */
int nn_node_free(nn_node *n);
/* Run the node's own loop until nn_node_stop(). NN_ESTATE when attached to a host loop. */
int nn_node_run(nn_node *n);
/* THREAD-SAFE. Graceful stop: send Leave to every edge, give the transport ~200 ms to put
 * them on the wire, close every edge, then ev_break(EVBREAK_ALL) the loop the node runs on (its
 * own loop, or the host's: the host's ev_run returns; free the node afterwards). */
int nn_node_stop(nn_node *n);
/* THREAD-SAFE. Run fn(n, arg) on the loop thread soon. NN_EAGAIN when the queue (64) is full. */
int nn_node_call(nn_node *n, void (*fn)(nn_node *n, void *arg), void *arg);

const nn_id *nn_node_id(const nn_node *n);
/* The node's advertised addresses as "host:port" strings (a wildcard bind lists the interface
 * addresses, never 0.0.0.0 or ::). Returns how many there are; writes up to cap. */
size_t nn_node_addrs(nn_node *n, char (*out)[64], size_t cap);

/* Add a bootstrap contact and dial it now. hostport is a literal "ip:port" / "[ip6]:port". The
 * node remembers up to 8 bootstrap contacts: whenever it has no live edge (the first dial
 * failed, every edge dropped, or every node it tried refused it) maintenance re-dials them and
 * up to 8 more contacts from its knowledge table per round, in turn until every known contact
 * was tried, backing off from one tick to 60 s (stat `rejoins`). A node without a live edge
 * forgets no contact for failing to answer (the failure may be its own). */
int nn_node_bootstrap(nn_node *n, const nn_id *id, const char *hostport);

/* ---- knowledge across restarts ---- */
/* Save the contacts this node knows to path, atomically (path.tmp written with mode 0600,
 * fsynced, renamed over path): its live edges (those in its knowledge table) first, then the
 * known contacts closest to it, at most 256, each with its key and addresses. Returns how many were saved, or NN_EINVAL,
 * NN_ENOMEM, NN_EIO. The daemon saves every 5 minutes and on a graceful stop. */
int nn_node_save_contacts(nn_node *n, const char *path);
/* Load a file written by nn_node_save_contacts for this node's identity: learn its contacts
 * (each key must hash to its NodeID and meet the node's PoW difficulty) and dial the first few
 * at once (they were live edges when it was saved); while the node has no live edge,
 * maintenance re-dials the others in turn (see nn_node_bootstrap), so a restarted node rejoins
 * without a bootstrap contact. Returns how many contacts were learned, or NN_ENOENT (no file),
 * NN_EIDMISMATCH (written by another identity), NN_ECORRUPT (not a regular file, truncated,
 * damaged, unknown version, larger than any valid file: nothing is learned), NN_EIO,
 * NN_ENOMEM. The file is untrusted input: it is checked whole before anything is used. */
int nn_node_load_contacts(nn_node *n, const char *path);

/* ---- messaging ---- */
/* Largest payload nn_node_send accepts, whatever the number of edges. */
#define NN_NODE_MAX_MESSAGE 65294
/* Route payload to target over up to 3 disjoint paths (one copy over the edge when target is a
 * live edge; the disjoint launch if that edge refuses it). Never blocks. NN_EUNROUTABLE with no
 * live edge, NN_ETOOBIG over NN_NODE_MAX_MESSAGE, NN_EAGAIN if no first hop could take it. */
int nn_node_send(nn_node *n, const nn_id *target, const void *data, size_t len);

/* Resending over fresh first hops. Routing has no end-to-end acknowledgement; an application
 * that has one (the receiver answers) resends what was not acknowledged, and a resend through
 * nn_node_send takes the same first hops while the edges stay the same, so a dropping first
 * hop or a path behind it swallows it again. nn_node_send_ex says which first hops took the
 * copies, and a resend names them (and those of earlier attempts) in avoid: its copies leave
 * over other edges. */
#define NN_NODE_SEND_PATHS 3       /* copies (first hops) of one send, at most */
#define NN_NODE_SEND_MAX_AVOID 16  /* first hops one send can be told to avoid */
typedef struct nn_node_send_opts {
	const nn_id *avoid; /* in: edges not to take as first hops (also the target's own edge);
			     * if every live edge is listed, the send goes out as if none were */
	size_t navoid;      /* in: <= NN_NODE_SEND_MAX_AVOID */
	nn_id first[NN_NODE_SEND_PATHS]; /* out: the first hops that took a copy */
	size_t nfirst;                   /* out: how many (0 on error) */
} nn_node_send_opts;
/* nn_node_send with first-hop control (o may be NULL: nn_node_send). NN_EINVAL also for
 * navoid over NN_NODE_SEND_MAX_AVOID or avoid NULL with navoid > 0. */
int nn_node_send_ex(nn_node *n, const nn_id *target, const void *data, size_t len,
		    nn_node_send_opts *o);

/* ---- rendezvous, direct edges, sealed boxes ----
 * Every asynchronous call takes a deadline (timeout_ms; 0 = NN_NODE_DEFAULT_TIMEOUT_MS) and
 * completes exactly once through its callback, on the loop thread, never from inside the call
 * that started it. A call that returns an error never calls its callback. nn_node_stop() and
 * nn_node_free() complete every pending call with NN_ECANCELED. At most NN_NODE_MAX_OPS calls
 * are pending at once (NN_ELIMIT beyond). */
#define NN_NODE_DEFAULT_TIMEOUT_MS 10000
#define NN_NODE_MAX_OPS 64
#define NN_NODE_MAX_ADDRS 16

/* A peer's keys and addresses, verified against its NodeID: BLAKE2b(ed_pub) == id, and the
 * peer signed x_pub and the addresses (no forwarder can substitute them). */
typedef struct nn_peer_keys {
	nn_id id;
	uint8_t ed_pub[32];
	uint8_t x_pub[32];
	size_t naddrs;
	char addrs[NN_NODE_MAX_ADDRS][64]; /* "host:port" as the peer advertised them */
} nn_peer_keys;

/* status 0: keys is the verified answer; otherwise keys is NULL and status is NN_ETIMEDOUT (no
 * verified Reply in time), NN_EUNROUTABLE (no live edge), NN_ECANCELED (node stopping). */
typedef void (*nn_rendezvous_cb)(void *user, int status, const nn_id *target,
				 const nn_peer_keys *keys);
/* Ask target for its keys and addresses (a signed Hello routed over 3 disjoint paths, resent
 * 1, 3 and 7 s after the first; the first Reply that verifies answers). The keys are also
 * remembered (for nn_node_seal) and the target is learned as a contact. Errors now: NN_EINVAL
 * (target is ourselves), NN_ELIMIT, NN_ESTATE (stopping). */
int nn_node_rendezvous(nn_node *n, const nn_id *target, int64_t timeout_ms, nn_rendezvous_cb cb,
		       void *user);

/* status 0: a live edge to target exists (how = "direct"; addr = its remote address); else
 * NN_ETIMEDOUT, NN_EUNREACH (every candidate address failed), NN_EIDMISMATCH (someone else
 * answered at every address), NN_EUNROUTABLE, NN_EPOW, NN_EREFUSED (the admission hook),
 * NN_ECANCELED. how and addr are NULL on error. */
typedef void (*nn_connect_cb)(void *user, int status, const nn_id *target, const char *how,
			      const char *addr);
/* Get a live edge to target: the existing one, or rendezvous and then Happy-Eyeballs dialling of
 * every advertised address (one attempt every 250 ms, or at once when the previous one failed;
 * the first connection that authenticates as target wins, the others are closed; the stage
 * ends 1 s after its last attempt started); alongside, when the transport can punch, a hole
 * punch signalled over the overlay (Connect / ConnectAck, then volleys and dials from both
 * sides; 2 s for the Ack, 2.5 s for the dials). how is "direct" or "punch". Relays will
 * follow as the next stage. Errors now: as nn_node_rendezvous. */
int nn_node_connect(nn_node *n, const nn_id *target, int64_t timeout_ms, nn_connect_cb cb,
		    void *user);

/* Completion of nn_node_send_direct: 0 when the frame was handed to the edge, else the error
 * of the connect, or of the send (NN_EAGAIN: the edge's queue is full). */
typedef void (*nn_done_cb)(void *user, int status, const nn_id *target);
/* Largest payload of a direct (App) frame. */
#define NN_NODE_MAX_DIRECT 65531
/* Send payload to target over a direct edge (an App frame, delivered to the peer's on_direct),
 * connecting first when there is no edge (nn_node_connect, with this deadline). The payload is
 * copied. cb may be NULL. Errors now: NN_EINVAL, NN_ETOOBIG, NN_ELIMIT, NN_ESTATE, and with a
 * live edge the send's own error (NN_EAGAIN). */
int nn_node_send_direct(nn_node *n, const nn_id *target, const void *data, size_t len,
			int64_t timeout_ms, nn_done_cb cb, void *user);

/* Sealed boxes: small end-to-end encrypted, sender-signed content (nodenet v1 sealed box) that
 * any channel may carry (e.g. nn_node_send). The node binds the sender's NodeID into the box
 * (as the AEAD's associated data), so a box cannot be re-signed by anyone else as theirs.
 * Size of the box for a plaintext of len bytes (0 when len > NN_NODE_MAX_BOX_PLAINTEXT). */
#define NN_NODE_MAX_BOX_PLAINTEXT 65000
#define NN_NODE_BOX_MAX_AGE_MS 120000 /* a box opens within +-2 min of its timestamp */
size_t nn_node_box_len(size_t len);
/* Seal len bytes to target's verified x_pub (from a completed nn_node_rendezvous; NN_ENOENT
 * when there is none). out needs nn_node_box_len(len) bytes (NN_ENOSPC); returns the box's
 * length. */
int nn_node_seal(nn_node *n, const nn_id *target, const void *data, size_t len, uint8_t *out,
		 size_t cap);
/* Open a box sealed to this node: the plaintext (len - overhead bytes; cap >= len is always
 * enough) into out, *out_len its length, *sender the sealer's NodeID. Each box opens once:
 * a second open inside its window is NN_EREPLAY. Errors: NN_ETRUNC, NN_ECORRUPT, NN_ETRAILING
 * (malformed), NN_EBADSIG (sealed to someone else, or tampered), NN_ESTALE (outside +-2 min),
 * NN_ECRYPTO (tampered ciphertext), NN_EREPLAY, NN_ELIMIT (replay memory full: fail closed),
 * NN_ENOSPC. Each rejection is counted in the stats (dropped_box). */
int nn_node_open(nn_node *n, const uint8_t *box, size_t len, uint8_t *out, size_t cap,
		 size_t *out_len, nn_id *sender);

/* ---- media sessions (calls) ----
 * A media session is its own transport connection to a peer (QUIC: ALPN nodenet-media/1, from
 * the node's one socket to the observed address of the overlay edge, so it reuses the NAT
 * mapping or relay allocation) carrying unreliable datagrams (channel + <= 1200 bytes) and
 * reliable one-shot messages (channel + <= NN_NODE_MEDIA_MAX_MESSAGE bytes). Channels 0-15 are
 * reserved: sending on one is NN_EINVAL; received frames on them are dropped and counted.
 * Sessions are named by a sid (1, 2, ... per node, never reused); a sid that is unknown or
 * closed is NN_ENOENT. Sessions never enter the edge tables nor count toward the floor; edge
 * churn never closes a session, and a session keeps the path it was dialled on when its edge
 * comes back at another address (moving it is the application's make-before-break: several
 * sessions to one peer may coexist). Received datagrams and messages go to the callbacks as
 * they are read: there is no receive queue (docs/API.md "Media sessions").
 * Inbound admission, in order (each refusal counted in the node stats): the caller's NodeID
 * meets the PoW difficulty (dropped_media_sub_pow), at most NN_NODE_MEDIA_MAX_IN inbound
 * sessions and NN_NODE_MEDIA_MAX_PER_PEER per peer NodeID (dropped_media_cap), the
 * media_consent callback (dropped_media_consent; none set = refuse). Every session has a
 * receive budget (2,500,000 B/s burst 262,144, and 4000 packets/s burst 400): frames over it
 * are dropped (rx_dropped_budget, dropped_media_budget). A failed media dial (other than
 * NN_EUNSUPPORTED) and every session's end ping the peer's overlay edge, so a dead path is
 * found at once. */
#define NN_NODE_MEDIA_MAX_DGRAM 1200     /* datagram payload, channel byte excluded */
#define NN_NODE_MEDIA_MAX_MESSAGE 65536  /* message payload (a media message is channel + 64 KiB) */
#define NN_NODE_MEDIA_CH_FIRST 16        /* first application channel */
#define NN_NODE_MEDIA_TX_RING 64         /* datagrams queued per session */
#define NN_NODE_MEDIA_MAX_IN 16          /* inbound sessions per node */
#define NN_NODE_MEDIA_MAX_PER_PEER 4     /* inbound sessions per peer NodeID */
#define NN_NODE_MEDIA_MAX_OUT 64         /* outbound sessions per node (local policy) */

/* Open a session to target: over the live edge to it, or after nn_node_connect (with
 * timeout_ms) found one; then a media dial to that edge's observed address. *sid is set at
 * once; on_media_state reports the outcome. Errors now: NN_EINVAL (target is ourselves),
 * NN_EUNSUPPORTED (the transport has no media), NN_ELIMIT (NN_NODE_MEDIA_MAX_OUT open),
 * NN_ESTATE (stopping), the connect's own errors. */
int nn_node_media_open(nn_node *n, const nn_id *target, int64_t timeout_ms, uint64_t *sid);
/* Send one datagram: never blocks. It goes to the transport at once, or into the session's
 * ring (NN_NODE_MEDIA_TX_RING) when the transport pushes back; a full ring returns NN_EAGAIN
 * (counted tx_dropped_queue; on_media_writable follows). A datagram the transport then
 * refuses (e.g. over the path MTU) is counted tx_dropped_send and never closes the session.
 * NN_EINVAL (reserved channel), NN_ETOOBIG (> NN_NODE_MEDIA_MAX_DGRAM), NN_ESTATE (not up
 * yet), NN_ENOENT. */
int nn_node_media_send(nn_node *n, uint64_t sid, uint8_t ch, const void *data, size_t len);
/* Send one reliable message (copied; the transport writes it within its deadline or resets
 * it: tx_dropped_stall). NN_EAGAIN when the transport's queue is full; NN_EINVAL, NN_ETOOBIG
 * (> NN_NODE_MEDIA_MAX_MESSAGE), NN_ESTATE, NN_ENOENT. */
int nn_node_media_send_message(nn_node *n, uint64_t sid, uint8_t ch, const void *data,
			       size_t len);
/* Close the session (also one still opening). No callback follows for it. NN_ENOENT. */
int nn_node_media_close(nn_node *n, uint64_t sid);

/* Per-session counters (monotonic), the reference's set. */
typedef struct nn_media_stats {
	uint64_t tx_datagrams;        /* datagrams accepted (sent or queued in the ring) */
	uint64_t tx_dropped_queue;    /* datagrams refused: the ring was full (NN_EAGAIN) */
	uint64_t tx_dropped_send;     /* datagrams the transport refused (e.g. path MTU) */
	uint64_t tx_messages;         /* messages handed to the transport */
	uint64_t tx_dropped_stall;    /* messages abandoned: the transport's write stalled */
	uint64_t rx_datagrams;        /* datagrams delivered */
	uint64_t rx_dropped_budget;   /* frames shed by the receive budget */
	uint64_t rx_dropped_reserved; /* frames empty, on a reserved channel, or oversized */
	uint64_t rx_dropped_queue;    /* datagrams dropped for a full receive queue (always 0:
				       * datagrams are handed to the callback as they arrive) */
	uint64_t rx_messages;         /* messages delivered */
	uint64_t rx_dropped_messages; /* messages dropped (oversized, truncated) */
} nn_media_stats;

typedef struct nn_media_info {
	nn_id peer;
	char addr[64];     /* the peer's address the session runs to (the edge's observed one) */
	bool inbound;
	bool up;           /* false while opening */
	size_t tx_queued;  /* datagrams waiting in the send ring */
	nn_media_stats stats;
} nn_media_info;
/* Fill *out for sid. NN_ENOENT. */
int nn_node_media_info(nn_node *n, uint64_t sid, nn_media_info *out);
/* The sids of open sessions (opening ones included); returns how many, writes up to cap. */
size_t nn_node_media_list(nn_node *n, uint64_t *out, size_t cap);

/* ---- introspection ---- */
/* What the node believes about its own NAT, and why (like `tailscale netcheck`). Local policy:
 * an address is confirmed when neighbours in at least two subnets report it; neighbours on
 * private or loopback addresses do not vote; "symmetric" needs three different mappings
 * reported from more than one subnet. */
typedef struct nn_nat_info {
	const char *type;    /* "unknown", "public", "cone" or "symmetric" */
	char reflexive[64];  /* the confirmed reflexive "host:port", or "" */
	unsigned reporters;  /* neighbours whose report we hold */
	unsigned voters;     /* of them, those that vote on the public mapping */
	unsigned votes;      /* voters naming the confirmed address */
	unsigned subnets;    /* distinct subnets among those */
	bool filtering_open; /* an unsolicited inbound connection was seen */
	/* keepalive (adaptive unless the application set the keepalive options): the interval
	 * of edges that cross our NAT, the longest silence a mapping of ours outlived, the
	 * shortest probed silence it did not (0 = none), in ms */
	int64_t keepalive_ms, ka_survived_ms, ka_failed_ms;
	unsigned relays;     /* live edges that run through a volunteer relay (ours or theirs) */
	char relay[4][64];   /* the first four: the relay's allocation address "host:port" */
} nn_nat_info;
void nn_node_nat_info(nn_node *n, nn_nat_info *out);

/* Port-mapping state (nn_node_opts.portmap). */
#define NN_PORTMAP_NATPMP 1u
#define NN_PORTMAP_UPNP 2u
#define NN_PORTMAP_PCP 4u /* RFC 6887 MAP */
#define NN_PORTMAP_ALL (NN_PORTMAP_NATPMP | NN_PORTMAP_UPNP | NN_PORTMAP_PCP)
typedef struct nn_portmap_info {
	const char *state;   /* "off" (not asked for), "none" (no mapping held: no gateway
			      * answered, or it refused), "pcp", "natpmp" or "upnp" (the mapping's protocol) */
	char external[64];   /* the mapped public "host:port", or "" */
	int64_t ttl_s;       /* seconds the mapping has left (-1: permanent), 0 without one */
} nn_portmap_info;
void nn_node_portmap_info(nn_node *n, nn_portmap_info *out);

typedef struct nn_peer_info {
	nn_id id;
	char addr[64];   /* observed remote address */
	bool inbound;    /* the peer dialled us */
	bool sibling;    /* one of the 16 closest edges to us (else a finger) */
	const char *path; /* how it came up: "direct" (a dial, or inbound), "punch", "birthday",
			   * or "relay" (through a volunteer relay); a static string */
	int64_t rtt_us;  /* smoothed round-trip time the transport measured, 0 = none yet */
} nn_peer_info;
/* Live edges; returns how many there are, writes up to cap. */
size_t nn_node_peers(nn_node *n, nn_peer_info *out, size_t cap);
/* The node's phase, from how many live edges it has against its targets: "bootstrap" (none),
 * "critical", "urgent", "needs-fill" or "normal". A static string. */
const char *nn_node_phase(nn_node *n);

/* Counters (monotonic) and gauges: X(name, description). */
#define NN_NODE_STATS(X)                                                                     \
	X(sent, "routed messages originated")                                                \
	X(delivered, "routed messages delivered to the application")                        \
	X(forwarded, "routed frames forwarded for others")                                  \
	X(local_repairs, "forwards retried on the next candidate after a failed send")      \
	X(direct_rx, "App frames received over direct edges")                               \
	X(dropped_sub_pow, "frames or edges from identities below the PoW difficulty")      \
	X(dropped_stale, "routed frames outside the +-30 s freshness window")               \
	X(dropped_bad_sig, "routed frames whose signature failed (checked at every hop)")   \
	X(dropped_transit_replay, "routed frames this node had already forwarded or signed (replays)")\
	X(dropped_verify_budget, "transit frames shed: signature-check budget spent")       \
	X(dropped_rate_limited, "frames over a per-edge or per-originator rate limit")      \
	X(dropped_unsolicited, "Neighbors answers for a nonce we did not send")             \
	X(dropped_extra_answers, "Neighbors answers beyond their request's budget (one per copy)")\
	X(dropped_forged_contact, "contacts (Neighbors, Referrals) whose ed_pub does not hash to their ID")\
	X(dropped_inbound_full, "inbound edges refused: inbound edge cap reached")          \
	X(inbound_shed, "inbound fingers shed to admit a newcomer at the inbound cap")      \
	X(dropped_edge_refused, "edges refused by the admission hook")                      \
	X(dropped_malformed, "malformed frames (any type)")                                 \
	X(dropped_dup_inbound, "inbound edges for a peer that already has one")             \
	X(dropped_dup, "duplicate copies of a routed message suppressed at the terminal")   \
	X(dropped_ttl, "routed frames dropped at TTL 0")                                    \
	X(dropped_no_route, "routed frames with no closer edge (local optimum)")            \
	X(repairs, "lookups started after a local optimum, to meet the target's neighbours")\
	X(dropped_queue_full, "sends refused by a full per-connection queue")               \
	X(dropped_tombstoned, "frames on connections of edges just dropped")                \
	X(dropped_unknown_type, "frames of unassigned types (ignored)")                     \
	X(edges_up, "edges registered")                                                      \
	X(edges_down, "edges dropped")                                                       \
	X(dials, "outgoing dials started")                                                   \
	X(dial_failures, "outgoing dials that failed")                                       \
	X(dials_unanswered, "dials that authenticated but never heard back (dial timeout)")   \
	X(rejoins, "bootstrap re-dials by a node that had no live edge")                     \
	X(pings_tx, "keepalive pings sent")                                                  \
	X(unanswered_pings, "pings after frames went unanswered for 10 s (keepalive.c)")      \
	X(edges_unanswered, "edges dropped: frames and a ping unanswered for 25 s")          \
	X(suspect_copies, "routed frames also sent around a silent edge to their target")    \
	X(suspect_detours, "of them, copies sent to a farther edge: none was closer")          \
	X(hole_detours, "frames at a local optimum for a known target, no edge to it: sent farther") \
	X(dup_restarted, "a settled edge replaced by the peer's new connection (a restart)")  \
	X(lookups_tx, "lookups originated (self-lookup, refresh, bootstrap)")               \
	X(purged, "contacts purged after repeated dial failures")                           \
	X(kt_addrs_unpacked, "contact addresses not kept: longer than the knowledge table packs") \
	X(hellos_tx, "rendezvous Hellos sent")                                               \
	X(replies_tx, "rendezvous Replies sent (one per Hello)")                            \
	X(rendezvous_ok, "rendezvous answered by a verified Reply")                         \
	X(dropped_wrong_target, "Replies whose keys do not hash to the target (MITM)")      \
	X(dropped_replay, "replayed Hellos, Replies or sealed boxes")                        \
	X(connects_ok, "connect calls that ended with a live edge")                         \
	X(connects_failed, "connect calls that failed or timed out")                        \
	X(direct_tx, "App frames sent over direct edges")                                   \
	X(dropped_box, "sealed boxes that failed to open (any reason)")                     \
	X(nat_changes, "changes of the NAT verdict (type or reflexive address)")              \
	X(reflex_outvoted, "reflexive reports naming another address than the confirmed one")  \
	X(reflex_one_subnet, "reflexive reports whose address has its votes from too few subnets")\
	X(connects_tx, "Connects sent (hole-punch requests)")                                \
	X(connect_acks_tx, "ConnectAcks sent (one per Connect)")                              \
	X(connect_acks_rx, "ConnectAcks that matched a punch of ours")                        \
	X(connects_punched, "connect calls whose edge came from the punch stage")            \
	X(punchbacks_ok, "our halves of other nodes' punches that ended with an edge")       \
	X(punches_tx, "punch datagrams sent")                                                \
	X(dropped_punch_busy, "Connects answered but not punched: too many punches running")\
	X(dropped_bad_addr, "peer addresses outside the host:port grammar (dropped at decode)")\
	X(dropped_inbound_per_ip, "inbound edges refused: the source IP's share is full")  \
	X(dropped_inbound_per_subnet, "inbound edges refused: the /24 or /64's share is full") \
	X(dropped_inbound_near_subnet, "inbound edges refused: near us, and its /24 or /64 holds its near share") \
	X(dials_skipped_subnet, "contacts not dialled: their /24 or /64 holds its share of live edges") \
	X(referrals_tx, "Referrals sent to newcomers refused or shed at an inbound cap")   \
	X(referrals_rx, "Referrals taken from connections we dialled")                      \
	X(referral_contacts, "new contacts learned from Referrals")                        \
	X(dropped_referral, "Referrals refused: not on a connection we dialled, or a second one") \
	X(tp_rx_garbage, "transport: datagrams dropped unparsed (not QUIC, bad headers)")  \
	X(tp_rx_unknown_conn, "transport: packets for no connection we have")               \
	X(tp_version_neg_tx, "transport: Version Negotiation replies sent")                 \
	X(tp_stateless_reset_tx, "transport: Stateless Resets sent")                         \
	X(tp_stateless_limited, "transport: Version Negotiation / Reset replies rate-limited") \
	X(tp_retry_tx, "transport: Retry packets sent (handshake load, or a newcomer at a cap)") \
	X(tp_retry_token_bad, "transport: Initials with an invalid or expired Retry token")  \
	X(tp_inbound_refused_global, "transport: handshakes refused at the global cap")      \
	X(tp_inbound_refused_per_ip, "transport: handshakes refused at the per-IP cap")      \
	X(tp_inbound_evicted, "transport: silent connections closed to admit a newcomer")    \
	X(tp_handshake_failed, "transport: failed handshakes (any reason)")                  \
	X(tp_handshake_timeout, "transport: handshakes that timed out")                      \
	X(tp_cert_missing, "transport: certificates refused: no NodeID extension")           \
	X(tp_cert_malformed, "transport: certificates refused: malformed DER")               \
	X(tp_cert_bad_length, "transport: certificates refused: extension not 96 bytes")     \
	X(tp_cert_critical, "transport: certificates refused: extension marked critical")    \
	X(tp_cert_bad_sig, "transport: certificates refused: extension signature fails")     \
	X(tp_no_peer_cert, "transport: handshakes refused: no client certificate")           \
	X(tp_alpn_mismatch, "transport: handshakes refused: foreign ALPN")                   \
	X(tp_id_mismatch, "transport: dials answered by another NodeID")                     \
	X(tp_first_frame_timeout, "transport: accepted connections silent past 30 s")        \
	X(tp_frame_too_big, "transport: connections closed for an oversized frame length")   \
	X(tp_streams_reset, "transport: extra streams a peer opened, reset")                 \
	X(tp_send_stalled, "transport: connections closed for a stuck send queue")           \
	X(tp_idle_timeout, "transport: connections closed by the idle timeout")              \
	X(tp_birthday_sockets, "transport: birthday probing: extra sockets opened")           \
	X(tp_birthday_won, "transport: birthday probing: winning sockets that dialled")       \
	X(tp_birthday_gave_up, "transport: birthday probing: attempts without a winner")      \
	X(tp_birthday_refused, "transport: birthday probing: attempts refused at a cap")      \
	X(birthday_started, "birthday probing sub-stages begun (either role)")              \
	X(birthday_probes_tx, "birthday probing: punches sprayed at random ports")           \
	X(birthday_gave_up, "birthday probing sub-stages that ended without an edge")        \
	X(connects_birthday, "connect calls whose edge came from birthday probing")          \
	X(maint_cascades, "connect cascades the maintenance dialer started after a failed dial")\
	X(maint_cascades_ok, "... of them that ended with an edge (punch, birthday or direct)") \
	X(dropped_maint_cascade_busy, "maintenance cascades not started: 4 running")        \
	X(dropped_birthday_busy, "birthday sprays not started: 2 running, or the pace (1 per 4 s)")\
	X(ka_probes_tx, "keepalive probes sent (how long our NAT keeps idle mappings)")     \
	X(ka_probes_survived, "... whose echo arrived into our silence: the mapping outlived it")\
	X(ka_probes_failed, "... whose echo came only after we sent again: the mapping died") \
	X(ka_learned, "silences an arriving frame proved our NAT mapping outlived (new longest)")\
	X(ka_echoes_tx, "keepalive echoes sent for a peer's probe")                         \
	X(dropped_ka_echo, "keepalive echoes matching no probe of ours")                    \
	X(media_opened, "media sessions we opened that came up")                         \
	X(media_accepted, "inbound media sessions admitted (consent given)")              \
	X(media_dial_failed, "media dials that failed (NN_EUNSUPPORTED included)")          \
	X(media_moved, "live sessions we dialled moved with their edge (relay -> direct)")  \
	X(media_move_failed, "sessions left on the old path when their edge moved")         \
	X(media_edge_pings, "edge pings after a failed media dial or a session's end")     \
	X(dropped_media_sub_pow, "inbound media sessions from identities below the PoW")    \
	X(dropped_media_cap, "inbound media sessions over the node (16) or per-peer (4) cap")\
	X(dropped_media_consent, "inbound media sessions refused by consent (or none set)")  \
	X(dropped_media_budget, "media frames shed by a session's receive budget")          \
	X(dropped_media_reserved, "media frames empty, on a reserved channel, or oversized") \
	X(dropped_media_queue, "media datagrams refused: the session's send ring was full") \
	X(portmap_attempts, "port mapping: requests to the gateway (map or renew)")          \
	X(portmap_ok, "port mapping: mappings obtained")                                     \
	X(portmap_renewals, "port mapping: mappings renewed")                                \
	X(portmap_failures, "port mapping: attempts that failed (no gateway, refused, timeout)")\
	X(portmap_removed, "port mapping: mappings removed on the gateway at stop")          \
	X(portmap_bad_answers, "port mapping: PCP answers dropped (malformed, another mapping)")\
	X(relay_requests_rx, "RelayRequests received (as a relay)")                          \
	X(relay_served, "RelayRequests served: session allocated, Grant and Bind sent")      \
	X(relay_refusals_tx, "RelayRefuses sent (not a volunteer, no edge, busy, rate, bad)") \
	X(dropped_relay_rate, "RelayRequests / Binds over the per-connection rate (refused)") \
	X(relay_binds_rx, "RelayBinds received (as a callee)")                               \
	X(dropped_relay_bind, "RelayBinds dropped: not from a CanRelay edge, or not dialable") \
	X(relay_requests_tx, "RelayRequests sent (relay stage of a connect)")                \
	X(relay_grants_rx, "RelayGrants that matched a request of ours")                    \
	X(relay_refusals_rx, "RelayRefuses that matched a request of ours (next volunteer)") \
	X(relay_timeouts, "RelayRequests unanswered within their wait (next volunteer)")      \
	X(relay_no_volunteer, "relay stages with no CanRelay edge to ask")                   \
	X(relay_after_rendezvous, "connects whose rendezvous went unanswered: straight to relay") \
	X(relay_after_birthday, "relay stages begun after a birthday sub-stage without an edge") \
	X(connects_relayed, "connect calls whose edge came through a relay")                 \
	X(tp_relay_sessions, "transport: relay volunteer: sessions allocated")              \
	X(tp_relay_refused, "transport: relay volunteer: allocations refused at the cap")   \
	X(tp_relay_reaped, "transport: relay volunteer: sessions closed idle (30 s)")       \
	X(tp_relay_shaped, "transport: relay volunteer: datagrams dropped by a shaper")     \
	X(tp_relay_foreign, "transport: relay volunteer: datagrams from an unpinned host")  \
	X(tp_relay_unpinned, "transport: relay volunteer: datagrams before the other side pinned") \
	X(tp_relay_other_drops, "transport: relay volunteer: other drops (size, send failed)") \
	X(tp_media_in, "transport: media sessions accepted (reported to the node)")         \
	X(tp_media_out, "transport: media sessions dialled that came up")                    \
	X(tp_media_unsupported, "transport: media sessions refused: no media or DATAGRAM")    \
	X(tp_media_idle_reaped, "transport: accepted media sessions closed idle (10 s)")     \
	X(tp_media_moved, "transport: media sessions dialled that migrated with their edge") \
	X(tp_media_move_failed, "transport: media session migrations refused")             \
	X(tp_media_dgram_tx, "transport: media datagrams handed to the network")             \
	X(tp_media_dgram_ring_full, "transport: media datagram sends refused: ring full")    \
	X(tp_media_dgram_send_failed, "transport: media datagrams dropped at send (too big)") \
	X(tp_media_dgram_rx, "transport: media datagrams received")                          \
	X(tp_media_dgram_rx_dropped, "transport: media datagrams dropped at receive")        \
	X(tp_media_msg_tx, "transport: media messages fully written (FIN)")                  \
	X(tp_media_msg_tx_stalled, "transport: media messages reset: write over 1 s")        \
	X(tp_media_msg_tx_eagain, "transport: media message sends refused: slots busy")      \
	X(tp_media_msg_rx, "transport: media messages received whole")                       \
	X(tp_media_msg_rx_oversize, "transport: media messages stopped: over 65,537 bytes")  \
	X(tp_media_msg_rx_truncated, "transport: media messages reset or empty at FIN")      \
	X(tp_media_msg_rx_timeout, "transport: media messages past the 5 s read deadline")   \
	X(tp_media_msg_rx_no_slot, "transport: media messages stopped: no read slot")        \
	X(tp_overlay_dgram_dropped, "transport: datagrams on overlay edges, dropped")         \
	X(upgrades_tried, "relay->direct upgrade cascades started for relayed edges")        \
	X(upgrades_ok, "relay->direct upgrade cascades that found a direct connection")      \
	X(upgrades_moved, "relayed edges moved to a direct connection (make-before-break)")  \
	X(upgrades_gave_up, "relayed edges left relayed after the last upgrade attempt")     \
	X(siblings_tx, "Siblings requests sent (sibling exchange, joining)")                  \
	X(neighbors_tx, "Neighbors answers sent (to lookups and Siblings requests)")           \
	X(tp_udp_tx, "transport: UDP datagrams sent (all traffic)")                          \
	X(tp_udp_tx_bytes, "transport: UDP payload bytes sent")                              \
	X(tp_udp_rx, "transport: UDP datagrams received")                                    \
	X(tp_udp_rx_bytes, "transport: UDP payload bytes received")                          \
	X(connects_early, "connect calls that dialled a known address before any rendezvous") \
	X(connects_early_kt, "connect calls that dialled knowledge-table addresses with the rendezvous") \
	X(connects_deferred, "connect calls that held their Connect back: target looked reachable") \
	X(edges, "gauge: live edges")                                                        \
	X(edges_out, "gauge: outgoing live edges")                                           \
	X(knowledge, "gauge: contacts in the knowledge table")                                \
	X(edges_punched, "gauge: live edges that came up by hole punch or birthday probing")   \
	X(edges_relayed, "gauge: live edges through a volunteer relay")                       \
	X(media_sessions, "gauge: media sessions (calls) open, either direction")

typedef struct nn_node_stats {
#define NN_STATS_FIELD_(name, desc) uint64_t name;
	NN_NODE_STATS(NN_STATS_FIELD_)
#undef NN_STATS_FIELD_
} nn_node_stats;

void nn_node_get_stats(nn_node *n, nn_node_stats *out);
/* Name of counter i (0-based, in NN_NODE_STATS order) or NULL past the end; *value from s. */
const char *nn_node_stat(const nn_node_stats *s, size_t i, uint64_t *value);

#ifdef __cplusplus
}
#endif
#endif
