#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd lane's test run, crunpp-lane.service in a guest where Debian's
# systemd is pid 1 on a pure cgroup v2 hierarchy (contrib/systemd-lane.sh).
# Waits for the test user's manager and bus (the user lingers), runs the bats
# suites twice (pass "rootful": bats as root in this service's delegated
# cgroup; pass "rootless": bats in a delegated scope of the test user's
# manager, so that the test user's commands, run through as_rootless, reach
# its manager on $XDG_RUNTIME_DIR/bus and can be moved into their own
# scopes), then the script the host gave, if any, then lists the scopes and
# cgroups the runs left behind, and powers off. The host parses the console:
#   SDLANE: <text>                     information, and the markers below
#   SDLANE|<pass>|<suite>|<line>       bats --tap output (and leak-guard's)
#   SDLANE: suite <pass> <suite> end rc=<status> time=<seconds>s
#   SDLANE: suite <pass> <suite> not run: <why>
#   SDLANE|script|-|<line>             the output of the host's script
#   SDLANE: script end rc=<status> time=<seconds>s
#   SDLANE: leaked cgroup <dir> / leaked scope <unit> (<manager>)
#   SDLANE: done                       the guest finished
set -u
export PATH=/usr/local/bin:/usr/bin:/usr/sbin
export LANG=C.UTF-8
umask 022

# Written by contrib/systemd-lane.sh: SUITES, PASSES, ROOTLESS_FILTER,
# SUITE_TIMEOUT, DEADLINE (guest uptime by which every suite must be done),
# TEST_USER, TEST_UID, SCRIPT (1 when /lane/script is to run).
# shellcheck source=/dev/null
. /lane/config

CG=/sys/fs/cgroup
USER_RUNTIME=/run/user/$TEST_UID
ROOTLESS_UNIT=crunpp-lane-rootless.scope
# Tests detect the guest by it (tests/integration/systemd_lane.bats).
export SYSTEMD_LANE=1

lane() { printf 'SDLANE: %s\n' "$*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

finish() {
    lane "done"
    sync
    # --force twice: no orderly stop of every unit, the results are out.
    systemctl poweroff --force --force
    exit 1
}

as_user() {
    setpriv --reuid="$TEST_UID" --regid="$TEST_UID" --init-groups \
        env -i HOME="/home/$TEST_USER" USER="$TEST_USER" LOGNAME="$TEST_USER" PATH="$PATH" \
        XDG_RUNTIME_DIR="$USER_RUNTIME" DBUS_SESSION_BUS_ADDRESS="unix:path=$USER_RUNTIME/bus" "$@"
}

# The user manager is started by logind (linger) or by this unit's Wants=;
# its bus socket comes with its sockets.target.
wait_user_bus() {
    local i
    for ((i = 0; i < 600; i++)); do
        [ -S "$USER_RUNTIME/bus" ] && as_user systemctl --user is-system-running --wait >/dev/null 2>&1 &&
            return 0
        sleep 0.1
    done
    return 1
}

report_environment() {
    lane "kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
    lane "pid 1: $(cat /proc/1/comm), $(systemctl --version | head -n1)"
    lane "system state: $(systemctl is-system-running)"
    lane "cgroup mount: $(awk '$9 ~ /^cgroup/ {print $5, $9, $10, $11}' /proc/self/mountinfo | tr '\n' ';')"
    lane "/proc/self/cgroup: $(tr '\n' ' ' </proc/self/cgroup)"
    lane "/sys/fs/cgroup/cgroup.subtree_control: $(cat $CG/cgroup.subtree_control)"
    lane "user manager: $(systemctl is-active "user@$TEST_UID.service"), bus: $(ls "$USER_RUNTIME/bus" 2>&1)"
    local failed
    failed="$(systemctl list-units --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')"
    [ -z "$failed" ] || lane "warning: failed units: $failed"
}

# Not leaks: slices (systemd keeps them; runc and crun leave them too).
NOT_LEAKS="/$ROOTLESS_UNIT\$|\\.slice\$"

cgroup_dirs() {
    find $CG -mindepth 1 -type d 2>/dev/null | grep -vE "$NOT_LEAKS" | sort
}

scopes() {
    systemctl list-units --all --plain --no-legend --type=scope | awk '{print $1 " (system)"}'
    as_user systemctl --user list-units --all --plain --no-legend --type=scope |
        awk -v u="$ROOTLESS_UNIT" '$1 != u {print $1 " (user)"}'
}

# The rootless pass's cgroup: a scope the test user's manager makes, with
# Delegate=yes, kept alive by a sleep. Prints the sleep's pid.
start_rootless_scope() {
    local i cg
    as_user systemd-run --user --quiet --scope --unit="$ROOTLESS_UNIT" -p Delegate=yes \
        sleep 100000 </dev/null >/dev/null 2>&1 &
    for ((i = 0; i < 100; i++)); do
        cg="$(as_user systemctl --user show -P ControlGroup "$ROOTLESS_UNIT" 2>/dev/null)"
        [ -n "$cg" ] && [ -d "$CG$cg" ] && {
            echo "$cg"
            return 0
        }
        sleep 0.1
    done
    return 1
}

# run_pass NAME [CGROUP]: every suite, bats in CGROUP (default: this
# service's), so the test user's commands start there too.
run_pass() {
    local pass="$1" cgroup="${2:-}" suite file rc left limit filter=() guard=()
    # What each suite leaves running is reported and killed, as on the host.
    [ -x /lane/bin/leak-guard ] && guard=(/lane/bin/leak-guard)
    [ "$pass" = rootless ] && [ -n "$ROOTLESS_FILTER" ] && filter=(--filter "$ROOTLESS_FILTER")
    if [ -n "$cgroup" ]; then
        echo $BASHPID >"$CG$cgroup/cgroup.procs" || {
            lane "pass $pass: cannot move into $CG$cgroup"
            return 1
        }
    fi
    lane "pass $pass begin: $(cat /proc/self/cgroup)"
    local name manager
    for suite in $SUITES; do
        # "SUITE:systemd": every crunpp call of the suite with
        # --systemd-cgroup (tests/integration/helpers.bash).
        name="${suite%%:*}"
        manager=cgroupfs
        [ "$name" = "$suite" ] || manager="${suite#*:}"
        file=/lane/repo/tests/integration/$name.bats
        if [ ! -f "$file" ]; then
            lane "suite $pass $suite missing"
            continue
        fi
        # A pass whose filter matches no test of the suite says so and runs
        # nothing (bats would pass it with zero tests). Checked before the
        # time left: such a suite is not a suite the lane failed to run.
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
            CRUNPP_TEST_USER="$TEST_USER" SYSTEMD_LANE_PASS="$pass" CRUNPP_CGROUP_MANAGER="$manager" \
            "${guard[@]}" timeout "$limit" bats --tap --timing "${filter[@]}" "$file" </dev/null 2>&1 |
            sed -u "s/^/SDLANE|$pass|$suite|/"
        rc=${PIPESTATUS[0]}
        lane "suite $pass $suite end rc=$rc time=$((SECONDS - start))s"
    done
}

run_script() {
    local start=$SECONDS left rc
    left=$((DEADLINE - $(cut -d. -f1 /proc/uptime)))
    [ "$left" -ge 10 ] || left=10
    lane "script begin (timeout ${left}s)"
    (cd /lane/repo && TMPDIR=/lane/tmp CRUNPP=/lane/bin/crunpp CRUNPP_TEST_CACHE=/lane/cache \
        CRUNPP_TEST_USER="$TEST_USER" timeout "$left" /lane/script </dev/null 2>&1) |
        sed -u 's/^/SDLANE|script|-|/'
    rc=${PIPESTATUS[0]}
    lane "script end rc=$rc time=$((SECONDS - start))s"
}

lane "service up after $(uptime_s)s"
install -d -m 0755 /lane/cache
install -d -m 1777 /lane/tmp
install -d -m 0755 -o "$TEST_UID" -g "$TEST_UID" "/home/$TEST_USER"
if ! wait_user_bus; then
    lane "warning: the test user's manager or bus is not up: $(systemctl status "user@$TEST_UID.service" 2>&1 | tail -n 5 | tr '\n' ' ')"
fi
report_environment
# The user's dbus-daemon starts on its first client: before the snapshot.
as_user busctl --user status >/dev/null 2>&1
lane "tests begin after $(uptime_s)s"

before_cg="$(cgroup_dirs)"
before_scopes="$(scopes)"
for pass in $PASSES; do
    [ -n "$SUITES" ] || break
    case "$pass" in
    rootful) (run_pass rootful) ;;
    rootless)
        if cgroup="$(start_rootless_scope)"; then
            (run_pass rootless "$cgroup")
            as_user systemctl --user stop "$ROOTLESS_UNIT" >/dev/null 2>&1
        else
            lane "pass rootless: the test user's manager made no scope"
            for suite in $SUITES; do lane "suite rootless $suite not run: no user scope"; done
        fi
        ;;
    *) lane "unknown pass $pass" ;;
    esac
done
[ "$SCRIPT" = 1 ] && run_script
comm -13 <(printf '%s\n' "$before_cg") <(cgroup_dirs) | while read -r dir; do
    [ -n "$dir" ] && lane "leaked cgroup $dir"
done
comm -13 <(printf '%s\n' "$before_scopes" | sort) <(scopes | sort) | while read -r unit; do
    [ -n "$unit" ] && lane "leaked scope $unit"
done
lane "finished after $(uptime_s)s"
finish
