#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# crictl by hand against containerd's CRI plugin with the crunpp handler, as
# a cluster operator tries a RuntimeClass: the pod and container lifecycle,
# exec, attach, logs, stats, port-forward, a pod whose containers share the
# sandbox's network and IPC namespaces, and what a container sees of its
# resource limits and security context, compared with the runc handler.
# cri_helpers.bash starts the private containerd (see there). About 1 minute.

bats_require_minimum_version 1.5.0
load helpers
load containerd_helpers
load cri_helpers

BUSYBOX=registry.k8s.io/e2e-test-images/busybox:1.29-2
WEB=registry.k8s.io/e2e-test-images/nginx:1.14-2

setup_file() {
    CRI_SKIP="$(cri_skip_reason)"
    export CRI_SKIP
    [ -n "$CRI_SKIP" ] && return 0
    cri_start || {
        cri_stop
        return 1
    }
    crictl pull "$BUSYBOX" >/dev/null && crictl pull "$WEB" >/dev/null
}

teardown_file() {
    [ -n "${CRI_SKIP:-}" ] && return 0
    cri_stop
}

setup() {
    [ -z "${CRI_SKIP:-}" ] || skip "$CRI_SKIP"
    crunpp_setup
    J="$BATS_TEST_TMPDIR/json"
    mkdir -p "$J"
}

teardown() {
    if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${CRI_DIR:-}" ]; then
        echo "last output: ${output:-}"
        tail -n 15 "$CRI_DIR/containerd.log"
    fi
    cri_remove_pods
    crunpp_teardown
}

# pod_config NAME [JQ-FILTER]: writes $J/NAME.pod.json, prints its path.
# Pods and containers get a pid namespace per container (NamespaceMode
# CONTAINER, 1) as the kubelet asks by default; crictl's default is the pod's.
pod_config() {
    local name="$1" filter="${2:-.}"
    jq -n --arg name "$name" --arg uid "$name-$$-$RANDOM" --arg logs "$BATS_TEST_TMPDIR/logs/$name" \
        '{metadata: {name: $name, namespace: "crunpp-crictl", uid: $uid, attempt: 0}, hostname: $name,
          log_directory: $logs, linux: {security_context: {namespace_options: {pid: 1}}}}' |
        jq "$filter" >"$J/$name.pod.json"
    echo "$J/$name.pod.json"
}

# ctr_config NAME IMAGE [JQ-FILTER] -- CMD...: writes $J/NAME.ctr.json.
ctr_config() {
    local name="$1" image="$2" filter="${3:-.}"
    shift 4
    # Not jq's --args: it takes a "-c" there for its own option.
    jq -n --arg name "$name" --arg image "$image" \
        --argjson cmd "$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")" \
        '{metadata: {name: $name}, image: {image: $image}, command: $cmd, log_path: ($name + ".log"),
          linux: {security_context: {namespace_options: {pid: 1}}}}' |
        jq "$filter" >"$J/$name.ctr.json"
    echo "$J/$name.ctr.json"
}

# State of a container: CONTAINER_CREATED, _RUNNING, _EXITED.
ctr_state() {
    crictl inspect "$1" | jq -r .status.state
}

wait_ctr_state() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(ctr_state "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    echo "container $1 is $(ctr_state "$1"), not $2" >&2
    return 1
}

# The host pid of a container's or a pod's process.
ctr_pid() { crictl inspect "$1" | jq -r .info.pid; }
pod_pid() { crictl inspectp "$1" | jq -r .info.pid; }

@test "runp, create, start, exec -s, logs, stop, rm, stopp, rmp with the crunpp handler" {
    local pod ctr pid
    pod="$(crictl runp --runtime crunpp "$(pod_config p1)")"
    [ "$(crictl inspectp "$pod" | jq -r .status.state)" = SANDBOX_READY ]
    [ "$(crictl inspectp "$pod" | jq -r .info.runtimeHandler)" = crunpp ]
    ctr="$(crictl create "$pod" "$(ctr_config c1 "$BUSYBOX" . -- sh -c 'echo started; echo to-stderr >&2; exec sleep 1000')" "$J/p1.pod.json")"
    [ "$(ctr_state "$ctr")" = CONTAINER_CREATED ]
    crictl start "$ctr"
    wait_ctr_state "$ctr" CONTAINER_RUNNING
    pid="$(ctr_pid "$ctr")"
    # crunpp runs it: its state under the shim's root, the same pid.
    [ "$(nsenter -t "$CTD_PID" -m -- "$CRUNPP" --root /run/containerd/crunpp/k8s.io state "$ctr" | jq -r .pid)" = "$pid" ]
    run -0 crictl exec -s "$ctr" sh -c 'echo "in $(hostname)"; id -u; exit 0'
    [ "${lines[0]}" = "in p1" ]
    [ "${lines[1]}" = 0 ]
    # crictl itself exits 1 and names the status.
    run crictl exec -s "$ctr" sh -c 'exit 3'
    [ "$status" -ne 0 ]
    [[ "$output" == *"exited with 3"* ]]
    run -0 --separate-stderr crictl logs "$ctr"
    [ "$output" = started ]
    [ "$stderr" = to-stderr ]
    run -0 crictl stop --timeout 2 "$ctr"
    [ "$(ctr_state "$ctr")" = CONTAINER_EXITED ]
    # SIGTERM is ignored by a pid 1 without a handler: SIGKILL after 2 s.
    [ "$(crictl inspect "$ctr" | jq -r .status.exitCode)" = 137 ]
    run ! _proc_alive "$pid"
    run -0 crictl rm "$ctr"
    run -0 crictl ps -aq --pod "$pod"
    [ -z "$output" ]
    run -0 crictl stopp "$pod"
    [ "$(crictl inspectp "$pod" | jq -r .status.state)" = SANDBOX_NOTREADY ]
    run -0 crictl rmp "$pod"
    run -0 crictl pods -q
    [ -z "$output" ]
    run -0 nsenter -t "$CTD_PID" -m -- "$CRUNPP" --root /run/containerd/crunpp/k8s.io list -q
    [ -z "$output" ]
}

attach_with_line() {
    echo "$1" | crictl attach -i "$2"
}

@test "exec -it and attach: a terminal, stdin" {
    local pod ctr
    pod="$(crictl runp --runtime crunpp "$(pod_config p2)")"
    ctr="$(crictl create "$pod" "$(ctr_config c2 "$BUSYBOX" '.stdin = true | .stdin_once = true' -- \
        sh -c 'echo ready; read line; echo "got $line"')" "$J/p2.pod.json")"
    crictl start "$ctr"
    wait_ctr_state "$ctr" CONTAINER_RUNNING
    # exec -it: crictl needs a terminal of its own (script gives one). One
    # line: without SHELL (as in CI) script runs dash, which does not read
    # the $'...' that %q makes of a newline.
    local cmd
    printf -v cmd '%q ' timeout "$CRICTL_TIMEOUT" nsenter -t "$CTD_PID" -n -i -- "$CRICTL_BIN" \
        --config "$CRI_DIR/crictl.yaml" --runtime-endpoint "unix://$CRI_SOCK" exec -it "$ctr" \
        sh -c 'test -t 0 && test -t 1 && echo "tty $(tty)"; i=0; while [ $i -lt 50 ]; do s="$(stty size 2>/dev/null)"; [ -n "$s" ] && [ "$s" != "0 0" ] && break; i=$((i + 1)); sleep 0.1; done; echo "size $s"'
    run -0 script -qec "stty rows 33 cols 77; exec $cmd" /dev/null </dev/null
    output="$(printf '%s\n' "$output" | tr -d '\r')"
    [[ "$output" == *"tty /dev/pts/"* ]]
    # crictl sizes the terminal once the process runs (as ctr does).
    [[ "$output" == *"size 33 77"* ]]
    # attach: the line reaches the process's stdin, its output comes back.
    run -0 attach_with_line hello "$ctr"
    [[ "$output" == *"got hello"* ]]
    wait_ctr_state "$ctr" CONTAINER_EXITED
    [ "$(crictl inspect "$ctr" | jq -r .status.exitCode)" = 0 ]
}

@test "stats and port-forward" {
    local pod ctr
    pod="$(crictl runp --runtime crunpp "$(pod_config p3)")"
    ctr="$(crictl create "$pod" "$(ctr_config c3 "$WEB" 'del(.command)' --)" "$J/p3.pod.json")"
    crictl start "$ctr"
    wait_ctr_state "$ctr" CONTAINER_RUNNING
    run -0 crictl stats -o json --id "$ctr"
    [ "$(echo "$output" | jq -r '.stats[0].attributes.id')" = "$ctr" ]
    [ "$(echo "$output" | jq -r '.stats[0].memory.workingSetBytes.value')" -gt 0 ]
    [ "$(echo "$output" | jq -r '.stats[0].cpu.usageCoreNanoSeconds.value')" -gt 0 ]
    # crictl listens on 127.0.0.1 of containerd's network namespace.
    local port=18080 pf i
    nsenter -t "$CTD_PID" -n -- timeout 60 "$CRICTL_BIN" --config "$CRI_DIR/crictl.yaml" \
        --runtime-endpoint "unix://$CRI_SOCK" port-forward "$pod" "$port:80" \
        </dev/null >"$BATS_TEST_TMPDIR/pf.log" 2>&1 3>&- &
    pf=$!
    record_pid "$pf"
    for ((i = 0; i < 100; i++)); do
        grep -q Forwarding "$BATS_TEST_TMPDIR/pf.log" && break
        sleep 0.1
    done
    run -0 in_cri /bin/busybox wget -qO- "http://127.0.0.1:$port/"
    [[ "$output" == *"Welcome to nginx!"* ]]
    kill "$pf"
    wait "$pf" || true
}

@test "two containers of a pod share the sandbox's network and IPC namespaces" {
    local pod a b pa pb ps
    # As the kubelet asks by default: pod network and IPC, a pid namespace
    # per container (NamespaceMode POD 0, CONTAINER 1).
    pod="$(crictl runp --runtime crunpp "$(pod_config p4 '.linux.security_context.namespace_options = {network: 0, ipc: 0, pid: 1}')")"
    local opts='.linux.security_context.namespace_options = {network: 0, ipc: 0, pid: 1}'
    a="$(crictl create "$pod" "$(ctr_config a "$BUSYBOX" "$opts" -- \
        sh -c 'echo from-a >/tmp/index.html; exec httpd -f -p 8080 -h /tmp')" "$J/p4.pod.json")"
    b="$(crictl create "$pod" "$(ctr_config b "$BUSYBOX" "$opts" -- sleep 1000)" "$J/p4.pod.json")"
    crictl start "$a"
    crictl start "$b"
    wait_ctr_state "$a" CONTAINER_RUNNING
    wait_ctr_state "$b" CONTAINER_RUNNING
    # b reaches a's server on their common loopback.
    run -0 crictl exec -s "$b" sh -c 'i=0; while [ $i -lt 50 ]; do wget -qO- http://127.0.0.1:8080/ && exit 0; i=$((i + 1)); sleep 0.1; done; exit 1'
    [ "$output" = from-a ]
    pa="$(ctr_pid "$a")" pb="$(ctr_pid "$b")" ps="$(pod_pid "$pod")"
    local ns
    for ns in net ipc uts; do
        [ "$(readlink /proc/"$pa"/ns/$ns)" = "$(readlink /proc/"$ps"/ns/$ns)" ]
        [ "$(readlink /proc/"$pb"/ns/$ns)" = "$(readlink /proc/"$ps"/ns/$ns)" ]
        [ "$(readlink /proc/"$pa"/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ]
    done
    # Each container has its own pid and mount namespace.
    for ns in pid mnt; do
        [ "$(readlink /proc/"$pa"/ns/$ns)" != "$(readlink /proc/"$pb"/ns/$ns)" ]
        [ "$(readlink /proc/"$pa"/ns/$ns)" != "$(readlink /proc/"$ps"/ns/$ns)" ]
    done
    # The same IPC namespace, seen from inside.
    [ "$(crictl exec -s "$a" readlink /proc/self/ns/ipc)" = "$(crictl exec -s "$b" readlink /proc/self/ns/ipc)" ]
}

# shareProcessNamespace: the containers run in the pause's pid namespace, so
# the shim sends `kill --all KILL` when a container's init exits and
# `delete` must find its processes gone.
@test "a pod sharing its pid namespace: a stopped container's processes are gone, the others run" {
    local pod a b
    pod="$(crictl runp --runtime crunpp "$(pod_config p5 '.linux.security_context.namespace_options.pid = 0')")"
    local opts='.linux.security_context.namespace_options.pid = 0'
    a="$(crictl create "$pod" "$(ctr_config a "$BUSYBOX" "$opts" -- sh -c 'sleep 1001 & exec sleep 1002')" "$J/p5.pod.json")"
    b="$(crictl create "$pod" "$(ctr_config b "$BUSYBOX" "$opts" -- sleep 1003)" "$J/p5.pod.json")"
    crictl start "$a"
    crictl start "$b"
    wait_ctr_state "$a" CONTAINER_RUNNING
    wait_ctr_state "$b" CONTAINER_RUNNING
    # b sees a's processes and the pause.
    run -0 crictl exec -s "$b" ps -o args
    [[ "$output" == *"sleep 1001"* ]]
    [[ "$output" == *"sleep 1002"* ]]
    [[ "$output" == */pause* ]]
    run -0 crictl stop --timeout 2 "$a"
    [ "$(ctr_state "$a")" = CONTAINER_EXITED ]
    run -0 crictl exec -s "$b" ps -o args
    [[ "$output" != *"sleep 100"[12]* ]]
    [[ "$output" == *"sleep 1003"* ]]
    run -0 crictl rm "$a"
    [ "$(ctr_state "$b")" = CONTAINER_RUNNING ]
}

# What a container reports of itself: ids, capabilities, no_new_privs,
# seccomp, its cgroup limits, whether / and /sys are writable.
SELF_REPORT='id -u; id -g; id -G
grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status
for f in memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares pids/pids.max; do
    echo "$f $(cat /sys/fs/cgroup/$f 2>/dev/null || cat /sys/fs/cgroup/${f#*/} 2>/dev/null || echo none)"
done
touch /rootfs-probe 2>/dev/null && echo rootfs=rw || echo rootfs=ro
awk '\''$5 == "/sys" { print "sys=" substr($6, 1, 2) }'\'' /proc/self/mountinfo
ls /dev | wc -l'

# report HANDLER NAME POD-FILTER CTR-FILTER: runs SELF_REPORT once in a
# pod of HANDLER; prints its output.
report() {
    local handler="$1" name="$2" pod ctr
    pod="$(crictl runp --runtime "$handler" "$(pod_config "$name-$handler" "$3")")"
    ctr="$(crictl create "$pod" "$(ctr_config "$name" "$BUSYBOX" "$4" -- sh -c "$SELF_REPORT")" \
        "$J/$name-$handler.pod.json")"
    crictl start "$ctr" >/dev/null
    wait_ctr_state "$ctr" CONTAINER_EXITED >&2
    crictl logs "$ctr"
    crictl stopp "$pod" >/dev/null
    crictl rmp "$pod" >/dev/null
}

# compare NAME POD-FILTER CTR-FILTER: the crunpp report, checked equal to
# runc's, in $output.
compare() {
    local runc_out
    runc_out="$(report runc "$@")"
    output="$(report crunpp "$@")"
    echo "runc:"
    echo "$runc_out"
    echo "crunpp:"
    echo "$output"
    mapfile -t lines <<<"$output"
    [ -n "$output" ]
    [ "$output" = "$runc_out" ]
}

@test "resource limits and security context as the container sees them, as with runc" {
    compare limits . '.linux.resources = {memory_limit_in_bytes: 67108864, cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512}
        | .linux.security_context = {run_as_user: {value: 1000}, run_as_group: {value: 1001},
            supplemental_groups: [1234], readonly_rootfs: true, no_new_privs: true,
            capabilities: {drop_capabilities: ["ALL"], add_capabilities: ["NET_BIND_SERVICE", "CHOWN"]},
            seccomp: {profile_type: 0}}'
    [ "${lines[0]}" = 1000 ]
    [ "${lines[1]}" = 1001 ]
    [ "${lines[2]}" = "1001 1234" ]
    # CHOWN (0) and NET_BIND_SERVICE (10), bounding set only: a non-root
    # process keeps no effective capability.
    [[ "$output" == *$'CapBnd:\t0000000000000401'* ]]
    [[ "$output" == *$'CapEff:\t0000000000000000'* ]]
    [[ "$output" == *$'NoNewPrivs:\t1'* ]]
    [[ "$output" == *$'Seccomp:\t2'* ]]
    [[ "$output" == *"memory.limit_in_bytes 67108864"* ]]
    [[ "$output" == *"cpu.cfs_quota_us 50000"* ]]
    [[ "$output" == *"cpu.shares 512"* ]]
    [[ "$output" == *rootfs=ro* ]]
    [[ "$output" == *sys=ro* ]]
}

@test "the default security context, and a privileged container, as with runc" {
    compare default . .
    [ "${lines[0]}" = 0 ]
    [[ "$output" == *$'Seccomp:\t0'* ]]
    [[ "$output" == *rootfs=rw* ]]
    [[ "$output" == *sys=ro* ]]
    compare privileged '.linux.security_context.privileged = true' '.linux.security_context.privileged = true'
    # Every capability this host knows of.
    [[ "$output" == *$'CapEff:\t'"$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"* ]]
    [[ "$output" == *$'Seccomp:\t0'* ]]
    [[ "$output" == *sys=rw* ]]
}
