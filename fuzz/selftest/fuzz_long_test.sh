#!/bin/sh
# fuzz_long_test.sh SCRIPT BUILD CRASH_BIN HEXID_BIN HEXID_SEEDS CRASH_SEEDS
# Checks scripts/fuzz-long.sh: a clean target -> exit 0, a persistent minimised corpus that the
# next run starts from, a summary row; a crashing target -> exit 1, its artifact kept, FAIL row.
set -u
script=$1 build=$2 crash=$3 hexid=$4 hexseeds=$5 crashseeds=$6
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/out/summary.txt" 2>/dev/null; exit 1; }
printf 'hexid\t%s\t%s\tlibfuzzer\n' "$hexid" "$hexseeds" > "$tmp/clean"
FUZZ_LONG_SPECS=$tmp/clean "$script" -t 2 -b "$build" -c "$tmp/corpus" -o "$tmp/out" > "$tmp/log1" 2>&1
rc=$?; [ $rc = 0 ] || fail "clean run exit $rc"
grep -q '^hexid .* ok$' "$tmp/out/summary.txt" || fail "no ok row for hexid"
grep -q '0 crashes' "$tmp/out/summary.txt" || fail "no 0-crash line"
n1=$(ls "$tmp/corpus/hexid" | wc -l); [ "$n1" -gt 0 ] || fail "empty corpus after merge"
FUZZ_LONG_SPECS=$tmp/clean "$script" -t 1 -b "$build" -c "$tmp/corpus" -o "$tmp/out" > "$tmp/log2" 2>&1
rc=$?; [ $rc = 0 ] || fail "second clean run exit $rc"
grep -q "^hexid .* $n1->" "$tmp/out/summary.txt" || fail "second run did not start from the $n1-file corpus"
printf 'crash\t%s\t%s\tlibfuzzer\n' "$crash" "$crashseeds" >> "$tmp/clean"
FUZZ_LONG_SPECS=$tmp/clean "$script" -t 2 -b "$build" -c "$tmp/corpus" -o "$tmp/out" > "$tmp/log3" 2>&1
rc=$?; [ $rc = 1 ] || fail "crash run exit $rc, want 1"
grep -q '^crash .* FAIL rc=[1-9][0-9]* crash' "$tmp/out/summary.txt" || fail "no FAIL row for crash"
grep -q '^hexid .* ok$' "$tmp/out/summary.txt" || fail "hexid not ok in the crash run"
ls "$tmp/out/artifacts" | grep -q '^crash-crash-' || fail "no crash artifact"
"$script" -t 0 -b "$build" > /dev/null 2>&1; [ $? = 2 ] || fail "-t 0 not a usage error"
echo "fuzz-long: clean exit 0, corpus kept ($n1 files), crash exit 1 with its artifact"
