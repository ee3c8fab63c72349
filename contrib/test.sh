#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test run, as CI does it on a fresh Debian 12 machine (as root):
# install what is missing, create the unprivileged test user, build three
# trees (normal, -Dwerror=true, address+undefined sanitizers), run the Catch2
# unit tests and the bats integration suites (each under tests/helpers'
# leak-guard, which reports the processes a suite leaves behind), check that
# no mount, state dir or cgroup leaked, run the qemu lanes (pure cgroup v2;
# systemd as pid 1) two guests at a time (run_lanes), and end
# with one line "N passed, N failed, N skipped". Exit status 1 on any
# failure. Build and test logs go to files; only failures are printed.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 1

TEST_USER=crunpp-test
PACKAGES=(meson ninja-build pkg-config g++ libseccomp-dev libyajl-dev libcap-dev catch2
    uidmap busybox-static bats jq python3-jsonschema procps util-linux passwd
    groff-base man-db golang-github-containers-common)
# containerd.bats: containerd with its runc shim and ctr; podman makes its image.
PACKAGES+=(containerd podman)
# podman.bats: the engine, its monitor, --init, the runtime it is compared with.
PACKAGES+=(conmon catatonit runc)
# cli_compat.bats: the flags of crun's commands, read from its --help.
PACKAGES+=(crun)
# systemd_cgroup.bats: a private bus for crunpp's D-Bus client (no systemd here).
PACKAGES+=(dbus-daemon)
# lifecycle.bats, exec_robust.bats: strace delays or fails a syscall to pin a race down.
PACKAGES+=(strace)
# netdevices.bats: ip makes the veth pair, its addresses and the test's netns.
PACKAGES+=(iproute2)
# cri.bats, crictl.bats: containerd's CRI plugin with CNI's bridge and portmap
# (iptables), critest/crictl from ../shared (xz); the images are built from
# Debian's busybox (apt-get download) and small C programs (gcc).
PACKAGES+=(containernetworking-plugins iptables xz-utils gcc)
# docker.bats, compose.bats: Debian's Docker Engine 20.10 (dockerd, its CLI at
# /usr/bin/docker, docker-init, docker-proxy), the two compose tools, the
# Debian base of the seed app's images, curl to the published ports. On 2
# busy cores: docker.bats 1.5-2 min; compose.bats 3.5-4 min, plus ~4 min of
# debootstrap with an empty $CRUNPP_TEST_CACHE (7.2 min for both, measured).
PACKAGES+=(docker.io docker-compose podman-compose debootstrap curl)
# compose.bats with podman-compose: podman's netavark backend with aardvark-dns
# (service names resolve on the project's network), slirp4netns for rootless.
PACKAGES+=(netavark aardvark-dns slirp4netns)
# checkpoint.bats' error cases: criu answers its version on this kernel
# (its dumps need the v2 lane's); the qemu lanes install it too, but only
# after the suites have run.
PACKAGES+=(criu)
# The suites of the two systemd guests (run_lanes): the driver's own tests
# with podman and containerd, and the general suites on the driver
# (SUITE:systemd; SYSTEMDLANE2_SUITES empty: no second guest).
SYSTEMDLANE_SUITES="${SYSTEMDLANE_SUITES:-systemd_lane systemd_cgroup checkpoint_podman}"
SYSTEMDLANE2_SUITES="${SYSTEMDLANE2_SUITES-lifecycle:systemd exec:systemd cgroups:systemd}"
UNIT_TIMEOUT=600
BATS_TIMEOUT=900

passed=0
failed=0
skipped=0

say() { printf '%s\n' "$*"; }
step() { printf '== %s\n' "$*"; }
apt_say() { step "$*"; }
# shellcheck source=contrib/lib/apt.sh
. "$REPO/contrib/lib/apt.sh"

# Prints the last lines of a log after a failure, so CI shows why.
show_log() {
    say "---- last 60 lines of $1"
    tail -n 60 "$1"
    say "----"
}

# Everything this run creates lives here: logs, the binary the tests run,
# the bats temp dirs and the rootfs cache. 0755, so that the test user can
# reach the binary and its bundles.
WORK="$(mktemp -d /tmp/crunpp-test.XXXXXX)"
chmod 0755 "$WORK"
mkdir -p "$WORK/logs" "$WORK/tmp" "$WORK/cache" "$WORK/bin"
chmod 0755 "$WORK/tmp" "$WORK/cache" "$WORK/bin"
cleanup() {
    # --one-file-system: never delete through a mount a test leaked here.
    rm -rf --one-file-system "$WORK" 2>/dev/null || say "warning: could not remove $WORK"
}
trap cleanup EXIT

install_packages() {
    apt_install_missing "$WORK/logs/apt.log" "${PACKAGES[@]}"
}

# The first free start of a subordinate id range in FILE.
next_subid_start() {
    awk -F: 'BEGIN { end = 100000 } NF >= 3 && $2 + $3 > end { end = $2 + $3 } END { print end }' "$1" 2>/dev/null ||
        echo 100000
}

setup_test_user() {
    if [ "$(id -u)" -ne 0 ]; then
        say "not root: the rootless tests will be skipped"
        return 0
    fi
    if ! id "$TEST_USER" >/dev/null 2>&1; then
        useradd -m -s /bin/sh "$TEST_USER" || return 1
    fi
    local f
    for f in /etc/subuid /etc/subgid; do
        touch "$f"
        if ! grep -q "^$TEST_USER:" "$f"; then
            echo "$TEST_USER:$(next_subid_start "$f"):65536" >>"$f"
        fi
    done
    local uid gid
    uid="$(id -u "$TEST_USER")"
    gid="$(id -g "$TEST_USER")"
    install -d -m 0700 -o "$uid" -g "$gid" "/run/user/$uid"
}

# build DIR MESON-ARGS...: configures (once) and builds; 1 failure if it fails.
build_tree() {
    local dir="$1" log="$WORK/logs/$1.log"
    shift
    local start=$SECONDS
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >"$log" 2>&1 || { say "$dir: meson setup failed"; show_log "$log"; return 1; }
    fi
    if ninja -C "$dir" -j2 >>"$log" 2>&1; then
        say "$dir: built ($((SECONDS - start))s)"
        passed=$((passed + 1))
    else
        say "$dir: build FAILED"
        show_log "$log"
        failed=$((failed + 1))
        return 1
    fi
}

# Runs one Catch2 binary and counts its test cases.
run_unit_tests() {
    local dir="$1" bin="$1/tests/unit-tests" log="$WORK/logs/unit-$1.log"
    if [ ! -x "$bin" ]; then
        say "$dir: no unit-tests binary"
        failed=$((failed + 1))
        return
    fi
    local start=$SECONDS rc=0 filter=() s=0
    if [ "$have_schema" -eq 0 ]; then
        # The [schema] cases read ../shared/runtime-spec/schema.
        filter=("~[schema]")
        s="$("$bin" --list-test-names-only "[schema]" | grep -c .)"
    fi
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$LEAK_GUARD" timeout "$UNIT_TIMEOUT" "$bin" "${filter[@]}" >"$log" 2>&1 </dev/null || rc=$?
    local summary p=0 f=0
    summary="$(grep -E '^(All tests passed|test cases:|No tests ran)' "$log" | tail -n1)"
    if [[ "$summary" =~ All\ tests\ passed.*in\ ([0-9]+)\ test\ case ]]; then
        p=${BASH_REMATCH[1]}
    elif [[ "$summary" =~ test\ cases:\ *([0-9]+)\ *\|\ *([0-9]+)\ passed\ *\|\ *([0-9]+)\ failed ]]; then
        p=${BASH_REMATCH[2]}
        f=${BASH_REMATCH[3]}
    elif [[ "$summary" =~ test\ cases:\ *([0-9]+)\ *\|\ *([0-9]+)\ failed ]]; then
        f=${BASH_REMATCH[2]}
    fi
    # A crash, a sanitizer report or a timeout leaves no (or a wrong) summary;
    # leak-guard's own status 1 is counted by count_leaks.
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && ! has_leaks "$log"; then
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    say "unit tests ($dir): $p passed, $f failed, $s skipped ($((SECONDS - start))s)"
    [ "$s" -eq 0 ] || say "  skipped: the $s [schema] cases ($SCHEMA_DIR is missing)"
    count_leaks "$log"
    if [ "$f" -ne 0 ]; then
        [ "$rc" -eq 124 ] && say "timed out after ${UNIT_TIMEOUT}s"
        show_log "$log"
    fi
}

# Runs one bats file in TAP mode and counts ok / not ok / skip.
run_bats_file() {
    local file="$1" name log
    name="$(basename "$file")"
    log="$WORK/logs/bats-$name.log"
    local start=$SECONDS rc=0
    TMPDIR="$WORK/tmp" CRUNPP="$CRUNPP" CRUNPP_TEST_CACHE="$WORK/cache" \
        "$LEAK_GUARD" timeout "$BATS_TIMEOUT" bats --tap "$file" >"$log" 2>&1 </dev/null || rc=$?
    local p f s
    s="$(grep -cE '^ok [0-9]+ .*# skip' "$log")"
    p="$(grep -cE '^ok [0-9]+ ' "$log")"
    p=$((p - s))
    f="$(grep -cE '^not ok [0-9]+ ' "$log")"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && ! has_leaks "$log"; then
        f=1 # bats itself failed: a syntax error, a failing load, a timeout
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    say "$name: $p passed, $f failed, $s skipped ($((SECONDS - start))s)"
    # A suite's own summary lines (cri.bats: critest's counts per handler).
    grep '^# report: ' "$log" | sed 's/^# report: /  /'
    count_leaks "$log"
    if [ "$f" -ne 0 ]; then
        [ "$rc" -eq 124 ] && say "timed out after ${BATS_TIMEOUT}s"
        # The failing tests with the diagnostics bats prints under them.
        awk '/^not ok /{p=1; print; next} /^(ok|not ok) /{p=0} p && /^#/{print}' "$log"
        grep -qE '^(not )?ok ' "$log" || show_log "$log"
    fi
}

# Host resources the tests could leak, one per line, for a before/after diff.
mounts_snapshot() {
    # Mount root and mount point: a leaked bind shows $WORK in either.
    awk '{print $4, $5}' /proc/self/mountinfo | grep -E "crunpp|$WORK" | sort || true
}

# Processes a suite left behind: leak-guard (tests/helpers/leak_guard.cpp)
# runs each suite as a child subreaper, so orphans become its children; it
# reports them in the log, then kills them. One failure per suite that leaked.
has_leaks() {
    grep -q '^leak-guard: leaked process' "$1"
}

count_leaks() {
    if has_leaks "$1"; then
        grep '^leak-guard: leaked process' "$1"
        failed=$((failed + 1))
    fi
}

state_snapshot() {
    local d
    for d in /run/crunpp /run/user/*/crunpp; do
        [ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 2>/dev/null
    done | sort || true
    # Containers without a cgroupsPath get /<id> in each hierarchy: any new
    # top-level cgroup is a leak, but podman's libpod_parent (podman keeps
    # it, empty, as its parent for every later container).
    {
        find /sys/fs/cgroup -maxdepth 4 -type d -name '*crunpp*' 2>/dev/null
        find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d ! -name libpod_parent 2>/dev/null
    } | sort -u || true
}

# Lines of AFTER not in BEFORE.
new_lines() {
    comm -13 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | grep -v '^$' || true
}

check_leaks() {
    local leaked=0 extra
    extra="$(new_lines "$before_mounts" "$(mounts_snapshot)")"
    if [ -n "$extra" ]; then
        say "leaked mounts:"
        say "$extra"
        leaked=1
    fi
    extra="$(new_lines "$before_state" "$(state_snapshot)")"
    if [ -n "$extra" ]; then
        say "leaked state or cgroup directories:"
        say "$extra"
        leaked=1
    fi
    if [ "$leaked" -eq 0 ]; then
        say "leak check: no mount, state dir or cgroup left"
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
}

# With the schemas hidden, the tests that need them skip, saying why, and
# none fails: what a fresh clone without ../shared runs. One check, counted
# once; where the schemas are missing, the main run has shown it already.
check_schema_fallback() {
    local log="$WORK/logs/schema-fallback.log" missing="$WORK/no-shared" rc=0
    local cases unit_skips bats_fail bats_skips
    cases="$(build/tests/unit-tests --list-test-names-only "[schema]" | grep -c .)"
    CRUNPP_SHARED_DIR="$missing" build/tests/unit-tests "[schema]" >"$log" 2>&1 </dev/null || rc=$?
    unit_skips="$(grep -c 'skipped: no OCI runtime-spec schemas' "$log")"
    TMPDIR="$WORK/tmp" CRUNPP="$CRUNPP" CRUNPP_TEST_CACHE="$WORK/cache" CRUNPP_SCHEMA_DIR="$missing" \
        timeout "$BATS_TIMEOUT" bats --tap tests/integration/{features,spec,state}.bats >>"$log" 2>&1 </dev/null || rc=$?
    bats_fail="$(grep -cE '^not ok ' "$log")"
    bats_skips="$(grep -cE '^ok [0-9]+ .*# skip schema check: no ' "$log")"
    if [ "$rc" -eq 0 ] && [ "$cases" -gt 0 ] && [ "$unit_skips" -eq "$cases" ] &&
        [ "$bats_fail" -eq 0 ] && [ "$bats_skips" -gt 0 ]; then
        say "schema fallback: without the schemas $unit_skips unit cases and $bats_skips bats tests skip, none fails"
        passed=$((passed + 1))
    else
        say "schema fallback FAILED: status $rc, $unit_skips of $cases unit cases skipped, bats: $bats_fail failed, $bats_skips skipped"
        show_log "$log"
        failed=$((failed + 1))
    fi
}

# The qemu lanes, each in the background with its output in
# $WORK/logs/NAME.log and its serial console in NAME-serial.log; counted and
# shown by lane_result once all are done, so their output never interleaves.
# contrib/v2-lane.sh: the cgroup tests in a pure cgroup v2 qemu guest.
# checkpoint.bats needs the lane's kernel (criu check fails on the host's):
# 80-106 s more under TCG (the lane took 273 s with both).
v2_lane() {
    CRUNPP="$REPO/build/crunpp" V2LANE_LOG="$WORK/logs/v2-lane-serial.log" \
        V2LANE_SUITES="${V2LANE_SUITES:-cgroups checkpoint}" V2LANE_TIMEOUT="${V2LANE_TIMEOUT:-780}" \
        V2LANE_SUITE_TIMEOUT="${V2LANE_SUITE_TIMEOUT:-420}" \
        "$REPO/contrib/v2-lane.sh" >"$WORK/logs/v2-lane.log" 2>&1 </dev/null
}

# contrib/systemd-lane.sh: systemd as pid 1 on pure cgroup v2 in qemu, with
# podman and containerd: SYSTEMDLANE_SUITES (the other knobs pass through).
systemd_lane() {
    CRUNPP="$REPO/build/crunpp" SYSTEMDLANE_LOG="$WORK/logs/systemd-lane-serial.log" \
        SYSTEMDLANE_SUITES="$SYSTEMDLANE_SUITES" \
        "$REPO/contrib/systemd-lane.sh" >"$WORK/logs/systemd-lane.log" 2>&1 </dev/null
}

# A second systemd guest: SYSTEMDLANE2_SUITES, every crunpp call with
# --systemd-cgroup. exec:systemd's rootful pass took 210-270 s with the
# other guest running, 311 s at load 7 and more than 420 s at load 10:
# 600 s a suite.
systemd_lane2() {
    CRUNPP="$REPO/build/crunpp" SYSTEMDLANE_LOG="$WORK/logs/systemd-lane2-serial.log" \
        SYSTEMDLANE_SUITES="$SYSTEMDLANE2_SUITES" SYSTEMDLANE_SUITE_TIMEOUT=600 \
        "$REPO/contrib/systemd-lane.sh" >"$WORK/logs/systemd-lane2.log" 2>&1 </dev/null
}

# lane_result NAME: a lane's last line, "PREFIX: N passed, N failed, N
# skipped" or "PREFIX: SKIP: why", adds to the totals; its guest
# information stays in the log unless it fails.
lane_result() {
    local log="$WORK/logs/$1.log" last
    last="$(tail -n1 "$log")"
    if [[ "$last" =~ ^([a-z0-9-]+):\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        passed=$((passed + BASH_REMATCH[2]))
        failed=$((failed + BASH_REMATCH[3]))
        skipped=$((skipped + BASH_REMATCH[4]))
        if [ "${BASH_REMATCH[3]}" -eq 0 ]; then
            grep -v "^${BASH_REMATCH[1]}: guest:" "$log"
        else
            cat "$log"
        fi
    elif [[ "$last" == *": SKIP:"* ]]; then
        say "$last"
    else
        say "$1: no summary line"
        show_log "$log"
        failed=$((failed + 1))
    fi
}

# Under TCG each guest keeps one host core busy (one vcpu), and the host has
# nothing else to do by now: two guests at a time on the 2 cores, in two
# streams of about equal length (two runs together, TCG, load 2-3):
#   1. systemd_lane2: lifecycle, exec and cgroups on the systemd
#      driver, rootful and rootless                          767-806 s
#   2. systemd_lane: systemd_lane, systemd_cgroup and
#      checkpoint_podman (423-465 s), then v2_lane (285-293 s)
#                                                            708-758 s
# 768-806 s for the three, where the lanes had taken 982 s one after the
# other without lifecycle:systemd and exec:systemd.
run_lanes() {
    local start=$SECONDS pids=()
    if [ -n "$SYSTEMDLANE2_SUITES" ]; then
        systemd_lane2 &
        pids+=($!)
    fi
    {
        systemd_lane
        v2_lane
    } &
    pids+=($!)
    wait "${pids[@]}"
    step "pure cgroup v2 lane"
    lane_result v2-lane
    step "systemd lane: $SYSTEMDLANE_SUITES"
    lane_result systemd-lane
    if [ -n "$SYSTEMDLANE2_SUITES" ]; then
        step "systemd lane: $SYSTEMDLANE2_SUITES"
        lane_result systemd-lane2
    fi
    say "qemu lanes: $((SECONDS - start))s, two at a time"
}

# tests/faults/sweep.py, the CI subset: an error and a SIGKILL at the first
# and the last call of every syscall of run and exec (foreground and -d),
# rootful and rootless, and the recorded regression points; contrib/faults.sh
# runs every occurrence of every command. One result, its points in the log.
run_faults() {
    local log="$WORK/logs/faults.log" start=$SECONDS rc=0 last
    TMPDIR="$WORK/tmp" timeout 900 python3 tests/faults/sweep.py --crunpp "$CRUNPP" \
        --commands run,run-d,exec,exec-d --max-occurrences 1 --time-limit 600 \
        --regressions tests/faults/regressions.txt >"$log" 2>&1 </dev/null || rc=$?
    last="$(grep '^faults: ' "$log" | tail -n1)"
    if [ "$rc" -eq 0 ] && [[ "$last" == *" 0 failed" ]]; then
        say "$last ($((SECONDS - start))s)"
        passed=$((passed + 1))
    else
        say "fault sweep FAILED (status $rc): ${last:-no summary}"
        grep -E '^(FAIL|sweep:)' "$log" | head -n 40
        failed=$((failed + 1))
    fi
}

summary() {
    say "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
}

start_time=$SECONDS

# CRUNPP_TEST_ONLY=lanes: the normal build and the qemu lanes only, to check
# the lanes without the host suites (CI runs everything).
only_lanes=0
case "${CRUNPP_TEST_ONLY:-}" in
"") ;;
lanes) only_lanes=1 ;;
*)
    say "CRUNPP_TEST_ONLY must be empty or lanes"
    exit 1
    ;;
esac

step "dependencies"
if ! install_packages; then
    failed=$((failed + 1))
    summary
    exit 1
fi
if ! setup_test_user; then
    say "could not create the test user $TEST_USER"
    failed=$((failed + 1))
fi
# The OCI runtime-spec schemas are not part of the repository: with them
# (CI) the schema checks run, without them (a fresh clone) they are skipped.
SCHEMA_DIR="$(cd "$REPO/.." && pwd)/shared/runtime-spec/schema"
have_schema=1
if [ ! -d "$SCHEMA_DIR" ]; then
    have_schema=0
    say "note: $SCHEMA_DIR is missing: the schema checks will be skipped"
fi

# The rootless tests write to /dev/null as the test user (and bind it into
# their containers): a host whose /dev/null lost its usual 0666 (seen on a
# freshly booted VM here) fails them for no fault of crunpp's. Restore it.
if [ "$(id -u)" -eq 0 ] && [ -c /dev/null ] && [ "$(stat -c %a /dev/null)" != 666 ]; then
    say "note: /dev/null was mode $(stat -c %a /dev/null); restored to 0666"
    chmod 0666 /dev/null
fi

step "builds"
normal_ok=0
asan_ok=0
build_tree build && normal_ok=1
if [ "$only_lanes" -eq 0 ]; then
    build_tree build-werror -Dwerror=true
    build_tree build-asan -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug && asan_ok=1
fi

LEAK_GUARD=""
for d in build build-asan; do
    if [ -x "$d/tests/helpers/leak-guard" ]; then
        LEAK_GUARD="$REPO/$d/tests/helpers/leak-guard"
        break
    fi
done
if [ -z "$LEAK_GUARD" ] && [ $((normal_ok + asan_ok)) -gt 0 ]; then
    say "tests/helpers/leak-guard was not built (configured with -Dtests=false?)"
    failed=$((failed + 1))
    normal_ok=0
    asan_ok=0
fi

if [ "$only_lanes" -eq 0 ]; then
    before_mounts="$(mounts_snapshot)"
    before_state="$(state_snapshot)"

    step "unit tests"
    [ "$normal_ok" -eq 1 ] && run_unit_tests build
    [ "$asan_ok" -eq 1 ] && run_unit_tests build-asan

    step "integration tests"
    if [ "$normal_ok" -eq 1 ]; then
        # A copy the test user can execute, wherever the source tree is.
        install -m 0755 build/crunpp "$WORK/bin/crunpp"
        CRUNPP="$WORK/bin/crunpp"
        for f in tests/integration/*.bats; do
            [ -e "$f" ] || continue
            run_bats_file "$f"
        done
    fi
    [ "$normal_ok" -eq 1 ] && [ "$have_schema" -eq 1 ] && check_schema_fallback

    step "fault injection"
    [ "$normal_ok" -eq 1 ] && run_faults
    check_leaks
fi

step "qemu lanes"
[ "$normal_ok" -eq 1 ] && run_lanes

say "total time: $((SECONDS - start_time))s"
summary
