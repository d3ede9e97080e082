/* fuzz_reflex.c — the consolidator under a script of reports, forgets and verdicts, with
 * reporter and observed addresses drawn from a small pool (public, private, loopback, IPv6,
 * mem, junk). Invariants: never crashes, a confirmed address was reported by at least
 * min_votes live voters, symmetric never comes with a confirmed address, counts are bounded. */
#include <stdlib.h>
#include <string.h>

#include "nat/reflex.h"

static const char *pool[] = {
	"100.64.1.2:4242", "100.64.1.9:4242", "100.64.2.2:4242", "100.64.3.2:1",
	"100.64.9.2:31001", "100.64.9.2:48213", "192.168.1.2:4242", "10.0.0.1:5",
	"127.0.0.1:4242", "[2001:db8::1]:7", "[2001:db8:1::1]:7", "[fe80::1]:1",
	"mem:n1", "mem:n2", "not an address", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nn_nat_report slots[6];
	nn_nat_reflex r;
	nn_nat_reflex_opts o = {.min_votes = 2, .min_subnets = 2, .sym_min_reports = 3,
				.max_age = 100};
	if (nn_nat_reflex_init(&r, slots, 6, &o) < 0)
		abort();
	nn_time now = 0;
	for (size_t i = 0; i + 3 <= size; i += 3) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
		now += op >> 4;
		nn_id who;
		memset(&who, a & 7, sizeof who);
		nn_addr ra, ob;
		const char *rs = pool[(a >> 3) & 15], *os = pool[b & 15];
		int mem_r = !strncmp(rs, "mem:", 4), mem_o = !strncmp(os, "mem:", 4);
		nn_addr_set(&ra, mem_r ? "mem" : "quic", mem_r ? rs + 4 : rs);
		if (nn_addr_set(&ob, mem_o ? "mem" : "quic", mem_o ? os + 4 : os) < 0)
			memset(&ob, 0, sizeof ob);
		switch (op & 3) {
		case 0:
		case 1:
			(void)nn_nat_reflex_report(&r, &who, &ra, &ob, now);
			break;
		case 2:
			nn_nat_reflex_forget(&r, &who);
			break;
		default:
			nn_nat_reflex_note_unsolicited(&r, now);
			break;
		}
		nn_nat_verdict v;
		nn_nat_reflex_verdict(&r, &ob, 1, now, &v);
		if (v.reporters > 6 || v.voters > v.reporters || v.endpoints > v.voters)
			abort();
		if (v.confirmed && (v.votes < 2 || v.votes > v.voters))
			abort();
		if (v.type == NN_NAT_SYMMETRIC && v.confirmed)
			abort();
		if ((v.type == NN_NAT_CONE || v.type == NN_NAT_PUBLIC) != v.confirmed)
			abort();
	}
	return 0;
}
