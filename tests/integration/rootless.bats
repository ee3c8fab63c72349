#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The lifecycle as an unprivileged user ($ROOTLESS_USER): rootless mode
# without any flag, the config's user namespace or an automatic one.

load helpers
load lifecycle_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    require_rootless_user
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

pid_of_rootless() {
    crunpp_rootless state "$1" | jq -r .pid
}

wait_status_rootless() {
    local id="$1" want="$2" i
    for i in $(seq 100); do
        [ "$(status_of_rootless "$id")" = "$want" ] && return 0
        sleep 0.1
    done
    echo "container $id: status $(status_of_rootless "$id"), expected $want" >&2
    return 1
}

@test "rootless run: exit status, stdout and stderr" {
    make_rootless_bundle "$B" /bin/sh -c 'echo out; echo err >&2; exit 42'
    run --separate-stderr crunpp_rootless run -b "$B" c1
    [ "$status" -eq 42 ]
    [ "$output" = out ]
    [ "$stderr" = err ]
    set_config "$B" '.process.args = ["/bin/true"]'
    run -0 crunpp_rootless run -b "$B" c1
    assert_no_containers "$ROOTLESS_STATE_ROOT"
}

@test "rootless run: a process killed by signal N gives 128+N" {
    # Rootless keeps its pid namespace (it could not mount /proc without):
    # the init dies of a SIGKILL from `kill`.
    make_rootless_bundle "$B" /bin/sleep 100
    _ensure_rootless_state_root
    _rootless_prefix
    "${ROOTLESS_PREFIX[@]}" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" run -b "$B" c1 &
    local runner=$!
    record_pid "$runner"
    local i
    for i in $(seq 100); do
        [ "$(status_of_rootless c1 2>/dev/null)" = running ] && break
        sleep 0.1
    done
    crunpp_rootless kill c1 KILL
    local rc=0
    wait "$runner" || rc=$?
    [ "$rc" -eq 137 ]
    assert_no_containers "$ROOTLESS_STATE_ROOT"
}

@test "rootless run: hostname, env, cwd, rlimits, /dev, mounts and fds from inside" {
    make_rootless_bundle "$B" /bin/sh -c 'hostname; echo "$FOO"; pwd; ulimit -n; ls -A /dev | xargs; ls /proc/self/fd | xargs
        cat /proc/self/mountinfo; echo x >/dev/null && head -c 3 /dev/zero | wc -c'
    set_config "$B" '.hostname = "rootless-host" | .process.env += ["FOO=rootless"] | .process.cwd = "/tmp" |
        .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 555, "hard": 555}]'
    run -0 crunpp_rootless run -b "$B" c1
    [ "${lines[0]}" = rootless-host ]
    [ "${lines[1]}" = rootless ]
    [ "${lines[2]}" = /tmp ]
    [ "${lines[3]}" = 555 ]
    local d
    for d in null zero full random urandom tty pts ptmx shm fd stdin stdout stderr; do
        [[ " ${lines[4]} " == *" $d "* ]] || { echo "missing /dev/$d in: ${lines[4]}"; false; }
    done
    [ "${lines[5]}" = "0 1 2 3" ]
    printf '%s\n' "$output" | awk '$5 == "/proc" && $9 == "proc" { found = 1 } END { exit !found }'
    printf '%s\n' "$output" | awk '$5 == "/sys" { found = 1 } END { exit !found }'
    printf '%s\n' "$output" | awk '$5 == "/proc/sys" && $6 ~ /^ro/ { found = 1 } END { exit !found }'
    ! printf '%s\n' "$output" | awk '{print $5}' | grep -q "^$BATS_RUN_TMPDIR"
    [ "${lines[-1]}" = 3 ]
}

@test "rootless run with the config's user namespace: root inside, the caller outside" {
    make_rootless_bundle "$B" /bin/sh -c 'cat /proc/self/status; echo "map: $(cat /proc/self/uid_map | xargs)"; echo "gmap: $(cat /proc/self/gid_map | xargs)"; id -u; echo pid=$$'
    run -0 crunpp_rootless run -b "$B" c1
    [ "$(status_field Uid "$output")" = "$(printf '0\t0\t0\t0')" ]
    [[ "$output" == *"map: 0 $(rootless_uid) 1"* ]]
    [[ "$output" == *"gmap: 0 $(rootless_gid) 1"* ]]
    [[ "$output" == *pid=1* ]]
    # The capabilities are exactly the config's.
    local set
    for set in bounding effective permitted; do
        local field=CapBnd
        [ "$set" = effective ] && field=CapEff
        [ "$set" = permitted ] && field=CapPrm
        [ "$(status_field "$field" "$output")" = "$(jq -r ".process.capabilities.$set // [] | .[]" "$B/config.json" | cap_mask)" ] ||
            { echo "$set: $(status_field "$field" "$output")"; false; }
    done
    [ "$(status_field NoNewPrivs "$output")" = "$(jq -r 'if .process.noNewPrivileges then 1 else 0 end' "$B/config.json")" ]
}

@test "rootless without a user namespace in the config: one is made with the subordinate ids" {
    make_rootless_bundle "$B" /bin/sh -c 'cat /proc/self/uid_map; echo; cat /proc/self/gid_map'
    set_config "$B" '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'
    run -0 crunpp_rootless run -b "$B" c1
    local uid_start uid_count
    uid_start="$(awk -F: -v u="$ROOTLESS_USER" '$1 == u {print $2; exit}' /etc/subuid)"
    uid_count="$(awk -F: -v u="$ROOTLESS_USER" '$1 == u {print $3; exit}' /etc/subuid)"
    [ "$(echo "${lines[0]}" | xargs)" = "0 $(rootless_uid) 1" ]
    if [ -n "$uid_start" ] && [ -x /usr/bin/newuidmap ]; then
        [ "$(echo "${lines[1]}" | xargs)" = "1 $uid_start $uid_count" ]
    fi
}

@test "rootless create, start, state, kill, delete" {
    make_rootless_bundle "$B" /bin/sleep 100
    crunpp_rootless create -b "$B" c1
    [ "$(status_of_rootless c1)" = created ]
    local pid
    pid="$(pid_of_rootless c1)"
    record_pid "$pid"
    [ "$(stat -c %U /proc/"$pid")" = "$ROOTLESS_USER" ]
    crunpp_rootless start c1
    [ "$(status_of_rootless c1)" = running ]
    run crunpp_rootless delete c1
    [ "$status" -eq 1 ]
    crunpp_rootless kill c1 KILL
    wait_status_rootless c1 stopped
    crunpp_rootless delete c1
    assert_no_containers "$ROOTLESS_STATE_ROOT"
}

@test "rootless delete --force and kill --all" {
    make_rootless_bundle "$B" /bin/sh -c 'sleep 100 & while :; do sleep 1; done'
    crunpp_rootless run -d -b "$B" c1
    record_pid "$(pid_of_rootless c1)"
    [ "$(status_of_rootless c1)" = running ]
    crunpp_rootless kill --all c1 TERM
    [ "$(status_of_rootless c1)" = running ]
    crunpp_rootless delete --force c1
    assert_no_containers "$ROOTLESS_STATE_ROOT"
}

@test "rootless: a stopped container: kill says 'container not running', kill --all succeeds" {
    make_rootless_bundle "$B" /bin/true
    crunpp_rootless run -d -b "$B" c1 </dev/null >/dev/null 2>&1
    wait_status_rootless c1 stopped
    run -1 --separate-stderr crunpp_rootless kill c1 KILL
    [ "$stderr" = "crunpp: kill container c1: container not running" ]
    crunpp_rootless kill --all c1 KILL
    crunpp_rootless kill --all c1 TERM
    [ "$(status_of_rootless c1)" = stopped ]
    crunpp_rootless delete c1
    run -1 --separate-stderr crunpp_rootless kill --all c1 KILL
    [[ "$stderr" == *"does not exist"* ]]
    assert_no_containers "$ROOTLESS_STATE_ROOT"
}

@test "rootless: the missing binary error and no leftovers" {
    make_rootless_bundle "$B" nosuchbinary
    run --separate-stderr crunpp_rootless run -b "$B" c1
    [ "$status" -eq 1 ]
    [ "$stderr" = 'crunpp: exec: "nosuchbinary": executable file not found in $PATH' ]
    run --separate-stderr crunpp_rootless create -b "$B" c1
    [ "$status" -eq 1 ]
    [ "$stderr" = 'crunpp: exec: "nosuchbinary": executable file not found in $PATH' ]
    assert_no_containers "$ROOTLESS_STATE_ROOT"
}

@test "rootless: the default state root is \$XDG_RUNTIME_DIR/crunpp" {
    make_rootless_bundle "$B" /bin/sleep 100
    local root
    root="/run/user/$(rootless_uid)/crunpp"
    local id="h7-rootless-$$-$BATS_TEST_NUMBER"
    as_rootless "$CRUNPP" run -d -b "$B" "$id"
    [ -d "$root/$id" ]
    as_rootless "$CRUNPP" delete -f "$id"
    [ ! -e "$root/$id" ]
}

@test "rootless: signals to run are forwarded" {
    make_rootless_bundle "$B" /bin/sh -c 'trap "echo got-alrm" ALRM; trap "echo got-term; exit 5" TERM
        while :; do sleep 0.1; done'
    # A simple command, so that $! is crunpp (setpriv and env exec it).
    _ensure_rootless_state_root
    _rootless_prefix
    "${ROOTLESS_PREFIX[@]}" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" run -b "$B" c1 >"$BATS_TEST_TMPDIR/stdout" &
    local runner=$!
    record_pid "$runner"
    local i
    for i in $(seq 100); do
        [ "$(status_of_rootless c1 2>/dev/null)" = running ] && break
        sleep 0.1
    done
    sleep 0.3
    # SIGALRM's default would end crunpp: forwarded too.
    kill -ALRM "$runner"
    sleep 0.3
    kill -TERM "$runner"
    local rc=0
    wait "$runner" || rc=$?
    [ "$rc" -eq 5 ]
    [ "$(xargs <"$BATS_TEST_TMPDIR/stdout")" = "got-alrm got-term" ]
    assert_no_containers "$ROOTLESS_STATE_ROOT"
}

@test "the host is left clean after the rootless cases" {
    run leftovers_under "$BATS_RUN_TMPDIR"
    [ -z "$output" ] || { echo "$output"; false; }
}
