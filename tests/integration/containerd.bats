#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# containerd 1.6 runs crunpp through its runc shim, as Kubernetes does with a
# RuntimeClass whose BinaryName is crunpp: `ctr run --runc-binary crunpp`.
# The shim calls crunpp with --root R --log L --log-format json and create,
# start, exec, pause, resume, ps, kill, delete; it reads crunpp's errors from
# the JSON log. containerd_helpers.bash starts a private containerd (its own
# root, state, sockets, mount namespace) and stops it at the end.

bats_require_minimum_version 1.5.0
load helpers
load containerd_helpers

setup_file() {
    [ "$(id -u)" -eq 0 ] || skip "containerd needs root"
    local b
    for b in containerd containerd-shim-runc-v2 ctr podman; do
        type -P "$b" >/dev/null || {
            echo "$b is missing (contrib/test.sh installs containerd and podman)" >&2
            return 1
        }
    done
    ctd_start || {
        ctd_stop
        return 1
    }
}

teardown_file() {
    ctd_stop
}

setup() {
    crunpp_setup
}

teardown() {
    # A failed test shows what `run` captured and containerd's last words.
    if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
        echo "last output: ${output:-}"
        tail -n 15 "$CTD_DIR/containerd.log"
    fi
    ctd_cleanup_containers
    crunpp_teardown
}

# ctr run with crunpp as the runtime binary; ID then ctr's own arguments.
ctr_run() {
    ctr run --runc-binary "$CRUNPP" "$@"
}

# The host file holding the memory limit of a task's cgroup, found from
# /proc/PID/cgroup: v1's memory.limit_in_bytes or v2's memory.max.
host_memory_limit_file() {
    local line
    line="$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' "/proc/$1/cgroup")"
    if [ -n "$line" ]; then
        echo "/sys/fs/cgroup/memory${line##*:}/memory.limit_in_bytes"
    else
        line="$(grep '^0::' "/proc/$1/cgroup")"
        echo "/sys/fs/cgroup${line#0::}/memory.max"
    fi
}

@test "ctr run --rm: the output and the exit code of the process" {
    run --separate-stderr ctr_run --rm "$CTD_IMAGE" c1 sh -c 'echo out; echo err >&2; exit 3'
    echo "stderr: $stderr"
    [ "$status" -eq 3 ]
    [ "$output" = out ]
    [ "$stderr" = err ]
    run -0 ctr_run --rm "$CTD_IMAGE" c1 sh -c 'cat /etc/hostname; id -u; echo $$'
    [ "${lines[1]}" = 0 ]
    [ "${lines[2]}" = 1 ]
    # --rm left nothing: no container, no task, no crunpp state.
    [ -z "$(ctr containers ls -q)" ]
    [ -z "$(crunpp_ctd list -q)" ]
}

@test "every crunpp call of the shim succeeds, with --root --log --log-format json" {
    # A runc-binary that logs each call and its status, then is crunpp.
    local wrapper="$BATS_TEST_TMPDIR/crunpp-logged" log="$BATS_TEST_TMPDIR/calls"
    cat >"$wrapper" <<EOF
#!/bin/sh
"$CRUNPP" "\$@"
rc=\$?
echo "\$rc \$*" >>"$log"
exit \$rc
EOF
    chmod 0755 "$wrapper"
    run -0 ctr run --rm --runc-binary "$wrapper" "$CTD_IMAGE" c1 echo hi
    [ "$output" = hi ]
    cat "$log"
    # Every call: the shim's global options, then the command.
    ! grep -v -E "^[0-9]+ --root /run/containerd/runc/$CTD_NS --log [^ ]+/log.json --log-format json " "$log"
    grep -q ' create --bundle [^ ]* --pid-file [^ ]*/init.pid c1$' "$log"
    grep -q ' start c1$' "$log"
    grep -q ' delete c1$' "$log"
    # The shim force-deletes after the delete: a missing container is no
    # error for `delete --force`, as in runc.
    grep -q ' delete --force c1$' "$log"
    ! grep -v '^0 ' "$log"
}

@test "run -d: crunpp's state and ctr task ls agree; task ps lists the init" {
    ctr_run -d "$CTD_IMAGE" c1 sleep 1000
    wait_task_status c1 RUNNING
    local pid
    pid="$(task_pid c1)"
    [ -n "$pid" ]
    run -0 crunpp_ctd state c1
    [ "$(echo "$output" | jq -r .status)" = running ]
    [ "$(echo "$output" | jq -r .pid)" = "$pid" ]
    [ "$(tr '\0' ' ' </proc/"$pid"/cmdline)" = "sleep 1000 " ]
    # The init is pid 1 of its own pid namespace.
    [ "$(awk '/^NSpid:/ { print $NF }' /proc/"$pid"/status)" = 1 ]
    run -0 ctr task ps c1
    [ "$(echo "$output" | awk 'NR > 1 { print $1 }')" = "$pid" ]
    run -0 ctr task kill --signal SIGKILL c1
    wait_task_status c1 STOPPED
    run -0 ctr task delete c1
    run -0 ctr containers delete c1
}

# In the container: the terminal's size once ctr has set it (ctr resizes the
# pty after the process started, with runc too), within 5 s.
WAIT_SIZE='i=0; while [ $i -lt 50 ]; do s="$(stty size 2>/dev/null)"; [ -n "$s" ] && [ "$s" != "0 0" ] && break; i=$((i + 1)); sleep 0.1; done; echo "size $s"'

# The foreground process of a container, in a pty of `script` whose size is
# ROWSxCOLS: `ctr ... -t` needs its stdin to be a terminal. Prints the
# session's output without CRs; the status is the command's.
in_pty() {
    local rows="$1" cols="$2" cmd
    shift 2
    printf -v cmd '%q ' timeout "$CTR_TIMEOUT" nsenter -t "$CTD_PID" -m -- \
        "$CTR_BIN" --address "$CTD_DIR/containerd.sock" --namespace "$CTD_NS" "$@"
    local rc=0
    # `exec`: see _in_pty in podman_helpers.bash (timeout must stay in the
    # terminal's foreground process group).
    SHELL=/bin/sh script -qec "stty rows $rows cols $cols; exec $cmd" /dev/null </dev/null >"$BATS_TEST_TMPDIR/pty.out" 2>&1 || rc=$?
    tr -d '\r' <"$BATS_TEST_TMPDIR/pty.out"
    return "$rc"
}

@test "task exec: output, status, user, cwd; the process joins the container" {
    ctr_run -d "$CTD_IMAGE" c1 sleep 1000
    wait_task_status c1 RUNNING
    local init
    init="$(task_pid c1)"
    # Each exec lingers after its output: ctr 1.6 may cancel its copy of a
    # process's output that exits at once (as often with runc).
    run --separate-stderr ctr task exec --exec-id e1 c1 sh -c 'echo out; echo err >&2; sleep 0.2; exit 4'
    [ "$status" -eq 4 ]
    [ "$output" = out ]
    [ "$stderr" = err ]
    # The container's pid namespace: its init is pid 1 there.
    run -0 ctr task exec --exec-id e2 c1 sh -c 'echo $$; tr "\0" " " </proc/1/cmdline; sleep 0.2'
    [ "${lines[0]}" -gt 1 ]
    [ "${lines[1]}" = "sleep 1000 " ]
    run -0 ctr task exec --exec-id e4 --user 1000 --cwd /tmp c1 sh -c 'id -u; id -g; pwd; sleep 0.2'
    [ "${lines[*]}" = "1000 0 /tmp" ]

    # A detached exec: task ps lists it; same namespaces and cgroup as the
    # init; task kill --exec-id stops only it.
    run -0 ctr task exec --detach --exec-id e5 c1 sleep 999
    local i pids exec_pid=""
    for ((i = 0; i < 50; i++)); do
        pids="$(ctr task ps c1 | awk 'NR > 1 { print $1 }')"
        exec_pid="$(echo "$pids" | grep -vx "$init" | head -n1)"
        [ -n "$exec_pid" ] && break
        sleep 0.1
    done
    [ -n "$exec_pid" ]
    [ "$(tr '\0' ' ' </proc/"$exec_pid"/cmdline)" = "sleep 999 " ]
    local ns
    for ns in pid mnt ipc uts net; do
        [ "$(readlink /proc/"$exec_pid"/ns/$ns)" = "$(readlink /proc/"$init"/ns/$ns)" ]
    done
    [ "$(cat /proc/"$exec_pid"/cgroup)" = "$(cat /proc/"$init"/cgroup)" ]
    run -0 ctr task kill --exec-id e5 --signal SIGKILL c1
    for ((i = 0; i < 50; i++)); do
        _proc_alive "$exec_pid" || break
        sleep 0.1
    done
    ! _proc_alive "$exec_pid"
    _proc_alive "$init"
    [ "$(task_status c1)" = RUNNING ]
}

@test "task exec of a missing binary shows crunpp's error; the task keeps running" {
    ctr_run -d "$CTD_IMAGE" c1 sleep 1000
    wait_task_status c1 RUNNING
    run ctr task exec --exec-id e1 c1 /nonexistent
    [ "$status" -ne 0 ]
    [[ "$output" == *'OCI runtime exec failed: exec: "/nonexistent": stat /nonexistent: no such file or directory'* ]]
    [ "$(task_status c1)" = RUNNING ]
    run -0 ctr task ps c1
    [ "${#lines[@]}" -eq 2 ]
}

@test "task exec -t: a terminal sized by ctr, the status" {
    ctr_run -d "$CTD_IMAGE" c1 sleep 1000
    wait_task_status c1 RUNNING
    run in_pty 30 100 task exec -t --exec-id t1 c1 \
        sh -c "tty; $WAIT_SIZE; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; exit 5"
    [ "$status" -eq 5 ]
    [[ "$output" == *"/dev/pts/"[0-9]* ]]
    [[ "$output" == *"size 30 100"* ]]
    [[ "$output" == *all-tty* ]]
}

@test "ctr run -t: the container's process on a terminal" {
    run in_pty 24 80 run --rm -t --runc-binary "$CRUNPP" "$CTD_IMAGE" c1 \
        sh -c "tty; $WAIT_SIZE; [ -t 0 ] && echo stdin-tty; exit 6"
    [ "$status" -eq 6 ]
    [[ "$output" == *"/dev/pts/0"* ]]
    [[ "$output" == *"size 24 80"* ]]
    [[ "$output" == *stdin-tty* ]]
    [ -z "$(ctr containers ls -q)" ]
}

@test "task pause and resume freeze and thaw the container" {
    ctr_run -d "$CTD_IMAGE" c1 sh -c 'i=0; while :; do i=$((i + 1)); echo $i >/tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.05; done'
    wait_task_status c1 RUNNING
    local pid n1 n2
    pid="$(task_pid c1)"
    run -0 ctr task pause c1
    wait_task_status c1 PAUSED
    [ "$(crunpp_ctd state c1 | jq -r .status)" = paused ]
    n1="$(cat /proc/"$pid"/root/tmp/n)"
    sleep 0.5
    n2="$(cat /proc/"$pid"/root/tmp/n)"
    [ "$n1" = "$n2" ]
    run -0 ctr task resume c1
    wait_task_status c1 RUNNING
    [ "$(crunpp_ctd state c1 | jq -r .status)" = running ]
    sleep 0.5
    n2="$(cat /proc/"$pid"/root/tmp/n)"
    [ "$n2" -gt "$n1" ]
    # A resumed container takes execs again (the shim refuses them paused).
    run -0 ctr task exec --exec-id e1 c1 sh -c 'cat /tmp/n; sleep 0.2'
    [ "$output" -ge "$n2" ]
}

@test "task kill: SIGTERM by default, --signal, the exit status reaches ctr run" {
    # A foreground `ctr run` returns the task's status when another ctr kills it.
    ctr_run --rm "$CTD_IMAGE" c1 sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' \
        >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
    local fg=$!
    wait_task_status c1 RUNNING
    run -0 ctr task kill c1
    local rc=0
    wait "$fg" || rc=$?
    [ "$rc" -eq 7 ]

    ctr_run --rm "$CTD_IMAGE" c2 sleep 1000 >"$BATS_TEST_TMPDIR/out" 2>&1 </dev/null 3>&- &
    fg=$!
    wait_task_status c2 RUNNING
    run -0 ctr task kill --signal SIGKILL c2
    rc=0
    wait "$fg" || rc=$?
    [ "$rc" -eq 137 ]
    [ -z "$(ctr containers ls -q)" ]
}

@test "task delete removes crunpp's state and the cgroup; a running task needs --force" {
    ctr_run -d "$CTD_IMAGE" c1 sleep 1000
    wait_task_status c1 RUNNING
    local pid cgdir
    pid="$(task_pid c1)"
    cgdir="$(dirname "$(host_memory_limit_file "$pid")")"
    [ -d "$cgdir" ]
    run ctr task delete c1
    [ "$status" -ne 0 ]
    [[ "$output" == *"must be stopped"* ]]
    run -0 ctr task delete --force c1
    ! _proc_alive "$pid"
    run crunpp_ctd state c1
    [ "$status" -eq 1 ]
    [[ "$output" == *'container "c1" does not exist'* ]]
    [ ! -d "$cgdir" ]
    [ -z "$(ctr task ls -q)" ]
    run -0 ctr containers delete c1
}

@test "--memory-limit: the limit in the host's cgroup and inside the container" {
    local limit=$((64 * 1024 * 1024))
    ctr_run -d --memory-limit "$limit" \
        --mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:nodev:noexec \
        "$CTD_IMAGE" c1 sh -c '{ cat /sys/fs/cgroup/memory/memory.limit_in_bytes ||
            cat /sys/fs/cgroup/memory.max; } >/tmp/limit 2>&1; exec sleep 1000'
    wait_task_status c1 RUNNING
    local pid file i
    pid="$(task_pid c1)"
    file="$(host_memory_limit_file "$pid")"
    [[ "$file" == */"$CTD_NS"/c1/memory.* ]]
    [ "$(cat "$file")" = "$limit" ]
    # Inside: v1 under /sys/fs/cgroup/memory/, v2 at the top of the mount.
    for ((i = 0; i < 50; i++)); do
        [ "$(readlink /proc/"$pid"/exe)" = /bin/busybox ] && [ -s /proc/"$pid"/root/tmp/limit ] && break
        sleep 0.1
    done
    [ "$(tr '\0' ' ' </proc/"$pid"/cmdline)" = "sleep 1000 " ]
    [ "$(cat /proc/"$pid"/root/tmp/limit)" = "$limit" ]
}

@test "a failing create (missing binary) shows crunpp's error in ctr's output" {
    run ctr_run --rm "$CTD_IMAGE" c1 /nonexistent
    [ "$status" -ne 0 ]
    echo "$output"
    [[ "$output" == *'OCI runtime create failed: exec: "/nonexistent": stat /nonexistent: no such file or directory'* ]]
    # Nothing left: the shim deleted what create made.
    [ -z "$(ctr task ls -q)" ]
    [ -z "$(crunpp_ctd list -q)" ]
    [ ! -d "/sys/fs/cgroup/memory/$CTD_NS/c1" ]
    [ ! -d "/sys/fs/cgroup/$CTD_NS/c1" ]

    # The shim parses the last line of the log: runc's JSON format.
    make_bundle "$BATS_TEST_TMPDIR/b" /nonexistent
    run crunpp --log "$BATS_TEST_TMPDIR/log.json" --log-format json create -b "$BATS_TEST_TMPDIR/b" c2
    [ "$status" -eq 1 ]
    run -0 tail -n 1 "$BATS_TEST_TMPDIR/log.json"
    [[ "$output" =~ ^\{\"level\":\"error\",\"msg\":\"exec:\ \\\"/nonexistent\\\":\ stat\ /nonexistent:\ no\ such\ file\ or\ directory\",\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)\"\}$ ]]
    echo "$output" | jq -e '.level == "error" and (.msg | length > 0)'
}
