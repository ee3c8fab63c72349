#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Regression tests for the known attacks on container runtimes: each builds
# the hostile rootfs or config, runs it (as root and, where it means
# something, rootless), and checks that the host is untouched and the
# container did not get what it aimed for.

load helpers
load lifecycle_helpers
load io_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    require_root
    B="$BATS_TEST_TMPDIR/bundle"
    # Host directories an attack aims at: must stay empty.
    TARGET="$(shared_dir)/host-target"
    mkdir -p "$TARGET"
    chmod 0777 "$TARGET"
}

teardown() {
    crunpp_teardown
}

# bundle WHO ARGS...: a root or rootless bundle.
bundle() {
    local who="$1"
    shift
    if [ "$who" = rootless ]; then
        make_rootless_bundle "$B" "$@"
    else
        make_bundle "$B" "$@"
    fi
}

# runc_as WHO ARGS...: crunpp as root or as the test user.
crunpp_as() {
    local who="$1"
    shift
    if [ "$who" = rootless ]; then
        crunpp_rootless "$@"
    else
        crunpp "$@"
    fi
}

assert_target_untouched() {
    [ -z "$(ls -A "$TARGET")" ] || { ls -la "$TARGET"; false; }
    ! findmnt -rn -o TARGET | grep -qF "$TARGET"
}

# ---- CVE-2024-21626: a cwd through a leaked fd of the runtime ----
cwd_fd_case() {
    local who="$1" n
    bundle "$who" /bin/sh -c 'ls -a; pwd'
    for n in $(seq 3 24); do
        set_config "$B" ".process.cwd = \"/proc/self/fd/$n\""
        run crunpp_as "$who" run -b "$B" c1
        [ "$status" -eq 1 ] || { echo "fd $n: $output"; false; }
        [[ "$output" == *"cwd (\"/proc/self/fd/$n\") set in config.json"* ]]
    done
    assert_no_containers
}

@test "CVE-2024-21626: cwd /proc/self/fd/N never reaches a runtime fd (root)" {
    cwd_fd_case root
}

@test "CVE-2024-21626: cwd /proc/self/fd/N never reaches a runtime fd (rootless)" {
    cwd_fd_case rootless
}

# ---- CVE-2025-31133: masked paths with a planted /dev/null ----
masked_null_case() {
    local who="$1"
    bundle "$who" /bin/sh -c 'stat -c "%F %t:%T" /proc/keys; stat -c "%F" /proc/sys/kernel/core_pattern'
    # The container's /dev is its own directory, where null is a symlink to
    # a procfs file the attacker wants made a mount point (writable).
    mkdir -p "$B/rootfs/evildev"
    ln -s /proc/sys/kernel/core_pattern "$B/rootfs/evildev/null"
    [ "$who" = rootless ] && chown -h "$(rootless_uid):$(rootless_gid)" "$B/rootfs/evildev" "$B/rootfs/evildev/null"
    set_config "$B" '.mounts |= map(select(.destination | startswith("/dev") | not)) |
        .mounts += [{destination: "/dev", type: "bind", source: "rootfs/evildev", options: ["rbind", "rw"]}] |
        .linux.maskedPaths = ["/proc/keys"] | .linux.readonlyPaths = []'
    local before
    before="$(cat /proc/sys/kernel/core_pattern)"
    run crunpp_as "$who" run -b "$B" c1
    echo "$output"
    [ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ]
    if [ "$status" -eq 0 ]; then
        # Masked by the real null device, and core_pattern left alone.
        [ "${lines[0]}" = "character special file 1:3" ]
        [ "${lines[1]}" = "regular empty file" ]
    else
        [[ "$output" == *"/dev/null"* ]]
    fi
    [ -L "$B/rootfs/evildev/null" ]
    assert_no_containers
}

@test "CVE-2025-31133: a planted /dev/null symlink is never bound over a masked path (root)" {
    masked_null_case root
}

@test "CVE-2025-31133: a planted /dev/null symlink is never bound over a masked path (rootless)" {
    masked_null_case rootless
}

# ---- CVE-2025-52565: the console pty and /dev/console ----
@test "CVE-2025-52565: a planted /dev/pts/ptmx is not used for the console" {
    bundle root /bin/true
    set_config "$B" '.process.terminal = true |
        .mounts |= map(if .destination == "/dev/pts" then {destination: "/dev/pts", type: "tmpfs", source: "tmpfs", options: ["nosuid"]} else . end)'
    local sock
    sock="$(shared_dir)/console.sock"
    run crunpp run --console-socket "$sock" -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *"terminal: open \"/dev/pts/ptmx\""* ]]
    assert_no_containers
}

@test "CVE-2025-52565: a /dev/console symlink planted in the rootfs is not followed out of /dev" {
    bundle root /bin/sh -c 'stat -c "%F" /proc/sys/kernel/core_pattern; stat -c "%F %t" /dev/console'
    mkdir -p "$B/rootfs/evildev/pts"
    ln -s /proc/sys/kernel/core_pattern "$B/rootfs/evildev/console"
    set_config "$B" '.process.terminal = true | .linux.maskedPaths = [] | .linux.readonlyPaths = [] |
        .mounts |= map(select(.destination == "/dev" | not)) |
        .mounts = [{destination: "/dev", type: "bind", source: "rootfs/evildev", options: ["rbind", "rw"]}] + .mounts'
    local sock out
    sock="$(shared_dir)/console.sock"
    out="$(shared_dir)/out"
    timeout 30 "$(helper_bin fd-receiver)" pty "$sock" </dev/null >"$out" 2>&1 &
    record_pid $!
    wait_socket "$sock"
    run crunpp run --console-socket "$sock" -b "$B" c1
    echo "status $status: $output"
    cat "$out"
    if [ "$status" -eq 0 ]; then
        grep -q '^regular empty file' "$out"
        grep -q '^character special file 88' "$out"
    else
        [[ "$output" == *"console"* ]]
    fi
    assert_no_containers
}

# ---- CVE-2019-16884 / CVE-2025-52881: /proc writes through a fake /proc ----
fake_proc_case() {
    local who="$1"
    bundle "$who" /bin/true
    # A directory of the rootfs bound over /proc/sys: a naive writer of
    # /proc/sys/kernel/domainname would write this file instead.
    mkdir -p "$B/rootfs/fakesys/kernel"
    echo original >"$B/rootfs/fakesys/kernel/domainname"
    chmod -R a+rwX "$B/rootfs/fakesys"
    set_config "$B" '.linux.sysctl = {"kernel.domainname": "attacked"} | .linux.readonlyPaths = [] |
        .mounts += [{destination: "/proc/sys", type: "bind", source: "rootfs/fakesys", options: ["rbind", "rw"]}]'
    run crunpp_as "$who" run -b "$B" c1
    echo "$output"
    [ "$(cat "$B/rootfs/fakesys/kernel/domainname")" = original ]
    assert_no_containers
}

@test "CVE-2019-16884/CVE-2025-52881: sysctl writes never land in a fake /proc (root)" {
    fake_proc_case root
}

@test "CVE-2019-16884/CVE-2025-52881: sysctl writes never land in a fake /proc (rootless)" {
    fake_proc_case rootless
}

# ---- CVE-2021-30465, CVE-2024-45310, CVE-2026-41579: symlinks out of the rootfs ----
symlink_escape_case() {
    local who="$1" m
    bundle "$who" /bin/true
    local r="$B/rootfs"
    rm -rf "$r/proc"
    ln -s "$TARGET" "$r/proc"                            # absolute
    mkdir -p "$r/mnt"
    ln -s "../../../../../../../../$TARGET" "$r/mnt/up" # relative, climbing
    ln -s "$TARGET" "$r/escape"
    [ "$who" = rootless ] && chown -h "$(rootless_uid):$(rootless_gid)" "$r/proc" "$r/mnt/up" "$r/escape"
    # One hostile destination per run, so that each is tried.
    for m in '{destination: "/mnt/up", type: "tmpfs", source: "tmpfs", options: ["nosuid"]}' \
        '{destination: "/escape/newdir", type: "tmpfs", source: "tmpfs", options: ["nosuid"]}' \
        '{destination: "/escape/newfile", type: "bind", source: "/etc/hostname", options: ["bind", "ro"]}' \
        '{destination: "/mnt/up/deeper/dir", type: "tmpfs", source: "tmpfs", options: ["nosuid"]}'; do
        cp "$B/config.json" "$B/config.orig"
        set_config "$B" ".mounts += [$m]"
        run crunpp_as "$who" run -b "$B" c1
        echo "$m: status $status: $output"
        assert_target_untouched
        assert_no_containers
        cp "$B/config.orig" "$B/config.json"
    done
}

@test "CVE-2021-30465/CVE-2024-45310/CVE-2026-41579: mount destinations through symlinks stay in the rootfs (root)" {
    symlink_escape_case root
}

@test "CVE-2021-30465/CVE-2024-45310/CVE-2026-41579: mount destinations through symlinks stay in the rootfs (rootless)" {
    symlink_escape_case rootless
}

dev_symlink_case() {
    local who="$1"
    bundle "$who" /bin/true
    rm -rf "$B/rootfs/dev"
    ln -s "../../../../../../../$TARGET" "$B/rootfs/dev"
    [ "$who" = rootless ] && chown -h "$(rootless_uid):$(rootless_gid)" "$B/rootfs/dev"
    set_config "$B" '.linux.devices = [{path: "/dev/evil", type: "c", major: 1, minor: 3}]'
    run crunpp_as "$who" run -b "$B" c1
    echo "$output"
    assert_target_untouched
    assert_no_containers
}

@test "CVE-2026-41579: a /dev symlink out of the rootfs creates nothing on the host (root)" {
    dev_symlink_case root
}

@test "CVE-2026-41579: a /dev symlink out of the rootfs creates nothing on the host (rootless)" {
    dev_symlink_case rootless
}

# ---- CVE-2019-5736: the runtime's own binary ----
self_exe_case() {
    local who="$1"
    bundle "$who" /bin/true
    ln -s /proc/self/exe "$B/rootfs/bin/evil-link"
    printf '#!/proc/self/exe\n' >"$B/rootfs/bin/evil-script"
    printf '#!/bin/evil-script\n' >"$B/rootfs/bin/evil-chain"
    chmod 0755 "$B/rootfs/bin/evil-script" "$B/rootfs/bin/evil-chain"
    local before e
    before="$(sha256sum <"$CRUNPP")"
    for e in /bin/evil-link /bin/evil-script /bin/evil-chain; do
        set_config "$B" ".process.args = [\"$e\"]"
        run crunpp_as "$who" run -b "$B" c1
        echo "$output"
        [ "$status" -eq 1 ]
        [[ "$output" == *"exec: \"$e\""* ]]
    done
    [ "$(sha256sum <"$CRUNPP")" = "$before" ]
    assert_no_containers
}

@test "CVE-2019-5736: the container can never run (and so reopen) crunpp's own binary (root)" {
    self_exe_case root
}

@test "CVE-2019-5736: the container can never run (and so reopen) crunpp's own binary (rootless)" {
    self_exe_case rootless
}

@test "CVE-2019-5736: no handle on crunpp's binary while the container waits to start" {
    bundle root /bin/sleep 100
    crunpp create -b "$B" c1 >/dev/null
    local pid
    pid="$(pid_of c1)"
    record_pid "$pid"
    # stdio, and the exec fifo it waits on: nothing else of crunpp's.
    local fd
    for fd in /proc/"$pid"/fd/*; do
        case "${fd##*/}" in
        0 | 1 | 2) ;;
        *) [ "$(readlink "$fd")" = "$STATE_ROOT/c1/exec.fifo" ] || { ls -l /proc/"$pid"/fd; false; } ;;
        esac
    done
}
