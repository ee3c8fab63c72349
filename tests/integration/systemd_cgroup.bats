#!/usr/bin/env bats
# bats' `run --separate-stderr` sets $stderr:
# shellcheck disable=SC2154
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd cgroup driver (issue 15): the container's cgroup is a transient
# scope of systemd's, rootful through the system manager and rootless through
# the user's manager; its unit properties and cgroup files, update, pause,
# kill --all, exec, delete leaving nothing, compared with runc
# --systemd-cgroup where runc is installed. The tests that need systemd skip
# without it (no systemd as pid 1 with a bus here); they run in the systemd
# lane's guest (contrib/systemd-lane.sh). The error without a bus, and
# crunpp's own D-Bus client against a private dbus-daemon without systemd
# on it, are checked everywhere.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
    # Unit names are global: unique per test and run.
    ID="i15sd$$-$BATS_TEST_NUMBER"
    CG=/sys/fs/cgroup
}

teardown() {
    crunpp_teardown
    [ -z "${RUNC_ID:-}" ] || runc delete -f "$RUNC_ID" >/dev/null 2>&1 || true
    if [ -n "${RK_UNIT:-}" ]; then
        # The rootless containerd: its shims and containers go with the
        # unit (KillMode=mixed kills them all).
        as_rootless systemctl --user kill -s KILL "$RK_UNIT" >/dev/null 2>&1
        as_rootless systemctl --user stop "$RK_UNIT" >/dev/null 2>&1
        as_rootless systemctl --user reset-failed "$RK_UNIT" >/dev/null 2>&1
        rm -rf "$RK_RUN"
    fi
    if [ -n "${CTR_ID:-}" ]; then
        ctr task kill -s KILL "$CTR_ID" >/dev/null 2>&1
        ctr task rm -f "$CTR_ID" >/dev/null 2>&1
        ctr container rm "$CTR_ID" >/dev/null 2>&1
        # KillMode=process: the shims too.
        systemctl kill -s KILL --kill-whom=all "$CTR_UNIT" >/dev/null 2>&1
    fi
    # The user manager's default slice, made by systemd for the scope (runc
    # leaves it too): stopped once nothing is in it.
    # Slices systemd made for a test (podman's machine.slice, the user
    # manager's user.slice; runc leaves them too): stopped once empty,
    # which their last scope's removal makes them soon after.
    if [ -n "${USER_SLICE_DIR:-}" ]; then
        stop_when_empty "$USER_SLICE_DIR" as_rootless systemctl --user stop user.slice
    fi
    if [ -n "${MACHINE_SLICE_MADE:-}" ]; then
        stop_when_empty "$CG/machine.slice" systemctl stop machine.slice
    fi
    if [ -n "${BUS_PID:-}" ]; then
        kill "$BUS_PID" 2>/dev/null || true
        wait "$BUS_PID" 2>/dev/null || true
    fi
    # Slices a test named: systemd keeps them until stopped.
    local s
    for s in ${TEST_SLICES:-}; do
        systemctl stop "$s" >/dev/null 2>&1 || true
    done
}

# stop_when_empty DIR CMD...: runs CMD once DIR has no cgroup below it
# (waits up to 3 s); nothing when DIR is gone.
stop_when_empty() {
    local dir="$1" i
    shift
    for ((i = 0; i < 30; i++)); do
        [ -d "$dir" ] || return 0
        if [ -z "$(find "$dir" -mindepth 1 -type d -print -quit)" ]; then
            "$@" >/dev/null 2>&1 || true
            return 0
        fi
        sleep 0.1
    done
}

require_systemd() {
    if [ ! -d /run/systemd/system ] || [ ! -S /run/dbus/system_bus_socket ]; then
        skip "no systemd as pid 1 with a system bus here (the systemd lane runs this)"
    fi
    [ "$(stat -f -c %T "$CG")" = cgroup2fs ] || skip "the systemd tests are written for a pure cgroup v2 host"
    require_root
}

require_user_manager() {
    require_systemd
    require_rootless_user
    [ -S "/run/user/$(rootless_uid)/bus" ] ||
        skip "no bus of $ROOTLESS_USER's systemd user manager (loginctl enable-linger $ROOTLESS_USER)"
}

# A private dbus-daemon with no systemd on it, its socket $BUS_DIR/sock
# (open to the rootless user too); stopped by pid in teardown.
start_private_bus() {
    command -v dbus-daemon >/dev/null || skip "dbus-daemon is not installed"
    BUS_DIR="$BATS_TEST_TMPDIR/dbus"
    mkdir -p "$BUS_DIR"
    _open_path "$BUS_DIR"
    cat >"$BUS_DIR/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>crunpp-test</type>
  <listen>unix:path=$BUS_DIR/sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
    dbus-daemon --config-file="$BUS_DIR/bus.conf" --nofork --nopidfile </dev/null >"$BUS_DIR/log" 2>&1 &
    BUS_PID=$!
    record_pid "$BUS_PID"
    local i
    for ((i = 0; i < 50; i++)); do
        [ -S "$BUS_DIR/sock" ] && return 0
        sleep 0.1
    done
    echo "dbus-daemon did not start: $(cat "$BUS_DIR/log")"
    return 1
}

sd() { crunpp --systemd-cgroup "$@"; }
sd_rootless() { crunpp_rootless --systemd-cgroup "$@"; }
user_systemctl() { as_rootless systemctl --user "$@"; }

# The unit property NAME of UNIT (system manager).
prop() { systemctl show -P "$2" "$1"; }

# The cgroup directory of a process, from the host's view.
cgroup_of() { echo "$CG$(sed -n 's/^0:://p' "/proc/$1/cgroup")"; }

# Nothing of the unit left: not loaded, no directory.
unit_gone() {
    local unit="$1" dir="$2" manager=(systemctl)
    [ "${3:-}" = user ] && manager=(as_rootless systemctl --user)
    run "${manager[@]}" list-units --all --plain --no-legend "$unit"
    [ -z "$output" ] || {
        echo "left: $output"
        return 1
    }
    [ ! -d "$dir" ]
}

@test "systemd cgroup: without a systemd bus, the error names the bus and how to use cgroupfs" {
    make_bundle "$B" /bin/true
    run --separate-stderr env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BATS_TEST_TMPDIR/nobus" \
        "$CRUNPP" --root "$STATE_ROOT" --systemd-cgroup run -b "$B" "$ID"
    [ "$status" -eq 1 ]
    [ "$stderr" = "crunpp: systemd cgroup driver: connect to the system bus unix:path=$BATS_TEST_TMPDIR/nobus: No such file or directory (is systemd running? use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)" ]
    [ ! -e "$STATE_ROOT/$ID" ]
    run --separate-stderr env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BATS_TEST_TMPDIR/nobus" \
        "$CRUNPP" --root "$STATE_ROOT" --cgroup-manager systemd run -b "$B" "$ID"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"connect to the system bus unix:path=$BATS_TEST_TMPDIR/nobus"* ]]
    # cgroupfs as the error says: it runs.
    crunpp --cgroup-manager=cgroupfs run -b "$B" "$ID"
}

@test "systemd cgroup: crunpp's D-Bus client connects, authenticates and reads the error of a bus without systemd" {
    start_private_bus
    make_bundle "$B" /bin/true
    local bus="unix:path=$BUS_DIR/sock" nosd
    nosd="The name org.freedesktop.systemd1 was not provided by any .service files (no systemd on this bus: use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)"
    # Connect, EXTERNAL, Hello, AddMatch answered; StartTransientUnit's
    # ServiceUnknown error read with its message, and only that: the
    # refused call made no unit, so none is stopped (and no warning that
    # stopping it failed).
    run --separate-stderr env DBUS_SYSTEM_BUS_ADDRESS="$bus" \
        "$CRUNPP" --root "$STATE_ROOT" --systemd-cgroup run -b "$B" "$ID"
    [ "$status" -eq 1 ]
    [ "$stderr" = "crunpp: systemd cgroup driver: start unit crunpp-$ID.scope on the system bus $bus: $nosd" ]
    [ ! -e "$STATE_ROOT/$ID" ]
    # An address list: the first (no such abstract socket) is skipped.
    bus="unix:abstract=crunpp-i17d-none-$$;unix:path=$BUS_DIR/sock"
    run --separate-stderr env DBUS_SYSTEM_BUS_ADDRESS="$bus" \
        "$CRUNPP" --root "$STATE_ROOT" --cgroup-manager=systemd run -b "$B" "$ID"
    [ "$status" -eq 1 ]
    [ "$stderr" = "crunpp: systemd cgroup driver: start unit crunpp-$ID.scope on the system bus $bus: $nosd" ]
    # Rootless, the user's bus: the daemon takes the user's credentials
    # from the socket.
    require_rootless_user
    make_rootless_bundle "$B.rootless" /bin/true
    _ensure_rootless_state_root
    run --separate-stderr as_rootless env DBUS_SESSION_BUS_ADDRESS="unix:path=$BUS_DIR/sock" \
        "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" --systemd-cgroup run -b "$B.rootless" "$ID"
    [ "$status" -eq 1 ]
    [ "$stderr" = "crunpp: systemd cgroup driver: start unit crunpp-$ID.scope on the user's bus unix:path=$BUS_DIR/sock: $nosd" ]
    [ ! -e "$ROOTLESS_STATE_ROOT/$ID" ]
}

@test "systemd cgroup: a bus address crunpp cannot use is an error naming it" {
    make_bundle "$B" /bin/true
    local a
    for a in "tcp:host=127.0.0.1,port=9" "unix:path=/a,abstract=b" "unix:path=/a%zz"; do
        run --separate-stderr env DBUS_SYSTEM_BUS_ADDRESS="$a" \
            "$CRUNPP" --root "$STATE_ROOT" --systemd-cgroup run -b "$B" "$ID"
        [ "$status" -eq 1 ]
        [[ "$stderr" == "crunpp: systemd cgroup driver: connect to the system bus $a: "*" (use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)" ]]
    done
    [[ "$stderr" == *'a % not followed by two hex digits in "/a%zz"'* ]]
    run --separate-stderr env DBUS_SYSTEM_BUS_ADDRESS="tcp:host=127.0.0.1,port=9" \
        "$CRUNPP" --root "$STATE_ROOT" --systemd-cgroup run -b "$B" "$ID"
    [ "$stderr" = 'crunpp: systemd cgroup driver: connect to the system bus tcp:host=127.0.0.1,port=9: the transport "tcp" is not one crunpp connects to (only unix:path= and unix:abstract=) (use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)' ]
    [ ! -e "$STATE_ROOT/$ID" ]
}

@test "systemd cgroup: rootless without the user's bus, the error names it" {
    make_rootless_bundle "$B" /bin/true
    _ensure_rootless_state_root
    run --separate-stderr as_rootless env DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/bus" \
        "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" --systemd-cgroup run -b "$B" "$ID"
    [ "$status" -eq 1 ]
    [ "$stderr" = "crunpp: systemd cgroup driver: connect to the user's bus unix:path=/nonexistent/bus: No such file or directory (is systemd running? use --cgroup-manager=cgroupfs, or drop --systemd-cgroup)" ]
}

@test "systemd cgroup: a bad cgroupsPath or annotation names its JSON path, before any bus is asked" {
    make_bundle "$B" /bin/true
    set_config "$B" '.linux.cgroupsPath = "/not/systemd"'
    run --separate-stderr sd run -b "$B" "$ID"
    [ "$status" -eq 1 ]
    [ "$stderr" = 'crunpp: config.json: .linux.cgroupsPath: cgroupsPath "/not/systemd": the systemd driver expects "slice:prefix:name"' ]
    set_config "$B" '.linux.cgroupsPath = "a--b.slice:p:n"'
    run --separate-stderr sd run -b "$B" "$ID"
    [ "$stderr" = 'crunpp: config.json: .linux.cgroupsPath: "a--b.slice:p:n": invalid slice name "a--b.slice"' ]
    set_config "$B" '.linux.cgroupsPath = "" | .annotations["org.systemd.property.TimeoutStopSec"] = "'"'5s'"'"'
    run --separate-stderr sd run -b "$B" "$ID"
    [ "$stderr" = "crunpp: config.json: .annotations[\"org.systemd.property.TimeoutStopSec\"]: \"'5s'\": a *Sec property takes a number of seconds" ]
    [ ! -e "$STATE_ROOT/$ID" ]
}

@test "systemd cgroup: the init starts in crunpp-ID.scope with its limits; ps, exec, pause, delete leaves nothing" {
    require_systemd
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" '.linux.resources = {"memory": {"limit": 104857600, "reservation": 52428800, "swap": 209715200},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}, "pids": {"limit": 50},
        "devices": [{"allow": false, "access": "rwm"}]}
        | .annotations["org.systemd.property.TimeoutStopSec"] = "uint64 7"
        | .annotations["org.systemd.property.CollectMode"] = "'"'inactive-or-failed'"'"'
    sd create -b "$B" --pid-file "$BATS_TEST_TMPDIR/pid" "$ID"
    local unit="crunpp-$ID.scope" pid dir
    pid="$(cat "$BATS_TEST_TMPDIR/pid")"
    dir="$CG/system.slice/$unit"
    [ "$(cgroup_of "$pid")" = "$dir" ]
    [ "$(prop "$unit" ActiveState)" = active ]
    [ "$(prop "$unit" Slice)" = system.slice ]
    [ "$(prop "$unit" Delegate)" = yes ]
    [ "$(prop "$unit" MemoryMax)" = 104857600 ]
    [ "$(prop "$unit" MemoryLow)" = 52428800 ]
    [ "$(prop "$unit" MemorySwapMax)" = 104857600 ]
    [ "$(prop "$unit" CPUWeight)" = 20 ]
    [ "$(prop "$unit" CPUQuotaPerSecUSec)" = 500ms ]
    [ "$(prop "$unit" TasksMax)" = 50 ]
    [ "$(prop "$unit" AllowedCPUs)" = 0 ]
    [ "$(prop "$unit" DevicePolicy)" = strict ]
    [ "$(prop "$unit" TimeoutStopUSec)" = 7s ]
    [ "$(prop "$unit" CollectMode)" = inactive-or-failed ]
    [ "$(cat "$dir/memory.max")" = 104857600 ]
    [ "$(cat "$dir/cpu.max")" = "50000 100000" ]
    [ "$(cat "$dir/pids.max")" = 50 ]
    # The state says where, for the later commands.
    [ "$(jq -r .extra.systemdUnit "$STATE_ROOT/$ID/state.json")" = "$unit" ]
    [ "$(jq -r '.cgroupPaths.unified' "$STATE_ROOT/$ID/state.json")" = "$dir" ]
    # Inside: its own cgroup namespace rooted at the scope.
    sd start "$ID"
    run sd exec "$ID" cat /proc/self/cgroup
    [ "$output" = "0::/" ]
    run sd exec "$ID" cat /sys/fs/cgroup/memory.max
    [ "$output" = 104857600 ]
    # exec joins the scope: its host pid is listed there.
    sd exec -d --pid-file "$BATS_TEST_TMPDIR/epid" "$ID" sleep 1000
    [ "$(cgroup_of "$(cat "$BATS_TEST_TMPDIR/epid")")" = "$dir" ]
    run sd ps --format json "$ID"
    jq -e --argjson p "$(cat "$BATS_TEST_TMPDIR/epid")" 'any(.[]; . == $p)' <<<"$output"
    sd pause "$ID"
    [ "$(jq -r .status < <(sd state "$ID"))" = paused ]
    grep -qx "frozen 1" "$dir/cgroup.events"
    sd resume "$ID"
    grep -qx "frozen 0" "$dir/cgroup.events"
    # Without the flag: the state says which driver.
    crunpp delete -f "$ID"
    unit_gone "$unit" "$dir"
}

@test "systemd cgroup: update sets the unit's properties and the files; a refused update changes neither" {
    require_systemd
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" '.linux.resources = {"memory": {"limit": 104857600}, "pids": {"limit": 50}}'
    sd run -d -b "$B" "$ID"
    local unit="crunpp-$ID.scope" dir="$CG/system.slice/crunpp-$ID.scope"
    crunpp update --memory 209715200 --pids-limit 60 --cpu-quota 20000 --cpu-period 100000 "$ID"
    [ "$(prop "$unit" MemoryMax)" = 209715200 ]
    [ "$(prop "$unit" TasksMax)" = 60 ]
    [ "$(prop "$unit" CPUQuotaPerSecUSec)" = 200ms ]
    [ "$(cat "$dir/memory.max")" = 209715200 ]
    [ "$(cat "$dir/pids.max")" = 60 ]
    [ "$(cat "$dir/cpu.max")" = "20000 100000" ]
    # A swap below the memory limit: refused, nothing changed.
    run --separate-stderr crunpp update --memory 314572800 --memory-swap 1048576 "$ID"
    [ "$status" -eq 1 ]
    [ "$(prop "$unit" MemoryMax)" = 209715200 ]
    [ "$(cat "$dir/memory.max")" = 209715200 ]
    # systemd writes its own values back on a reload: they are the updated ones.
    systemctl daemon-reload
    [ "$(cat "$dir/memory.max")" = 209715200 ]
    [ "$(cat "$dir/pids.max")" = 60 ]
    crunpp delete -f "$ID"
    unit_gone "$unit" "$dir"
}

@test "systemd cgroup: kill --all, then delete; a container that exited leaves no unit either" {
    require_systemd
    make_bundle "$B" /bin/sh -c 'sleep 1000 & sleep 1000'
    sd run -d -b "$B" "$ID"
    local unit="crunpp-$ID.scope" dir="$CG/system.slice/crunpp-$ID.scope"
    # sh may exec its last command: two or three processes.
    [ "$(wc -l <"$dir/cgroup.procs")" -ge 2 ]
    crunpp kill --all "$ID" KILL
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(jq -r .status < <(crunpp state "$ID"))" = stopped ] && break
        sleep 0.1
    done
    [ "$(jq -r .status < <(crunpp state "$ID"))" = stopped ]
    crunpp delete "$ID"
    unit_gone "$unit" "$dir"
    # run in the foreground: deleted when the process exits.
    make_bundle "$B.2" /bin/true
    sd run -b "$B.2" "$ID-2"
    unit_gone "crunpp-$ID-2.scope" "$CG/system.slice/crunpp-$ID-2.scope"
}

@test "systemd cgroup: slice:prefix:name, a nested slice systemd makes, and a failed create leaves no unit" {
    require_systemd
    TEST_SLICES="i15sdt-a.slice i15sdt.slice"
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" ".linux.cgroupsPath = \"i15sdt-a.slice:pfx:$ID\""
    sd run -d -b "$B" "$ID"
    local dir="$CG/i15sdt.slice/i15sdt-a.slice/pfx-$ID.scope"
    [ -f "$dir/cgroup.procs" ]
    [ "$(prop "pfx-$ID.scope" Slice)" = i15sdt-a.slice ]
    crunpp delete -f "$ID"
    unit_gone "pfx-$ID.scope" "$dir"
    # The process cannot start: create fails, the unit goes with it.
    make_bundle "$B.2" /nonexistent
    run sd run -b "$B.2" "$ID-2"
    [ "$status" -ne 0 ]
    unit_gone "crunpp-$ID-2.scope" "$CG/system.slice/crunpp-$ID-2.scope"
    [ ! -e "$STATE_ROOT/$ID-2" ]
}

@test "systemd cgroup: a create refused because its unit is in use leaves the other container's unit running" {
    require_systemd
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" ".linux.cgroupsPath = \"system.slice:crunpp:$ID\""
    sd run -d -b "$B" "$ID"
    # The same unit for another id: refused at once. Its cleanup used to
    # stop the first container's unit (whose init, pid 1, ignores the
    # SIGTERM): 30 s waiting for the job, the unit left deactivating.
    local start=$SECONDS
    run --separate-stderr sd run -d -b "$B" "$ID-2"
    [ "$status" -eq 1 ]
    [ "$stderr" = "crunpp: systemd cgroup driver: unit crunpp-$ID.scope is in use (another container with this id or cgroupsPath?)" ]
    [ "$((SECONDS - start))" -lt 15 ]
    [ ! -e "$STATE_ROOT/$ID-2" ]
    [ "$(prop "crunpp-$ID.scope" ActiveState)" = active ]
    [ "$(prop "crunpp-$ID.scope" SubState)" = running ]
    [ "$(crunpp state "$ID" | jq -r .status)" = running ]
    crunpp delete -f "$ID"
    unit_gone "crunpp-$ID.scope" "$CG/system.slice/crunpp-$ID.scope"
}

@test "systemd cgroup: unit properties and cgroup files as runc --systemd-cgroup makes them" {
    require_systemd
    command -v runc >/dev/null || skip "runc is not installed"
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" '.linux.resources = {"memory": {"limit": 104857600, "reservation": 52428800, "swap": 209715200},
        "cpu": {"shares": 512, "quota": 12345, "period": 100000, "cpus": "0", "mems": "0"}, "pids": {"limit": 50},
        "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"}]}'
    RUNC_ID="i15sdr$$"
    runc --systemd-cgroup create -b "$B" "$RUNC_ID"
    sd create -b "$B" "$ID"
    local p props="MemoryMax MemoryLow MemorySwapMax CPUWeight CPUQuotaPerSecUSec CPUQuotaPeriodUSec TasksMax
        AllowedCPUs AllowedMemoryNodes Delegate Slice DevicePolicy DefaultDependencies MemoryAccounting
        CPUAccounting IOAccounting TasksAccounting"
    for p in $props; do
        [ "$(prop "runc-$RUNC_ID.scope" "$p")" = "$(prop "crunpp-$ID.scope" "$p")" ] || {
            echo "$p: runc $(prop "runc-$RUNC_ID.scope" "$p"), crunpp $(prop "crunpp-$ID.scope" "$p")"
            return 1
        }
    done
    # The same devices allowed, in whatever order; crunpp's default list has
    # /dev/console (5:1) as with its cgroupfs driver, runc's has not.
    diff <(prop "runc-$RUNC_ID.scope" DeviceAllow | tr ' ' '\n' | paste - - | sort) \
        <(prop "crunpp-$ID.scope" DeviceAllow | tr ' ' '\n' | paste - - | grep -v '^/dev/char/5:1' | sort)
    local f r="$CG/system.slice/runc-$RUNC_ID.scope" c="$CG/system.slice/crunpp-$ID.scope"
    for f in memory.max memory.low memory.swap.max cpu.weight cpu.max pids.max cpuset.cpus cpuset.mems; do
        [ "$(cat "$r/$f")" = "$(cat "$c/$f")" ] || {
            echo "$f: runc $(cat "$r/$f"), crunpp $(cat "$c/$f")"
            return 1
        }
    done
    # update: runc's and crunpp's end the same.
    runc update --memory 314572800 --pids-limit 70 "$RUNC_ID"
    crunpp update --memory 314572800 --pids-limit 70 "$ID"
    for p in MemoryMax TasksMax; do
        [ "$(prop "runc-$RUNC_ID.scope" "$p")" = "$(prop "crunpp-$ID.scope" "$p")" ]
    done
    runc delete -f "$RUNC_ID"
    crunpp delete -f "$ID"
    unit_gone "crunpp-$ID.scope" "$c"
}

@test "systemd cgroup: rootless, the scope is the user manager's, delegated; update and delete leave nothing" {
    require_user_manager
    USER_SLICE_DIR="$CG/user.slice/user-$(rootless_uid).slice/user@$(rootless_uid).service/user.slice"
    make_rootless_bundle "$B" /bin/sleep 1000
    set_config "$B" '.linux.resources = {"memory": {"limit": 104857600}, "pids": {"limit": 40}}'
    sd_rootless run -d -b "$B" "$ID"
    local unit="crunpp-$ID.scope" uid cgpath dir pid
    uid="$(rootless_uid)"
    cgpath="$(user_systemctl show -P ControlGroup "$unit")"
    [ "$cgpath" = "/user.slice/user-$uid.slice/user@$uid.service/user.slice/$unit" ]
    dir="$CG$cgpath"
    pid="$(jq -r .pid < <(crunpp_rootless state "$ID"))"
    [ "$(cgroup_of "$pid")" = "$dir" ]
    [ "$(user_systemctl show -P Delegate "$unit")" = yes ]
    [ "$(user_systemctl show -P MemoryMax "$unit")" = 104857600 ]
    [ "$(cat "$dir/memory.max")" = 104857600 ]
    [ "$(cat "$dir/pids.max")" = 40 ]
    # Delegated to the user: its own files.
    [ "$(stat -c %u "$dir/cgroup.procs")" = "$uid" ]
    crunpp_rootless update --memory 209715200 "$ID"
    [ "$(user_systemctl show -P MemoryMax "$unit")" = 209715200 ]
    [ "$(cat "$dir/memory.max")" = 209715200 ]
    # exec joins the scope: directly from the user manager's tree (the lane's
    # rootless pass), through systemd from elsewhere (the rootful pass: cgroup
    # v2 lets the user move a process only below a common ancestor it owns).
    # (Not under `run`: the detached process would keep its pipe open.)
    crunpp_rootless exec -d --pid-file "$B/epid" "$ID" sleep 1000 </dev/null >/dev/null
    [ "$(cgroup_of "$(cat "$B/epid")")" = "$dir" ]
    crunpp_rootless pause "$ID"
    grep -qx "frozen 1" "$dir/cgroup.events"
    crunpp_rootless resume "$ID"
    crunpp_rootless delete -f "$ID"
    unit_gone "$unit" "$dir" user
}

# The test user's podman, with a home of its own where the user has none.
user_podman() {
    local home
    home="$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)"
    if [ ! -d "$home" ]; then
        home="$BATS_RUN_TMPDIR/i15sd-home"
        [ -d "$home" ] || install -d -m 0700 -o "$(rootless_uid)" -g "$(rootless_gid)" "$home"
        _open_path "$BATS_RUN_TMPDIR"
    fi
    as_rootless env HOME="$home" podman "$@"
}

# podman's image: the test rootfs, imported once per run and user (the
# command is podman or user_podman).
podman_image() {
    local pm="$1"
    "$pm" image exists localhost/i15sd:latest && return 0
    if command -v tar >/dev/null; then
        tar -C "$ROOTFS_CACHE" -cf "$BATS_TEST_TMPDIR/rootfs.tar" .
    else
        python3 -c 'import sys, tarfile; t = tarfile.open(sys.argv[2], "w"); t.add(sys.argv[1], arcname="."); t.close()' \
            "$ROOTFS_CACHE" "$BATS_TEST_TMPDIR/rootfs.tar"
    fi
    chmod 0644 "$BATS_TEST_TMPDIR/rootfs.tar"
    _open_path "$BATS_TEST_TMPDIR"
    "$pm" import "$BATS_TEST_TMPDIR/rootfs.tar" localhost/i15sd:latest >/dev/null
}

@test "systemd cgroup: podman with cgroup_manager=systemd runs on crunpp in a libpod scope, as on runc" {
    require_systemd
    command -v podman >/dev/null || skip "podman is not installed"
    [ "$(podman info --format '{{.Host.CgroupManager}}')" = systemd ] || skip "podman's cgroup_manager is not systemd"
    [ -d "$CG/machine.slice" ] || MACHINE_SLICE_MADE=1
    podman_image podman
    local id rid name="i15sdp$$" unit
    id="$(podman --runtime "$CRUNPP" run -d --network none --name "$name" --memory 64m --pids-limit 33 \
        localhost/i15sd:latest sleep 1000)"
    unit="libpod-$id.scope"
    [ "$(prop "$unit" ControlGroup)" = "/machine.slice/$unit" ]
    [ "$(prop "$unit" MemoryMax)" = 67108864 ]
    [ "$(prop "$unit" TasksMax)" = 33 ]
    run podman --runtime "$CRUNPP" exec "$name" cat /sys/fs/cgroup/memory.max
    [ "$output" = 67108864 ]
    # runc's scope for the same command has the same properties.
    rid="$(podman --runtime runc run -d --network none --name "$name-r" --memory 64m --pids-limit 33 \
        localhost/i15sd:latest sleep 1000)"
    local p
    for p in Slice MemoryMax TasksMax Delegate DevicePolicy CPUWeight; do
        [ "$(prop "libpod-$rid.scope" "$p")" = "$(prop "$unit" "$p")" ] || {
            echo "$p: runc $(prop "libpod-$rid.scope" "$p"), crunpp $(prop "$unit" "$p")"
            return 1
        }
    done
    podman --runtime "$CRUNPP" update --memory 128m "$name"
    [ "$(prop "$unit" MemoryMax)" = 134217728 ]
    [ "$(cat "$CG/machine.slice/$unit/memory.max")" = 134217728 ]
    podman --runtime "$CRUNPP" pause "$name"
    podman --runtime "$CRUNPP" unpause "$name"
    podman --runtime "$CRUNPP" stats --no-stream "$name" >/dev/null
    podman rm -f -t 0 "$name" "$name-r" >/dev/null
    unit_gone "$unit" "$CG/machine.slice/$unit"
}

@test "systemd cgroup: rootless podman runs on crunpp in its user manager's libpod scope" {
    require_user_manager
    USER_SLICE_DIR="$CG/user.slice/user-$(rootless_uid).slice/user@$(rootless_uid).service/user.slice"
    command -v podman >/dev/null || skip "podman is not installed"
    podman_image user_podman
    local id uid name="i15sdpu$$" unit dir
    uid="$(rootless_uid)"
    id="$(user_podman --runtime "$CRUNPP" run -d --network none --name "$name" --pids-limit 22 \
        localhost/i15sd:latest sleep 1000)"
    unit="libpod-$id.scope"
    dir="$CG/user.slice/user-$uid.slice/user@$uid.service/user.slice/$unit"
    [ "$(user_systemctl show -P ControlGroup "$unit")" = "${dir#"$CG"}" ]
    [ "$(user_systemctl show -P TasksMax "$unit")" = 22 ]
    [ "$(cat "$dir/pids.max")" = 22 ]
    run user_podman --runtime "$CRUNPP" exec "$name" cat /sys/fs/cgroup/pids.max
    [ "$output" = 22 ]
    user_podman rm -f -t 0 "$name" >/dev/null
    # podman's pause process (it keeps the user namespace): not left running.
    local pause="/run/user/$uid/libpod/tmp/pause.pid"
    [ ! -f "$pause" ] || kill "$(cat "$pause")" 2>/dev/null || true
    unit_gone "$unit" "$dir" user
}

@test "systemd cgroup: containerd's runc shim with SystemdCgroup runs crunpp in a scope" {
    require_systemd
    command -v containerd >/dev/null && command -v ctr >/dev/null || skip "containerd is not installed"
    local unit="i15sd-containerd$$.service" id="i15sdc$$" rootfs="$BATS_TEST_TMPDIR/rootfs" i
    cp -a "$ROOTFS_CACHE" "$rootfs"
    TEST_SLICES="$unit"
    CTR_ID="$id"
    CTR_UNIT="$unit"
    systemd-run --quiet --unit="$unit" -p Delegate=yes -p KillMode=process \
        containerd --config /etc/containerd/config.toml
    for ((i = 0; i < 100; i++)); do
        ctr version >/dev/null 2>&1 && break
        sleep 0.2
    done
    ctr run -d --rootfs --runc-binary "$CRUNPP" --runc-systemd-cgroup --cgroup "system.slice:ctr:$id" \
        --memory-limit 67108864 "$rootfs" "$id" /bin/sleep 1000
    [ "$(prop "ctr-$id.scope" ControlGroup)" = "/system.slice/ctr-$id.scope" ]
    [ "$(prop "ctr-$id.scope" MemoryMax)" = 67108864 ]
    [ "$(cat "$CG/system.slice/ctr-$id.scope/memory.max")" = 67108864 ]
    # containerd's spec has no cgroup namespace: the host's path shows.
    run ctr task exec --exec-id e1 "$id" cat /proc/self/cgroup
    [ "$output" = "0::/system.slice/ctr-$id.scope" ] || {
        echo "ctr task exec: $output"
        false
    }
    ctr task pause "$id"
    [ "$(ctr task ls | awk -v id="$id" '$1 == id {print $3}')" = PAUSED ]
    ctr task resume "$id"
    ctr_remove_task ctr "$id"
    unit_gone "ctr-$id.scope" "$CG/system.slice/ctr-$id.scope"
}

# ctr in the rootless containerd's namespaces (as nerdctl's
# containerd-rootless-setuptool.sh nsenter does): its FIFOs go to the
# namespace's own /run.
rk_ctr() {
    as_rootless nsenter -U --preserve-credentials -m -t "$(cat "$RK_RUN/rk/child_pid")" \
        ctr --address "$RK_DIR/sock" "$@"
}

@test "systemd cgroup: rootless containerd (rootlesskit) with SystemdCgroup runs crunpp in the user manager's scope, as runc" {
    require_user_manager
    local t
    for t in containerd ctr rootlesskit nsenter; do
        command -v "$t" >/dev/null || skip "$t is not installed"
    done
    local uid i rt name cid cgpath
    uid="$(rootless_uid)"
    USER_SLICE_DIR="$CG/user.slice/user-$uid.slice/user@$uid.service/user.slice"
    # containerd-rootless.sh's way (nerdctl's; not in Debian 12): containerd
    # in rootlesskit's user and mount namespaces, with /etc and /run copied
    # up, as a service of the user's manager; its state is the user's. As
    # that script, the copied-up /run's link to the host's /run/containerd
    # (a rootful containerd's, root's) goes first.
    RK_DIR="$BATS_TEST_TMPDIR/rkcd"
    RK_RUN="/run/user/$uid/i15sd-rk$$"
    install -d -m 0700 -o "$uid" -g "$(rootless_gid)" "$RK_DIR" "$RK_RUN"
    _open_path "$BATS_TEST_TMPDIR"
    cat >"$RK_DIR/config.toml" <<'EOC'
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
EOC
    cp -a "$ROOTFS_CACHE" "$RK_DIR/rootfs"
    chown -R "$uid:$(rootless_gid)" "$RK_DIR"
    RK_UNIT="i15sd-rkcd$$.service"
    as_rootless systemd-run --user --quiet --unit="$RK_UNIT" -p KillMode=mixed \
        rootlesskit --net=host --copy-up=/etc --copy-up=/run --propagation=rslave --state-dir="$RK_RUN/rk" \
        sh -c 'rm -f /run/containerd; exec containerd "$@"' sh \
        --config "$RK_DIR/config.toml" --root "$RK_DIR/root" --state "$RK_RUN/state" --address "$RK_DIR/sock"
    for ((i = 0; i < 150; i++)); do
        [ -s "$RK_RUN/rk/child_pid" ] && rk_ctr version >/dev/null 2>&1 && break
        sleep 0.2
    done
    rk_ctr version >/dev/null
    # The same container on runc and crunpp: what the user manager and the
    # container show, the runtime's name taken out.
    for rt in runc "$CRUNPP"; do
        name="$(basename "$rt")"
        cid="i15sdrk$$$name"
        rk_ctr run -d --rootfs --runc-binary "$rt" --runc-systemd-cgroup --cgroup "user.slice:ctr:$cid" \
            --memory-limit 67108864 "$RK_DIR/rootfs" "$cid" /bin/sleep 1000
        cgpath="$(as_rootless systemctl --user show -P ControlGroup "ctr-$cid.scope")"
        {
            echo "cgroup: $cgpath"
            as_rootless systemctl --user show -p Delegate -p MemoryMax -p TasksAccounting "ctr-$cid.scope"
            echo "memory.max: $(cat "$CG$cgpath/memory.max")"
            echo "owner: $(stat -c %u "$CG$cgpath/cgroup.procs")"
            # The absolute path: runc 1.1.5 finds no "cat" in $PATH there.
            rk_ctr task exec --exec-id e1 "$cid" /bin/cat /proc/self/cgroup || echo "exec failed"
            rk_ctr task pause "$cid" || echo "pause failed"
            echo "frozen: $(cat "$CG$cgpath/cgroup.freeze")"
            rk_ctr task resume "$cid" || echo "resume failed"
        } 2>&1 | sed "s/$cid/ID/g" >"$BATS_TEST_TMPDIR/rk-$name"
        ctr_remove_task rk_ctr "$cid"
        unit_gone "ctr-$cid.scope" "$CG$cgpath" user
    done
    cat "$BATS_TEST_TMPDIR/rk-crunpp"
    grep -qx "cgroup: /user.slice/user-$uid.slice/user@$uid.service/user.slice/ctr-ID.scope" "$BATS_TEST_TMPDIR/rk-crunpp"
    grep -qx "MemoryMax=67108864" "$BATS_TEST_TMPDIR/rk-crunpp"
    grep -qx "frozen: 1" "$BATS_TEST_TMPDIR/rk-crunpp"
    diff "$BATS_TEST_TMPDIR/rk-runc" "$BATS_TEST_TMPDIR/rk-crunpp"
}
