#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# What engines send (issue 12): Docker's zero resources on create and its
# resources JSON on `docker update` (zeros for what the user did not give),
# read as runc reads them. Each case runs the same bundle with runc 1.1.5
# (when installed) and compares the cgroup files; update checks that an
# update applies fully or not at all. Root (cgroup files) and rootless (no
# cgroup: zeros must not count as requested limits).

load helpers
load lifecycle_helpers
load cgroups_helpers
bats_require_minimum_version 1.5.0

RUNC_BIN="$(command -v runc || true)"

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
    RUNC_ROOT="$BATS_TEST_TMPDIR/runc-state"
    # Ids and cgroup paths are global: unique per test and run.
    ID="ei$$-$BATS_TEST_NUMBER"
    MODE="$(cgroup_mode)"
}

teardown() {
    if [ -n "$RUNC_BIN" ] && [ -d "$RUNC_ROOT" ]; then
        timeout 20 "$RUNC_BIN" --root "$RUNC_ROOT" delete -f "$ID-runc" >/dev/null 2>&1 || true
    fi
    crunpp_teardown
}

# The resources object Docker 20.10 puts in every config on this kind of
# host, plus the zeros runc also reads as "not set".
docker_zero_resources() {
    cat <<'JSON'
{"devices": [{"allow": false, "access": "rwm"}],
 "memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0, "disableOOMKiller": false},
 "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0, "cpus": "", "mems": ""},
 "pids": {"limit": 0},
 "blockIO": {"weight": 0, "leafWeight": 0}}
JSON
}

# docker update's resources JSON (daemon/update.go via containerd): every
# field present, 0 or "" unless given. Args: memory swap quota period pids.
docker_update_json() {
    jq -cn --argjson m "$1" --argjson s "$2" --argjson q "$3" --argjson p "$4" --argjson n "$5" '{
        memory: ({limit: $m, reservation: 0, kernel: 0} + (if $s > 0 then {swap: $s} else {} end)),
        cpu: {shares: 0, quota: $q, period: $p, realtimeRuntime: 0, realtimePeriod: 0, cpus: "", mems: ""},
        blockIO: {weight: 0}}
        + (if $n != 0 then {pids: {limit: $n}} else {} end)'
}

# Directory of CONTROLLER's files for cgroupsPath CGPATH on this host.
host_dir() {
    local ctrl="$1" cgpath="$2"
    if [ "$MODE" = v2 ]; then
        echo "/sys/fs/cgroup$cgpath"
    elif [ -f "/sys/fs/cgroup/$ctrl/cgroup.procs" ]; then
        echo "/sys/fs/cgroup/$ctrl$cgpath"
    else
        echo "/sys/fs/cgroup/unified$cgpath"
    fi
}

# "file=value" for the limits a zero could disturb, of cgroupsPath CGPATH.
snapshot() {
    local cgpath="$1" f ctrl
    for f in cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.rt_runtime_us \
        cpu/cpu.weight cpu/cpu.max memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes \
        memory/memory.soft_limit_in_bytes memory/memory.max memory/memory.swap.max memory/memory.low \
        pids/pids.max cpuset/cpuset.cpus cpuset/cpuset.mems blkio/blkio.weight blkio/io.weight; do
        ctrl="${f%%/*}"
        [ "$ctrl" = blkio ] && [ "$MODE" = v2 ] && ctrl=io
        local file value
        file="$(host_dir "$ctrl" "$cgpath")/${f#*/}"
        if [ -f "$file" ]; then
            value="$(<"$file")"
            echo "${f#*/}=${value//$'\n'/ }"
        fi
    done
    return 0
}

# Creates the bundle's container with crunpp (cgroup /ID) and with runc
# (cgroup /ID-runc, when runc is installed).
create_both() {
    set_config "$B" ".linux.cgroupsPath = \"/$ID\""
    crunpp create -b "$B" "$ID"
    [ -n "$RUNC_BIN" ] || return 0
    cp "$B/config.json" "$BATS_TEST_TMPDIR/config.crunpp"
    set_config "$B" ".linux.cgroupsPath = \"/$ID-runc\""
    "$RUNC_BIN" --root "$RUNC_ROOT" create -b "$B" "$ID-runc"
    cp "$BATS_TEST_TMPDIR/config.crunpp" "$B/config.json"
}

# Fails, showing both, when runc's cgroup files differ from crunpp's.
same_as_runc() {
    [ -n "$RUNC_BIN" ] || return 0
    local a b
    a="$(snapshot "/$ID")"
    b="$(snapshot "/$ID-runc")"
    if [ "$a" != "$b" ]; then
        echo "crunpp:" >&2
        echo "$a" >&2
        echo "runc:" >&2
        echo "$b" >&2
        return 1
    fi
}

value_of() { snapshot "/$ID" | sed -n "s/^$1=//p"; }

@test "engine_input: Docker's zero resources leave the kernel defaults, as runc" {
    require_root
    make_bundle "$B" sleep 100
    set_config "$B" ".linux.resources = $(docker_zero_resources | jq -c .)"
    create_both
    same_as_runc
    if is_v1_controller cpu; then
        # Not 2: a container under Docker gets the default CPU share.
        [ "$(value_of cpu.shares)" = 1024 ]
        [ "$(value_of cpu.cfs_quota_us)" = -1 ]
    else
        [ "$(value_of cpu.weight)" = 100 ]
        [ "$(value_of cpu.max)" = "max 100000" ]
    fi
    [ "$(value_of pids.max)" = max ]
    [ -n "$(value_of cpuset.cpus)" ]
    # A weight of 0 needs no weight file (no BFQ here: none exists).
    if is_v1_controller blkio && [ ! -f /sys/fs/cgroup/blkio/blkio.weight ]; then
        set_config "$B" ".linux.resources.blockIO.weight = 500 | .linux.cgroupsPath = \"/$ID-w\""
        run --separate-stderr crunpp create -b "$B" "$ID-w"
        echo "$stderr"
        [ "$status" -eq 1 ]
        [[ "$stderr" == *'write "500" to '*'blkio.weight: No such file or directory'* ]]
    fi
}

@test "engine_input: docker update with some flags changes only those, as runc" {
    require_root
    make_bundle "$B" sleep 100
    # docker run --memory 100m --memory-swap 200m --cpu-shares 512 --cpuset-cpus 0
    set_config "$B" ".linux.resources = ($(docker_zero_resources | jq -c .)
        | .memory.limit = 104857600 | .memory.swap = 209715200 | .cpu.shares = 512 | .cpu.cpus = \"0\")"
    create_both
    local step json
    for step in "314572800 629145600 0 0 0" "314572800 629145600 50000 100000 0" "314572800 629145600 50000 100000 50" \
        "52428800 62914560 50000 100000 50"; do
        # shellcheck disable=SC2086 # five numbers
        json="$(docker_update_json $step)"
        echo "update: $json" >&2
        echo "$json" | crunpp update --resources - "$ID"
        if [ -n "$RUNC_BIN" ]; then
            echo "$json" | "$RUNC_BIN" --root "$RUNC_ROOT" update --resources - "$ID-runc"
        fi
        same_as_runc
    done
    if is_v1_controller memory; then
        [ "$(value_of memory.limit_in_bytes)" = 52428800 ]
        [ "$(value_of memory.memsw.limit_in_bytes)" = 62914560 ]
    fi
    if is_v1_controller cpu; then
        [ "$(value_of cpu.shares)" = 512 ]
        [ "$(value_of cpu.cfs_quota_us)" = 50000 ]
    fi
    [ "$(value_of cpuset.cpus)" = 0 ]
    [ "$(value_of pids.max)" = 50 ]
    # The flags docker's CLI users type, with crunpp's own update.
    crunpp update --memory 300m --memory-swap 600m "$ID"
    crunpp update --cpu-quota 25000 --cpu-period 100000 "$ID"
    crunpp update --pids-limit 60 "$ID"
    [ "$(value_of pids.max)" = 60 ]
    [ "$(value_of cpuset.cpus)" = 0 ]
    if is_v1_controller memory; then
        [ "$(value_of memory.limit_in_bytes)" = 314572800 ]
        [ "$(value_of memory.memsw.limit_in_bytes)" = 629145600 ]
        [ "$(value_of cpu.shares)" = 512 ]
    fi
    # The zeros keep the recorded limits.
    run jq -r '.extra.resources | fromjson | "\(.memory.limit) \(.pids.limit) \(.cpu.shares // "none")"' \
        "$STATE_ROOT/$ID/state.json"
    [ "$output" = "314572800 60 none" ]
}

@test "engine_input: a failed update leaves every limit as it was" {
    require_root
    make_bundle "$B" sleep 100
    set_config "$B" '.linux.resources = {"memory": {"limit": 104857600, "swap": 209715200}, "pids": {"limit": 40},
        "cpu": {"quota": 20000, "period": 100000}}'
    create_both
    local before
    before="$(snapshot "/$ID")"
    # The memory and quota are written, then the cpuset is refused.
    run --separate-stderr crunpp update --memory 300m --memory-swap 600m --cpu-quota 70000 --cpuset-cpus 4095 \
        --pids-limit 90 "$ID"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'write "4095" to '*'cpuset.cpus'* ]]
    [ "$(snapshot "/$ID")" = "$before" ]
    # A memory limit below what the memsw allows fails the same way.
    if is_v1_controller memory; then
        run --separate-stderr crunpp update --pids-limit 91 --memory 300m "$ID"
        [ "$status" -eq 1 ]
        [ "$(snapshot "/$ID")" = "$before" ]
    fi
    run jq -r '.extra.resources // "none"' "$STATE_ROOT/$ID/state.json"
    [ "$output" = none ]
}

@test "engine_input: rootless, Docker's zero resources need no cgroup" {
    require_rootless_user
    [ "$(cgroup_mode)" != v2 ] || skip "a v2 host may delegate a cgroup to the user"
    make_rootless_bundle "$B" /bin/true
    set_config "$B" ".linux.resources = ($(docker_zero_resources | jq -c .) | del(.devices))"
    run --separate-stderr crunpp_rootless run -b "$B" "$ID"
    echo "$stderr"
    [ "$status" -eq 0 ]
    set_config "$B" '.linux.resources.pids.limit = 10'
    run --separate-stderr crunpp_rootless run -b "$B" "$ID"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'linux.resources.pids cannot be applied'* ]]
}
