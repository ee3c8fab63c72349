#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Configs that runc and crun run (issue 13): each test is a bundle as other
# tools write it, checked from inside the container, rootful and rootless
# where it applies.

load helpers
bats_require_minimum_version 1.5.0

B=""

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

# The optional fields of the mountinfo line of "/" in the container.
root_propagation_cmd='awk '"'"'$5 == "/" {for (i = 7; $i != "-"; i++) printf "%s ", $i; print ""}'"'"' /proc/self/mountinfo'

@test "compat: rootfsPropagation unbindable and runbindable, as root" {
    require_root
    local p
    for p in unbindable runbindable; do
        rm -rf "$B"
        make_bundle "$B" /bin/sh -c "$root_propagation_cmd"
        set_config "$B" ".linux.rootfsPropagation = \"$p\""
        run -0 crunpp run -b "$B" "c13-unbind-$p"
        [[ "$output" == *unbindable* ]]
    done
}

@test "compat: rootfsPropagation unbindable, rootless" {
    make_rootless_bundle "$B" /bin/sh -c "$root_propagation_cmd"
    set_config "$B" '.linux.rootfsPropagation = "unbindable"'
    run -0 crunpp_rootless run -b "$B" c13-unbind-rl
    [[ "$output" == *unbindable* ]]
}

# Hooks of the create phases that write, relative to their working
# directory, where they ran and what they saw of CRUNPP_T13.
hooks_config='.hooks = {
    createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "pwd >cr-cwd; echo ${CRUNPP_T13:-unset} >cr-env"]}],
    createContainer: [{path: "/bin/sh", args: ["sh", "-c", "pwd >cc-cwd; echo ${CRUNPP_T13:-unset} >cc-env"]}],
    prestart: [{path: "/bin/sh", args: ["sh", "-c", "echo ${CRUNPP_T13:-unset} >empty-env"], env: []}]
  }'

check_hook_files() {
    [ "$(cat "$B/cr-cwd")" = "$B" ]
    [ "$(cat "$B/cc-cwd")" = "$B" ]
    [ "$(cat "$B/cr-env")" = from-caller ]
    [ "$(cat "$B/cc-env")" = from-caller ]
    [ "$(cat "$B/empty-env")" = unset ]
}

@test "compat: hooks without env get the runtime's environment; create hooks run in the bundle, as root" {
    require_root
    make_bundle "$B"
    set_config "$B" "$hooks_config"
    cd /
    CRUNPP_T13=from-caller run -0 crunpp run -b "$B" c13-hooks
    check_hook_files
}

@test "compat: hooks without env get the runtime's environment; create hooks run in the bundle, rootless" {
    make_rootless_bundle "$B"
    set_config "$B" "$hooks_config"
    _ensure_rootless_state_root
    run -0 as_rootless env CRUNPP_T13=from-caller "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" run -b "$B" c13-hooks-rl
    check_hook_files
}

@test "compat: run.oci.hooks.stdout and run.oci.hooks.stderr get every phase's hook output (crun)" {
    require_root
    make_bundle "$B"
    local out="$BATS_TEST_TMPDIR/hooks.out" err="$BATS_TEST_TMPDIR/hooks.err" phase
    set_config "$B" ".annotations = {\"run.oci.hooks.stdout\": \"$out\", \"run.oci.hooks.stderr\": \"$err\"}
        | .hooks = ([\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", \"poststart\", \"poststop\"]
            | map({key: ., value: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"echo out-\$0; echo err-\$0 >&2\", .]}]})
            | from_entries)"
    echo before >"$out"
    run -0 crunpp run -b "$B" c13-hooks-out
    [ "$output" = "" ]
    for phase in prestart createRuntime createContainer startContainer poststart poststop; do
        grep -qx "out-$phase" "$out"
        grep -qx "err-$phase" "$err"
    done
    [ "$(head -n1 "$out")" = before ] # appended to
    [ "$(stat -c %a "$err")" = 600 ]
    # A failing hook's error then names no output; the file has it.
    set_config "$B" '.hooks = {createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "echo broken >&2; exit 3"]}]}'
    run -1 crunpp run -b "$B" c13-hooks-out2
    [[ "$output" == *'createRuntime hook[0] "/bin/sh": exited with status 3' ]]
    [ "$(tail -n1 "$err")" = broken ]
}

@test "compat: a user namespace without uidMappings/gidMappings as root maps the ids 1:1 (crun)" {
    require_root
    make_bundle "$B" /bin/sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g'
    set_config "$B" '.linux.namespaces += [{type: "user"}] | del(.linux.uidMappings, .linux.gidMappings)'
    run -0 crunpp run -b "$B" c13-userns-11
    [ "$(echo "$output" | awk 'NR <= 2 {print $1, $2, $3}' | tr '\n' ' ')" = "0 0 1 0 0 1 " ]
    [ "$(echo "$output" | sed -n 3,4p | tr '\n' ' ')" = "0 0 " ]
    set_config "$B" '.process.user = {uid: 1000, gid: 100}'
    run -0 crunpp run -b "$B" c13-userns-11b
    [ "$(echo "$output" | awk 'NR <= 2 {print $1, $2, $3}' | tr '\n' ' ')" = "0 0 1001 0 0 101 " ]
    [ "$(echo "$output" | sed -n 3,4p | tr '\n' ' ')" = "1000 100 " ]
}

@test "compat: lo is up in a new network namespace, as root and rootless" {
    require_root
    make_bundle "$B" ip -o link show lo
    set_config "$B" '.linux.namespaces |= (map(select(.type != "network")) + [{type: "network"}])'
    run -0 crunpp run -b "$B" c13-lo
    [[ "$output" == *"<LOOPBACK,UP,LOWER_UP>"* ]]
    rm -rf "$B"
    make_rootless_bundle "$B" ip -o link show lo
    set_config "$B" '.linux.namespaces |= (map(select(.type != "network")) + [{type: "network"}])'
    run -0 crunpp_rootless run -b "$B" c13-lo-rl
    [[ "$output" == *"<LOOPBACK,UP,LOWER_UP>"* ]]
}

@test "compat: a missing process.cwd is created (by the container's root, 0755), even with a read-only root" {
    require_root
    make_bundle "$B" /bin/sh -c 'pwd; stat -c "%u %g %a" . ..'
    set_config "$B" '.process.cwd = "/work/deep" | .root.readonly = true | .process.user = {uid: 1000, gid: 1000}'
    run -0 crunpp run -b "$B" c13-cwd
    [ "$output" = "/work/deep
0 0 755
0 0 755" ]
    [ -d "$B/rootfs/work/deep" ]
}

@test "compat: a missing process.cwd is created, rootless" {
    make_rootless_bundle "$B" /bin/sh -c 'pwd; stat -c "%u %a" .'
    set_config "$B" '.process.cwd = "/work/deep"'
    run -0 crunpp_rootless run -b "$B" c13-cwd-rl
    [ "$output" = "/work/deep
0 755" ]
    [ "$(stat -c %u "$B/rootfs/work/deep")" = "$(rootless_uid)" ]
}

@test "compat: bind sources are opened with the runtime's credentials: a source under root's 0700 directory in a userns container" {
    require_root
    make_bundle "$B" /bin/sh -c 'cat /data/file; cat /single; grep -E " /data " /proc/self/mountinfo | cut -d" " -f6; (echo x >/data/new) 2>/dev/null || echo ro'
    local secret="$BATS_TEST_TMPDIR/secret"
    mkdir -p "$secret/dir"
    chmod 0700 "$secret"
    echo in-dir >"$secret/dir/file"
    echo single >"$secret/single"
    chmod 0644 "$secret/single" "$secret/dir/file"
    set_config "$B" ".linux.namespaces += [{type: \"user\"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .mounts += [{destination: \"/data\", type: \"bind\", source: \"$secret/dir\", options: [\"rbind\", \"ro\", \"nosuid\"]},
                      {destination: \"/single\", type: \"none\", source: \"$secret/single\", options: [\"bind\"]}]"
    chown -R 100000:100000 "$B/rootfs"
    _open_path "$B"
    run -0 crunpp run -b "$B" c13-bindsrc
    [ "$output" = "in-dir
single
ro,nosuid,relatime
ro" ]
    # A missing source is still create's error, naming the mount.
    set_config "$B" ".mounts[-1].source = \"$secret/missing\""
    run -1 crunpp run -b "$B" c13-bindsrc2
    [ "$output" = "crunpp: mount \"$secret/missing\" on \"/single\": No such file or directory" ]
}

no_mountns_config='.linux.namespaces |= map(select(.type != "mount")) | .mounts = []
    | .linux.maskedPaths = [] | .linux.readonlyPaths = [] | .root.readonly = false'

@test "compat: without a mount namespace the container runs in the caller's, chrooted (create, exec), as root" {
    require_root
    make_bundle "$B" sleep 100
    set_config "$B" "$no_mountns_config"
    echo marker-13 >"$B/rootfs/marker"
    crunpp create -b "$B" c13-nomnt >"$BATS_TEST_TMPDIR/out" 2>&1
    local pid
    pid="$(crunpp state c13-nomnt | jq -r .pid)"
    [ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]
    [ "$(readlink "/proc/$pid/root")" = "$(readlink -f "$B/rootfs")" ]
    crunpp start c13-nomnt
    run -0 crunpp exec c13-nomnt cat /marker
    [ "$output" = marker-13 ]
    crunpp delete -f c13-nomnt
    # Nothing was mounted anywhere.
    run -1 grep -q "$B" /proc/self/mountinfo
}

@test "compat: without a mount namespace, rootless" {
    make_rootless_bundle "$B" cat /marker
    set_config "$B" "$no_mountns_config"
    echo marker-13 >"$B/rootfs/marker"
    # Its pid namespace would need a procfs that no one can mount.
    run -1 crunpp_rootless run -b "$B" c13-nomnt-rl
    [[ "$output" == 'crunpp: config.json: .linux.namespaces: a new pid namespace without a mount namespace cannot work rootless'* ]]
    set_config "$B" '.linux.namespaces |= map(select(.type != "pid"))'
    run -0 crunpp_rootless run -b "$B" c13-nomnt-rl
    [ "$output" = marker-13 ]
}

@test "compat: without a mount namespace what needs a mount is refused, naming the JSON path" {
    require_root
    make_bundle "$B"
    set_config "$B" '.linux.namespaces |= map(select(.type != "mount"))'
    run -1 crunpp run -b "$B" c13-nomnt-bad
    [[ "$output" == 'crunpp: config.json: .mounts: mounting needs a mount namespace'* ]]
    set_config "$B" "$no_mountns_config"' | .linux.maskedPaths = ["/proc/kcore"]'
    run -1 crunpp run -b "$B" c13-nomnt-bad
    [[ "$output" == 'crunpp: config.json: .linux.maskedPaths: masking paths needs a mount namespace'* ]]
    set_config "$B" "$no_mountns_config"' | .root.readonly = true'
    run -1 crunpp run -b "$B" c13-nomnt-bad
    [[ "$output" == 'crunpp: config.json: .root.readonly: a read-only root needs a mount namespace'* ]]
}

require_rt_group_sched() {
    require_root
    [ -f /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "no cgroup v1 cpu controller with real-time group scheduling"
}

@test "compat: cpu.realtimeRuntime on cgroup v1: the parents get the budget the container needs (runc)" {
    require_rt_group_sched
    make_bundle "$B" /bin/sh -c 'cut -d" " -f41 /proc/self/stat'
    set_config "$B" '.linux.cgroupsPath = "/crunpp-c13rt/a/b" | .linux.resources.cpu = {realtimeRuntime: 20000, realtimePeriod: 1000000}
        | .process.scheduler = {policy: "SCHED_FIFO", priority: 10}'
    crunpp create -b "$B" c13-rt >"$BATS_TEST_TMPDIR/out" 2>&1
    [ "$(cat /sys/fs/cgroup/cpu/crunpp-c13rt/a/b/cpu.rt_runtime_us)" = 20000 ]
    [ "$(cat /sys/fs/cgroup/cpu/crunpp-c13rt/a/cpu.rt_runtime_us)" -ge 20000 ]
    [ "$(cat /sys/fs/cgroup/cpu/crunpp-c13rt/cpu.rt_runtime_us)" -ge 20000 ]
    crunpp start c13-rt
    crunpp delete -f c13-rt
    # At the default place /<id>, with run: SCHED_FIFO (policy 1) works.
    set_config "$B" 'del(.linux.cgroupsPath)'
    run -0 crunpp run -b "$B" c13-rt2
    [ "$output" = 1 ]
    # More than the host has is a clear error naming the parent, or, at
    # the top, the container's own file.
    set_config "$B" '.linux.resources.cpu.realtimeRuntime = 999999'
    run -1 crunpp run -b "$B" c13-rt3
    [[ "$output" == 'crunpp: cgroup: write "999999" to /sys/fs/cgroup/cpu'*'/c13-rt3/cpu.rt_runtime_us: '* ]]
    set_config "$B" '.linux.cgroupsPath = "/crunpp-c13rt/a/b"'
    run -1 crunpp run -b "$B" c13-rt3
    [[ "$output" == "crunpp: cgroup: give the parent /sys/fs/cgroup/cpu"*"/crunpp-c13rt the real-time budget"* ]]
    find /sys/fs/cgroup/*/crunpp-c13rt -depth -type d -exec rmdir {} + 2>/dev/null || true
    # The kernel frees removed cgroups' budgets a little later and refuses
    # every budget until then: wait (bounded) for the next tests.
    local probe=/sys/fs/cgroup/cpu/crunpp-c13rt-probe
    for _ in $(seq 100); do
        mkdir -p "$probe"
        if echo 1000 >"$probe/cpu.rt_runtime_us" 2>/dev/null; then
            echo 0 >"$probe/cpu.rt_runtime_us"
            rmdir "$probe"
            break
        fi
        rmdir "$probe"
        sleep 0.1
    done
}

@test "compat: process.scheduler SCHED_FIFO on cgroup v1 without a budget gets its parent's" {
    require_rt_group_sched
    make_bundle "$B" /bin/sh -c 'cut -d" " -f41 /proc/self/stat'
    set_config "$B" '.process.scheduler = {policy: "SCHED_FIFO", priority: 5} | .linux.cgroupsPath = "/crunpp-c13fifo/x"'
    run -0 crunpp run -b "$B" c13-fifo
    [ "$output" = 1 ]
    find /sys/fs/cgroup/*/crunpp-c13fifo -depth -type d -exec rmdir {} + 2>/dev/null || true
}

@test "compat: sysctl kernel.hostname, and kernel.domainname against domainname, are refused naming the JSON path (crun)" {
    make_rootless_bundle "$B" /bin/sh -c 'cat /proc/sys/kernel/domainname'
    set_config "$B" '.linux.sysctl = {"kernel.hostname": "h"}'
    run -1 crunpp_rootless run -b "$B" c13-sysctl
    [ "$output" = 'crunpp: config.json: .linux.sysctl["kernel.hostname"]: not allowed: the host name is set with .hostname' ]
    set_config "$B" '.domainname = "a.test" | .linux.sysctl = {"kernel.domainname": "b.test"}'
    run -1 crunpp_rootless run -b "$B" c13-sysctl
    [ "$output" = 'crunpp: config.json: .linux.sysctl["kernel.domainname"]: "b.test" conflicts with .domainname "a.test"' ]
}

@test "compat: sysctl kernel.domainname equal to domainname is no conflict, as root" {
    require_root
    make_bundle "$B" /bin/sh -c 'cat /proc/sys/kernel/domainname'
    set_config "$B" '.domainname = "a.test" | .linux.sysctl = {"kernel.domainname": "a.test"}'
    run -0 crunpp run -b "$B" c13-sysctl2
    [ "$output" = a.test ]
}

@test "compat: run.oci.keep_original_groups keeps the caller's supplementary groups, in run and exec (crun)" {
    require_root
    make_bundle "$B" /bin/sh -c 'grep ^Groups: /proc/self/status'
    run -0 setpriv --groups 1234,5678 "$CRUNPP" --root "$STATE_ROOT" run -b "$B" c13-groups
    [ "$(echo "$output" | xargs)" = "Groups:" ]
    set_config "$B" '.annotations["run.oci.keep_original_groups"] = "1" | .process.user.additionalGids = [99]'
    run -0 setpriv --groups 1234,5678 "$CRUNPP" --root "$STATE_ROOT" run -b "$B" c13-groups
    [ "$(echo "$output" | xargs)" = "Groups: 1234 5678" ]
    set_config "$B" '.process.args = ["sleep", "100"]'
    setpriv --groups 1234 "$CRUNPP" --root "$STATE_ROOT" run -d -b "$B" c13-groups >"$BATS_TEST_TMPDIR/out" 2>&1
    run -0 setpriv --groups 4321 "$CRUNPP" --root "$STATE_ROOT" exec c13-groups grep ^Groups: /proc/self/status
    [ "$(echo "$output" | xargs)" = "Groups: 4321" ]
}

@test "compat: run.oci.seccomp_fail_unknown_syscall makes an unknown syscall name an error (crun)" {
    make_rootless_bundle "$B" /bin/true
    set_config "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["getpid", "c13_no_such_syscall"], action: "SCMP_ACT_ERRNO"}]}'
    run -0 crunpp_rootless run -b "$B" c13-seccomp
    set_config "$B" '.annotations["run.oci.seccomp_fail_unknown_syscall"] = "1"'
    run -1 crunpp_rootless run -b "$B" c13-seccomp
    [ "$output" = 'crunpp: config.json: .linux.seccomp.syscalls[0].names[1]: unknown syscall "c13_no_such_syscall" (run.oci.seccomp_fail_unknown_syscall)' ]
}

@test "compat: linux.devices bound into a user-namespaced container are nosuid,noexec (crun), rootless and as root" {
    make_rootless_bundle "$B" /bin/sh -c 'grep " /dev/zero " /proc/self/mountinfo | cut -d" " -f6; head -c 3 /dev/zero | wc -c'
    set_config "$B" '.linux.devices = [{path: "/dev/zero", type: "c", major: 1, minor: 5}]'
    run -0 crunpp_rootless run -b "$B" c13-dev-rl
    [[ "${lines[0]}" == *nosuid* && "${lines[0]}" == *noexec* ]]
    [ "${lines[1]}" = 3 ]
    rm -rf "$B"
    make_bundle "$B" /bin/sh -c 'grep " /dev/zero " /proc/self/mountinfo | cut -d" " -f6'
    set_config "$B" '.linux.devices = [{path: "/dev/zero", type: "c", major: 1, minor: 5}]
        | .linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
    chown -R 100000:100000 "$B/rootfs"
    _open_path "$B"
    run -0 crunpp run -b "$B" c13-dev
    [[ "$output" == *nosuid* && "$output" == *noexec* ]]
}

nnp_of() {
    awk '/^NoNewPrivs:/ {print $2}' <<<"$1"
}

exec_nnp_case() {
    local who="$1" cmd=crunpp
    [ "$who" = rootless ] && cmd=crunpp_rootless
    if [ "$who" = rootless ]; then make_rootless_bundle "$B" sleep 100; else make_bundle "$B" sleep 100; fi
    # The config's noNewPrivileges is inherited by exec (runc's behaviour).
    set_config "$B" '.process.noNewPrivileges = true'
    "$cmd" run -d -b "$B" c13-nnp >"$BATS_TEST_TMPDIR/out" 2>&1
    run -0 "$cmd" exec c13-nnp cat /proc/self/status
    [ "$(nnp_of "$output")" = 1 ]
    "$cmd" delete -f c13-nnp
    set_config "$B" '.process.noNewPrivileges = false'
    "$cmd" run -d -b "$B" c13-nnp >"$BATS_TEST_TMPDIR/out" 2>&1
    run -0 "$cmd" exec c13-nnp cat /proc/self/status
    [ "$(nnp_of "$output")" = 0 ]
    run -0 "$cmd" exec --no-new-privs c13-nnp cat /proc/self/status
    [ "$(nnp_of "$output")" = 1 ]
}

@test "compat: exec inherits the config's noNewPrivileges; --no-new-privs sets it, as root" {
    require_root
    exec_nnp_case root
}

@test "compat: exec inherits the config's noNewPrivileges; --no-new-privs sets it, rootless" {
    require_rootless_user
    exec_nnp_case rootless
}

@test "compat: a linux.devices node the host lacks, in a user-namespaced container as root: made by the runtime (crun)" {
    require_root
    make_bundle "$B" /bin/sh -c 'stat -c "%F %t:%T %a %u:%g" /dev/c13-null; echo x >/dev/c13-null && echo written; grep " /dev/c13-null " /proc/self/mountinfo | cut -d" " -f6'
    set_config "$B" '.linux.devices = [{path: "/dev/c13-null", type: "c", major: 1, minor: 3, fileMode: 438, uid: 0, gid: 0}]
        | .linux.namespaces += [{type: "user"}]
        | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
    chown -R 100000:100000 "$B/rootfs"
    _open_path "$B"
    [ ! -e /dev/c13-null ]
    run -0 crunpp run -b "$B" c13-devmiss
    [ "${lines[0]}" = "character special file 1:3 666 0:0" ]
    [ "${lines[1]}" = written ]
    [[ "${lines[2]}" == *nosuid* && "${lines[2]}" == *noexec* ]]
}

# Field 6 of /proc/1/stat: the session of the container's init.
init_session_cmd='cut -d" " -f6 /proc/1/stat'

@test "compat: the init of a container without a terminal leads its own session, as runc's (root and rootless)" {
    require_root
    make_bundle "$B" /bin/sh -c "$init_session_cmd"
    run -0 crunpp run -b "$B" c18-session
    [ "$output" = 1 ]
    require_rootless_user
    make_rootless_bundle "$BATS_TEST_TMPDIR/rl" /bin/sh -c "$init_session_cmd"
    run -0 crunpp_rootless run -b "$BATS_TEST_TMPDIR/rl" c18-session-rl
    [ "$output" = 1 ]
}
