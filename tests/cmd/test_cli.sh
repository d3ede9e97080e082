#!/bin/sh
# test_cli.sh NODENET_NODE — the daemon's `id` command (golden NodeID, minting, bad input) and the
# run flags' validation (bad hex, missing @, bad port, -pow range, neither -addr nor -bootstrap,
# unreadable, sub-PoW or group/other-accessible seed: one line on stderr, exit 2), a console
# start/quit and SIGTERM.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok()   { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got [$2] want [$3]"; fi; }

# golden seed 0x01..0x20
printf '\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037\040' >"$tmp/golden.seed"
chmod 600 "$tmp/golden.seed" # a seed file open to group or others is refused (below)
out=$("$bin" id -seed "$tmp/golden.seed"); rc=$?
expect_eq "golden NodeID" "$out" "id 45cd1496465d1e9e045a991d920ec5054c312f077765113c936b4d5c6d1e6ad5"
expect_eq "golden exit code" "$rc" 0
out=$("$bin" id -seed="$tmp/golden.seed"); expect_eq "-seed=PATH form" "$out" "id 45cd1496465d1e9e045a991d920ec5054c312f077765113c936b4d5c6d1e6ad5"

# the golden NodeID has 1 leading zero bit (0x45 = 0100 0101): -pow 2 must refuse it
err=$("$bin" id -seed "$tmp/golden.seed" -pow 2 2>&1 >/dev/null); rc=$?
expect_eq "seed below PoW exits 2" "$rc" 2
case "$err" in *"below the required -pow 2"*) ok "seed below PoW message";; *) fail "seed below PoW message: $err";; esac

# mint into a fresh XDG dir: dir 0700, file 0600, PoW met, stable across runs
XDG_CONFIG_HOME="$tmp/cfg" "$bin" id -pow 6 >"$tmp/out1" 2>"$tmp/err1"; rc=$?
expect_eq "mint exit code" "$rc" 0
id1=$(cut -d' ' -f2 "$tmp/out1")
case "$id1" in 0[0-3]*) ok "minted NodeID meets -pow 6 ($id1)";; *) fail "minted NodeID $id1 does not meet -pow 6";; esac
expect_eq "seed file mode" "$(stat -c %a "$tmp/cfg/nodenet/nodenet.seed")" 600
expect_eq "seed dir mode" "$(stat -c %a "$tmp/cfg/nodenet")" 700
expect_eq "seed size" "$(stat -c %s "$tmp/cfg/nodenet/nodenet.seed")" 32
id2=$(XDG_CONFIG_HOME="$tmp/cfg" "$bin" id -pow 6 | cut -d' ' -f2)
expect_eq "second run loads the same identity" "$id2" "$id1"
# ... whatever the umask
(umask 000; XDG_CONFIG_HOME="$tmp/cfg0" "$bin" id >/dev/null 2>&1)
expect_eq "seed file mode under umask 000" "$(stat -c %a "$tmp/cfg0/nodenet/nodenet.seed")" 600
expect_eq "seed dir mode under umask 000" "$(stat -c %a "$tmp/cfg0/nodenet")" 700

# a seed file readable or writable by group or others is refused like an ssh private key:
# exit 2, one line that says how to fix it, the file untouched; chmod 600 makes it load
cp "$tmp/golden.seed" "$tmp/open.seed"
for mode in 644 640 604 660 620 602 666; do
    chmod "$mode" "$tmp/open.seed"
    err=$("$bin" id -seed "$tmp/open.seed" 2>&1 >/dev/null); rc=$?
    expect_eq "seed mode $mode exits 2" "$rc" 2
    case "$err" in *"chmod 600 $tmp/open.seed"*) ok "seed mode $mode says chmod 600 <path>";;
        *) fail "seed mode $mode message: $err";; esac
    [ "$(printf '%s' "$err" | wc -l)" -eq 0 ] && ok "seed mode $mode: one line" || fail "seed mode $mode: not one line: $err"
    expect_eq "seed mode $mode: file untouched" "$(stat -c %a "$tmp/open.seed")" "$mode"
done
chmod 400 "$tmp/open.seed"
out=$("$bin" id -seed "$tmp/open.seed"); expect_eq "seed mode 400 loads" "$out" "id $(echo "$out" | cut -d' ' -f2)"
expect_eq "seed mode 400 is the golden identity" "$out" "id 45cd1496465d1e9e045a991d920ec5054c312f077765113c936b4d5c6d1e6ad5"
chmod 644 "$tmp/open.seed"

# corrupt seed: clear error, exit 2, file untouched
printf 'short' >"$tmp/bad.seed"
err=$("$bin" id -seed "$tmp/bad.seed" 2>&1 >/dev/null); rc=$?
expect_eq "corrupt seed exits 2" "$rc" 2
case "$err" in *corrupt*) ok "corrupt seed message";; *) fail "corrupt seed message: $err";; esac
expect_eq "corrupt seed untouched" "$(cat "$tmp/bad.seed")" "short"
[ "$(printf '%s' "$err" | wc -l)" -eq 0 ] && ok "error is one line" || fail "error is one line: $err"

# bad flags
for args in "id -pow" "id -pow x" "id -pow 257" "id -pow -1" "id -nope" "id extra" "bogus" ""; do
    # shellcheck disable=SC2086
    "$bin" $args >/dev/null 2>"$tmp/err"; rc=$?
    expect_eq "bad args [$args] exit 2" "$rc" 2
    [ -s "$tmp/err" ] && ok "bad args [$args] says why" || fail "bad args [$args] silent"
done
"$bin" id -help >/dev/null; expect_eq "-help exits 0" "$?" 0

# ---- the daemon's flags: every malformed input is one line on stderr and exit 2, and nothing
# is minted before the flags are valid
H=45cd1496465d1e9e045a991d920ec5054c312f077765113c936b4d5c6d1e6ad5
O=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
bad_run() { # want-substring args...
    want=$1; shift
    XDG_CONFIG_HOME="$tmp/never" "$@" </dev/null >/dev/null 2>"$tmp/err"; rc=$?
    expect_eq "run [$*] exit 2" "$rc" 2
    case "$(cat "$tmp/err")" in *"$want"*) ok "run [$*] says \"$want\"";;
        *) fail "run [$*] message: $(cat "$tmp/err")";; esac
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok "run [$*] one line" || fail "run [$*] not one line: $(cat "$tmp/err")"
}
bad_run "give -addr (listen) or -bootstrap" "$bin" -pow 0
bad_run "give -addr (listen) or -bootstrap" "$bin" -relay -seed "$tmp/golden.seed"
bad_run "64 hex digits" "$bin" -bootstrap "abc@127.0.0.1:4242"
bad_run "64 hex digits" "$bin" -bootstrap "${O}0@127.0.0.1:4242"
bad_run "64 hex digits" "$bin" -bootstrap "zz${O#??}@127.0.0.1:4242"
bad_run "missing '@'" "$bin" -bootstrap "${O}127.0.0.1:4242"
bad_run "bad port" "$bin" -bootstrap "${O}@127.0.0.1:99999"
bad_run "bad port" "$bin" -bootstrap "${O}@127.0.0.1:0"
bad_run "bad port" "$bin" -bootstrap "${O}@127.0.0.1:42x"
bad_run "want host:port" "$bin" -bootstrap "${O}@127.0.0.1"
bad_run "empty entry" "$bin" -bootstrap "${O}@127.0.0.1:1,"
bad_run "bad port" "$bin" -addr ":65536"
bad_run "bad port" "$bin" -addr "127.0.0.1:http"
bad_run "want host:port" "$bin" -addr "4242"
bad_run "cannot resolve" "$bin" -addr "no-such-host.invalid:4242"
bad_run "want an integer 0..256" "$bin" -addr :0 -pow 257
bad_run "want an integer 0..256" "$bin" -addr :0 -pow -1
bad_run "want an integer 0..256" "$bin" -addr :0 -pow x
bad_run "flag needs an argument: -pow" "$bin" -addr :0 -pow
bad_run "flag provided but not defined: -nope" "$bin" -addr :0 -nope
bad_run "flag provided but not defined: -port" "$bin" -port 4242
bad_run "want an integer 1..1000000" "$bin" -addr :0 -max-inbound 0
bad_run "want an integer 1..1000000" "$bin" -addr :0 -max-inbound-per-ip z
bad_run "-log-level" "$bin" -addr :0 -log-level loud
bad_run "unexpected argument" "$bin" -addr :0 extra
bad_run "invalid boolean" "$bin" -addr :0 -relay=maybe
bad_run "want auto, pcp, natpmp, upnp or off" "$bin" -addr :0 -portmap yes
bad_run "for NODENET_PORTMAP" env NODENET_PORTMAP=sometimes "$bin" -addr :0
bad_run "want an integer 4..604800" "$bin" -addr :0 -portmap-lifetime 3
[ -e "$tmp/never" ] && fail "bad flags minted a seed" || ok "bad flags mint nothing"
bad_run "below the required -pow 2" "$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" -pow 2
bad_run "corrupt" "$bin" -addr 127.0.0.1:0 -seed "$tmp/bad.seed"
bad_run "chmod 600 $tmp/open.seed" "$bin" -addr 127.0.0.1:0 -seed "$tmp/open.seed"
bad_run "cannot read seed file" "$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed/x"
bad_run "this node's own NodeID" "$bin" -bootstrap "$H@127.0.0.1:4242" -seed "$tmp/golden.seed"
"$bin" -help >"$tmp/help"; expect_eq "run -help exits 0" "$?" 0
grep -q -- "-bootstrap" "$tmp/help" && ok "-help lists -bootstrap" || fail "-help lacks -bootstrap"
"$bin" --help >/dev/null; expect_eq "--help exits 0" "$?" 0

# ---- a node on loopback: console start lines, quit exits 0
printf 'stats\nquit\n' | "$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" >"$tmp/out" 2>"$tmp/err"; rc=$?
expect_eq "console quit exits 0" "$rc" 0
expect_eq "console first line" "$(sed -n 1p "$tmp/out")" "id $H"
case "$(sed -n 2p "$tmp/out")" in "listening 127.0.0.1:"[1-9]*) ok "console listening line";;
    *) fail "console listening line: $(sed -n 2p "$tmp/out")";; esac
grep -q '^stat edges 0$' "$tmp/out" && ok "console stats" || fail "console stats: $(cat "$tmp/out")"
expect_eq "console stats end" "$(tail -1 "$tmp/out")" "end"
# port mapping is off unless asked for (UPnP would multicast out of this machine), and
# -no-portmap wins over -portmap: neither run sends anything to a gateway
printf 'nat\nquit\n' | "$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" >"$tmp/out" 2>/dev/null
grep -q '^nat unknown - 0 .* portmap=off$' "$tmp/out" && ok "port mapping off by default" || fail "port mapping default: $(cat "$tmp/out")"
printf 'nat\nquit\n' | "$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" -portmap auto -no-portmap >"$tmp/out" 2>/dev/null
grep -q ' portmap=off$' "$tmp/out" && ok "-no-portmap overrides -portmap" || fail "-no-portmap: $(cat "$tmp/out")"
printf 'nat\nquit\n' | "$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" -json >"$tmp/out" 2>/dev/null
grep -q '"portmap":"off"}$' "$tmp/out" && ok "json nat portmap" || fail "json nat portmap: $(cat "$tmp/out")"
# JSON events
printf 'nope\nquit\n' | "$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" -json >"$tmp/out" 2>/dev/null
expect_eq "json id" "$(sed -n 1p "$tmp/out")" "{\"event\":\"id\",\"id\":\"$H\"}"
grep -q '^{"event":"error","name":"EINVAL","message":"unknown command' "$tmp/out" && ok "json error" || fail "json error: $(cat "$tmp/out")"
# a console pipe that closes stops the node gracefully
: | "$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" >/dev/null 2>&1; expect_eq "closed console pipe exits 0" "$?" 0
# /dev/null on stdin: the node keeps running until a signal
"$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 1
kill -0 "$pid" 2>/dev/null && ok "stdin /dev/null: still running" || fail "stdin /dev/null: exited ($(cat "$tmp/err"))"
kill -INT "$pid"; wait "$pid"; expect_eq "SIGINT exits 0" "$?" 0
grep -q "SIGINT: leaving" "$tmp/err" && ok "SIGINT logged" || fail "SIGINT log: $(cat "$tmp/err")"
# SIGTERM (console off) leaves gracefully with exit 0
"$bin" -addr 127.0.0.1:0 -seed "$tmp/golden.seed" -console=false </dev/null >/dev/null 2>"$tmp/err" &
pid=$!
sleep 1
kill -TERM "$pid"; wait "$pid"; rc=$?
expect_eq "SIGTERM exits 0" "$rc" 0
grep -q "SIGTERM: leaving" "$tmp/err" && ok "SIGTERM logged" || fail "SIGTERM log: $(cat "$tmp/err")"
grep -q "another node joins it with" "$tmp/err" && ok "first node prints the join line" || fail "no join line: $(cat "$tmp/err")"

echo "$fails failed"
[ "$fails" -eq 0 ]
