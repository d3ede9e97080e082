/* mem.h — the deterministic in-memory transport: a hub of named endpoints on a virtual clock.
 *
 * Every endpoint is an nn_tp (transport/transport.h) with address "mem/<name>" and a NodeID the
 * hub knows, so a dial "authenticates" by comparing the dialled NodeID with the target's real one
 * (NN_EIDMISMATCH on a difference, NN_EUNREACH for an unknown name or across a partition).
 * Links are modelled per direction (from endpoint -> to endpoint) by an nn_mem_link profile:
 *   latency + uniform jitter; a bandwidth bottleneck (frames serialise at `bandwidth` bytes/s;
 *   media datagrams serialise with the connection's frames and are tail-dropped when they
 *   would wait longer than queue_frames x mtu bytes take to drain; per connection, or with
 *   `shared` one FIFO for every connection of the direction);
 *   the per-connection send queue bound `queue_frames` (frames sent and not yet delivered:
 *   the bottleneck queue plus the wire; beyond it send returns NN_EAGAIN); loss (stream frames
 *   are reliable, a lost one costs a retransmission delay of 2 x latency; datagrams are dropped);
 *   reordering (datagrams only: delayed by reorder_delay); MTU (datagrams over it: NN_ETOOBIG);
 *   blackhole (frames vanish, dials fail).
 * Stream frames on one connection always arrive in order. Partitions put endpoints in groups;
 * across groups frames are black-holed and dials fail, until heal. An endpoint's capability
 * flags (NN_TP_CAP_PUNCH, NN_TP_CAP_MEDIA, NN_TP_CAP_BIRTHDAY, NN_TP_CAP_RELAY) choose which
 * optional ops it supports. Relay model (NN_TP_CAP_RELAY): relay_alloc returns two addresses
 * "mem/<name>:relay<id>:a" (caller) and ":b" (callee); the first endpoint that punches the b
 * address is pinned, and a dial to the a address then reaches it through the relay (cuts and
 * the callee's NAT model are checked on the caller-relay and relay-callee links, not between
 * caller and callee). A relayed connection's frames travel the caller-relay and relay-callee
 * links (a cut on either, or the relay endpoint gone, black-holes them); no shaper, no idle
 * reaping, freeing the session does not close it. At most 256 sessions (NN_EBUSY).
 * A delivered datagram's pkt->at is its arrival time. Counters: of nn_tp_guard the endpoint
 * keeps the media ones it models (media_in/out, media_unsupported,
 * media_dgram_tx/ring_full/send_failed/rx, media_msg_tx/tx_eagain/rx); the others (QUIC's
 * refusals, the relay volunteer's) read 0.
 *
 * Determinism: all randomness comes from the clock's seeded rand() and all events from its
 * timer heap, so one seed + one sequence of API calls = one run, bit for bit. Memory: an idle
 * endpoint costs a few hundred bytes; frames in flight sit in pool buffers (the datagram class
 * for frames up to NN_POOL_DGRAM_CAP bytes), so a warmed-up hub allocates nothing per frame.
 *
 * Ownership: the hub borrows the clock and pool (they must outlive it); endpoints are destroyed
 * with nn_tp_destroy() or all at once by nn_mem_hub_free(). Not from inside a sink callback.
 */
#ifndef NN_TRANSPORT_MEM_H
#define NN_TRANSPORT_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "transport/transport.h"

typedef struct nn_mem_hub nn_mem_hub;

typedef struct nn_mem_link {
	nn_time latency;       /* one-way */
	nn_time jitter;        /* extra delay, uniform in [0, jitter] */
	uint32_t loss_ppm;     /* per million */
	uint32_t reorder_ppm;  /* per million, datagrams */
	nn_time reorder_delay; /* extra delay of a reordered datagram */
	uint64_t bandwidth;    /* bytes/s; 0 = unlimited */
	uint32_t queue_frames; /* send queue bound per connection (>= 1) */
	uint32_t mtu;          /* largest datagram */
	bool blackhole;        /* this direction is cut */
	bool stall;            /* frames are accepted but never delivered (a peer that stopped
				* reading): the queue fills and the stall deadline drops the edge */
	bool shared;           /* the bottleneck belongs to the path, not to each connection:
				* every connection from -> to (edges and media sessions) queues in
				* one FIFO (an access link). Only in an override (nn_mem_link_set). */
} nn_mem_link;

/* latency 1 ms, no jitter/loss/reordering, unlimited bandwidth, queue 64, MTU 1252. */
nn_mem_link nn_mem_link_default(void);

/* dflt may be NULL (nn_mem_link_default()). NULL on allocation failure. */
nn_mem_hub *nn_mem_hub_new(nn_clock *clk, nn_pool *pool, const nn_mem_link *dflt);
/* Destroys every remaining endpoint (no callbacks), then the hub. */
void nn_mem_hub_free(nn_mem_hub *h);

/* A new endpoint "mem/<name>" (name 1..NN_ADDR_EP_MAX bytes, unique: NN_EEXIST) whose
 * authenticated identity is *id; caps is a subset of NN_TP_CAP_PUNCH | NN_TP_CAP_MEDIA |
 * NN_TP_CAP_BIRTHDAY | NN_TP_CAP_RELAY. */
int nn_mem_endpoint_new(nn_mem_hub *h, const char *name, const nn_id *id, uint32_t caps,
			nn_tp **out);

/* The Ed25519 key the endpoint's peers see as conn->remote_ed_pub (the hub does not check that
 * it hashes to the endpoint's NodeID: the test harness is trusted to pass the right one). */
void nn_mem_endpoint_set_key(nn_tp *tp, const uint8_t ed_pub[32]);

/* A NAT model for tests of hole punching (endpoint-independent mapping, address-and-port-
 * dependent filtering, i.e. a port-restricted cone): with `on`, a dial *to* this endpoint
 * succeeds only from an endpoint it punched or dialled within `timeout` (0 = 30 s); the
 * endpoint's own dials work as before. Established connections are not affected. */
void nn_mem_endpoint_set_nat(nn_tp *tp, bool on, nn_time timeout);

/* A second name, "mem/<name>", that reaches this endpoint too (say, through a relay): dials to
 * it connect to the endpoint (conn->remote_addr is the dialled name), nothing else changes.
 * NULL removes it. NN_EEXIST when the name is taken; one alias per endpoint. */
int nn_mem_endpoint_set_alias(nn_tp *tp, const char *name);

/* A busy reader: frames and datagrams arriving at this endpoint are handed to its sink `d`
 * after their arrival (0 = at once), as when a loop is late to read its socket. A datagram's
 * pkt->at stays its arrival time (the receive timestamp, like a kernel's). */
void nn_mem_endpoint_set_read_delay(nn_tp *tp, nn_time d);

/* Birthday probing (caps NN_TP_CAP_BIRTHDAY, opt-in for tests) is not modelled: a call is
 * recorded and runs as a plain dial to its first address. How many calls, and the first address
 * of the last one. */
uint32_t nn_mem_endpoint_birthday_calls(const nn_tp *tp, nn_addr *first);

/* Profile of the direction from -> to (overrides the hub default). */
int nn_mem_link_set(nn_mem_hub *h, const nn_tp *from, const nn_tp *to, const nn_mem_link *l);
/* Set the default for every pair without an override. */
void nn_mem_link_set_default(nn_mem_hub *h, const nn_mem_link *l);
/* Local policy: a connection whose send queue has stayed full for `t` (default 5 s, the
 * reference's per-frame write deadline) is closed at the next refused send: that send returns
 * NN_ETIMEDOUT and on_closed follows with NN_ETIMEDOUT / NN_TP_REASON_STALLED. */
void nn_mem_hub_set_stall_timeout(nn_mem_hub *h, nn_time t);

/* Move ep into partition group g (all start in 0); heal puts everyone back into 0. */
void nn_mem_partition(nn_tp *ep, uint32_t group);
void nn_mem_heal(nn_mem_hub *h);

typedef struct nn_mem_hub_stats {
	uint32_t endpoints, conns;
	uint64_t frames_delivered, frames_blackholed, dgrams_lost, retransmits, stalled_closes;
} nn_mem_hub_stats;
const nn_mem_hub_stats *nn_mem_hub_stats_of(const nn_mem_hub *h);

/* Bytes of heap the hub holds: its tables, endpoints and connections (payload bytes of frames
 * in flight are in the pool, not counted here). For the memory-per-endpoint benchmark. */
size_t nn_mem_hub_bytes(const nn_mem_hub *h);
size_t nn_mem_endpoint_footprint(void);
size_t nn_mem_conn_footprint(void);

#endif
