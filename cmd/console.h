/* console.h — nodenet-node's line console: one command per line in, one event per line out.
 *
 * Commands (stdin):  send <64-hex> <text> | direct <64-hex> <text> | rendezvous <64-hex>
 *                    | connect <64-hex> | peers | stats | nat | status | quit
 *                    | call <64-hex> | hangup <64-hex> | say <64-hex> <channel> <text>
 *                    (calls: media sessions; call answers ok at once, then the call event;
 *                    hangup closes every session with the peer; say sends <text> as one
 *                    datagram on <channel> 16..255 of the newest open session with the peer)
 * Events (stdout):   id <hex> | listening <addr> | ok | error <NAME> <message>
 *                    | keys <hex> <ed_pub-hex> <x_pub-hex> <addr>...   (rendezvous)
 *                    | connected <hex> direct <addr>                 (connect)
 *                    | recv <from-hex> <text>   (text is "hex:<hex>" unless the payload is
 *                      printable UTF-8 without control characters, not beginning "hex:")
 *                    | call <hex> up | call <hex> down [<ERRNAME>]   (a session came up,
 *                      outbound or inbound, or ended; hangup prints down for each it closed)
 *                    | media <hex> <channel> <text>   (a datagram or message on a call;
 *                      text escaped as recv's)
 *                    | peer <hex> <addr> <in|out> <sibling|finger> ... end
 *                    | stat <name> <value> ... end
 *                    | status id <hex> | status phase <phase> edges=<n> out=<n> in=<n>
 *                      siblings=<n> fingers=<n> known=<n> | status local <addr>...
 *                      | status reflexive <addr|-> | status nat <type>
 *                      | status edge <hex> <addr> <in|out> <sibling|finger>... | end
 *                      (status; no RTT: the transport boundary does not report one)
 * With json, each event is one JSON object per line with the same fields:
 *   {"event":"recv","from":"<hex>","text":"..."} (or "hex":"..." for a binary payload),
 *   {"event":"error","name":"EINVAL","message":"..."}, {"event":"peer","id":..,"addr":..,
 *   "dir":"in","role":"sibling"}, {"event":"stat","name":..,"value":N}, {"event":"end"},
 *   {"event":"keys","id":..,"ed_pub":..,"x_pub":..,"addrs":[..]},
 *   {"event":"connected","id":..,"how":"direct","addr":..},
 *   {"event":"status","id":..,"phase":..,"edges":N,"edges_out":N,"edges_in":N,"siblings":N,
 *    "fingers":N,"known":N,"local":[..],"reflexive":..,"nat":..,"peers":[{"id":..,"addr":..,
 *    "dir":..,"role":..},..]} (one object, no "end"),
 *   {"event":"call","id":..,"state":"up"|"down"[,"error":"ECLOSED"]},
 *   {"event":"media","from":..,"channel":N,"text":..} (or "hex"), ...
 * send, direct, rendezvous and connect answer asynchronously (direct, rendezvous and connect
 * after the network answered or their 10 s deadline), so other events may come first; each
 * command gets exactly one answer (ok / keys / connected / error).
 *
 * Nothing a peer sends reaches stdout raw (addresses, payloads, anything from the network): in
 * text mode every field but the recv text is a token of bytes 0x21..0x7e, any other byte (a
 * space, control byte, ESC, non-ASCII byte, '\') written as \xHH, an empty one as "-"; the
 * error message is free text with the same escapes except the space; the recv text is shown as
 * sent only when it is printable UTF-8 (no C0/C1 control, DEL, U+2028/9) and does not begin
 * with "hex:", else as hex:<hex>. In JSON, strings are JSON-escaped and a string that is not
 * printable UTF-8 is escaped to pure ASCII (\u00XX per byte). So no event can forge another
 * one, nor drive a terminal.
 *
 * The parser is pure and never trusts its input: any byte sequence gives either a command or
 * an error. Lines longer than NN_CONSOLE_MAX_LINE are refused whole (one error event) and
 * never executed in part. Every event is flushed as soon as it is written. The console runs
 * on the node's loop thread; it holds no global state.
 */
#ifndef NN_CMD_CONSOLE_H
#define NN_CMD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/nodenet.h"

#define NN_CONSOLE_MAX_LINE 70000

enum nn_console_op {
	NN_CON_NONE,
	NN_CON_SEND,
	NN_CON_DIRECT,
	NN_CON_RENDEZVOUS,
	NN_CON_CONNECT,
	NN_CON_PEERS,
	NN_CON_STATS,
	NN_CON_NAT,
	NN_CON_STATUS,
	NN_CON_QUIT,
	NN_CON_CALL,
	NN_CON_HANGUP,
	NN_CON_SAY,
	NN_CON_TELL,
};

typedef struct nn_console_cmd {
	enum nn_console_op op;
	nn_id target;            /* SEND, DIRECT, RENDEZVOUS, CONNECT, CALL, HANGUP, SAY, TELL */
	const char *text;        /* SEND, DIRECT, SAY, TELL: points into the line */
	size_t text_len;
	uint8_t channel;         /* SAY, TELL: 16..255 */
} nn_console_cmd;

/* Parse one line (without its newline; a trailing '\r' is ignored). NN_CON_NONE for an empty
 * line. 0, or NN_EINVAL with a one-line message (printable ASCII) in err. */
int nn_console_parse(nn_console_cmd *out, const char *line, size_t len, char *err, size_t errcap);

/* True when data is printable UTF-8: well-formed, shortest form, no C0/C1 control characters,
 * no DEL, no U+2028/U+2029, no surrogates. */
bool nn_console_printable(const uint8_t *data, size_t len);

typedef struct nn_console {
	nn_node *node;
	FILE *out;
	bool json;
	bool quit;       /* "quit" was read */
	bool discarding; /* inside an over-long line: drop bytes up to the next newline */
	char *buf;       /* NN_CONSOLE_MAX_LINE + 1 */
	size_t len;
} nn_console;

/* node may be NULL in tests of the line machinery (commands then fail with ESTATE). */
int nn_console_init(nn_console *c, nn_node *node, FILE *out, bool json);
void nn_console_fini(nn_console *c);

/* Feed bytes read from the input: executes every complete line, keeps the rest. Stops
 * executing after "quit". */
void nn_console_feed(nn_console *c, const char *data, size_t len);
/* End of input: executes a last unterminated line. */
void nn_console_eof(nn_console *c);
/* Execute one line. */
void nn_console_exec(nn_console *c, const char *line, size_t len);

/* Events. */
void nn_console_start(nn_console *c);  /* id + listening lines */
void nn_console_keys(nn_console *c, const nn_peer_keys *k);      /* a rendezvous answer */
void nn_console_connected(nn_console *c, const nn_id *target, const char *how, const char *addr);
void nn_console_peer(nn_console *c, const nn_peer_info *p);      /* one line of "peers" */

/* What `status` shows, gathered from the node (nn_console_exec) or made up by a test. */
typedef struct nn_console_status {
	nn_id id;
	const char *phase;         /* nn_node_phase */
	size_t naddrs;             /* local (advertised) addresses */
	const char (*addrs)[64];
	nn_nat_info nat;           /* type and confirmed reflexive address */
	const char *mapped;        /* the port-mapped address on the gateway, "" or NULL = none */
	uint64_t known;            /* contacts in the knowledge table */
	size_t npeers;             /* live edges */
	const nn_peer_info *peers;
} nn_console_status;
void nn_console_status_print(nn_console *c, const nn_console_status *st);
void nn_console_recv(nn_console *c, const nn_id *from, const uint8_t *data, size_t len);
/* Call events: a session with peer came up (status 0) or went down (status: why). */
void nn_console_call(nn_console *c, const nn_id *peer, bool up, int status);
void nn_console_media(nn_console *c, const nn_id *from, uint8_t channel, const uint8_t *data,
		      size_t len);
void nn_console_error(nn_console *c, int err, const char *message);
void nn_console_ok(nn_console *c);

/* Write len bytes of s for a text line with the escapes above: token (a field: no spaces,
 * empty as "-") or free text (spaces kept). Also for log lines on stderr. */
void nn_console_put_text(FILE *f, const char *s, size_t len, bool token);

#endif
