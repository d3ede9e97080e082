#!/usr/bin/env python3
"""natlab.py — a NAT lab of Linux network namespaces and nftables routers (RFC 4787 types).

Python 3 stdlib only; needs root, iproute2 (`ip netns`) and nftables (`nft`); `conntrack`
(conntrack-tools) only for the debugging helpers. See tests/nat/README.md for the topology.

Library (what the nat tests call):

    from natlab import Lab, LabUnavailable
    with Lab(publics=3) as lab:                      # builds "internet" + pub1..pub3
        a = lab.add_site("port", hosts=1)            # router + host(s) behind it
        b = lab.add_site("sym", udp_timeout=30)
        p = lab.popen(a.hosts[0], ["nodenet-node", "-addr", "0.0.0.0:4242"], stdin=PIPE)
        lab.popen(lab.publics[0], [...]); lab.run(b.router, ["nft", "list", "ruleset"])
        lab.lift(b); lab.restore(b)                  # open / close the site's filter
        lab.counters(b); lab.conntrack(b)            # debugging
    # leaving the block (or an exception, SIGINT/SIGTERM/SIGHUP, interpreter exit) kills every
    # process started in the lab's namespaces and deletes every namespace the lab made.

Site kinds (mapping / filtering per RFC 4787): public, full, addr, port, sym, firewall,
udp-out-only (see KINDS). Isolation: no veth into the root namespace; only routes to
100.64.0.0/10 (and the sites' own LANs); the transit namespace blackholes RFC 1918 space and
drops (and counts) any forwarded packet with a source or destination outside 100.64.0.0/10;
IPv6 is off on every lab link. Every namespace is named <tag><role> with a per-run tag
`nnlab-<pid>-<random>-`; /run/nnlab/<tag>.lock is flocked while the run lives, so
`natlab.py cleanup --stale` removes only leftovers of runs that are gone.

CLI: natlab.py check | up [--site KIND[:HOSTS[:TIMEOUT]]]... | pair A B [--mode ..] [--repeat N]
     | list | cleanup --stale [--dry-run]
"""
import argparse
import atexit
import fcntl
import ipaddress
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, "udpprobe.py")

PREFIX = "nnlab-"
TAG_RE = re.compile(r"^(nnlab-(\d+)-([0-9a-f]+)-)")
NETNS_DIR = "/run/netns"
LOCK_DIR = "/run/nnlab"

KINDS = ("public", "full", "addr", "port", "sym", "firewall", "udp-out-only")
KIND_HELP = {
    "public": "no NAT, no filter (hosts have public addresses)",
    "full": "full cone: endpoint-independent mapping and filtering (EIM/EIF)",
    "addr": "address-restricted cone: EIM, address-dependent filtering (ADF)",
    "port": "port-restricted cone: EIM, address-and-port-dependent filtering (APDF)",
    "sym": "symmetric: endpoint-dependent mapping, random ports (masquerade fully-random), APDF",
    "firewall": "no NAT, stateful firewall: inbound only established/related (APDF)",
    "udp-out-only": "firewall that lets UDP out only to an allowlist of addresses",
}
NAT_KINDS = ("full", "addr", "port", "sym")
LAB_NET = ipaddress.ip_network("100.64.0.0/10")
RFC1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
MAX_PUBLICS = 99
MAX_SITES = 99
DEFAULT_UDP_TIMEOUT = 30
RENDEZVOUS_PORT = 3478

# ip and nft live in /usr/sbin or /sbin, which a CI or sudo environment may leave off PATH.
for _d in ("/usr/local/sbin", "/usr/sbin", "/sbin"):
    if _d not in os.environ.get("PATH", "").split(":"):
        os.environ["PATH"] = os.environ.get("PATH", "/usr/bin:/bin") + ":" + _d


class LabUnavailable(RuntimeError):
    """The lab cannot run here (not root, no `ip netns`, no nft). Tests must FAIL on it."""


class LabError(RuntimeError):
    """A lab command failed."""


def check_environment():
    """Raise LabUnavailable, naming every missing piece, unless the lab can run here."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not running as root (euid %d)" % os.geteuid())
    for tool, pkg in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            problems.append("`%s` not found (Debian package %s; scripts/setup.sh installs it)"
                            % (tool, pkg))
    if not problems:
        r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append("`ip netns list` failed: %s" % r.stderr.strip())
    if problems:
        raise LabUnavailable("NAT lab unavailable: " + "; ".join(problems))


def _sysctl_script(values):
    """A sh script writing {"net.a.b": v} to /proc/sys of the namespace it runs in."""
    return " && ".join("echo %s > /proc/sys/%s" % (int(v), k.replace(".", "/"))
                       for k, v in values.items())


def sysctl_path(key):
    return "/proc/sys/" + key.replace(".", "/")


def _run(argv, input=None, check=True, timeout=30):
    r = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise LabError("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                              (r.stderr or r.stdout).strip()))
    return r


# ------------------------------------------------------------------------ topology objects
class Host:
    """An end host: its namespace `ns`, its address `addr`, its site (None for public hosts)."""

    def __init__(self, name, ns, addr, gateway, site=None):
        self.name, self.ns, self.addr, self.gateway, self.site = name, ns, addr, gateway, site

    def __repr__(self):
        return "Host(%s %s in %s)" % (self.name, self.addr, self.ns)


class Site:
    """A router namespace `router` with host namespaces behind it.

    wan: the router's public address (100.64.(100+i).2); lan: the LAN prefix (10.0.i.0/24 for
    NAT kinds, 100.96.i.0/24 for public, firewall and udp-out-only); hosts: Host objects."""

    def __init__(self, lab, index, kind, router, udp_timeout, allow, accept_dnat=False):
        self.lab, self.index, self.kind, self.router = lab, index, kind, router
        self.accept_dnat = accept_dnat
        self.name = "s%d" % index
        self.udp_timeout = udp_timeout
        self.allow = list(allow)
        self.lifted = False
        self.wan = "100.64.%d.2" % (100 + index)
        self.wan_gw = "100.64.%d.1" % (100 + index)
        if kind in NAT_KINDS:
            self.lan = "10.0.%d.0/24" % index
            self.lan_gw = "10.0.%d.1" % index
        else:
            self.lan = "100.96.%d.0/24" % index
            self.lan_gw = "100.96.%d.1" % index
        self.hosts = []

    @property
    def nat(self):
        return self.kind in NAT_KINDS

    def __repr__(self):
        return "Site(%s %s wan %s lan %s)" % (self.name, self.kind, self.wan, self.lan)


def router_rules(site):
    """The nftables ruleset of a site's router (None for `public`: a router without rules)."""
    k, t = site.kind, int(site.udp_timeout)
    if k == "public":
        return None
    L = ["table ip nnlab {",
         "  counter in_drop {", "  }",
         "  counter fwd_drop {", "  }"]
    if k == "udp-out-only":
        L += ["  counter uoo_block {", "  }",
              "  set allow {", "    type ipv4_addr; flags interval;"]
        if site.allow:
            L.append("    elements = { %s }" % ", ".join(site.allow))
        L.append("  }")
    if k in ("full", "addr"):
        # public port -> (private address . private port), refreshed by outbound packets
        L += ["  map fcmap {",
              "    type inet_service : ipv4_addr . inet_service; flags timeout; timeout %ds;" % t,
              "  }"]
    if k == "addr":
        # (public port . remote address) pairs we sent to: the address-dependent filter
        L += ["  set perm {",
              "    type inet_service . ipv4_addr; flags timeout; timeout %ds;" % t, "  }"]
    L += ["  chain lift {"] + (["    accept"] if site.lifted else []) + ["  }"]
    if k in NAT_KINDS:
        L += ["  chain postrouting {",
              "    type nat hook postrouting priority srcnat; policy accept;",
              '    oifname "wan" masquerade%s' % (" fully-random" if k == "sym" else ""),
              "  }"]
    if k in ("full", "addr"):
        # after masquerade (srcnat + 10) the packet carries its public source port
        L += ["  chain record {",
              "    type filter hook postrouting priority srcnat + 10; policy accept;",
              '    oifname "wan" meta l4proto udp update @fcmap { udp sport timeout %ds : '
              "ct original ip saddr . ct original proto-src }" % t]
        if k == "addr":
            L.append('    oifname "wan" meta l4proto udp update @perm '
                     "{ udp sport . ip daddr timeout %ds }" % t)
        L += ["  }",
              "  chain prerouting {",
              "    type nat hook prerouting priority dstnat; policy accept;",
              '    iifname "wan" meta l4proto udp %sdnat ip to udp dport map @fcmap'
              % ("udp dport . ip saddr @perm " if k == "addr" else ""),
              "  }"]
    # Unsolicited inbound must not be delivered to the router itself: conntrack would
    # confirm an entry for it and our later outbound packet to that peer would be SNATed to
    # another port (the NAT turning symmetric for that peer).
    L += ["  chain input {",
          "    type filter hook input priority filter; policy accept;",
          '    iifname "wan" ct state established,related accept',
          '    iifname "wan" meta l4proto icmp accept',
          '    iifname "wan" counter name in_drop drop',
          "  }",
          "  chain forward {",
          "    type filter hook forward priority filter; policy accept;",
          "    jump lift",
          "    ct state established,related accept",
          '    iifname "lan" oifname "lan" accept']
    if k == "udp-out-only":
        L.append('    iifname "lan" oifname "wan" meta l4proto udp ip daddr != @allow '
                 "counter name uoo_block drop")
    L.append('    iifname "lan" oifname "wan" accept')
    if k in ("full", "addr") or site.accept_dnat:
        # full/addr: our own fcmap DNAT; accept_dnat: a port-mapping daemon's (miniupnpd's)
        L.append('    iifname "wan" ct status dnat accept')
    L += ["    counter name fwd_drop drop", "  }", "}"]
    return "\n".join(L) + "\n"


INET_RULES = """table ip nnlab {
  counter leak_drop {
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip saddr != 100.64.0.0/10 counter name leak_drop drop
    ip daddr != 100.64.0.0/10 counter name leak_drop drop
  }
}
"""

# ------------------------------------------------------------------------ cleanup machinery
_LABS = []
_HANDLERS_INSTALLED = False
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _teardown_all():
    for lab in list(_LABS):
        lab.teardown()


teardown_all = _teardown_all   # for a process with signal handlers of its own


def _on_signal(signum, _frame):
    try:
        print("natlab: signal %d: tearing the lab down" % signum, file=sys.stderr, flush=True)
        _teardown_all()
    finally:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _install_handlers():
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED or threading.current_thread() is not threading.main_thread():
        return
    for s in _SIGNALS:
        if signal.getsignal(s) in (signal.SIG_DFL, signal.default_int_handler, None):
            signal.signal(s, _on_signal)
    atexit.register(_teardown_all)
    _HANDLERS_INSTALLED = True


def _ns_inode(name):
    try:
        st = os.stat(os.path.join(NETNS_DIR, name))
        return (st.st_dev, st.st_ino)
    except OSError:
        return None


def _pids_in(namespaces):
    """pids of processes whose network namespace is one of `namespaces` (names)."""
    want = {i for i in (_ns_inode(n) for n in namespaces) if i}
    pids = []
    if not want:
        return pids
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            st = os.stat("/proc/%s/ns/net" % d)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in want:
            pids.append(int(d))
    return pids


def _kill_and_delete(namespaces):
    """SIGKILL every process inside `namespaces`, then delete them. Returns the names deleted."""
    for _ in range(3):
        pids = _pids_in(namespaces)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    deleted = []
    for ns in namespaces:
        if not os.path.exists(os.path.join(NETNS_DIR, ns)):
            continue
        r = subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True)
        if r.returncode == 0:
            deleted.append(ns)
        else:
            print("natlab: could not delete netns %s: %s" % (ns, r.stderr.strip()),
                  file=sys.stderr)
    return deleted


def lab_namespaces():
    """{tag: [namespace names]} of every nnlab namespace on the machine."""
    try:
        names = sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        names = []
    out = {}
    for n in names:
        m = TAG_RE.match(n)
        if m:
            out.setdefault(m.group(1), []).append(n)
    return out


def tag_alive(tag):
    """True while the run that owns `tag` lives (its lock is held; without a lock file: its
    pid exists). A run in another pid namespace is judged by its lock alone."""
    m = TAG_RE.match(tag)
    lock = os.path.join(LOCK_DIR, tag.rstrip("-") + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        fd = None
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
    pid = int(m.group(2)) if m else -1
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def cleanup_stale(dry_run=False, log=print):
    """Remove the namespaces (and processes inside them) of nnlab runs that are gone."""
    removed = []
    for tag, names in lab_namespaces().items():
        if tag_alive(tag):
            continue
        log("natlab: stale run %s: %s %d namespace(s)" % (tag, "would remove" if dry_run
                                                          else "removing", len(names)))
        removed += names if dry_run else _kill_and_delete(names)
    if not dry_run and os.path.isdir(LOCK_DIR):
        for f in os.listdir(LOCK_DIR):
            if f.endswith(".lock") and not tag_alive(f[:-5] + "-"):
                try:
                    os.unlink(os.path.join(LOCK_DIR, f))
                except OSError:
                    pass
    return removed


# ------------------------------------------------------------------------ the lab
class Lab:
    """A running NAT lab. Building is eager: the constructor makes the transit namespace and
    the public hosts, add_site() makes a site at once."""

    def __init__(self, publics=3, tag=None, signals=True):
        check_environment()
        if not 1 <= publics <= MAX_PUBLICS:
            raise ValueError("publics must be 1..%d" % MAX_PUBLICS)
        self.tag = tag or "%s%d-%s-" % (PREFIX, os.getpid(), secrets.token_hex(3))
        if not TAG_RE.match(self.tag):
            raise ValueError("tag must look like nnlab-<pid>-<hex>-")
        self.namespaces = []   # every namespace this lab made (or is making), in order
        self.procs = []
        self.sites = []
        self.publics = []
        self._torn = False
        self._lockfd = None
        self._lockpath = os.path.join(LOCK_DIR, self.tag.rstrip("-") + ".lock")
        os.makedirs(LOCK_DIR, exist_ok=True)
        fd = os.open(self._lockpath, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"%d\n" % os.getpid())
        self._lockfd = fd
        _LABS.append(self)
        if signals:
            _install_handlers()
        try:
            self.inet = self._ns("inet")
            self._mkns([self.inet])
            self._ns_config(self.inet, {"net.ipv4.ip_forward": 1}, INET_RULES)
            self._ip(self.inet, ["link set lo up"] +
                     ["route add blackhole %s" % n for n in RFC1918])
            for k in range(1, publics + 1):
                self._add_public(k)
        except BaseException:
            self.teardown()
            raise

    # -- context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    # -- low level
    def _ns(self, role):
        return self.tag + role

    def _mkns(self, names):
        self.namespaces.extend(names)   # recorded first: a crash right after still cleans up
        _run(["ip", "-batch", "-"], input="".join("netns add %s\n" % n for n in names))

    def _ns_config(self, ns, sysctls, rules=None):
        s = {"net.ipv6.conf.default.disable_ipv6": 1}
        s.update(sysctls)
        script = _sysctl_script(s)
        if rules:
            script += " && nft -f -"
        _run(["ip", "netns", "exec", ns, "sh", "-c", script], input=rules or "")

    def _ip(self, ns, lines):
        _run(["ip", "-n", ns, "-batch", "-"], input="".join(l + "\n" for l in lines))

    def _add_public(self, k):
        ns = self._ns("pub%d" % k)
        self._mkns([ns])
        self._ns_config(ns, {})
        addr, gw = "100.64.%d.2" % k, "100.64.%d.1" % k
        self._ip(self.inet, ["link add p%d type veth peer name eth0 netns %s" % (k, ns),
                             "addr add %s/24 dev p%d" % (gw, k), "link set p%d up" % k])
        self._ip(ns, ["link set lo up", "addr add %s/24 dev eth0" % addr, "link set eth0 up",
                      "route add %s via %s" % (LAB_NET, gw)])
        h = Host("pub%d" % k, ns, addr, gw)
        self.publics.append(h)
        return h

    def add_site(self, kind, hosts=1, udp_timeout=DEFAULT_UDP_TIMEOUT, allow=None,
                 accept_dnat=False):
        """Build a site: a router of `kind` (see KINDS) and `hosts` hosts behind it.
        udp_timeout: the UDP mapping timeout in seconds (conntrack + nft map/set timeouts).
        allow: for udp-out-only, the addresses/prefixes UDP may go to (default: the public
        hosts). accept_dnat: the router forwards inbound packets that some other table's rule
        DNATed (a port-mapping daemon in the router, e.g. miniupnpd); off, only established
        flows (and, for full/addr, the NAT's own mappings) get in."""
        if self._torn:
            raise LabError("lab already torn down")
        if kind not in KINDS:
            raise ValueError("unknown site kind %r (one of %s)" % (kind, ", ".join(KINDS)))
        if len(self.sites) >= MAX_SITES:
            raise ValueError("at most %d sites" % MAX_SITES)
        if not 1 <= hosts <= 200:
            raise ValueError("hosts must be 1..200")
        if allow is None:
            allow = [h.addr for h in self.publics] if kind == "udp-out-only" else []
        for a in allow:
            if not ipaddress.ip_network(a, strict=False).subnet_of(LAB_NET):
                raise ValueError("allowlist entry %s is outside the lab (100.64.0.0/10)" % a)
        i = len(self.sites) + 1
        site = Site(self, i, kind, self._ns("s%dr" % i), int(udp_timeout), allow, accept_dnat)
        hns = [self._ns("s%dh%d" % (i, j)) for j in range(1, hosts + 1)]
        self._mkns([site.router] + hns)
        self._ns_config(site.router, {
            "net.ipv4.ip_forward": 1,
            "net.netfilter.nf_conntrack_udp_timeout": site.udp_timeout,
            "net.netfilter.nf_conntrack_udp_timeout_stream": site.udp_timeout,
            "net.bridge.bridge-nf-call-iptables": 0}, router_rules(site))
        for ns in hns:
            self._ns_config(ns, {})
        inet_lines = ["link add s%d type veth peer name wan netns %s" % (i, site.router),
                      "addr add %s/24 dev s%d" % (site.wan_gw, i), "link set s%d up" % i]
        self._ip(self.inet, inet_lines)
        net = ipaddress.ip_network(site.lan)
        rl = ["link set lo up", "addr add %s/24 dev wan" % site.wan, "link set wan up",
              "link add lan type bridge", "addr add %s/%d dev lan" % (site.lan_gw, net.prefixlen),
              "link set lan up", "route add %s via %s" % (LAB_NET, site.wan_gw)]
        for j, ns in enumerate(hns, 1):
            rl += ["link add h%d type veth peer name eth0 netns %s" % (j, ns),
                   "link set h%d master lan" % j, "link set h%d up" % j]
        self._ip(site.router, rl)
        if not site.nat:
            self._ip(self.inet, ["route add %s via %s" % (site.lan, site.wan)])
        for j, ns in enumerate(hns, 1):
            addr = str(net.network_address + 1 + j)
            self._ip(ns, ["link set lo up", "addr add %s/%d dev eth0" % (addr, net.prefixlen),
                          "link set eth0 up", "route add %s via %s" % (LAB_NET, site.lan_gw)])
            site.hosts.append(Host("s%dh%d" % (i, j), ns, addr, site.lan_gw, site))
        self.sites.append(site)
        return site

    # -- running things
    @staticmethod
    def ns_of(where):
        if isinstance(where, Host):
            return where.ns
        if isinstance(where, Site):
            return where.router
        return where

    def _own(self, ns):
        if ns not in self.namespaces:
            raise LabError("%s is not a namespace of this lab" % ns)
        return ns

    def popen(self, where, argv, **kw):
        """Start argv inside a lab namespace (Host, Site = its router, or a namespace name).
        Returns the Popen; the process gets its own session and is killed at teardown."""
        ns = self._own(self.ns_of(where))
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(argv), **kw)
        self.procs.append((p, kw["start_new_session"]))
        return p

    def run(self, where, argv, check=True, timeout=30, input=None):
        """Run argv inside a lab namespace to completion; returns the CompletedProcess (text)."""
        ns = self._own(self.ns_of(where))
        return _run(["ip", "netns", "exec", ns] + list(argv), input=input, check=check,
                    timeout=timeout)

    def nft(self, where, script):
        """Apply an nft script (`nft -f -`) inside a lab namespace."""
        return self.run(where, ["nft", "-f", "-"], input=script)

    # -- runtime controls
    def lift(self, site):
        """Open a site's filter: its router forwards everything (both directions, including
        UDP to addresses off a udp-out-only allowlist). NAT mapping is unchanged, and a NATed
        router still drops unsolicited inbound for its own address. restore() undoes it."""
        if site.kind != "public" and not site.lifted:
            self.nft(site, "add rule ip nnlab lift accept\n")
        site.lifted = True

    def restore(self, site, flush_conntrack=False):
        """Undo lift(). Flows let through meanwhile stay established unless flush_conntrack
        (which also forgets every NAT mapping of the router)."""
        if site.kind != "public" and site.lifted:
            self.nft(site, "flush chain ip nnlab lift\n")
        site.lifted = False
        if flush_conntrack:
            self.run(site, ["conntrack", "-F"], check=False)

    def allow(self, site, addr):
        """Add an address/prefix to a udp-out-only site's allowlist."""
        self._check_uoo(site, addr)
        self.nft(site, "add element ip nnlab allow { %s }\n" % addr)
        site.allow.append(addr)

    def disallow(self, site, addr):
        self._check_uoo(site, addr)
        self.nft(site, "delete element ip nnlab allow { %s }\n" % addr)
        site.allow.remove(addr)

    @staticmethod
    def _check_uoo(site, addr):
        if site.kind != "udp-out-only":
            raise LabError("%s is not a udp-out-only site" % site.name)
        if not ipaddress.ip_network(addr, strict=False).subnet_of(LAB_NET):
            raise ValueError("%s is outside the lab" % addr)

    def set_udp_timeout(self, site, seconds):
        """Change a router's UDP mapping timeout. Reloads its ruleset: the full/addr cone
        tables start empty again (the next outbound packet refills them); conntrack entries
        take the new timeout at their next packet."""
        site.udp_timeout = int(seconds)
        self.run(site, ["sh", "-c", _sysctl_script({
            "net.netfilter.nf_conntrack_udp_timeout": site.udp_timeout,
            "net.netfilter.nf_conntrack_udp_timeout_stream": site.udp_timeout})])
        rules = router_rules(site)
        if rules:
            self.nft(site, "table ip nnlab {\n}\ndelete table ip nnlab\n" + rules)

    # -- debugging
    def counters(self, where):
        """{counter name: (packets, bytes)} of the nft named counters in a namespace:
        in_drop, fwd_drop, uoo_block on routers; leak_drop on the transit (lab.inet)."""
        r = self.run(where, ["nft", "-j", "list", "counters"], check=False)
        out = {}
        if r.returncode == 0 and r.stdout.strip():
            for item in json.loads(r.stdout).get("nftables", []):
                c = item.get("counter")
                if c:
                    out[c["name"]] = (c["packets"], c["bytes"])
        return out

    def ruleset(self, where):
        return self.run(where, ["nft", "list", "ruleset"]).stdout

    def conntrack(self, where, stats=False):
        """`conntrack -L` (or -S) inside a namespace, as text (needs conntrack-tools)."""
        if shutil.which("conntrack") is None:
            return "(conntrack not installed)"
        r = self.run(where, ["conntrack", "-S" if stats else "-L"], check=False)
        return r.stdout + r.stderr

    def describe(self):
        L = ["lab %s" % self.tag, "  transit %s (100.64.0.0/10 only, RFC 1918 blackholed)"
             % self.inet]
        for h in self.publics:
            L.append("  %-6s %-15s ns %s" % (h.name, h.addr, h.ns))
        for s in self.sites:
            L.append("  %-6s %-12s wan %-15s lan %-15s timeout %ds router %s"
                     % (s.name, s.kind, s.wan, s.lan, s.udp_timeout, s.router))
            for h in s.hosts:
                L.append("    %-6s %-15s ns %s" % (h.name, h.addr, h.ns))
        return "\n".join(L)

    # -- probes (tests/nat/udpprobe.py)
    def rendezvous(self, host=None, port=RENDEZVOUS_PORT, timeout=5.0):
        """Start the STUN-like rendezvous helper on a public host (default pub1); returns
        "ip:port" once it listens."""
        host = host or self.publics[0]
        p = self.popen(host, [sys.executable, PROBE, "rendezvous", "--port", str(port)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        if not _readline(p.stdout, timeout).startswith("ready"):
            raise LabError("rendezvous on %s did not start" % host.name)
        return "%s:%d" % (host.addr, port)

    def agent(self, host, timeout=5.0):
        """Start a udpprobe agent in a host's namespace; returns an Agent client."""
        return Agent(self, host, timeout)

    # -- teardown
    def teardown(self):
        """Kill every process started in the lab's namespaces and delete every namespace the
        lab made. Idempotent; safe to re-enter from a signal handler."""
        self._torn = True
        for p, own_group in self.procs:
            if p.poll() is None:
                try:
                    if own_group:
                        os.killpg(p.pid, signal.SIGKILL)
                    else:
                        p.kill()
                except (ProcessLookupError, PermissionError):
                    pass
        for p, _ in self.procs:
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        _kill_and_delete(list(self.namespaces))
        left = [n for n in self.namespaces if os.path.exists(os.path.join(NETNS_DIR, n))]
        self.namespaces = left
        if not left and self._lockfd is not None:
            try:
                os.unlink(self._lockpath)
            except OSError:
                pass
            os.close(self._lockfd)
            self._lockfd = None
        if self in _LABS and not left:
            _LABS.remove(self)
        return not left


def _readline(stream, timeout):
    """One line from a pipe within `timeout` seconds ("" on timeout or EOF)."""
    r, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if r else ""


class Agent:
    """Client of a udpprobe agent running in a lab host; results come back by tag."""

    def __init__(self, lab, host, timeout=5.0):
        self.host = host
        self.p = lab.popen(host, [sys.executable, "-u", PROBE, "agent"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = _readline(self.p.stdout, timeout)
        if '"ready"' not in line:
            raise LabError("udpprobe agent in %s did not start" % host.ns)
        self.results = {}
        self.cv = threading.Condition()
        self.n = 0
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.p.stdout:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            with self.cv:
                self.results[r.get("tag")] = r
                self.cv.notify_all()
        with self.cv:
            self.results[None] = {"ok": False, "why": "agent exited"}
            self.cv.notify_all()

    def send(self, op, **args):
        """Send one operation; returns its tag (pass it to wait())."""
        with self.cv:
            self.n += 1
            tag = args.pop("tag", None) or "%s-%d" % (op, self.n)
        args.update(op=op, tag=tag)
        try:
            self.p.stdin.write(json.dumps(args) + "\n")
            self.p.stdin.flush()
        except (BrokenPipeError, ValueError) as e:
            raise LabError("udpprobe agent in %s is gone: %s" % (self.host.ns, e)) from None
        return tag

    def wait(self, tag, timeout):
        end = time.monotonic() + timeout
        with self.cv:
            while tag not in self.results:
                left = end - time.monotonic()
                if left <= 0 or None in self.results:
                    return {"tag": tag, "ok": False,
                            "why": "no answer" if left <= 0 else "agent exited"}
                self.cv.wait(left)
            return self.results.pop(tag)

    def call(self, op, timeout=10.0, **args):
        return self.wait(self.send(op, **args), timeout)


def punch_pair(agent_a, agent_b, rdv, session, port_a, port_b, mode="sig", timeout=3.0):
    """Start a simultaneous hole punch between two agents; returns a function that waits for
    and returns (result_a, result_b)."""
    ta = agent_a.send("punch", session=session, me="A", port=port_a, mode=mode, rdv=rdv,
                      timeout=timeout)
    tb = agent_b.send("punch", session=session, me="B", port=port_b, mode=mode, rdv=rdv,
                      timeout=timeout)
    budget = timeout + 8.0

    def collect():
        end = time.monotonic() + budget
        ra = agent_a.wait(ta, max(0.1, end - time.monotonic()))
        rb = agent_b.wait(tb, max(0.1, end - time.monotonic()))
        return ra, rb
    return collect


# ------------------------------------------------------------------------ CLI
def _site_spec(s):
    parts = s.split(":")
    kind = parts[0]
    hosts = int(parts[1]) if len(parts) > 1 and parts[1] else 1
    to = int(parts[2]) if len(parts) > 2 and parts[2] else DEFAULT_UDP_TIMEOUT
    if kind not in KINDS:
        raise argparse.ArgumentTypeError("unknown kind %s (one of %s)" % (kind, ", ".join(KINDS)))
    return kind, hosts, to


def main(argv=None):
    ap = argparse.ArgumentParser(prog="natlab.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="say whether the lab can run here (exit 1 if not)")
    up = sub.add_parser("up", help="build a lab, print it, hold it until Ctrl-C / SIGTERM")
    up.add_argument("--publics", type=int, default=3)
    up.add_argument("--site", type=_site_spec, action="append", default=[],
                    metavar="KIND[:HOSTS[:TIMEOUT]]")
    up.add_argument("--hold", type=float, default=None, help="tear down after this many s")
    pr = sub.add_parser("pair", help="punch between a host behind KIND_A and one behind KIND_B")
    pr.add_argument("a", choices=KINDS)
    pr.add_argument("b", choices=KINDS)
    pr.add_argument("--mode", choices=("sig", "prflx", "both"), default="both")
    pr.add_argument("--repeat", type=int, default=1)
    pr.add_argument("--timeout", type=float, default=3.0)
    pr.add_argument("--debug", action="store_true", help="print rulesets/counters/conntrack")
    sub.add_parser("list", help="list nnlab namespaces by run, alive or stale")
    cl = sub.add_parser("cleanup", help="remove leftovers of dead runs")
    cl.add_argument("--stale", action="store_true", required=True)
    cl.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)

    if a.cmd == "list":
        for tag, names in lab_namespaces().items():
            print("%s %s %d namespace(s)" % (tag, "alive" if tag_alive(tag) else "STALE",
                                             len(names)))
        return 0
    try:
        check_environment()
    except LabUnavailable as e:
        print("*" * 72 + "\n" + str(e) + "\n" + "*" * 72, file=sys.stderr)
        return 1
    if a.cmd == "check":
        print("natlab: ok (root, ip netns, nft)")
        return 0
    if a.cmd == "cleanup":
        removed = cleanup_stale(dry_run=a.dry_run)
        print("natlab: %s %d stale namespace(s)" % ("found" if a.dry_run else "removed",
                                                   len(removed)))
        return 0
    if a.cmd == "up":
        with Lab(publics=a.publics) as lab:
            for kind, hosts, to in a.site:
                lab.add_site(kind, hosts=hosts, udp_timeout=to)
            print(lab.describe(), flush=True)
            print("run e.g.: ip netns exec %s bash   (Ctrl-C here tears it all down)"
                  % (lab.sites[0].hosts[0].ns if lab.sites else lab.publics[0].ns), flush=True)
            end = time.monotonic() + a.hold if a.hold else None
            while end is None or time.monotonic() < end:
                time.sleep(0.2)
        return 0
    # pair
    modes = ("sig", "prflx") if a.mode == "both" else (a.mode,)
    fails = 0
    with Lab(publics=1) as lab:
        sa = lab.add_site(a.a)
        sb = lab.add_site(a.b)
        print(lab.describe(), flush=True)
        rdv = lab.rendezvous()
        ga, gb = lab.agent(sa.hosts[0]), lab.agent(sb.hosts[0])
        for n in range(a.repeat):
            for m in modes:
                port = 20000 + 2 * n + (0 if m == "sig" else 10000)
                ra, rb = punch_pair(ga, gb, rdv, "cli%d%s" % (n, m), port, port, m,
                                    a.timeout)()
                ok = ra.get("ok") and rb.get("ok")
                fails += not ok
                print("%s x %s [%s] #%d: %s  A=%s  B=%s" % (a.a, a.b, m, n + 1,
                      "OK" if ok else "FAIL", json.dumps(ra), json.dumps(rb)), flush=True)
        if a.debug:
            for s in (sa, sb):
                print("--- %s (%s) counters %s" % (s.name, s.kind, lab.counters(s)))
                print(lab.ruleset(s))
                print(lab.conntrack(s))
    return 0 if fails == 0 else 3


if __name__ == "__main__":
    sys.exit(main())
