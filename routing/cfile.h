/* cfile.h — the contacts file: the bounded set of contacts a node saves so that, restarted
 * without a bootstrap list, it can dial them and rejoin (node/persist.c does the file I/O).
 *
 * A local file, not a protocol message; version 1 (big-endian integers):
 *   magic "nnctcts" | version 1 (u8) | self NodeID (32) | count (u16, <= NN_ROUTING_CFILE_MAX)
 *   | contact x count | BLAKE2b-256 of every byte before it (32),
 * where contact = id(32) | ed_pub(32) | x_pub(32) | caps(u32) | address list (as in
 * Neighbors: uvarint n <= NN_ROUTING_CONTACT_ADDRS, then each address).
 *
 * The file is untrusted input (it may be truncated, corrupt, from an older version, or another
 * node's): the decoder is pure and strict — it checks the checksum, the magic and version, that
 * the file was written by `self` (NN_EIDMISMATCH: a foreign file), the count cap before any
 * contact is read, every contact's key (non-zero ed_pub hashing to id), that no contact is
 * self, every address against the grammar of transport/addr.h, and no trailing bytes. Any
 * failure rejects the whole file (NN_ETRUNC, NN_ECORRUPT, NN_EBADVERSION, NN_ELIMIT, NN_EADDR,
 * NN_ETRAILING ...). It writes into a caller-provided array and never allocates.
 */
#ifndef NN_ROUTING_CFILE_H
#define NN_ROUTING_CFILE_H

#include "routing/routing.h"

#define NN_ROUTING_CFILE_MAX 256  /* contacts in a file */
#define NN_ROUTING_CFILE_VERSION 1
#define NN_ROUTING_CFILE_HEADER (7 + 1 + 32 + 2)
#define NN_ROUTING_CFILE_SUM 32
/* The largest contact: keys, caps, a one-byte count and 8 addresses of 1+15+1+63 bytes. */
#define NN_ROUTING_CFILE_CONTACT_MAX (32 * 3 + 4 + 1 + NN_ROUTING_CONTACT_ADDRS * 80)
/* A buffer this large holds any valid file. */
#define NN_ROUTING_CFILE_BYTES_MAX                                                             \
	(NN_ROUTING_CFILE_HEADER + NN_ROUTING_CFILE_MAX * NN_ROUTING_CFILE_CONTACT_MAX +        \
	 NN_ROUTING_CFILE_SUM)

/* Encode n contacts (n <= NN_ROUTING_CFILE_MAX, each keyed and with naddrs <=
 * NN_ROUTING_CONTACT_ADDRS, else NN_EINVAL) written by self. Returns the length, or NN_ENOSPC. */
int nn_routing_cfile_encode(uint8_t *out, size_t cap, const nn_id *self,
			    const nn_routing_contact *c, size_t n);
/* Decode a whole file into out[0..cap) (cap >= NN_ROUTING_CFILE_MAX always suffices; a file
 * with more contacts than cap is NN_ELIMIT). *count gets the number of contacts. 0 or an
 * error (see above); out and *count are unspecified on error. */
int nn_routing_cfile_decode(const uint8_t *in, size_t len, const nn_id *self,
			    nn_routing_contact *out, size_t cap, size_t *count);

#endif
