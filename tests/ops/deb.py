#!/usr/bin/env python3
"""deb.py SRCDIR VERSION — the Debian packages build from the tree and work when installed.

Copies the source tree (without build directories, .git, .deps.env) into a scratch directory
and runs `dpkg-buildpackage -us -uc -b` there, as a user would in a fresh clone (as root, after
scripts/setup.sh; the QUIC stack comes from setup.sh's cache). Then:
  - exactly libnodenet0, libnodenet-dev and nodenet-node _<version>_<arch>.deb are built;
    debian/changelog's upstream version is meson's project version (VERSION);
  - `dpkg-deb -I`: each package's name, version and architecture; nodenet-node and libnodenet0
    depend on Debian's libsodium, libev, libb2 and libc (found by dpkg-shlibdeps), never on a
    wolfSSL or ngtcp2 package (linked statically); libnodenet-dev on libnodenet0 (= version);
    libnodenet0 has a shlibs file and the ldconfig trigger; every package has md5sums;
  - `dpkg-deb -c`: the files each must hold (binary, unit, man pages, header, .so links, .pc,
    copyright, API.md, examples) and no static libnodenet.a;
  - `dpkg --root=<scratch> -i` of the three (chrootless scripts, Depends forced there and
    checked as installed here): status "ii", and the installed `nodenet-node --version` runs;
  - installed into a scratch root with `dpkg -x`: `nodenet-node --version` prints
    "nodenet-node VERSION" and -h lists its flags; no NEEDED entry names wolfSSL or ngtcp2;
    the unit's ExecStart is /usr/bin/nodenet-node; a C program compiled with the root's
    `pkg-config --cflags --libs libnodenet` against the installed header and libnodenet.so
    creates a node on 127.0.0.1:0 and prints its NodeID.
Skipped (exit 77) with the reason when dpkg-buildpackage (dpkg-dev) is missing.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

PKGS = ["libnodenet0", "libnodenet-dev", "nodenet-node"]
PROGRAM = r"""
#include <nodenet.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	uint8_t seed[NN_SEED_BYTES];
	int rc = nn_seed_mint(seed, 0, 1, NULL, NULL);
	if (rc < 0) { fprintf(stderr, "mint: %s\n", nn_strerror(rc)); return 1; }
	nn_node_opts o;
	nn_node_opts_init(&o);
	o.seed = seed;
	o.listen = "127.0.0.1:0";
	o.log_level = NN_LOG_ERROR;
	nn_node *n;
	if ((rc = nn_node_new(&n, &o, NULL)) < 0) { fprintf(stderr, "new: %s\n", nn_strerror(rc)); return 1; }
	char hex[65], addrs[4][64];
	size_t k = nn_node_addrs(n, addrs, 4);
	printf("id %s at %s\n", nn_id_format(hex, nn_node_id(n)), k ? addrs[0] : "-");
	return nn_node_free(n) == 0 ? 0 : 1;
}
"""


class Fail(Exception):
    pass


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, timeout=kw.pop("timeout", 120), **kw)
    if r.returncode != 0:
        raise Fail(f"{' '.join(args)}: exit {r.returncode}\n"
                   f"{(r.stdout + r.stderr).decode('utf-8', 'replace')[-3000:]}")
    return r.stdout.decode("utf-8", "replace")


def copy_tree(src, dst):
    def ignore(d, names):
        if os.path.abspath(d) == os.path.abspath(src):
            return [n for n in names if n.startswith(("build", ".")) or n == "fuzz-out"]
        return [n for n in names if n == "__pycache__" or
                (os.path.basename(d) == "debian" and n in ["build", "tmp"] + PKGS)]
    shutil.copytree(src, dst, ignore=ignore, symlinks=True)


def fields(info):
    out = {}
    for line in info.splitlines():
        m = re.match(r"^ ([A-Za-z-]+): (.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def check(src, version, tmp):
    tree = os.path.join(tmp, "src")
    copy_tree(src, tree)
    changelog = run(["dpkg-parsechangelog", "-l", os.path.join(tree, "debian/changelog"),
                     "-S", "Version"]).strip()
    if changelog.split("-")[0] != version:
        raise Fail(f"debian/changelog says {changelog}, meson's project version is {version}")
    arch = run(["dpkg-architecture", "-qDEB_HOST_ARCH"]).strip()
    multiarch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).strip()
    env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2", LC_ALL="C.UTF-8")
    log = os.path.join(tmp, "build.log")
    with open(log, "wb") as f:
        r = subprocess.run(["nice", "-n", "10", "dpkg-buildpackage", "-us", "-uc", "-b"],
                           cwd=tree, stdout=f, stderr=subprocess.STDOUT, env=env, timeout=1500)
    if r.returncode != 0:
        raise Fail(f"dpkg-buildpackage -us -uc -b: exit {r.returncode}\n"
                   f"{open(log, 'rb').read().decode('utf-8', 'replace')[-4000:]}")
    debs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(tmp, "*.deb")))
    want = sorted(f"{p}_{changelog}_{arch}.deb" for p in PKGS)
    if debs != want:
        raise Fail(f"built {debs}, want {want}")
    print(f"ok - dpkg-buildpackage -us -uc -b built {', '.join(debs)}")

    deb = {p: os.path.join(tmp, f"{p}_{changelog}_{arch}.deb") for p in PKGS}
    info = {p: fields(run(["dpkg-deb", "-I", deb[p]])) for p in PKGS}
    for p in PKGS:
        i = info[p]
        if (i.get("Package"), i.get("Version"), i.get("Architecture")) != (p, changelog, arch):
            raise Fail(f"{p}: dpkg-deb -I says {i}")
    for p in ("libnodenet0", "nodenet-node"):
        dep = info[p].get("Depends", "")
        for lib in ("libsodium23", "libev4", "libb2-1", "libc6"):
            if lib not in dep:
                raise Fail(f"{p}: Depends {dep!r} lacks {lib}")
        if re.search(r"wolfssl|ngtcp2", dep, re.I):
            raise Fail(f"{p}: Depends {dep!r} names the statically linked QUIC stack")
    if f"libnodenet0 (= {changelog})" not in info["libnodenet-dev"].get("Depends", ""):
        raise Fail(f"libnodenet-dev: Depends {info['libnodenet-dev'].get('Depends')!r}")
    ctl = run(["dpkg-deb", "-I", deb["libnodenet0"]])
    if " shlibs" not in ctl or " triggers" not in ctl:
        raise Fail(f"libnodenet0 has no shlibs or triggers control file:\n{ctl}")
    for p in PKGS:
        if " md5sums" not in run(["dpkg-deb", "-I", deb[p]]):
            raise Fail(f"{p} has no md5sums control file")
    print("ok - dpkg-deb -I: names, versions, Depends (libsodium23, libev4, libb2-1, libc6; no "
          "wolfSSL/ngtcp2), -dev on libnodenet0 (= version), shlibs + ldconfig trigger, md5sums")

    lib = f"usr/lib/{multiarch}"
    must = {
        "libnodenet0": [f"{lib}/libnodenet.so.0", f"{lib}/libnodenet.so.{version}",
                        "usr/share/doc/libnodenet0/copyright"],
        "libnodenet-dev": ["usr/include/nodenet.h", f"{lib}/libnodenet.so",
                           f"{lib}/pkgconfig/libnodenet.pc", "usr/share/man/man3/libnodenet.3.gz",
                           "usr/share/doc/libnodenet-dev/API.md",
                           "usr/share/doc/libnodenet-dev/examples/messenger.c",
                           "usr/share/doc/libnodenet-dev/copyright"],
        "nodenet-node": ["usr/bin/nodenet-node", "usr/lib/systemd/system/nodenet-node@.service",
                         "usr/share/man/man1/nodenet-node.1.gz",
                         "usr/share/doc/nodenet-node/copyright"],
    }
    for p in PKGS:
        listing = run(["dpkg-deb", "-c", deb[p]])
        paths = {re.sub(r" -> .*$", "", l.split(None, 5)[5])[2:] for l in listing.splitlines()}
        for m in must[p]:
            if m not in paths:
                raise Fail(f"{p}: dpkg-deb -c has no {m}:\n{listing}")
        if any(x.endswith("libnodenet.a") for x in paths):
            raise Fail(f"{p} ships libnodenet.a")
        owners = {l.split()[1] for l in listing.splitlines()}
        if owners != {"root/root"}:
            raise Fail(f"{p}: files owned by {owners}, want root/root")
    print("ok - dpkg-deb -c: every package holds its files (root/root), no libnodenet.a")

    root = os.path.join(tmp, "root")
    for p in PKGS:
        run(["dpkg", "-x", deb[p], root])
    node = os.path.join(root, "usr/bin/nodenet-node")
    out = run([node, "--version"]).strip()
    if out != f"nodenet-node {version}":
        raise Fail(f"nodenet-node --version printed {out!r}")
    helptext = run([node, "-h"])
    if "-metrics" not in helptext or "-contacts" not in helptext:
        raise Fail(f"nodenet-node -h:\n{helptext}")
    for elf in (node, os.path.join(root, lib, f"libnodenet.so.{version}")):
        needed = re.findall(r"\(NEEDED\).*\[(.*)\]", run(["readelf", "-d", elf]))
        if not needed or any(re.search(r"wolfssl|ngtcp2", n, re.I) for n in needed):
            raise Fail(f"{elf}: NEEDED {needed}")
    unit = open(os.path.join(root, "usr/lib/systemd/system/nodenet-node@.service")).read()
    if not re.search(r"^ExecStart=/usr/bin/nodenet-node ", unit, re.M):
        raise Fail("the packaged unit does not run /usr/bin/nodenet-node")
    print(f"ok - dpkg -x into a scratch root: nodenet-node --version prints '{out}', -h works, "
          "no wolfSSL/ngtcp2 NEEDED, the unit runs /usr/bin/nodenet-node")

    # A real dpkg install into a second scratch root with its own database: unpack, maintainer
    # scripts (chrootless; they leave a foreign root's systemd alone), status "ii". The root has
    # no libc6 etc., so dependencies are forced there and checked against this system instead.
    droot = os.path.join(tmp, "dpkg-root")
    for d in ("info", "updates", "triggers"):
        os.makedirs(os.path.join(droot, "var/lib/dpkg", d))
    for f in ("status", "available"):
        open(os.path.join(droot, "var/lib/dpkg", f), "w").close()
    run(["dpkg", f"--root={droot}", "--force-script-chrootless", "--force-depends",
         "--force-not-root", "--log=/dev/null", "-i"] + [deb[p] for p in PKGS])
    status = run(["dpkg-query", f"--root={droot}", "-W", "-f",
                  "${Package} ${db:Status-Abbrev}\\n"])
    got = {l.split()[0]: l.split()[1] for l in status.splitlines() if l.strip()}
    if any(got.get(p) != "ii" for p in PKGS):
        raise Fail(f"dpkg -i into a scratch root: status {got}")
    deps = set()
    for p in ("libnodenet0", "nodenet-node"):
        deps |= {d.split()[0] for d in info[p]["Depends"].split(", ")}
    run(["dpkg-query", "-W"] + sorted(deps))  # Debian's packages, installed here
    out = run([os.path.join(droot, "usr/bin/nodenet-node"), "--version"]).strip()
    if out != f"nodenet-node {version}":
        raise Fail(f"installed nodenet-node --version printed {out!r}")
    print(f"ok - dpkg --root -i: the three packages are 'ii', their Depends "
          f"({', '.join(sorted(deps))}) are Debian packages installed here, and the installed "
          f"nodenet-node --version says '{out}'")

    prog = os.path.join(tmp, "prog.c")
    with open(prog, "w") as f:
        f.write(PROGRAM)
    pc_env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=root,
                  PKG_CONFIG_LIBDIR=os.path.join(root, lib, "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs", "libnodenet"], env=pc_env).split()
    run(["cc", "-std=c17", "-Wall", "-Werror", "-o", os.path.join(tmp, "prog"), prog] + flags)
    out = run([os.path.join(tmp, "prog")],
              env=dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, lib))).strip()
    if not re.fullmatch(r"id [0-9a-f]{64} at 127\.0\.0\.1:[0-9]+", out):
        raise Fail(f"the program built against the packages printed {out!r}")
    print(f"ok - a program built with the root's pkg-config ({' '.join(flags)}) against "
          "nodenet.h and libnodenet.so.0 starts a node")


def main():
    src, version = sys.argv[1], sys.argv[2]
    for tool in ("dpkg-buildpackage", "dpkg-deb", "dpkg-parsechangelog", "pkg-config", "cc",
                 "readelf"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (dpkg-dev, build-essential and pkg-config "
                  "come with scripts/setup.sh), so the packages cannot be built here")
            return 77
    with tempfile.TemporaryDirectory(prefix="nn-deb-") as tmp:
        try:
            check(os.path.abspath(src), version, tmp)
            return 0
        except (Fail, subprocess.TimeoutExpired) as e:
            print(f"FAIL: {e}")
            return 1


if __name__ == "__main__":
    sys.exit(main())
