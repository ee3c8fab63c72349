#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The syscalls of a `run` (issue 17): a count, not a time, so that a change
# that adds work to the hot path fails here instead of going unnoticed.
# `strace -f -c` counts every syscall of crunpp and of the children it forks,
# the container's /bin/true (busybox: ~15) included.
#
# Counted at the commit that added this file (default `crunpp spec` config,
# busybox bundle under bats' tmpdir, hybrid cgroups: 9 v1 hierarchies and
# cgroup2):
#   rootful: 752 (the same run in contrib/bench.sh's bundle: 740, and 839
#     before the trims of that series: one open of devices.allow for all
#     rules, mount points made in their parent)
#   rootless (no cgroup of its own; the host's are still bound read-only): 669
# Then 675 and 653; with the static PIE and the trims of issue 17's last
# series (no second mountinfo in the init, /dev nodes in one opened /dev,
# no read of a fresh cpuset cgroup): 657 and 635 (a build linked against
# the shared libraries, where the archives are missing, adds ~20: ld.so).
# The bounds are the count plus ~10%: room for the host (one more v1
# hierarchy costs ~20 syscalls: mkdir, placement, the bind in the
# container's /sys/fs/cgroup, rmdir; a deeper bundle path a readlink per
# component), none for a new loop over something. A pure v2 host counts
# fewer (one hierarchy).
# Runtime: ~2 s.

load helpers

RUN_BUDGET=720
ROOTLESS_RUN_BUDGET=700

setup() {
    crunpp_setup
    command -v strace >/dev/null || skip "strace is not installed (contrib/test.sh installs it)"
}

# total_syscalls OUT: the total of strace -c's table in OUT.
total_syscalls() {
    awk '$NF == "total" { print $4; exit }' "$1"
}

@test "perf budget: a rootful run of /bin/true stays within its syscalls" {
    require_root
    make_bundle "$BATS_TEST_TMPDIR/b"
    crunpp run --bundle "$BATS_TEST_TMPDIR/b" perf-budget-warm
    run strace -f -c -o "$BATS_TEST_TMPDIR/strace.out" "$CRUNPP" --root "$STATE_ROOT" run --bundle "$BATS_TEST_TMPDIR/b" perf-budget-1
    [ "$status" -eq 0 ]
    local n
    n="$(total_syscalls "$BATS_TEST_TMPDIR/strace.out")"
    echo "syscalls of a run: $n (budget $RUN_BUDGET)"
    cat "$BATS_TEST_TMPDIR/strace.out"
    [ -n "$n" ]
    [ "$n" -le "$RUN_BUDGET" ]
}

@test "perf budget: a rootless run of /bin/true stays within its syscalls" {
    require_rootless_user
    make_rootless_bundle "$BATS_TEST_TMPDIR/rb"
    crunpp_rootless run --bundle "$BATS_TEST_TMPDIR/rb" perf-budget-rwarm
    local out="$BATS_TEST_TMPDIR/strace-rootless.out"
    touch "$out"
    chown "$(rootless_uid)" "$out"
    run as_rootless strace -f -c -o "$out" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" run --bundle "$BATS_TEST_TMPDIR/rb" perf-budget-r1
    [ "$status" -eq 0 ]
    local n
    n="$(total_syscalls "$out")"
    echo "syscalls of a rootless run: $n (budget $ROOTLESS_RUN_BUDGET)"
    cat "$out"
    [ -n "$n" ]
    [ "$n" -le "$ROOTLESS_RUN_BUDGET" ]
}

# crunpp never enters the container's cgroups itself: on v1 the init writes
# its own pid once per hierarchy, before it unshares its cgroup namespace
# (so that the namespace is rooted at the container's cgroup), and on v2
# clone3 places it (CLONE_INTO_CGROUP): no write to cgroup.procs at all.
@test "perf budget: one cgroup placement per v1 hierarchy, by the init, none on v2" {
    require_root
    make_bundle "$BATS_TEST_TMPDIR/b"
    local out="$BATS_TEST_TMPDIR/strace-cg.out"
    run strace -f -qq -o "$out" -e trace=openat,write,clone3 -e signal=none \
        "$CRUNPP" --root "$STATE_ROOT" run --bundle "$BATS_TEST_TMPDIR/b" perf-budget-cg
    [ "$status" -eq 0 ]
    local main init
    main="$(head -1 "$out" | awk '{ print $1 }')"
    init="$(awk '/clone3\(/ && $NF ~ /^[0-9]+$/ { print $NF; exit }' "$out")"
    [ -n "$init" ]
    # The fds crunpp opened on tasks/cgroup.procs files, and the writes to them.
    local hierarchies writes_init writes_main
    hierarchies="$(awk -F: '$2 != "" { print $2 }' /proc/self/cgroup | grep -vc '^$' || true)"
    writes_init="$(awk -v p="$init" '$1 == p && /write\([0-9]+, "0", 1\)/' "$out" | wc -l)"
    writes_main="$(awk -v p="$main" '$1 == p && /cgroup\.procs|\/tasks"/ && /O_WRONLY/' "$out" | grep -c 'O_WRONLY' || true)"
    echo "v1 hierarchies $hierarchies, writes by the init $writes_init, opens for writing by crunpp $writes_main"
    grep -E 'tasks"|cgroup\.procs"' "$out" || true
    [ "$writes_init" -eq "$hierarchies" ]
    # crunpp opens each tasks file once for the init and never cgroup.procs.
    [ "$writes_main" -eq "$hierarchies" ]
    [ "$(grep -cE 'cgroup\.procs".*O_WRONLY' "$out")" -eq 0 ]
}
