#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzz the config.json parser for SECONDS (default 60) with libFuzzer.
# Builds build-fuzz/ with clang if needed; the seed corpus
# tests/fuzz/corpus is copied, so new inputs land in build-fuzz/corpus.
# Prints the number of executions at the end; exit status non-zero when the
# fuzzer found a crash (its input is saved in build-fuzz/artifacts/).
set -eu

seconds=${1:-60}
case $seconds in
''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 1 ;;
esac

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build-fuzz

if [ ! -f "$build/build.ninja" ]; then
    CXX=${CXX:-clang++} meson setup "$build" "$src" -Dfuzz=true -Dtests=false
fi
ninja -C "$build" -j2 tests/fuzz/fuzz-config

mkdir -p "$build/corpus" "$build/artifacts"
cp -n "$src"/tests/fuzz/corpus/* "$build/corpus/"

log=$build/fuzz.log
status=0
"$build/tests/fuzz/fuzz-config" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict="$src/tests/fuzz/config.dict" \
    -artifact_prefix="$build/artifacts/" \
    -print_final_stats=1 \
    "$build/corpus" >"$log" 2>&1 || status=$?

tail -n 25 "$log"
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
echo "execs: ${execs:-unknown} in $seconds s (log: $log)"
exit $status
