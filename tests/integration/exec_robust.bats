#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# `exec` is hard to break: crunpp killed at chosen moments of the setup
# (strace holds one syscall of crunpp, its helper or the process, then the
# test kills crunpp), syscalls made to fail, and bad input, each followed by
# a check that nothing is left: no process in the container (seen from the
# host through the init's namespaces and from inside through /proc), no
# crunpp helper, no new fd in the init, no file in the state dir, the
# container's state unchanged.

load helpers
load lifecycle_helpers
load io_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    require_root
    command -v strace >/dev/null || skip "strace is not installed (contrib/test.sh installs it)"
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

# start_c1 [WHO]: c1 running `sleep 1000`; INIT is its host pid; ROOT the
# state root; EXEC_CMD the exec command line for strace; BEFORE is
# the snapshot to compare with.
start_c1() {
    WHO="${1:-root}"
    if [ "$WHO" = rootless ]; then
        make_rootless_bundle "$B" /bin/sleep 1000
        _ensure_rootless_state_root
        _rootless_prefix
        ROOT="$ROOTLESS_STATE_ROOT"
        EXEC_CMD=("${ROOTLESS_PREFIX[@]}" "$CRUNPP" --root "$ROOT" exec)
    else
        make_bundle "$B" /bin/sleep 1000
        ROOT="$STATE_ROOT"
        EXEC_CMD=("$CRUNPP" --root "$ROOT" exec)
    fi
    ctr run -d -b "$B" c1 >/dev/null 2>&1
    INIT="$(ctr state c1 | jq -r .pid)"
    record_pid "$INIT"
    [ "$(ctr state c1 | jq -r .status)" = running ]
    BEFORE="$(snapshot)"
}

# What exec must leave as it found: the state dir's files, the container's
# state, the init's fds, the container's cgroup members.
snapshot() {
    (cd "$ROOT" && find . | sort)
    ctr state c1 | jq -c 'del(.created)'
    fds_of "$INIT"
    local k
    for k in $(jq -r '(.cgroupPaths // {}) | keys[]' "$ROOT/c1/state.json"); do
        echo "$k: $(xargs <"$(jq -r --arg k "$k" '.cgroupPaths[$k]' "$ROOT/c1/state.json")/cgroup.procs")"
    done
}

# Host processes other than the init that are in the container's pid or
# mount namespace (a process or a helper that joined), and crunpp processes
# working on this state root (a helper that has not joined yet). Zombies do
# not count: their reaper is outside the test's control.
leftovers() {
    local p pidns mntns s
    pidns="$(readlink /proc/"$INIT"/ns/pid)"
    mntns="$(readlink /proc/"$INIT"/ns/mnt)"
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = "$INIT" ] && continue
        s="$(awk '{print $3}' "$p/stat" 2>/dev/null)" || continue
        [ "$s" = Z ] && continue
        if [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] || [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$mntns" ]; then
            echo "in the container: ${p#/proc/} $s $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
        elif [ "$(cat "$p/comm" 2>/dev/null)" = crunpp ] && tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$ROOT"; then
            echo "crunpp: ${p#/proc/} $s $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
        fi
    done
}

# The container's own view: every live process but the init and the shell
# that looks.
inside() {
    ctr exec c1 sh -c 'for p in /proc/[0-9]*; do
        n=${p#/proc/}; [ "$n" = 1 ] || [ "$n" = $$ ] && continue
        read -r pid comm state rest <"$p/stat" 2>/dev/null || continue
        [ "$state" = Z ] || echo "$pid $comm $state"
    done'
}

# Waits (at most 10 s) for leftovers to go, then checks every view.
assert_clean() {
    local i left
    for i in $(seq 100); do
        left="$(leftovers)"
        [ -z "$left" ] && break
        sleep 0.1
    done
    [ -z "$left" ] || { echo "left: $left" >&2; return 1; }
    left="$(inside)"
    [ -z "$left" ] || { echo "left inside: $left" >&2; return 1; }
    local after
    after="$(snapshot)"
    [ "$after" = "$BEFORE" ] || { diff <(echo "$BEFORE") <(echo "$after") >&2; return 1; }
}

# kill_at WHEN INJECT [EXEC-ARGS...]: runs `crunpp exec` under strace with
# the injection INJECT (a syscall held by delay_enter), waits until WHEN
# (a function) holds, SIGKILLs crunpp and checks nothing is left.
kill_at() {
    local when="$1" inject="$2"
    shift 2
    local out="$BATS_TEST_TMPDIR/strace.out"
    timeout 60 strace -f -qq -o "$out" -e inject="$inject" "${EXEC_CMD[@]}" "$@" >/dev/null 2>&1 &
    local tracer=$!
    record_pid "$tracer"
    local i strace_pid
    for i in $(seq 100); do
        strace_pid="$(pgrep -P "$tracer" | head -1)" || true
        [ -n "$strace_pid" ] && CRUNPP_PID="$(pgrep -P "$strace_pid" -x crunpp | head -1)" || true
        [ -n "$CRUNPP_PID" ] && "$when" && break
        CRUNPP_PID=
        sleep 0.1
    done
    [ -n "$CRUNPP_PID" ] || { echo "the moment $when never came" >&2; return 1; }
    kill -KILL "$CRUNPP_PID"
    assert_clean
    # strace ends with its last tracee.
    for i in $(seq 100); do
        kill -0 "$tracer" 2>/dev/null || break
        sleep 0.1
    done
    ! kill -0 "$tracer" 2>/dev/null
}

# The moments: crunpp's helper exists (forked, not in the container yet);
# a process exists in the container's pid namespace.
helper_exists() {
    pgrep -P "$CRUNPP_PID" >/dev/null
}
process_exists() {
    local p pidns
    pidns="$(readlink /proc/"$INIT"/ns/pid)"
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = "$INIT" ] && continue
        [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$pidns" ] && return 0
    done
    return 1
}

@test "exec killed: the helper before setns, the helper after the clone, the process before its exec" {
    start_c1
    # The helper held before it joins the namespaces.
    kill_at helper_exists setns:delay_enter=3000000 c1 sleep 300
    # The process exists, its pid not yet sent (the helper's sendmsg held).
    kill_at process_exists sendmsg:delay_enter=3000000:when=1 -d c1 sleep 300
    # The helper's exit held: crunpp waits for it before telling the process to go.
    kill_at process_exists exit_group:delay_enter=3000000 -d c1 sleep 300
    # The process told to go, held at its chdir (as root and as another user:
    # the user switch clears a parent-death signal).
    kill_at process_exists chdir:delay_enter=3000000 c1 sleep 300
    kill_at process_exists chdir:delay_enter=3000000 -u 1000:1000 c1 sleep 300
    kill_at process_exists chdir:delay_enter=3000000 -t c1 sleep 300
}

@test "exec killed, rootless: the helper before setns, after the clone, the process before its exec" {
    start_c1 rootless
    kill_at helper_exists setns:delay_enter=3000000 c1 sleep 300
    kill_at process_exists sendmsg:delay_enter=3000000:when=1 -d c1 sleep 300
    kill_at process_exists chdir:delay_enter=3000000 c1 sleep 300
}

# fails_clean MESSAGE EXEC-ARGS...: `crunpp exec` fails with an error
# containing MESSAGE and leaves nothing.
fails_clean() {
    local message="$1"
    shift
    run crunpp exec "$@"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"$message"* ]]
    assert_clean
}

# The same with strace making one syscall fail.
fails_clean_injected() {
    local message="$1" inject="$2"
    shift 2
    run timeout 60 strace -f -qq -o /dev/null -e inject="$inject" "$CRUNPP" --root "$STATE_ROOT" exec "$@"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"$message"* ]]
    assert_clean
}

@test "exec fails cleanly: bad user, cwd, binary, cgroup, capability, process.json" {
    start_c1
    fails_clean 'chdir to cwd ("/nonexistent") set in config.json failed: No such file or directory' --cwd /nonexistent c1 true
    fails_clean 'exec: "/nonexistent": stat /nonexistent: no such file or directory' c1 /nonexistent
    fails_clean '/nothere: No such file or directory' --cgroup nothere c1 true
    fails_clean '--cap "CAP_NOPE": unknown capability' --cap CAP_NOPE c1 true
    fails_clean '--user "nobody": expected UID or UID:GID' -u nobody c1 true
    local p="$BATS_TEST_TMPDIR/process.json"
    echo '{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "rlimits": [{"type": "RLIMIT_NOPE", "soft": 1, "hard": 1}]}' >"$p"
    fails_clean 'RLIMIT_NOPE' --process "$p" c1
    echo '{"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 2, "hard": 1}]}' >"$p"
    fails_clean 'soft limit 2 is greater than hard limit 1' --process "$p" c1
    # Above the hard limit: refused in the process (root lacks CAP_SYS_RESOURCE here)
    # or allowed; either way nothing is left.
    local hard=$(($(ulimit -Hn) + 1))
    echo "{\"args\": [\"true\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": $hard, \"hard\": $hard}]}" >"$p"
    if (((0x$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 24) & 1)); then
        run crunpp exec --process "$p" c1
        [ "$status" -eq 0 ]
        assert_clean
    else
        fails_clean 'RLIMIT_NOFILE' --process "$p" c1
    fi
    echo '{"args": ["true"' >"$p"
    fails_clean "$p" --process "$p" c1
    # The container still works.
    run crunpp exec c1 echo alive
    [ "$output" = alive ]
}

@test "exec fails cleanly: a syscall of the helper or the process fails" {
    start_c1
    fails_clean_injected "join the container's namespaces (setns): Operation not permitted" setns:error=EPERM c1 true
    # The helper's report of the pid is lost: it exits, the waiting process sees EOF.
    fails_clean_injected "Broken pipe" sendmsg:error=EPIPE:when=1 c1 true
    fails_clean_injected "Disk quota exceeded" keyctl:error=EDQUOT c1 true
    fails_clean_injected "Operation not permitted" capset:error=EPERM c1 true
    fails_clean_injected "Operation not permitted" setresuid:error=EPERM -u 1000 c1 true
}

@test "exec fails cleanly: the container exits during the exec" {
    start_c1
    local out="$BATS_TEST_TMPDIR/exec.out"
    timeout 60 strace -f -qq -o /dev/null -e inject=setns:delay_enter=2000000 "$CRUNPP" --root "$STATE_ROOT" exec c1 sleep 300 >"$out" 2>&1 &
    local tracer=$! i
    record_pid "$tracer"
    # Killed once a process of the exec is held in setns (x86_64: 308), past
    # its check that the container runs: a crunpp just started would still
    # find it stopped.
    local p nr in_setns=0
    for i in $(seq 200); do
        for p in $(pgrep -f -- "$STATE_ROOT exec c1"); do
            read -r nr _ <"/proc/$p/syscall" 2>/dev/null || continue
            [ "$nr" = 308 ] && in_setns=1
        done
        [ "$in_setns" = 1 ] && break
        sleep 0.1
    done
    [ "$in_setns" = 1 ] || { cat "$out"; false; }
    kill -KILL "$INIT"
    local st=0
    wait "$tracer" || st=$?
    cat "$out"
    [ "$st" -ne 0 ]
    grep -q "exec: join the container's namespaces" "$out"
    [ "$(status_of c1)" = stopped ]
    # No process of the exec anywhere (the init's namespaces are gone: by name).
    ! pgrep -f -- "$STATE_ROOT exec c1" >/dev/null
    [ "$(cd "$STATE_ROOT" && find . | sort)" = "$(echo "$BEFORE" | grep '^\.')" ]
}
