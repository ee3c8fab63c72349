#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Every failure of the container's setup is `create`'s error (exit 1, the
# message on stderr and in --log json), never a message on the container's
# stderr after create said success (issue 12 item 4, issue 13 item 2); what
# can only fail after `start` (execve) fails `start` with the init's
# message. The exec errors use runc's words, which Docker, podman and
# containerd map to exit codes 127 and 126. Root and rootless.

load helpers
load lifecycle_helpers
load who_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
    LOG="$BATS_TEST_TMPDIR/log.json"
}

teardown() {
    crunpp_teardown
}

# crunpp_as WHO ARGS...: with a JSON log (who_helpers.bash's, plus --log).
crunpp_as() {
    local who="$1"
    shift
    if [ "$who" = rootless ]; then
        _ensure_rootless_state_root
        if [ ! -d "$BATS_TEST_TMPDIR/logs" ]; then
            install -d -m 0755 -o "$(rootless_uid)" -g "$(rootless_gid)" "$BATS_TEST_TMPDIR/logs"
            _open_path "$BATS_TEST_TMPDIR"
        fi
        LOG="$BATS_TEST_TMPDIR/logs/log.json"
        as_rootless "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" --log "$LOG" --log-format json "$@"
    else
        "$CRUNPP" --root "$STATE_ROOT" --log "$LOG" --log-format json "$@"
    fi
}

log_of() {
    if [ "$1" = rootless ]; then echo "$BATS_TEST_TMPDIR/logs/log.json"; else echo "$LOG"; fi
}

state_root_of() {
    if [ "$1" = rootless ]; then echo "$ROOTLESS_STATE_ROOT"; else echo "$STATE_ROOT"; fi
}

# create_fails WHO WANT: `create` exits 1 with WANT in its stderr and in the
# JSON log, nothing reached the container's stdout/stderr, and no container
# is left.
create_fails() {
    local who="$1" want="$2"
    rm -f "$LOG" "$BATS_TEST_TMPDIR/logs/log.json"
    run --separate-stderr crunpp_as "$who" create -b "$B" sf1 </dev/null
    echo "status=$status stdout=$output stderr=$stderr"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"$want"* ]]
    [ -z "$output" ]
    jq -e --arg w "$want" 'select(.level == "error") | .msg | contains($w)' "$(log_of "$who")" >/dev/null
    assert_no_containers "$(state_root_of "$who")"
}

failures_case() {
    local who="$1"
    bundle_as "$who" /bin/true
    # Docker maps these words to exit 127 ...
    set_config "$B" '.process.args = ["no-such-program-sf"]'
    create_fails "$who" 'exec: "no-such-program-sf": executable file not found in $PATH'
    set_config "$B" '.process.args = ["/no/such/program"]'
    create_fails "$who" 'exec: "/no/such/program": stat /no/such/program: no such file or directory'
    # ... and this to 126.
    set_config "$B" '.process.args = ["/etc/passwd"]'
    create_fails "$who" 'exec: "/etc/passwd": permission denied'
    set_config "$B" '.process.args = ["/bin/true"]'
    # (An ambient capability without its inheritable one is no failure: runc
    # and crun leave it out, see lifecycle.bats.)
    # An AppArmor profile on a host without AppArmor.
    if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
        set_config "$B" '.process.apparmorProfile = "docker-default"'
        create_fails "$who" 'apparmor profile "docker-default" requested but AppArmor is not enabled'
        set_config "$B" 'del(.process.apparmorProfile)'
    fi
}

# What only another user than the container's root meets (a rootless
# bundle maps uid 0 only).
other_user_case() {
    # Only the container's user cannot run it: checked after the user switch.
    chmod 0700 "$B/rootfs/bin/busybox"
    set_config "$B" '.process.user = {"uid": 1000, "gid": 1000}'
    create_fails root 'exec: "/bin/true": permission denied'
    chmod 0755 "$B/rootfs/bin/busybox"
    # The user's cwd unreachable.
    mkdir -p "$B/rootfs/locked"
    chmod 0700 "$B/rootfs/locked"
    set_config "$B" '.process.cwd = "/locked"'
    create_fails root 'chdir to cwd ("/locked") set in config.json failed: Permission denied'
}

@test "setup failures: create reports them (root)" {
    failures_case root
    other_user_case
    # A capability the host's bounding set lacks (root here has no
    # CAP_SYS_RESOURCE on some hosts).
    if ! grep -q "^CapBnd:.*" /proc/self/status || [ $((0x$(sed -n 's/^CapBnd:\t//p' /proc/self/status) >> 24 & 1)) -eq 0 ]; then
        set_config "$B" '.process.user = {"uid": 0, "gid": 0} | .process.cwd = "/"
            | .process.capabilities.permitted += ["CAP_SYS_RESOURCE"]
            | .process.capabilities.bounding += ["CAP_SYS_RESOURCE"]'
        create_fails root 'apply the capabilities (effective, permitted, inheritable): Operation not permitted'
    fi
}

@test "setup failures: create reports them (rootless)" {
    failures_case rootless
}

# start_fails WHO WANT: create succeeds, start exits 1 with WANT.
start_fails() {
    local who="$1" want="$2"
    crunpp_as "$who" create -b "$B" sf2 </dev/null
    rm -f "$LOG" "$BATS_TEST_TMPDIR/logs/log.json"
    run --separate-stderr crunpp_as "$who" start sf2
    echo "status=$status stderr=$stderr"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"$want"* ]]
    jq -e --arg w "$want" 'select(.level == "error") | .msg | contains($w)' "$(log_of "$who")" >/dev/null
    crunpp_as "$who" delete -f sf2
}

after_start_case() {
    local who="$1"
    bundle_as "$who" /bin/script
    # Only execve finds the interpreter missing.
    printf '#!/no/such/interpreter\n' >"$B/rootfs/bin/script"
    printf '\177ELF garbage\n' >"$B/rootfs/bin/garbage"
    chmod 0755 "$B/rootfs/bin/script" "$B/rootfs/bin/garbage"
    [ "$who" = root ] || chown "$(rootless_uid):$(rootless_gid)" "$B/rootfs/bin/script" "$B/rootfs/bin/garbage"
    start_fails "$who" 'exec /bin/script: no such file or directory'
    set_config "$B" '.process.args = ["/bin/garbage"]'
    start_fails "$who" 'exec /bin/garbage: exec format error'
    # run reports it the same way.
    set_config "$B" '.process.args = ["/bin/script"]'
    run --separate-stderr crunpp_as "$who" run -b "$B" sf3
    [ "$status" -eq 1 ]
    [[ "$stderr" == *'exec /bin/script: no such file or directory'* ]]
    # A successful start still returns once the process runs.
    set_config "$B" '.process.args = ["/bin/true"]'
    crunpp_as "$who" create -b "$B" sf4 </dev/null
    crunpp_as "$who" start sf4
    crunpp_as "$who" delete -f sf4
}

@test "setup failures: what fails after start is start's error (root)" {
    after_start_case root
}

@test "setup failures: what fails after start is start's error (rootless)" {
    after_start_case rootless
}
