#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The cost of the seccomp setup with podman's default profile
# (/usr/share/containers/seccomp.json, turned into the OCI form podman
# writes, for the default `crunpp spec` capabilities): `contrib/bench.sh
# seccomp [N]` runs this.
#
# 1. Per step, median of N rounds (tests/helpers/seccomp-bench): compiling
#    with libseccomp, prepare with an empty cache (compile + write), with a
#    cached entry (read + verify), and the seccomp(2) load in the init.
# 2. End to end, N sequential `run` of /bin/true interleaved: no seccomp,
#    the profile with its compiled filter cached, the profile with the cache
#    emptied before each run (outside the timed part), and crun with and
#    without the profile when installed (RUNTIMES="crunpp" leaves it out).
#    Medians in ms, and the difference to the run without seccomp.
#
# Like bench.sh: root, a private mount namespace without
# /sys/fs/cgroup/unified (crun 1.8.1 refuses hybrid cgroups), state on /run.
set -euo pipefail

N="${1:-100}"
case "$N" in
'' | *[!0-9]* | 0) echo "bench-seccomp.sh: N must be a positive integer" >&2; exit 1 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "bench-seccomp.sh: needs root" >&2; exit 1; }

here="$(cd "$(dirname "$0")/.." && pwd)"
CRUNPP="${CRUNPP:-$here/build/crunpp}"
STEPS="${STEPS:-$here/build/tests/helpers/seccomp-bench}"
PROFILE="${PROFILE:-/usr/share/containers/seccomp.json}"
RUNTIMES="${RUNTIMES:-crunpp crun}"
[ -x "$CRUNPP" ] || { echo "bench-seccomp.sh: $CRUNPP not found; build first (ninja -C build)" >&2; exit 1; }
[ -x "$STEPS" ] || { echo "bench-seccomp.sh: $STEPS not found; build first (ninja -C build)" >&2; exit 1; }
[ -f "$PROFILE" ] || { echo "bench-seccomp.sh: no $PROFILE (apt-get install golang-github-containers-common)" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "bench-seccomp.sh: needs a static busybox at /bin/busybox (busybox-static)" >&2; exit 1; }
with_crun=0
case " $RUNTIMES " in *" crun "*) command -v crun >/dev/null && with_crun=1 ;; esac

work="$(mktemp -d /tmp/crunpp-bench-seccomp.XXXXXX)"
state="$(mktemp -d /run/crunpp-bench-seccomp.XXXXXX)"
cleanup() {
    for root in "$state"/*/; do
        [ -d "$root" ] || continue
        bin="$CRUNPP"
        case "$root" in */crun-*) bin=crun ;; esac
        for d in "$root"*/; do
            [ -d "$d" ] || continue
            timeout 20 "$bin" --root "$root" delete -f "$(basename "$d")" >/dev/null 2>&1 || true
        done
    done
    rm -rf "$work" "$state"
}
trap cleanup EXIT

make_bundle() {
    local b="$1"
    mkdir -p "$b/rootfs"/{bin,proc,sys,dev,tmp,etc}
    cp /bin/busybox "$b/rootfs/bin/busybox"
    ln -s busybox "$b/rootfs/bin/true"
    (cd "$b" && "$CRUNPP" spec)
    jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"]' \
        "$b/config.json" >"$b/config.json.new"
    mv "$b/config.json.new" "$b/config.json"
}
make_bundle "$work/plain"
make_bundle "$work/profile"
"$here/contrib/podman-seccomp-to-oci.py" "$PROFILE" "$work/profile/config.json"
mkdir -p "$state/steps"

echo "podman's default profile ($PROFILE), $(jq '[.linux.seccomp.syscalls[].names | length] | add' \
    "$work/profile/config.json") syscall names, architectures $(jq -c .linux.seccomp.architectures "$work/profile/config.json")"
echo
echo "== per step"
"$STEPS" "$work/profile/config.json" "$state/steps" "$N"
echo

cat >"$work/bench.py" <<'EOF'
import os, shutil, statistics, sys, time

n = int(os.environ["N"])
work = os.environ["BENCH_WORK"]
state = os.environ["BENCH_STATE"]
crunpp = os.environ["CRUNPP"]
with_crun = os.environ["WITH_CRUN"] == "1"
devnull = os.open("/dev/null", os.O_RDWR)
quiet = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)]

# name -> (binary, state root, bundle, empty the cache first)
modes = {
    "crunpp, no seccomp": (crunpp, f"{state}/plain", f"{work}/plain", False),
    "crunpp, profile, cached": (crunpp, f"{state}/cached", f"{work}/profile", False),
    "crunpp, profile, no cache": (crunpp, f"{state}/uncached", f"{work}/profile", True),
}
if with_crun:
    modes["crun, no seccomp"] = ("/usr/bin/crun", f"{state}/crun-plain", f"{work}/plain", False)
    modes["crun, profile"] = ("/usr/bin/crun", f"{state}/crun-profile", f"{work}/profile", False)
times = {m: [] for m in modes}

# crunpp's cache of compiled filters is the user's, beside its default state root.
cache = "/run/crunpp-seccomp-cache" if os.geteuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "") + "/crunpp-seccomp-cache"

def timed_run(mode, i):
    binary, root, bundle, empty = modes[mode]
    if empty:
        shutil.rmtree(cache, ignore_errors=True)
    argv = [binary, "--root", root, "run", "--bundle", bundle, f"b{i}"]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=quiet)
    _, status = os.waitpid(pid, 0)
    t1 = time.perf_counter_ns()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench-seccomp.sh: {mode}: run {i} exited with {code}")
    times[mode].append((t1 - t0) / 1e6)

for mode in modes:  # warm-up, not counted (fills the cache of "cached")
    timed_run(mode, "warmup")
    times[mode].clear()
for i in range(n):
    for mode in modes:
        timed_run(mode, i)

print(f"== end to end: {n} sequential runs of /bin/true per mode, interleaved")
print(f"{'mode':28} {'median ms':>10} {'min ms':>8} {'+ms vs no seccomp':>18}")
med = {m: statistics.median(t) for m, t in times.items()}
for m, t in times.items():
    base = med["crun, no seccomp"] if m.startswith("crun,") else med["crunpp, no seccomp"]
    print(f"{m:28} {med[m]:10.2f} {min(t):8.2f} {med[m] - base:18.2f}")
EOF

export CRUNPP N WITH_CRUN="$with_crun" BENCH_WORK="$work" BENCH_STATE="$state"
unshare --mount --propagation private -- /bin/sh -c '
    if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified || exit 1; fi
    exec python3 "$1"' sh "$work/bench.py"
