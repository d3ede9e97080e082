"""A nodenet-node in a NAT-lab namespace, driven through its text console.

Shared by the lab tests (test_nat_*.py): one Node class that starts the daemon in a host's
namespace, reads its console on a thread (routed `recv` and `media` events are kept apart from
command answers) and asks it for peers, counters and its `nat` line; and `lab_binary`, the
common start of every test's main(). Only the console's documented output is parsed.
"""

import os

os.environ.setdefault("NODENET_PORTMAP", "off")  # run directly: no port mapping from tests
import queue
import subprocess
import sys
import threading
import time

import natlab

PORT = 4242  # every lab node listens on 0.0.0.0:PORT in its own namespace


class Fail(Exception):
    pass


def lab_binary(argv, script):
    """The node binary from argv[1], or an exit status when the test cannot run."""
    if len(argv) < 2:
        print("usage: %s NODENET_NODE" % script, file=sys.stderr)
        return None, 2
    try:
        natlab.check_environment()
    except natlab.LabUnavailable as e:
        print("#" * 72 + "\n# FAIL: %s\n# the nat suite needs root, iproute2 and nftables\n" % e +
              "#" * 72)
        return None, 1
    return os.path.abspath(argv[1]), 0


class Node:
    """One daemon; `extra` are further flags, `relay` adds -relay."""

    def __init__(self, lab, host, binary, tmp, name, bootstrap=None, extra=(), relay=False,
                 port=PORT, log_level="info"):
        self.name = name
        # NATLAB_KEEP=DIR keeps every node's log (stderr) in DIR for a post-mortem;
        # NATLAB_LOG_LEVEL overrides the level (debug logs edges up, down and replaced)
        keep = os.environ.get("NATLAB_KEEP")
        if keep:
            os.makedirs(keep, exist_ok=True)
        self.errpath = os.path.join(keep or tmp, name + ".log")
        log_level = os.environ.get("NATLAB_LOG_LEVEL", log_level)
        args = [binary, "-addr", "0.0.0.0:%d" % port, "-seed", os.path.join(tmp, name + ".seed"),
                "-console", "-log-level", log_level] + (["-relay"] if relay else [])
        if bootstrap:
            args += ["-bootstrap", bootstrap]
        args += list(extra)
        self.err = open(self.errpath, "wb")
        self.p = lab.popen(host, args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=self.err, bufsize=0)
        self.q = queue.Queue()
        self.recvs = []
        self.media = []  # (time.monotonic() when read, "media <hex> <channel> <text>")
        self.lock = threading.Lock()
        self.id = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("recv "):
                with self.lock:
                    self.recvs.append(line.split(" ", 2)[1:])
            elif line.startswith("media "):
                with self.lock:
                    self.media.append((time.monotonic(), line))
            else:
                self.q.put(line)
        self.q.put(None)

    def next_line(self, timeout, want=None):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("%s: nothing %s in %.0f s (%s)" % (self.name, want or "", timeout,
                                                              self.tail()))
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise Fail("%s exited (%s)" % (self.name, self.tail()))
            if want is None or any(line.startswith(w) for w in want):
                return line

    def started(self):
        self.id = self.next_line(20, ("id ",)).split()[1]
        return self

    def cmd(self, line, want, timeout=10):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()
        return self.next_line(timeout, want)

    def _listing(self, command, prefix):
        """The lines of a console listing that ends with `end`."""
        self.p.stdin.write((command + "\n").encode())
        self.p.stdin.flush()
        lines = []
        while True:
            line = self.next_line(10, (prefix, "end"))
            if line == "end":
                return lines
            lines.append(line)

    def peer_lines(self):
        """The console's `peers` lines, one per live edge."""
        return self._listing("peers", "peer ")

    def peer_ids(self):
        """IDs of the live edges."""
        return [line.split()[1] for line in self.peer_lines()]

    def edge_addr(self, peer_id):
        """The remote address of the live edge to peer_id, or None."""
        for line in self.peer_lines():
            f = line.split()
            if f[1] == peer_id:
                return f[2]
        return None

    def stats(self):
        """Every counter of the console's `stats`, as a dict."""
        out = {}
        for line in self._listing("stats", "stat "):
            f = line.split()
            out[f[1]] = int(f[2])
        return out

    def stat(self, name):
        """One counter (None if the node has no such counter)."""
        return self.stats().get(name)

    def quit(self, timeout=None):
        """Ask the node to leave (console `quit`); with a timeout, wait for it to exit (Fail if
        it does not). The lab kills whatever is left."""
        try:
            self.p.stdin.write(b"quit\n")
            self.p.stdin.flush()
        except OSError:
            pass
        if timeout is None:
            return None
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail("%s did not exit within %d s of quit" % (self.name, timeout))

    def tail(self, n=6):
        try:
            with open(self.errpath, "rb") as f:
                return " | ".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""


def start_publics(lab, binary, tmp, relay_first=False):
    """One node on every public host of the lab, each in its own /24, the first bootstrapping the
    others (with -relay when relay_first). Returns (nodes, the -bootstrap list of all of them)."""
    pubs = []
    for k, h in enumerate(lab.publics):
        boot = None if not pubs else "%s@%s:%d" % (pubs[0].id, lab.publics[0].addr, PORT)
        pubs.append(Node(lab, h, binary, tmp, "pub%d" % (k + 1), boot,
                         relay=relay_first and k == 0).started())
    return pubs, ",".join("%s@%s:%d" % (p.id, h.addr, PORT) for p, h in zip(pubs, lab.publics))
