#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runtime benchmark for crunpp, crun and runc, interleaved (crunpp, crun,
# runc, crunpp, ...) in one run, so that the ratios hold on a loaded machine.
# Every line is the median of N (or of PAR_ROUNDS for the parallel line):
#   run        `run` of /bin/true, busybox bundle, default `crunpp spec` config
#              (terminal off), plus peak RSS of the runtime process (GNU
#              time's %M over min(N, 10) more runs: the runtime and the
#              children it reaped; GNU time's own fork is ~1 MiB)
#   exec       `exec` of /bin/true into a running container (one per runtime)
#   c+s+d      `create`, `start`, `delete` as engines call them: three
#              processes, their times summed (the wait for the container's
#              exit between start and delete is not counted)
#   parallel   100 containers (`run` of /bin/true) with 8 at a time: the
#              total time of the 100
#   realistic  `run` of /bin/true with podman's default seccomp profile
#              (contrib/podman-seccomp-to-oci.py), 10 mounts, a user
#              namespace and cgroup limits (memory, pids, cpu shares)
#   podman     `podman run --rm --network none IMAGE /bin/true` with each
#              runtime (--runtime), median of min(N, 20): the engine
#              dominates; the image is the busybox rootfs, imported into a
#              private podman store (vfs) under the work dir. Only when
#              podman is installed (BENCH includes it by default then).
# Then the ratios crunpp/crun and crunpp/runc of each line.
#
# On a hybrid-cgroup machine all runs happen in one private mount namespace
# where the cgroup v2 mount (/sys/fs/cgroup/unified) is unmounted: crun 1.8.1
# refuses hybrid cgroups. The host's mounts are not touched. Without that
# mount (pure v1 or pure v2) they run in the caller's mount namespace.
#
# Usage: contrib/bench.sh [N]     (root; CRUNPP=path overrides build/crunpp,
#                                  RUNTIMES="crunpp crun" picks a subset,
#                                  and NAME=PATH adds a build to compare:
#                                  then each line also gets the median of
#                                  the per-round ratios to the first one,
#                                  BENCH="run exec" picks lines,
#                                  PAR_ROUNDS=9 rounds of the parallel line:
#                                  a round is one sample of a noisy total)
#        contrib/bench.sh seccomp [N]   the seccomp setup (contrib/bench-seccomp.sh)
#        contrib/bench.sh docker [N]    docker run/exec with crunpp and runc
#                                       (contrib/bench-docker.sh)
#        contrib/bench.sh mounts [N] [M]  run and exec with M (500) more mounts
#                                       on the host (contrib/bench-mounts.sh)
#        contrib/bench.sh ab [ROUNDS] BINARY...  an A/B of builds (or crun,
#                                       runc) on the parallel line, ROUNDS
#                                       (20) rounds, with paired ratios
#        contrib/bench.sh v2 [N]        this bench (default N=20) in the pure
#                                       cgroup v2 guest of contrib/v2-lane.sh
#                                       (V2LANE_MODE=bench; BENCH, PAR_ROUNDS
#                                       and the V2LANE_ knobs pass through)
set -euo pipefail

if [ "${1:-}" = seccomp ]; then
    shift
    exec "$(dirname "$0")/bench-seccomp.sh" "$@"
fi
if [ "${1:-}" = docker ]; then
    shift
    exec "$(dirname "$0")/bench-docker.sh" "$@"
fi
if [ "${1:-}" = mounts ]; then
    shift
    exec "$(dirname "$0")/bench-mounts.sh" "$@"
fi
if [ "${1:-}" = ab ]; then
    # Rounds of one line are paired, so the noise between separate runs
    # (a few percent with this VM's load) mostly cancels: two copies of one
    # build measure 0.994-0.997, fine enough for a 1% change.
    shift
    rounds=20
    if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
        rounds="$1"
        shift
    fi
    [ "$#" -ge 2 ] || { echo "usage: contrib/bench.sh ab [ROUNDS] BINARY BINARY..." >&2; exit 1; }
    runtimes=""
    i=0
    for b in "$@"; do
        i=$((i + 1))
        case "$b" in
        crun | runc) runtimes+=" $b" ;;
        *)
            [ -x "$b" ] || { echo "bench.sh: $b is not an executable" >&2; exit 1; }
            runtimes+=" b$i=$(realpath "$b")"
            ;;
        esac
    done
    RUNTIMES="${runtimes# }" BENCH=parallel PAR_ROUNDS="$rounds" exec "$0" 1
fi
if [ "${1:-}" = v2 ]; then
    V2LANE_BENCH_N="${2:-20}" V2LANE_MODE=bench exec "$(dirname "$0")/v2-lane.sh"
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
    [a-z]*=/*) [ -x "${rt#*=}" ] || { echo "bench.sh: ${rt#*=} is not an executable" >&2; exit 1; } ;;
    *) echo "bench.sh: unknown runtime $rt (crunpp, crun, runc or NAME=/ABSOLUTE/PATH)" >&2; exit 1 ;;
    esac
done
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "bench.sh: needs a static busybox at /bin/busybox (busybox-static)" >&2; exit 1; }

work="$(mktemp -d /tmp/crunpp-bench.XXXXXX)"
# The state roots under /run, every runtime's default: a tmpfs on most hosts
# (this development VM's /run is ext4, for all three alike).
state="$(mktemp -d /run/crunpp-bench.XXXXXX)"
cleanup() {
    # Containers that a failed run may have left, then the work dir.
    for rt in $RUNTIMES; do
        bin="$rt"
        [ "$rt" = crunpp ] && bin="$CRUNPP"
        case "$rt" in *=*) bin="${rt#*=}" rt="${rt%%=*}" ;; esac
        for d in "$state/$rt"/*/; do
            [ -d "$d" ] || continue
            timeout 20 "$bin" --root "$state/$rt" delete -f "$(basename "$d")" >/dev/null 2>&1 || true
        done
    done
    rm -rf "$work" "$state"
}
trap cleanup EXIT

# The user namespace of the realistic line maps root to 100000: its root
# must be able to reach the bundles.
chmod 755 "$work"
make_bundle() {
    local b="$1" args="$2"
    mkdir -p "$b/rootfs"/{bin,proc,sys,dev,tmp,etc}
    cp "$busybox" "$b/rootfs/bin/busybox"
    for l in true sh sleep; do ln -s busybox "$b/rootfs/bin/$l"; done
    (cd "$b" && "$CRUNPP" spec)
    # crun 1.8.1 accepts only ociVersion 1.0.x; the config is otherwise crunpp's.
    jq --argjson args "$args" '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = $args' \
        "$b/config.json" >"$b/config.json.new"
    mv "$b/config.json.new" "$b/config.json"
}
default_lines="run exec c+s+d parallel realistic"
command -v podman >/dev/null && command -v conmon >/dev/null && default_lines+=" podman"
BENCH="${BENCH:-$default_lines}"
bundle="$work/bundle"
make_bundle "$bundle" '["/bin/true"]'
make_bundle "$work/long" '["/bin/sleep", "3600"]'
real="$work/real"
make_bundle "$real" '["/bin/true"]'
case " $BENCH " in
*" podman "*)
    pm="$work/podman"
    mkdir -p "$pm/root" "$pm/run" "$pm/tmp"
    cat >"$pm/containers.conf" <<EOF2
[containers]
netns = "none"
# Root here lacks CAP_SYS_RESOURCE: podman's default limits (1048576)
# would be above the hard ones.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$pm/events.log"
EOF2
    tar -C "$bundle/rootfs" -c . | CONTAINERS_CONF="$pm/containers.conf" timeout 120 podman --root "$pm/root" \
        --runroot "$pm/run" --tmpdir "$pm/tmp" --storage-driver vfs import - localhost/crunpp-bench-busybox >/dev/null 2>"$pm/import.log" ||
        { cat "$pm/import.log" >&2; exit 1; }
    ;;
esac
profile=/usr/share/containers/seccomp.json
case " $BENCH " in
*" realistic "*)
    [ -f "$profile" ] || { echo "bench.sh: no $profile (apt-get install golang-github-containers-common)" >&2; exit 1; }
    "$here/contrib/podman-seccomp-to-oci.py" "$profile" "$real/config.json"
    # Mount points exist: the root of the user namespace may not create them.
    mkdir -p "$real/data" "$real/rootfs/data" "$real/rootfs/run" "$real/rootfs/var/tmp"
    # 10 mounts: the 7 of the default config and 3 more (a bind, two tmpfs);
    # root of a user namespace maps to 100000 (65536 ids); cgroup limits.
    jq --arg data "$real/data" '.mounts += [
          {"destination": "/data", "type": "bind", "source": $data, "options": ["rbind", "ro"]},
          {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755"]},
          {"destination": "/var/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}]
        | .linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.resources.memory = {"limit": 268435456}
        | .linux.resources.pids = {"limit": 512}
        | .linux.resources.cpu = {"shares": 512}' "$real/config.json" >"$real/config.json.new"
    mv "$real/config.json.new" "$real/config.json"
    ;;
esac

cat >"$work/bench.py" <<'EOF'
import os, statistics, sys, threading, time

n = int(os.environ["N"])
work = os.environ["BENCH_WORK"]
state = os.environ["BENCH_STATE"]
bundle = os.environ["BENCH_BUNDLE"]
lines = os.environ["BENCH"].split()
par_rounds = int(os.environ["PAR_ROUNDS"])
binaries = {"crunpp": os.environ["CRUNPP"], "crun": "/usr/bin/crun", "runc": "/usr/sbin/runc"}
runtimes = []
for rt in os.environ["RUNTIMES"].split():
    name, _, path = rt.partition("=")
    if path:
        binaries[name] = path
    runtimes.append(name)
# NAME=PATH builds: an A/B, where the per-round ratios matter.
paired = len(runtimes) != len(set(runtimes) & {"crunpp", "crun", "runc"})
devnull = os.open("/dev/null", os.O_RDWR)
quiet = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)]
# line -> runtime -> samples (ms)
times = {line: {rt: [] for rt in runtimes} for line in lines}
rss = {rt: [] for rt in runtimes}

def rt_argv(rt, *args):
    return [binaries[rt], "--root", f"{state}/{rt}", *args]

# One runtime process; its wall time in ms (exits the bench on a failure).
def spawn(argv, what):
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=quiet)
    _, status = os.waitpid(pid, 0)
    t1 = time.perf_counter_ns()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench.sh: {what} exited with {code}")
    return (t1 - t0) / 1e6

def one_run(rt, name, b=bundle):
    return spawn(rt_argv(rt, "run", "--bundle", b, f"bench-{rt}-{name}"), f"{rt} run {name}")

def status_of(rt, name):
    r, w = os.pipe()
    argv = rt_argv(rt, "state", name)
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)])
    os.close(w)
    out = b""
    while chunk := os.read(r, 65536):
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return b'"stopped"' in out

# create + start + delete, summed; the exit of /bin/true is awaited (bounded,
# untimed) between start and delete, as an engine waits for it.
def one_csd(rt, i):
    name = f"bench-{rt}-csd{i}"
    t = spawn(rt_argv(rt, "create", "--bundle", bundle, name), f"{rt} create {name}")
    t += spawn(rt_argv(rt, "start", name), f"{rt} start {name}")
    for _ in range(2000):
        if status_of(rt, name):
            break
        time.sleep(0.005)
    else:
        sys.exit(f"bench.sh: {rt} {name} did not stop")
    t += spawn(rt_argv(rt, "delete", name), f"{rt} delete {name}")
    return t

# 100 containers, 8 workers: the total wall time of the 100 in ms.
def one_parallel(rt, r):
    todo = list(range(100))
    lock = threading.Lock()
    errors = []
    def worker():
        while True:
            with lock:
                if not todo or errors:
                    return
                i = todo.pop()
            try:
                one_run(rt, f"par{r}-{i}")
            except SystemExit as e:
                errors.append(str(e))
    t0 = time.perf_counter_ns()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t1 = time.perf_counter_ns()
    if errors:
        sys.exit(errors[0])
    return (t1 - t0) / 1e6

# Peak RSS through GNU time: a child of this (large) python process would
# report python's RSS as its own, since it is a copy of it until execve.
def rss_run(rt, i):
    out = f"{work}/rss"
    argv = ["/usr/bin/time", "-f", "%M", "-o", out] + rt_argv(rt, "run", "--bundle", bundle, f"bench-{rt}-rss{i}")
    spawn(argv, f"{rt} run rss{i}")
    with open(out) as f:
        rss[rt].append(int(f.read().split()[-1]))

# warm: the warm-up (page cache, first uses), not counted; one round of the
# line by default.
def interleave(line, rounds, one, warm=None):
    t0 = time.monotonic()
    for rt in runtimes:
        (warm or one)(rt, "warmup")
    for i in range(rounds):
        # Every other round in reverse: no runtime always follows the same one.
        for rt in (runtimes if i % 2 == 0 else runtimes[::-1]):
            times[line][rt].append(one(rt, i))
    # Progress on stderr: a slow machine (the TCG guest) takes minutes a line.
    print(f"bench.sh: {line} done in {time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)

if "run" in lines:
    interleave("run", n, one_run)
    for i in range(min(n, 10)):
        for rt in runtimes:
            rss_run(rt, i)
if "exec" in lines:
    for rt in runtimes:
        spawn(rt_argv(rt, "create", "--bundle", f"{work}/long", f"bench-{rt}-long"), f"{rt} create long")
        spawn(rt_argv(rt, "start", f"bench-{rt}-long"), f"{rt} start long")
    interleave("exec", n, lambda rt, i: spawn(rt_argv(rt, "exec", f"bench-{rt}-long", "/bin/true"), f"{rt} exec {i}"))
    for rt in runtimes:
        spawn(rt_argv(rt, "delete", "-f", f"bench-{rt}-long"), f"{rt} delete long")
if "c+s+d" in lines:
    interleave("c+s+d", n, one_csd)
if "parallel" in lines:
    # A single run warms up as well as 100 would.
    interleave("parallel", par_rounds, one_parallel, lambda rt, w: one_run(rt, "par-warmup"))
if "podman" in lines:
    pm = f"{work}/podman"
    def one_podman(rt, i):
        argv = ["/usr/bin/env", f"CONTAINERS_CONF={pm}/containers.conf", "podman", "--root", f"{pm}/root",
                "--runroot", f"{pm}/run", "--tmpdir", f"{pm}/tmp", "--storage-driver", "vfs",
                "--runtime", binaries[rt], "run", "--rm", "--network", "none",
                "localhost/crunpp-bench-busybox", "/bin/true"]
        return spawn(argv, f"podman --runtime {rt} run {i}")
    interleave("podman", min(n, 20), one_podman)
if "realistic" in lines:
    interleave("realistic", n, lambda rt, i: one_run(rt, f"real{i}", f"{work}/real"))

counts = f"parallel: {par_rounds} rounds of 100 containers, 8 at a time; " if "parallel" in lines else ""
counts += f"podman: {min(n, 20)}; " if "podman" in lines else ""
print(f"N={n} ({counts}interleaved); medians in ms")
w = max(8, *(len(rt) for rt in runtimes))
print(f"{'line':10} {'runtime':{w}} {'median':>9} {'min':>9} {'p90':>9}")
ratios = []
for line in lines:
    med = {}
    for rt in runtimes:
        t = sorted(times[line][rt])
        med[rt] = statistics.median(t)
        p90 = t[min(len(t) - 1, int(len(t) * 0.9))]
        print(f"{line:10} {rt:{w}} {med[rt]:9.2f} {t[0]:9.2f} {p90:9.2f}")
    for other in ("crun", "runc"):
        if "crunpp" in med and other in med:
            ratios.append(f"{line:10} crunpp/{other}: {med['crunpp'] / med[other]:.2f}")
    if paired:
        base = runtimes[0]
        for rt in runtimes[1:]:
            r = statistics.median(a / b for a, b in zip(times[line][rt], times[line][base]))
            ratios.append(f"{line:10} {rt}/{base}, median of the rounds' ratios: {r:.3f}")
if rss["crunpp"] if "crunpp" in rss else False:
    print("peak RSS KiB (run): " + ", ".join(f"{rt} {max(rss[rt])}" for rt in runtimes))
if paired:
    for rt in runtimes:
        if rt in binaries and rt not in ("crunpp", "crun", "runc"):
            print(f"{rt}: {binaries[rt]}")
print("ratios:" if paired else "ratios of the medians:")
for r in ratios:
    print(r)
EOF

export CRUNPP RUNTIMES N BENCH PAR_ROUNDS="${PAR_ROUNDS:-9}"
export BENCH_WORK="$work" BENCH_STATE="$state" BENCH_BUNDLE="$bundle"
if ! mountpoint -q /sys/fs/cgroup/unified; then
    python3 "$work/bench.py"
    exit
fi
# The umount happens only inside the new mount namespace: unshare runs the
# shell there or fails (set -e) before anything is unmounted.
unshare --mount --propagation private -- /bin/sh -c '
    umount /sys/fs/cgroup/unified || exit 1
    exec python3 "$1"' sh "$work/bench.py"
