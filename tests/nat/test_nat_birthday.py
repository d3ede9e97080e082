#!/usr/bin/env python3
"""test_nat_birthday.py NODENET_NODE [ROUNDS] — birthday probing, repeated, through real NATs.

Builds the NAT lab (natlab.py): six public bootstrap nodes in distinct /24s, 4 port-restricted
sites (one node each) and ROUNDS symmetric nodes, 4 behind each symmetric site (default ROUNDS =
20).
Round r: port node r mod 4 runs `connect <id of symmetric node r>` — a fresh pair every round
(no console command drops an edge), whose only way through is birthday probing. One line per
round (how, ms), then the success rate and the p50 / p95 time. Asserted: every round that
connects says "birthday"; at least 95% of the birthday attempts (rounds that reached the stage)
connect within 5 s; at least 90% of the rounds reach it within two calls (a call can fail
before: the overlay may not route a rendezvous to a node that has just joined — then the round
calls once more, and the number of such rounds is printed).
Without root / ip netns / nft it fails loudly. Every namespace is deleted afterwards.
"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import natlab  # noqa: E402
from natnode import Node, PORT, start_publics  # noqa: E402

GOAL_MS = 5000
GOAL_RATE = 0.95
PORTS = 4
# public nodes (the only ones every NATed node has an edge to); more of them make it likelier
# that a fresh node is routable at once (greedy routing needs an edge closer to the target)
PUBLICS = 6
# symmetric nodes per site: they share its public IP, and nodes take at most a few inbound
# edges from one IP (admit.c), so more of them would be shed by the bootstrap nodes
SYM_HOSTS = 4
WATCH = ("dropped", "hellos", "replies", "rendezvous_ok", "connects_tx", "connect_acks_tx", "connect_acks_rx", "birthday",
         "tp_birthday", "punches_tx", "dial_failures")


def stats(n):
    """The counters of interest (console `stats`), as 'name=value' text."""
    return " ".join("%s=%d" % (k, v) for k, v in n.stats().items()
                    if k.startswith(WATCH) and v)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else 0.0


def main():
    if len(sys.argv) < 2:
        print("usage: test_nat_birthday.py NODENET_NODE [ROUNDS]", file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    if not 2 <= rounds <= 200:
        print("ROUNDS must be 2..200", file=sys.stderr)
        return 2
    try:
        natlab.check_environment()
    except natlab.LabUnavailable as e:
        print("#" * 72 + "\n# FAIL: %s\n# the nat suite needs root, iproute2 and nftables\n" % e +
              "#" * 72)
        return 1
    t_start = time.monotonic()
    failures = []
    everyone = []
    with tempfile.TemporaryDirectory() as tmp, natlab.Lab(publics=PUBLICS) as lab:
        pubs, boot = start_publics(lab, binary, tmp)
        ports = [Node(lab, lab.add_site("port").hosts[0], binary, tmp, "port%d" % (i + 1), boot)
                 for i in range(PORTS)]
        syms = []
        for s in range((rounds + SYM_HOSTS - 1) // SYM_HOSTS):
            site = lab.add_site("sym", hosts=SYM_HOSTS)
            for j, h in enumerate(site.hosts):
                if len(syms) < rounds:
                    syms.append(Node(lab, h, binary, tmp, "sym%d-%d" % (s + 1, j + 1), boot))
        everyone = pubs + ports + syms
        for n in ports + syms:
            n.started()
        print("# lab up: %d public bootstrap nodes, %d port-restricted, %d symmetric (%.1f s)" %
              (PUBLICS, len(ports), len(syms), time.monotonic() - t_start))
        # every node's verdict first: birthday is decided from it
        want = [(n, "cone") for n in ports] + [(n, "symmetric") for n in syms]
        deadline = time.monotonic() + 30
        while want and time.monotonic() < deadline:
            want = [(n, v) for n, v in want if n.cmd("nat", ("nat ",)).split()[1] != v]
            if want:
                time.sleep(0.5)
        for n, v in want:
            failures.append("%s: nat verdict is not %s" % (n.name, v))
        ok_ms = []
        tried = 0  # rounds that reached the birthday sub-stage (the port side started it)
        retried = 0  # rounds whose first call never got that far (the rendezvous failed)
        for r in range(rounds):
            a, b = ports[r % PORTS], syms[r]
            for attempt in (1, 2):
                started = a.stat("birthday_started")
                t0 = time.monotonic()
                line = a.cmd("connect " + b.id, ("connected ", "error "), timeout=20)
                ms = (time.monotonic() - t0) * 1000
                f = line.split()
                how = f[2] if f[0] == "connected" else "FAIL"
                reached = a.stat("birthday_started") > started
                if how != "FAIL" or reached or attempt == 2:
                    break
                # The call failed before birthday: its rendezvous did not reach the fresh node
                # (greedy routing toward a node that just joined can stop at a neighbour that
                # has not met it yet, `dropped_no_route`; the newcomer weakness of issue 17).
                # That measures routing, not birthday: try the pair once more.
                retried += 1
                print("#   round %d: %s before the birthday stage (%.0f ms); once more" %
                      (r + 1, line, ms))
            tried += reached
            print("birthday round %2d %s x %s: %-8s %6.0f ms" % (r + 1, a.name, b.name, how, ms))
            if how == "birthday":
                ok_ms.append(ms)
            elif how != "FAIL":
                failures.append("round %d: connected by %s, want birthday" % (r + 1, how))
            else:
                print("#   %s%s | %s: %s | %s: %s, %d edges" %
                      (line, "" if reached else " (before the birthday stage)", a.name,
                       stats(a), b.name, stats(b), len(b.peer_ids())))
                if os.environ.get("NN_BDAY_DEBUG"):
                    for p in pubs:
                        print("#     %s: %s" % (p.name, stats(p)))
        within = sum(1 for ms in ok_ms if ms <= GOAL_MS)
        rate = within / rounds
        print("birthday summary: %d of %d rounds connected by birthday, %d within %d ms "
              "(%.0f%% of rounds, %.0f%% of the %d that reached the birthday stage); "
              "p50 %.0f ms, p95 %.0f ms" %
              (len(ok_ms), rounds, within, GOAL_MS, rate * 100,
               100.0 * within / max(tried, 1), tried, pct(ok_ms, 0.5), pct(ok_ms, 0.95)))
        # the goal is for birthday attempts; a round whose rendezvous failed (the overlay could
        # not route to the fresh node yet) never attempted one, and may be at most 10%
        if within < GOAL_RATE * tried:
            failures.append("birthday success %d of %d attempts < %.0f%%" %
                            (within, tried, GOAL_RATE * 100))
        print("birthday rendezvous: %d of %d rounds needed a second call to reach the birthday "
              "stage" % (retried, rounds))
        if tried < 0.9 * rounds:
            failures.append("only %d of %d rounds reached the birthday stage in two calls" %
                            (tried, rounds))
        for n in everyone:
            n.quit()
    print("# %.1f s" % (time.monotonic() - t_start))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
