#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# How each runtime's `run` and `exec` grow with the host's mount count: a
# node under an engine holds hundreds of mounts (every container's rootfs,
# shm, secrets, network namespaces). `contrib/bench.sh mounts [N] [M]` runs
# this: bench.sh's `run` and `exec` lines (N each, default 50) in a private
# mount namespace as it is, then again with M (default 500) more tmpfs
# mounts in it, and prints the medians side by side with what each runtime
# lost. The host's mounts are not touched: the extra ones live and die with
# the namespace. RUNTIMES and CRUNPP pass through to bench.sh.
set -euo pipefail

N="${1:-50}"
M="${2:-500}"
for v in "$N" "$M"; do
    case "$v" in
    '' | *[!0-9]* | 0) echo "bench-mounts.sh: N and M must be positive integers" >&2; exit 1 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench-mounts.sh: needs root (a private mount namespace)" >&2; exit 1; }
here="$(cd "$(dirname "$0")" && pwd)"

if [ "${BENCH_MOUNTS_INSIDE:-}" != 1 ]; then
    # Everything below runs in a mount namespace of its own, or not at all.
    BENCH_MOUNTS_INSIDE=1 exec unshare --mount --propagation private -- "$0" "$N" "$M"
fi

out="$(mktemp -d /tmp/crunpp-bench-mounts.XXXXXX)"
trap 'umount -R "$out/mnt" 2>/dev/null || true; rm -rf "$out"' EXIT
BENCH="run exec" "$here/bench.sh" "$N" >"$out/before.txt"
before="$(wc -l </proc/self/mountinfo)"
mkdir "$out/mnt"
mount -t tmpfs -o size=64k tmpfs "$out/mnt"
for i in $(seq "$M"); do
    mkdir "$out/mnt/$i"
    mount -t tmpfs -o size=4k tmpfs "$out/mnt/$i"
done
after="$(wc -l </proc/self/mountinfo)"
BENCH="run exec" "$here/bench.sh" "$N" >"$out/after.txt"

echo "N=$N; medians in ms with $before mounts, then with $after; what each runtime lost"
awk -v b="$before" -v a="$after" '
    FNR == 1 { file++ }
    ($1 == "run" || $1 == "exec") && NF == 5 { t[file, $1, $2] = $3 }
    END {
        printf "%-6s %-8s %9s %9s %9s\n", "line", "runtime", b " mnt", a " mnt", "lost"
        split("run exec", lines, " ")
        split("crunpp crun runc", rts, " ")
        for (i = 1; i <= 2; i++)
            for (j = 1; j <= 3; j++)
                if ((1, lines[i], rts[j]) in t && (2, lines[i], rts[j]) in t)
                    printf "%-6s %-8s %9.2f %9.2f %+9.2f\n", lines[i], rts[j], t[1, lines[i], rts[j]],
                        t[2, lines[i], rts[j]], t[2, lines[i], rts[j]] - t[1, lines[i], rts[j]]
    }' "$out/before.txt" "$out/after.txt"
