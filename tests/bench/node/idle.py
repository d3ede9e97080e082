#!/usr/bin/env python3
"""idle.py NODENET_NODE [--nodes N | --hub E] [--settle S] [--window W] [--windows K] — idle
cost of an overlay of real nodenet-node processes on loopback (issue 16).

Starts N (default 20) nodenet-node processes on 127.0.0.1 (real QUIC, -pow 8, seeds minted in a
temporary directory; the first bootstraps the rest), lets them settle S seconds, then measures K
consecutive windows of W seconds each (default 2 x 120 s) and prints, per window:
  - bytes/s and datagrams/s per node, sent (the nodes' own UDP counters, console `stats`:
    tp_udp_tx_bytes, tp_udp_tx; every datagram is counted once, at its sender);
  - wake-ups/s per process: voluntary + non-voluntary context switches of every thread
    (/proc/<pid>/task/*/status), mean and max over the nodes;
  - CPU ms/s per node (/proc/<pid>/stat utime + stime);
  - the node counters that moved most (per node per second), to see what the traffic is.
--hub E: the hub case instead — one hub (default options, 127.0.0.1) and E leaf processes, each
on its own loopback /24 (127.100.i.1, so no per-IP or per-subnet cap of the hub applies), all
bootstrapped through the hub, so it ends up with E edges (the leaves, default options too, also
find each other); the figures above are printed for the hub alone, then for the leaves (mean),
with the hub's edge count at each window's end.
The console is read only at window boundaries (one `stats` per node), so the measurement adds
two wake-ups per node per window. Figures only: nothing is asserted (a benchmark), apart from
the overlay forming. Stdlib only; children are always killed on the way out.
"""
import argparse
import os

os.environ.setdefault("NODENET_PORTMAP", "off")  # run directly: no port mapping from tests
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "e2e"))
from e2e import CHILDREN, kill_children  # noqa: E402  (the e2e suite's process reaper)

HZ = os.sysconf("SC_CLK_TCK")


class Node:
    def __init__(self, binary, idx, tmp, bootstrap=None, addr="127.0.0.1"):
        self.idx = idx
        self.errpath = os.path.join(tmp, f"node{idx}.log")
        args = [binary, "-addr", f"{addr}:0", "-pow", "8", "-seed",
                os.path.join(tmp, f"node{idx}.seed"), "-console", "-log-level", "warn"]
        if bootstrap:
            args += ["-bootstrap", bootstrap]
        self.errfile = open(self.errpath, "wb")
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.errfile, bufsize=0)
        CHILDREN.append(self.p)
        self.q = queue.Queue()
        self.id = self.addr = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        stats = {}
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            word, _, rest = line.partition(" ")
            if word == "id":
                self.id = rest
            elif word == "listening" and self.addr is None:
                self.addr = rest
            elif word == "stat":
                name, _, v = rest.partition(" ")
                stats[name] = int(v)
            elif word == "end":
                self.q.put(stats)
                stats = {}
        self.q.put(None)

    def wait_started(self, timeout=30):
        end = time.monotonic() + timeout
        while (self.id is None or self.addr is None) and time.monotonic() < end:
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        if self.id is None or self.addr is None:
            sys.exit(f"node {self.idx} did not start (log {self.errpath})")

    def stats(self):
        self.p.stdin.write(b"stats\n")
        self.p.stdin.flush()
        r = self.q.get(timeout=10)
        if r is None:
            sys.exit(f"node {self.idx} exited (log {self.errpath})")
        return r

    def proc(self):
        """(wake-ups so far, CPU seconds so far) of the process, all threads."""
        wake = 0
        pid = self.p.pid
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/status") as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches",
                                            "nonvoluntary_ctxt_switches")):
                            wake += int(line.split()[1])
            except OSError:
                pass
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / HZ
        return wake, cpu


def snapshot(nodes):
    t = time.monotonic()
    pr = [n.proc() for n in nodes]  # before the console read, which wakes the node
    st = [n.stats() for n in nodes]
    return t, pr, st


def report(label, a, b, nodes, who="node-idle", sel=None):
    el = b[0] - a[0]
    sel = list(range(len(nodes))) if sel is None else sel
    n = len(sel)
    tx = sum(b[2][i]["tp_udp_tx_bytes"] - a[2][i]["tp_udp_tx_bytes"] for i in sel) / el / n
    pk = sum(b[2][i]["tp_udp_tx"] - a[2][i]["tp_udp_tx"] for i in sel) / el / n
    rx = sum(b[2][i].get("tp_udp_rx", 0) - a[2][i].get("tp_udp_rx", 0) for i in sel) / el / n
    # the console read at the start of the window woke each node about twice: not counted
    wk = [max(0, b[1][i][0] - a[1][i][0] - 2) / el for i in sel]
    cpu = sum(b[1][i][1] - a[1][i][1] for i in sel) / el / n * 1000
    edges = sum(b[2][i]["edges"] for i in sel) / n
    kn = sum(b[2][i]["knowledge"] for i in sel) / n
    print(f"bench {who} {label}: {n} nodes, window {el:.0f} s: {tx:.1f} B/s per node, "
          f"{pk:.3f} datagrams/s per node (sent; {rx:.3f} received), {sum(wk) / n:.2f} "
          f"wake-ups/s per process (max {max(wk):.2f}), {cpu:.3f} CPU-ms/s per node; "
          f"{edges:.1f} edges, {kn:.1f} known contacts per node")
    moved = {}
    for i in sel:
        for k, v in b[2][i].items():
            if k.startswith("tp_udp") or k in ("edges", "edges_out", "knowledge"):
                continue
            d = v - a[2][i].get(k, 0)
            if d:
                moved[k] = moved.get(k, 0) + d
    top = sorted(moved.items(), key=lambda kv: -kv[1])[:10]
    print("  counters per node per s: " +
          (", ".join(f"{k} {v / el / n:.3f}" for k, v in top) or "none moved"))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--settle", type=float, default=60)
    ap.add_argument("--window", type=float, default=120)
    ap.add_argument("--windows", type=int, default=2)
    ap.add_argument("--hub", type=int, default=0, help="the hub case: E leaves around one hub")
    a = ap.parse_args()
    if a.hub:
        a.nodes = a.hub + 1
    signal.signal(signal.SIGTERM, lambda *_: (kill_children(), sys.exit(143)))
    nodes = []
    with tempfile.TemporaryDirectory(prefix="nn-idle-") as tmp:
        try:
            first = Node(a.binary, 0, tmp)
            first.wait_started()
            nodes.append(first)
            boot = f"{first.id}@{first.addr}"
            for i in range(1, a.nodes):
                addr = f"127.100.{i}.1" if a.hub else "127.0.0.1"
                nodes.append(Node(a.binary, i, tmp, boot, addr))
            for n in nodes:
                n.wait_started()
            time.sleep(a.settle)
            snaps = [snapshot(nodes)]
            lone = sum(1 for s in snaps[0][2] if s["edges"] == 0)
            if lone:
                sys.exit(f"bench node-idle: {lone} node(s) without an edge after settling")
            for w in range(a.windows):
                time.sleep(a.window)
                snaps.append(snapshot(nodes))
                t0 = snaps[w][0] - snaps[0][0] + a.settle
                label = f"window {w + 1} ({t0:.0f}-{t0 + a.window:.0f} s after start)"
                if a.hub:
                    report(label, snaps[w], snaps[w + 1], nodes, "hub-idle", [0])
                    report(label, snaps[w], snaps[w + 1], nodes, "hub-idle leaves",
                           list(range(1, a.nodes)))
                else:
                    report(label, snaps[w], snaps[w + 1], nodes)
            for n in nodes:
                try:
                    n.p.stdin.write(b"quit\n")
                    n.p.stdin.flush()
                except OSError:
                    pass
            for n in nodes:
                try:
                    n.p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            kill_children()


if __name__ == "__main__":
    main()
