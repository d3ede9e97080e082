/* node_impl.h — the node runtime's internal state, shared by the node/ sources (not installed).
 *
 * One node = one identity + one transport endpoint + the routing tables, all owned by one loop
 * thread. Files, one concern each: node.c (lifecycle, public accessors), conn.c (transport
 * sink: connections, edge registration and removal), admit.c (inbound admission: shares,
 * shedding, Referrals), dispatch.c (per-edge frames: control
 * protocol and App), route.c (routed frames at every hop, origination, lookups), maint.c
 * (maintenance: keepalive, reaping, fill, probes, backoff), discovery.c (self-lookup, sibling
 * exchange, bucket refresh, their pace, the joining walk), rendezvous.c (Hello / Reply at the
 * terminals, verified keys), ops.c (asynchronous calls and the connect cascade: direct, punch,
 * birthday; punchbacks; the maintenance dialer's cascades), nat.c (reflexive verdict,
 * coordinates, dial hygiene, Connect / ConnectAck, punch volleys, birthday sprays), box.c
 * (sealed boxes), persist.c (contacts across restarts), media.c (media sessions: calls),
 * portmap.c (UPnP / NAT-PMP port mapping on the gateway: the only file that talks to anything
 * but peers), limit.c (per-originator limiter), idmap.c (NodeID-keyed hash map), log.c
 * (logging and stats).
 *
 * Ownership: the node owns its nn_conn records (struct nconn, in conn->user) from on_conn (or
 * the dial) until on_closed / on_dial_failed; the transport owns the nn_conn itself. A live
 * edge in the routing table points at its nn_conn. Received packets are lent by the transport
 * for the duration of on_frame; a transit frame is forwarded straight from that buffer with its
 * TTL byte patched (the transport copies on send).
 */
#ifndef NN_NODE_IMPL_H
#define NN_NODE_IMPL_H

#include <ev.h>
#include <pthread.h>
#include <stdarg.h>

#include "identity/identity.h"
#include "nat/nat.h"
#include "node/nodenet.h"
#include "rendezvous/pending.h"
#include "rendezvous/rdv.h"
#include "rendezvous/replay.h"
#include "routing/control.h"
#include "routing/decide.h"
#include "routing/dedup.h"
#include "routing/edges.h"
#include "routing/envelope.h"
#include "routing/knowledge.h"
#include "transport/clock.h"
#include "transport/pool.h"
#include "transport/transport.h"

/* ---- NodeID-keyed open-addressing hash map (idmap.c) ----
 * A power-of-two slot array, at most half full, that starts at 16 slots and doubles (rehash)
 * when a new ID finds it half full, up to max_cap (fixed at init from max_entries: the cap
 * that input can never push it past; full = half of max_cap used). Values are small
 * fixed-size records the caller defines; SipHash of the ID under a per-map random key, so
 * peers cannot aim collisions; backward-shift deletion (no tombstones). Allocates only at
 * init, while growing (a put of a new ID) and in a trim; pointers into it are valid until the
 * next put or trim. */
typedef struct nn_idmap {
	uint8_t *slots;  /* cap x (1 used byte + 32 id + vsize value) */
	size_t cap, max_cap, n, vsize, stride;
	uint8_t key[16];
} nn_idmap;

int nn_idmap_init(nn_idmap *m, size_t max_entries, size_t vsize, const uint8_t key[16]);
void nn_idmap_fini(nn_idmap *m);
/* The value for id, or NULL. */
void *nn_idmap_get(const nn_idmap *m, const nn_id *id);
/* The value for id, inserted zeroed if absent (NULL when full). *fresh tells which. */
void *nn_idmap_put(nn_idmap *m, const nn_id *id, bool *fresh);
/* Halve the slot array while the map is at most an eighth full (not below its starting
 * size), so a table that grew for a burst gives the memory back: a put may grow it again.
 * Rehashes every member (invalidates value pointers); not for hot paths (the maintenance tick
 * calls it). The new slot count, or 0 when nothing changed (also on allocation failure). */
size_t nn_idmap_trim(nn_idmap *m);
bool nn_idmap_del(nn_idmap *m, const nn_id *id);
/* Iterate: slot index i in [0, cap); NULL for empty slots. */
void *nn_idmap_slot(const nn_idmap *m, size_t i, nn_id *id);
static inline bool nn_idmap_full(const nn_idmap *m) { return m->n * 2 >= m->max_cap; }

/* ---- per-originator limiter (limit.c): token bucket per authenticated originator ---- */
typedef struct nn_olimit {
	nn_idmap map; /* value: nn_tbucket_state (NN_ROUTING_CONTROL_RATE / _BURST) */
	size_t max;
} nn_olimit;
int nn_olimit_init(nn_olimit *l, size_t max, const uint8_t key[16]);
void nn_olimit_fini(nn_olimit *l);
bool nn_olimit_allow(nn_olimit *l, const nn_id *originator, nn_time now);
/* Forget the originators whose bucket refilled (a full bucket is what a stranger gets) and
 * trim the table, so it holds the last ~2 s of requesters, not every one since start; the
 * maintenance tick calls it. How many were forgotten. */
size_t nn_olimit_sweep(nn_olimit *l, nn_time now);

/* ---- connections ---- */
struct nconn {
	nn_conn *c;           /* NULL until the transport reports it (outbound dials) */
	struct nconn *prev, *next;
	nn_id want;           /* outbound: whom we dialled */
	nn_time retire_at;    /* when a retired connection is closed */
	nn_time answer_by;    /* outbound: nothing heard by then = a failed dial (0 = heard) */
	nn_tbucket_state relay_limit; /* relay.c: RelayRequests / Binds from this connection
				       * (NN_NODE_RELAY_RATE / _BURST), when relay_limit_on */
	/* keepalive.c: our last frame on it; a probe of ours in flight since ka_sent (!= 0) for
	 * a silence of ka_gap, late (our keepalive resumed) until ka_deadline; a peer's probe to
	 * echo once the edge has been silent for echo_delay (!= 0); ka_hold: the edge's silence
	 * before it was agreed (a probe's: the peer's until it resumes, or ours until we did) and
	 * does not count toward the dead threshold */
	nn_time last_tx;
	nn_time unanswered_since; /* the first frame we sent since we last heard from the peer
				   * (0: none pending); keepalive.c: data sent, nothing heard */
	nn_time unanswered_ping;  /* ... and when a ping went after it (0: not yet) */
	nn_time up_at;            /* when it became the edge (conn.c: crossed dial or restart) */
	nn_time ka_sent, ka_gap, ka_deadline, echo_delay, ka_hold;
	unsigned op;          /* ops.c's tag: the slot, and for an early dial its candidate */
	uint32_t op_serial;
	uint8_t ip[16], subnet[16]; /* inbound: source keys for the admission shares (admit.c) */
	uint8_t ka_nonce[NN_NAT_KA_NONCE_LEN], echo_nonce[NN_NAT_KA_NONCE_LEN];
	/* the 1-byte members last, packed (no holes: 240 bytes) */
	bool dialling;        /* a dial in flight */
	bool probe;           /* a probe-before-evict dial: close once it answers */
	bool bootstrap;       /* a bootstrap dial (contact keyed from the handshake) */
	bool registered;      /* a live edge points at it */
	bool closing;         /* we closed or dropped it: frames are discarded */
	bool retired;         /* lost a crossed dial: still read for a grace period, then closed */
	bool for_op;          /* a connect dial: its outcome belongs to op `op` (serial op_serial) */
	bool early_kt;        /* ... to a knowledge-table address: counted in early_kt_dials */
	bool referred;        /* outbound: a Referral was taken from it (one per connection) */
	bool relay_limit_on;
	bool has_ip, has_subnet; /* ip / subnet hold a key */
	uint8_t path;         /* how the connection was made (enum nn_node_path): NN_PATH_RELAY
			       * when made (conn.c), to or from a noted relay allocation; punch /
			       * birthday by the op it completes (ops.c) */
	bool ka_late, ka_mute, ka_echoes;
};

/* Source keys of a remote address for the inbound shares (admit.c): fills ip (16 bytes) and
 * subnet (16 bytes) and returns a mask of NN_NODE_HAS_IP / NN_NODE_HAS_SUBNET. The default reads
 * a literal IP:port (IPv4 v4-mapped; subnet /24 or /64, none for loopback); tests on the mem
 * transport install their own (nn_node_set_source_fn). */
#define NN_NODE_HAS_IP 1u
#define NN_NODE_HAS_SUBNET 2u
typedef unsigned (*nn_node_source_fn)(void *user, const nn_addr *a, uint8_t ip[16],
				      uint8_t subnet[16]);

/* Per-contact dial state (maint.c): backoff and purge. */
struct dialstate {
	nn_time next_attempt; /* monotonic; 0 = may dial now */
	nn_time delay;        /* current backoff */
	uint32_t failures;    /* consecutive */
	bool pending;         /* a dial is in flight */
};

#define NN_NODE_NONCES 64
struct nonce_slot {
	uint8_t nonce[NN_ROUTING_NONCE_LEN];
	uint8_t answers; /* answers still accepted for it (one per copy or sibling asked) */
	nn_time expires; /* monotonic; 0 = free */
};

/* ---- asynchronous calls (ops.c): rendezvous, connect, send_direct ---- */
enum nn_op_kind {
	NN_OP_FREE = 0,
	NN_OP_RENDEZVOUS,
	NN_OP_CONNECT,
	NN_OP_DIRECT,
	NN_OP_PUNCHBACK, /* our half of a punch someone asked for (a Connect): no caller */
};
/* The connect cascade, one stage after another; punch and relay arrive with the NAT work. */
enum nn_op_stage {
	NN_STAGE_RENDEZVOUS = 0,
	NN_STAGE_DIRECT,
	NN_STAGE_PUNCH,
	NN_STAGE_RELAY,
	NN_STAGE_DONE, /* completion pending: the callback runs from the op's timer */
};
#define NN_OP_CANDIDATES 8            /* addresses dialled per connect (after dedup) */
#define NN_OP_STAGGER (250 * NN_MS)   /* Happy Eyeballs: next attempt after this */
#define NN_OP_DIRECT_TAIL (1000 * NN_MS) /* direct stage ends this long after its last attempt */
/* The punch stage (local policy, each bound its own): wait this long for the ConnectAck, then
 * send NN_OP_VOLLEYS punch volleys NN_OP_VOLLEY_GAP apart to every candidate, dial every
 * candidate with the second volley, and give the dials NN_OP_PUNCH_TAIL after it. */
#define NN_OP_PUNCH_ACK_WAIT (2000 * NN_MS)
#define NN_OP_VOLLEYS 5
#define NN_OP_VOLLEY_GAP (50 * NN_MS)
#define NN_OP_PUNCH_TAIL (2500 * NN_MS)
#define NN_OP_PUNCHBACKS 16 /* our halves of other nodes' punches at once */
/* A call's Connect (local policy). A target whose signed addresses all look directly reachable
 * (public; loopback in a loopback-only overlay) is dialled first and asked to punch only when
 * no edge came up within twice the rendezvous round trip, bounded to
 * [NN_OP_CONNECT_DELAY_MIN, NN_OP_CONNECT_DELAY_MAX], or at once when every direct dial failed:
 * a Connect sent with the dial makes a reachable target punch and dial back, and the two
 * handshakes race. A target with a private address (behind a NAT, or on a LAN) gets its
 * Connect with the first dial, as do the maintenance dialer's and the upgrade's cascades (their
 * direct dial already failed). */
#define NN_OP_CONNECT_DELAY_MIN (20 * NN_MS)
/* A call for a target whose verified addresses we hold (its own signed coordinates, from an
 * earlier Reply or its Hello) that all look directly reachable dials them at once and starts
 * the rendezvous only
 * NN_OP_EARLY_WAIT later, or as soon as those dials failed (local policy): on a LAN the dial
 * wins first and no Hello is sent; over longer paths the rendezvous runs alongside the dial
 * after the wait; a target behind a NAT pays the wait. */
#define NN_OP_EARLY_WAIT (20 * NN_MS)
#define NN_OP_CONNECT_DELAY_MAX (250 * NN_MS)
/* A call for a target we hold no verified addresses of, but whose knowledge-table entry lists
 * addresses that all look directly reachable, dials them alongside its first Hello (local
 * policy): the handshake proves the NodeID, so an unverified address can cost a wasted dial,
 * never a wrong peer. Such dials are counted apart from the maintenance dialer's slots
 * (dials_in_flight) and at most NN_OP_EARLY_KT_DIALS are in flight per node: behind a NAT
 * such an address may be a mapping that filters us, and the dial then sits out its handshake
 * timeout; it must not hold a maintenance slot that long, and the Hello does not wait for it. */
#define NN_OP_EARLY_KT_DIALS 2
/* The maintenance dialer: a contact whose direct dial failed gets the whole cascade
 * (rendezvous for its verified coordinates, direct, punch, birthday), at most this many at
 * once and each bounded by NN_OP_MAINT_TIMEOUT_MS (local policy). */
#define NN_OP_MAINT_CASCADES 4
#define NN_OP_MAINT_TIMEOUT_MS 8000
/* Birthday probing (local policy), a sub-stage of the punch between a symmetric side and a
 * cone / filtered-public one (nn_nat_birthday_role): it starts NN_OP_BDAY_DELAY after the
 * Connect (target) or ConnectAck (initiator) when no edge came up by then; the symmetric side
 * opens NN_OP_BDAY_SOCKETS extra mappings for NN_OP_BDAY_WINDOW, the other side sends
 * NN_OP_BDAY_PROBES punches to distinct random ports of its IP, NN_OP_BDAY_BATCH every
 * NN_OP_BDAY_PACE, starting NN_OP_BDAY_SPRAY_LAG after the delay (the mappings exist first).
 * The punch stage then lasts until NN_OP_BDAY_SPAN after the start. P(no hit) ~
 * exp(-sockets * probes / 64,512) = exp(-8.1) for 256 x 2048. */
#define NN_OP_BDAY_DELAY (500 * NN_MS)
#define NN_OP_BDAY_SOCKETS 256
#define NN_OP_BDAY_WINDOW (3000 * NN_MS)
#define NN_OP_BDAY_PROBES 2048
#define NN_OP_BDAY_BATCH 11
#define NN_OP_BDAY_PACE (10 * NN_MS)
#define NN_OP_BDAY_SPRAY_LAG (100 * NN_MS)
#define NN_OP_BDAY_SPAN (4000 * NN_MS)
#define NN_OP_BDAY_SPRAYS 2         /* ops spraying at once, at most */
/* and sprays started, node-wide: one every 4 s on average, 4 in a burst — so a stream of
 * Connects naming someone else's address makes this node send at most ~512 probes/s there on
 * average (local policy; the addresses a spray aims at are the peer's unverified hints) */
#define NN_OP_BDAY_SPRAY_RATE 0.25
#define NN_OP_BDAY_SPRAY_BURST 4.0
#define NN_OP_BDAY_PORT_BASE 1024u  /* the ports a NAT picks randomly from: 1024..65535 */
#define NN_OP_BDAY_PORTS 64512u

/* The relay stage (local policy): volunteers are live edges whose knowledge entry advertises
 * CanRelay, nearest the target first, at most NN_OP_RELAYS of them; each request waits
 * NN_OP_RELAY_WAIT for its Grant or Refuse (an answer is one edge round trip; a reference relay
 * that cannot serve stays silent), a Refuse moves to the next at once, and the whole stage
 * (dial through the relay included) ends NN_OP_RELAY_SPAN after it began. */
#define NN_OP_RELAYS 4
#define NN_OP_RDV_SPAN (3500 * NN_MS) /* connect: no Reply by then → the relay stage */
#define NN_OP_RELAY_WAIT (1000 * NN_MS)
#define NN_OP_RELAY_SPAN (5000 * NN_MS)
/* relay.c: requests and Binds per connection (bucket), punches per Bind */
#define NN_NODE_RELAY_RATE 2.0
#define NN_NODE_RELAY_BURST 8.0
#define NN_NODE_RELAY_PUNCHES 3
/* relayed edges remembered for the console's `nat` (ring) */
#define NN_NODE_RELAYED 32
/* relay -> direct upgrade (upgrade.c, local policy): relayed peers tracked at once; the first
 * attempt NN_NODE_UPGRADE_FIRST after the edge went relayed, then one every
 * NN_NODE_UPGRADE_STEADY for NN_NODE_UPGRADE_EAGER attempts (a path that opens within the first
 * minute is found within seconds), then doubling up to NN_NODE_UPGRADE_MAX; at most
 * NN_NODE_UPGRADE_TRIES attempts per relayed edge (about 16 minutes in all) */
#define NN_NODE_UPGRADES 16
#define NN_NODE_UPGRADE_FIRST (2 * NN_SEC)
#define NN_NODE_UPGRADE_STEADY (4 * NN_SEC)
#define NN_NODE_UPGRADE_EAGER 15
#define NN_NODE_UPGRADE_MAX (128 * NN_SEC)
#define NN_NODE_UPGRADE_TRIES 24

struct nn_op {
	uint8_t kind, stage;
	bool maint;           /* started by the maintenance dialer (no caller, no callback) */
	bool upgrade;         /* upgrade.c: a direct path for a relayed edge (no relay stage) */
	uint32_t serial;      /* changes on every reuse: stale dials cannot touch a new op */
	nn_id target;
	nn_time deadline;     /* the whole call */
	nn_time stage_end;    /* the current stage */
	nn_time next_hello;   /* rendezvous stage: when to resend */
	unsigned hellos;
	nn_timer timer;       /* the op's next event */
	int status;           /* NN_STAGE_DONE: the result */
	int last_err;         /* the most meaningful failure so far */
	/* direct stage: Happy Eyeballs over the candidates */
	nn_addr cand[NN_OP_CANDIDATES];
	unsigned ncand, next_cand, dials_out;
	nn_time next_dial;
	/* punch stage */
	uint8_t punch_nonce[NN_NAT_NONCE_LEN];
	bool connect_sent;    /* a Connect for this op is out (with the direct stage or after) */
	nn_time connect_at;   /* direct stage: the deferred Connect goes then (0: none) */
	nn_time rdv_start;    /* the first Hello (the rendezvous round trip sets the deferral) */
	bool early;           /* dialled known addresses before the rendezvous */
	uint8_t early_live;   /* candidates (bits) whose early dial is in flight */
	uint8_t early_adopted; /* ... and that the Reply named: counted in dials_out since */
	nn_time ack_by;       /* its ConnectAck is awaited until then */
	bool acked;           /* the ConnectAck arrived (or, for a punchback, the Connect) */
	unsigned volleys;     /* punch volleys sent */
	nn_time next_volley;
	/* birthday sub-stage (enum nn_nat_bday_role) */
	uint8_t bday_role;
	bool bday_started;
	bool bday_could;      /* the Ack's hint and our verdict allow birthday (maint: not tried) */
	nn_time bday_at;      /* when it starts */
	nn_addr bday_to;      /* spray: the symmetric side's address (its IP is what counts) */
	unsigned probes;      /* spray: punches sent so far */
	uint32_t spray_start, spray_step; /* spray: port i = base + (start + i*step) mod ports */
	nn_time next_probe;
	/* relay stage */
	nn_id relays[NN_OP_RELAYS]; /* volunteers, nearest the target first */
	uint8_t nrelays, next_relay;
	bool relay_waiting;   /* a request is out to relays[next_relay - 1] */
	bool relay_dialled;   /* its Grant arrived: a dial through the relay is in flight */
	uint8_t relay_nonce[NN_NAT_RELAY_NONCE_LEN];
	nn_time relay_wait_end;
	nn_addr relay_addr;   /* the granted caller-facing allocation */
	const char *how;      /* "direct", "punch", "birthday" or "relay": the stage that won */
	char won_addr[64];
	nn_peer_keys *keys;   /* NN_OP_RENDEZVOUS: the answer (allocated on completion) */
	uint8_t *payload;     /* NN_OP_DIRECT: owned copy */
	size_t plen;
	union {
		nn_rendezvous_cb rdv;
		nn_connect_cb conn;
		nn_done_cb done;
	} cb;
	void *user;
};

/* Keys verified by a rendezvous Reply, kept for sealing and dialling (rendezvous.c). */
struct vkey {
	uint8_t ed_pub[NN_ED_PUB_LEN];
	uint8_t x_pub[NN_X_PUB_LEN];
	nn_time learned;
	uint8_t naddrs;
	nn_addr addrs[NN_RDV_MAX_ADDRS];
};
#define NN_NODE_VKEYS 256
#define NN_NODE_PENDING_HELLOS 128
#define NN_NODE_HELLO_REPLAY_GEN 1024 /* Hellos remembered per generation (fail closed) */
#define NN_NODE_BOX_REPLAY_GEN 8192   /* sealed boxes remembered per generation */

/* A periodic discovery task and its pace (discovery.c). */
struct nn_pace {
	nn_timer timer;
	unsigned level; /* consecutive rounds without news: the period is 2^level ticks (capped) */
	uint64_t seen;  /* n->news when the task last ran */
};

/* Transit checks (route.c, local policy): signature verifications a second for frames that
 * are not ours to deliver, and the size of the table of forwarded envelopes (records per
 * generation at first, and the most it grows to). The terminal's table of delivered
 * envelopes starts at the same size and grows to NN_NODE_DEDUP_MAX. */
#define NN_NODE_VERIFY_RATE 8000.0
#define NN_NODE_VERIFY_BURST 16000.0
#define NN_NODE_TRANSIT_SEEN 64
#define NN_NODE_TRANSIT_SEEN_MAX 65536
#define NN_NODE_DEDUP_MAX 4096
/* Most entries of the knowledge table, the per-originator limiter and the dial states; each
 * starts small and grows with use up to this (node.c). */
#define NN_NODE_KT_MAX 4096
#define NN_NODE_OLIMIT_MAX 4096
#define NN_NODE_DIALS_MAX 4096

#define NN_NODE_REFLEX_REPORTERS 32 /* neighbours whose reports of our address we keep */
#define NN_NODE_SENT_IPS 256        /* IPs we sent to, remembered for NN_NODE_SENT_IP_AGE */
#define NN_NODE_SENT_IP_AGE (600 * NN_SEC)

#define NN_NODE_PROBES 16
#define NN_NODE_CALLQ 64
#define NN_NODE_BOOTSTRAPS 8 /* bootstrap contacts remembered for re-joining */
#define NN_NODE_EDGES_PER_SUBNET 2 /* default share of live edges per /24 or /64 (admit.c) */
#define NN_NODE_REJOIN_MAX (60 * NN_SEC)
/* An idle discovery task backs off to this many times its configured period (discovery.c). */
#define NN_NODE_QUIET_FACTOR 16
#define NN_NODE_REJOIN_FROM_FILE 8 /* contacts of a loaded contacts file dialled at once */

/* ---- media sessions (media.c) ----
 * One record per session, from nn_node_media_open (or the inbound on_conn) until the
 * transport's on_closed / on_dial_failed for it. conn->user of a media conn points here (the
 * dial's user pointer too), never at a struct nconn: the sink tells them apart by conn->kind
 * (and a failed dial by looking the pointer up in n->msess). */
#define NN_MEDIA_RX_BYTES_RATE 2500000.0
#define NN_MEDIA_RX_BYTES_BURST 262144.0
#define NN_MEDIA_RX_PKTS_RATE 4000.0
#define NN_MEDIA_RX_PKTS_BURST 400.0
#define NN_MEDIA_PUMP_RETRY (2 * NN_MS) /* ring pump fallback when no on_writable comes */
struct nn_msess {
	nn_node *node;
	uint64_t sid;
	nn_id peer;
	nn_conn *c;          /* NULL while connecting or dialling */
	nn_addr addr;        /* the edge's observed address the session runs to */
	bool inbound;
	bool connecting;     /* waiting for nn_node_connect to find an edge */
	bool dialling;       /* a media dial in flight (this record is its user pointer) */
	bool up;             /* admitted / connected: the application may use it */
	bool app_closed;     /* the application closed it, or consent refused it: no callbacks */
	bool slot;           /* holds an inbound slot (counts toward the caps) */
	bool want_writable;  /* the application saw NN_EAGAIN: tell it when the ring drains */
	nn_tbucket rx_bytes, rx_pkts;
	/* tx ring: NN_NODE_MEDIA_TX_RING frames of up to NN_TP_MAX_DGRAM bytes (allocated on
	 * first use: most sessions never push back) */
	uint8_t *ring;
	uint16_t ring_len[NN_NODE_MEDIA_TX_RING];
	unsigned ring_head, ring_count;
	nn_timer pump;
	nn_media_stats st;
	struct nn_msess *prev, *next;
};

/* A bootstrap contact as the application gave it (no key: the handshake proves it). */
struct boot_contact {
	nn_id id;
	nn_addr addr;
};

struct nn_node {
	nn_identity ident;
	int pow;
	nn_node_opts opts;    /* copy; opts.seed is NULL (the seed lives in ident) */
	nn_maintenance m;     /* resolved timings (ms; < 0 = off) */
	bool ka_adaptive;     /* keepalive options left at 0: intervals by NAT class (keepalive.c) */

	/* loop, time, transport */
	struct ev_loop *loop; /* NULL with a virtual clock */
	bool own_loop;
	nn_clock *clock;
	bool own_clock;
	nn_pool *pool;
	bool own_pool;
	nn_pool pool_storage;
	nn_tp *tp;
	bool own_tp;
	bool ip_addressed;

	/* routing */
	nn_routing_kt *kt;
	nn_routing_edges *edges;
	nn_routing_dedup dedup;     /* terminal: delivered / answered envelopes */
	nn_routing_dedup transit;   /* transit: envelopes forwarded (grows with the traffic) */
	nn_tbucket verify_budget;   /* transit signature checks (NN_NODE_VERIFY_RATE) */
	nn_tbucket spray_budget;    /* birthday sprays started (NN_OP_BDAY_SPRAY_RATE) */
	nn_olimit olimit;
	nn_routing_contact self_contact;

	/* connections and dials */
	struct nconn *conns; /* every record, doubly linked */
	nn_idmap dials;      /* value: struct dialstate */
	size_t dials_in_flight;
	size_t early_kt_dials; /* calls' dials to knowledge-table addresses (NN_OP_EARLY_KT_DIALS) */
	nn_id probes[NN_NODE_PROBES];
	size_t nprobes;
	struct boot_contact boots[NN_NODE_BOOTSTRAPS];
	size_t nboots;
	nn_time rejoin_at, rejoin_delay; /* while edgeless: next re-dial of the bootstrap set */
	size_t rejoin_cursor;            /* while edgeless: next knowledge contact to re-dial */

	/* inbound admission (admit.c) */
	unsigned in_per_ip, in_per_subnet; /* resolved shares of inbound edges */
	unsigned edges_per_subnet;         /* resolved share of live edges, both directions */
	unsigned near_per_subnet;          /* resolved near-region share (admit.c) */
	nn_node_source_fn source_fn;       /* source keys of an address (test hook) */
	void *source_user;
	struct nonce_slot nonces[NN_NODE_NONCES];

	/* timers */
	nn_timer tick, leave_done;
	struct nn_pace self_lookup, sibling_exchange, bucket_refresh;
	uint64_t news;           /* discovery news so far: new contacts, lost edges, joins */
	unsigned refresh_cursor; /* next bucket of the joining sweep */
	unsigned sibling_cursor; /* next sibling a quiet sibling exchange asks */
	nn_time next_repair;     /* earliest next local-optimum repair lookup */
	bool stopping, stopped;

	/* thread-safe entry points */
	ev_async async;
	bool async_started;
	pthread_mutex_t callq_lock;
	struct {
		void (*fn)(nn_node *n, void *arg);
		void *arg;
	} callq[NN_NODE_CALLQ];
	size_t callq_head, callq_len;
	int stop_requested; /* guarded by callq_lock */

	/* rendezvous and asynchronous calls; allocated on first use (most nodes of a large test
	 * cluster never rendezvous) */
	struct nn_op *ops;           /* NN_NODE_MAX_OPS */
	uint32_t op_serial;
	nn_rdv_pending pending;      /* Hellos we sent */
	nn_rdv_pending_entry *pending_e;
	nn_idmap vkeys;              /* value: struct vkey */
	bool vkeys_ready;
	nn_replay hello_replay;      /* Hellos answered: envelope ed_pub | nonce */
	bool hello_replay_ready;
	nn_replay box_replay;        /* sealed boxes opened: eph_pub */
	bool box_replay_ready;

	/* NAT traversal (nat.c): what neighbours report of our address, and the verdict */
	nn_nat_reflex reflex;
	nn_nat_report reflex_slots[NN_NODE_REFLEX_REPORTERS];
	nn_nat_verdict nat;
	nn_nat_ka ka;            /* how long our NAT keeps idle mappings (keepalive.c) */
	bool self_loopback_only; /* every advertised address is loopback: a one-host overlay */
	/* IPs we sent to lately (dials, punches, sprays): an inbound edge from any other IP is
	 * unsolicited, evidence that our filtering is open (nat.c). A ring of NN_NODE_SENT_IPS
	 * allocated by the first send to an IP address (NULL before: nodes on the mem transport
	 * never have one) */
	struct sent_ip {
		uint8_t ip[16]; /* v4-mapped for IPv4 */
		nn_time at;     /* 0 = empty */
	} *sent_ips;
	uint32_t sent_next;
	/* port mapping on the gateway (portmap.c; policy in nat/portmap.h); only with
	 * opts.portmap, only on nn_node_new's QUIC transport */
	nn_nat_portmap pm;
	nn_timer pm_timer;
	struct nn_portmap_io *pm_io; /* NULL: off */
	nn_addr pm_addr;             /* the mapped address while held */
	bool pm_held;                /* pm_addr is a mapping we hold */
	bool pm_inserted;            /* ... and we put it first in self_contact (it was not ours) */
	/* application callbacks: opts.cb holds node.c's trampolines (user = the node), which count
	 * how deep the application is on the stack (in_app) around every call into app; so does
	 * every other call into the application (ops callbacks, nn_node_call functions).
	 * nn_node_free refuses (NN_ESTATE) while in_app > 0. */
	nn_node_callbacks app;
	unsigned in_app;

	/* media sessions (media.c) */
	struct nn_msess *msess;
	uint64_t msess_next_sid;
	/* relayed edges we made (console `nat`): peer, relay, allocation address; a ring of
	 * NN_NODE_RELAYED allocated by the first one noted (NULL before) */
	struct relayed {
		nn_id peer, relay;
		nn_addr addr;
		bool used;
	} *relayed;
	uint32_t relayed_next;
	/* relay -> direct upgrade (upgrade.c): back-off per relayed peer, one timer;
	 * NN_NODE_UPGRADES entries allocated by the first one made (NULL before) */
	struct upgrade {
		nn_id peer;
		nn_time next;
		unsigned tries;
		bool used;
	} *upgrade;
	nn_timer upgrade_timer;
	bool upgrade_timer_on;

	nn_node_stats stats;
	uint8_t *tx; /* NN_WIRE_MAX_FRAME scratch for composing frames */
	bool own_tx;
};

/* ---- node.c ---- */
/* The internal constructor: run on an existing transport and clock (mem in tests; the public
 * constructor makes a QUIC endpoint on a libev clock). tp's sink is taken over. scratch: a
 * 64 KiB buffer to compose frames in, shared by nodes on one thread (NULL = own). */
int nn_node_new_on(nn_node **out, const nn_node_opts *o, nn_tp *tp, nn_clock *clock,
		   uint8_t *scratch);
/* Fill out with bytes from libsodium's CSPRNG. Every nonce, key, secret, hash-table key and
 * random lookup target the node uses comes from here, also in virtual time: the clock's seeded
 * stream (nn_clock_rand) is only for jitter and for choices that publish nothing (an outside
 * review recovered the xoshiro state from four published refresh targets). */
void nn_node_rand_bytes(nn_node *n, uint8_t *out, size_t len);
/* Stop without the loop: send Leave to every edge now (the graceful part of nn_node_stop). */
void nn_node_leave_all(nn_node *n);
nn_routing_edges *nn_node_edges(nn_node *n);
nn_routing_kt *nn_node_knowledge(nn_node *n);
nn_tp *nn_node_transport(nn_node *n);
/* Bootstrap from an address (mem or quic), keyed from the handshake. */
int nn_node_bootstrap_addr(nn_node *n, const nn_id *id, const nn_addr *addr);

/* ---- conn.c ---- */
void nn_node_sink_install(nn_node *n);
/* Close c with reason (once: later calls do nothing); its frames are discarded from now. */
void nn_node_close_conn(nn_node *n, nn_conn *c, uint64_t reason);
struct nconn *nn_node_nconn_new(nn_node *n);
void nn_node_nconn_free(nn_node *n, struct nconn *nc);
/* Start a dial to id at addr (one per contact at a time). */
int nn_node_dial(nn_node *n, const nn_id *id, const nn_addr *addr, bool probe, bool bootstrap);
/* Birthday probing from our side of a symmetric NAT, for op (transport's ops.birthday). */
int nn_node_birthday_for(nn_node *n, const nn_id *id, const nn_addr *peers, size_t npeers,
			 unsigned sockets, nn_time window, unsigned op, uint32_t serial);
/* A dial on behalf of async call op (index, serial): its outcome goes to ops.c, not to the
 * maintenance backoff; a connection that authenticates after the race was won is closed. */
int nn_node_dial_for(nn_node *n, const nn_id *id, const nn_addr *addr, unsigned op,
		     uint32_t serial);
/* Append to nb up to max (<= NN_ROUTING_SIBLINGS) of the knowledge table's contacts closest
 * to near, fit to pass on: not `to` (the receiver), none we failed to reach lately, x_pub
 * zeroed (a third party's x_pub is never passed on); keyed_only: only keyed contacts with
 * addresses. Returns how many were appended. */
size_t nn_node_share_closest(nn_node *n, nn_routing_neighbors *nb, const nn_id *near,
			     const nn_id *to, size_t max, bool keyed_only);
/* The same to a knowledge-table address, in its own budget (NN_OP_EARLY_KT_DIALS; NN_ELIMIT
 * when it is spent). */
int nn_node_dial_early_kt(nn_node *n, const nn_id *id, const nn_addr *addr, unsigned op,
			  uint32_t serial);
/* The single removal path for a live edge: close its connection, remove it, tell the app. */
void nn_node_drop_edge(nn_node *n, const nn_id *id, uint64_t reason);
/* Register c as a live edge (PoW, admission, caps, crossed dials). 0 or NN_E*; on failure c
 * has been closed. */
int nn_node_register(nn_node *n, nn_conn *c);
/* Close retired (crossed-dial loser) connections whose grace period ended, and drop dialled
 * edges that stayed silent past dial_timeout_ms (failed dials). */
void nn_node_sweep_conns(nn_node *n, nn_time now);
/* Send one frame on an edge's connection; counts queue-full; drops the edge when closed. */
int nn_node_send_conn(nn_node *n, nn_conn *c, const uint8_t *frame, size_t len);
/* The same for a frame that answers one of the peer's (Pong, KaEcho): expects nothing back. */
int nn_node_send_answer(nn_node *n, nn_conn *c, const uint8_t *frame, size_t len);

/* ---- admit.c: inbound admission (local policy) ---- */
/* Resolve the shares from the options. */
void nn_node_admit_init(nn_node *n);
void nn_node_set_source_fn(nn_node *n, nn_node_source_fn fn, void *user);
/* Record the source keys of an inbound connection (on_conn). */
void nn_node_admit_keys(nn_node *n, struct nconn *nc, const nn_conn *c);
/* The share check for an inbound connection about to register: 0 to admit, else the
 * NN_ROUTING_REFER_* reason (counted). */
int nn_node_admit_shares(nn_node *n, const nn_conn *c);
/* The first knowledge bucket that is not full past the leading full ones (0: none full): peers
 * sharing at least that many leading bits with us are near (the near-region share, admit.c). */
unsigned nn_node_near_depth(const nn_node *n);
/* At the inbound edge cap: shed the longest-idle inbound finger of the most crowded bucket
 * (it gets a Referral). False when there is none to shed. */
bool nn_node_make_inbound_room(nn_node *n);
/* Refuse c (not a live edge): a Referral with contacts closest to its peer, then a policy
 * close. */
void nn_node_refuse(nn_node *n, nn_conn *c, uint8_t reason);
/* A Referral frame arrived on c. */
void nn_node_on_referral(nn_node *n, nn_conn *c, const uint8_t *payload, size_t len);

/* ---- dispatch.c ---- */
void nn_node_on_frame(void *ctx, nn_conn *c, nn_pkt **pkt);
int nn_node_send_ping(nn_node *n, nn_conn *c);

/* ---- route.c ---- */
/* A routed frame arrived on `from` (NULL: originated here). frame is writable (TTL patch). */
void nn_node_route_frame(nn_node *n, nn_conn *from, uint8_t type, uint8_t *frame, size_t len);
/* Originate a signed routed message over up to 3 disjoint paths. */
/* The same, not taking avoid[0..navoid) as first hops (unless every live edge is among them:
 * then as if none were), and writing the first hops that took a copy into first[], their
 * number into *nfirst (first, nfirst may be NULL; first holds NN_NODE_SEND_PATHS). */
int nn_node_originate_ex(nn_node *n, uint8_t type, const nn_id *target, const uint8_t *payload,
			 size_t plen, const nn_id *avoid, size_t navoid, nn_id *first, size_t *nfirst);
int nn_node_originate(nn_node *n, uint8_t type, const nn_id *target, const uint8_t *payload,
		      size_t plen);
/* Look up target with one signed Lookup frame (avoid = {self}): */
enum nn_lookup_mode {
	NN_LOOKUP_SPREAD, /* routed via the closest edge + TTL-0 copies to two random edges */
	NN_LOOKUP_NEAR,   /* routed via the closest edge + TTL-0 copies to the two closest */
	NN_LOOKUP_ROUTED, /* routed via the closest edge only (a quiet round: one answer) */
};
int nn_node_lookup(nn_node *n, const nn_id *target, enum nn_lookup_mode mode);
/* A one-hop (TTL 0) Lookup for target to edge c, which answers with its closest contacts. */
int nn_node_lookup_via(nn_node *n, const nn_id *target, nn_conn *c);
/* Send a signed Neighbors answer (closest(target) + self) to `to`: over edge `direct`
 * (TTL 1) when not NULL, else routed. */
int nn_node_send_neighbors(nn_node *n, const nn_id *to, const nn_id *near,
			   const uint8_t nonce[NN_ROUTING_NONCE_LEN], nn_conn *direct);
/* A fresh request nonce (CSPRNG) that accepts `answers` answers within NN_ROUTING_MAX_AGE. */
void nn_node_nonce_new(nn_node *n, uint8_t nonce[NN_ROUTING_NONCE_LEN], unsigned answers);
/* Is nonce one of ours, still open? */
bool nn_node_nonce_valid(nn_node *n, const uint8_t nonce[NN_ROUTING_NONCE_LEN]);
/* Spend one answer of nonce: 0, NN_ENONCE (not ours or expired), NN_ELIMIT (budget spent). */
int nn_node_nonce_take(nn_node *n, const uint8_t nonce[NN_ROUTING_NONCE_LEN]);

/* ---- maint.c ---- */
void nn_node_maint_start(nn_node *n);
/* Init t with cb and, when every_ms > 0 (the task is on), start it `first` from now. */
void nn_node_arm_periodic(nn_node *n, nn_timer *t, nn_timer_cb cb, int64_t every_ms,
			  nn_time first);
void nn_node_maint_stop(nn_node *n);
void nn_node_dial_done(nn_node *n, const nn_id *id, bool ok);
/* Dial known contacts among the 16 closest to us that have no edge (up to two a call). */
void nn_node_fill_near(nn_node *n);
/* A knowledge observe asked for a probe of incumbent. */
void nn_node_want_probe(nn_node *n, const nn_id *incumbent);
/* Dial up to the free dialers' worth of contacts among ids (referred ones) now. */
void nn_node_dial_some(nn_node *n, const nn_id *ids, size_t k);
/* admit.c: true when the contact's subnet already holds the node's share of live edges
 * (max_edges_per_subnet), counting dials in flight to that subnet; counted in
 * dials_skipped_subnet. False for a contact without a subnet. */
bool nn_node_subnet_full(nn_node *n, const nn_id *contact);
/* The same for a dialled connection that came up at address a (dials in flight not counted). */
bool nn_node_subnet_full_addr(nn_node *n, const nn_addr *a, const nn_id *peer);
/* node.c: the subnet key of an address through the source-key hook (nn_routing_subnet_fn shape;
 * user = the node): what the knowledge and edge tables and the shares compare. */
int nn_node_subnet_key(void *user, const nn_addr *a, uint8_t key[16]);
/* Learn a contact (observe + probe bookkeeping). */
int nn_node_observe(nn_node *n, const nn_routing_contact *c, nn_routing_source src);

/* ---- discovery.c ---- */
void nn_node_discovery_start(nn_node *n, nn_time jitter);
void nn_node_discovery_stop(nn_node *n);
/* Something discovery would want to know happened (a new contact, a lost edge, a join): every
 * discovery task returns to the tick's pace (below Normal). */
void nn_node_news(nn_node *n);
/* A bootstrap edge came up: ask it for contacts at once. */
void nn_node_joined(nn_node *n, nn_conn *c);
/* An outgoing edge registered (after its Ping): a new sibling is asked for our neighbourhood. */
void nn_node_edge_up(nn_node *n, nn_conn *c);

/* ---- rendezvous.c ---- */
/* Terminal handling of routed Hello / Reply (signature and dedup already checked). */
void nn_node_on_hello(nn_node *n, const nn_id *origin, const nn_routing_env *env);
void nn_node_on_reply(nn_node *n, const nn_id *origin, const nn_routing_env *env);
/* Send a Hello for op (a fresh nonce, registered as pending). */
int nn_node_send_hello(nn_node *n, struct nn_op *op);
/* Verified keys of id, or NULL. */
const struct vkey *nn_node_vkey(nn_node *n, const nn_id *id);
void nn_node_rdv_free(nn_node *n);
/* The sealed-box replay cache (created on first use). */
int nn_node_box_replay(nn_node *n, nn_replay **out);

/* How an edge came up: relay is recorded on the connection when it is made (conn.c: its
 * address is a relay allocation noted before the dial or by a Bind), whoever made it; ops.c
 * records punch / birthday; the default is a plain dial or an inbound connection. An edge
 * moved off a relay (upgrade) runs on a connection that is not relayed. */
enum nn_node_path { NN_PATH_DIRECT = 0, NN_PATH_PUNCH, NN_PATH_BIRTHDAY, NN_PATH_RELAY };
/* The path of the edge on c: "direct", "punch", "birthday" or "relay". */
const char *nn_node_edge_path(nn_node *n, const nn_conn *c);

/* A decoder's verdict on peer bytes, counted: NN_EADDR (an address outside the grammar) in
 * dropped_bad_addr, any other error in dropped_malformed. Returns rc unchanged. */
static inline int nn_node_decoded(nn_node *n, int rc)
{
	if (rc == NN_EADDR)
		n->stats.dropped_bad_addr++;
	else if (rc < 0)
		n->stats.dropped_malformed++;
	return rc;
}

/* ---- keepalive.c ---- */
/* The keepalive and dead-edge timeouts in force (by our NAT class when adaptive). */
void nn_node_ka_timeouts(nn_node *n, nn_time *ka_sib, nn_time *ka_fin, nn_time *dead_sib,
			 nn_time *dead_fin);
/* Keepalives held back on the connection: our probe is in flight, or we owe an echo and have
 * no mapping of our own to keep alive. */
bool nn_node_ka_quiet(const nn_node *n, const struct nconn *nc);
bool nn_node_ka_edge_due(nn_node *n, const nn_routing_edge *e, nn_time now, bool dead);
/* A probe or an echo is pending, or the silence of one ended less than `dead` ago: not reaped
 * for silence meanwhile (`dead`: the edge's dead threshold). */
bool nn_node_ka_pending(const nn_node *n, const struct nconn *nc, nn_time now, nn_time dead);
/* A frame arrived on a registered edge last heard at last_seen (passive evidence). */
void nn_node_ka_rx(nn_node *n, struct nconn *nc, nn_time last_seen, nn_time now);
/* Per tick: due echoes, probe deadlines, the next probe. */
void nn_node_ka_tick(nn_node *n, nn_time now);
/* Frames sent, nothing heard: ping at NN_NODE_UNANSWERED_PING, drop the edge at
 * NN_NODE_UNANSWERED_DEAD (keepalive.c). */
#define NN_NODE_UNANSWERED_PING (10 * NN_SEC)
#define NN_NODE_UNANSWERED_DEAD (25 * NN_SEC)
/* A silent edge (keepalive.c): nothing heard for NN_NODE_SUSPECT_IDLE, or a ping of ours
 * unanswered. A routed frame whose target is such an edge goes over it and, as a second copy
 * under the same signature, the way it would go without it (route.c: at the origin, as one of
 * the KMin copies; at a transit node, to the next candidate), and the edge is pinged at once.
 * A crashed peer that came back elsewhere under its NodeID (a restart on a new port) is then
 * still reached while its old edge waits out NN_NODE_UNANSWERED_DEAD. One-way traffic pays a
 * ping per NN_NODE_SUSPECT_IDLE and second copies until its answer. */
#define NN_NODE_SUSPECT_IDLE (5 * NN_SEC)
bool nn_node_edge_suspect(nn_node *n, const nn_conn *c, nn_time now);
/* A frame went over the silent edge c and a second copy around it: counted, and c pinged
 * unless a ping of ours is already out. */
void nn_node_suspect_copy(nn_node *n, nn_conn *c, nn_time now);
void nn_node_ka_unanswered(nn_node *n, nn_time now);
void nn_node_on_ka_probe(nn_node *n, nn_conn *c, const nn_frame *f);
void nn_node_on_ka_echo(nn_node *n, nn_conn *c, const nn_frame *f, nn_time last_seen);

/* ---- nat.c ---- */
void nn_node_nat_init(nn_node *n);
/* A Pong from edge c says it saw our connection come from `observed`. */
void nn_node_nat_pong(nn_node *n, nn_conn *c, const nn_addr *observed);
/* An edge is gone: its report no longer counts. */
void nn_node_nat_forget(nn_node *n, const nn_id *peer);
/* An inbound edge registered that no dial or punch of ours asked for. */
void nn_node_nat_unsolicited(nn_node *n);
/* We send to a (a dial, a punch, a spray): remember its IP. */
void nn_node_nat_sent_to(nn_node *n, const nn_addr *a);
/* An inbound edge from c registered: unsolicited (its IP public and not one we sent to lately)
 * means our filtering is open. */
void nn_node_nat_inbound(nn_node *n, const nn_conn *c);
/* Our coordinates for Hello, Reply, Connect and ConnectAck: the confirmed reflexive address
 * (or, behind a symmetric NAT, the last observed one: its IP opens address filters), then our
 * own advertised addresses. Returns how many were written. */
size_t nn_node_coords(nn_node *n, nn_addr *out, size_t cap);
/* May we dial a: not one of our own addresses, and loopback only in a one-host overlay. */
bool nn_node_addr_dialable(nn_node *n, const nn_addr *a);
/* Do all these addresses (at least one) look directly reachable: public, or loopback in a
 * loopback-only overlay? (nat.c; a hint only: a public address may still filter.) */
bool nn_node_addrs_look_direct(nn_node *n, const nn_addr *a, size_t k);
/* Terminal handling of routed Connect / ConnectAck (signature and dedup already checked). */
void nn_node_on_connect(nn_node *n, const nn_id *origin, const nn_routing_env *env);
void nn_node_on_connect_ack(nn_node *n, const nn_id *origin, const nn_routing_env *env);
/* Send a Connect for op (a fresh nonce) toward its target. */
int nn_node_send_connect(nn_node *n, struct nn_op *op);
/* One punch volley from op to every candidate. */
void nn_node_punch_volley(nn_node *n, struct nn_op *op);
/* Birthday probing: our role toward the sender of m (enum nn_nat_bday_role), and one spray
 * batch of up to count punches to random distinct ports of op->bday_to's IP. */
int nn_node_bday_role(nn_node *n, const nn_nat_connect *m);
void nn_node_bday_spray(nn_node *n, struct nn_op *op, unsigned count);

/* ---- portmap.c ---- */
/* Start port mapping (opts.portmap): the first attempt runs from the loop. */
void nn_node_portmap_start(nn_node *n);
/* Stop it: remove the mapping on the gateway (bounded, blocking) and stop advertising it.
 * Idempotent. */
void nn_node_portmap_stop(nn_node *n);
/* ---- relay.c ---- */
/* Per-edge relay frames from c. */
void nn_node_on_relay_request(nn_node *n, nn_conn *c, const uint8_t *p, size_t len);
void nn_node_on_relay_grant(nn_node *n, nn_conn *c, const uint8_t *p, size_t len);
void nn_node_on_relay_bind(nn_node *n, nn_conn *c, const uint8_t *p, size_t len);
void nn_node_on_relay_refuse(nn_node *n, nn_conn *c, const uint8_t *p, size_t len);
int nn_node_send_relay_request(nn_node *n, nn_conn *relay, const nn_id *target,
			       const uint8_t nonce[NN_NAT_RELAY_NONCE_LEN]);
/* Relayed edges we took part in (a ring of NN_NODE_RELAYED): remember one (peer NULL on the
 * callee's side: a Bind names no caller); is a one of them; the relays and allocation addresses
 * of live edges that run through one (how many there are; up to cap copied). */
void nn_node_relayed_note(nn_node *n, const nn_id *peer, const nn_id *relay, const nn_addr *a);
bool nn_node_relayed_addr(nn_node *n, const nn_addr *a);
size_t nn_node_relays_in_use(nn_node *n, nn_id *relays, nn_addr *addrs, size_t cap);
/* true when c runs through a relay allocation we took part in (recorded on c when it was
 * made; never guessed later from the ring) */
bool nn_node_conn_relayed(nn_node *n, const nn_conn *c);

/* ---- upgrade.c: relay -> direct ---- */
/* A relayed edge exists (or may): (re)arm the upgrade timer. */
void nn_node_upgrade_kick(nn_node *n);
void nn_node_upgrade_stop(nn_node *n);
/* ops.c: an upgrade cascade for id (no relay stage); 0, or <0 when none could start */
int nn_node_ops_upgrade(nn_node *n, const nn_id *id);
/* An allocation address with an unspecified host ("0.0.0.0:p", "[::]:p") takes ref's host. */
void nn_node_relay_fix_host(nn_addr *a, const nn_addr *ref);

/* ---- ops.c ---- */
/* A Grant (addr) or a Refuse (addr NULL, reason) from relay for nonce: the op waiting on it
 * dials through the relay or moves to the next volunteer. NN_ENONCE when no op waits on it. */
int nn_node_ops_relay_answer(nn_node *n, const nn_id *relay, const uint8_t *nonce,
			     const nn_addr *addr, uint8_t reason);
/* A ConnectAck for op's nonce arrived from its target with these addresses. */
void nn_node_ops_connect_ack(nn_node *n, const nn_id *origin, const nn_nat_connect *m);
/* The maintenance dialer's direct dial to id failed with err: run the connect cascade for it
 * when the transport can punch (bounded; nothing when one already runs for id). */
void nn_node_ops_maintain(nn_node *n, const nn_id *id, int err);
/* A Connect from origin: start our half of the punch (NN_ELIMIT when too many run). */
int nn_node_ops_punchback(nn_node *n, const nn_id *origin, const nn_nat_connect *m);
/* A Reply for target verified: every op waiting on its rendezvous moves on. */
void nn_node_ops_keys(nn_node *n, const nn_id *target, const struct vkey *k);
/* An edge to peer registered: connect and direct ops for it complete. */
void nn_node_ops_edge_up(nn_node *n, const nn_id *peer, nn_conn *c);
/* A connect dial of op (index, serial) failed with err. */
void nn_node_ops_dial_failed(nn_node *n, unsigned op, uint32_t serial, int err);
/* Is op (index, serial) still dialling, i.e. should its new connection be kept? */
bool nn_node_ops_wants_conn(nn_node *n, unsigned op, uint32_t serial);
/* Complete every pending op with NN_ECANCELED now (stop, free). */
void nn_node_ops_cancel_all(nn_node *n);
/* Cancel all and release the table. */
void nn_node_ops_free(nn_node *n);

/* ---- media.c ---- */
/* Sink events on media conns (conn->kind == NN_CONN_MEDIA), and a failed dial whose user
 * pointer is a session (true when it was one of ours). */
void nn_node_media_on_conn(nn_node *n, nn_conn *c);
void nn_node_media_on_frame(nn_node *n, nn_conn *c, nn_pkt **pkt);
void nn_node_media_on_datagram(nn_node *n, nn_conn *c, nn_pkt **pkt);
void nn_node_media_on_writable(nn_node *n, nn_conn *c);
void nn_node_media_on_closed(nn_node *n, nn_conn *c, int err, uint64_t reason);
bool nn_node_media_dial_failed(nn_node *n, void *user, int err);
/* The edge to peer moved to connection edge (relay -> direct upgrade, conn.c): every live
 * session to peer that we dialled moves onto its path (nn_tp_move_media; counted
 * media_moved / media_move_failed); the peer's side moves the sessions it dialled. */
void nn_node_media_edge_moved(nn_node *n, const nn_id *peer, nn_conn *edge);
/* Stopping: close every session's connection (no callbacks). */
void nn_node_media_close_all(nn_node *n);
/* Freeing: release every record; with forget_conns the transport frees the conns itself. */
void nn_node_media_free(nn_node *n, bool forget_conns);

/* ---- log.c ---- */
void nn_node_log(nn_node *n, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *nn_node_hex(const nn_id *id, char buf[65]);
static inline nn_time nn_node_now(nn_node *n) { return nn_clock_now(n->clock); }
static inline nn_time nn_node_wall(nn_node *n) { return nn_clock_wall(n->clock); }
static inline nn_time nn_node_ms(int64_t ms) { return (nn_time)ms * NN_MS; }

#endif
