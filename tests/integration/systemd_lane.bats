#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# What the systemd lane's guest (contrib/systemd-lane.sh) gives the tests:
# systemd as pid 1 on a pure cgroup v2 hierarchy, the system bus, the test
# user's manager and bus, transient scopes from both managers, podman with
# cgroup_manager = "systemd" and containerd with SystemdCgroup = true, both
# on runc. The lane's smoke suite: every test skips outside that guest
# (tests/systemdlane/guest.sh exports SYSTEMD_LANE=1), since it would change
# a host's engines and managers.

load helpers

# Names made here: "crunpp-sdlane" in each, unique per run.
SDL="crunpp-sdlane-$$"
IMG=localhost/crunpp-sdlane:latest

setup() {
    crunpp_setup
    [ "${SYSTEMD_LANE:-}" = 1 ] || skip "only in the systemd lane's guest (contrib/systemd-lane.sh)"
    # The lane's rootful pass runs every test, its rootless pass (bats in a
    # scope of the test user's manager) the rootless ones: once is enough
    # under TCG.
    if [[ "$BATS_TEST_DESCRIPTION" == *rootless* ]] && [ "${SYSTEMD_LANE_PASS:-}" = rootful ]; then
        skip "in the lane's rootless pass only"
    fi
}

# What a failed engine test left, as the marker files the tests write
# before starting a container say (each podman or ctr call costs seconds
# under TCG, a rootless podman one also a pause process).
teardown() {
    local m="$BATS_TEST_TMPDIR"
    [ -e "$m/.podman" ] && podman rm -f -t 0 "$SDL-pm" >/dev/null 2>&1
    if [ -e "$m/.podman-rootless" ]; then
        as_rootless podman rm -f -t 0 "$SDL-pmu" >/dev/null 2>&1
        kill_pause_process
    fi
    if [ -e "$m/.containerd" ] && systemctl -q is-active "$SDL-containerd.service"; then
        ctr task kill -s KILL "$SDL-ctr" >/dev/null 2>&1
        sleep 0.5
        ctr task rm -f "$SDL-ctr" >/dev/null 2>&1
        ctr container rm "$SDL-ctr" >/dev/null 2>&1
        systemctl stop "$SDL-containerd.service"
    fi
    crunpp_teardown
}

# Rootless podman keeps a pause process (catatonit, in a podman-pause scope
# of the user's manager) holding its namespaces: the tests leave nothing.
kill_pause_process() {
    local f
    f="/run/user/$(rootless_uid)/libpod/tmp/pause.pid"
    [ -f "$f" ] && as_rootless kill "$(cat "$f")" 2>/dev/null
    return 0
}

# The test user's manager, as that user with its bus.
user_systemctl() {
    as_rootless systemctl --user "$@"
}

# podman's image: the busybox rootfs of helpers.bash.
podman_image() {
    tar -C "$ROOTFS_CACHE" -cf "$BATS_TEST_TMPDIR/rootfs.tar" . &&
        podman import "$BATS_TEST_TMPDIR/rootfs.tar" "$IMG" >/dev/null
}

@test "systemd lane: pid 1 is systemd and the boot finished without a failed unit" {
    [ "$(cat /proc/1/comm)" = systemd ]
    [ -d /run/systemd/system ]
    run systemctl list-units --failed --plain --no-legend
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "systemd lane: /sys/fs/cgroup is cgroup2 and no v1 hierarchy is mounted" {
    [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]
    run awk '$9 == "cgroup"' /proc/self/mountinfo
    [ -z "$output" ]
    [ "$(cut -d: -f1,2 /proc/self/cgroup)" = "0:" ]
    grep -qw memory /sys/fs/cgroup/cgroup.subtree_control
    grep -qw pids /sys/fs/cgroup/cgroup.subtree_control
}

@test "systemd lane: the system bus answers, systemd's manager is on it" {
    run busctl --system status
    [ "$status" -eq 0 ]
    [[ "$output" == *BusScope=system* ]]
    run busctl --system get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.systemd1.Manager Version
    [ "$status" -eq 0 ]
    [[ "$output" == 's "252'* ]]
}

@test "systemd lane: rootless: the test user's manager and bus answer at XDG_RUNTIME_DIR/bus" {
    require_rootless_user
    local uid
    uid="$(rootless_uid)"
    [ -S "/run/user/$uid/bus" ]
    [ "$(stat -c %u "/run/user/$uid/bus")" = "$uid" ]
    [ "$(systemctl is-active "user@$uid.service")" = active ]
    run as_rootless busctl --user get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.systemd1.Manager Version
    [ "$status" -eq 0 ]
    [[ "$output" == 's "252'* ]]
}

@test "systemd lane: systemd-run --scope runs a command in a transient scope, gone after it" {
    run systemd-run --quiet --scope --unit="$SDL.scope" cat /proc/self/cgroup
    [ "$status" -eq 0 ]
    [ "$output" = "0::/system.slice/$SDL.scope" ]
    run systemctl show -P LoadState "$SDL.scope"
    [ "$output" = not-found ]
    [ ! -d "/sys/fs/cgroup/system.slice/$SDL.scope" ]
}

@test "systemd lane: rootless: systemd-run --user --scope gives a delegated cgroup the test user owns" {
    require_rootless_user
    local uid
    uid="$(rootless_uid)"
    # shellcheck disable=SC2016 # expanded by the scope's shell
    run as_rootless systemd-run --user --quiet --scope --unit="$SDL-user.scope" -p Delegate=yes \
        sh -c 'cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); echo "$cg"; stat -c %u "$cg"; cat "$cg/cgroup.controllers"; mkdir "$cg/sub" && rmdir "$cg/sub" && echo sub-ok'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/app.slice/$SDL-user.scope" ]
    [ "${lines[1]}" = "$uid" ]
    [[ " ${lines[2]} " == *" memory "* ]]
    [[ " ${lines[2]} " == *" pids "* ]]
    [ "${lines[3]}" = sub-ok ]
    run user_systemctl show -P LoadState "$SDL-user.scope"
    [ "$output" = not-found ]
}

# Every podman call costs seconds under TCG: one run, checked from outside.
@test "systemd lane: podman (cgroup_manager=systemd) runs the local image with runc in a libpod scope" {
    podman_image
    local id
    touch "$BATS_TEST_TMPDIR/.podman"
    id="$(podman run -d --runtime runc --network none --memory 64m --name "$SDL-pm" "$IMG" sleep 100)"
    [ -n "$id" ]
    run systemctl is-active "libpod-$id.scope"
    [ "$output" = active ]
    run systemctl show -P ControlGroup "libpod-$id.scope"
    [ "$output" = "/machine.slice/libpod-$id.scope" ]
    [ "$(systemctl show -P MemoryMax "libpod-$id.scope")" = 67108864 ]
    [ "$(cat "/sys/fs/cgroup/machine.slice/libpod-$id.scope/memory.max")" = 67108864 ]
    podman rm -f -t 0 "$SDL-pm" >/dev/null
    run systemctl show -P LoadState "libpod-$id.scope"
    [ "$output" = not-found ]
}

@test "systemd lane: rootless: podman as the test user runs the local image with runc in its manager's scope" {
    require_rootless_user
    local uid id
    uid="$(rootless_uid)"
    tar -C "$ROOTFS_CACHE" -cf "$BATS_TEST_TMPDIR/rootfs.tar" .
    chmod 0644 "$BATS_TEST_TMPDIR/rootfs.tar"
    _open_path "$BATS_TEST_TMPDIR"
    touch "$BATS_TEST_TMPDIR/.podman-rootless"
    as_rootless podman import "$BATS_TEST_TMPDIR/rootfs.tar" "$IMG" >/dev/null
    id="$(as_rootless podman run -d --runtime runc --network none --name "$SDL-pmu" "$IMG" sleep 100)"
    [ -n "$id" ]
    run user_systemctl show -P ControlGroup "libpod-$id.scope"
    [ "$output" = "/user.slice/user-$uid.slice/user@$uid.service/user.slice/libpod-$id.scope" ]
    [ "$(stat -c %u "/sys/fs/cgroup$output")" = "$uid" ]
    as_rootless podman rm -f -t 0 "$SDL-pmu" >/dev/null
    run user_systemctl show -P LoadState "libpod-$id.scope"
    [ "$output" = not-found ]
    kill_pause_process
}

@test "systemd lane: containerd with SystemdCgroup = true starts; ctr runs a runc container in a scope" {
    local unit="$SDL-containerd.service" id="$SDL-ctr" rootfs="$BATS_TEST_TMPDIR/rootfs" i
    cp -a "$ROOTFS_CACHE" "$rootfs"
    touch "$BATS_TEST_TMPDIR/.containerd"
    systemd-run --quiet --unit="$unit" -p Delegate=yes -p KillMode=process \
        containerd --config /etc/containerd/config.toml
    for ((i = 0; i < 100; i++)); do
        ctr version >/dev/null 2>&1 && break
        sleep 0.2
    done
    run containerd --config /etc/containerd/config.toml config dump
    [[ "$output" == *"SystemdCgroup = true"* ]]
    ctr run -d --rootfs --runc-systemd-cgroup --cgroup "system.slice:ctr:$id" "$rootfs" "$id" /bin/sleep 100
    run systemctl show -P ControlGroup "ctr-$id.scope"
    [ "$output" = "/system.slice/ctr-$id.scope" ]
    run systemctl is-active "ctr-$id.scope"
    [ "$output" = active ]
    ctr_remove_task ctr "$id"
    systemctl stop "$unit"
    run systemctl show -P LoadState "ctr-$id.scope"
    [ "$output" = not-found ]
}
