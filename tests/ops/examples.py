#!/usr/bin/env python3
"""examples.py SRCDIR MESSENGER DAEMON — the examples use the public API only, and they run.

1. Every examples/*.c includes no project header but <nodenet.h> (no "quoted" include, no
   <kad/...>, <node/node_impl.h>, ...); meson builds them against node/ as the only project
   include directory, so an internal header would not even compile.
2. examples/messenger over real QUIC on loopback: A listens on 127.0.0.1:0, B joins through
   A's "I am <id> at <addr>" line; B sends a line to A and A one to B (retried every 0.5 s
   until the edge is up, at most 30 s), each prints "from <sender id>: <text>"; closing
   stdin makes both leave gracefully with exit 0 and no sanitizer report.
3. examples/daemon (a node on the program's own libev loop) over loopback QUIC: B joins A and
   both print "edge up <the other>"; SIGUSR1 prints "stats edges=1 ..."; SIGTERM saves B's
   contacts, prints "stopped", exit 0; B restarted *without* the bootstrap argument has its
   edge to A again (through the contacts file); both stop with exit 0.
Stdlib only; every wait is bounded; children are always killed on the way out.
"""
import os

os.environ.setdefault("NODENET_PORTMAP", "off")  # run directly: no port mapping from tests
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

CHILDREN = []


class Fail(Exception):
    pass


def check_includes(src):
    internal = set()
    for root, _, files in os.walk(src):
        top = os.path.relpath(root, src).split(os.sep)[0]
        if top.startswith(("build", ".")) and top != ".":
            continue
        for f in files:
            if f.endswith(".h") and f != "nodenet.h":
                internal.add(f)
                internal.add(os.path.relpath(os.path.join(root, f), src))
    examples = sorted(f for f in os.listdir(os.path.join(src, "examples")) if f.endswith(".c"))
    if not examples:
        raise Fail("no examples/*.c")
    for name in examples:
        text = open(os.path.join(src, "examples", name), encoding="utf-8").read()
        incs = re.findall(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', text, re.M)
        if ("<", "nodenet.h") not in incs:
            raise Fail(f"examples/{name} does not include <nodenet.h>")
        for kind, path in incs:
            if kind == '"' or path in internal or os.path.basename(path) in internal:
                raise Fail(f"examples/{name} includes {kind}{path}: only <nodenet.h> and "
                           "system headers are allowed")
    print(f"ok - {len(examples)} example(s) include only <nodenet.h> and system headers")


class Messenger:
    def __init__(self, binary, name, tmp, extra, logname=None):
        self.name = name
        self.err = open(os.path.join(tmp, f"{logname or name}.log"), "w+b")
        self.p = subprocess.Popen([binary, os.path.join(tmp, f"{name}.seed"), "127.0.0.1:0"] +
                                  extra, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, bufsize=0)
        CHILDREN.append(self.p)
        self.lines, self.lock = [], threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        m = re.match(r"I am ([0-9a-f]{64}) at (127\.0\.0\.1:[0-9]+)$",
                     self.wait(lambda l: l.startswith("I am "), 30, "I am"))
        if not m:
            raise Fail(f"{name}: bad first line")
        self.id, self.addr = m.group(1), m.group(2)

    def _read(self):
        for raw in self.p.stdout:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = [l for l in self.lines if pred(l)]
            if got:
                return got[0]
            if self.p.poll() is not None:
                raise Fail(f"{self.name} {what}: exited ({self.p.returncode})")
            time.sleep(0.05)
        raise Fail(f"{self.name} {what}: not seen in {timeout} s")

    def say(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def has(self, line):
        with self.lock:
            return line in self.lines

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")


def send_until(src, dst, text, timeout=30):
    want = f"from {src.id}: {text}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        src.say(f"{dst.id} {text}")
        t = time.monotonic() + 0.5
        while time.monotonic() < t:
            if dst.has(want):
                return
            time.sleep(0.05)
    raise Fail(f"{dst.name} never printed {want!r}; {src.name} stderr: {src.stderr()[-500:]}")


def stop(m, sig=None):
    if sig is None:
        m.p.stdin.close()
    else:
        m.p.send_signal(sig)
    rc = m.p.wait(timeout=20)
    m.reader.join(timeout=5)  # the last lines
    err = m.stderr()
    if rc != 0 or "Sanitizer" in err or "runtime error" in err:
        raise Fail(f"{m.name}: exit {rc} at the end; stderr: {err[-800:]}")


def run_daemon(binary, tmp):
    a = Messenger(binary, "da", tmp, [])
    b = Messenger(binary, "db", tmp, [f"{a.id}@{a.addr}"])
    a.wait(lambda l: l == f"edge up {b.id}", 30, "edge up B")
    b.wait(lambda l: l == f"edge up {a.id}", 30, "edge up A")
    b.p.send_signal(signal.SIGUSR1)
    b.wait(lambda l: re.fullmatch(r"stats edges=1 knowledge=[0-9]+", l), 10, "stats")
    print("ok - daemon: B joined A on the host loop, 'edge up' both ways, SIGUSR1 stats")
    stop(b, signal.SIGTERM)
    if not b.has("stopped") or not os.path.exists(os.path.join(tmp, "db.seed.contacts")):
        raise Fail(f"B: no 'stopped' line or no contacts file; {b.lines}")
    b2 = Messenger(binary, "db", tmp, [], logname="db2")
    if b2.id != b.id:
        raise Fail("B restarted with another NodeID")
    b2.wait(lambda l: l == f"edge up {a.id}", 30, "edge up A after the restart")
    print("ok - daemon: SIGTERM exit 0 with contacts saved; restarted without a bootstrap "
          "contact, B has its edge to A again")
    stop(b2, signal.SIGTERM)
    stop(a, signal.SIGTERM)


def run(src, binary, daemon, tmp):
    check_includes(src)
    a = Messenger(binary, "a", tmp, [])
    b = Messenger(binary, "b", tmp, [f"{a.id}@{a.addr}"])
    send_until(b, a, "hello from b")
    send_until(a, b, "hello from a, with spaces")
    print("ok - messenger: B joined A over loopback QUIC, a message each way, printed as "
          "'from <sender>: <text>'")
    for m in (a, b):
        m.p.stdin.close()
    for m in (b, a):
        rc = m.p.wait(timeout=20)
        err = m.stderr()
        if rc != 0 or "Sanitizer" in err or "runtime error" in err:
            raise Fail(f"{m.name}: exit {rc} after end of input; stderr: {err[-800:]}")
    print("ok - end of input: both messengers left with exit 0")
    run_daemon(daemon, tmp)


def main():
    src, binary, daemon = sys.argv[1], sys.argv[2], sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="nn-examples-") as tmp:
        try:
            run(src, binary, daemon, tmp)
            return 0
        except (Fail, subprocess.TimeoutExpired) as e:
            print(f"FAIL: {e}")
            return 1
        finally:
            for p in CHILDREN:
                if p.poll() is None:
                    p.kill()
                    p.wait()


if __name__ == "__main__":
    sys.exit(main())
