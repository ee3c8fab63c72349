#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# linux.seccomp as a process in the container sees it: every action,
# argument filters, architectures, podman's default profile, the compiled
# filter cache, bad profiles, and the notify listener with a test agent;
# as root and rootless. The syscalls are made by tests/helpers/seccomp-probe
# (static), copied into the busybox rootfs as /bin/seccomp-probe.

load helpers
load lifecycle_helpers
bats_require_minimum_version 1.5.0

PROBE="$REPO_ROOT/build/tests/helpers/seccomp-probe"
AGENT="$REPO_ROOT/build/tests/helpers/seccomp-agent"
TO_OCI="$REPO_ROOT/contrib/podman-seccomp-to-oci.py"
PODMAN_PROFILE=/usr/share/containers/seccomp.json

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
    [ -x "$PROBE" ] || skip "no $PROBE (not built in sanitized trees)"
}

teardown() {
    crunpp_teardown
}

# seccomp_bundle DIR ARGS...: a root bundle with the probe in its rootfs.
seccomp_bundle() {
    require_root
    make_bundle "$@"
    install -m 0755 "$PROBE" "$1/rootfs/bin/seccomp-probe"
}

seccomp_rootless_bundle() {
    make_rootless_bundle "$@"
    install -m 0755 -o "$(rootless_uid)" -g "$(rootless_gid)" "$PROBE" "$1/rootfs/bin/seccomp-probe"
}

# set_seccomp DIR JSON: linux.seccomp = JSON.
set_seccomp() {
    set_config "$1" ".linux.seccomp = $2"
}

# The probe's output for one syscall inside a container, as "status=N" when
# a signal ended it.
probe_script() {
    echo "/bin/seccomp-probe $*; s=\$?; [ \$s -eq 0 ] || echo status=\$s"
}

# The user's cache of compiled filters: beside the default state root,
# never in a --root (engines share theirs with runc).
ROOT_CACHE=/run/crunpp-seccomp-cache

# cache_entry DIR TAG: the entry whose key holds TAG (a rule for a syscall
# name libseccomp does not know, which the key keeps): the cache is shared
# by every test of the user.
cache_entry() {
    grep -l -a -F -- "$2" "$1"/* 2>/dev/null || true
}

# A rule that only marks the profile (libseccomp skips the unknown name).
tag_rule() {
    echo "{\"names\": [\"$1\"], \"action\": \"SCMP_ACT_ERRNO\"}"
}

# Starts the agent (as root, or as the test user with "rootless") on
# $SOCK, writing the state it receives to $AGENT_OUT; waits for the socket.
start_agent() {
    local who="$1"
    shift
    AGENT_DIR="$BATS_TEST_TMPDIR/agent"
    mkdir -p "$AGENT_DIR"
    SOCK="$AGENT_DIR/agent.sock"
    AGENT_OUT="$AGENT_DIR/state.json"
    if [ "$who" = rootless ]; then
        chown "$(rootless_uid):$(rootless_gid)" "$AGENT_DIR"
        _open_path "$AGENT_DIR"
        as_rootless "$AGENT" "$SOCK" "$AGENT_OUT" "$@" 3>&- &
    else
        "$AGENT" "$SOCK" "$AGENT_OUT" "$@" 3>&- &
    fi
    AGENT_PID=$!
    record_pid "$AGENT_PID"
    local i
    for i in $(seq 100); do
        [ -S "$SOCK" ] && return 0
        sleep 0.1
    done
    echo "the agent did not start" >&2
    return 1
}

# Waits (at most 10 s) for the agent to exit: it does once the container's
# processes are gone.
wait_agent() {
    local i
    for i in $(seq 100); do
        kill -0 "$AGENT_PID" 2>/dev/null || {
            wait "$AGENT_PID"
            return
        }
        sleep 0.1
    done
    echo "the agent did not exit" >&2
    return 1
}

@test "seccomp: ERRNO with the default errno (EPERM) and a custom errno" {
    seccomp_bundle "$B" /bin/sh -c "$(probe_script mkdir str:/tmp/d 0755); $(probe_script getpriority 0 0); $(probe_script getuid)"
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}]}'
    run crunpp run -b "$B" c1
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = errno=1 ]
    [ "${lines[1]}" = errno=42 ]
    [ "${lines[2]}" = ret=0 ]
    assert_no_containers
}

@test "seccomp: the default action with defaultErrnoRet, ALLOW rules let through" {
    seccomp_bundle "$B" /bin/seccomp-probe getpriority 0 0
    # Just what the runtime's last steps and the probe need.
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
        {"names": ["execve", "capget", "capset", "prctl", "setgroups", "setresuid", "setresgid", "chdir", "close",
                   "close_range", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                   "readlink", "readlinkat", "uname", "mprotect", "getrandom", "newfstatat", "fstat", "write",
                   "exit_group", "exit", "getuid", "geteuid", "getgid", "getegid", "openat", "read", "mmap",
                   "munmap", "rt_sigprocmask", "rt_sigaction", "ioctl"], "action": "SCMP_ACT_ALLOW"}]}'
    run crunpp run -b "$B" c1
    [ "$status" -eq 0 ]
    [ "$output" = errno=38 ]
    set_config "$B" '.process.args = ["/bin/seccomp-probe", "getuid"]'
    run crunpp run -b "$B" c1
    [ "$status" -eq 0 ]
    [ "$output" = ret=0 ]
}

@test "seccomp: KILL, KILL_THREAD and KILL_PROCESS end the process with SIGSYS" {
    seccomp_bundle "$B" /bin/sh -c "$(probe_script getpriority 0 0)"
    for action in SCMP_ACT_KILL SCMP_ACT_KILL_THREAD SCMP_ACT_KILL_PROCESS; do
        set_seccomp "$B" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpriority\"], \"action\": \"$action\"}]}"
        run --separate-stderr crunpp run -b "$B" c1
        echo "$action: $output"
        [ "$status" -eq 0 ]
        [ "$output" = status=159 ]
    done
    # The container's own process (pid 1 of its namespace) too: run gives 128+SIGSYS.
    set_config "$B" '.process.args = ["/bin/seccomp-probe", "getpriority", "0", "0"]'
    run crunpp run -b "$B" c1
    [ "$status" -eq 159 ]
    assert_no_containers
}

@test "seccomp: TRAP delivers a SIGSYS the process can catch" {
    seccomp_bundle "$B" /bin/sh -c "/bin/seccomp-probe --catch-sigsys getpriority 0 0; $(probe_script getpriority 0 0)"
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpriority"], "action": "SCMP_ACT_TRAP"}]}'
    run --separate-stderr crunpp run -b "$B" c1
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "sigsys=$(printf '%d' "$(awk '$2 == "__NR_getpriority" {print $3}' /usr/include/x86_64-linux-gnu/asm/unistd_64.h)")" ]
    [ "${lines[1]}" = status=159 ]
}

@test "seccomp: LOG lets the syscall run and logs it" {
    # A name of its own, to find the kernel's audit record (comm="...").
    comm="sl$$$RANDOM"
    comm="${comm:0:15}"
    seccomp_bundle "$B" /bin/sh -c "$(probe_script getuid); grep -E '^Seccomp:' /proc/self/status"
    cp "$PROBE" "$B/rootfs/bin/$comm"
    set_config "$B" ".process.args[2] = \"/bin/$comm getuid; grep -E '^Seccomp:' /proc/self/status\""
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getuid"], "action": "SCMP_ACT_LOG"}]}'
    run crunpp run -b "$B" c1
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = ret=0 ]
    [[ "${lines[1]}" == "Seccomp:"*2 ]]
    dmesg >/dev/null 2>&1 || skip "the kernel log is not readable"
    # SECCOMP_RET_LOG is 0x7ffc0000; the kernel rate-limits these lines, so
    # a few tries.
    nr="$(awk '$2 == "__NR_getuid" {print $3}' /usr/include/x86_64-linux-gnu/asm/unistd_64.h)"
    for try in 1 2 3; do
        dmesg | grep -E "comm=\"$comm\".* syscall=$nr .*code=0x7ffc0000" && return 0
        sleep 2
        crunpp run -b "$B" c1
    done
    false
}

@test "seccomp: argument filters: one value allowed, the others denied; MASKED_EQ" {
    # personality(0xffffffff) only reads the persona; setting one is denied.
    seccomp_bundle "$B" /bin/sh -c "$(probe_script personality 0xffffffff); $(probe_script personality 8); $(probe_script umask 0722); $(probe_script umask 0027)"
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_NE"}]},
        {"names": ["umask"], "action": "SCMP_ACT_ERRNO", "errnoRet": 21,
         "args": [{"index": 0, "value": 63, "valueTwo": 18, "op": "SCMP_CMP_MASKED_EQ"}]}]}'
    run crunpp run -b "$B" c1
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = ret=0 ]
    [ "${lines[1]}" = errno=13 ]
    [ "${lines[2]}" = errno=21 ]
    [[ "${lines[3]}" == ret=* ]]
}

@test "seccomp: several architectures end up in the compiled filter" {
    [ "$(uname -m)" = x86_64 ] || skip "x86_64 only"
    seccomp_bundle "$B" /bin/sh -c "$(probe_script getpriority 0 0)"
    local tag="archtest-$$-$RANDOM"
    local profile='{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ARCHS,
        "syscalls": [{"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7}, TAG]}'
    profile="${profile/TAG/$(tag_rule "$tag")}"
    set_seccomp "$B" "${profile/ARCHS/[\"SCMP_ARCH_X86_64\"]}"
    run crunpp run -b "$B" c1
    [ "$output" = errno=7 ]
    one="$(cache_entry "$ROOT_CACHE" "$tag")"
    [ "$(echo "$one" | wc -l)" -eq 1 ]
    set_seccomp "$B" "${profile/ARCHS/[\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}"
    run crunpp run -b "$B" c1
    [ "$output" = errno=7 ]
    three="$(cache_entry "$ROOT_CACHE" "$tag" | grep -vx "$one")"
    [ -n "$three" ]
    # AUDIT_ARCH_I386 (0x40000003) is compared only in the second program
    # (the k field of an instruction; the entry ends with the program).
    has_i386() {
        python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
n = struct.unpack_from("<I", d, 12)[0]
prog = d[len(d) - 8 * n:]
sys.exit(0 if any(struct.unpack_from("<I", prog, 8 * i + 4)[0] == 0x40000003 for i in range(n)) else 1)' "$1"
    }
    ! has_i386 "$one"
    has_i386 "$three"
}

@test "seccomp: podman's default profile: busybox works, unshare/mount/keyctl are denied" {
    [ -f "$PODMAN_PROFILE" ] || skip "no $PODMAN_PROFILE (package golang-github-containers-common)"
    seccomp_bundle "$B" /bin/sh -c 'set -e
        ls / >/dev/null; cat /etc/passwd | grep -c root; echo a b c | wc -w; mkdir /tmp/d; rmdir /tmp/d
        ps >/dev/null; id -u; date >/dev/null; sleep 0.01; find /etc -name passwd; echo $(( 6 * 7 ))
        grep -E "^Seccomp:" /proc/self/status
        if unshare -m true 2>/dev/null; then echo unshare allowed; fi
        if mount -t tmpfs none /tmp 2>/dev/null; then echo mount allowed; fi
        /bin/seccomp-probe add_key str:user str:k str:v 1 0xfffffffd
        /bin/seccomp-probe request_key str:user str:k 0 0'
    set_config "$B" '.root.readonly = false'
    "$TO_OCI" "$PODMAN_PROFILE" "$B/config.json"
    [ "$(jq '[.linux.seccomp.syscalls[].names | length] | add' "$B/config.json")" -gt 300 ]
    run crunpp run -b "$B" c1
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '1\n3\n0\n/etc/passwd\n42\nSeccomp:\t2\nerrno=38\nerrno=38')" ]
}

@test "seccomp: podman's profile denies what the capabilities it was made for exclude" {
    [ -f "$PODMAN_PROFILE" ] || skip "no $PODMAN_PROFILE (package golang-github-containers-common)"
    # Profile for the default capabilities, process with CAP_SYS_CHROOT:
    # chroot then fails by seccomp alone.
    seccomp_bundle "$B" /bin/seccomp-probe chroot str:/
    set_config "$B" '.process.capabilities |= with_entries(.value += ["CAP_SYS_CHROOT"])'
    run crunpp run -b "$B" c1
    [ "$output" = ret=0 ]
    "$TO_OCI" "$PODMAN_PROFILE" "$B/config.json" --caps CAP_AUDIT_WRITE,CAP_KILL,CAP_NET_BIND_SERVICE
    run crunpp run -b "$B" c1
    [ "$output" = errno=1 ]
}

@test "seccomp: with or without noNewPrivileges, as root or another user" {
    seccomp_bundle "$B" /bin/sh -c "$(probe_script getpriority 0 0); grep -E '^NoNewPrivs:' /proc/self/status; id -u"
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9}]}'
    for nnp in true false; do
        for uid in 0 1000; do
            set_config "$B" ".process.noNewPrivileges = $nnp | .process.user.uid = $uid | .process.user.gid = $uid"
            run crunpp run -b "$B" c1
            echo "nnp=$nnp uid=$uid: $output"
            [ "$status" -eq 0 ]
            [ "${lines[0]}" = errno=9 ]
            [[ "${lines[1]}" == "NoNewPrivs:"*"$([ $nnp = true ] && echo 1 || echo 0)" ]]
            [ "${lines[2]}" = "$uid" ]
        done
    done
}

@test "seccomp: create/start: the filter is in place after start" {
    seccomp_bundle "$B" /bin/sh -c "$(probe_script getpriority 0 0) > /dev/null; sleep 0.2"
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpriority"], "action": "SCMP_ACT_ERRNO"}]}'
    crunpp create -b "$B" c1
    pid="$(pid_of c1)"
    # Not yet: the init loads it right before execve.
    grep -E '^Seccomp:[[:space:]]+0' "/proc/$pid/status"
    crunpp start c1
    grep -E '^Seccomp:[[:space:]]+2' "/proc/$pid/status"
    wait_status c1 stopped
    crunpp delete c1
}

@test "seccomp: the compiled filter is cached; a damaged entry is ignored and rewritten" {
    seccomp_bundle "$B" /bin/sh -c "$(probe_script getpriority 0 0)"
    local tag="cachetest-$$-$RANDOM"
    # An older crunpp's cache in the root goes (runc list reads every entry).
    mkdir -m 0700 "$STATE_ROOT/.seccomp-cache"
    echo old >"$STATE_ROOT/.seccomp-cache/0123456789abcdef"
    set_seccomp "$B" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpriority\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 11}, $(tag_rule "$tag")]}"
    run crunpp run -b "$B" c1
    [ "$output" = errno=11 ]
    [ "$(stat -c %a "$ROOT_CACHE")" = 700 ]
    entry="$(cache_entry "$ROOT_CACHE" "$tag")"
    [ "$(echo "$entry" | wc -l)" -eq 1 ]
    cp "$entry" "$BATS_TEST_TMPDIR/good"
    # Nothing of the cache in the state root, which runc can list (engines
    # give every runtime the same root).
    [ -z "$(ls -A "$STATE_ROOT")" ]
    if command -v runc >/dev/null; then
        run --separate-stderr runc --root "$STATE_ROOT" list
        [ "$status" -eq 0 ]
        [ -z "$stderr" ]
    fi

    # The last instruction turned into "kill": a load of it would kill the process.
    python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[-8:] = bytes.fromhex("0600000000000000") # ret 0 (kill) at the end
open(sys.argv[1], "wb").write(d)' "$entry"
    ! cmp -s "$entry" "$BATS_TEST_TMPDIR/good"
    run crunpp run -b "$B" c1
    [ "$status" -eq 0 ]
    [ "$output" = errno=11 ]
    cmp "$entry" "$BATS_TEST_TMPDIR/good"

    # Truncated, then garbage.
    truncate -s 10 "$entry"
    run crunpp run -b "$B" c1
    [ "$output" = errno=11 ]
    cmp "$entry" "$BATS_TEST_TMPDIR/good"
    head -c 4096 /dev/urandom >"$entry"
    run crunpp run -b "$B" c1
    [ "$output" = errno=11 ]
    cmp "$entry" "$BATS_TEST_TMPDIR/good"
}

@test "seccomp: a syscall name unknown to libseccomp is skipped (debug log)" {
    seccomp_bundle "$B" /bin/sh -c "$(probe_script getpriority 0 0)"
    # A profile of its own: a cached one is not compiled again.
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["no_such_syscall", "getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 12}, '"$(tag_rule "unknowntest-$$-$RANDOM")"']}'
    run --separate-stderr "$CRUNPP" --debug --root "$STATE_ROOT" run -b "$B" c1
    [ "$status" -eq 0 ]
    [ "$output" = errno=12 ]
    [[ "$stderr" == *'seccomp: syscall \"no_such_syscall\" unknown to libseccomp, skipped'* ||
        "$stderr" == *'seccomp: syscall "no_such_syscall" unknown to libseccomp, skipped'* ]]
}

@test "seccomp: bad profiles are clear errors and leave nothing behind" {
    seccomp_bundle "$B" /bin/true
    check_error() {
        set_seccomp "$B" "$1"
        run crunpp run -b "$B" c1
        echo "$output"
        [ "$status" -eq 1 ]
        [ "$output" = "crunpp: $2" ]
        assert_no_containers
    }
    check_error '{"defaultAction": "SCMP_ACT_BOGUS"}' \
        'config.json: .linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_BOGUS"'
    check_error '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}' \
        'config.json: .linux.seccomp.architectures[0]: unknown seccomp architecture "SCMP_ARCH_Z80"'
    check_error '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}' \
        'config.json: .linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_FAST"'
    check_error '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}' \
        'config.json: .linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_LIKE"'
    check_error '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}' \
        'config.json: .linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5'
    check_error '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}' \
        'config.json: .linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath'
    check_error '{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}' \
        'config.json: .linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs SCMP_ACT_NOTIFY rules'
    check_error "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$BATS_TEST_TMPDIR/nobody.sock\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}" \
        "send the seccomp listener to linux.seccomp.listenerPath \"$BATS_TEST_TMPDIR/nobody.sock\": connect: No such file or directory"
    # A filter that denies what the runtime still needs fails the start
    # visibly: the exec itself is denied.
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ERRNO"}]}'
    run crunpp run -b "$B" c1
    [ "$status" -ne 0 ]
    [ "$output" = 'crunpp: exec /bin/true: operation not permitted' ]
    assert_no_containers
}

@test "seccomp notify: the agent gets the listener and the process state, and decides the syscall's result" {
    require_root
    start_agent root mkdir=errno:42 getppid=ret:4242
    seccomp_bundle "$B" /bin/sh -c "$(probe_script mkdir str:/tmp/d 0755); $(probe_script getppid); $(probe_script getpid); test -d /tmp/d || echo no-dir"
    set_seccomp "$B" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$SOCK\", \"listenerMetadata\": \"hello agent\",
        \"syscalls\": [{\"names\": [\"mkdir\", \"getppid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    set_config "$B" '.annotations = {"org.example": "x"}'
    run crunpp run --pid-file "$BATS_TEST_TMPDIR/pid" -b "$B" c1
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = errno=42 ]
    [ "${lines[1]}" = ret=4242 ]
    [[ "${lines[2]}" == ret=* ]]
    [ "${lines[3]}" = no-dir ]
    wait_agent
    jq . "$AGENT_OUT"
    [ "$(jq -c .fds "$AGENT_OUT")" = '["seccompFd"]' ]
    [ "$(jq -r .ociVersion "$AGENT_OUT")" = 1.3.0 ]
    [ "$(jq -r .metadata "$AGENT_OUT")" = "hello agent" ]
    [ "$(jq -r .pid "$AGENT_OUT")" = "$(cat "$BATS_TEST_TMPDIR/pid")" ]
    [ "$(jq -r .state.pid "$AGENT_OUT")" = "$(cat "$BATS_TEST_TMPDIR/pid")" ]
    [ "$(jq -r .state.id "$AGENT_OUT")" = c1 ]
    [ "$(jq -r .state.status "$AGENT_OUT")" = creating ]
    [ "$(jq -r .state.bundle "$AGENT_OUT")" = "$B" ]
    [ "$(jq -r '.state.annotations["org.example"]' "$AGENT_OUT")" = x ]
    grep -qx 'mkdir errno:42' "$AGENT_OUT.log"
    grep -qx 'getppid ret:4242' "$AGENT_OUT.log"
}

@test "seccomp notify: the runtime's own last syscalls may be notified too" {
    require_root
    start_agent root mkdir=errno:42
    seccomp_bundle "$B" /bin/sh -c "$(probe_script mkdir str:/tmp/d 0755)"
    # openat/write/close: the exec fifo (create), then execve.
    set_seccomp "$B" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$SOCK\",
        \"syscalls\": [{\"names\": [\"mkdir\", \"openat\", \"write\", \"close\", \"execve\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    crunpp create -b "$B" c1
    crunpp start c1
    wait_status c1 stopped
    crunpp delete c1
    wait_agent
    cat "$AGENT_OUT.log"
    grep -qx 'mkdir errno:42' "$AGENT_OUT.log"
    grep -qx '257 continue' "$AGENT_OUT.log"         # openat
    grep -qx '1 continue' "$AGENT_OUT.log"           # write
    grep -qx '59 continue' "$AGENT_OUT.log"          # execve
    # NOTIFY on sendmsg cannot work: the listener travels with it.
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/nowhere", "syscalls": [{"names": ["sendmsg"], "action": "SCMP_ACT_NOTIFY"}]}'
    run crunpp run -b "$B" c1
    [ "$status" -eq 1 ]
    [ "$output" = 'crunpp: config.json: .linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY on "sendmsg" would block the hand-over of the listener to the agent' ]
    assert_no_containers
}

@test "seccomp notify: with create/start and without noNewPrivileges" {
    require_root
    start_agent root mkdir=ret:0
    seccomp_bundle "$B" /bin/sh -c "$(probe_script mkdir str:/tmp/d 0755); test -d /tmp/d || echo no-dir"
    set_seccomp "$B" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$SOCK\",
        \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    set_config "$B" '.process.noNewPrivileges = false'
    crunpp create -b "$B" c1 >"$BATS_TEST_TMPDIR/out" 2>&1
    # The listener went out during create.
    [ "$(jq -r .state.status "$AGENT_OUT")" = creating ]
    [ "$(jq -r .pid "$AGENT_OUT")" = "$(pid_of c1)" ]
    crunpp start c1
    wait_status c1 stopped
    crunpp delete c1
    wait_agent
    grep -qx 'mkdir ret:0' "$AGENT_OUT.log"
}

@test "seccomp rootless: actions, cache and podman's profile" {
    seccomp_rootless_bundle "$B" /bin/sh -c "$(probe_script mkdir str:/tmp/d 0755); $(probe_script getpriority 0 0); $(probe_script personality 8)"
    local tag="rootlesstest-$$-$RANDOM"
    set_seccomp "$B" '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["'"$tag"'"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["getpriority"], "action": "SCMP_ACT_KILL_PROCESS"},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_NE"}]}]}'
    run --separate-stderr crunpp_rootless run -b "$B" r1
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = errno=1 ]
    [ "${lines[1]}" = status=159 ]
    [ "${lines[2]}" = errno=13 ]
    # The cache is the user's own, beside its default state root.
    entry="$(cache_entry "/run/user/$(rootless_uid)/crunpp-seccomp-cache" "$tag")"
    [ -n "$entry" ]
    [ -z "$(ls -A "$ROOTLESS_STATE_ROOT")" ]
    [ "$(stat -c %U "$entry")" = "$ROOTLESS_USER" ]
    run --separate-stderr crunpp_rootless run -b "$B" r1
    [ "${lines[0]}" = errno=1 ]
    # Without noNewPrivileges: loaded with CAP_SYS_ADMIN of the user namespace.
    set_config "$B" '.process.noNewPrivileges = false'
    run --separate-stderr crunpp_rootless run -b "$B" r1
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = errno=1 ]
    [ "${lines[2]}" = errno=13 ]

    [ -f "$PODMAN_PROFILE" ] || skip "no $PODMAN_PROFILE (package golang-github-containers-common)"
    set_config "$B" '.process.args = ["/bin/sh", "-c", "ls / >/dev/null && id -u && /bin/seccomp-probe add_key str:user str:k str:v 1 0xfffffffd"]'
    "$TO_OCI" "$PODMAN_PROFILE" "$B/config.json"
    run crunpp_rootless run -b "$B" r1
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '0\nerrno=38')" ]
}

@test "seccomp notify rootless: the user's own agent answers" {
    require_rootless_user
    start_agent rootless mkdir=errno:42
    seccomp_rootless_bundle "$B" /bin/sh -c "$(probe_script mkdir str:/tmp/d 0755)"
    set_seccomp "$B" "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$SOCK\",
        \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
    run crunpp_rootless run -b "$B" r1
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = errno=42 ]
    wait_agent
    [ "$(jq -r .state.id "$AGENT_OUT")" = r1 ]
}
