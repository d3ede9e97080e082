#!/bin/sh
# run_fuzz.sh TARGET CORPUS SECONDS MODE — run one fuzz target briefly on its seed corpus.
# libFuzzer writes new inputs into its first corpus directory, so that is a scratch copy; the
# repository's seed corpus is only read. Crashes are kept under $MESON_BUILD_ROOT/fuzz-crashes.
set -eu
target=$1 corpus=$2 secs=$3 mode=$4
[ -d "$corpus" ] || { echo "no seed corpus at $corpus" >&2; exit 1; }
[ -n "$(ls -A "$corpus")" ] || { echo "empty seed corpus at $corpus" >&2; exit 1; }
if [ "$mode" = standalone ]; then
    exec "$target" "$corpus"/*
fi
scratch=$(mktemp -d)
crashes=${MESON_BUILD_ROOT:-/tmp}/fuzz-crashes
mkdir -p "$crashes"
trap 'rm -rf "$scratch"' EXIT
"$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -error_exitcode=1 \
    -artifact_prefix="$crashes/$(basename "$target")-" "$scratch" "$corpus"
