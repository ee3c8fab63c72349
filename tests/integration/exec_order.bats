#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The init's last steps (issue 13 item 1, issue 12 item 5): after the
# seccomp filter is loaded the runtime makes no syscall but execve, so a
# strict allow-list profile works, and so does a Docker-style profile from
# before close_range; the process starts with default signal dispositions
# and no blocked signal whatever its caller ignored or blocked. Root and
# rootless. About 10 s.

load helpers
load lifecycle_helpers
load who_helpers
bats_require_minimum_version 1.5.0

TO_OCI="$REPO_ROOT/contrib/podman-seccomp-to-oci.py"
PODMAN_PROFILE=/usr/share/containers/seccomp.json

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

# What a static busybox needs for `cat /proc/self/status`, and execve:
# everything else fails with EPERM.
STRICT='{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
    {"names": ["execve", "arch_prctl", "brk", "close", "exit", "exit_group", "getrandom", "getuid", "mmap",
               "mprotect", "munmap", "openat", "prctl", "prlimit64", "read", "readlink", "rseq", "sendfile",
               "set_robust_list", "set_tid_address", "write", "fstat", "newfstatat"],
     "action": "SCMP_ACT_ALLOW"}]}'

# Every syscall the runtime makes in its last steps denied: none may run
# after the filter. capset is there only without noNewPrivileges (see
# linux/seccomp.hpp), so the caller adds it.
RUNTIME_CALLS='"close_range", "setgroups", "setresuid", "setresgid", "chdir", "fchdir", "getcwd", "umask",
    "rt_sigaction", "rt_sigprocmask", "fcntl", "sendmsg", "recvmsg", "sendto", "dup3", "wait4", "clone",
    "clone3", "kill", "sched_setaffinity", "seccomp"'

status_of_output() {
    printf '%s\n' "$1" | sed -n "s/^$2:[[:space:]]*//p"
}

strict_case() {
    local who="$1"
    bundle_as "$who" cat /proc/self/status
    set_config "$B" ".linux.seccomp = $STRICT | .process.noNewPrivileges = true"
    run --separate-stderr crunpp_as "$who" run -b "$B" eo1
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$(status_of_output "$output" Seccomp)" = 2 ]
    [ "$(status_of_output "$output" NoNewPrivs)" = 1 ]
    # The same with create and start (the exec fifo is done before the filter).
    crunpp_as "$who" create -b "$B" eo2 </dev/null >/dev/null
    crunpp_as "$who" start eo2
    crunpp_as "$who" delete -f eo2
    # Everything the runtime itself calls denied, with and without
    # noNewPrivileges (then capset drops the CAP_SYS_ADMIN kept for the load).
    local deny calls
    for nnp in true false; do
        calls="$RUNTIME_CALLS"
        if [ "$nnp" = true ]; then calls="$calls, \"capset\""; fi
        deny="{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [$calls], \"action\": \"SCMP_ACT_ERRNO\"}]}"
        set_config "$B" ".linux.seccomp = $deny | .process.noNewPrivileges = $nnp"
        run --separate-stderr crunpp_as "$who" run -b "$B" eo3
        echo "nnp=$nnp: status=$status $stderr $output"
        [ "$status" -eq 0 ]
        [ "$(status_of_output "$output" Seccomp)" = 2 ]
        # CAP_SYS_ADMIN was only kept to load the filter.
        [ $((0x$(status_of_output "$output" CapEff) >> 21 & 1)) -eq 0 ]
        [ "$(status_of_output "$output" CapEff)" = "$(status_of_output "$output" CapPrm)" ]
    done
}

@test "exec order: a strict allow-list profile needs nothing but the program's syscalls and execve (root)" {
    strict_case root
}

@test "exec order: a strict allow-list profile needs nothing but the program's syscalls and execve (rootless)" {
    strict_case rootless
}

docker_2019_case() {
    local who="$1"
    [ -f "$PODMAN_PROFILE" ] || skip "no $PODMAN_PROFILE (package golang-github-containers-common)"
    bundle_as "$who" /bin/sh -c 'grep -E "^Seccomp:" /proc/self/status; ls / >/dev/null && echo ok'
    set_config "$B" '.root.readonly = false'
    "$TO_OCI" "$PODMAN_PROFILE" "$B/config.json"
    # A profile from before close_range (Linux 5.9, 2020): not in the list,
    # so SCMP_ACT_ERRNO, with EPERM (no defaultErrnoRet then; ENOSYS would
    # let a runtime fall back).
    set_config "$B" '.linux.seccomp.syscalls |= map(.names -= ["close_range"]) | del(.linux.seccomp.defaultErrnoRet)'
    [ "$(jq '[.linux.seccomp.syscalls[].names[] | select(. == "close_range")] | length' "$B/config.json")" -eq 0 ]
    for nnp in false true; do
        set_config "$B" ".process.noNewPrivileges = $nnp"
        run --separate-stderr crunpp_as "$who" run -b "$B" eo4
        echo "nnp=$nnp: $stderr"
        [ "$status" -eq 0 ]
        [ "$output" = "$(printf 'Seccomp:\t2\nok')" ]
    done
}

@test "exec order: a Docker-style profile without close_range (root)" {
    docker_2019_case root
}

@test "exec order: a Docker-style profile without close_range (rootless)" {
    docker_2019_case rootless
}

# The caller ignores SIGHUP (nohup) and SIGUSR2 and blocks SIGUSR1 and
# SIGTERM: the container's process gets none of that.
signals_case() {
    local who="$1" out
    bundle_as "$who" cat /proc/self/status
    local caller=(python3 -c 'import os, signal, sys
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.signal(signal.SIGUSR2, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})
os.execvp(sys.argv[1], sys.argv[1:])')
    if [ "$who" = rootless ]; then
        _ensure_rootless_state_root
        _rootless_prefix
        out="$("${ROOTLESS_PREFIX[@]}" "${caller[@]}" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" run -b "$B" eo5)"
    else
        out="$("${caller[@]}" "$CRUNPP" --root "$STATE_ROOT" run -b "$B" eo5)"
    fi
    [ "$(status_of_output "$out" SigIgn)" = 0000000000000000 ]
    [ "$(status_of_output "$out" SigBlk)" = 0000000000000000 ]
    # create under the same caller, start, kill -HUP: the shell's trap runs.
    set_config "$B" '.process.args = ["/bin/sh", "-c", "trap \"exit 7\" HUP; echo ready; while :; do sleep 0.1; done"]'
    if [ "$who" = rootless ]; then
        "${ROOTLESS_PREFIX[@]}" "${caller[@]}" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" create -b "$B" eo6 \
            </dev/null >/dev/null 2>&1
    else
        "${caller[@]}" "$CRUNPP" --root "$STATE_ROOT" create -b "$B" eo6 </dev/null >/dev/null 2>&1
    fi
    crunpp_as "$who" start eo6
    local i
    sleep 0.3 # the trap is set once sh runs its script
    crunpp_as "$who" kill eo6 HUP
    for i in $(seq 100); do
        [ "$(crunpp_as "$who" state eo6 | jq -r .status)" = stopped ] && break
        sleep 0.1
    done
    [ "$(crunpp_as "$who" state eo6 | jq -r .status)" = stopped ]
    crunpp_as "$who" delete eo6
}

@test "exec order: default signal dispositions and an empty mask, whatever the caller had (root)" {
    signals_case root
}

@test "exec order: default signal dispositions and an empty mask, whatever the caller had (rootless)" {
    signals_case rootless
}
