#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Startup benchmark: N sequential `run` of /bin/true in a busybox bundle with
# the default `crunpp spec` config (terminal off), for crunpp, crun and runc,
# interleaved (crunpp, crun, runc, crunpp, ...). Prints each runtime's median
# milliseconds per container, the ratios crunpp/crun and crunpp/runc, and the
# peak RSS of the runtime process (GNU time's %M over min(N, 10) more runs:
# the runtime and the children it reaped; GNU time's own fork is ~1 MiB).
#
# All runs happen in one private mount namespace where the cgroup v2 mount of
# this hybrid-cgroup machine (/sys/fs/cgroup/unified) is unmounted: crun 1.8.1
# refuses hybrid cgroups. The host's mounts are not touched.
#
# Usage: contrib/bench.sh [N]     (root; CRUNPP=path overrides build/crunpp,
#                                  RUNTIMES="crunpp crun" picks a subset)
#        contrib/bench.sh seccomp [N]   the seccomp setup (contrib/bench-seccomp.sh)
#        contrib/bench.sh docker [N]    docker run/exec with crunpp and runc
#                                       (contrib/bench-docker.sh)
set -euo pipefail

if [ "${1:-}" = seccomp ]; then
    shift
    exec "$(dirname "$0")/bench-seccomp.sh" "$@"
fi
if [ "${1:-}" = docker ]; then
    shift
    exec "$(dirname "$0")/bench-docker.sh" "$@"
fi

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
# The state roots on tmpfs, like every runtime's default (/run).
state="$(mktemp -d /run/crunpp-bench.XXXXXX)"
cleanup() {
    # Containers that a failed run may have left, then the work dir.
    for rt in $RUNTIMES; do
        bin="$rt"
        [ "$rt" = crunpp ] && bin="$CRUNPP"
        for d in "$state/$rt"/*/; do
            [ -d "$d" ] || continue
            timeout 20 "$bin" --root "$state/$rt" delete -f "$(basename "$d")" >/dev/null 2>&1 || true
        done
    done
    rm -rf "$work" "$state"
}
trap cleanup EXIT

bundle="$work/bundle"
mkdir -p "$bundle/rootfs"/{bin,proc,sys,dev,tmp,etc}
cp "$busybox" "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
ln -s busybox "$bundle/rootfs/bin/sh"
(cd "$bundle" && "$CRUNPP" spec)
# crun 1.8.1 accepts only ociVersion 1.0.x; the config is otherwise crunpp's.
jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"]' \
    "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

cat >"$work/bench.py" <<'EOF'
import os, statistics, sys, time

n = int(os.environ["N"])
work = os.environ["BENCH_WORK"]
state = os.environ["BENCH_STATE"]
bundle = os.environ["BENCH_BUNDLE"]
binaries = {"crunpp": os.environ["CRUNPP"], "crun": "/usr/bin/crun", "runc": "/usr/sbin/runc"}
runtimes = os.environ["RUNTIMES"].split()
times = {rt: [] for rt in runtimes}
rss = {rt: [] for rt in runtimes}
devnull = os.open("/dev/null", os.O_RDWR)
quiet = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)]

def argv_of(rt, name):
    return [binaries[rt], "--root", f"{state}/{rt}", "run", "--bundle", bundle, f"bench-{rt}-{name}"]

def check(rt, name, status):
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench.sh: {rt} run {name} exited with {code}")

def timed_run(rt, i):
    argv = argv_of(rt, i)
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=quiet)
    _, status = os.waitpid(pid, 0)
    t1 = time.perf_counter_ns()
    check(rt, i, status)
    times[rt].append((t1 - t0) / 1e6)

# Peak RSS through GNU time: a child of this (large) python process would
# report python's RSS as its own, since it is a copy of it until execve.
def rss_run(rt, i):
    out = f"{work}/rss"
    argv = ["/usr/bin/time", "-f", "%M", "-o", out] + argv_of(rt, f"rss{i}")
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=quiet)
    _, status = os.waitpid(pid, 0)
    check(rt, f"rss{i}", status)
    with open(out) as f:
        rss[rt].append(int(f.read().split()[-1]))

# One warm-up round (page cache, first-use costs), not counted.
for rt in runtimes:
    timed_run(rt, "warmup")
    times[rt].clear()
for i in range(n):
    for rt in runtimes:
        timed_run(rt, i)
for i in range(min(n, 10)):
    for rt in runtimes:
        rss_run(rt, i)

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

# The umount happens only inside the new mount namespace: unshare runs the
# shell there or fails (set -e) before anything is unmounted.
export CRUNPP RUNTIMES N BENCH_WORK="$work" BENCH_STATE="$state" BENCH_BUNDLE="$bundle"
unshare --mount --propagation private -- /bin/sh -c '
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified || exit 1; fi
    exec python3 "$1"' sh "$work/bench.py"
