#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Docker Engine (Debian's docker.io 20.10) on crunpp, registered in
# daemon.json as users do: every case runs the same docker commands with
# --runtime runc and --runtime crunpp and compares what they observe
# (dk_compare), then checks crunpp's observations against what the case
# expects. The last cases run with "default-runtime": "crunpp" (docker build,
# whose RUN steps use the default runtime, among them). The daemon is private
# to this file (docker_helpers.bash).

load helpers
load podman_helpers
load docker_helpers
bats_require_minimum_version 1.5.0

setup_file() {
    [ "$(id -u)" -eq 0 ] || return 0
    [ -x "$DOCKER_BIN" ] && command -v dockerd >/dev/null 2>&1 || return 0
    dk_start runc
}

teardown_file() {
    [ -f "$BATS_FILE_TMPDIR/dk-dir" ] || return 0
    dk_reattach
    dk_stop
}

setup() {
    crunpp_setup
    require_root
    require_docker
    [ -n "${DK_PID:-}" ] || skip "dockerd did not start in setup_file"
    DK_PID="$(cat "$DK_DIR/docker.pid")"
}

teardown() {
    dk_rm_all
    crunpp_teardown
}

# dk_compare FN [ARGS...]: FN RUNTIME ARGS... prints what it observes (exit
# statuses included: a status is an observation, not a failure); runs under
# runc, then crunpp; they must print the same, and something.
dk_compare() {
    local fn="$1" rt
    shift
    for rt in runc crunpp; do
        # In a || list: a failing command is an observation, not the end.
        { "$fn" "$rt" "$@" || echo "$fn returned $?"; } >"$BATS_TEST_TMPDIR/seen.$rt" 2>"$BATS_TEST_TMPDIR/seen.$rt.err"
    done
    if [ ! -s "$BATS_TEST_TMPDIR/seen.crunpp" ]; then
        echo "$fn printed nothing under crunpp; its stderr:" >&2
        cat "$BATS_TEST_TMPDIR/seen.crunpp.err" >&2
        return 1
    fi
    diff -u "$BATS_TEST_TMPDIR/seen.runc" "$BATS_TEST_TMPDIR/seen.crunpp" || {
        echo "---- stderr under crunpp:" >&2
        cat "$BATS_TEST_TMPDIR/seen.crunpp.err" >&2
        return 1
    }
}

# saw LINE...: crunpp's observations (of the last dk_compare) include LINE.
saw() {
    local line
    for line in "$@"; do
        grep -qxF -- "$line" "$BATS_TEST_TMPDIR/seen.crunpp" || {
            echo "expected the line \"$line\"; crunpp's observations:" >&2
            cat "$BATS_TEST_TMPDIR/seen.crunpp" >&2
            echo "---- stderr:" >&2
            cat "$BATS_TEST_TMPDIR/seen.crunpp.err" >&2
            return 1
        }
    done
}

# Runs docker ARGS... and prints "LABEL: STATUS".
status_of() {
    local label="$1" rc=0
    shift
    dk "$@" >/dev/null 2>&1 || rc=$?
    echo "$label: $rc"
}

# ---- run ----

_exit_codes() {
    local rt="$1"
    status_of true run --rm --runtime "$rt" "$DK_IMG" true
    status_of exit3 run --rm --runtime "$rt" "$DK_IMG" sh -c 'exit 3'
    status_of not-executable run --rm --runtime "$rt" "$DK_IMG" /etc/passwd
    status_of missing run --rm --runtime "$rt" "$DK_IMG" /nonexistent
    status_of missing-in-path run --rm --runtime "$rt" "$DK_IMG" nonexistent
    # PID 1 cannot SIGKILL itself: docker kill does, while `run --rm` waits.
    local pid i rc=0
    dk run --rm --runtime "$rt" --name "x-$rt" "$DK_IMG" sleep 100 >/dev/null 2>&1 &
    pid=$!
    for i in $(seq 100); do
        [ "$(dk inspect --format '{{.State.Running}}' "x-$rt" 2>/dev/null)" = true ] && break
        sleep 0.1
    done
    dk kill "x-$rt" >/dev/null
    wait "$pid" || rc=$?
    echo "killed: $rc"
    dk ps -aq | wc -l | sed 's/^/left: /'
}

@test "docker run --rm: exit codes 0, 3, 126, 127, 137 as with runc" {
    dk_compare _exit_codes
    saw "true: 0" "exit3: 3" "not-executable: 126" "missing: 127" "missing-in-path: 127" \
        "killed: 137" "left: 0"
}

_stdin_tty() {
    local rt="$1"
    printf 'x\ny\n' | dk run --rm -i --runtime "$rt" "$DK_IMG" sh -c 'cat; echo done; [ -t 0 ] || echo stdin-not-tty'
    echo "status: $?"
    dk_tty run --rm -t --runtime "$rt" "$DK_IMG" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; exit 4' | tr -d '\r'
    echo "status: ${PIPESTATUS[0]}"
}

@test "docker run -i and -t: stdin reaches the container; -t gives it a pty of its own" {
    dk_compare _stdin_tty
    saw x y "done" stdin-not-tty /dev/pts/0 both-tty "status: 0" "status: 4"
}

# ---- a detached container ----

_detached() {
    local rt="$1" c="d-$1"
    dk run -d --runtime "$rt" --name "$c" "$DK_IMG" sh -c 'echo started; exec sleep 100' >/dev/null
    dk_wait_log "$c" started && echo "log: started"
    dk exec "$c" sh -c 'echo in-exec'
    status_of exec-exit5 exec "$c" sh -c 'exit 5'
    echo piped | dk exec -i "$c" cat
    dk exec -u 65534:65534 -e FOO=bar -w /tmp "$c" sh -c 'echo "$(id -u):$(id -g) $FOO $(pwd)"'
    dk exec -d "$c" sleep 77
    dk exec "$c" ps -o args | grep -x 'sleep 77'
    dk_tty exec -t "$c" sh -c 'tty; [ -t 0 ] && echo stdin-tty' | tr -d '\r'
    dk top "$c" -o pid,args | awk 'NR > 1 { $1 = ""; print substr($0, 2) }' | grep -E '^sleep (100|77)$' | sort
    status_of exec-missing exec "$c" /nonexistent
}

@test "docker run -d, logs, exec (status, -i, -u -e -w, -d, -t), top" {
    dk_compare _detached
    saw "log: started" in-exec "exec-exit5: 5" piped "65534:65534 bar /tmp" "sleep 77" \
        /dev/pts/0 stdin-tty "sleep 100" "exec-missing: 126"
}

_stop() {
    local rt="$1" c="s-$1" start
    dk run -d --runtime "$rt" --name "$c" "$DK_IMG" \
        sh -c 'trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done' >/dev/null
    dk_wait_log "$c" started
    status_of stop stop -t 5 "$c"
    dk inspect --format 'exit code: {{.State.ExitCode}}' "$c"
    dk logs "$c" | grep -x got-term
    dk run -d --runtime "$rt" --name "$c-2" "$DK_IMG" \
        sh -c 'trap "" TERM; echo started; while :; do sleep 0.1; done' >/dev/null
    dk_wait_log "$c-2" started
    start=$SECONDS
    status_of stop-ignored stop -t 2 "$c-2"
    [ $((SECONDS - start)) -ge 2 ] && echo "waited the timeout"
    dk inspect --format 'exit code: {{.State.ExitCode}}' "$c-2"
}

@test "docker stop: SIGTERM first, SIGKILL after -t" {
    dk_compare _stop
    saw "stop: 0" "exit code: 7" got-term "stop-ignored: 0" "waited the timeout" "exit code: 137"
}

_kill() {
    local rt="$1" c="k-$1" pid sig
    for sig in TERM HUP USR1; do
        dk run -d --runtime "$rt" --name "$c-$sig" "$DK_IMG" \
            sh -c "trap 'echo got-$sig; exit 9' $sig; echo started; while :; do sleep 0.1; done" >/dev/null
        dk_wait_log "$c-$sig" started
        status_of "kill -s $sig" kill -s "$sig" "$c-$sig"
        dk wait "$c-$sig"
        dk logs "$c-$sig" | grep -x "got-$sig"
    done
    dk run -d --runtime "$rt" --name "$c" "$DK_IMG" sleep 100 >/dev/null
    status_of kill kill "$c"
    dk wait "$c"
    dk run -d --runtime "$rt" --name "$c-rm" "$DK_IMG" sleep 100 >/dev/null
    pid="$(dk_pid "$c-rm")"
    status_of rm-f rm -f "$c-rm"
    kill -0 "$pid" 2>/dev/null || echo "process gone"
    dk ps -a --format '{{.Names}}' | grep -c -x "$c-rm" | sed 's/^/listed: /'
}

@test "docker kill -s TERM/HUP/USR1 reach the process; kill; rm -f of a running container" {
    dk_compare _kill
    saw "kill -s TERM: 0" got-TERM "kill -s HUP: 0" got-HUP "kill -s USR1: 0" got-USR1 9 \
        "kill: 0" 137 "rm-f: 0" "process gone" "listed: 0"
}

_restart_pause() {
    local rt="$1" c="r-$1" pid1 pid2 f
    dk run -d --runtime "$rt" --name "$c" "$DK_IMG" sh -c 'echo started; exec sleep 100' >/dev/null
    dk_wait_log "$c" started
    pid1="$(dk_pid "$c")"
    status_of restart restart -t 0 "$c"
    pid2="$(dk_pid "$c")"
    [ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ] && echo "new init"
    dk logs "$c" | grep -c -x started | sed 's/^/started: /'
    dk exec "$c" echo alive
    f="$(dk_cgroup_file "$c" freezer freezer.state)"
    status_of pause pause "$c"
    echo "paused: $(cat "$f") $(dk inspect --format '{{.State.Status}}' "$c")"
    status_of exec-paused exec "$c" true
    status_of unpause unpause "$c"
    echo "unpaused: $(cat "$f") $(dk inspect --format '{{.State.Status}}' "$c")"
    dk exec "$c" echo alive-again
}

@test "docker restart: a new init; pause/unpause freeze and thaw the cgroup" {
    dk_compare _restart_pause
    saw "restart: 0" "new init" "started: 2" alive "pause: 0" "paused: FROZEN paused" \
        "exec-paused: 1" "unpause: 0" "unpaused: THAWED running" alive-again
}

_restart_policy_health() {
    local rt="$1" c="p-$1" i s
    dk run -d --runtime "$rt" --name "$c" --restart on-failure:2 "$DK_IMG" sh -c 'echo run; exit 1' >/dev/null
    for i in $(seq 100); do
        s="$(dk inspect --format '{{.State.Status}} {{.RestartCount}}' "$c")"
        [ "$s" = "exited 2" ] && break
        sleep 0.1
    done
    echo "on-failure: $s"
    dk logs "$c" | grep -c -x run | sed 's/^/runs: /'
    dk run -d --runtime "$rt" --name "$c-ok" --health-cmd 'test -e /tmp/ready' --health-interval 1s \
        --health-retries 1 "$DK_IMG" sh -c 'touch /tmp/ready; exec sleep 100' >/dev/null
    dk run -d --runtime "$rt" --name "$c-bad" --health-cmd 'exit 1' --health-interval 1s \
        --health-retries 1 "$DK_IMG" sleep 100 >/dev/null
    for i in $(seq 100); do
        s="$(dk inspect --format '{{.State.Health.Status}}' "$c-ok" "$c-bad" | tr '\n' ' ')"
        [ "$s" = "healthy unhealthy " ] && break
        sleep 0.1
    done
    echo "health: $s"
}

@test "docker run --restart=on-failure:2 and --health-cmd" {
    dk_compare _restart_policy_health
    saw "on-failure: exited 2" "runs: 3" "health: healthy unhealthy "
}

# ---- what the container sees ----

@test "what a container sees matches runc: default, --read-only --tmpfs, --user --group-add" {
    dk_probe_diff
    dk_probe_diff --read-only --tmpfs /run:size=1m,mode=0700 --tmpfs /tmp
    dk_probe_diff --user 65534:65534 --group-add 1234 --group-add 0
}

@test "what a container sees matches runc: --cap-add/--cap-drop, seccomp, no-new-privileges" {
    dk_probe_diff --cap-drop ALL --cap-add NET_ADMIN --cap-add SYS_TIME
    dk_probe_diff --cap-drop CHOWN --cap-drop NET_RAW
    dk_probe_diff --security-opt seccomp=unconfined
    dk_probe_diff --security-opt no-new-privileges
}

_fs_flags() {
    local rt="$1" dir="$BATS_TEST_TMPDIR/bind-$1"
    mkdir -p "$dir"
    echo from-host >"$dir/in"
    dk run --rm --runtime "$rt" --read-only --tmpfs /scratch:size=1m "$DK_IMG" sh -c '
        touch /x 2>/dev/null || echo "rootfs read-only"
        touch /scratch/x && echo "tmpfs writable"
        grep " /scratch " /proc/self/mountinfo | grep -o "size=1024k"'
    dk run --rm --runtime "$rt" -v "$dir:/data" -v "$dir:/ro:ro" -v "vol-$rt:/vol" "$DK_IMG" sh -c '
        cat /data/in; echo from-container >/data/out; touch /ro/x 2>/dev/null || echo "ro bind"
        echo kept >/vol/f'
    cat "$dir/out"
    dk run --rm --runtime "$rt" -v "vol-$rt:/vol" "$DK_IMG" cat /vol/f
    dk volume rm "vol-$rt" >/dev/null && echo "volume removed"
    dk run --rm --runtime "$rt" --user 65534:65534 "$DK_IMG" sh -c 'chown 0 /tmp 2>/dev/null || echo "no chown as nobody"'
    dk run --rm --runtime "$rt" --cap-drop CHOWN "$DK_IMG" sh -c 'chown 65534 /tmp 2>/dev/null || echo "no chown without CAP_CHOWN"'
    dk run --rm --runtime "$rt" --cap-add NET_ADMIN "$DK_IMG" sh -c 'ip link set lo mtu 1280 && echo "net admin"'
    dk run --rm --runtime "$rt" --device /dev/null:/dev/xnull:rw "$DK_IMG" sh -c '
        stat -c "%F %t:%T" /dev/xnull; echo x >/dev/xnull && echo "device writable"'
    dk run --rm --runtime "$rt" --ulimit nofile=1000:2000 --ulimit nproc=500:1000 "$DK_IMG" \
        sh -c 'grep -E "Max (open files|processes)" /proc/self/limits | sed "s/  */ /g; s/ $//"'
    dk run --rm --runtime "$rt" --init "$DK_IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo'
}

@test "--read-only, --tmpfs, bind and named volumes, --user, caps, --device, --ulimit, --init" {
    dk_compare _fs_flags
    saw "rootfs read-only" "tmpfs writable" "size=1024k" from-host "ro bind" from-container kept \
        "volume removed" "no chown as nobody" "no chown without CAP_CHOWN" "net admin" \
        "character special file 1:3" "device writable" "Max open files 1000 2000 files" \
        "Max processes 500 1000 processes"
    grep -q '^/sbin/docker-init -- sh -c' "$BATS_TEST_TMPDIR/seen.crunpp"
}

_seccomp() {
    local rt="$1" profile="$BATS_TEST_TMPDIR/seccomp.json"
    # Everything allowed but mkdir/mkdirat, which fail with EPERM.
    jq -n '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"],
        action: "SCMP_ACT_ERRNO", errnoRet: 1}]}' >"$profile"
    dk run --rm --runtime "$rt" "$DK_IMG" sh -c 'grep Seccomp: /proc/self/status; unshare -U true 2>/dev/null || echo "unshare denied"'
    dk run --rm --runtime "$rt" --security-opt seccomp=unconfined "$DK_IMG" grep Seccomp: /proc/self/status
    dk run --rm --runtime "$rt" --security-opt "seccomp=$profile" "$DK_IMG" sh -c 'mkdir /tmp/d 2>&1; touch /tmp/f && echo touched'
    dk run --rm --runtime "$rt" --security-opt no-new-privileges "$DK_IMG" grep NoNewPrivs: /proc/self/status
}

@test "seccomp: the default profile, unconfined, a custom profile; no-new-privileges" {
    dk_compare _seccomp
    saw "Seccomp:	2" "unshare denied" "Seccomp:	0" "mkdir: can't create directory '/tmp/d': Operation not permitted" \
        touched "NoNewPrivs:	1"
}

# Docker gives every runtime the same state root: what crunpp leaves there
# is its containers' directories, nothing that runc (or anything listing
# the root) would read as a broken container.
@test "Docker's state root shared with runc holds only container directories" {
    local root="$DK_DIR/exec/runtime-runc/crunpp-dk" ids entries
    run -0 dk run -d --runtime crunpp --name st-1 "$DK_IMG" sleep 100
    run -0 dk run -d --runtime crunpp --name st-2 --security-opt "seccomp=unconfined" "$DK_IMG" sleep 100
    run -0 dk run -d --runtime runc --name st-3 "$DK_IMG" sleep 100
    ids="$(dk ps -q --no-trunc | sort)"
    entries="$(nsenter -t "$DK_PID" -m -- ls -A "$root" | sort)"
    [ "$(wc -l <<<"$entries")" -eq 3 ]
    [ "$entries" = "$ids" ]
}

# ---- resources ----

_host_limits() {
    local c="$1"
    echo "memory: $(cat "$(dk_cgroup_file "$c" memory memory.limit_in_bytes)")"
    echo "memsw: $(cat "$(dk_cgroup_file "$c" memory memory.memsw.limit_in_bytes)")"
    echo "quota: $(cat "$(dk_cgroup_file "$c" cpu cpu.cfs_quota_us)")"
    echo "period: $(cat "$(dk_cgroup_file "$c" cpu cpu.cfs_period_us)")"
    echo "shares: $(cat "$(dk_cgroup_file "$c" cpu cpu.shares)")"
    echo "cpuset: $(cat "$(dk_cgroup_file "$c" cpuset cpuset.cpus)")"
    echo "pids: $(cat "$(dk_cgroup_file "$c" pids pids.max)")"
}

_resources() {
    local rt="$1" c="l-$1"
    dk run -d --runtime "$rt" --name "$c" --memory 64m --memory-swap 128m --cpus 1.5 --cpu-shares 512 \
        --cpuset-cpus 0 --pids-limit 77 "$DK_IMG" sleep 100 >/dev/null
    echo "-- host"
    _host_limits "$c"
    echo "-- inside"
    dk exec "$c" sh -c 'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes \
        cpu/cpu.cfs_quota_us cpu/cpu.shares cpuset/cpuset.cpus pids/pids.max'
    echo "-- update (full)"
    status_of update update --memory 96m --memory-swap 192m --cpus 0.5 --cpu-shares 256 --cpuset-cpus 0-1 \
        --pids-limit 50 "$c"
    _host_limits "$c"
    echo "-- update --pids-limit 60"
    status_of update update --pids-limit 60 "$c"
    _host_limits "$c"
    echo "-- update --memory 300m --memory-swap 600m"
    status_of update update --memory 300m --memory-swap 600m "$c"
    _host_limits "$c"
    echo "-- update --cpus 0.25"
    status_of update update --cpus 0.25 "$c"
    _host_limits "$c"
    dk inspect --format 'inspect: {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}' "$c"
    dk stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' "$c" | awk '{print "stats:", $2, $3, $4}'
    echo "-- default shares"
    dk run --rm --runtime "$rt" "$DK_IMG" cat /sys/fs/cgroup/cpu/cpu.shares
}

@test "--memory/--cpus/--cpu-shares/--cpuset-cpus/--pids-limit; docker update (full, partial); stats" {
    dk_compare _resources
    saw "memory: 67108864" "memsw: 134217728" "quota: 150000" "period: 100000" "shares: 512" \
        "cpuset: 0" "pids: 77" 67108864 77 \
        "memory: 100663296" "quota: 50000" "shares: 256" "cpuset: 0-1" "pids: 50" "pids: 60" \
        "memory: 314572800" "memsw: 629145600" "quota: 25000" "inspect: 314572800 250000000 60" \
        "stats: / 300MiB 1" 1024
}

_oom() {
    local rt="$1" c="o-$1"
    dk run --runtime "$rt" --name "$c" --memory 32m --memory-swap 32m "$DK_IMG" \
        dd if=/dev/zero of=/dev/null bs=128M count=1 >/dev/null 2>&1
    dk inspect --format 'exit: {{.State.ExitCode}} oom: {{.State.OOMKilled}}' "$c"
}

@test "OOM kill: exit 137, OOMKilled=true" {
    dk_compare _oom
    saw "exit: 137 oom: true"
}

# ---- networks and shared namespaces ----

_networks() {
    local rt="$1" port=18080
    [ "$rt" = crunpp ] && port=18081
    dk run --rm --runtime "$rt" --network none "$DK_IMG" sh -c 'ls /sys/class/net | tr "\n" " "; echo'
    dk run --rm --runtime "$rt" --network host "$DK_IMG" sh -c 'ls /sys/class/net | tr "\n" " "; echo'
    dk run -d --runtime "$rt" --name "n-$rt" -p "127.0.0.1:$port:80" "$DK_IMG" \
        sh -c 'mkdir /www && echo "hello from httpd" >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
    local i out=""
    for i in $(seq 50); do
        out="$(in_dk_net curl -sf --max-time 2 "http://127.0.0.1:$port/")" && break
        sleep 0.1
    done
    echo "curl: $out"
    dk exec "n-$rt" sh -c 'ip -o -4 addr show eth0 | grep -o "inet 10\.213\.0\."'
    # Its veth would show in the next runtime's --network host.
    dk rm -f "n-$rt" >/dev/null
}

@test "networks none, host, bridge with -p (curl from dockerd's namespace, loopback)" {
    command -v curl >/dev/null || skip "curl is not installed"
    dk_compare _networks
    saw "lo " "curl: hello from httpd" "inet 10.213.0."
    grep -q docker0 "$BATS_TEST_TMPDIR/seen.crunpp"
}

_shared_ns() {
    local rt="$1" c="ns-$1" pid ns
    dk run -d --runtime "$rt" --name "$c" --ipc shareable "$DK_IMG" sleep 100 >/dev/null
    pid="$(dk_pid "$c")"
    for ns in ipc pid net; do
        echo "$ns=$(readlink "/proc/$pid/ns/$ns")"
    done >"$BATS_TEST_TMPDIR/ns-$rt"
    dk run --rm --runtime "$rt" --ipc "container:$c" --pid "container:$c" --network "container:$c" "$DK_IMG" \
        sh -c 'for ns in ipc pid net; do echo "$ns=$(readlink /proc/self/ns/$ns)"; done' |
        diff - "$BATS_TEST_TMPDIR/ns-$rt" >/dev/null && echo "joined ipc, pid, net"
    dk run --rm --runtime "$rt" --pid "container:$c" "$DK_IMG" ps -o args | grep -x 'sleep 100'
    dk run --rm --runtime "$rt" "$DK_IMG" sh -c 'echo "ipc=$(readlink /proc/self/ns/ipc)"' |
        grep -qxF -f - "$BATS_TEST_TMPDIR/ns-$rt" || echo "own ipc by default"
}

@test "--ipc/--pid/--network container:NAME join that container's namespaces" {
    dk_compare _shared_ns
    saw "joined ipc, pid, net" "sleep 100" "own ipc by default"
}

# ---- images ----

_cp_commit() {
    local rt="$1" c="cp-$1"
    echo to-container >"$BATS_TEST_TMPDIR/cp-in"
    dk run -d --runtime "$rt" --name "$c" "$DK_IMG" sleep 100 >/dev/null
    status_of cp-in cp "$BATS_TEST_TMPDIR/cp-in" "$c:/tmp/in"
    dk exec "$c" sh -c 'cat /tmp/in; echo from-container >/tmp/out'
    status_of cp-out cp "$c:/tmp/out" "$BATS_TEST_TMPDIR/cp-out-$rt"
    cat "$BATS_TEST_TMPDIR/cp-out-$rt"
    dk commit "$c" "crunpp-commit-$rt" >/dev/null && echo committed
    dk run --rm --runtime "$rt" "crunpp-commit-$rt" cat /tmp/out /tmp/in
    dk rmi "crunpp-commit-$rt" >/dev/null
}

@test "docker cp into and out of a running container; docker commit" {
    dk_compare _cp_commit
    saw "cp-in: 0" to-container "cp-out: 0" from-container committed
}

@test "20 parallel docker run --rm on crunpp" {
    local i pids=()
    for i in $(seq 20); do
        dk run --rm --runtime crunpp "$DK_IMG" sh -c "echo run-$i" >"$BATS_TEST_TMPDIR/par.$i" 2>"$BATS_TEST_TMPDIR/par.$i.err" &
        pids+=($!)
    done
    local failed=0
    for i in $(seq 20); do
        wait "${pids[i - 1]}" || { failed=1; echo "run $i failed:" >&2; cat "$BATS_TEST_TMPDIR/par.$i.err" >&2; }
        [ "$(cat "$BATS_TEST_TMPDIR/par.$i")" = "run-$i" ] || failed=1
    done
    [ "$failed" -eq 0 ]
    run -0 dk ps -aq
    [ -z "$output" ]
}

# ---- "default-runtime": "crunpp" ----

_build() {
    local ctx="$BATS_TEST_TMPDIR/ctx-$1"
    mkdir -p "$ctx"
    cat >"$ctx/Dockerfile" <<EOF
FROM $DK_IMG
RUN echo step1 >/built && id -u >>/built
RUN grep -c . /built >/count && grep Seccomp: /proc/self/status >>/built
ENV GREETING=hello
WORKDIR /work
RUN echo "\$GREETING from \$(pwd)" >/work/msg
CMD ["sh", "-c", "cat /built /count /work/msg"]
EOF
    DOCKER_BUILDKIT=0 dk build -q -t "crunpp-built-$1" "$ctx" >/dev/null && echo built
    dk run --rm "crunpp-built-$1"
    dk rmi "crunpp-built-$1" >/dev/null
}

# Which runtime ran a container: crunpp's `state` reads the state Docker's
# shim had the runtime write: Docker gives every runtime the root
# <exec root>/runtime-runc/<containerd namespace>.
_crunpp_state_of() {
    local id state
    id="$(dk inspect --format '{{.Id}}' "$1")" || return 1
    state="$(nsenter -t "$DK_PID" -m -- "$CRUNPP" --root "$DK_DIR/exec/runtime-runc/crunpp-dk" state "$id")" || return 1
    jq -r '"\(.status) \(.pid)"' <<<"$state"
}

@test "default-runtime crunpp: docker run, exec, stop, build with RUN steps" {
    dk_stop keep
    dk_start crunpp
    run -0 dk info --format '{{.DefaultRuntime}}'
    [ "$output" = crunpp ]
    run -0 dk run -d --name def1 "$DK_IMG" sh -c 'echo started; exec sleep 100'
    run -0 dk inspect --format '{{.HostConfig.Runtime}}' def1
    [ "$output" = crunpp ]
    dk_wait_log def1 started
    run -0 _crunpp_state_of def1
    [ "$output" = "running $(dk_pid def1)" ]
    run -0 dk exec def1 echo in-exec
    [ "$output" = in-exec ]
    run -0 dk stop -t 1 def1
    run -3 dk run --rm "$DK_IMG" sh -c 'exit 3'
    # The classic builder runs each RUN step with the default runtime.
    run -0 _build crunpp
    [ "${lines[0]}" = built ]
    [ "${lines[1]}" = step1 ]
    [ "${lines[2]}" = 0 ]
    [ "${lines[3]}" = "Seccomp:	2" ]
    [ "${lines[4]}" = 2 ]
    [ "${lines[5]}" = "hello from /work" ]
    local crunpp_out="$output"
    run -127 dk run --rm "$DK_IMG" /nonexistent
    # The same Dockerfile built on runc gives the same image contents.
    dk_stop keep
    dk_start runc
    run -0 _build runc
    [ "$output" = "$crunpp_out" ]
}
