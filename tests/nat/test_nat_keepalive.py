#!/usr/bin/env python3
"""test_nat_keepalive.py NODENET_NODE [SECONDS] — an idle NATed edge survives behind a router
whose UDP mapping timeout is 30 s.

One public node, and one node behind a port-restricted NAT (EIM/APDF) whose conntrack and
nft timeouts are 30 s. The NATed node bootstraps to the public node; then nothing is sent by
the test for SECONDS (default 300). The keepalive pings (15 s for a sibling, 25 s for a finger
of idleness) must keep the mapping alive: at the end the edge is still up on both sides, it
never went down, and a routed message from the public node to the NATed one arrives within
50 ms of being sent. Without root / ip netns / nft it fails loudly.
"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import natlab  # noqa: E402
from test_nat_pairs import Fail, Node, PORT  # noqa: E402


def stat(node, name):
    node.p.stdin.write(b"stats\n")
    node.p.stdin.flush()
    value = None
    while True:
        line = node.next_line(10, ("stat ", "end"))
        if line == "end":
            return value
        f = line.split()
        if f[1] == name:
            value = int(f[2])


def main():
    binary = os.path.abspath(sys.argv[1])
    idle = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
    try:
        natlab.check_environment()
    except natlab.LabUnavailable as e:
        print("#" * 72 + "\n# FAIL: %s\n" % e + "#" * 72)
        return 1
    with tempfile.TemporaryDirectory() as tmp, natlab.Lab(publics=1) as lab:
        pub = Node(lab, lab.publics[0], binary, tmp, "pub").started()
        site = lab.add_site("port", hosts=1, udp_timeout=30)
        nat = Node(lab, site.hosts[0], binary, tmp, "natted",
                   "%s@%s:%d" % (pub.id, lab.publics[0].addr, PORT)).started()
        deadline = time.monotonic() + 10
        while pub.id not in nat.peer_ids() or nat.id not in pub.peer_ids():
            if time.monotonic() > deadline:
                raise Fail("the edge did not come up")
            time.sleep(0.2)
        down0 = stat(nat, "edges_down")
        print("# edge up behind a port-restricted NAT with a 30 s UDP mapping timeout; idle "
              "for %.0f s" % idle)
        t0 = time.monotonic()
        while time.monotonic() - t0 < idle:
            time.sleep(min(30.0, idle - (time.monotonic() - t0)))
            print("# %4.0f s: edge %s" % (time.monotonic() - t0,
                                          "up" if pub.id in nat.peer_ids() else "DOWN"))
        up = pub.id in nat.peer_ids() and nat.id in pub.peer_ids()
        down = stat(nat, "edges_down") - down0
        pings = stat(nat, "pings_tx")
        sent = time.monotonic()
        r = pub.cmd("send %s after-idle" % nat.id, ("ok", "error "))
        got = None
        while time.monotonic() - sent < 5:
            with nat.lock:
                if any(t == "after-idle" for _, t in nat.recvs):
                    got = time.monotonic() - sent
                    break
            time.sleep(0.005)
        print("nat keepalive: after %.0f s idle behind a 30 s mapping timeout: edge %s, "
              "edges down %d, pings sent %d, routed message %s" %
              (idle, "up" if up else "DOWN", down, pings,
               "arrived in %.1f ms" % (got * 1000) if got is not None else "LOST (%s)" % r))
        ok = up and down == 0 and got is not None and got < 0.05
        for n in (pub, nat):
            n.quit()
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)
