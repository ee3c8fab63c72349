#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# `exec` beyond exec.bats: seccomp notify (the exec'd process's listener
# reaches the agent with its pid and the container's state), HOME from the
# container's /etc/passwd, rlimits from a process.json, containers without
# a pid namespace, and a created container that has not started.

load helpers
load lifecycle_helpers
load io_helpers
bats_require_minimum_version 1.5.0

AGENT="$REPO_ROOT/build/tests/helpers/seccomp-agent"

setup() {
    crunpp_setup
    require_root
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

# start_agent OUT RULES...: an agent on $SOCK (as the test user when
# WHO=rootless) that writes the state it gets to OUT; waits for the socket.
start_agent() {
    local out="$1"
    shift
    if [ "$WHO" = rootless ]; then
        as_rootless "$AGENT" "$SOCK" "$out" "$@" 3>&- &
    else
        "$AGENT" "$SOCK" "$out" "$@" 3>&- &
    fi
    LAST_AGENT=$!
    record_pid "$LAST_AGENT"
    local i
    for i in $(seq 100); do
        [ -S "$SOCK" ] && return 0
        sleep 0.1
    done
    echo "the agent did not start" >&2
    return 1
}

# Waits (at most 10 s) for PID to exit.
wait_gone() {
    local i
    for i in $(seq 100); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

notify_case() {
    WHO="$1"
    [ -x "$AGENT" ] || skip "no $AGENT (not built in sanitized trees)"
    local dir
    dir="$(shared_dir)"
    SOCK="$dir/agent.sock"
    if [ "$WHO" = rootless ]; then
        make_rootless_bundle "$B" /bin/sleep 1000
    else
        make_bundle "$B" /bin/sleep 1000
    fi
    set_config "$B" ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$SOCK\",
        \"listenerMetadata\": \"exec-meta\",
        \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    # The init's listener goes to a first agent (which then unlinks the socket).
    start_agent "$dir/init.json" mkdir=errno:13 mkdirat=errno:13
    local init_agent=$LAST_AGENT
    ctr run -d -b "$B" c1 >/dev/null 2>&1
    local init
    init="$(ctr state c1 | jq -r .pid)"
    record_pid "$init"
    for i in $(seq 100); do [ -S "$SOCK" ] || break; sleep 0.1; done
    [ "$(jq -r .pid "$dir/init.json")" = "$init" ]
    # The exec'd process's own listener goes to a second agent.
    start_agent "$dir/exec.json" mkdir=errno:42 mkdirat=errno:42
    local exec_agent=$LAST_AGENT
    run ctr exec --pid-file "$dir/exec.pid" c1 sh -c 'mkdir /tmp/d; test -d /tmp/d || echo no-dir'
    echo "$output"
    [ "$status" -eq 0 ]
    # errno 42 (ENOMSG): the exec agent decided.
    [[ "$output" == *"No message of desired type"* ]]
    [[ "$output" == *no-dir* ]]
    wait_gone "$exec_agent"
    jq . "$dir/exec.json"
    [ "$(jq -r .pid "$dir/exec.json")" = "$(cat "$dir/exec.pid")" ]
    [ "$(jq -r .pid "$dir/exec.json")" != "$init" ]
    [ "$(jq -c .fds "$dir/exec.json")" = '["seccompFd"]' ]
    [ "$(jq -r .metadata "$dir/exec.json")" = exec-meta ]
    [ "$(jq -r .state.pid "$dir/exec.json")" = "$init" ]
    [ "$(jq -r .state.id "$dir/exec.json")" = c1 ]
    [ "$(jq -r .state.status "$dir/exec.json")" = running ]
    [ "$(jq -r .state.bundle "$dir/exec.json")" = "$B" ]
    grep -qx 'mkdir errno:42' "$dir/exec.json.log" || grep -qx 'mkdirat errno:42' "$dir/exec.json.log"
    # The init's agent saw nothing of it.
    [ ! -s "$dir/init.json.log" ]
    # No agent: the exec fails, nothing runs.
    run ctr exec c1 touch /tmp/ran
    [ "$status" -eq 1 ]
    [[ "$output" == *"send the seccomp listener to linux.seccomp.listenerPath \"$SOCK\": connect: No such file or directory"* ]]
    run ctr exec c1 sh -c 'ls /tmp/ran 2>&1 || true'
    [ "$status" -eq 1 ]
    ctr kill c1 KILL
    wait_gone "$init_agent"
}

@test "exec + seccomp notify: the process's listener and state reach the agent" {
    notify_case root
}

@test "exec + seccomp notify: rootless" {
    notify_case rootless
}

@test "exec: HOME from the container's /etc/passwd unless set, rlimits from a process.json" {
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" '.process.env |= map(select(startswith("HOME=") | not))'
    crunpp run -d -b "$B" c1 >/dev/null 2>&1
    record_pid "$(pid_of c1)"
    [ "$(crunpp exec c1 sh -c 'echo $HOME')" = /root ]
    [ "$(crunpp exec -u 65534 c1 sh -c 'echo $HOME')" = /nonexistent ]
    [ "$(crunpp exec -u 4321 c1 sh -c 'echo $HOME')" = / ]
    [ "$(crunpp exec -e HOME=/x c1 sh -c 'echo $HOME')" = /x ]
    # The run's own process too.
    set_config "$B" '.process.args = ["sh", "-c", "echo $HOME"]'
    [ "$(crunpp run -b "$B" c2)" = /root ]
    local p="$BATS_TEST_TMPDIR/process.json"
    echo '{"args": ["sh", "-c", "ulimit -Sn; ulimit -Hn; echo $HOME"], "cwd": "/tmp", "user": {"uid": 0, "gid": 0},
           "env": ["PATH=/bin"], "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]}' >"$p"
    run crunpp exec --process "$p" c1
    [ "$status" -eq 0 ]
    [ "$output" = "100
200
/root" ]
    # --cwd must be absolute, as in runc.
    run crunpp exec --cwd tmp c1 true
    [ "$status" -eq 1 ]
    [[ "$output" == *'exec: --cwd "tmp": must be an absolute path'* ]]
}

@test "exec: a container without a pid namespace of its own (the host's)" {
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" '.linux.namespaces |= map(select(.type != "pid"))'
    crunpp run -d -b "$B" c1 >/dev/null 2>&1
    local init
    init="$(pid_of c1)"
    record_pid "$init"
    # The host's pid namespace: the process's pid is its host pid.
    run crunpp exec --pid-file "$BATS_TEST_TMPDIR/exec.pid" c1 sh -c 'readlink /proc/self/ns/pid; echo $$; cat /etc/hostname'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$(readlink /proc/self/ns/pid)" ]
    [ "${lines[1]}" = "$(cat "$BATS_TEST_TMPDIR/exec.pid")" ]
    [ "${lines[2]}" = crunpp ]
    # The container's mount namespace all the same.
    run crunpp exec c1 readlink /proc/self/ns/mnt
    [ "$output" = "$(readlink /proc/"$init"/ns/mnt)" ]
}

@test "exec into a created container that has not started" {
    make_bundle "$B" /bin/sh -c 'echo started'
    crunpp create -b "$B" c1 >"$BATS_TEST_TMPDIR/create.out" 2>&1
    record_pid "$(pid_of c1)"
    run crunpp exec c1 sh -c 'cat /etc/hostname; readlink /proc/self/ns/pid'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = crunpp ]
    [ "${lines[1]}" = "$(readlink /proc/"$(pid_of c1)"/ns/pid)" ]
    [ "$(status_of c1)" = created ]
    crunpp start c1
    wait_status c1 stopped
    crunpp delete c1
}
