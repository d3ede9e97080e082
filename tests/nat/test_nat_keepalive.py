#!/usr/bin/env python3
"""test_nat_keepalive.py NODENET_NODE [SECONDS] — idle NATed edges survive behind a router whose
UDP mapping timeout is 30 s, with the keepalive the node learned.

Two public nodes (distinct /24s, so the NATed node's verdict is corroborated: cone) and one node
behind a port-restricted NAT (EIM/APDF) whose conntrack and nft timeouts are 30 s. Then nothing
is sent by the test for SECONDS (default 300). Keepalives start at 25 s (pinged at the first
tick after 20 s of silence); what the node learns of its mapping lifetime (passive evidence,
KaProbe/KaEcho) may move them. At the end both edges are still up on both sides, no edge of the
NATed node went down, the keepalive in force plus one tick stays within the 30 s timeout, and
a routed message from a public node to the NATed one arrives within 50 ms. What was learned is
printed (keepalive, ka-survived, ka-failed, probe outcomes). Without root / ip netns / nft it
fails loudly.
"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import natlab  # noqa: E402
from natnode import Fail, Node, PORT, lab_binary  # noqa: E402


TICK = 5.0  # the node's maintenance tick (default)


def main():
    binary, rc = lab_binary(sys.argv, "test_nat_keepalive.py")
    if binary is None:
        return rc
    idle = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
    with tempfile.TemporaryDirectory() as tmp, natlab.Lab(publics=2) as lab:
        pubs = [Node(lab, lab.publics[0], binary, tmp, "pub0").started()]
        boot = "%s@%s:%d" % (pubs[0].id, lab.publics[0].addr, PORT)
        pubs.append(Node(lab, lab.publics[1], binary, tmp, "pub1", boot).started())
        nats = {}
        for name, to in (("short", 30),):
            site = lab.add_site("port", hosts=1, udp_timeout=to)
            nats[name] = Node(lab, site.hosts[0], binary, tmp, name, boot).started()
        deadline = time.monotonic() + 20
        while not all(p.id in n.peer_ids() and n.id in p.peer_ids()
                      for n in nats.values() for p in pubs):
            if time.monotonic() > deadline:
                raise Fail("the edges to the public nodes did not come up")
            time.sleep(0.2)
        down0 = {k: n.stat("edges_down") for k, n in nats.items()}
        for p in pubs + list(nats.values()):
            print("# %-5s %s" % (p.name, p.cmd("nat", ("nat ",))))
        print("# edges up behind a port-restricted NAT with a 30 s UDP mapping timeout; idle for "
              "%.0f s" % idle)
        t0 = time.monotonic()
        alive = True
        while time.monotonic() - t0 < idle:
            time.sleep(min(30.0, idle - (time.monotonic() - t0)))
            up = {k: all(p.id in n.peer_ids() for p in pubs) for k, n in nats.items()}
            alive &= all(up.values())
            print("# %4.0f s: %s" % (time.monotonic() - t0, "  ".join(
                "%s: %s, %s" % (k, "up" if up[k] else "DOWN",
                                " ".join(nats[k].cmd("nat", ("nat ",)).split()[-3:]))
                for k in nats)))
        ok = alive
        for k, n in nats.items():
            sides = [(p.name, p.id in n.peer_ids(), n.id in p.peer_ids()) for p in pubs]
            up = all(a and b for _, a, b in sides)
            if not up:
                print("# edges: " + ", ".join("%s: %s->%s %s, back %s" % (
                    name, k, name, "up" if a else "DOWN", "up" if b else "DOWN")
                    for name, a, b in sides))
            down = n.stat("edges_down") - down0[k]
            pings, probes = n.stat("pings_tx"), n.stat("ka_probes_tx")
            survived, failed = n.stat("ka_probes_survived"), n.stat("ka_probes_failed")
            f = dict(kv.split("=", 1) for kv in n.cmd("nat", ("nat ",)).split() if "=" in kv)
            ka = float(f["keepalive"])
            sent = time.monotonic()
            r = pubs[0].cmd("send %s after-idle" % n.id, ("ok", "error "))
            got = None
            while time.monotonic() - sent < 5:
                with n.lock:
                    if any(t == "after-idle" for _, t in n.recvs):
                        got = time.monotonic() - sent
                        break
                time.sleep(0.005)
            learned = ka + TICK <= 30
            print("nat keepalive %s: after %.0f s idle behind a %d s mapping timeout: edges %s, "
                  "edges down %d, pings sent %d, probes %d (survived %d, failed %d), keepalive "
                  "%.1f s (ka-survived %s, ka-failed %s) %s, routed message %s" %
                  (k, idle, 30 if k == "short" else 120, "up" if up else "DOWN", down, pings,
                   probes, survived, failed, ka, f["ka-survived"], f["ka-failed"],
                   "within the timeout" if learned else "OVER THE TIMEOUT",
                   "arrived in %.1f ms" % (got * 1000) if got is not None
                   else "LOST (%s)" % r))
            ok &= up and down == 0 and got is not None and got < 0.05 and learned
        for n in pubs + list(nats.values()):
            n.quit()
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)
