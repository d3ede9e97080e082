#!/usr/bin/env bash
# fuzz-long.sh — a long fuzz campaign over every libFuzzer target of the build.
#
#   scripts/fuzz-long.sh [-t SECONDS] [-b BUILD_DIR] [-c CORPUS_ROOT] [-o OUT_DIR] [TARGET...]
#
# Targets are the build's `fuzz-*` tests (meson introspect), so a target added to fuzz_specs is
# fuzzed here without a change; TARGET names (`frame`, `routing_envelope`, ...) pick a subset.
# Each target runs for SECONDS (flag -t, env FUZZ_LONG_SECONDS, default 3600) on a persistent
# corpus CORPUS_ROOT/<target> outside the repository (flag -c, env FUZZ_CORPUS_DIR, default
# ~/.cache/libnodenet/fuzz-corpus), seeded from the repository's fuzz/<layer>/corpus/<target>,
# which is only read. When every target has run, each corpus is minimised (libFuzzer -merge=1
# into a fresh directory that then replaces it). Crash, leak, timeout and OOM artifacts go to
# OUT_DIR/artifacts (flag -o, env FUZZ_LONG_OUT, default BUILD_DIR/fuzz-long), the logs to
# OUT_DIR/logs, the summary table to stdout and OUT_DIR/summary.txt.
# Exit status: 0 if no target crashed, 1 if any did (or left an artifact), 2 on a usage error.
#
# The build is the ASan+UBSan tree (`make build-test`, clang): the targets are built there.
# CI (`make test`, suite `fuzz`) runs only the brief variant: FUZZ_SECONDS (10) per target on a
# scratch copy of the seed corpus. This script is for long runs by hand or on a spare machine.
set -uo pipefail

secs=${FUZZ_LONG_SECONDS:-3600}
build=${FUZZ_BUILD:-build-test}
corpus_root=${FUZZ_CORPUS_DIR:-$HOME/.cache/libnodenet/fuzz-corpus}
out=${FUZZ_LONG_OUT:-}
rss_mb=${FUZZ_LONG_RSS_MB:-2048}
unit_timeout=${FUZZ_LONG_TIMEOUT:-10}

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "t:b:c:o:h" opt; do
    case $opt in
        t) secs=$OPTARG ;;
        b) build=$OPTARG ;;
        c) corpus_root=$OPTARG ;;
        o) out=$OPTARG ;;
        *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $secs =~ ^[0-9]+$ && $secs -ge 1 ]] || { echo "fuzz-long: -t wants whole seconds >= 1, got '$secs'" >&2; exit 2; }
[ -f "$build/build.ninja" ] || { echo "fuzz-long: no build at $build (make build-test)" >&2; exit 2; }
out=${out:-$build/fuzz-long}
mkdir -p "$out/artifacts" "$out/logs" "$corpus_root" || exit 2

# name <TAB> binary <TAB> seed corpus <TAB> mode, one line per fuzz target of the build.
# FUZZ_LONG_SPECS names a file of such lines instead (the script's own test uses it).
if [ -n "${FUZZ_LONG_SPECS:-}" ]; then
    specs=$(cat "$FUZZ_LONG_SPECS") || exit 2
else
specs=$(meson introspect --tests "$build" | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["name"].startswith("fuzz-") and t["cmd"][0].endswith("run_fuzz.sh") and len(t["cmd"]) >= 5:
        print("\t".join([t["name"][5:], t["cmd"][1], t["cmd"][2], t["cmd"][4]]))
') || { echo "fuzz-long: meson introspect failed on $build" >&2; exit 2; }
fi
[ -n "$specs" ] || { echo "fuzz-long: no fuzz targets in $build (fuzz disabled?)" >&2; exit 2; }

declare -a names=() bins=() seeds=()
while IFS=$'\t' read -r n b s m; do
    if [ "$m" != libfuzzer ]; then
        echo "fuzz-long: $n is built against the standalone runner (not clang): no fuzzing" >&2; exit 2
    fi
    if [ $# -gt 0 ]; then
        keep=0; for w in "$@"; do [ "$w" = "$n" ] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    names+=("$n"); bins+=("$b"); seeds+=("$s")
done <<< "$specs"
if [ ${#names[@]} -eq 0 ] || { [ $# -gt 0 ] && [ ${#names[@]} -ne $# ]; }; then
    echo "fuzz-long: unknown target among: $* (known: $(cut -f1 <<< "$specs" | tr '\n' ' '))" >&2; exit 2
fi
for b in "${bins[@]}"; do
    [ -x "$b" ] || { echo "fuzz-long: $b is not built (ninja -C $build)" >&2; exit 2; }
done

count() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
child=
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 130' INT TERM

echo "fuzz-long: ${#names[@]} targets x ${secs} s, corpus $corpus_root, out $out" >&2
declare -a execs=() cov=() before=() after=() result=()
failed=0
for i in "${!names[@]}"; do
    n=${names[$i]} b=${bins[$i]} s=${seeds[$i]}
    c=$corpus_root/$n log=$out/logs/$n.log
    mkdir -p "$c"
    before[$i]=$(count "$c")
    # Artifacts already there are from earlier runs; this run's are the new ones.
    ls "$out/artifacts" | grep "^$n-" | sort > "$out/logs/$n.pre" || true
    echo "fuzz-long: [$((i + 1))/${#names[@]}] $n for $secs s" >&2
    "$b" -max_total_time="$secs" -timeout="$unit_timeout" -rss_limit_mb="$rss_mb" \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$n-" "$c" "$s" > "$log" 2>&1 &
    child=$!; wait "$child"; rc=$?; child=
    new=$(ls "$out/artifacts" | grep "^$n-" | sort | comm -13 "$out/logs/$n.pre" - | tr '\n' ' ')
    rm -f "$out/logs/$n.pre"
    execs[$i]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov[$i]=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    if [ "$rc" -ne 0 ] || [ -n "$new" ]; then
        kinds=$(for a in $new; do a=${a#"$n"-}; echo "${a%%-*}"; done | sort -u | tr '\n' ',')
        result[$i]="FAIL rc=$rc ${kinds%,}"
        failed=1
        echo "fuzz-long: $n FAILED (exit $rc); artifacts: ${new:-none}; log $log" >&2
    else
        result[$i]=ok
    fi
done

# Corpus minimisation: what the seeds and the campaign found, merged into the smallest set that
# keeps the coverage; the merged directory replaces the corpus only if the merge succeeded.
for i in "${!names[@]}"; do
    n=${names[$i]} b=${bins[$i]} s=${seeds[$i]} c=$corpus_root/$n
    tmp=$corpus_root/.$n.merge
    rm -rf "$tmp"; mkdir -p "$tmp"
    if "$b" -merge=1 -timeout="$unit_timeout" -rss_limit_mb="$rss_mb" \
           -artifact_prefix="$out/artifacts/$n-merge-" "$tmp" "$c" "$s" >> "$out/logs/$n.log" 2>&1; then
        rm -rf "$c" && mv "$tmp" "$c"
    else
        rm -rf "$tmp"
        result[$i]="${result[$i]}; merge failed"
        failed=1
    fi
    after[$i]=$(count "$c")
done

{
    printf '%-20s %8s %12s %7s %15s  %s\n' target seconds execs cov corpus result
    for i in "${!names[@]}"; do
        printf '%-20s %8s %12s %7s %15s  %s\n' "${names[$i]}" "$secs" "${execs[$i]:-?}" "${cov[$i]:-?}" \
            "${before[$i]}->${after[$i]}" "${result[$i]}"
    done
    if [ $failed = 0 ]; then echo "fuzz-long: ${#names[@]} targets, 0 crashes"
    else echo "fuzz-long: FAILURES (artifacts in $out/artifacts, logs in $out/logs)"; fi
} | tee "$out/summary.txt"
exit $failed
