/* mem_int.h — internal structures of the in-memory transport (hub, endpoint, connection).
 *
 * A connection object belongs to one endpoint; frames travelling towards it sit in its rx FIFO
 * (stream, arrival times non-decreasing) and rx_dg list (datagrams, sorted by arrival), and one
 * timer per connection fires at the earliest pending event: the next arrival, the peer's close
 * marker, or our own local close notice. A closed connection is freed right after its single
 * on_closed, and its peer's back pointer is cleared.
 */
#ifndef NN_TRANSPORT_MEM_INT_H
#define NN_TRANSPORT_MEM_INT_H

#include "transport/mem/mem.h"

struct mem_ep;

enum mem_conn_state { MC_OPEN = 0, MC_CLOSING = 1 };

typedef struct mem_conn {
	nn_conn pub; /* first */
	struct mem_ep *ep;
	struct mem_conn *peer; /* other end, NULL once it is gone */
	struct mem_conn *prev, *next; /* ep's list */
	nn_timer timer;
	/* arriving stream frames (sent by peer) */
	nn_pkt *rx_head, *rx_tail;
	nn_time busy_until;   /* bottleneck: when the link towards us is free */
	nn_time last_arrival; /* in-order delivery */
	/* arriving datagrams, sorted by (at, tag) */
	nn_pkt *dg_head;
	uint64_t dg_seq;
	nn_time full_since; /* first refused send with no delivery since; 0 = none */
	uint64_t full_mark; /* peer's rx_delivered at full_since */
	uint64_t rx_delivered; /* frames delivered to us (progress of the peer's queue) */
	/* close */
	nn_time close_at;
	uint64_t close_reason;
	/* the 4- and 1-byte members last, packed (no holes: 408 bytes, not 432) */
	uint32_t via;          /* relayed: the relay endpoint's serial (its links carry the
				* frames; gone = black hole), 0 = direct */
	uint32_t rx_count;
	uint32_t dg_count;
	int close_err;
	uint8_t state;
	bool want_writable;
	bool close_pending; /* the peer closed: deliver at close_at after the frames */
} mem_conn;

typedef struct mem_dial {
	nn_timer timer;
	struct mem_ep *ep;
	struct mem_dial *prev, *next;
	nn_id want;
	nn_addr addr;
	void *user;
	uint8_t kind;
} mem_dial;

#define MEM_NAT_OPENED 16
#define MEM_RELAY_MAX 256

/* A relay session on a volunteer endpoint: "<name>:relay<id>:a" faces the caller,
 * "<name>:relay<id>:b" the callee, pinned to the first endpoint that punched it. */
struct mem_relay {
	uint64_t id; /* 0 = free */
	uint32_t pinned_b; /* serial of the callee endpoint, 0 = not pinned */
};

typedef struct mem_ep {
	nn_tp tp; /* first */
	nn_mem_hub *hub;
	uint32_t index;  /* slot in hub->eps */
	uint32_t serial; /* never reused: link override keys */
	uint32_t group;
	nn_addr addr;
	uint8_t ed_pub[32]; /* the identity key peers see on their conns (zero = unknown) */
	mem_conn *conns;
	mem_dial *dials;
	uint64_t next_serial;
	/* NAT model (nn_mem_endpoint_set_nat): inbound dials pass only from endpoints this one
	 * punched or dialled within `nat_timeout` (a ring of the most recent ones) */
	bool nat;
	nn_time nat_timeout;
	struct {
		uint32_t serial; /* the peer endpoint's serial, 0 = empty */
		nn_time at;
	} opened[MEM_NAT_OPENED];
	uint32_t opened_next;
	/* relay volunteer (opt-in, NN_TP_CAP_RELAY): sessions, allocated on first use */
	struct mem_relay *relays; /* MEM_RELAY_MAX slots */
	uint64_t relay_serial;
	uint32_t nrelays;
	/* birthday (opt-in, NN_TP_CAP_BIRTHDAY): not modelled; calls recorded */
	uint32_t bday_calls;
	nn_addr bday_first;
	/* the media counters of nn_tp_guard this model keeps (the others stay 0) */
	nn_tp_guard guard;
	/* a busy reader (nn_mem_endpoint_set_read_delay): arrivals are handed over this late */
	nn_time read_delay;
	/* a second name that reaches this endpoint (nn_mem_endpoint_set_alias); ep_len 0 = none */
	nn_addr alias;
} mem_ep;

/* The NAT model: ep sent to peer (punch or dial), opening its filter toward it. */
void mem_ep_open(mem_ep *ep, const mem_ep *peer);
/* Would ep's NAT let an unsolicited dial from peer in? */
bool mem_ep_admits(const mem_ep *ep, const mem_ep *peer, nn_time now);

typedef struct mem_override {
	uint64_t key; /* 0 = empty */
	nn_mem_link link;
	nn_time busy_until; /* link.shared: when the direction's bottleneck is free */
} mem_override;

struct nn_mem_hub {
	nn_clock *clk;
	nn_pool *pool;
	nn_mem_link dflt;
	nn_time stall_timeout;
	mem_ep **eps;
	uint32_t neps, capeps, next_serial;
	mem_ep **names; /* open addressing by name hash; capnames is a power of two */
	uint32_t capnames;
	mem_override *ov;
	uint32_t nov, capov;
	nn_mem_hub_stats st;
	uint32_t naliases; /* endpoints with an alias: lookups that miss scan them */
};

/* endpoint.c: a relay allocation address "<relay>:relay<id>:<side>": the relay endpoint and
 * the session (NULL when addr is none or gone); *side = 'a' or 'b'. */
struct mem_relay *mem_relay_find(nn_mem_hub *h, const nn_addr *addr, mem_ep **relay, char *side);
/* The endpoint pinned on the callee side of session r of relay, or NULL. */
mem_ep *mem_relay_callee(nn_mem_hub *h, const struct mem_relay *r);
/* The endpoint with this serial, or NULL. */
mem_ep *mem_hub_by_serial(nn_mem_hub *h, uint32_t serial);

/* hub.c */
mem_ep *mem_hub_lookup(nn_mem_hub *h, const nn_addr *a);
const nn_mem_link *mem_hub_link(const nn_mem_hub *h, const mem_ep *from, const mem_ep *to);
/* The bottleneck clock frames from -> to serialise on: the path's when its override is shared,
 * else the receiving connection's (r->busy_until). */
nn_time *mem_hub_busy(nn_mem_hub *h, const mem_ep *from, const mem_ep *to, nn_time *conn_busy);
bool mem_hub_cut(const nn_mem_hub *h, const mem_ep *from, const mem_ep *to);
int mem_hub_add(nn_mem_hub *h, mem_ep *ep);
void mem_hub_remove(nn_mem_hub *h, mem_ep *ep);
/* A random delay in [0, span] from the hub's clock (no draw when span <= 0). */
nn_time mem_hub_jitter(nn_mem_hub *h, nn_time span);
/* True with probability ppm / 1e6 (no draw when ppm == 0). */
bool mem_hub_chance(nn_mem_hub *h, uint32_t ppm);

/* conn.c */
mem_conn *mem_conn_new(mem_ep *ep, const nn_id *rid, const nn_addr *raddr, bool outbound,
		       uint8_t kind, void *user);
void mem_conn_pair(mem_conn *a, mem_conn *b);
/* Tear down without callbacks (endpoint destroy): the peer gets a close marker. */
void mem_conn_drop(mem_conn *c, uint64_t reason);
int mem_conn_send(nn_tp *tp, nn_conn *c, const uint8_t *frame, size_t len);
int mem_conn_send_datagram(nn_tp *tp, nn_conn *c, const uint8_t *data, size_t len);
int mem_conn_close(nn_tp *tp, nn_conn *c, uint64_t reason);
size_t mem_conn_queued(nn_tp *tp, const nn_conn *c);

/* dial.c */
int mem_dial_start(mem_ep *ep, const nn_id *want, const nn_addr *addr, void *user, uint8_t kind);
void mem_dial_free_all(mem_ep *ep);

#endif
