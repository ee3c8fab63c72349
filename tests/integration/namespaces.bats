#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Namespaces end to end: the time namespace with offsets (as root, in a user
# namespace mapped to other ids, rootless) and namespaces joined by path.

load helpers
bats_require_minimum_version 1.5.0

B=""

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

# Starts CMD... in the background (a holder of namespaces), records its pid
# in HOLDER and waits (bounded) until it has exec'd its final `sleep`.
start_holder() {
    "$@" &
    HOLDER=$!
    disown "$HOLDER" # no "Killed" job notice when the teardown kills it
    record_pid "$HOLDER"
    local i
    for i in $(seq 100); do
        [ "$(cat "/proc/$HOLDER/comm" 2>/dev/null)" = sleep ] && return 0
        sleep 0.05
    done
    echo "holder $HOLDER did not start" >&2
    return 1
}

time_config='.linux.namespaces += [{"type": "time"}]
    | .linux.timeOffsets = {"monotonic": {"secs": 1000, "nanosecs": 0}, "boottime": {"secs": 86400, "nanosecs": 0}}'

# The container's /proc/self/timens_offsets and its uptime, 86400 s ahead.
check_time_output() {
    echo "$output" | grep -Eq '^monotonic +1000 +0$'
    echo "$output" | grep -Eq '^boottime +86400 +0$'
    local inside host
    inside="$(echo "$output" | awk '/^uptime/ {print int($2)}')"
    host="$(awk '{print int($1)}' /proc/uptime)"
    [ "$inside" -ge $((host + 86400 - 30)) ]
    [ "$inside" -le $((host + 86400)) ]
}

@test "time namespace with offsets, as root" {
    require_root
    make_bundle "$B" /bin/sh -c 'cat /proc/self/timens_offsets; echo "uptime $(cat /proc/uptime)"'
    set_config "$B" "$time_config"
    run -0 crunpp run -b "$B" t1
    check_time_output
}

@test "time namespace with offsets in a user namespace mapped to other ids, as root" {
    require_root
    make_bundle "$B" /bin/sh -c 'cat /proc/self/timens_offsets; echo "uptime $(cat /proc/uptime)"; cat /proc/self/uid_map'
    set_config "$B" "$time_config"' | .linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    chown -R 100000:100000 "$B/rootfs"
    _open_path "$B" # the container's root (host uid 100000) reaches its rootfs
    run -0 crunpp run -b "$B" t1
    check_time_output
    [[ "$output" == *"100000"* ]]
}

@test "time namespace with offsets, rootless" {
    make_rootless_bundle "$B" /bin/sh -c 'cat /proc/self/timens_offsets; echo "uptime $(cat /proc/uptime)"'
    set_config "$B" "$time_config"
    run -0 crunpp_rootless run -b "$B" t1
    check_time_output
}

@test "a time namespace without offsets is still a new one" {
    require_root
    make_bundle "$B" /bin/sh -c 'readlink /proc/self/ns/time'
    set_config "$B" '.linux.namespaces += [{"type": "time"}]'
    run -0 crunpp run -b "$B" t1
    [ "$output" != "$(readlink /proc/self/ns/time)" ]
    [[ "$output" == time:* ]]
}

@test "joining a uts and an ipc namespace by path, as root" {
    require_root
    start_holder unshare --uts --ipc sh -c 'hostname h8-holder && exec sleep 60'
    make_bundle "$B" /bin/sh -c 'hostname; readlink /proc/self/ns/ipc'
    set_config "$B" "del(.hostname) | .linux.namespaces |= map(select(.type != \"uts\" and .type != \"ipc\"))
        | .linux.namespaces += [{\"type\": \"uts\", \"path\": \"/proc/$HOLDER/ns/uts\"},
                                {\"type\": \"ipc\", \"path\": \"/proc/$HOLDER/ns/ipc\"}]"
    run -0 crunpp run -b "$B" j1
    [ "${lines[0]}" = h8-holder ]
    [ "${lines[1]}" = "$(readlink "/proc/$HOLDER/ns/ipc")" ]
}

@test "joining a network namespace of the host's user namespace with a new user namespace, as root" {
    require_root
    start_holder unshare --net sh -c 'exec sleep 60'
    make_bundle "$B" /bin/sh -c 'readlink /proc/self/ns/net; cat /proc/self/uid_map'
    set_config "$B" ".linux.namespaces |= map(select(.type != \"network\"))
        | .linux.namespaces += [{\"type\": \"network\", \"path\": \"/proc/$HOLDER/ns/net\"}, {\"type\": \"user\"}]
        | .linux.uidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]
        | .linux.gidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]"
    chown -R 100000:100000 "$B/rootfs"
    _open_path "$B" # the container's root (host uid 100000) reaches its rootfs
    run -0 crunpp run -b "$B" j1
    [ "${lines[0]}" = "$(readlink "/proc/$HOLDER/ns/net")" ]
    [ "$(echo "${lines[1]}" | xargs)" = "0 100000 65536" ]
}

@test "joining a user namespace and a uts namespace it owns, rootless" {
    require_rootless_user
    _rootless_prefix
    start_holder "${ROOTLESS_PREFIX[@]}" unshare --user --map-root-user --uts sh -c 'hostname h8-rootless && exec sleep 60'
    make_rootless_bundle "$B" /bin/sh -c 'hostname; id -u; cat /proc/self/uid_map'
    set_config "$B" "del(.hostname) | del(.linux.uidMappings, .linux.gidMappings)
        | .linux.namespaces |= map(select(.type != \"uts\" and .type != \"user\"))
        | .linux.namespaces += [{\"type\": \"user\", \"path\": \"/proc/$HOLDER/ns/user\"},
                                {\"type\": \"uts\", \"path\": \"/proc/$HOLDER/ns/uts\"}]"
    run -0 crunpp_rootless run -b "$B" j1
    [ "${lines[0]}" = h8-rootless ]
    [ "${lines[1]}" = 0 ]
    [ "$(echo "${lines[2]}" | xargs)" = "0 $(rootless_uid) 1" ]
}

@test "a namespace path of the wrong type or missing fails create and leaves nothing" {
    require_root
    make_bundle "$B"
    set_config "$B" '.linux.namespaces |= map(select(.type != "network"))
        | .linux.namespaces += [{"type": "network", "path": "/proc/self/ns/uts"}]'
    run -1 crunpp create -b "$B" bad1
    [[ "$output" == *'config.json: .linux.namespaces['*'].path: open network namespace /proc/self/ns/uts: wrong namespace type: uts'* ]]
    set_config "$B" '.linux.namespaces[-1].path = "/nonexistent/ns/net"'
    run -1 crunpp create -b "$B" bad1
    [[ "$output" == *'open network namespace /nonexistent/ns/net: No such file or directory'* ]]
    set_config "$B" ".linux.namespaces[-1].path = \"$B/config.json\""
    run -1 crunpp create -b "$B" bad1
    [[ "$output" == *"open network namespace $B/config.json: not a namespace file"* ]]
    [ -z "$(ls -A "$STATE_ROOT")" ]
}
