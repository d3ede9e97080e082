#!/bin/sh
# test_cli.sh NODENET_NODE — the daemon's `id` command: golden NodeID, minting, bad input.
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

echo "$fails failed"
[ "$fails" -eq 0 ]
