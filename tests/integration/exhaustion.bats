#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Exhaustion and bad input: a full or read-only state root, a --pid-file on
# a full disk, a 100 MB config.json and process.json. Each fails with one `crunpp: ...` line
# (or works) and leaves no state, cgroup or process behind. The filesystems
# are tmpfs mounts in a private mount namespace (unshare -m), so the host
# never sees them. About 10 seconds.

# The scripts in single quotes expand their variables themselves.
# shellcheck disable=SC2016

load helpers

PREFIX="ex-$$"
MARK=8$$

setup() {
    crunpp_setup
    require_root
    BUNDLE="$BATS_TEST_TMPDIR/bundle"
    make_bundle "$BUNDLE" /bin/sleep "$MARK"
    SMALL="$BATS_TEST_TMPDIR/small"
    mkdir -p "$SMALL"
}

teardown() {
    crunpp_teardown
}

# in_private_ns SCRIPT: runs SCRIPT (bash) in a private mount namespace
# where $SMALL is a 1 MB tmpfs; SCRIPT sees CRUNPP, BUNDLE, SMALL, PREFIX.
in_private_ns() {
    CRUNPP="$CRUNPP" BUNDLE="$BUNDLE" SMALL="$SMALL" PREFIX="$PREFIX" STATE_ROOT="$STATE_ROOT" \
        timeout 120 unshare -m --propagation private bash -c "mount -t tmpfs -o size=1m small \"\$SMALL\" && $1"
}

# Nothing of this test is left: no cgroup, no process of its containers.
nothing_left() {
    local left
    left="$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$PREFIX-*" 2>/dev/null || true)"
    [ -z "$left" ] || {
        echo "left cgroups: $left"
        return 1
    }
    left="$(pgrep -f "^/bin/sleep $MARK\$" || true)"
    [ -z "$left" ] || {
        echo "left processes: $left"
        return 1
    }
}

# One line, "crunpp: ..." naming WHY.
one_error_line() {
    [ "${#lines[@]}" -eq 1 ] && [[ "${lines[0]}" == "crunpp: "* ]] && [[ "${lines[0]}" == *"$1"* ]]
}

@test "a state root on a full filesystem: create and run fail clearly, nothing is left" {
    run in_private_ns '
        mkdir "$SMALL/state" && { dd if=/dev/zero of="$SMALL/fill" bs=64k 2>/dev/null || true; }
        for cmd in create "run -d"; do
            "$CRUNPP" --root "$SMALL/state" $cmd --bundle "$BUNDLE" "$PREFIX-full" </dev/null 2>&1
            echo "status $?"
        done
        ls -A "$SMALL/state"'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 4 ]
    [[ "${lines[0]}" == "crunpp: "*"No space left on device" ]]
    [ "${lines[1]}" = "status 1" ]
    [[ "${lines[2]}" == "crunpp: "*"No space left on device" ]]
    [ "${lines[3]}" = "status 1" ]
    nothing_left
}

@test "a read-only state root: create fails clearly, nothing is left" {
    run in_private_ns '
        mkdir "$SMALL/state" && mount -o remount,ro "$SMALL" &&
        "$CRUNPP" --root "$SMALL/state" create --bundle "$BUNDLE" "$PREFIX-ro" </dev/null 2>&1
        echo "status $?"
        ls -A "$SMALL/state"'
    echo "$output"
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[0]}" == "crunpp: "*"Read-only file system" ]]
    [ "${lines[1]}" = "status 1" ]
    nothing_left
}

@test "a --pid-file on a full filesystem: create fails clearly and leaves no container" {
    run in_private_ns '
        { dd if=/dev/zero of="$SMALL/fill" bs=64k 2>/dev/null || true; }
        "$CRUNPP" --root "$STATE_ROOT" create --pid-file "$SMALL/pid" --bundle "$BUNDLE" "$PREFIX-pid" </dev/null 2>&1
        echo "status $?"
        "$CRUNPP" --root "$STATE_ROOT" list -q'
    echo "$output"
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[0]}" == "crunpp: "*"No space left on device" ]]
    [ "${lines[1]}" = "status 1" ]
    nothing_left
}

# big_json FILE: FILE's JSON with a 100 MB annotation-like string added.
big_json() {
    python3 -c '
import json, sys
path, key = sys.argv[1], sys.argv[2]
d = json.load(open(path))
d[key] = {"org.example.big": "x" * (100 << 20)} if key == "annotations" else "x" * (100 << 20)
json.dump(d, open(path, "w"))' "$1" "$2"
}

@test "a 100 MB process.json for exec: a clear error, the container goes on" {
    crunpp run -d --bundle "$BUNDLE" "$PREFIX-bigexec" >/dev/null 2>&1
    jq '.process' "$BUNDLE/config.json" >"$BATS_TEST_TMPDIR/process.json"
    big_json "$BATS_TEST_TMPDIR/process.json" cwdPadding
    run timeout 60 "$CRUNPP" --root "$STATE_ROOT" exec --process "$BATS_TEST_TMPDIR/process.json" "$PREFIX-bigexec"
    echo "$output"
    [ "$status" -eq 1 ]
    one_error_line "too large"
    [ "$(crunpp state "$PREFIX-bigexec" | jq -r .status)" = running ]
    crunpp delete --force "$PREFIX-bigexec"
    nothing_left
}

@test "a 100 MB config.json: run fails clearly, in bounded time, nothing is left" {
    big_json "$BUNDLE/config.json" annotations
    run timeout 60 "$CRUNPP" --root "$STATE_ROOT" run --bundle "$BUNDLE" "$PREFIX-big" </dev/null
    echo "$output"
    # crunpp reads at most 64 MB of config.json.
    [ "$status" -eq 1 ]
    one_error_line "config.json: too large"
    [ -z "$(find "$STATE_ROOT" -mindepth 1 -maxdepth 1 ! -name .seccomp-cache)" ]
    nothing_left
}

@test "rootless without XDG_RUNTIME_DIR and --root: a clear error naming both" {
    require_rootless_user
    run as_rootless sh -c 'unset XDG_RUNTIME_DIR; exec "$CRUNPP" run --bundle /nonexistent "$0"' "$PREFIX-xdg"
    echo "$output"
    [ "$status" -eq 1 ]
    one_error_line "XDG_RUNTIME_DIR is not set"
    [[ "$output" == *"--root"* ]]
}
