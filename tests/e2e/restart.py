#!/usr/bin/env python3
"""restart.py NODENET_NODE — knowledge across restarts over real QUIC on loopback.

Four nodenet-node daemons (-pow 8): A listens, B, C and D join through it. D quits gracefully
(console `quit`), which saves its contacts file (default path: the seed's + ".contacts", mode
0600). Then:
  - D restarted with no -bootstrap has a live edge within one maintenance tick (5 s) of its
    start, and no "first node of a new overlay" hint;
  - D restarted with a damaged contacts file writes exactly one warning line about it, starts
    clean (no edge, the join hint) and still quits with exit 0;
  - with -contacts off, nothing is loaded or written;
  - no sanitizer report anywhere.
Stdlib only; every wait is bounded; children are always killed on the way out.
"""
import os

os.environ.setdefault("NODENET_PORTMAP", "off")  # run directly: no port mapping from tests
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

POW = 8
TICK_S = 5.0
CHILDREN = []


class Fail(Exception):
    pass


class Node:
    def __init__(self, binary, name, tmp, extra):
        self.name = name
        self.seed = os.path.join(tmp, f"{name}.seed")
        self.errpath = os.path.join(tmp, f"{name}.{len(CHILDREN)}.log")
        self.err = open(self.errpath, "wb")
        args = [binary, "-addr", "127.0.0.1:0", "-pow", str(POW), "-seed", self.seed,
                "-console"] + extra
        self.started = time.monotonic()
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, bufsize=0)
        CHILDREN.append(self.p)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.id = self.wait(lambda l: l.startswith("id "), 20, "id")[3:]
        self.addr = self.wait(lambda l: l.startswith("listening 127.0.0.1:"), 20,
                              "listening")[10:]

    def _read(self):
        for raw in self.p.stdout:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait(self, pred, timeout, what, start=0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = [l for l in self.lines[start:] if pred(l)]
            if got:
                return got[0]
            if self.p.poll() is not None:
                raise Fail(f"{self.name} {what}: exited ({self.p.returncode})")
            time.sleep(0.05)
        raise Fail(f"{self.name} {what}: not seen in {timeout} s")

    def peers(self):
        with self.lock:
            start = len(self.lines)
        self.p.stdin.write(b"peers\n")
        self.p.stdin.flush()
        self.wait(lambda l: l == "end", 10, "peers end", start)
        with self.lock:
            block = self.lines[start:]
        return [l for l in block[:block.index("end")] if l.startswith("peer ")]

    def status(self):
        with self.lock:
            start = len(self.lines)
        self.p.stdin.write(b"status\n")
        self.p.stdin.flush()
        self.wait(lambda l: l == "end", 10, "status end", start)
        with self.lock:
            block = self.lines[start:]
        return block[:block.index("end")]

    def wait_edges(self, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.peers():
                return time.monotonic()
            time.sleep(0.1)
        raise Fail(f"{self.name}: no live edge {what} (within {timeout:.1f} s)")

    def quit(self):
        self.p.stdin.write(b"quit\n")
        self.p.stdin.flush()
        rc = self.p.wait(timeout=15)
        self.err.close()
        if rc != 0:
            raise Fail(f"{self.name}: exit {rc} after quit")

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")


def no_sanitizer(tmp):
    for name in os.listdir(tmp):
        if name.endswith(".log"):
            with open(os.path.join(tmp, name), "rb") as f:
                t = f.read().decode("utf-8", "replace")
            if "ERROR: AddressSanitizer" in t or "ERROR: LeakSanitizer" in t or \
                    "runtime error:" in t:
                raise Fail(f"sanitizer report in {name}")


def run(binary, tmp):
    a = Node(binary, "a", tmp, [])
    others = []
    for name in ("b", "c", "d"):
        others.append(Node(binary, name, tmp, ["-bootstrap", f"{a.id}@{a.addr}"]))
    b, c, d = others
    for n in others:
        n.wait_edges(15, "after joining")
    time.sleep(1.0)  # let D learn B and C too
    cfile = d.seed + ".contacts"
    d.quit()
    if not os.path.exists(cfile):
        raise Fail(f"no contacts file {cfile} after a graceful stop")
    mode = stat.S_IMODE(os.stat(cfile).st_mode)
    if mode != 0o600:
        raise Fail(f"contacts file mode {mode:o}, want 600")
    print(f"ok - a graceful stop saved {os.path.getsize(cfile)} bytes to the contacts file (0600)")

    # restart without -bootstrap: live edges within one tick
    d = Node(binary, "d", tmp, [])
    t = d.wait_edges(TICK_S, "after a restart without -bootstrap")
    log = d.stderr()
    if "loaded" not in log or "first node of a new overlay" in log:
        raise Fail(f"restart log: {log!r}")
    print(f"ok - restarted without -bootstrap: a live edge {t - d.started:.2f} s after start")
    st = d.status()
    edges = [l for l in st if l.startswith("status edge ")]
    phase = [l for l in st if l.startswith("status phase ")]
    if st[0] != f"status id {d.id}" or len(phase) != 1 or "phase bootstrap" in phase[0] or \
            not edges or not any(l.startswith("status local 127.0.0.1:") for l in st):
        raise Fail(f"status after the restart: {st!r}")
    print(f"ok - status: {phase[0]!r}, {len(edges)} edge line(s)")
    d.quit()

    # a damaged file: one warning, a clean start
    with open(cfile, "r+b") as f:
        f.seek(60)
        byte = f.read(1)
        f.seek(60)
        f.write(bytes([byte[0] ^ 0xff]))
    d = Node(binary, "d", tmp, [])
    time.sleep(1.0)
    warn = [l for l in d.stderr().splitlines() if "contacts file" in l]
    if len(warn) != 1 or not warn[0].startswith("warn: ignoring the contacts file"):
        raise Fail(f"damaged file: want one warning line, got {warn!r}")
    if d.peers():
        raise Fail("damaged file: the node has edges it cannot have learned")
    if "first node of a new overlay" not in d.stderr():
        raise Fail("damaged file: no clean start")
    d.quit()
    print(f"ok - a damaged contacts file gives one warning and a clean start: {warn[0]!r}")

    # -contacts off: neither loads nor saves
    os.unlink(cfile)
    d = Node(binary, "d", tmp, ["-contacts", "off", "-bootstrap", f"{a.id}@{a.addr}"])
    d.wait_edges(15, "with -contacts off")
    d.quit()
    if os.path.exists(cfile):
        raise Fail("-contacts off wrote a contacts file")
    print("ok - -contacts off writes nothing")
    for n in (a, b, c):
        n.quit()
    no_sanitizer(tmp)
    print("ok - every node quit with exit 0, no sanitizer report")


def main():
    if len(sys.argv) != 2:
        print("usage: restart.py NODENET_NODE", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="nn_restart_")
    try:
        run(sys.argv[1], tmp)
    except (Fail, subprocess.TimeoutExpired) as e:
        print(f"FAIL: {e}")
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".log"):
                with open(os.path.join(tmp, name), "rb") as f:
                    print(f"--- {name}\n" + f.read().decode("utf-8", "replace")[-1500:])
        return 1
    finally:
        for p in CHILDREN:
            if p.poll() is None:
                p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
