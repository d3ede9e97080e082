#!/usr/bin/env python3
"""test_nat_portmap.py NODENET_NODE — port mapping against Debian's miniupnpd-nftables.

For each protocol (upnp, natpmp, pcp) the NAT lab (natlab.py) gets a port-restricted site whose
router runs miniupnpd (config written here: listening on the router's inside interface `lan`
only, its rules in an nftables table of its own, `inet miniupnpd`). Behind it:
  - host 1: nodenet-node -portmap <proto> on UDP 4242;
  - host 2: the control, nodenet-node on UDP 4243 without port mapping.
Both join through a public bootstrap node. Asserted:
  1. host 1's `nat` line shows `portmap=<proto> mapped=<router wan>:4242 ttl=<s>` and the
     router's nft ruleset holds miniupnpd's DNAT of UDP 4242 to host 1;
  2. a fresh public node given only `-bootstrap <host 1>@<wan>:4242` (a plain direct dial: it
     has no overlay path, so nothing can punch for it) gets an edge to host 1 — while the same
     dial to the control's <wan>:4243 gets none (the port-restricted NAT drops it: this is what
     the test would see without port mapping);
  3. with a lifetime of 8 s (-portmap-lifetime), the mapping is renewed every 4 s and
     survives three lifetimes (portmap_renewals >= 4, no failure);
  4. host 1's address changes (deleted, another one added): at its next check the node maps
     again, to the new address (a fresh public node dials the new mapping);
  5. after `quit`, host 1's mapping is gone from the router's ruleset (removed on exit).

miniupnpd and the lab's addresses: miniupnpd 2.3 refuses to forward when its external
interface has a reserved address (the lab's 100.64.0.0/10 is one) unless STUN tells it that it
is not behind a filtering NAT; so a minimal STUN responder runs on pub1 (inside the lab) and
miniupnpd is configured with ext_perform_stun=yes pointing at it. Every address used is inside
the lab's namespaces; every namespace is deleted afterwards, also on failure.
Without root / ip netns / nft / miniupnpd it fails loudly.
"""
import ipaddress
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import natlab  # noqa: E402
import natnode  # noqa: E402
from natnode import Fail  # noqa: E402

PORT, CONTROL_PORT, STUN_PORT = 4242, 4243, 3478
LIFETIME = 8  # seconds asked of the gateway: renewals every 4 s
MINIUPNPD = "/usr/sbin/miniupnpd"


def stun_server(addr, port):
    """A minimal STUN Binding responder (RFC 5389 type 0x0101 with MAPPED-ADDRESS), answering
    from the address asked (it ignores CHANGE-REQUEST; miniupnpd only checks the first answer's
    source and that all four arrive)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        data, (ip, sport) = s.recvfrom(2048)
        if len(data) < 20 or data[0:2] != b"\x00\x01":
            continue
        attr = struct.pack("!HHBBH4s", 0x0001, 8, 0, 1, sport, socket.inet_aton(ip))
        s.sendto(struct.pack("!HH", 0x0101, len(attr)) + data[4:20] + attr, (ip, sport))


def Node(lab, host, binary, tmp, name, port, extra=()):
    """A lab node on its own port, no contacts file, debug logs (natnode.Node)."""
    return natnode.Node(lab, host, binary, tmp, name, extra=["-contacts", "off"] + list(extra),
                        port=port, log_level="debug")


MINIUPNPD_NFT = """table inet miniupnpd {
  chain forward {
    type filter hook forward priority filter; policy accept;
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
"""


def start_miniupnpd(lab, site, tmp, stun_addr):
    """miniupnpd in the site's router: inside interface `lan` only, its own nft table."""
    lab.nft(site, MINIUPNPD_NFT)
    # IGMP snooping on the lab's bridge would keep SSDP multicast from the router's own socket
    lab.run(site, ["ip", "link", "set", "lan", "type", "bridge", "mcast_snooping", "0"])
    conf = os.path.join(tmp, "miniupnpd-%s.conf" % site.name)
    net = site.lan
    with open(conf, "w") as f:
        f.write("\n".join([
            "ext_ifname=wan", "listening_ip=lan", "http_port=0",
            "enable_natpmp=yes", "enable_upnp=yes",
            # PCP grants at least min_lifetime (default 120 s): the lab asks for 8 s
            "min_lifetime=4",
            "ext_perform_stun=yes", "ext_stun_host=%s" % stun_addr,
            "ext_stun_port=%d" % STUN_PORT,
            "secure_mode=yes", "system_uptime=yes", "notify_interval=60",
            "clean_ruleset_interval=600", "uuid=%s" % uuid.uuid4(),
            "upnp_table_name=miniupnpd", "upnp_nat_table_name=miniupnpd",
            "upnp_forward_chain=miniupnpd", "upnp_nat_chain=prerouting_miniupnpd",
            "upnp_nat_postrouting_chain=postrouting_miniupnpd",
            "allow 1024-65535 %s 1024-65535" % net, "deny 0-65535 0.0.0.0/0 0-65535", ""]))
    log = open(os.path.join(tmp, "miniupnpd-%s.log" % site.name), "wb")
    p = lab.popen(site, [MINIUPNPD, "-f", conf, "-d", "-4",
                         "-P", os.path.join(tmp, "miniupnpd-%s.pid" % site.name)],
                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    text = ""
    while time.monotonic() < deadline:
        with open(log.name, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        if "Port forwarding is now enabled" in text and "Listening for NAT-PMP" in text:
            return p, log.name
        if p.poll() is not None:
            break
        time.sleep(0.2)
    raise Fail("miniupnpd in %s did not come up with port forwarding enabled:\n%s"
               % (site.name, text[-2000:]))


def dnat_rules(lab, site, port):
    """miniupnpd's DNAT rules for UDP `port` in the router's ruleset (lines)."""
    rs = lab.ruleset(site)
    # miniupnpd writes the protocol as a raw match (@nh,72,8 0x11: IPv4 protocol 17, UDP)
    return [l.strip() for l in rs.splitlines()
            if "dnat" in l and ("dport %d " % port) in l and ("udp" in l or " 0x11 " in l)]


def has_edge(node, peer_id, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if peer_id in node.peer_ids():
            return True
        time.sleep(0.5)
    return False


def run_proto(lab, binary, tmp, proto, boot, stun_addr, pub_dialer, failures):
    site = lab.add_site("port", hosts=2, accept_dnat=True)
    start_miniupnpd(lab, site, tmp, stun_addr)
    for h in site.hosts:
        # NAT-PMP asks the default gateway, SSDP needs a route for its multicast: a default
        # route inside the host's namespace (the router routes only the lab's space onwards)
        lab.run(h, ["ip", "route", "add", "default", "via", site.lan_gw])
    bflag = "%s@%s:%d" % (boot.id, lab.publics[1].addr, PORT)
    a = Node(lab, site.hosts[0], binary, tmp, "%s-mapped" % proto, PORT,
             ["-portmap", proto, "-portmap-lifetime", str(LIFETIME), "-bootstrap",
              bflag]).started()
    c = Node(lab, site.hosts[1], binary, tmp, "%s-control" % proto, CONTROL_PORT,
             ["-bootstrap", bflag]).started()
    want = "%s:%d" % (site.wan, PORT)
    line, deadline = "", time.monotonic() + 20
    while time.monotonic() < deadline:
        line = a.cmd("nat", ("nat ",))
        if ("portmap=%s mapped=%s " % (proto, want)) in line:
            break
        time.sleep(0.5)
    else:
        raise Fail("%s: no mapping in 20 s: %r (%s)" % (proto, line, a.tail()))
    print("portmap %s: %s" % (proto, line))
    rules = dnat_rules(lab, site, PORT)
    if not any(site.hosts[0].addr in r for r in rules):
        failures.append("%s: no DNAT of udp %d to %s in the router's ruleset:\n%s"
                        % (proto, PORT, site.hosts[0].addr, lab.ruleset(site)))
    else:
        print("portmap %s: router rule: %s" % (proto, rules[0]))
    # 2. a public node that knows nothing but the mapped address dials it directly
    d = Node(lab, pub_dialer, binary, tmp, "%s-dialer" % proto, PORT + 10,
             ["-bootstrap", "%s@%s" % (a.id, want)]).started()
    dc = Node(lab, pub_dialer, binary, tmp, "%s-dialer-control" % proto, PORT + 11,
              ["-bootstrap", "%s@%s:%d" % (c.id, site.wan, CONTROL_PORT)]).started()
    h0 = site.hosts[0]
    t0 = time.monotonic()
    if has_edge(d, a.id, 15):
        print("portmap %s: public node dialled %s directly: edge in %.1f s"
              % (proto, want, time.monotonic() - t0))
    else:
        failures.append("%s: a public node could not dial the mapped %s (%s)"
                        % (proto, want, d.tail()))
    if has_edge(dc, c.id, 8):
        failures.append("%s: the control (no port mapping) was dialable at %s:%d: the lab's "
                        "NAT does not filter, the test proves nothing" % (proto, site.wan,
                                                                        CONTROL_PORT))
    else:
        print("portmap %s: control without mapping: not dialable (as expected)" % proto)
    # renewals: a lifetime of 8 s is renewed every 4 s; after 3 lifetimes the mapping is still
    # there and nothing failed
    time.sleep(3 * LIFETIME)
    stats = {k: a.stat(k) for k in ("portmap_attempts", "portmap_ok", "portmap_renewals",
                                    "portmap_failures")}
    print("portmap %s: after %d s: %s" % (proto, 3 * LIFETIME, stats))
    line = a.cmd("nat", ("nat ",))
    if stats["portmap_ok"] != 1 or stats["portmap_renewals"] < 4 or stats["portmap_failures"]:
        failures.append("%s: want 1 mapping, >= 4 renewals, 0 failures in %d s: %s (%s)"
                        % (proto, 3 * LIFETIME, stats, a.tail()))
    if ("portmap=%s mapped=%s " % (proto, want)) not in line or not any(
            h0.addr + ":" in r for r in dnat_rules(lab, site, PORT)):
        failures.append("%s: the mapping did not survive its renewals: %r" % (proto, line))
    # 3. the host's address changes (a new DHCP lease): the node notices at its next check
    # (every renewal, at most 30 s apart) and maps again, to the new address (the gateway picks another external port when
    # the old mapping still holds 4242)
    h = site.hosts[0]
    old_ip, new_ip = h.addr, str(ipaddress.ip_address(h.addr) + 10)
    prefix = ipaddress.ip_network(site.lan).prefixlen
    lab.run(h, ["ip", "addr", "del", "%s/%d" % (old_ip, prefix), "dev", "eth0"])
    lab.run(h, ["ip", "addr", "add", "%s/%d" % (new_ip, prefix), "dev", "eth0"])
    lab.run(h, ["ip", "route", "replace", str(natlab.LAB_NET), "via", site.lan_gw])
    lab.run(h, ["ip", "route", "replace", "default", "via", site.lan_gw])
    t0 = time.monotonic()
    port, deadline = None, time.monotonic() + 45
    while time.monotonic() < deadline:
        line = a.cmd("nat", ("nat ",))
        m = re.search(r"portmap=%s mapped=%s:(\d+) " % (proto, re.escape(site.wan)), line)
        if m and any(new_ip + ":" in r for r in dnat_rules(lab, site, int(m.group(1)))):
            port = int(m.group(1))
            break
        time.sleep(1)
    if port is None:
        failures.append("%s: no mapping to the new address %s within 45 s of the change: %r "
                        "(%s)\n%s" % (proto, new_ip, line, a.tail(), lab.ruleset(site)))
    else:
        print("portmap %s: address %s -> %s: mapped again as %s:%d in %.1f s"
              % (proto, old_ip, new_ip, site.wan, port, time.monotonic() - t0))
        d2 = Node(lab, pub_dialer, binary, tmp, "%s-dialer2" % proto, PORT + 12,
                  ["-bootstrap", "%s@%s:%d" % (a.id, site.wan, port)]).started()
        if not has_edge(d2, a.id, 15):
            failures.append("%s: a public node could not dial the new mapping %s:%d (%s)"
                            % (proto, site.wan, port, d2.tail()))
        d2.quit(timeout=10)
    # 5. removed on exit
    live = [(ip, p) for ip, p in ((old_ip, PORT), (new_ip, port)) if p]
    rc = a.quit(timeout=10)
    if rc != 0:
        failures.append("%s: the mapped node exited %d" % (proto, rc))
    ip, p = live[-1]
    left = [r for r in dnat_rules(lab, site, p) if ip + ":" in r]
    if left:
        failures.append("%s: the mapping outlived the node: %s" % (proto, left))
    else:
        print("portmap %s: mapping %s:%d -> %s removed from the router on exit"
              % (proto, site.wan, p, ip))
    with open(a.errpath, "rb") as f:
        lines = [l for l in f.read().decode("utf-8", "replace").splitlines() if "portmap:" in l]
    for l in lines[:2] + ["..."] + lines[-3:]:
        print("portmap %s: node log: %s" % (proto, l))
    # the next protocol's dialers take the same ports in the same namespace: wait for these
    for n in (c, d, dc):
        n.quit()
    for n in (c, d, dc):
        n.quit(timeout=10)


def main():
    if len(sys.argv) < 2:
        print("usage: test_nat_portmap.py NODENET_NODE", file=sys.stderr)
        return 2
    if len(sys.argv) == 4 and sys.argv[1] == "--stun":
        stun_server(sys.argv[2], int(sys.argv[3]))
        return 0
    binary = os.path.abspath(sys.argv[1])
    try:
        natlab.check_environment()
        if not os.access(MINIUPNPD, os.X_OK):
            raise natlab.LabUnavailable("%s not found (Debian package miniupnpd-nftables; "
                                        "scripts/setup.sh installs it)" % MINIUPNPD)
    except natlab.LabUnavailable as e:
        print("#" * 72 + "\n# FAIL: %s\n# the nat suite needs root, iproute2, nftables and "
              "miniupnpd-nftables\n" % e + "#" * 72)
        return 1
    failures = []
    tmp = tempfile.mkdtemp(prefix="nn-portmap-")
    ok = False
    try:
        with natlab.Lab(publics=3) as lab:
            stun = lab.publics[0]
            sp = lab.popen(stun, [sys.executable, os.path.abspath(__file__), "--stun", stun.addr,
                                  str(STUN_PORT)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, text=True)
            if not natlab._readline(sp.stdout, 5).startswith("ready"):
                raise Fail("the STUN responder did not start")
            boot = Node(lab, lab.publics[1], binary, tmp, "boot", PORT).started()
            for proto in ("upnp", "natpmp", "pcp"):
                run_proto(lab, binary, tmp, proto, boot, stun.addr, lab.publics[2], failures)
            boot.quit()
        ok = not failures
    except Fail as e:
        failures.append(str(e))
    for f in failures:
        print("FAIL: %s" % f)
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("logs kept in %s" % tmp)
    print("portmap: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
