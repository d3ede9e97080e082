#!/usr/bin/env python3
"""test_nat_pairs.py NODENET_NODE — real nodenet-node processes behind real kernel NATs.

Builds the NAT lab (natlab.py): three public bootstrap nodes in distinct /24s (the first one a
volunteer relay, -relay), and two sites of every kind (public, full, addr, port, sym, firewall,
and udp-out-only: a firewall that lets UDP out only to the three bootstrap nodes' addresses),
one node each, every node bootstrapped through all three public nodes. Then:
  1. every node's own NAT verdict (console `nat`) must match its site: public/firewall ->
     public, full/addr/port -> cone, sym -> symmetric;
  2. for every unordered pair of kinds (X x Y; X x X uses the two sites of X), the node of X
     runs `connect <id of Y>`; one line per pair: how it connected (direct, punch, ..., FAIL)
     and in how long, then a summary line;
  3. a mixed overlay: every node sends to every other node; each message must arrive exactly
     once (NATed nodes route for others).
Expectations asserted: every pair connects (100%); directly (direct or punch) except the pairs
no plain hole punch can open: port x sym and firewall x sym must connect by "birthday" probing
(within 5 s); sym x sym and every pair with a udp-out-only node (its UDP reaches only the
bootstrap nodes) must connect by "relay" — and no other pair may, except as the fallback of
a call whose rendezvous went unanswered (the fresh-node routing weakness) or whose birthday
probing missed (before the relay such calls failed; both printed and listed on a line of their
own), or an edge the maintenance dialer brought up that way before the call — that one must be
upgraded to a direct path within UPGRADE_WAIT s (the relay -> direct upgrade); punch p50 <= 1 s.
  4. relay privacy: a packet capture in the relay's namespace (sniff.py, AF_PACKET) while the
     sym x sym pair exchanges a known payload over its relayed edge must show relayed
     datagrams and must not hold the payload's bytes.
Without root / ip netns / nft it fails loudly. Every namespace is deleted afterwards.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import natlab  # noqa: E402
import sniff as natlab_sniff  # noqa: E402
from natnode import Node, PORT, lab_binary, start_publics  # noqa: E402

KINDS = ("public", "full", "addr", "port", "sym", "firewall", "udp-out-only")
VERDICT = {"public": "public", "firewall": "public", "full": "cone", "addr": "cone",
           "port": "cone", "sym": "symmetric", "udp-out-only": "public"}
# Pairs plain hole punching cannot open (nat-lab-facts.md): symmetric against anything that
# filters by address and port. sym x sym needs a relay; the other two connect by birthday
# probing. A udp-out-only node can send UDP only to the bootstrap nodes: every pair with one
# needs the relay (the volunteer is a bootstrap node, so its allocations are allowed).
BIRTHDAY = {frozenset(("port", "sym")), frozenset(("firewall", "sym"))}


def needs_relay(x, y):
    return (x, y) == ("sym", "sym") or "udp-out-only" in (x, y)


PAYLOAD = "relay-privacy-check-7f3a9c51e2"
BIRTHDAY_MS = 5000
UPGRADE_WAIT = 20  # a relayed maintenance edge with a direct path must move within this (s)
SETTLE = 30  # seconds from the nodes' start to the overlay phase (see phase 3)


def main():
    binary, rc = lab_binary(sys.argv, "test_nat_pairs.py")
    if binary is None:
        return rc
    t_start = time.monotonic()
    failures = []
    with tempfile.TemporaryDirectory() as tmp, natlab.Lab(publics=3) as lab:
        # public bootstrap nodes, each in its own /24
        pubs, boot = start_publics(lab, binary, tmp, relay_first=True)
        nodes = {}
        for kind in KINDS:
            for j in (1, 2):
                site = lab.add_site(kind, hosts=1)
                nodes[(kind, j)] = Node(lab, site.hosts[0], binary, tmp, "%s%d" % (kind, j), boot)
        for n in nodes.values():
            n.started()
        t_up = time.monotonic()
        print("# lab up: 3 public bootstrap nodes, %d sites (%.1f s)" %
              (len(nodes), time.monotonic() - t_start))

        # 1. verdicts
        deadline = time.monotonic() + 20
        pending = dict(nodes)
        while pending and time.monotonic() < deadline:
            for key, n in list(pending.items()):
                line = n.cmd("nat", ("nat ",))
                if line.split()[1] == VERDICT[key[0]]:
                    print("# %-10s %s" % (n.name, line))
                    del pending[key]
            time.sleep(0.5)
        for key, n in pending.items():
            failures.append("%s: nat verdict %r, want %s" % (n.name, n.cmd("nat", ("nat ",)),
                                                             VERDICT[key[0]]))

        # 2. every unordered pair of kinds
        results = []
        punch_ms = []
        fallbacks = []  # relayed pairs that have a direct path: the rendezvous went unanswered
        for i, x in enumerate(KINDS):
            for y in KINDS[i:]:
                a, b = nodes[(x, 1)], nodes[(y, 2 if x == y else 1)]
                had = b.id in a.peer_ids()  # the maintenance dialer may have connected them
                rdv_miss = a.stat("relay_after_rendezvous")
                bday_miss = a.stat("relay_after_birthday")
                t0 = time.monotonic()
                line = a.cmd("connect " + b.id, ("connected ", "error "), timeout=20)
                ms = (time.monotonic() - t0) * 1000
                f = line.split()
                how = f[2] if f[0] == "connected" else "FAIL"
                relay = needs_relay(x, y)
                if how == "punch":
                    punch_ms.append(ms)
                note = " (edge already up: the maintenance dialer's)" if had else ""
                if how == "FAIL":
                    note = " (%s)" % (" ".join(f[1:3]))
                    failures.append("%s x %s: %s" % (x, y, line))
                elif relay:
                    if how != "relay":
                        failures.append("%s x %s: connected by %s, want relay" % (x, y, how))
                        for who, other in ((a, b), (b, a)):  # what each side believes
                            print("# %s: %s" % (who.name, who.cmd("nat", ("nat ",))))
                            for pl in who.peer_lines():
                                if other.id in pl:
                                    print("# %s: %s" % (who.name, pl))
                elif how == "relay" and a.stat("relay_after_rendezvous") > rdv_miss:
                    # the Hello found no route to a fresh node (the newcomer weakness the
                    # birthday test retries around): before the relay this call failed
                    note = " (fallback: rendezvous unanswered, the newcomer weakness)"
                    fallbacks.append((x, y))
                elif (how == "relay" and frozenset((x, y)) in BIRTHDAY and
                      a.stat("relay_after_birthday") > bday_miss):
                    # birthday probing is probabilistic (nat-birthday asserts >= 95%): a miss
                    # used to fail the call; now the relay carries it
                    note = " (fallback: birthday probing missed)"
                    fallbacks.append((x, y))
                elif how == "relay" and had:
                    # the maintenance dialer's edge fell back to the relay (rendezvous
                    # unanswered or birthday missed): the upgrade must move it to the direct
                    # path there is
                    t1 = time.monotonic()
                    up = "relay"
                    while up == "relay" and time.monotonic() - t1 < UPGRADE_WAIT:
                        time.sleep(1.0)
                        g = a.cmd("connect " + b.id, ("connected ", "error "), timeout=20).split()
                        up = g[2] if g[0] == "connected" else "relay"
                    if up == "relay":
                        failures.append("%s x %s: the maintenance dialer's relayed edge was not "
                                        "upgraded within %d s" % (x, y, UPGRADE_WAIT))
                        note += "; NOT upgraded"
                    else:
                        note += "; relayed, upgraded to %s in %.1f s" % (up, time.monotonic() - t1)
                        fallbacks.append((x, y))
                elif how == "relay":
                    failures.append("%s x %s: relayed, but a direct path exists" % (x, y))
                elif frozenset((x, y)) in BIRTHDAY and not had:
                    if how != "birthday":
                        failures.append("%s x %s: connected by %s, want birthday" % (x, y, how))
                    elif ms > BIRTHDAY_MS:
                        failures.append("%s x %s: birthday took %.0f ms > %d" %
                                        (x, y, ms, BIRTHDAY_MS))
                elif how not in ("direct", "punch"):
                    failures.append("%s x %s: connected by %s" % (x, y, how))
                print("nat %-12s x %-12s: %-8s %7.0f ms%s" % (x, y, how, ms, note))
                results.append((x, y, how, ms))
        ok = sum(1 for r in results if r[2] != "FAIL")
        p50 = statistics.median(punch_ms) if punch_ms else 0.0
        print("nat summary: %d of %d pairs connected (%.0f%%: %d direct, %d punch, %d birthday, "
              "%d relay; %d pairs have no direct path), %d FAIL; punch p50 %.0f ms (%d punched)" %
              (ok, len(results), 100.0 * ok / len(results),
               sum(r[2] == "direct" for r in results), len(punch_ms),
               sum(r[2] == "birthday" for r in results), sum(r[2] == "relay" for r in results),
               sum(1 for r in results if needs_relay(r[0], r[1])), len(results) - ok, p50,
               len(punch_ms)))
        if fallbacks:
            print("nat relay fallbacks (a direct path exists; the rendezvous went unanswered or "
                  "birthday probing missed, or the maintenance dialer's edge was relayed): "
                  + " ".join("%s x %s" % f for f in fallbacks))
        if punch_ms and p50 > 1000:
            failures.append("punch p50 %.0f ms > 1000 ms" % p50)

        # 4 (before the overlay phase, which would add routed traffic). Relay privacy: a
        # capture in the relay's namespace while sym1 sends a known payload to sym2 over their
        # relayed edge (console `direct`: one App frame on that edge)
        relay_ports = set()
        cap = os.path.join(tmp, "relay.cap")
        sn = lab.popen(lab.publics[0], [sys.executable, os.path.join(HERE, "sniff.py"), cap,
                                        "6"], stdout=subprocess.PIPE)
        sn.stdout.readline()  # "sniffing"
        s1, s2 = nodes[("sym", 1)], nodes[("sym", 2)]
        for _ in range(5):
            r = s1.cmd("direct %s %s" % (s2.id, PAYLOAD), ("ok", "error "), timeout=10)
            if not r.startswith("ok"):
                failures.append("relay privacy: direct sym1 -> sym2: %s" % r)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with s2.lock:
                got = sum(1 for _, t in s2.recvs if t == PAYLOAD)
            if got >= 5:
                break
            time.sleep(0.1)
        sn.wait(timeout=15)
        with s2.lock:  # the overlay phase counts routed messages only
            s2.recvs[:] = [m for m in s2.recvs if m[1] != PAYLOAD]
        dgrams = natlab_sniff.udp_datagrams(cap)
        relayed = [d for d in dgrams if PORT not in (d[0], d[1])]
        leaks = sum(1 for d in dgrams if PAYLOAD.encode() in d[2])
        print("nat relay privacy: %d of 5 payloads delivered over the relayed edge; capture in "
              "the relay's namespace: %d UDP datagrams, %d on relay ports, %d holding the "
              "payload" % (got, len(dgrams), len(relayed), leaks))
        if got < 5:
            failures.append("relay privacy: %d of 5 payloads arrived" % got)
        if not relayed:
            failures.append("relay privacy: the capture saw no relayed datagram (vacuous)")
        if leaks:
            failures.append("relay privacy: %d captured datagrams hold the payload" % leaks)

        # 3. the mixed overlay routes between every ordered pair, exactly once. It starts at
        # least SETTLE s after the nodes came up: this phase checks that NATed nodes route for
        # others, not how fast a fresh overlay converges (before birthday probing, the two
        # 10 s timeouts of port x sym and firewall x sym gave it that time; without them, 2 of
        # 7 runs lost a message or more to a node not yet routable)
        settle = t_up + SETTLE - time.monotonic()
        if settle > 0:
            time.sleep(settle)
        everyone = list(nodes.values()) + pubs
        before = {n.name: n.stats() for n in everyone}
        sent = 0
        for a in everyone:
            for b in everyone:
                if a is not b:
                    r = a.cmd("send %s m-%s-%s" % (b.id, a.name, b.name), ("ok", "error "))
                    sent += 1
                    if not r.startswith("ok"):
                        failures.append("send %s -> %s: %s" % (a.name, b.name, r))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = sum(len(n.recvs) for n in everyone)
            if got >= sent:
                break
            time.sleep(0.2)
        missing, dup = [], []
        for b in everyone:
            with b.lock:
                texts = [t for _, t in b.recvs]
            for a in everyone:
                if a is b:
                    continue
                c = texts.count("m-%s-%s" % (a.name, b.name))
                if c == 0:
                    missing.append("%s->%s" % (a.name, b.name))
                elif c > 1:
                    dup.append("%s->%s" % (a.name, b.name))
        print("nat overlay: %d nodes (%d behind NATs or firewalls), %d routed sends, %d "
              "delivered once, %d missing, %d duplicated" %
              (len(everyone), sum(1 for k in nodes if k[0] != "public"), sent,
               sent - len(missing) - len(dup), len(missing), len(dup)))
        after = {n.name: n.stats() for n in everyone}
        keep = os.environ.get("NATLAB_KEEP")
        if keep:  # every node's counters around the overlay phase and its edges after it
            for n in everyone:
                with open(os.path.join(keep, n.name + ".state"), "w") as f:
                    for k in sorted(after[n.name]):
                        f.write("stat %s %d %d\n" % (k, before[n.name].get(k, 0),
                                                      after[n.name][k]))
                    for pl in n.peer_lines():
                        f.write(pl + "\n")
        if missing:
            failures.append("missing deliveries: " + " ".join(missing[:10]))
            # where they may have died: what each node counted during the phase
            for n in everyone:
                d = ["%s+%d" % (k, v - before[n.name].get(k, 0))
                     for k, v in sorted(after[n.name].items())
                     if v != before[n.name].get(k, 0) and
                     k.startswith(("dropped", "suspect", "dup_", "edges_", "local_", "repairs"))]
                print("# overlay %-13s %s" % (n.name, " ".join(d)))
            for name in sorted(set(m.split("->")[1] for m in missing)):
                for n in everyone:
                    if n.name == name:
                        for pl in n.peer_lines():
                            print("# %s: %s" % (name, pl))
        if dup:
            failures.append("duplicated deliveries: " + " ".join(dup[:10]))
        # 4. filtering inferred from evidence: an unsolicited inbound edge says "open"; a node
        # behind a restricting NAT or a stateful firewall can never see one
        for key, n in sorted(nodes.items()):
            line = n.cmd("nat", ("nat ",))
            print("# after: %-10s %s" % (n.name, line))
            if key[0] in ("addr", "port", "sym", "firewall") and "filtering=open" in line:
                failures.append("%s: filtering seen open behind a %s router" % (n.name, key[0]))
            if key[0] == "public" and "filtering=open" not in line:
                failures.append("%s: a public node saw no unsolicited edge: %s" % (n.name, line))
        for n in everyone:
            n.quit()
    print("# %.1f s" % (time.monotonic() - t_start))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
