#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# linux.netDevices: host devices moved into the container's network
# namespace. Everything happens in a private network namespace made per
# test ($NS) holding a veth pair v0/v1 with documentation addresses; crunpp
# runs in it (nsenter --net: `ip netns exec` would remount /sys and hide the
# cgroups), so no traffic or device touches the host's own namespace.

load helpers

CGROUP_PARENT=crunpp-netdev-test

setup() {
    crunpp_setup
    NS=""
    require_root
    command -v ip >/dev/null || skip "needs iproute2 (contrib/test.sh installs it)"
    NS="crunpp-nd-$$-${BATS_TEST_NUMBER}"
    ip netns add "$NS"
    ip -n "$NS" link set lo up
    ip -n "$NS" link add v0 type veth peer name v1
    ip -n "$NS" addr add 192.0.2.1/24 dev v0
    ip -n "$NS" addr add 2001:db8::1/64 dev v0 nodad
    # Not permanent (it has a lifetime): not carried into the container.
    ip -n "$NS" addr add 198.51.100.1/24 dev v0 valid_lft 300 preferred_lft 300
    ip -n "$NS" addr add 192.0.2.2/24 dev v1
    ip -n "$NS" link set v1 up
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
    if [ -n "$NS" ]; then
        ip netns del "$NS" 2>/dev/null || true
    fi
    local d
    for d in /sys/fs/cgroup/*/"$CGROUP_PARENT" /sys/fs/cgroup/"$CGROUP_PARENT"; do
        if [ -d "$d" ]; then
            rmdir "$d" 2>/dev/null || true
        fi
    done
}

# crunpp as root, in the test's network namespace.
nd() {
    nsenter --net="/run/netns/$NS" "$CRUNPP" --root "$STATE_ROOT" "$@"
}

# A bundle running ARGS (default: a long sleep) as container ID, with
# linux.netDevices = DEVICES (JSON) and CAP_NET_RAW for ping.
netdev_bundle() {
    local id="$1" devices="$2"
    shift 2
    [ $# -gt 0 ] || set -- sleep 120
    make_bundle "$B" "$@"
    set_config "$B" ".linux.netDevices = $devices
        | .linux.cgroupsPath = \"/$CGROUP_PARENT/$id\"
        | .process.capabilities |= with_entries(.value += [\"CAP_NET_RAW\"])"
}

# Succeeds when device NAME is in the test's namespace.
in_test_netns() {
    ip -n "$NS" link show "$1" >/dev/null 2>&1
}

# The opposite, usable as a test step (bats ignores a leading `!`).
not_in_test_netns() {
    ! in_test_netns "$1"
}

# Waits (bounded) until device NAME is gone from the test's namespace: the
# kernel destroys a dead namespace's devices from a workqueue.
wait_gone_from_test_netns() {
    local _
    for _ in $(seq 50); do
        in_test_netns "$1" || return 0
        sleep 0.1
    done
    return 1
}

@test "netDevices: the device is moved, renamed, up, with its permanent global addresses" {
    netdev_bundle nd1 '{"v0": {"name": "ctr0"}}'
    nd create --bundle "$B" nd1 >"$BATS_TEST_TMPDIR/out" 2>&1

    # Gone from the test's namespace while the container runs.
    not_in_test_netns v0
    not_in_test_netns ctr0

    run nd exec nd1 ip -o link show ctr0
    [ "$status" -eq 0 ]
    [[ "$output" == *" ctr0@"*"<"*",UP"*">"* ]]
    run nd exec nd1 ip -o link show v0
    [ "$status" -ne 0 ]

    run nd exec nd1 ip -o addr show dev ctr0
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
    [[ "$output" == *"inet6 2001:db8::1/64 "* ]]
    [[ "$output" != *"198.51.100.1"* ]]

    # The device works: the veth peer answers.
    run nd exec nd1 ping -c 1 -W 5 192.0.2.2
    [ "$status" -eq 0 ]

    nd delete -f nd1
    # Not moved back: the veth pair dies with the container's namespace.
    wait_gone_from_test_netns v1
    not_in_test_netns v0
}

@test "netDevices: the host name is kept when name is absent" {
    netdev_bundle nd2 '{"v0": {}}'
    nd create --bundle "$B" nd2 >"$BATS_TEST_TMPDIR/out" 2>&1
    run nd exec nd2 ip -o addr show dev v0
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
    run nd exec nd2 cat /sys/class/net/v0/operstate
    [ "$status" -eq 0 ]
    [ "$output" = up ]
    not_in_test_netns v0
}

@test "netDevices: an eth%d template gets the kernel's free name" {
    netdev_bundle nd3 '{"v0": {"name": "eth%d"}}'
    nd create --bundle "$B" nd3 >"$BATS_TEST_TMPDIR/out" 2>&1
    run nd exec nd3 ip -o addr show dev eth0
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
    run nd exec nd3 ip -o link show eth0
    [[ "$output" == *",UP"* ]]
}

@test "netDevices: two devices" {
    ip -n "$NS" link add w0 type veth peer name w1
    ip -n "$NS" addr add 192.0.2.65/26 dev w0
    netdev_bundle nd4 '{"v0": {"name": "net0"}, "w0": {"name": "net1"}}'
    nd create --bundle "$B" nd4 >"$BATS_TEST_TMPDIR/out" 2>&1
    run nd exec nd4 ip -o addr show dev net0
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
    run nd exec nd4 ip -o addr show dev net1
    [[ "$output" == *"inet 192.0.2.65/26 "* ]]
    not_in_test_netns v0
    not_in_test_netns w0
}

@test "netDevices: the devices are there for the createRuntime hooks" {
    netdev_bundle nd5 '{"v0": {"name": "ctr0"}}'
    # The hook (in the runtime's namespaces) looks into the init's.
    # shellcheck disable=SC2016 # expanded by the hook's shell
    set_config "$B" '.hooks.createRuntime = [{"path": "/bin/sh", "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
        "args": ["sh", "-c",
        "pid=$(jq -r .pid); nsenter --net=/proc/$pid/ns/net ip -o addr show dev ctr0 >'"$BATS_TEST_TMPDIR"'/hook.out"]}]'
    nd create --bundle "$B" nd5 >"$BATS_TEST_TMPDIR/out" 2>&1
    grep -q "inet 192.0.2.1/24 " "$BATS_TEST_TMPDIR/hook.out"
}

@test "netDevices: a name taken in the container's namespace is an error and moves nothing" {
    netdev_bundle nd6 '{"v0": {"name": "lo"}, "v1": {"name": "ctr1"}}'
    run nd create --bundle "$B" nd6
    [ "$status" -eq 1 ]
    [[ "$output" == *'crunpp: config.json: .linux.netDevices.v0: the container'"'"'s network namespace already has a device "lo"'* ]]
    in_test_netns v0
    in_test_netns v1
    # The addresses stayed where they were.
    run ip -n "$NS" -o addr show dev v0
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
    [ ! -e "$STATE_ROOT/nd6" ]
    [ ! -d "/sys/fs/cgroup/unified/$CGROUP_PARENT/nd6" ]
}

@test "netDevices: a missing device is an error and moves nothing" {
    netdev_bundle nd7 '{"v0": {}, "eth9": {}}'
    run nd create --bundle "$B" nd7
    [ "$status" -eq 1 ]
    [[ "$output" == *'crunpp: config.json: .linux.netDevices.eth9: no such network device'* ]]
    in_test_netns v0
    [ ! -e "$STATE_ROOT/nd7" ]
}

@test "netDevices: two entries with the same final name are an error" {
    netdev_bundle nd8 '{"v0": {"name": "ctr0"}, "v1": {"name": "ctr0"}}'
    run nd create --bundle "$B" nd8
    [ "$status" -eq 1 ]
    [[ "$output" == *'config.json: .linux.netDevices.v1: another entry also names its device "ctr0"'* ]]
    in_test_netns v0
    in_test_netns v1
}

@test "netDevices: without a network namespace of its own it is an error" {
    netdev_bundle nd9 '{"v0": {}}'
    set_config "$B" '.linux.namespaces |= map(select(.type != "network"))'
    run nd create --bundle "$B" nd9
    [ "$status" -eq 1 ]
    [[ "$output" == *"crunpp: config.json: .linux.netDevices: needs a network namespace of the container's own"* ]]
    in_test_netns v0
    [ ! -e "$STATE_ROOT/nd9" ]

    # Joining the runtime's own namespace by path is no namespace of its own.
    set_config "$B" ".linux.namespaces += [{\"type\": \"network\", \"path\": \"/run/netns/$NS\"}]"
    run nd create --bundle "$B" nd9
    [ "$status" -eq 1 ]
    [[ "$output" == *"crunpp: config.json: .linux.netDevices: needs a network namespace of the container's own"* ]]
    in_test_netns v0
}

@test "netDevices: a joined network namespace gets the device" {
    local target="crunpp-nd-$$-${BATS_TEST_NUMBER}-target"
    ip netns add "$target"
    netdev_bundle nd10 '{"v0": {"name": "ctr0"}}'
    set_config "$B" ".linux.namespaces |= map(if .type == \"network\" then .path = \"/run/netns/$target\" else . end)"
    nd create --bundle "$B" nd10 >"$BATS_TEST_TMPDIR/out" 2>&1 || {
        ip netns del "$target"
        false
    }
    run ip -n "$target" -o addr show dev ctr0
    nd delete -f nd10
    ip netns del "$target"
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
    not_in_test_netns v0
}

@test "netDevices: a container with its own user namespace gets the device" {
    # Checked by the container's own process (run): exec into a container
    # with a user namespace is not what this test is about.
    netdev_bundle nd13 '{"v0": {"name": "ctr0"}}' \
        sh -c 'ip -o addr show dev ctr0 && ip -o link show ctr0 && ping -c 1 -W 5 192.0.2.2'
    set_config "$B" '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
    # The container's root (host uid 200000) must reach its rootfs.
    _open_path "$B"
    run nd run --bundle "$B" nd13
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
    [[ "$output" == *" ctr0@"*"<"*",UP"*">"* ]]
    [[ "$output" == *"1 packets received"* ]]
}

@test "netDevices: run (create and start in one) moves the device too" {
    netdev_bundle nd11 '{"v0": {"name": "ctr0"}}' ip -o addr show dev ctr0
    run nd run --bundle "$B" nd11
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
}

@test "netDevices: rootless gets a clear EPERM and leaves nothing" {
    require_rootless_user
    make_rootless_bundle "$B" sleep 120
    # The rootless default has no network namespace: one of its own.
    set_config "$B" '.linux.netDevices = {"v0": {"name": "ctr0"}} | .linux.namespaces += [{"type": "network"}]'
    _ensure_rootless_state_root
    _rootless_prefix
    run nsenter --net="/run/netns/$NS" "${ROOTLESS_PREFIX[@]}" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" create --bundle "$B" nd12
    [ "$status" -eq 1 ]
    [[ "$output" == *"crunpp: .linux.netDevices.v0: move into the container's network namespace: Operation not permitted"* ]]
    in_test_netns v0
    run ip -n "$NS" -o addr show dev v0
    [[ "$output" == *"inet 192.0.2.1/24 "* ]]
    [ ! -e "$ROOTLESS_STATE_ROOT/nd12" ]
}
