/* addr.h — transport addresses and their v1 wire codec (pure, no allocation).
 *
 * An address is (net, endpoint): net "quic" with an endpoint "host:port" as Go prints a UDP
 * address ("1.2.3.4:5678", "[2001:db8::1]:5678"), or net "mem" with an in-memory hub name.
 * Wire form (protocol, MUST): uvarint(len(net)) | net | uvarint(len(endpoint)) | endpoint;
 * a list is uvarint(count) | addr x count.
 *
 * Stricter than the reference (verifiable tier): net is at most NN_ADDR_NET_MAX bytes and the
 * endpoint at most NN_ADDR_EP_MAX bytes (longer ones cannot be a UDP address or a hub name we
 * issue), the list count is checked against the caller's cap and against remaining bytes / 2
 * before anything is read, uvarints must be minimal. Decoded addresses are copied into
 * fixed-size structs owned by the caller.
 *
 * Address grammar (local policy, enforced at decode: an address is text that ends up in logs,
 * consoles and dial attempts, so nothing else is let in; docs/PROTOCOL.md "Address grammar"):
 *   net      = 1..15 of [a-z0-9]
 *   quic     : endpoint = host ":" port
 *     port   = 1..65535 in decimal without leading zeros (port 0 reaches nobody: refused)
 *     host   = IPv4 dotted quad (four octets 0..255, no leading zeros)
 *            | "[" IPv6 literal "]" (hex digits, ':' and '.', no zone)
 *            | DNS name: labels of 1..63 [A-Za-z0-9-], no leading/trailing '-', joined by
 *              single dots, no trailing dot, last label not all digits
 *   any other net (mem hub names, nets we do not speak): endpoint = 1..63 of [A-Za-z0-9._:[]-]
 * So no control byte, space, quote, backslash, '%', non-ASCII byte or empty host ever decodes.
 */
#ifndef NN_TRANSPORT_ADDR_H
#define NN_TRANSPORT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wire/wire.h"

#define NN_ADDR_NET_MAX 15
#define NN_ADDR_EP_MAX 63
#define NN_ADDR_TEXT_MAX (NN_ADDR_NET_MAX + 1 + NN_ADDR_EP_MAX + 1) /* "net/endpoint\0" */

typedef struct nn_addr {
	uint8_t net_len;
	uint8_t ep_len;
	char net[NN_ADDR_NET_MAX + 1]; /* NUL-terminated for convenience; not on the wire */
	char ep[NN_ADDR_EP_MAX + 1];
} nn_addr;

/* Build an address from C strings; NN_ETOOBIG if either is too long, NN_EINVAL if net empty. */
int nn_addr_set(nn_addr *a, const char *net, const char *ep);
bool nn_addr_eq(const nn_addr *a, const nn_addr *b);
bool nn_addr_is_quic(const nn_addr *a);

/* 0 when a matches the address grammar above, else NN_EADDR. */
int nn_addr_check(const nn_addr *a);
/* What an encoder checks before writing a list of n addresses: n <= max (NN_ELIMIT), a not
 * NULL when n > 0, every net non-empty and both fields within their maxima (NN_EINVAL). */
int nn_addr_list_check(const nn_addr *a, size_t n, size_t max);

/* Wire codec on the sticky reader/writer. nn_addr_read fails the reader with NN_ETRUNC,
 * NN_ENONMINIMAL, NN_ETOOBIG (a field too long), NN_ECORRUPT (empty net), then NN_EADDR (the
 * grammar); a is zeroed on failure. */
void nn_addr_write(nn_wr *w, const nn_addr *a);
void nn_addr_read(nn_rd *r, nn_addr *a);
/* Encoded size of one address. */
size_t nn_addr_wire_len(const nn_addr *a);

/* List: reads at most `cap` entries into out; the declared count must be <= max_count (the
 * message's cap) and <= remaining/2, checked before any entry is read (NN_ELIMIT / NN_ETRUNC).
 * *n receives the count. */
void nn_addr_list_read(nn_rd *r, nn_addr *out, size_t cap, size_t max_count, size_t *n);
/* The same with the same caps and structural errors, except that an entry outside the grammar
 * is skipped instead of failing the reader: out receives the *n good entries in order,
 * *declared the list's count and *dropped how many were skipped (for lists of third-party
 * hints, where one bad address must not sink the whole message). */
void nn_addr_list_read_valid(nn_rd *r, nn_addr *out, size_t cap, size_t max_count, size_t *n,
			     size_t *declared, size_t *dropped);
void nn_addr_list_write(nn_wr *w, const nn_addr *a, size_t n);

/* IP endpoints ("1.2.3.4:5678", "[::1]:5678"): literal addresses only, no DNS, port 0..65535.
 * Returns 0 and fills ss/len (AF_INET for IPv4, AF_INET6 otherwise), or NN_EADDR. */
int nn_addr_to_sockaddr(const nn_addr *a, struct sockaddr_storage *ss, socklen_t *len);
/* The inverse, with net "quic"; IPv4-mapped IPv6 addresses are printed as IPv4. */
int nn_addr_from_sockaddr(nn_addr *a, const struct sockaddr *sa, socklen_t len);

/* Subnet key for caps (local policy): 16 bytes; IPv4 (and v4-mapped) = mapped form with the
 * last byte zeroed (/24); IPv6 = first 8 bytes, rest zero (/64). NN_EADDR when the endpoint is
 * not a literal IP:port (hostnames, mem names have no subnet) and for loopback addresses
 * (127/8, ::1): they all live on this one host, where a per-subnet cap would only stop a
 * local test overlay from meeting itself (20 nodes on 127.0.0.1 would know 8 of each other). */
int nn_addr_subnet(const nn_addr *a, uint8_t key[16]);

/* Human form "net/endpoint" into buf (NN_ADDR_TEXT_MAX is always enough). */
const char *nn_addr_str(const nn_addr *a, char *buf, size_t cap);

/* Packed form, for tables that keep many addresses for long (the knowledge table: an nn_addr
 * is 82 bytes, most of them unused). NN_ADDR_PK_LEN bytes, canonical (two packed addresses are
 * equal iff their bytes are, iff the addresses are): an IP literal endpoint of net "quic" that
 * prints back as it reads (every address nn_addr_from_sockaddr makes, and so every source the
 * QUIC transport reports) is stored as its IP and port, any other address as its text when net
 * and endpoint together take at most NN_ADDR_PK_LEN - 3 bytes (a mem hub name, a short host
 * name); longer ones do not pack (local policy of the table that stores them). */
#define NN_ADDR_PK_LEN 32
typedef struct nn_addr_pk {
	uint8_t b[NN_ADDR_PK_LEN];
} nn_addr_pk;

/* 0, or NN_ETOOBIG (does not fit), NN_EINVAL (an empty net or fields beyond their maxima). */
int nn_addr_pack(nn_addr_pk *pk, const nn_addr *a);
/* The address pk holds (the empty address, net_len 0, for bytes no pack made). */
void nn_addr_unpack(nn_addr *a, const nn_addr_pk *pk);
bool nn_addr_pk_eq(const nn_addr_pk *x, const nn_addr_pk *y);

#endif
