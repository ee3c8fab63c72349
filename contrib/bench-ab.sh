#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An A/B of builds on bench.sh's parallel line, fine enough for a change of
# 1%: `contrib/bench.sh ab [ROUNDS] BINARY...` runs 100 containers (`run`
# of /bin/true, 8 at a time) with each binary in turn, ROUNDS times
# (default 20; the order reverses every round), and prints per binary the
# median, mean and fastest round, and the median of its paired ratios to
# the first binary's round of the same pass. The medians of separate runs
# vary by a few percent with this VM's load; the pairs cancel most of it
# (two copies of one build: 0.994-0.997). A binary named crun or runc runs
# with its own state root like the others, so `contrib/bench.sh ab 20
# /usr/bin/crun build/crunpp` gives the parallel ratio too.
set -euo pipefail

ROUNDS=20
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    ROUNDS="$1"
    shift
fi
[ "$ROUNDS" -gt 0 ] || { echo "bench-ab.sh: ROUNDS must be positive" >&2; exit 1; }
[ "$#" -ge 2 ] || { echo "usage: contrib/bench.sh ab [ROUNDS] BINARY BINARY..." >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench-ab.sh: needs root (rootful runs, a private mount namespace)" >&2; exit 1; }
bins=()
for b in "$@"; do
    p="$(command -v "$b")" || { echo "bench-ab.sh: $b not found" >&2; exit 1; }
    bins+=("$(realpath "$p")")
done
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "bench-ab.sh: needs a static busybox at /bin/busybox (busybox-static)" >&2; exit 1; }

work="$(mktemp -d /tmp/crunpp-bench-ab.XXXXXX)"
# State under /run, as bench.sh's (every runtime's default root).
state="$(mktemp -d /run/crunpp-bench-ab.XXXXXX)"
cleanup() {
    # Containers a failed run may have left (each `run` deletes its own).
    local i d
    for i in "${!bins[@]}"; do
        for d in "$state/$i"/*/; do
            [ -d "$d" ] || continue
            timeout 20 "${bins[$i]}" --root "$state/$i" delete -f "$(basename "$d")" >/dev/null 2>&1 || true
        done
    done
    rm -rf "$work" "$state"
}
trap cleanup EXIT
b="$work/bundle"
mkdir -p "$b/rootfs"/{bin,proc,sys,dev,tmp,etc}
cp "$busybox" "$b/rootfs/bin/busybox"
ln -s busybox "$b/rootfs/bin/true"
(cd "$b" && "${bins[0]}" spec)
# crun 1.8.1 accepts only ociVersion 1.0.x (as in bench.sh).
jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"]' \
    "$b/config.json" >"$b/config.json.new"
mv "$b/config.json.new" "$b/config.json"

cat >"$work/ab.py" <<'EOF'
import os, statistics, sys, threading, time

rounds, bundle, state = int(sys.argv[1]), sys.argv[2], sys.argv[3]
bins = sys.argv[4:]
devnull = os.open("/dev/null", os.O_RDWR)
quiet = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)]

# 100 `run`s, 8 at a time: the total wall time in ms (exits on a failure).
def one_round(i, b, tag):
    todo = list(range(100))
    lock = threading.Lock()
    errors = []
    def worker():
        while True:
            with lock:
                if not todo or errors:
                    return
                n = todo.pop()
            argv = [b, "--root", f"{state}/{i}", "run", "--bundle", bundle, f"ab-{tag}-{n}"]
            pid = os.posix_spawn(b, argv, os.environ, file_actions=quiet)
            _, status = os.waitpid(pid, 0)
            if status:
                errors.append(f"{b} run exited with {os.waitstatus_to_exitcode(status)}")
    t0 = time.perf_counter_ns()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("bench-ab.sh: " + errors[0])
    return (time.perf_counter_ns() - t0) / 1e6

times = [[] for _ in bins]
for i, b in enumerate(bins):
    one_round(i, b, "warmup")
for r in range(rounds):
    order = list(range(len(bins)))
    if r % 2:
        order.reverse()
    for i in order:
        times[i].append(one_round(i, bins[i], r))
print(f"{rounds} rounds of 100 containers, 8 at a time; ms per round; paired ratios to {bins[0]}")
print(f"{'binary':40s} {'median':>8s} {'mean':>8s} {'min':>8s} {'paired':>7s}")
for i, b in enumerate(bins):
    paired = statistics.median(t / t0 for t, t0 in zip(times[i], times[0]))
    name = b if len(b) <= 40 else "..." + b[-37:]
    print(f"{name:40s} {statistics.median(times[i]):8.1f} {statistics.mean(times[i]):8.1f} "
          f"{min(times[i]):8.1f} {paired:7.3f}")
EOF

if ! mountpoint -q /sys/fs/cgroup/unified; then
    python3 "$work/ab.py" "$ROUNDS" "$b" "$state" "${bins[@]}"
    exit
fi
# As bench.sh: crun 1.8.1 refuses the hybrid layout, so the unified mount
# goes, in a mount namespace of this run's only.
unshare --mount --propagation private -- /bin/sh -c '
    umount /sys/fs/cgroup/unified || exit 1
    exec python3 "$@"' sh "$work/ab.py" "$ROUNDS" "$b" "$state" "${bins[@]}"
