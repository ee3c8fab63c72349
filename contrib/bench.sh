#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Startup benchmark: N sequential `run` of /bin/true in a busybox bundle with
# the default `crunpp spec` config (terminal off), for crunpp, crun and runc,
# interleaved (crunpp, crun, runc, crunpp, ...). Prints each runtime's median
# milliseconds per container, the ratios crunpp/crun and crunpp/runc, and the
# peak RSS of the runtime process (ru_maxrss from wait4: the runtime and the
# children it reaped).
#
# All runs happen in one private mount namespace where the cgroup v2 mount of
# this hybrid-cgroup machine (/sys/fs/cgroup/unified) is unmounted: crun 1.8.1
# refuses hybrid cgroups. The host's mounts are not touched.
#
# Usage: contrib/bench.sh [N]     (root; CRUNPP=path overrides build/crunpp,
#                                  RUNTIMES="crunpp crun" picks a subset)
set -euo pipefail

N="${1:-100}"
case "$N" in
'' | *[!0-9]* | 0) echo "bench.sh: N must be a positive integer" >&2; exit 1 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root (private mount namespace, rootful runs)" >&2; exit 1; }

here="$(cd "$(dirname "$0")/.." && pwd)"
CRUNPP="${CRUNPP:-$here/build/crunpp}"
RUNTIMES="${RUNTIMES:-crunpp crun runc}"
[ -x "$CRUNPP" ] || { echo "bench.sh: $CRUNPP not found; build first (ninja -C build)" >&2; exit 1; }
for rt in $RUNTIMES; do
    case "$rt" in
    crunpp) ;;
    crun | runc) command -v "$rt" >/dev/null || { echo "bench.sh: $rt not installed" >&2; exit 1; } ;;
    *) echo "bench.sh: unknown runtime $rt" >&2; exit 1 ;;
    esac
done
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "bench.sh: needs a static busybox at /bin/busybox (busybox-static)" >&2; exit 1; }

work="$(mktemp -d /tmp/crunpp-bench.XXXXXX)"
cleanup() {
    # Containers that a failed run may have left, then the work dir.
    for rt in $RUNTIMES; do
        bin="$rt"
        [ "$rt" = crunpp ] && bin="$CRUNPP"
        for d in "$work/state-$rt"/*/; do
            [ -d "$d" ] || continue
            timeout 20 "$bin" --root "$work/state-$rt" delete -f "$(basename "$d")" >/dev/null 2>&1 || true
        done
    done
    rm -rf "$work"
}
trap cleanup EXIT

bundle="$work/bundle"
mkdir -p "$bundle/rootfs"/{bin,proc,sys,dev,tmp,etc}
cp "$busybox" "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
ln -s busybox "$bundle/rootfs/bin/sh"
(cd "$bundle" && "$CRUNPP" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

export CRUNPP RUNTIMES N BENCH_WORK="$work" BENCH_BUNDLE="$bundle"
unshare --mount --propagation private -- /bin/sh -c '
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
    exec python3 - <<"EOF"
import os, statistics, sys, time

n = int(os.environ["N"])
work = os.environ["BENCH_WORK"]
bundle = os.environ["BENCH_BUNDLE"]
binaries = {"crunpp": os.environ["CRUNPP"], "crun": "/usr/bin/crun", "runc": "/usr/sbin/runc"}
runtimes = os.environ["RUNTIMES"].split()
times = {rt: [] for rt in runtimes}
rss = {rt: [] for rt in runtimes}
devnull = os.open("/dev/null", os.O_RDWR)

def run_once(rt, i):
    argv = [binaries[rt], "--root", f"{work}/state-{rt}", "run", "--bundle", bundle, f"bench-{rt}-{i}"]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, status, usage = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench.sh: {rt} run #{i} exited with {code}")
    times[rt].append((t1 - t0) / 1e6)
    rss[rt].append(usage.ru_maxrss)

# One warm-up round (page cache, first-use costs), not counted.
for rt in runtimes:
    run_once(rt, "warmup")
    times[rt].clear(); rss[rt].clear()
for i in range(n):
    for rt in runtimes:
        run_once(rt, i)

print(f"{n} sequential runs of /bin/true per runtime, interleaved")
print(f"{'runtime':8} {'median ms':>10} {'min ms':>8} {'p90 ms':>8} {'peak RSS KiB':>13}")
med = {}
for rt in runtimes:
    t = sorted(times[rt])
    med[rt] = statistics.median(t)
    p90 = t[min(len(t) - 1, int(len(t) * 0.9))]
    print(f"{rt:8} {med[rt]:10.2f} {t[0]:8.2f} {p90:8.2f} {max(rss[rt]):13d}")
for other in ("crun", "runc"):
    if "crunpp" in med and other in med:
        print(f"crunpp/{other}: {med['crunpp'] / med[other]:.2f}")
EOF
'
