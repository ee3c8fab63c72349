#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# `exec`: a new process in a running container, seen from inside it: its
# namespaces, identity, capabilities, seccomp filter, terminal and fds;
# foreground statuses and signals, -d with --pid-file, stopped containers.
# The main cases run as root and as the test user. exec and the container's
# cgroup (--cgroup, paused containers, ps) are in cgroups.bats, which the
# pure cgroup v2 lane (contrib/v2-lane.sh) runs too.

load helpers
load lifecycle_helpers
load io_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    require_root
    B="$BATS_TEST_TMPDIR/bundle"
    OUT="$(shared_dir)/out"
}

teardown() {
    crunpp_teardown
}

# The bundle for WHO, sleeping; the rootless one has crunpp's automatic
# mappings (the caller's id and its subordinate ids), so uid 1 exists.
exec_bundle() {
    if [ "$WHO" = rootless ]; then
        make_rootless_bundle "$B" /bin/sleep 1000
        set_config "$B" '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'
    else
        make_bundle "$B" /bin/sleep 1000
    fi
}

# start_c1 WHO [JQ-FILTER]: c1 running `sleep 1000`; INIT is its host pid.
start_c1() {
    WHO="$1"
    exec_bundle
    [ -z "${2:-}" ] || set_config "$B" "$2"
    ctr run -d -b "$B" c1 >/dev/null 2>&1
    INIT="$(ctr state c1 | jq -r .pid)"
    record_pid "$INIT"
    [ "$(ctr state c1 | jq -r .status)" = running ]
}

# "cgroup:[4026531835] ipc:[...] ..." for a /proc/PID directory.
ns_links() {
    local n
    for n in cgroup ipc mnt net pid time user uts; do
        readlink "$1/ns/$n"
    done | xargs
}

basics_case() {
    start_c1 "$1"
    run ctr exec c1 sh -c 'echo out; echo err >&2; exit 3'
    [ "$status" -eq 3 ]
    [[ "$output" == *out*err* ]]
    run ctr exec c1 sh -c 'kill -KILL $$'
    [ "$status" -eq 137 ]
    run ctr exec c1 sh -c 'kill -TERM $$'
    [ "$status" -eq 143 ]
    # Every namespace of the init, the time namespace included.
    run ctr exec c1 sh -c 'for n in cgroup ipc mnt net pid time user uts; do readlink /proc/self/ns/$n; done | xargs'
    [ "$status" -eq 0 ]
    [ "$output" = "$(ns_links "/proc/$INIT")" ]
    # The container's root and pid namespace: pid 1 is the init.
    run ctr exec c1 sh -c 'cat /etc/hostname; tr "\0" " " </proc/1/cmdline'
    [ "$output" = "crunpp
$(tr '\0' ' ' </proc/"$INIT"/cmdline)" ]
}

@test "exec: output, exit statuses, 128+N, every namespace of the init" {
    basics_case root
}

@test "exec: rootless: output, exit statuses, 128+N, every namespace of the init" {
    basics_case rootless
}

identity_case() {
    start_c1 "$1" '.process.noNewPrivileges = false'
    run ctr exec -u 1 c1 id
    [ "$status" -eq 0 ]
    [ "$output" = "uid=1 gid=0(root)" ]
    run ctr exec -u 2:3 -g 5 -g 6 c1 id
    [ "$output" = "uid=2 gid=3 groups=5,6" ]
    run ctr exec -e FOO=bar -e PATH=/bin --cwd /tmp c1 sh -c 'echo "$FOO $PATH $(pwd)"'
    [ "$output" = "bar /bin /tmp" ]
    # --cap: bounding, effective, permitted; never inheritable (CVE-2022-29162).
    local added base
    run ctr exec --cap CAP_NET_ADMIN --cap CAP_SYS_NICE c1 cat /proc/self/status
    [ "$status" -eq 0 ]
    added="$(printf '%s\n' CAP_NET_ADMIN CAP_SYS_NICE | cap_mask)"
    base="$(jq -r '.process.capabilities.bounding[]' "$B/config.json" | cap_mask)"
    local want
    want="$(printf '%016x' $((0x$added | 0x$base)))"
    [ "$(status_field CapBnd "$output")" = "$want" ]
    [ "$(status_field CapEff "$output")" = "$want" ]
    [ "$(status_field CapPrm "$output")" = "$want" ]
    [ "$(status_field CapInh "$output")" = 0000000000000000 ]
    [ "$(status_field NoNewPrivs "$output")" = 0 ]
    run ctr exec --no-new-privs c1 cat /proc/self/status
    [ "$(status_field NoNewPrivs "$output")" = 1 ]
    run ctr exec --cap CAP_NOPE c1 true
    [ "$status" -eq 1 ]
    [[ "$output" == *'exec: --cap "CAP_NOPE": unknown capability'* ]]
    run ctr exec -u root c1 true
    [ "$status" -eq 1 ]
    [[ "$output" == *'exec: --user "root": expected UID or UID:GID'* ]]
}

@test "exec: -u 1 is uid 1 gid 0, -u/-g, env, cwd, --cap, --no-new-privs" {
    identity_case root
}

@test "exec: rootless: -u 1 is uid 1 gid 0, -u/-g, env, cwd, --cap, --no-new-privs" {
    identity_case rootless
}

seccomp_case() {
    start_c1 "$1" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
    run ctr exec c1 sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/d'
    [ "$status" -eq 1 ]
    [[ "$output" == *"Seccomp:	2"* ]]
    [[ "$output" == *"Operation not permitted"* ]]
    # Also with noNewPrivileges, where the filter is loaded last.
    run ctr exec --no-new-privs c1 mkdir /tmp/d
    [ "$status" -eq 1 ]
    [[ "$output" == *"Operation not permitted"* ]]
    run ctr exec c1 sh -c 'echo x >/dev/shm/f'
    [ "$status" -eq 0 ]
}

@test "exec: the container's seccomp filter applies" {
    seccomp_case root
}

@test "exec: rootless: the container's seccomp filter applies" {
    seccomp_case rootless
}

detach_case() {
    start_c1 "$1"
    local pf="$(shared_dir)/exec.pid" pid inner
    ctr exec -d --pid-file "$pf" c1 sleep 200 >/dev/null 2>&1
    pid="$(cat "$pf")"
    record_pid "$pid"
    [ "$(state_of_pid "$pid")" != gone ]
    # Host pid and container pid: one level deeper, as the init.
    read -r -a nspid < <(sed -n 's/^NSpid:[[:space:]]*//p' /proc/"$pid"/status)
    [ "${#nspid[@]}" -eq 2 ]
    [ "${nspid[0]}" = "$pid" ]
    inner="${nspid[1]}"
    [ "$(ns_links "/proc/$pid")" = "$(ns_links "/proc/$INIT")" ]
    # The container sees it as its own.
    run ctr exec c1 cat /proc/"$inner"/cmdline
    [ "$output" = "$(tr -d '\0' </proc/"$pid"/cmdline)" ] || [[ "$output" == sleep200* ]]
    [ "$(cat /proc/"$pid"/cgroup)" = "$(cat /proc/"$INIT"/cgroup)" ]
    kill -KILL "$pid"
}

@test "exec -d --pid-file: returns at once, the process runs in the container" {
    detach_case root
    # Also in `crunpp ps` (the container's cgroup).
    local pf="$(shared_dir)/exec2.pid"
    crunpp exec -d --pid-file "$pf" c1 sleep 201 >/dev/null 2>&1
    record_pid "$(cat "$pf")"
    run crunpp ps --format json c1
    [[ "$output" == *"$(cat "$pf")"* ]]
    [[ "$output" == *"$INIT"* ]]
}

@test "exec -d --pid-file: rootless" {
    detach_case rootless
}

stopped_case() {
    start_c1 "$1"
    run ctr exec c1 /nonexistent
    [ "$status" -eq 1 ]
    [ "$output" = 'crunpp: exec: "/nonexistent": stat /nonexistent: no such file or directory' ]
    run ctr exec c1 foo
    [ "$output" = 'crunpp: exec: "foo": executable file not found in $PATH' ]
    # As `run` reports it.
    set_config "$B" '.process.args = ["foo"]'
    run ctr run -b "$B" c2
    local run_status="$status"
    run ctr exec c1 foo
    [ "$status" -eq "$run_status" ]
    run ctr exec c1
    [[ "$output" == *"exec: expects a COMMAND or --process FILE"* ]]
    ctr kill c1 KILL
    wait_status_any c1 stopped
    run ctr exec c1 true
    [ "$status" -eq 1 ]
    [ "$output" = 'crunpp: cannot exec in container "c1": it is stopped, not running' ]
    run ctr exec nosuch true
    [[ "$output" == *'container "nosuch" does not exist'* ]]
    # JSON log lines carry the error.
    run ctr --log-format json exec c1 true
    [[ "$output" == *'"level":"error","msg":"cannot exec in container \"c1\": it is stopped, not running"'* ]]
}

# wait_status for WHO.
wait_status_any() {
    local i
    for i in $(seq 100); do
        [ "$(ctr state "$1" | jq -r .status)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

@test "exec: a missing binary, no command, a stopped or unknown container: clear errors" {
    stopped_case root
}

@test "exec: rootless: a missing binary, no command, a stopped or unknown container" {
    stopped_case rootless
}

process_json_case() {
    start_c1 "$1"
    local p="$(shared_dir)/process.json"
    cat >"$p" <<'JSON'
{"terminal": false, "user": {"uid": 3, "gid": 4, "additionalGids": [7]}, "args": ["sh", "-c", "id; echo $X; pwd; exit 9"],
 "env": ["PATH=/bin:/usr/bin", "X=from-json"], "cwd": "/etc", "noNewPrivileges": true,
 "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}}
JSON
    chmod 0644 "$p"
    run ctr exec --process "$p" c1
    [ "$status" -eq 9 ]
    [ "$output" = "uid=3 gid=4 groups=7
from-json
/etc" ]
    # The flags on top of the file.
    run ctr exec -p "$p" -e X=flag -u 0 c1
    [[ "$output" == *"uid=0(root) gid=0(root)"*"flag"* ]]
    echo '{"args": []}' >"$p"
    run ctr exec --process "$p" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *"$p: .args: must have at least one entry"* ]]
    echo '{"args": ["x"], "cwd": 5}' >"$p"
    run ctr exec --process "$p" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *"$p"*".cwd"* ]]
}

@test "exec --process: a process.json" {
    process_json_case root
}

@test "exec --process: rootless" {
    process_json_case rootless
}

# The config as created is what exec uses: a bundle whose config.json is
# then changed, or removed, changes nothing for the container.
kept_config_case() {
    start_c1 "$1" '.process.env += ["MARK=created"]'
    set_config "$B" '.process.env |= map(if . == "MARK=created" then "MARK=changed" else . end) | .process.args = ["/bin/false"]'
    run ctr exec c1 sh -c 'echo "mark=$MARK"'
    [ "$status" -eq 0 ]
    [ "$output" = mark=created ]
    rm "$B/config.json"
    run ctr exec c1 sh -c 'echo "mark=$MARK"'
    [ "$status" -eq 0 ]
    [ "$output" = mark=created ]
    # The copy is the state directory's own: only its owner reads it.
    local root="$STATE_ROOT"
    [ "$1" = root ] || root="$ROOTLESS_STATE_ROOT"
    [ "$(stat -c %a "$root/c1/config.json")" = 600 ]
}

@test "exec: the config as created, whatever happens to the bundle's config.json later" {
    kept_config_case root
}

@test "exec: rootless: the config as created, whatever happens to the bundle's config.json later" {
    kept_config_case rootless
}

preserve_case() {
    start_c1 "$1"
    local f="$(shared_dir)/f"
    echo data >"$f"
    chmod 0644 "$f"
    run ctr exec --preserve-fds 2 c1 sh -c 'ls /proc/self/fd | sort -n | xargs; cat <&4' 3<"$f" 4<"$f" 5<"$f"
    [ "$status" -eq 0 ]
    # ls's own directory fd is the highest.
    [[ "$output" == "0 1 2 3 4 5"*"data" ]] || [[ "$output" == "0 1 2 3 4"*"data" ]]
    run ctr exec c1 sh -c 'ls /proc/self/fd | sort -n | xargs' 3<"$f"
    [[ "$output" != *" 3 4"* ]]
    # A closed fd of the range is skipped (crun).
    run -0 ctr exec --preserve-fds 3 c1 sh -c 'r=; for n in 3 4 5; do [ -e /proc/self/fd/$n ] && r="$r$n "; done; echo $r' \
        3<"$f" 4<&- 5<"$f"
    [ "$output" = "3 5" ]
}

@test "exec --preserve-fds: fds 3.. reach the process, no others" {
    preserve_case root
}

@test "exec --preserve-fds: rootless" {
    preserve_case rootless
}

tty_case() {
    start_c1 "$1"
    local sock prog
    sock="$(shared_dir)/console.sock"
    prog="$(helper_bin fd-receiver)"
    if [ "$WHO" = rootless ]; then
        printf 'tty; echo hel""lo; exit 5\n' | as_rootless timeout 30 "$prog" pty "$sock" >"$OUT" 2>"$OUT.err" &
    else
        printf 'tty; echo hel""lo; exit 5\n' | timeout 30 "$prog" pty "$sock" >"$OUT" 2>"$OUT.err" &
    fi
    local receiver=$!
    record_pid "$receiver"
    wait_socket "$sock"
    run ctr exec -t --console-socket "$sock" c1 sh
    [ "$status" -eq 5 ]
    wait "$receiver"
    grep -q '^hello' "$OUT"
    grep -q '^/dev/pts/[0-9]' "$OUT"
    grep -qx 'payload /dev/ptmx' "$OUT.err"
    run ctr exec -d -t c1 sh
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot allocate tty if crunpp will detach without setting console socket"* ]]
    run ctr exec --console-socket "$sock" c1 true
    [[ "$output" == *"cannot use console socket if crunpp will not allocate tty"* ]]
}

@test "exec -t --console-socket: the pty master reaches the receiver" {
    tty_case root
}

@test "exec -t --console-socket: rootless" {
    tty_case rootless
}

@test "exec -t in the foreground proxies the terminal" {
    command -v script >/dev/null || skip "script is not installed"
    start_c1 root
    run script -qec "$CRUNPP --root $STATE_ROOT exec -t c1 sh -c 'read x; tty; echo got-\$x; exit 6'" /dev/null < <(sleep 1; printf 'abc\r'; sleep 1)
    [ "$status" -eq 6 ]
    [[ "$output" == *"/dev/pts/"* ]]
    [[ "$output" == *"got-abc"* ]]
}

@test "exec: foreground signals reach the process; --pidfd-socket" {
    start_c1 root
    "$CRUNPP" --root "$STATE_ROOT" exec c1 sh -c 'trap "echo got-ALRM" ALRM; trap "exit 42" TERM; echo ready
        while :; do sleep 0.1; done' >"$OUT" 2>&1 &
    local fg=$!
    record_pid "$fg"
    wait_file "$OUT"
    # SIGALRM's default would end crunpp: forwarded too, as by runc.
    kill -ALRM "$fg"
    sleep 0.3
    kill -TERM "$fg"
    local st=0
    wait "$fg" || st=$?
    [ "$st" -eq 42 ]
    [ "$(xargs <"$OUT")" = "ready got-ALRM" ]
    # --pidfd-socket: the receiver gets the process, which it sees exit.
    local sock prog
    sock="$(shared_dir)/pidfd.sock"
    prog="$(helper_bin fd-receiver)"
    timeout 30 "$prog" pidfd "$sock" >"$OUT" 2>"$OUT.err" &
    local receiver=$!
    record_pid "$receiver"
    wait_socket "$sock"
    local pf="$(shared_dir)/exec.pid"
    crunpp exec -d --pid-file "$pf" --pidfd-socket "$sock" c1 sleep 1 >/dev/null 2>&1
    wait "$receiver"
    [ "$(head -1 "$OUT")" = "pid $(cat "$pf")" ]
    [ "$(tail -1 "$OUT")" = exited ]
}

@test "exec: into a container with a user namespace of its own (root, mapped to 100000)" {
    make_bundle "$B" /bin/sleep 1000
    set_config "$B" '.linux.namespaces += [{"type": "user"}] |
        .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
        .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    _open_path "$B/rootfs"
    crunpp run -d -b "$B" c1
    local init
    init="$(pid_of c1)"
    record_pid "$init"
    # Run from the init's session keyring, which its owner (host uid
    # 100000) opened up: exec joins it without changing it.
    run -0 crunpp exec c1 sh -c 'id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user'
    [ "${lines[0]}" = 0 ]
    [ "$(echo "${lines[1]}" | xargs)" = "0 100000 65536" ]
    [ "${lines[2]}" = "$(readlink /proc/"$init"/ns/user)" ]
    run -0 crunpp exec -u 1000:1000 c1 sh -c 'id -u; id -g'
    [ "${lines[*]}" = "1000 1000" ]
    crunpp exec -d --pid-file "$BATS_TEST_TMPDIR/p.pid" c1 sleep 100
    record_pid "$(cat "$BATS_TEST_TMPDIR/p.pid")"
    [ "$(awk '/^Uid:/ {print $2}' /proc/"$(cat "$BATS_TEST_TMPDIR/p.pid")"/status)" = 100000 ]
    crunpp delete -f c1
    assert_no_containers
}

@test "exec: joins the container's time namespace (offsets seen)" {
    start_c1 root '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}}'
    run crunpp exec c1 sh -c 'readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$(readlink /proc/"$INIT"/ns/time)" ]
    [ "${lines[0]}" != "$(readlink /proc/self/ns/time)" ]
    [ "${lines[1]}" -ge 864000 ]
}

@test "exec --apparmor / --process-label: set on the process, an error without that LSM" {
    start_c1 root
    if [ -e /sys/module/apparmor/parameters/enabled ] && grep -q Y /sys/module/apparmor/parameters/enabled; then
        run crunpp exec --apparmor unconfined c1 cat /proc/self/attr/current
        [ "$status" -eq 0 ]
        [[ "$output" == unconfined* ]]
    else
        run crunpp exec --apparmor some-profile c1 true
        [ "$status" -eq 1 ]
        [[ "$output" == *'apparmor profile "some-profile" requested but AppArmor is not enabled on this host'* ]]
    fi
    if command -v selinuxenabled >/dev/null && selinuxenabled; then
        skip "SELinux enforcing host: the label case needs a policy"
    fi
    run crunpp exec --process-label system_u:system_r:container_t:s0 c1 true
    [ "$status" -eq 1 ]
    [[ "$output" == *'selinux label "system_u:system_r:container_t:s0" requested but SELinux is not enabled on this host'* ]]
}
