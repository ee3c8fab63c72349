#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The container lifecycle as root: run, create/start/state/kill/delete, and
# the process setup checked from inside the container.

load helpers
load lifecycle_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    require_root
    B="$BATS_TEST_TMPDIR/bundle"
    OUT="$BATS_TEST_TMPDIR/out"
}

teardown() {
    crunpp_teardown
}

# A writable host dir at /out in the container, for what a process reports
# while it runs.
mount_out() {
    mkdir -p "$OUT"
    set_config "$B" ".mounts += [{\"destination\": \"/out\", \"type\": \"bind\", \"source\": \"$OUT\", \"options\": [\"rbind\", \"rw\"]}]"
}

@test "run: exit status and stdout/stderr pass through" {
    make_bundle "$B" /bin/sh -c 'echo to-stdout; echo to-stderr >&2; exit 42'
    run --separate-stderr crunpp run -b "$B" c1
    [ "$status" -eq 42 ]
    [ "$output" = to-stdout ]
    [ "$stderr" = to-stderr ]
    set_config "$B" '.process.args = ["/bin/true"]'
    run --separate-stderr crunpp run -b "$B" c1
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ -z "$stderr" ]
    assert_no_containers
}

# Runs crunpp ARGS... with SIGCHLD ignored, as a careless caller may pass it on.
crunpp_sigchld_ignored() {
    python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$CRUNPP" --root "$STATE_ROOT" "$@"
}

@test "run and create also work for a caller that ignores SIGCHLD" {
    make_bundle "$B" /bin/sh -c 'exit 42'
    run crunpp_sigchld_ignored run -b "$B" c1
    [ "$status" -eq 42 ]
    assert_no_containers
    # The forked-init path (a joined namespace) reaps its middle process.
    set_config "$B" '.process.args = ["/bin/sleep", "100"] |
        .linux.namespaces |= map(if .type == "uts" then .path = "/proc/self/ns/uts" else . end) | del(.hostname)'
    # Not under `run`: the created init keeps crunpp's stdout open.
    crunpp_sigchld_ignored create -b "$B" c2 >/dev/null
    record_pid "$(pid_of c2)"
    [ "$(status_of c2)" = created ]
    crunpp delete c2
    assert_no_containers
}

@test "run: a process killed by signal N gives 128+N" {
    # Without its own pid namespace the shell is not an init: it can die of
    # its own signal.
    make_bundle "$B" /bin/sh -c 'kill -USR1 $$'
    set_config "$B" '.linux.namespaces |= map(select(.type != "pid"))'
    run crunpp run -b "$B" c1
    [ "$status" -eq 138 ]
    set_config "$B" '.process.args = ["/bin/sh", "-c", "kill -KILL $$"]'
    run crunpp run -b "$B" c1
    [ "$status" -eq 137 ]
    assert_no_containers
}

@test "run: the process is pid 1, with the config's env and cwd" {
    make_bundle "$B" /bin/sh -c 'echo $$; echo "$FOO"; pwd; echo "$PATH"'
    set_config "$B" '.process.env += ["FOO=bar baz"] | .process.cwd = "/tmp"'
    run -0 crunpp run -b "$B" c1
    [ "${lines[0]}" = 1 ]
    [ "${lines[1]}" = "bar baz" ]
    [ "${lines[2]}" = /tmp ]
    [ "${lines[3]}" = "$(jq -r '.process.env[] | select(startswith("PATH=")) | .[5:]' "$B/config.json")" ]
}

@test "run: hostname and domainname" {
    make_bundle "$B" /bin/sh -c 'hostname; cat /proc/sys/kernel/domainname'
    set_config "$B" '.hostname = "h7-host" | .domainname = "h7.example"'
    run -0 crunpp run -b "$B" c1
    [ "${lines[0]}" = h7-host ]
    [ "${lines[1]}" = h7.example ]
    [ "$(hostname)" != h7-host ]
}

@test "run: sysctl and a time namespace with offsets" {
    make_bundle "$B" /bin/sh -c 'cat /proc/sys/net/ipv4/ip_forward; cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime'
    set_config "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces += [{"type": "time"}] |
        .linux.timeOffsets = {"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": 172800, "nanosecs": 0}}'
    run -0 crunpp run -b "$B" c1
    [ "${lines[0]}" = 1 ]
    [ "$(echo "${lines[1]}" | xargs)" = "monotonic 86400 0" ]
    [ "$(echo "${lines[2]}" | xargs)" = "boottime 172800 0" ]
    # /proc/uptime is boottime: shifted by the offset against the host's.
    local shift=$((${lines[3]} - $(cut -d. -f1 /proc/uptime)))
    [ "$shift" -ge 172790 ] && [ "$shift" -le 172800 ]
}

@test "run: uid, gid, additional groups and the uid_map" {
    make_bundle "$B" /bin/sh -c 'cat /proc/self/status; echo "map: $(cat /proc/self/uid_map)"; id -u; id -G'
    set_config "$B" '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 6]}'
    run -0 crunpp run -b "$B" c1
    [ "$(status_field Uid "$output")" = "$(printf '1000\t1000\t1000\t1000')" ]
    [ "$(status_field Gid "$output")" = "$(printf '1001\t1001\t1001\t1001')" ]
    [ "$(status_field Groups "$output" | xargs)" = "5 6" ]
    [[ "$output" == *"map: "*"0"*"0"*"4294967295"* ]]
    [ "${lines[-2]}" = 1000 ]
    [ "${lines[-1]}" = "1001 5 6" ]
}

@test "run: the five capability sets and NoNewPrivs" {
    make_bundle "$B" /bin/cat /proc/self/status
    set_config "$B" '.process.noNewPrivileges = true | .process.capabilities = {
        "bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_CHOWN", "CAP_KILL"], "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "ambient": ["CAP_CHOWN", "CAP_KILL"]}'
    run -0 crunpp run -b "$B" c1
    local set
    for set in CapInh CapPrm CapEff CapBnd CapAmb; do
        [ "$(status_field "$set" "$output")" = 0000000000000021 ] || { echo "$set"; false; }
    done
    [ "$(status_field NoNewPrivs "$output")" = 1 ]

    # A non-root user keeps only what the config gives it.
    set_config "$B" '.process.noNewPrivileges = false | .process.user = {"uid": 1000, "gid": 1000} |
        .process.capabilities = {"bounding": ["CAP_KILL", "CAP_NET_RAW"], "permitted": ["CAP_KILL"],
        "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"], "effective": ["CAP_KILL"]}'
    run -0 crunpp run -b "$B" c1
    [ "$(status_field CapBnd "$output")" = 0000000000002020 ]
    [ "$(status_field CapPrm "$output")" = 0000000000000020 ]
    [ "$(status_field CapEff "$output")" = 0000000000000020 ]
    [ "$(status_field CapAmb "$output")" = 0000000000000020 ]
    [ "$(status_field NoNewPrivs "$output")" = 0 ]
}

@test "run: an ambient capability that is not inheritable is left out, as runc and crun do" {
    # What buildah (podman build's RUN steps) sends: no inheritable set.
    make_bundle "$B" /bin/cat /proc/self/status
    set_config "$B" '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_KILL"],
        "effective": ["CAP_CHOWN", "CAP_KILL"], "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "ambient": ["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_KILL"]}'
    run -0 crunpp run -b "$B" c1
    [ "$(status_field CapPrm "$output")" = 0000000000000021 ]
    [ "$(status_field CapInh "$output")" = 0000000000000000 ]
    [ "$(status_field CapAmb "$output")" = 0000000000000000 ]
    # Only the inheritable one of two is raised.
    set_config "$B" '.process.capabilities.inheritable = ["CAP_KILL"]'
    run -0 crunpp run -b "$B" c1
    [ "$(status_field CapAmb "$output")" = 0000000000000020 ]
}

@test "run: the process runs on execCPUAffinity.final" {
    [ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
    make_bundle "$B" /bin/sh -c 'grep Cpus_allowed_list /proc/self/status'
    set_config "$B" '.process.execCPUAffinity = {"initial": "0", "final": "1"}'
    run -0 crunpp run -b "$B" c1
    [ "$(echo "$output" | awk '{print $2}')" = 1 ]
    set_config "$B" '.process.execCPUAffinity = {"initial": "1"}'
    run -0 crunpp run -b "$B" c1
    [ "$(echo "$output" | awk '{print $2}')" = 1 ]
}

@test "run: rlimits" {
    make_bundle "$B" /bin/sh -c 'ulimit -n; ulimit -Hn; ulimit -a'
    set_config "$B" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 777, "hard": 888},
        {"type": "RLIMIT_NPROC", "soft": 1234, "hard": 1234}]'
    run -0 crunpp run -b "$B" c1
    [ "${lines[0]}" = 777 ]
    [ "${lines[1]}" = 888 ]
    [[ "$output" == *"open files"*"(-n) 777"* ]]
    [[ "$output" == *"max user processes"*"(-u) 1234"* ]]
}

@test "run: the root is pivoted; mounts, masked and read-only paths as configured" {
    mkdir -p "$BATS_TEST_TMPDIR/data"
    echo host-data >"$BATS_TEST_TMPDIR/data/file"
    make_bundle "$B" /bin/sh -c 'cat /proc/self/mountinfo; echo "keys: $(wc -c </proc/keys)"
        cat /data/file; touch /data/new 2>/dev/null && echo data-writable; echo sysrq >/proc/sysrq-trigger 2>/dev/null && echo sysrq-writable
        touch /scratch/x && echo scratch-ok; ls /'
    set_config "$B" ".mounts += [
        {\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/data\", \"options\": [\"rbind\", \"ro\", \"nosuid\", \"nodev\", \"noexec\"]},
        {\"destination\": \"/scratch\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"size=1m\", \"mode=700\"]}]"
    run -0 crunpp run -b "$B" c1
    local mi
    mi="$(printf '%s\n' "$output" | grep -E '^[0-9]+ [0-9]+ ')"
    # Mount points are container paths only: the host's tree is gone.
    ! printf '%s\n' "$mi" | awk '{print $5}' | grep -q "^$BATS_RUN_TMPDIR"
    printf '%s\n' "$mi" | awk '$5 == "/" { found = 1 } END { exit !found }'
    printf '%s\n' "$mi" | awk '$5 == "/proc" && $9 == "proc" { found = 1 } END { exit !found }'
    printf '%s\n' "$mi" | awk '$5 == "/dev" && $9 == "tmpfs" { found = 1 } END { exit !found }'
    printf '%s\n' "$mi" | awk '$5 == "/dev/pts" && $9 == "devpts" { found = 1 } END { exit !found }'
    printf '%s\n' "$mi" | awk '$5 == "/sys" && $9 == "sysfs" && $6 ~ /^ro/ { found = 1 } END { exit !found }'
    # readonlyPaths and maskedPaths of the default config.
    printf '%s\n' "$mi" | awk '$5 == "/proc/sys" && $6 ~ /^ro/ { found = 1 } END { exit !found }'
    printf '%s\n' "$mi" | awk '$5 == "/proc/keys" { found = 1 } END { exit !found }'
    [[ "$output" == *"keys: 0"* ]]
    # The bind mount with its flags, the tmpfs with its data.
    printf '%s\n' "$mi" | awk '$5 == "/data" && $6 ~ /^ro,/ && $6 ~ /nosuid/ && $6 ~ /nodev/ && $6 ~ /noexec/ { found = 1 } END { exit !found }'
    printf '%s\n' "$mi" | awk '$5 == "/scratch" && $9 == "tmpfs" && $0 ~ /size=1024k/ && $0 ~ /mode=700/ { found = 1 } END { exit !found }'
    [[ "$output" == *host-data* ]]
    [[ "$output" != *data-writable* ]]
    [[ "$output" != *sysrq-writable* ]]
    [[ "$output" == *scratch-ok* ]]
    [ ! -e "$BATS_TEST_TMPDIR/data/new" ]
}

@test "run: root.readonly makes / read-only" {
    make_bundle "$B" /bin/sh -c 'touch /newfile 2>&1; echo rc=$?; touch /tmp/x 2>&1; echo tmp=$?'
    set_config "$B" '.root.readonly = true'
    run -0 crunpp run -b "$B" c1
    [[ "${lines[0]}" == *"Read-only file system"* ]]
    [ "${lines[1]}" = rc=1 ]
    [ ! -e "$B/rootfs/newfile" ]
}

@test "run: /dev holds the default devices and links" {
    make_bundle "$B" /bin/sh -c 'ls -A /dev; echo; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done
        [ -c /dev/null ] && [ -c /dev/zero ] && [ -c /dev/full ] && [ -c /dev/random ] && [ -c /dev/urandom ] && [ -c /dev/tty ] && echo chars-ok
        echo x >/dev/null && head -c 4 /dev/zero | wc -c'
    run -0 crunpp run -b "$B" c1
    local d
    for d in null zero full random urandom tty pts ptmx shm fd stdin stdout stderr mqueue; do
        printf '%s\n' "$output" | grep -qx "$d" || { echo "missing /dev/$d"; false; }
    done
    printf '%s\n' "$output" | grep -qx /proc/self/fd
    printf '%s\n' "$output" | grep -qx /proc/self/fd/0
    printf '%s\n' "$output" | grep -qx /proc/self/fd/1
    printf '%s\n' "$output" | grep -qx /proc/self/fd/2
    printf '%s\n' "$output" | grep -qx pts/ptmx
    printf '%s\n' "$output" | grep -qx chars-ok
    [ "${lines[-1]}" = 4 ]
}

@test "no fd of crunpp leaks into the container process" {
    # Inside: 0, 1, 2 and ls's own fd on the directory it lists (gone by
    # the time it reads the links).
    make_bundle "$B" /bin/sh -c 'ls /proc/self/fd | xargs; ls -l /proc/self/fd/ 2>&1'
    run -0 crunpp run -b "$B" c1
    [ "${lines[0]}" = "0 1 2 3" ]
    [[ "$output" == *"/proc/self/fd/3: cannot read link"* ]]
    # From the host: a created and started process holds exactly 0 1 2.
    set_config "$B" '.process.args = ["/bin/sleep", "100"]'
    crunpp create -b "$B" c2
    local pid
    pid="$(pid_of c2)"
    record_pid "$pid"
    crunpp start c2
    local i
    for i in $(seq 50); do
        [ "$(tr '\0' ' ' </proc/"$pid"/cmdline)" = "/bin/sleep 100 " ] && break
        sleep 0.1
    done
    [ "$(ls /proc/"$pid"/fd | sort -n | xargs)" = "0 1 2" ]
    crunpp delete -f c2
}

@test "create, start, state, kill, delete: the status at each step" {
    make_bundle "$B" /bin/sleep 100
    crunpp create -b "$B" --pid-file "$BATS_TEST_TMPDIR/pid" c1
    [ "$(status_of c1)" = created ]
    local pid
    pid="$(pid_of c1)"
    record_pid "$pid"
    [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$pid" ]
    [ -p "$STATE_ROOT/c1/exec.fifo" ]
    kill -0 "$pid"
    [ "$(crunpp state c1 | jq -r .bundle)" = "$B" ]
    [ "$(crunpp list -q)" = c1 ]
    # crunpp itself is gone: the init's parent is not a crunpp process.
    ! grep -q crunpp "/proc/$(awk '{print $4}' /proc/"$pid"/stat)/comm"

    crunpp start c1
    [ "$(status_of c1)" = running ]
    [ "$(pid_of c1)" = "$pid" ]
    [ ! -e "$STATE_ROOT/c1/exec.fifo" ]

    crunpp kill c1 KILL
    wait_status c1 stopped
    run crunpp state c1
    [ "$status" -eq 0 ]
    # pid 0, as runc and crun: the init's pid is no longer the container's.
    [ "$(echo "$output" | jq .pid)" = 0 ]

    crunpp delete c1
    run crunpp state c1
    [ "$status" -eq 1 ]
    [[ "$output" == *"does not exist"* ]]
    ! kill -0 "$pid" 2>/dev/null
    assert_no_containers
}

@test "delete of a created container kills its init" {
    make_bundle "$B" /bin/sleep 100
    crunpp create -b "$B" c1
    local pid
    pid="$(pid_of c1)"
    record_pid "$pid"
    crunpp delete c1
    assert_no_containers
    local i
    for i in $(seq 50); do
        [ "$(state_of_pid "$pid")" = gone ] && break
        sleep 0.1
    done
    [ "$(state_of_pid "$pid")" = gone ]
}

@test "kill: signal names and numbers, default SIGTERM" {
    make_bundle "$B" /bin/sh -c 'trap "echo usr1 >>/out/log" USR1; trap "echo term >>/out/log; exit 0" TERM
        echo ready >/out/ready; while :; do sleep 0.1; done'
    mount_out
    crunpp create -b "$B" c1
    record_pid "$(pid_of c1)"
    crunpp start c1
    wait_file "$OUT/ready"
    crunpp kill c1 USR1
    sleep 0.3
    crunpp kill c1 SIGUSR1
    sleep 0.3
    crunpp kill c1 10
    sleep 0.3
    crunpp kill c1
    wait_status c1 stopped
    [ "$(cat "$OUT/log" | xargs)" = "usr1 usr1 usr1 term" ]
    run crunpp kill c1 KILL
    [ "$status" -eq 1 ]
    [[ "$output" == *"container not running"* ]]
}

# containerd's runc shim reads these answers by their wording: "container
# not running" means the process is gone; its task delete of an exited
# container runs `kill --all KILL`, which must succeed.
@test "a stopped container: kill says 'container not running'; kill --all and ps reach what is left in its cgroup" {
    # No pid namespace of its own: a background process outlives the init.
    make_bundle "$B" /bin/sh -c 'sleep 100 >/dev/null 2>&1 </dev/null & echo $! >/out/pid'
    set_config "$B" '.linux.namespaces |= map(select(.type != "pid"))'
    mount_out
    crunpp run -d -b "$B" c1 </dev/null >/dev/null 2>&1
    wait_status c1 stopped
    wait_file "$OUT/pid"
    local left i
    left="$(cat "$OUT/pid")"
    record_pid "$left"
    [ "$(state_of_pid "$left")" != gone ]
    run -0 crunpp ps --format json c1
    [ "$output" = "[$left]" ]
    run -0 crunpp ps c1
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[1]}" == *"sleep 100"* ]]
    run -1 --separate-stderr crunpp kill c1 KILL
    [ "$stderr" = "crunpp: kill container c1: container not running" ]
    run -1 --separate-stderr crunpp kill c1 0
    [ "$stderr" = "crunpp: kill container c1: container not running" ]
    [ "$(state_of_pid "$left")" != gone ]
    crunpp kill --all c1 KILL
    for i in $(seq 50); do
        [ "$(state_of_pid "$left")" = gone ] && break
        sleep 0.1
    done
    [ "$(state_of_pid "$left")" = gone ]
    run -0 crunpp ps --format json c1
    [ "$output" = "[]" ]
    # Nothing left: still a success, as in runc.
    crunpp kill --all c1 TERM
    [ "$(status_of c1)" = stopped ]
    crunpp delete c1
    run -1 --separate-stderr crunpp kill --all c1 KILL
    [[ "$stderr" == *"does not exist"* ]]
    run -1 --separate-stderr crunpp delete c1
    [[ "$stderr" == *"does not exist"* ]]
    crunpp delete --force c1
}

# Every command containerd's shim runs, on a container whose process has
# exited, then on a deleted one: crunpp succeeds and fails where runc 1.1.5
# does (same bundle, each runtime with its own --root). The shim reads the
# wording only of kill ("container not running") and of delete and kill on
# a missing container ("does not exist"); exec's status is runc's 255 or 1.
@test "a stopped container, then a deleted one: every shim command succeeds or fails as with runc" {
    command -v runc >/dev/null || skip "runc is not installed"
    make_bundle "$B" /bin/true
    local rt root out cmd
    local -a cmds=("state" "kill c1 KILL" "kill c1 0" "kill --all c1 KILL" "ps c1" "ps --format json c1"
        "pause c1" "resume c1" "exec c1 true" "update --memory 10000000 c1" "events --stats c1" "start c1"
        "delete c1" "delete c1" "kill c1 KILL" "kill --all c1 KILL" "state c1" "ps c1" "exec c1 true"
        "delete --force c1")
    local -a rt_args
    for rt in runc "$CRUNPP"; do
        root="$BATS_TEST_TMPDIR/root-$(basename "$rt")"
        out="$BATS_TEST_TMPDIR/answers-$(basename "$rt")"
        # Both with the same cgroup driver ($CRUNPP has it already).
        rt_args=(--root "$root")
        [ "$rt" = runc ] && rt_args+=("${RUNTIME_CGROUP_ARGS[@]}")
        "$rt" "${rt_args[@]}" run -d -b "$B" c1 </dev/null >/dev/null 2>&1
        local i
        for i in $(seq 50); do
            [ "$("$rt" "${rt_args[@]}" state c1 | jq -r .status)" = stopped ] && break
            sleep 0.1
        done
        for cmd in "${cmds[@]}"; do
            [ "$cmd" = state ] && cmd="state c1"
            # shellcheck disable=SC2086 # one word per argument
            if "$rt" "${rt_args[@]}" $cmd </dev/null >"$BATS_TEST_TMPDIR/o" 2>&1; then
                echo "$cmd: ok" >>"$out"
                # A stopped container's pid: runc prints 0.
                if [ "$cmd" = "state c1" ]; then
                    echo "$cmd: pid $(jq -c .pid "$BATS_TEST_TMPDIR/o")" >>"$out"
                fi
            else
                echo "$cmd: fails" >>"$out"
                case "$cmd" in
                "kill c1 KILL" | "kill c1 0")
                    grep -qE 'container not running|does not exist' "$BATS_TEST_TMPDIR/o" || {
                        cat "$BATS_TEST_TMPDIR/o"
                        return 1
                    }
                    ;;
                esac
            fi
        done
    done
    paste "$BATS_TEST_TMPDIR/answers-runc" "$BATS_TEST_TMPDIR/answers-crunpp"
    cmp "$BATS_TEST_TMPDIR/answers-runc" "$BATS_TEST_TMPDIR/answers-crunpp"
    grep -qx "kill --all c1 KILL: ok" "$BATS_TEST_TMPDIR/answers-crunpp"
    grep -qx "ps --format json c1: ok" "$BATS_TEST_TMPDIR/answers-crunpp"
    grep -qx "delete --force c1: ok" "$BATS_TEST_TMPDIR/answers-crunpp"
    grep -qx "state c1: pid 0" "$BATS_TEST_TMPDIR/answers-crunpp"
}

@test "kill KILL of a paused container kills it (thawed), with or without --all" {
    make_bundle "$B" /bin/sleep 100
    local all pid
    for all in "" --all; do
        crunpp run -d -b "$B" c1 </dev/null >/dev/null 2>&1
        pid="$(pid_of c1)"
        record_pid "$pid"
        crunpp pause c1
        [ "$(status_of c1)" = paused ]
        crunpp kill $all c1 KILL
        wait_status c1 stopped
        [ "$(state_of_pid "$pid")" = gone ]
        crunpp delete c1
    done
}

@test "kill --all signals every process of the container's pid namespace" {
    make_bundle "$B" /bin/sh -c 'sleep 100 & sleep 100 & echo ready >/out/ready; while :; do sleep 1; done'
    mount_out
    crunpp run -d -b "$B" c1
    local pid
    pid="$(pid_of c1)"
    record_pid "$pid"
    wait_file "$OUT/ready"
    count_sleep100() {
        local ns p n=0
        ns="$(readlink /proc/"$pid"/ns/pid)"
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] || continue
            [ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "sleep 100 " ] && n=$((n + 1))
        done
        echo "$n"
    }
    [ "$(count_sleep100)" -eq 2 ]
    # The init (pid 1 of its namespace) has no TERM handler: only --all
    # reaches the others.
    crunpp kill c1 TERM
    sleep 0.3
    [ "$(count_sleep100)" -eq 2 ]
    crunpp kill --all c1 TERM
    local i
    for i in $(seq 50); do
        [ "$(count_sleep100)" -eq 0 ] && break
        sleep 0.1
    done
    [ "$(count_sleep100)" -eq 0 ]
    [ "$(status_of c1)" = running ]
    crunpp kill -a c1 KILL
    wait_status c1 stopped
    crunpp delete c1
}

@test "run forwards the signals it receives to the process" {
    make_bundle "$B" /bin/sh -c 'for s in USR1 ALRM PWR URG 37; do trap "echo got-$s >>/out/log" $s; done
        trap "echo got-term; exit 7" TERM; echo ready >/out/ready; while :; do sleep 0.1; done'
    mount_out
    # Not through the crunpp function: $! must be crunpp itself.
    "$CRUNPP" --root "$STATE_ROOT" run -b "$B" c1 >"$BATS_TEST_TMPDIR/stdout" &
    local runner=$!
    record_pid "$runner"
    wait_file "$OUT/ready"
    # Every signal but SIGCHLD, as runc and crun: SIGALRM's default would
    # end crunpp; SIGRTMIN+3 (37) is systemd's halt.
    local s
    for s in USR1 ALRM PWR URG RTMIN+3; do
        kill -"$s" "$runner"
        sleep 0.3
    done
    kill -TERM "$runner"
    local rc=0
    wait "$runner" || rc=$?
    [ "$rc" -eq 7 ]
    [ "$(xargs <"$OUT/log")" = "got-USR1 got-ALRM got-PWR got-URG got-37" ]
    [ "$(cat "$BATS_TEST_TMPDIR/stdout")" = got-term ]
    assert_no_containers
}

@test "run --detach returns once the process runs; --keep keeps the state" {
    make_bundle "$B" /bin/sleep 100
    crunpp run --detach -b "$B" --pid-file "$BATS_TEST_TMPDIR/pid" c1
    [ "$(status_of c1)" = running ]
    record_pid "$(pid_of c1)"
    [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$(pid_of c1)" ]
    [ "$(tr '\0' ' ' </proc/"$(pid_of c1)"/cmdline)" = "/bin/sleep 100 " ]
    run crunpp delete c1
    [ "$status" -eq 1 ]
    crunpp delete --force c1
    assert_no_containers

    set_config "$B" '.process.args = ["/bin/sh", "-c", "exit 3"]'
    run crunpp run --keep -b "$B" c2
    [ "$status" -eq 3 ]
    [ "$(status_of c2)" = stopped ]
    crunpp delete c2
    assert_no_containers
}

@test "delete --force of a missing container succeeds, plain delete fails (runc)" {
    run --separate-stderr crunpp delete nosuch
    [ "$status" -eq 1 ]
    [ "$stderr" = 'crunpp: container "nosuch" does not exist' ]
    run -0 crunpp delete --force nosuch
    [ -z "$output" ]
    make_bundle "$B" /bin/true
    crunpp run --keep -b "$B" c1
    crunpp delete c1
    # What containerd's shim does after every delete.
    run -0 crunpp delete -f c1
    assert_no_containers
}

@test "start succeeds when the process exits before start has looked at the init" {
    # containerd's shim reaps the exited init at once; leak-guard (a reaping
    # subreaper) does too. strace holds start's pidfd_open back for 300 ms:
    # taken after the exec fifo was opened, /bin/true and its init are gone.
    command -v strace >/dev/null || skip "strace is not installed (contrib/test.sh installs it)"
    local guard="$REPO_ROOT/build/tests/helpers/leak-guard"
    make_bundle "$B" /bin/true
    run -0 "$guard" sh -c '
        "$1" --root "$2" create -b "$3" c1 >/dev/null 2>&1 </dev/null || exit 10
        strace -f -qq -o /dev/null -e trace=pidfd_open -e inject=pidfd_open:delay_enter=300000 \
            "$1" --root "$2" start c1
        ' sh "$CRUNPP" "$STATE_ROOT" "$B"
    [ "$(status_of c1)" = stopped ]
    crunpp delete c1
    assert_no_containers
}

@test "--pid-file is written atomically, without leftovers" {
    make_bundle "$B" /bin/true
    mkdir "$BATS_TEST_TMPDIR/pids"
    crunpp create -b "$B" --pid-file "$BATS_TEST_TMPDIR/pids/c1.pid" c1
    record_pid "$(pid_of c1)"
    [ "$(ls -A "$BATS_TEST_TMPDIR/pids")" = c1.pid ]
    [ "$(cat "$BATS_TEST_TMPDIR/pids/c1.pid")" = "$(pid_of c1)" ]
    crunpp delete c1
}

@test "--config FILE replaces the bundle's config.json; --no-pivot works" {
    make_bundle "$B" /bin/echo from-bundle
    jq '.process.args = ["/bin/echo", "from-other-config"]' "$B/config.json" >"$BATS_TEST_TMPDIR/other.json"
    run -0 crunpp run -b "$B" --config "$BATS_TEST_TMPDIR/other.json" c1
    [ "$output" = from-other-config ]
    run -0 crunpp run -b "$B" -f "$BATS_TEST_TMPDIR/other.json" c1
    [ "$output" = from-other-config ]
    # Relative bundle path, from the bundle's parent.
    run -0 sh -c 'cd "$1" && "$CRUNPP" --root "$2" run -b bundle c1' sh "$BATS_TEST_TMPDIR" "$STATE_ROOT"
    [ "$output" = from-bundle ]
    set_config "$B" '.process.args = ["/bin/sh", "-c", "ls /; echo pid=$$"]'
    run -0 crunpp run --no-pivot -b "$B" c1
    [[ "$output" == *"pid=1"* ]]
    [[ "$output" == *proc* ]]
}

@test "a relative bind source is the bundle's, whatever the caller's cwd" {
    make_bundle "$B" /bin/cat /rel/file
    mkdir "$B/reldata"
    echo in-bundle >"$B/reldata/file"
    set_config "$B" '.mounts += [{"destination": "/rel", "type": "bind", "source": "reldata", "options": ["rbind", "ro"]}]'
    run -0 sh -c 'cd / && "$CRUNPP" --root "$1" run -b "$2" c1' sh "$STATE_ROOT" "$B"
    [ "$output" = in-bundle ]
}

@test "the global --cgroup-manager option is accepted by run" {
    make_bundle "$B" /bin/true
    run -0 "$CRUNPP" --root "$STATE_ROOT" --cgroup-manager disabled run -b "$B" c1
    run -0 "$CRUNPP" --root "$STATE_ROOT" --cgroup-manager cgroupfs run -b "$B" c1
}

@test "a user namespace in the config as root: ids mapped, create/start through the exec fifo" {
    make_bundle "$B" /bin/sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u'
    set_config "$B" '.linux.namespaces += [{"type": "user"}] |
        .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
        .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    # The container's root (host uid 100000) must reach its rootfs.
    _open_path "$B/rootfs"
    run -0 crunpp run -b "$B" c1
    [ "$(echo "${lines[0]}" | xargs)" = "0 100000 65536" ]
    [ "$(echo "${lines[1]}" | xargs)" = "0 100000 65536" ]
    [ "${lines[2]}" = 0 ]
    # create/start: the init (host uid 100000) opens the fifo in the state dir.
    set_config "$B" '.process.args = ["/bin/sleep", "100"]'
    crunpp create -b "$B" c2
    record_pid "$(pid_of c2)"
    crunpp start c2
    [ "$(status_of c2)" = running ]
    [ "$(awk '/^Uid:/ {print $2}' /proc/"$(pid_of c2)"/status)" = 100000 ]
    crunpp delete -f c2
    assert_no_containers
}

@test "idmapped mounts in a container with a user namespace (made by the host side)" {
    mkdir -p "$BATS_TEST_TMPDIR/data"
    echo x >"$BATS_TEST_TMPDIR/data/file"
    chown 0:0 "$BATS_TEST_TMPDIR/data/file"
    require_idmapped_mounts "$BATS_TEST_TMPDIR/data"
    make_bundle "$B" /bin/sh -c 'stat -c "%u:%g" /idmapped/file /plain/file /own-maps/file'
    _open_path "$B/rootfs"
    _open_path "$BATS_TEST_TMPDIR/data"
    # The container's root (host 100000) cannot create them in a root-owned rootfs.
    mkdir "$B/rootfs/idmapped" "$B/rootfs/plain" "$B/rootfs/own-maps"
    set_config "$B" ".linux.namespaces += [{\"type\": \"user\"}] |
        .linux.uidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}] |
        .linux.gidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}] |
        .mounts += [
          {\"destination\": \"/idmapped\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/data\", \"options\": [\"rbind\", \"idmap\"]},
          {\"destination\": \"/plain\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/data\", \"options\": [\"rbind\"]},
          {\"destination\": \"/own-maps\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/data\", \"options\": [\"rbind\"],
           \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100005, \"size\": 1}], \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100006, \"size\": 1}]}]"
    # Host root's file: root through the container's mappings, unmapped
    # (nobody) without, and 5:6 through the mount's own mappings (disk 0
    # -> host 100005/100006 -> container 5/6).
    run -0 crunpp run -b "$B" c1
    [ "${lines[0]}" = 0:0 ]
    [ "${lines[1]}" = 65534:65534 ]
    [ "${lines[2]}" = 5:6 ]
    # The same through create/start.
    crunpp create -b "$B" c2
    record_pid "$(pid_of c2)"
    crunpp start c2
    crunpp delete -f c2
    assert_no_containers
}

@test "joining a namespace by path" {
    make_bundle "$B" /bin/sh -c 'hostname; readlink /proc/self/ns/uts'
    mount_out
    # A holder process with its own uts namespace, started by this test.
    unshare --uts sh -c 'hostname joined-uts; echo ready >"$1"; exec sleep 100' sh "$OUT/holder" &
    local holder=$!
    record_pid "$holder"
    wait_file "$OUT/holder"
    set_config "$B" ".linux.namespaces |= map(if .type == \"uts\" then .path = \"/proc/$holder/ns/uts\" else . end) | del(.hostname)"
    run -0 crunpp run -b "$B" c1
    [ "${lines[0]}" = joined-uts ]
    [ "${lines[1]}" = "$(readlink /proc/"$holder"/ns/uts)" ]

    # create/start: the init is a fork (the pid namespace is unshared after
    # the join); the state records that process, pid 1 of its namespace.
    set_config "$B" '.process.args = ["/bin/sleep", "100"]'
    crunpp create -b "$B" c2
    local pid
    pid="$(pid_of c2)"
    record_pid "$pid"
    [ "$(readlink /proc/"$pid"/ns/uts)" = "$(readlink /proc/"$holder"/ns/uts)" ]
    [ "$(awk '/^NSpid:/ {print $NF}' /proc/"$pid"/status)" = 1 ]
    crunpp start c2
    [ "$(status_of c2)" = running ]
    crunpp delete -f c2
    [ "$(state_of_pid "$pid")" = gone ]

    # A failure in that forked init is reported and leaves nothing.
    set_config "$B" '.process.args = ["/bin/nonexistent"]'
    run --separate-stderr crunpp run -b "$B" c3
    [ "$status" -eq 1 ]
    [ "$stderr" = 'crunpp: exec: "/bin/nonexistent": stat /bin/nonexistent: no such file or directory' ]
    assert_no_containers
    kill "$holder"
}

@test "joining a user namespace by path: the other namespaces belong to it" {
    make_bundle "$B" /bin/sh -c 'cat /proc/self/uid_map; id -u; echo pid=$$'
    mkdir -p "$OUT"
    unshare --user --map-root-user sh -c 'echo ready >"$1"; exec sleep 100' sh "$OUT/holder" &
    local holder=$!
    record_pid "$holder"
    wait_file "$OUT/holder"
    set_config "$B" ".linux.namespaces += [{\"type\": \"user\", \"path\": \"/proc/$holder/ns/user\"}] |
        del(.linux.uidMappings, .linux.gidMappings)"
    run -0 crunpp run -b "$B" c1
    [ "$(echo "${lines[0]}" | xargs)" = "0 0 1" ]
    [ "${lines[1]}" = 0 ]
    [ "${lines[2]}" = pid=1 ]
    kill "$holder"
}

@test "joining a user namespace mapped to other ids: idmapped mounts made before the clone" {
    mkdir -p "$OUT" "$BATS_TEST_TMPDIR/data"
    echo x >"$BATS_TEST_TMPDIR/data/file"
    require_idmapped_mounts "$BATS_TEST_TMPDIR/data"
    make_bundle "$B" /bin/sh -c 'cat /proc/self/uid_map; stat -c "%u" /idmapped/file /plain/file'
    mkdir "$B/rootfs/idmapped" "$B/rootfs/plain"
    _open_path "$B/rootfs"
    _open_path "$BATS_TEST_TMPDIR/data"
    unshare --user sh -c 'echo ready >"$1"; exec sleep 100' sh "$OUT/holder" &
    local holder=$!
    record_pid "$holder"
    wait_file "$OUT/holder"
    echo "0 100000 65536" >/proc/"$holder"/uid_map
    echo "0 100000 65536" >/proc/"$holder"/gid_map
    set_config "$B" ".linux.namespaces += [{\"type\": \"user\", \"path\": \"/proc/$holder/ns/user\"}] |
        del(.linux.uidMappings, .linux.gidMappings) |
        .mounts += [
          {\"destination\": \"/idmapped\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/data\", \"options\": [\"rbind\", \"idmap\"]},
          {\"destination\": \"/plain\", \"type\": \"bind\", \"source\": \"$BATS_TEST_TMPDIR/data\", \"options\": [\"rbind\"]}]"
    run -0 crunpp run -b "$B" c1
    [ "$(echo "${lines[0]}" | xargs)" = "0 100000 65536" ]
    [ "${lines[1]}" = 0 ]
    [ "${lines[2]}" = 65534 ]
    kill "$holder"
}

@test "the host is left clean: no container process or mount of this run" {
    run leftovers_under "$BATS_RUN_TMPDIR"
    [ -z "$output" ] || { echo "$output"; false; }
}
