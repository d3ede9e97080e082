#!/usr/bin/env bash
# scripts/setup.sh — make this machine able to build and test libnodenet.
#
# Idempotent. On a fresh Debian 12 machine (as root) it:
#   1. installs every Debian package the build, the tests (including the NAT lab's iproute2 and
#      nftables) and the fuzzers use;
#   2. provides wolfSSL 5.7.x built with QUIC and ngtcp2 1.x with its wolfSSL crypto helper:
#      qualifying system packages (found through pkg-config) are used as they are; otherwise
#      Debian 13's *source* packages are fetched with `apt-get source` (through a temporary
#      deb-src entry that is removed again) and built, static and PIC, into a cached private
#      prefix keyed by the pinned versions and flags;
#   3. writes .deps.env (PKG_CONFIG_PATH for meson) in the repository root.
# A second run does nothing and takes well under a second.
#
# Environment: NN_DEPS_CACHE  where private prefixes live (default ~/.cache/libnodenet)
#              NN_FORCE_PRIVATE_DEPS=1  ignore qualifying system packages
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${NN_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libnodenet}

# Upstream pins: major.minor only (Debian security uploads replace old revisions).
WOLFSSL_SERIES=5.7
NGTCP2_SERIES=1.
WOLFSSL_FLAGS="--enable-quic --enable-tls13 --disable-oldtls --enable-ed25519 --enable-curve25519
 --enable-certgen --enable-keygen --enable-certext --enable-alpn --enable-sni --enable-hkdf
 --enable-aesgcm --enable-aesgcm-stream --enable-chacha --enable-poly1305 --enable-session-ticket --enable-opensslextra
 --disable-examples --disable-crypttests --disable-benchmark --enable-static --disable-shared
 --with-pic"
# --enable-aesgcm-stream: without it wolfSSL's AES-GCM allocates per packet (about 3.6 heap
# allocations per forwarded frame measured by bench_quic); with it the hot path allocates nothing.
# x86-64: assembly for AES-NI/AVX (runtime CPU detection) and the SP maths for P-256/X25519;
# without them crypto in plain C dominates QUIC throughput and handshakes (about 3x slower).
if [ "$(uname -m)" = x86_64 ]; then
    WOLFSSL_FLAGS="$WOLFSSL_FLAGS --enable-intelasm --enable-aesni --enable-sp=yes --enable-sp-asm"
fi
# No configure switch sets these; they enable custom certificate extensions (the v1 NodeID
# binding) and land in the installed wolfssl/options.h.
WOLFSSL_CPPFLAGS="-DWOLFSSL_CUSTOM_OID -DHAVE_OID_ENCODING"
# wolfSSL's random numbers from libsodium (transport/quic/wolfrand.c): without it every RNG
# wolfSSL makes (one per EVP_PKEY, ~25 per QUIC handshake) runs a DRBG health test and reads a
# seed from a freshly opened /dev/urandom, about a quarter of a handshake's CPU. With a custom
# generator the Hash-DRBG must be off (wolfSSL 5.7 does not build with both), and the seed
# source (wolfSSL_RAND_poll) is the same function.
WOLFSSL_FLAGS="$WOLFSSL_FLAGS --disable-hashdrbg"
WOLFSSL_CPPFLAGS="$WOLFSSL_CPPFLAGS -DCUSTOM_RAND_GENERATE_BLOCK=nn_quic_wolf_rand"
WOLFSSL_CPPFLAGS="$WOLFSSL_CPPFLAGS -DCUSTOM_RAND_GENERATE_SEED=nn_quic_wolf_rand"
NGTCP2_FLAGS="--enable-lib-only --with-wolfssl --enable-static --disable-shared --with-pic"

DEB_PACKAGES="build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
 libsodium-dev libev-dev libb2-dev libcmocka-dev dpkg-dev autoconf automake libtool
 ca-certificates python3 iproute2 nftables conntrack groff-base systemd curl libminiupnpc-dev
 libnatpmp-dev miniupnpd-nftables"
# iproute2 and nftables: the NAT lab of the `nat` suite (tests/nat/natlab.py); conntrack: its
# debugging helpers. groff-base: the `ops` suite lints the man pages (man/); systemd: it runs
# `systemd-analyze verify` on the unit (dist/); dpkg-dev: dpkg-buildpackage for debian/; curl:
# e2e-metrics scrapes the endpoint with it too. libminiupnpc-dev, libnatpmp-dev: port mapping
# (node/portmap.c).
# miniupnpd-nftables: the gateway of the lab's port-mapping test (tests/nat/test_nat_portmap.py),
# which runs it inside a router namespace with a config file of its own. That package is only
# the binary and the nft helper scripts: it has no maintainer scripts (no postinst), no init
# script and no systemd unit, so installing it starts nothing. The service (init script, unit,
# debconf questions) is Debian's separate `miniupnpd` package, which we never install: nothing
# in this list depends on it (miniupnpd-nftables depends only on libc6, libmnl0, libnftnl11)
# and recommends are off. As a second guard, the install runs under a policy-rc.d that forbids
# starting any service (unless the machine already has a policy-rc.d of its own).

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. Debian packages
install_debian_packages() {
    local missing=()
    for p in $DEB_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); run as root or install them"
    log "installing ${missing[*]}"
    apt-get update -qq
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
        # invoke-rc.d / deb-systemd-invoke: exit 101 = "action forbidden", no service starts
        printf '#!/bin/sh\n# libnodenet setup.sh: no service starts during this install\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
    if [ "$own_policy" = 1 ]; then
        rm -f "$policy"
        trap - EXIT
    fi
    [ "$rc" -eq 0 ] || die "apt-get install failed ($rc)"
    # the lab's miniupnpd must never run as a service in the root namespace
    if dpkg-query -W -f='${Status}' miniupnpd 2>/dev/null | grep -q 'install ok installed'; then
        log "warning: Debian's miniupnpd service package is installed on this machine (not by us);"
        log "         its service may run in the root namespace: systemctl disable --now miniupnpd"
    fi
}

# ---------------------------------------------------------------- 2. QUIC stack
# True when pkg-config (with the given PKG_CONFIG_PATH) finds a qualifying stack.
stack_qualifies() {
    local pcpath=$1
    PKG_CONFIG_PATH=$pcpath pkg-config --atleast-version=1.0 libngtcp2 2>/dev/null || return 1
    PKG_CONFIG_PATH=$pcpath pkg-config --exists libngtcp2_crypto_wolfssl 2>/dev/null || return 1
    PKG_CONFIG_PATH=$pcpath pkg-config --exists wolfssl 2>/dev/null || return 1
    local tmp; tmp=$(mktemp -d)
    cat >"$tmp/t.c" <<'EOF'
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#ifndef WOLFSSL_QUIC
#error "wolfSSL without QUIC"
#endif
#ifndef WOLFSSL_CUSTOM_OID
#error "wolfSSL without custom OIDs"
#endif
int main(void) { return 0; }
EOF
    # shellcheck disable=SC2046
    cc -o "$tmp/t" "$tmp/t.c" $(PKG_CONFIG_PATH=$pcpath pkg-config --cflags wolfssl) >/dev/null 2>&1
    local rc=$?
    rm -rf "$tmp"
    return $rc
}

stack_key() {
    printf '%s|%s|%s|%s|%s' "$WOLFSSL_SERIES" "$NGTCP2_SERIES" "$WOLFSSL_FLAGS" \
        "$WOLFSSL_CPPFLAGS" "$NGTCP2_FLAGS" | sha256sum | cut -c1-12
}

srcentry=/etc/apt/sources.list.d/libnodenet-trixie-src.sources
remove_src_entry() {
    if [ -f "$srcentry" ]; then
        rm -f "$srcentry"
        apt-get update -qq >/dev/null 2>&1 || true
    fi
}

fetch_sources() {   # $1 = work dir; leaves wolfssl-*/ and ngtcp2-*/ unpacked there
    local work=$1
    [ "$(id -u)" -eq 0 ] || die "building the QUIC stack needs root once (apt-get source)"
    trap remove_src_entry EXIT
    cat >"$srcentry" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq
    # Some mirrors serve a package's tarballs but not its .dsc, so apt-get source may report a
    # failure after fetching what we need; apt has verified every file it did fetch against
    # the signed Sources index. Unpack like dpkg-source does for format 3.0 (quilt).
    local pkg
    for pkg in wolfssl ngtcp2; do
        (cd "$work" && apt-get source --download-only -qq "$pkg" >/dev/null 2>&1) || true
    done
    remove_src_entry
    trap - EXIT
    for pkg in wolfssl ngtcp2; do
        local orig deb dir
        orig=$(find "$work" -maxdepth 1 -name "${pkg}_*.orig.tar.*" ! -name '*.asc' | head -n1)
        deb=$(find "$work" -maxdepth 1 -name "${pkg}_*.debian.tar.*" | head -n1)
        [ -n "$orig" ] && [ -n "$deb" ] || die "apt-get source $pkg fetched no tarballs"
        dir="$work/$pkg-$(basename "$orig" | sed -E "s/^${pkg}_(.*)\.orig\.tar\..*$/\1/")"
        mkdir -p "$dir"
        tar -xf "$orig" -C "$dir" --strip-components=1
        tar -xf "$deb" -C "$dir"
        if [ -f "$dir/debian/patches/series" ]; then
            local patchname
            while read -r patchname _; do
                case "$patchname" in ''|'#'*) continue;; esac
                patch -s -p1 -d "$dir" <"$dir/debian/patches/$patchname" ||
                    die "$pkg: Debian patch $patchname does not apply"
            done <"$dir/debian/patches/series"
        fi
    done
}

build_stack() {   # $1 = prefix
    local prefix=$1 work
    work=$(mktemp -d /tmp/libnodenet-deps.XXXXXX)
    log "building wolfSSL ${WOLFSSL_SERIES}.x + ngtcp2 ${NGTCP2_SERIES}x into $prefix (about 90 s)"
    fetch_sources "$work"
    local wdir ndir
    wdir=$(find "$work" -maxdepth 1 -type d -name 'wolfssl-*' | head -n1)
    ndir=$(find "$work" -maxdepth 1 -type d -name 'ngtcp2-*' | head -n1)
    local wver=${wdir##*/wolfssl-} nver=${ndir##*/ngtcp2-}
    case "$wver" in "$WOLFSSL_SERIES".*) ;; *) die "wolfssl $wver is not $WOLFSSL_SERIES.x";; esac
    case "$nver" in "$NGTCP2_SERIES"*) ;; *) die "ngtcp2 $nver is not ${NGTCP2_SERIES}x";; esac

    local stage="$prefix.tmp.$$" jobs; jobs=$(nproc)
    rm -rf "$stage"
    # The RNG function wolfSSL calls (CUSTOM_RAND_GENERATE_BLOCK) is libnodenet's: wolfSSL's own
    # build sees its declaration through -include, and ngtcp2's configure, which test-links
    # wolfSSL, gets a stand-in object. Neither file is installed.
    printf '#ifndef __ASSEMBLER__\n%s\n#endif\n' \
        'int nn_quic_wolf_rand(unsigned char *out, unsigned int len);' >"$work/nnrand.h"
    printf '#include "nnrand.h"\n%s\n' \
        'int nn_quic_wolf_rand(unsigned char *out, unsigned int len) { (void)out; (void)len; return -1; }' \
        >"$work/nnrand.c"
    cc -c -o "$work/nnrand.o" "$work/nnrand.c" || die "cannot compile the RNG stand-in"
    (
        cd "$wdir"
        autoreconf -fi >/dev/null 2>&1
        # shellcheck disable=SC2086
        ./configure -q --prefix="$stage" $WOLFSSL_FLAGS \
            CPPFLAGS="$WOLFSSL_CPPFLAGS -include $work/nnrand.h" >/dev/null
        make -s -j"$jobs" >/dev/null 2>&1
        make -s install >/dev/null
    ) || die "wolfSSL build failed (in $wdir)"
    (
        cd "$ndir"
        [ -x configure ] || autoreconf -fi >/dev/null 2>&1
        # shellcheck disable=SC2086
        ./configure -q --prefix="$stage" $NGTCP2_FLAGS \
            WOLFSSL_CFLAGS="-I$stage/include" \
            WOLFSSL_LIBS="-L$stage/lib -lwolfssl $work/nnrand.o -lm -pthread" >/dev/null
        make -s -j"$jobs" >/dev/null 2>&1
        make -s install >/dev/null
    ) || die "ngtcp2 build failed (in $ndir)"
    # The .pc files were written for $stage; point them at the final prefix.
    sed -i "s|$stage|$prefix|g" "$stage"/lib/pkgconfig/*.pc
    printf 'wolfssl %s\nngtcp2 %s\nflags %s\n' "$wver" "$nver" "$(stack_key)" >"$stage/VERSIONS"
    rm -rf "$prefix"
    mv "$stage" "$prefix"
    rm -rf "$work"
    stack_qualifies "$prefix/lib/pkgconfig" || die "built stack does not qualify (no WOLFSSL_QUIC?)"
    log "built: $(tr '\n' ' ' <"$prefix/VERSIONS")"
}

provide_quic_stack() {
    local prefix pcpath
    if [ "${NN_FORCE_PRIVATE_DEPS:-0}" != 1 ] && stack_qualifies "${PKG_CONFIG_PATH:-}"; then
        pcpath=${PKG_CONFIG_PATH:-}
    else
        prefix="$cache/quic-$(stack_key)"
        [ -f "$prefix/VERSIONS" ] || build_stack "$prefix"
        pcpath="$prefix/lib/pkgconfig"
    fi
    local envfile="$here/.deps.env" want
    want="PKG_CONFIG_PATH=$pcpath"
    [ -f "$envfile" ] && [ "$(cat "$envfile")" = "$want" ] || printf '%s\n' "$want" >"$envfile"
}

install_debian_packages
provide_quic_stack
