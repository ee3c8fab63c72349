#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the libFuzzer targets (tests/fuzz/fuzz_<name>.cpp) one after the
# other, each in one process:
#   config        config.json parsing
#   exec_process  exec --process: process.json parsing, the exec'd process
#   state         state.json loading and writing back
#   seccomp       linux.seccomp compiled and compacted (never loaded)
#   procfs        /proc/self/mountinfo, /proc/PID/stat, /proc/PID/cgroup
#
#   contrib/fuzz.sh [--runs N] [SECONDS] [TARGET...]
#     SECONDS   per target (default 60); --runs N: stop after N executions
#               instead (libFuzzer's -runs; SECONDS then bounds it too)
#     TARGET    only these (default: all)
#
# Builds build-fuzz/ with clang if needed. The seed corpus
# tests/fuzz/corpus-<name>/ is copied to build-fuzz/corpus-<name>/, where
# new inputs land. Prints per target the executions and whether it
# crashed; a crash input is saved as build-fuzz/artifacts/<name>/crash-*
# (commit it as tests/fuzz/regressions/<name>/<what>, the unit tests replay
# those). Exit status non-zero when any target crashed.
set -eu

all="config exec_process state seccomp procfs"
seconds=60
runs=-1
targets=""
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=${2:?--runs needs a number}; shift 2; continue ;;
    ''|*[!0-9]*) ;;
    *) seconds=$1; shift; continue ;;
    esac
    case " $all " in
    *" $1 "*) targets="$targets $1" ;;
    *) echo "usage: $0 [--runs N] [SECONDS] [TARGET...]; targets: $all" >&2; exit 1 ;;
    esac
    shift
done
case $runs in
-1|[0-9]*) ;;
*) echo "$0: --runs: not a number: $runs" >&2; exit 1 ;;
esac
[ -n "$targets" ] || targets=$all
# With --runs alone, time is no limit (libFuzzer: 0 = none).
[ "$runs" != -1 ] && [ "$seconds" = 60 ] && seconds=0

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build-fuzz

if [ ! -f "$build/build.ninja" ]; then
    CXX=${CXX:-clang++} meson setup "$build" "$src" -Dfuzz=true -Dtests=false
fi
bins=""
for t in $targets; do
    bins="$bins tests/fuzz/fuzz-$(echo "$t" | tr _ -)"
done
# shellcheck disable=SC2086 # one word per target
ninja -C "$build" -j2 $bins

failed=0
for t in $targets; do
    case $t in
    config|exec_process) dict=config.dict; max_len=65536 ;;
    seccomp|procfs) dict=$t.dict; max_len=4096 ;;
    *) dict=$t.dict; max_len=16384 ;;
    esac
    corpus=$build/corpus-$t
    artifacts=$build/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    cp -n "$src/tests/fuzz/corpus-$t/"* "$corpus/"
    log=$build/fuzz-$t.log
    status=0
    "$build/tests/fuzz/fuzz-$(echo "$t" | tr _ -)" \
        -runs="$runs" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$max_len" -dict="$src/tests/fuzz/$dict" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 \
        "$corpus" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    if [ "$status" -eq 0 ]; then
        echo "$t: ${execs:-?} executions in ${secs:-?} s, no crash (log: $log)"
    else
        failed=$((failed + 1))
        echo "$t: CRASH (exit $status) after ${execs:-?} executions; input in $artifacts/, log: $log"
        grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" || true
    fi
done
exit $((failed > 0))
