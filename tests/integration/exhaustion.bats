#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Exhaustion and bad input: a full or read-only state root, a --pid-file on
# a full disk, a 100 MB config.json and process.json, a hook past its timeout
# or without one, a console socket receiver or seccomp agent that accepts or reads nothing,
# pids.max reached in the caller's cgroup. Each fails with one `crunpp: ...` line
# (or works) and leaves no state, cgroup or process behind. The filesystems
# are tmpfs mounts in a private mount namespace (unshare -m), so the host
# never sees them. About 25 seconds.

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
    rmdir "/sys/fs/cgroup/pids/$PREFIX-caller" 2>/dev/null || true
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

# gone PATTERN: no process whose command line is PATTERN (an ERE) within 5 s
# (a SIGKILLed process needs a moment to go).
gone() {
    for _ in $(seq 50); do
        pgrep -f "$1" >/dev/null || return 0
        sleep 0.1
    done
    echo "still running: $(pgrep -af "$1")"
    return 1
}

@test "a hook past its timeout: the command fails naming the hook and the timeout; the hook and its children are killed" {
    # The shell leaves a child behind it: runc kills only the hook's own
    # process (the child lives on); crunpp kills the hook's process group.
    set_config "$BUNDLE" ".hooks.createRuntime = [{\"path\": \"/bin/sh\", \"timeout\": 1,
        \"args\": [\"sh\", \"-c\", \"/bin/sleep 9$MARK & exec /bin/sleep 9$MARK\"]}]"
    local start=$SECONDS
    run timeout 60 "$CRUNPP" --root "$STATE_ROOT" run -d --bundle "$BUNDLE" "$PREFIX-hookto" </dev/null
    echo "$output"
    [ "$status" -eq 1 ]
    one_error_line 'createRuntime hook[0] "/bin/sh": timed out after 1 s (killed)'
    [ $((SECONDS - start)) -lt 20 ]
    gone "^/bin/sleep 9$MARK\$"
    [ -z "$(crunpp list -q)" ]
    nothing_left
}

@test "a hook without a timeout: crunpp waits for it (as runc); killed, the command fails naming it, nothing is left" {
    set_config "$BUNDLE" ".hooks.createRuntime = [{\"path\": \"/bin/sleep\", \"args\": [\"sleep\", \"7$MARK\"]}]"
    "$CRUNPP" --root "$STATE_ROOT" run -d --bundle "$BUNDLE" "$PREFIX-hooknt" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 &
    local rt=$! hook=""
    record_pid "$rt"
    for _ in $(seq 100); do
        hook="$(pgrep -f "^sleep 7$MARK\$" || true)"
        [ -n "$hook" ] && break
        sleep 0.1
    done
    [ -n "$hook" ]
    sleep 1
    kill -0 "$rt" # still waiting
    kill -KILL "$hook"
    local st=0
    wait "$rt" || st=$?
    cat "$BATS_TEST_TMPDIR/out"
    [ "$st" -eq 1 ]
    run cat "$BATS_TEST_TMPDIR/out"
    one_error_line 'createRuntime hook[0] "/bin/sleep": killed by signal 9'
    [ -z "$(crunpp list -q)" ]
    nothing_left
}

# receiver MODE SOCKET: a console socket receiver in the background that
# never takes what crunpp sends: "backlog" listens with a backlog of 0 and
# one connection already queued, and never accepts (the next connect
# waits); "accept" accepts and then never reads the fd or the pty.
receiver() {
    python3 -c '
import os, socket, sys, time
mode, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(0)
if mode == "backlog":
    q = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    q.connect(path)
open(path + ".ready", "w").close()
if mode == "accept":
    c, _ = s.accept()
time.sleep(120)' "$1" "$2" &
    record_pid $!
    disown $! # the teardown's kill is no news
    for _ in $(seq 50); do
        [ -e "$2.ready" ] && return 0
        sleep 0.1
    done
    return 1
}

@test "a console socket whose receiver accepts nothing: create fails within seconds, nothing is left" {
    set_config "$BUNDLE" '.process.terminal = true'
    local sock="$BATS_TEST_TMPDIR/console.sock" start
    receiver backlog "$sock"
    start=$SECONDS
    run timeout 60 "$CRUNPP" --root "$STATE_ROOT" create --console-socket "$sock" --bundle "$BUNDLE" "$PREFIX-csb" </dev/null
    echo "$output"
    [ "$status" -eq 1 ]
    one_error_line "console socket \"$sock\": connect: the receiver accepted no connection within 5 s"
    [ $((SECONDS - start)) -lt 20 ]
    [ -z "$(crunpp list -q)" ]
    nothing_left
}

@test "a seccomp listener agent that accepts nothing: create fails within seconds, nothing is left" {
    local sock="$BATS_TEST_TMPDIR/agent.sock" start
    set_config "$BUNDLE" ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$sock\",
        \"syscalls\": [{\"names\": [\"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    receiver backlog "$sock"
    start=$SECONDS
    run timeout 60 "$CRUNPP" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$PREFIX-agent" </dev/null
    echo "$output"
    [ "$status" -eq 1 ]
    one_error_line "listenerPath \"$sock\": connect: the agent accepted no connection within 5 s"
    [ $((SECONDS - start)) -lt 20 ]
    [ -z "$(crunpp list -q)" ]
    nothing_left
}

@test "a console socket whose receiver never reads: create returns, the container fills its pty and blocks, delete --force ends it" {
    set_config "$BUNDLE" ".process.terminal = true |
        .process.args = [\"/bin/sh\", \"-c\", \"yes x | head -c 1000000; exec /bin/sleep $MARK\"]"
    local sock="$BATS_TEST_TMPDIR/console.sock"
    receiver accept "$sock"
    timeout 30 "$CRUNPP" --root "$STATE_ROOT" create --console-socket "$sock" --bundle "$BUNDLE" "$PREFIX-csr" </dev/null
    timeout 30 "$CRUNPP" --root "$STATE_ROOT" start "$PREFIX-csr"
    sleep 1
    [ "$(crunpp state "$PREFIX-csr" | jq -r .status)" = running ]
    # Blocked on the full pty: it never got to the sleep.
    [ -z "$(pgrep -f "^/bin/sleep $MARK\$")" ]
    timeout 30 "$CRUNPP" --root "$STATE_ROOT" delete --force "$PREFIX-csr"
    [ -z "$(crunpp list -q)" ]
    nothing_left
}

@test "pids.max reached in the caller's cgroup: run fails clearly or works, nothing is left" {
    local pids=/sys/fs/cgroup/pids
    [ -f "$pids/pids.max" ] || [ -f "$pids/cgroup.procs" ] || skip "no v1 pids hierarchy"
    local cg="$pids/$PREFIX-caller" n out st failures=0
    set_config "$BUNDLE" '.process.args = ["/bin/true"]'
    mkdir "$cg"
    for n in 1 2 3; do
        echo "$n" >"$cg/pids.max"
        st=0
        out="$(CG="$cg" timeout 60 sh -c 'echo $$ >"$CG/cgroup.procs" && exec "$0" "$@"' \
            "$CRUNPP" --root "$STATE_ROOT" run --bundle "$BUNDLE" "$PREFIX-pids$n" </dev/null 2>&1)" || st=$?
        echo "pids.max $n: status $st: $out"
        if [ "$st" -ne 0 ]; then
            failures=$((failures + 1))
            [ "$st" -eq 1 ]
            [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]
            [[ "$out" == "crunpp: "*"Resource temporarily unavailable"* ]]
        fi
        [ -z "$(crunpp list -q)" ]
    done
    echo "failures: $failures"
    [ "$failures" -gt 0 ] # pids.max 1 at least: crunpp cannot fork
    # exec from there into a container started elsewhere: it fails, the
    # container goes on.
    set_config "$BUNDLE" ".process.args = [\"/bin/sleep\", \"$MARK\"]"
    crunpp run -d --bundle "$BUNDLE" "$PREFIX-pidsx" >/dev/null 2>&1
    echo 1 >"$cg/pids.max"
    st=0
    out="$(CG="$cg" timeout 60 sh -c 'echo $$ >"$CG/cgroup.procs" && exec "$0" "$@"' \
        "$CRUNPP" --root "$STATE_ROOT" exec "$PREFIX-pidsx" /bin/true </dev/null 2>&1)" || st=$?
    echo "exec: status $st: $out"
    [ "$st" -eq 1 ]
    [[ "$out" == "crunpp: "*"Resource temporarily unavailable" ]]
    [ "$(crunpp state "$PREFIX-pidsx" | jq -r .status)" = running ]
    [ "$(cat "$cg/pids.current")" -eq 0 ]
    crunpp delete --force "$PREFIX-pidsx"
    rmdir "$cg"
    nothing_left
}
