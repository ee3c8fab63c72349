#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input to the lifecycle commands: a clear message, exit status 1, and
# nothing left behind (no state dir, no process, no mount).

load helpers
load lifecycle_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    require_root
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

# Runs `crunpp ARGS...` expecting exit status 1 and MESSAGE (exactly, as
# the one line on stderr), with no container left.
expect_error() {
    local message="$1"
    shift
    run --separate-stderr crunpp "$@"
    [ "$status" -eq 1 ] || { echo "status $status, stderr: $stderr"; false; }
    [ "$stderr" = "crunpp: $message" ] || { echo "stderr: $stderr"; echo "expected: crunpp: $message"; false; }
    [ -z "$output" ]
}

@test "missing rootfs" {
    make_bundle "$B" /bin/true
    rm -rf "$B/rootfs"
    expect_error "rootfs \"$B/rootfs\": No such file or directory" create -b "$B" c1
    expect_error "rootfs \"$B/rootfs\": No such file or directory" run -b "$B" c1
    assert_no_containers
}

@test "missing binary: the exact message, from create already" {
    make_bundle "$B" foo
    expect_error 'exec: "foo": executable file not found in $PATH' create -b "$B" c1
    assert_no_containers
    expect_error 'exec: "foo": executable file not found in $PATH' run -b "$B" c1
    expect_error 'exec: "foo": executable file not found in $PATH' run -d -b "$B" c1
    set_config "$B" '.process.args = ["/bin/nonexistent"]'
    expect_error 'exec: "/bin/nonexistent": stat /bin/nonexistent: no such file or directory' run -b "$B" c1
    assert_no_containers
}

@test "bad container ids" {
    make_bundle "$B" /bin/true
    local id
    for id in "a/b" ".hidden" "../escape" "x y" "$(printf 'a%.0s' $(seq 1025))"; do
        run --separate-stderr crunpp run -b "$B" "$id"
        [ "$status" -eq 1 ]
        [[ "$stderr" == "crunpp: invalid container id"* ]] || { echo "$id: $stderr"; false; }
    done
    assert_no_containers
    [ ! -e "$BATS_TEST_TMPDIR/escape" ]
}

@test "duplicate id: the first container is untouched" {
    make_bundle "$B" /bin/sleep 100
    crunpp create -b "$B" c1
    local pid
    pid="$(pid_of c1)"
    record_pid "$pid"
    run --separate-stderr crunpp create -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"already exists"* ]]
    run --separate-stderr crunpp run -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"already exists"* ]]
    [ "$(status_of c1)" = created ]
    [ "$(pid_of c1)" = "$pid" ]
    crunpp delete c1
    assert_no_containers
}

@test "delete of a running container needs --force" {
    make_bundle "$B" /bin/sleep 100
    crunpp run -d -b "$B" c1
    record_pid "$(pid_of c1)"
    expect_error "cannot delete container c1 that is not stopped: it is running (use --force)" delete c1
    [ "$(status_of c1)" = running ]
    crunpp delete -f c1
    assert_no_containers
}

@test "start twice, start of a running or unknown container" {
    make_bundle "$B" /bin/sleep 100
    crunpp create -b "$B" c1
    record_pid "$(pid_of c1)"
    crunpp start c1
    expect_error "cannot start container c1: it is running, not created" start c1
    crunpp kill c1 KILL
    wait_status c1 stopped
    expect_error "cannot start container c1: it is stopped, not created" start c1
    crunpp delete c1
    run --separate-stderr crunpp start nosuch
    [ "$status" -eq 1 ]
    [[ "$stderr" == *nosuch*"does not exist"* ]]
}

@test "kill: unknown container, stopped container, bad signal" {
    make_bundle "$B" /bin/sleep 100
    run --separate-stderr crunpp kill nosuch
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"does not exist"* ]]
    crunpp run -d -b "$B" c1
    record_pid "$(pid_of c1)"
    expect_error 'invalid signal "SIGFOO"' kill c1 SIGFOO
    expect_error 'invalid signal "99"' kill c1 99
    expect_error 'invalid signal "-1"' kill c1 -- -1
    [ "$(status_of c1)" = running ]
    crunpp kill c1 9
    wait_status c1 stopped
    expect_error "kill container c1: container not running" kill c1 KILL
    crunpp delete c1
}

@test "a bad config.json names the JSON path; nothing is created" {
    make_bundle "$B" /bin/true
    set_config "$B" '.process.cwd = "relative"'
    run --separate-stderr crunpp create -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == "crunpp: "*".process.cwd"* ]]
    rm "$B/config.json"
    run --separate-stderr crunpp run -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *config.json*"No such file or directory"* ]]
    run --separate-stderr crunpp run -b "$BATS_TEST_TMPDIR/nosuch" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"bundle \"$BATS_TEST_TMPDIR/nosuch\": No such file or directory"* ]]
    assert_no_containers
}

@test "a config without a mount namespace but with mounts is refused" {
    make_bundle "$B" /bin/true
    set_config "$B" '.linux.namespaces |= map(select(.type != "mount"))'
    expect_error "config.json: .mounts: mounting needs a mount namespace (add {\"type\": \"mount\"} to .linux.namespaces): without one it would change the caller's mounts" run -b "$B" c1
    assert_no_containers
}

@test "linux.intelRdt is refused, never ignored (features: intelRdt enabled false)" {
    make_bundle "$B" /bin/true
    set_config "$B" '.linux.intelRdt = {closID: "g1", l3CacheSchema: "L3:0=ff"}'
    expect_error "config.json: .linux.intelRdt: Intel RDT (resctrl) is not implemented by crunpp" run -b "$B" c1
    expect_error "config.json: .linux.intelRdt: Intel RDT (resctrl) is not implemented by crunpp" create -b "$B" c1
    assert_no_containers
}

@test "a namespace path of the wrong type is refused before anything runs" {
    make_bundle "$B" /bin/true
    set_config "$B" '.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/uts" else . end)'
    run --separate-stderr crunpp run -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *".linux.namespaces["*"].path"* ]]
    assert_no_containers
}

@test "a failure inside the container init leaves no state, process or mount" {
    make_bundle "$B" /bin/sleep 100
    set_config "$B" '.mounts += [{"destination": "/mnt", "type": "bind", "source": "/nonexistent-h7", "options": ["rbind"]}]'
    run --separate-stderr crunpp create -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == "crunpp: "*"/nonexistent-h7"* ]]
    assert_no_containers
    run --separate-stderr crunpp run -b "$B" c1
    [ "$status" -eq 1 ]
    assert_no_containers
    run leftovers_under "$BATS_TEST_TMPDIR"
    [ -z "$output" ]
}

@test "create without /proc in the container fails at create, not at start" {
    make_bundle "$B" /bin/true
    set_config "$B" '.mounts |= map(select(.destination != "/proc")) | .linux.maskedPaths = [] | .linux.readonlyPaths = []'
    expect_error "reach the exec fifo through /proc/self/fd (the container needs /proc mounted): No such file or directory" create -b "$B" c1
    assert_no_containers
    # run needs no fifo.
    run -0 crunpp run -b "$B" c1
}

@test "a --pid-file that cannot be written fails the create and cleans up" {
    make_bundle "$B" /bin/sleep 100
    run --separate-stderr crunpp create -b "$B" --pid-file "$BATS_TEST_TMPDIR/nodir/pid" c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"pid file"*"No such file or directory"* ]]
    assert_no_containers
    run leftovers_under "$BATS_TEST_TMPDIR"
    [ -z "$output" ]
}

@test "lifecycle commands: missing or extra arguments, unknown options" {
    local cmd
    for cmd in create start run delete; do
        run --separate-stderr crunpp "$cmd"
        [ "$status" -eq 1 ]
        [[ "$stderr" == "crunpp: $cmd: "* ]] || { echo "$cmd: $stderr"; false; }
        run --separate-stderr crunpp "$cmd" a b
        [ "$status" -eq 1 ]
    done
    run --separate-stderr crunpp kill
    [ "$status" -eq 1 ]
    run --separate-stderr crunpp kill a 9 extra
    [ "$status" -eq 1 ]
    run --separate-stderr crunpp run --bogus c1
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"unknown option --bogus"* ]]
    run -0 "$CRUNPP" run --help
    local opt
    for opt in --bundle --config --pid-file --no-pivot --detach --keep; do
        [[ "$output" == *"$opt"* ]] || { echo "missing $opt"; false; }
    done
    run -0 "$CRUNPP" kill --help
    [[ "$output" == *--all* ]]
    run -0 "$CRUNPP" delete --help
    [[ "$output" == *--force* ]]
}

@test "the host is left clean after the error cases" {
    run leftovers_under "$BATS_RUN_TMPDIR"
    [ -z "$output" ] || { echo "$output"; false; }
}
