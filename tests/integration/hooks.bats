#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# OCI hooks: every phase in order with the state on stdin, args, env,
# timeout, and what a failure in each phase does; as root and rootless.

load helpers
load lifecycle_helpers
load io_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    require_root
    B="$BATS_TEST_TMPDIR/bundle"
    LOGDIR="$(shared_dir)/log"
    mkdir -p "$LOGDIR"
    chmod 0777 "$LOGDIR"
    LOG="$LOGDIR/log"
    # A host-side hook: "PHASE STATUS ID PID-SET $FOO ARG" appended to LOG.
    HOOK="$(shared_dir)/hook.sh"
    cat >"$HOOK" <<'SH'
#!/bin/sh
state="$(cat)"
pid=$(printf '%s' "$state" | jq -r 'if (.pid // 0) > 0 then "pid" else "nopid" end')
echo "$1 $(printf '%s' "$state" | jq -r '.status + " " + .id') $pid ${FOO:-unset} $2" >>"$3"
SH
    chmod 0755 "$HOOK"
}

teardown() {
    crunpp_teardown
}

# hook JSON for the host-side script: phase name, log file.
host_hook() {
    jq -cn --arg p "$HOOK" --arg phase "$1" --arg log "$2" \
        '{path: $p, args: ["hook", $phase, "arg1", $log], env: ["FOO=bar"]}'
}

all_phases_config() {
    local log_in_container=/out/log
    set_config "$B" "
        .mounts += [{destination: \"/out\", type: \"bind\", source: \"$LOGDIR\", options: [\"rbind\", \"rw\"]}] |
        .hooks = {
          prestart: [$(host_hook prestart "$LOG")],
          createRuntime: [$(host_hook createRuntime "$LOG")],
          createContainer: [$(host_hook createContainer "$LOG")],
          startContainer: [{path: \"/bin/sh\", args: [\"sh\", \"-c\",
              \"s=\$(cat); case \$s in *'\\\"status\\\":\\\"created\\\"'*) st=created;; *) st=other;; esac; echo startContainer \$st \$FOO >>$log_in_container\"],
              env: [\"FOO=bar\"]}],
          poststart: [$(host_hook poststart "$LOG")],
          poststop: [$(host_hook poststop "$LOG")]
        }"
}

expected_log() {
    cat <<EOF2
prestart creating $1 pid bar arg1
createRuntime creating $1 pid bar arg1
createContainer creating $1 pid bar arg1
startContainer created bar
poststart running $1 pid bar arg1
poststop stopped $1 nopid bar arg1
EOF2
}

@test "hooks: all six phases run in order with the state on stdin, their args and env (run)" {
    make_bundle "$B" /bin/true
    all_phases_config
    run -0 crunpp run -b "$B" c1
    diff -u <(expected_log c1) "$LOG"
    assert_no_containers
}

@test "hooks: all six phases with create, start and delete" {
    make_bundle "$B" /bin/sleep 100
    all_phases_config
    crunpp create -b "$B" c1 >/dev/null
    record_pid "$(pid_of c1)"
    [ "$(wc -l <"$LOG")" -eq 3 ]
    crunpp start c1
    [ "$(wc -l <"$LOG")" -eq 5 ]
    crunpp kill c1 KILL
    wait_status c1 stopped
    crunpp delete c1
    diff -u <(expected_log c1) "$LOG"
}

@test "hooks: rootless, all six phases" {
    make_rootless_bundle "$B" /bin/true
    all_phases_config
    run -0 crunpp_rootless run -b "$B" c1
    diff -u <(expected_log c1) "$LOG"
}

@test "hooks: a hook that exceeds its timeout is killed and reported; nothing is left" {
    make_bundle "$B" /bin/true
    set_config "$B" '.hooks = {createRuntime: [{path: "/bin/sleep", args: ["sleep", "99.123"], timeout: 1}]}'
    SECONDS=0
    run crunpp run -b "$B" c1
    [ "$status" -eq 1 ]
    [ "$SECONDS" -lt 10 ]
    [[ "$output" == *'createRuntime hook[0] "/bin/sleep": timed out after 1 s (killed)'* ]]
    assert_no_containers
    ! pgrep -x -f 'sleep 99.123' >/dev/null
}

@test "hooks: a failing prestart, createRuntime or createContainer hook aborts create and cleans up" {
    make_bundle "$B" /bin/sleep 100
    local phase
    for phase in prestart createRuntime createContainer; do
        rm -f "$LOG"
        set_config "$B" ".hooks = {$phase: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"echo broken >&2; exit 3\"]}],
            poststop: [$(host_hook poststop "$LOG")]}"
        run crunpp create -b "$B" c1
        [ "$status" -eq 1 ]
        [[ "$output" == *"$phase hook[0] \"/bin/sh\": exited with status 3: broken"* ]]
        assert_no_containers
        # The failed container is deleted: its poststop hooks run.
        [ "$(cat "$LOG")" = "poststop stopped c1 nopid bar arg1" ]
    done
}

@test "hooks: a failing startContainer hook fails run" {
    make_bundle "$B" /bin/true
    set_config "$B" '.hooks = {startContainer: [{path: "/bin/sh", args: ["sh", "-c", "exit 4"]}]}'
    run crunpp run -b "$B" c1
    [ "$status" -ne 0 ]
    [[ "$output" == *'startContainer hook[0] "/bin/sh": exited with status 4'* ]]
    assert_no_containers
}

@test "hooks: a failing poststart hook stops the container; run and start exit non-zero" {
    make_bundle "$B" /bin/sleep 100
    set_config "$B" '.hooks = {poststart: [{path: "/bin/false"}]}'
    run crunpp run -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *'poststart hook[0] "/bin/false": exited with status 1'* ]]
    assert_no_containers
    crunpp create -b "$B" c2 >/dev/null
    local pid
    pid="$(pid_of c2)"
    record_pid "$pid"
    run crunpp start c2
    [ "$status" -eq 1 ]
    [[ "$output" == *'poststart hook[0] "/bin/false": exited with status 1'* ]]
    [ "$(status_of c2)" = stopped ]
    [ "$(state_of_pid "$pid")" = gone ]
    crunpp delete c2
}

@test "hooks: a failing poststop hook is a warning; delete succeeds" {
    make_bundle "$B" /bin/true
    set_config "$B" '.hooks = {poststop: [{path: "/bin/false"}, {path: "/bin/sh", args: ["sh", "-c", "echo second >'"$LOG"'"]}]}'
    run -0 crunpp run -b "$B" c1
    [[ "$output" == *'poststop hook[0] "/bin/false": exited with status 1'* ]]
    # The next hooks still run.
    [ "$(cat "$LOG")" = second ]
    assert_no_containers
}

@test "hooks: poststart and poststop are those of the config as created, even when the bundle's config changes or goes" {
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" ".hooks = {poststart: [$(host_hook poststart "$LOG")], poststop: [$(host_hook poststop "$LOG")]}"
    crunpp create -b "$B" c1
    record_pid "$(pid_of c1)"
    set_config "$B" '.hooks = {poststart: [{path: "/bin/false"}]}'
    run -0 crunpp start c1
    rm "$B/config.json"
    run -0 crunpp delete --force c1
    [[ "$output" != *warning* ]]
    [ "$(cat "$LOG")" = "poststart running c1 pid bar arg1
poststop stopped c1 nopid bar arg1" ]
    assert_no_containers
}

@test "hooks: a missing hook binary is a clear error" {
    make_bundle "$B" /bin/true
    set_config "$B" '.hooks = {prestart: [{path: "/nonexistent/hook"}]}'
    run crunpp run -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *'prestart hook[0] "/nonexistent/hook": exited with status 127: exec: No such file or directory'* ]]
    assert_no_containers
}
