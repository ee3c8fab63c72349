#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The v2 lane guest's second stage, pid 1 after tests/v2lane/init switched
# root to a tmpfs. Mounts the pure cgroup v2 hierarchy, lays out the cgroups
# as systemd would (a service for root, a delegated user@UID.service subtree
# owned by the test user), runs the bats suites twice (pass "rootful": bats in
# a root-owned cgroup, so the test user has no delegation; pass "rootless":
# bats in the delegated subtree, so rootless containers can get a cgroup),
# and reports over the serial console, then powers off. contrib/v2-lane.sh
# parses the console:
#   V2LANE: <text>                     information, and the markers below
#   V2LANE|<pass>|<suite>|<line>       bats --tap output (and leak-guard's)
#   V2LANE: suite <pass> <suite> end rc=<status> time=<seconds>s
#   V2LANE: suite <pass> <suite> not run: <why>
#   V2LANE: leaked cgroup <dir>        a cgroup the passes left behind
#   V2LANE|bench|<line>                bench mode: contrib/bench.sh's output
#   V2LANE: bench end rc=<status> time=<seconds>s
#   V2LANE: done                       the guest finished
set -u
export PATH=/usr/local/bin:/usr/bin:/usr/sbin
export LANG=C.UTF-8
umask 022

# Written by contrib/v2-lane.sh: SUITES, PASSES, ROOTLESS_FILTER,
# SUITE_TIMEOUT, DEADLINE (guest uptime by which every suite must be done),
# TEST_USER, TEST_UID; in bench mode MODE=bench, BENCH_N, BENCH_LINES,
# PAR_ROUNDS (and no PASSES).
. /lane/config

CG=/sys/fs/cgroup
ROOTFUL_CGROUP=system.slice/v2lane.service
DELEGATED_CGROUP=user.slice/user-$TEST_UID.slice/user@$TEST_UID.service
ROOTLESS_CGROUP=$DELEGATED_CGROUP/app.slice/v2lane.scope

lane() { printf 'V2LANE: %s\n' "$*"; }

finish() {
    lane "done"
    sync
    # busybox's: the guest has no poweroff command of its own.
    busybox poweroff -f
    # Not reached unless poweroff failed: exiting pid 1 panics, panic=-1
    # reboots, and qemu's -no-reboot ends.
    exit 1
}

mount_system() {
    mount -t proc -o nosuid,nodev,noexec proc /proc &&
        mount -t sysfs -o nosuid,nodev,noexec sysfs /sys &&
        mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 $CG || return 1
    mkdir -p /dev/pts /dev/shm /run /tmp
    mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
    mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
    mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
    chmod 1777 /tmp
    # devtmpfs has no /dev/fd: bash's process substitution needs it.
    ln -sfn /proc/self/fd /dev/fd
    ln -sfn /proc/self/fd/0 /dev/stdin
    ln -sfn /proc/self/fd/1 /dev/stdout
    ln -sfn /proc/self/fd/2 /dev/stderr
    [ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
    echo 1 >/proc/sys/kernel/printk
    busybox hostname v2lane
    busybox ip link set lo up 2>/dev/null || true
    # contrib/v2-lane.sh's CRIU_MODULES, dependencies first.
    local m
    while read -r m; do
        busybox insmod "$m" 2>/dev/null || lane "warning: cannot load $m"
    done </lane/modules
}

setup_user() {
    local home=/home/$TEST_USER
    mkdir -p "$home"
    chown "$TEST_UID:$TEST_UID" "$home"
    install -d -m 0700 -o "$TEST_UID" -g "$TEST_UID" "/run/user/$TEST_UID"
}

# Enables in DIR's cgroup.subtree_control every controller DIR has.
enable_controllers() {
    local dir="$1" c
    for c in $(cat "$dir/cgroup.controllers"); do
        echo "+$c" >"$dir/cgroup.subtree_control" 2>/dev/null ||
            lane "warning: cannot enable $c in $dir"
    done
}

as_user() {
    setpriv --reuid="$TEST_UID" --regid="$TEST_UID" --init-groups "$@"
}

# The layout systemd makes: controllers enabled from the root down, root's
# services under system.slice, the user's manager in user@UID.service, which
# is delegated (the directory and its cgroup.procs, cgroup.threads,
# cgroup.subtree_control, memory.oom.group, memory.reclaim chowned to the
# user), and below it cgroups the user made itself.
setup_cgroups() {
    local f
    enable_controllers $CG
    mkdir -p "$CG/$ROOTFUL_CGROUP" "$CG/$DELEGATED_CGROUP" || return 1
    enable_controllers "$CG/system.slice"
    enable_controllers "$CG/user.slice"
    enable_controllers "$CG/user.slice/user-$TEST_UID.slice"
    chown "$TEST_UID:$TEST_UID" "$CG/$DELEGATED_CGROUP" || return 1
    for f in cgroup.procs cgroup.threads cgroup.subtree_control memory.oom.group memory.reclaim; do
        [ -e "$CG/$DELEGATED_CGROUP/$f" ] && chown "$TEST_UID:$TEST_UID" "$CG/$DELEGATED_CGROUP/$f"
    done
    as_user mkdir -p "$CG/$ROOTLESS_CGROUP" || return 1
    as_user bash -c "$(declare -f lane enable_controllers); enable_controllers $CG/$DELEGATED_CGROUP; enable_controllers $CG/$DELEGATED_CGROUP/app.slice"
}

report_environment() {
    lane "kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
    lane "cgroup mount: $(awk '$9 ~ /^cgroup/ {print $5, $9, $10, $11}' /proc/self/mountinfo | tr '\n' ';')"
    lane "/proc/self/cgroup: $(tr '\n' ' ' </proc/self/cgroup)"
    lane "/sys/fs/cgroup/cgroup.controllers: $(cat $CG/cgroup.controllers)"
    lane "/sys/fs/cgroup/cgroup.subtree_control: $(cat $CG/cgroup.subtree_control)"
    lane "delegated: $CG/$DELEGATED_CGROUP ($(stat -c %U "$CG/$DELEGATED_CGROUP")), controllers: $(cat "$CG/$DELEGATED_CGROUP/cgroup.controllers")"
    lane "v1 hierarchies mounted: $(awk '$9 == "cgroup"' /proc/self/mountinfo | wc -l)"
}

cgroup_dirs() {
    find $CG -mindepth 1 -type d 2>/dev/null | sort
}

# run_pass NAME CGROUP: every suite, with bats (and so the test user's
# commands run through as_rootless) inside CGROUP.
run_pass() {
    local pass="$1" cgroup="$2" suite file rc left limit filter=() guard=()
    # What each suite leaves running is reported and killed, as on the host.
    [ -x /lane/bin/leak-guard ] && guard=(/lane/bin/leak-guard)
    [ "$pass" = rootless ] && [ -n "$ROOTLESS_FILTER" ] && filter=(--filter "$ROOTLESS_FILTER")
    echo $BASHPID >"$CG/$cgroup/cgroup.procs" || {
        lane "pass $pass: cannot move into $CG/$cgroup"
        return 1
    }
    lane "pass $pass begin: $(cat /proc/self/cgroup)"
    for suite in $SUITES; do
        file=/lane/repo/tests/integration/$suite.bats
        if [ ! -f "$file" ]; then
            lane "suite $pass $suite missing"
            continue
        fi
        # A pass whose filter matches no test of the suite says so and runs
        # nothing (bats would pass it with zero tests), as in the systemd
        # lane; before the time left, since it is no suite left unrun.
        if [ ${#filter[@]} -gt 0 ] && [ "$(bats --count "${filter[@]}" "$file")" = 0 ]; then
            lane "suite $pass $suite skipped: no test matches ${filter[*]}"
            continue
        fi
        left=$((DEADLINE - $(cut -d. -f1 /proc/uptime)))
        if [ "$left" -lt 10 ]; then
            lane "suite $pass $suite not run: out of time (the lane's timeout)"
            continue
        fi
        limit=$((left < SUITE_TIMEOUT ? left : SUITE_TIMEOUT))
        lane "suite $pass $suite begin (timeout ${limit}s)"
        local start=$SECONDS
        # set -o pipefail is off: PIPESTATUS gives bats' (or timeout's) status.
        TMPDIR=/lane/tmp CRUNPP=/lane/bin/crunpp CRUNPP_TEST_CACHE=/lane/cache \
            CRUNPP_TEST_USER="$TEST_USER" V2LANE_PASS="$pass" \
            "${guard[@]}" timeout "$limit" bats --tap --timing "${filter[@]}" "$file" </dev/null 2>&1 |
            sed -u "s/^/V2LANE|$pass|$suite|/"
        rc=${PIPESTATUS[0]}
        lane "suite $pass $suite end rc=$rc time=$((SECONDS - start))s"
    done
}

# bench mode: contrib/bench.sh, from the cgroup of the rootful pass (as from
# a root shell's service), before the leak check of the cgroups.
run_bench() {
    local left start=$SECONDS rc
    echo $BASHPID >"$CG/$ROOTFUL_CGROUP/cgroup.procs" || lane "warning: cannot move into $CG/$ROOTFUL_CGROUP"
    left=$((DEADLINE - $(cut -d. -f1 /proc/uptime)))
    lane "bench begin: N=$BENCH_N, PAR_ROUNDS=$PAR_ROUNDS, ${BENCH_LINES:-every line}, timeout ${left}s; $(crun --version | head -n1); $(runc --version | head -n1)"
    env TMPDIR=/tmp CRUNPP=/lane/bin/crunpp PAR_ROUNDS="$PAR_ROUNDS" ${BENCH_LINES:+"BENCH=$BENCH_LINES"} \
        timeout "$left" /lane/repo/contrib/bench.sh "$BENCH_N" </dev/null 2>&1 | sed -u 's/^/V2LANE|bench|/'
    rc=${PIPESTATUS[0]}
    lane "bench end rc=$rc time=$((SECONDS - start))s"
}

mount_system || {
    lane "cannot mount proc, sysfs or cgroup2"
    finish
}
lane "guest up after $(cut -d' ' -f1 /proc/uptime)s"
setup_user
setup_cgroups || lane "warning: the cgroup layout is incomplete"
report_environment
install -d -m 0755 /lane/cache
install -d -m 1777 /lane/tmp
# contrib/v2-lane.sh's V2LANE_SCRIPT, bounded by the suites' timeout.
if [ -f /lane/script ]; then
    PATH=/lane/bin:$PATH timeout "$SUITE_TIMEOUT" bash /lane/script </dev/null 2>&1 | sed -u 's/^/V2LANE: script: /'
fi

before="$(cgroup_dirs)"
[ "${MODE:-tests}" = bench ] && (run_bench)
for pass in $PASSES; do
    case "$pass" in
    rootful) cgroup=$ROOTFUL_CGROUP ;;
    rootless) cgroup=$ROOTLESS_CGROUP ;;
    *)
        lane "unknown pass $pass"
        continue
        ;;
    esac
    (run_pass "$pass" "$cgroup")
done
comm -13 <(printf '%s\n' "$before") <(cgroup_dirs) | while read -r dir; do
    [ -n "$dir" ] && lane "leaked cgroup $dir"
done
lane "finished after $(cut -d' ' -f1 /proc/uptime)s"
finish
