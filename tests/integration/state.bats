#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# crunpp state and crunpp list, on state directories written by the tests
# themselves (the lifecycle has its own tests): output fields and format,
# schema validity, dead and recycled pids, errors.

load helpers

load schema

validate_state() {
    validate_schema state-schema.json "$1"
}

# The start time (field 22 of /proc/PID/stat) of PID; the fields are
# counted after the last ')', as comm may hold spaces.
start_time() {
    sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20
}

# A process of our own to stand for a container's init.
# Started from a subshell, so it is not a job of the test's shell (whose
# reports on killed jobs would clutter the output); init reaps it.
spawn_init() {
    INIT_PID="$(sleep 600 </dev/null >/dev/null 2>&1 & echo $!)"
    record_pid "$INIT_PID"
    INIT_START="$(start_time "$INIT_PID")"
}

# Kills the init and waits (bounded) until it is gone from /proc or a
# zombie (crunpp counts a zombie init as stopped, too).
kill_init() {
    kill -KILL "$INIT_PID"
    local i
    for i in $(seq 100); do
        [ -e "/proc/$INIT_PID" ] || return 0
        [ "$(sed 's/.*) //' "/proc/$INIT_PID/stat" 2>/dev/null | cut -d' ' -f1)" = Z ] && return 0
        sleep 0.05
    done
    return 1
}

# fake_container ID STATUS PID START [JQ-FILTER]: a state directory as
# crunpp writes it (0711 dir, lock file, state.json), in $STATE_ROOT.
fake_container() {
    local id="$1" status="$2" pid="$3" start="$4" filter="${5:-.}"
    mkdir -m 0711 "$STATE_ROOT/$id"
    : >"$STATE_ROOT/$id/lock"
    jq -n --arg id "$id" --arg status "$status" --argjson pid "$pid" --argjson start "$start" \
        '{ociVersion: "1.3.0", id: $id, status: $status, pid: $pid, pidStartTime: $start,
          bundle: ("/bundles/" + $id), rootfs: ("/bundles/" + $id + "/rootfs"),
          created: "2026-11-29T06:50:00.123456789Z", owner: 0, rootless: false,
          systemdCgroup: false, cgroupManager: "cgroupfs", cgroupsPath: "", cgroupPaths: {},
          annotations: {}, extra: {}}' | jq "$filter" >"$STATE_ROOT/$id/state.json"
    chmod 0600 "$STATE_ROOT/$id/state.json"
}

@test "state prints the OCI state of a running container" {
    spawn_init
    fake_container web running "$INIT_PID" "$INIT_START" '.annotations = {"org.example.k": "v"}'
    run crunpp state web
    [ "$status" -eq 0 ]
    echo "$output" >"$BATS_TEST_TMPDIR/state.json"
    # Every field runc prints, in runc's order, plus the annotations.
    [ "$(jq -c 'keys_unsorted' "$BATS_TEST_TMPDIR/state.json")" = \
        '["ociVersion","id","pid","status","bundle","rootfs","created","owner","annotations"]' ]
    [ "$(jq -r .ociVersion "$BATS_TEST_TMPDIR/state.json")" = 1.3.0 ]
    [ "$(jq -r .id "$BATS_TEST_TMPDIR/state.json")" = web ]
    [ "$(jq -r .pid "$BATS_TEST_TMPDIR/state.json")" = "$INIT_PID" ]
    [ "$(jq -r .status "$BATS_TEST_TMPDIR/state.json")" = running ]
    [ "$(jq -r .bundle "$BATS_TEST_TMPDIR/state.json")" = /bundles/web ]
    [ "$(jq -r .rootfs "$BATS_TEST_TMPDIR/state.json")" = /bundles/web/rootfs ]
    [ "$(jq -r .created "$BATS_TEST_TMPDIR/state.json")" = 2026-11-29T06:50:00.123456789Z ]
    [ "$(jq -r .owner "$BATS_TEST_TMPDIR/state.json")" = root ]
    [ "$(jq -r '.annotations["org.example.k"]' "$BATS_TEST_TMPDIR/state.json")" = v ]
    # Pretty-printed on several lines, as runc does.
    [ "${#lines[@]}" -gt 5 ]
    validate_state "$BATS_TEST_TMPDIR/state.json"
}

@test "state of a created container is valid and has its pid" {
    spawn_init
    fake_container c1 created "$INIT_PID" "$INIT_START"
    run crunpp state c1
    [ "$status" -eq 0 ]
    echo "$output" >"$BATS_TEST_TMPDIR/state.json"
    [ "$(jq -r .status "$BATS_TEST_TMPDIR/state.json")" = created ]
    [ "$(jq -r .pid "$BATS_TEST_TMPDIR/state.json")" = "$INIT_PID" ]
    # No annotations recorded: none printed (the field is optional).
    [ "$(jq 'has("annotations")' "$BATS_TEST_TMPDIR/state.json")" = false ]
    validate_state "$BATS_TEST_TMPDIR/state.json"
}

@test "a container whose init died shows stopped, with pid 0 (as runc and crun)" {
    spawn_init
    kill_init
    fake_container gone running "$INIT_PID" "$INIT_START"
    run crunpp state gone
    [ "$status" -eq 0 ]
    echo "$output" >"$BATS_TEST_TMPDIR/state.json"
    [ "$(jq -r .status "$BATS_TEST_TMPDIR/state.json")" = stopped ]
    # Not the dead init's pid, which another process may have now.
    [ "$(jq .pid "$BATS_TEST_TMPDIR/state.json")" = 0 ]
    validate_state "$BATS_TEST_TMPDIR/state.json"
}

@test "a recycled pid (same pid, other start time) shows stopped" {
    spawn_init
    fake_container reused running "$INIT_PID" "$((INIT_START + 1))"
    run crunpp state reused
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .status)" = stopped ]
    [ "$(echo "$output" | jq .pid)" = 0 ]
    # And with the right start time the same pid is running.
    fake_container same running "$INIT_PID" "$INIT_START"
    run crunpp state same
    [ "$(echo "$output" | jq -r .status)" = running ]
}

@test "state of a container that does not exist" {
    run crunpp state nope
    [ "$status" -eq 1 ]
    [ "$output" = 'crunpp: container "nope" does not exist' ]
    # Also when the state root itself does not exist yet.
    run "$CRUNPP" --root "$BATS_TEST_TMPDIR/no/such/root" state nope
    [ "$status" -eq 1 ]
    [ "$output" = 'crunpp: container "nope" does not exist' ]
}

@test "state rejects invalid ids before touching the filesystem" {
    for id in .. ../x a/b /etc .hidden -x _x 'a b'; do
        run crunpp state -- "$id"
        [ "$status" -eq 1 ]
        [ "$output" = "crunpp: invalid container id \"$id\": must match [A-Za-z0-9][A-Za-z0-9_.-]*" ]
    done
    run crunpp state "$(printf 'x%.0s' $(seq 1025))"
    [ "$status" -eq 1 ]
    [[ "$output" == *"longer than 1024 bytes"* ]]
    run crunpp state ""
    [ "$status" -eq 1 ]
    [[ "$output" == 'crunpp: invalid container id ""'* ]]
}

@test "state needs exactly one id" {
    run crunpp state
    [ "$status" -eq 1 ]
    [ "$output" = "crunpp: state: missing container ID" ]
    run crunpp state a b
    [ "$status" -eq 1 ]
    [ "$output" = "crunpp: state: too many arguments; expected container ID" ]
}

@test "state refuses symlinks planted in the state root" {
    spawn_init
    fake_container real running "$INIT_PID" "$INIT_START"
    ln -s "$STATE_ROOT/real" "$STATE_ROOT/alias"
    run crunpp state alias
    [ "$status" -eq 1 ]
    [ "$output" = "crunpp: container \"alias\": $STATE_ROOT/alias is not a directory" ]
    mkdir -m 0711 "$STATE_ROOT/fake"
    ln -s "$STATE_ROOT/real/state.json" "$STATE_ROOT/fake/state.json"
    run crunpp state fake
    [ "$status" -eq 1 ]
    [[ "$output" == "crunpp: open $STATE_ROOT/fake/state.json: "* ]]
}

@test "state reports a damaged state.json with its path" {
    fake_container bad running 1 1
    echo '{"id": "bad", "status": "running", "pid": "12"}' >"$STATE_ROOT/bad/state.json"
    run crunpp state bad
    [ "$status" -eq 1 ]
    [ "$output" = "crunpp: $STATE_ROOT/bad/state.json: .pid: expected number, got string" ]
    printf '{"id": "bad", "sta' >"$STATE_ROOT/bad/state.json"
    run crunpp state bad
    [ "$status" -eq 1 ]
    [[ "$output" == "crunpp: $STATE_ROOT/bad/state.json: invalid JSON at byte"* ]]
}

@test "owner names: passwd name, else #UID" {
    spawn_init
    fake_container mine running "$INIT_PID" "$INIT_START" '.owner = 65534'
    fake_container theirs running "$INIT_PID" "$INIT_START" '.owner = 3999999999'
    [ "$(crunpp state mine | jq -r .owner)" = "$(getent passwd 65534 | cut -d: -f1)" ]
    [ "$(crunpp state theirs | jq -r .owner)" = "#3999999999" ]
}

@test "list prints runc's table" {
    spawn_init
    fake_container alpha running "$INIT_PID" "$INIT_START"
    fake_container a-much-longer-id created "$INIT_PID" "$((INIT_START + 1))"
    run crunpp list
    [ "$status" -eq 0 ]
    # Columns padded to the widest cell + 3 and at least 12; sorted by id;
    # the recycled pid of the second one makes it stopped, with pid 0.
    local fmt='%-19s%-12s%-12s%-28s%-33s%s\n' expected
    expected="$(printf "$fmt" ID PID STATUS BUNDLE CREATED OWNER \
        a-much-longer-id 0 stopped /bundles/a-much-longer-id 2026-11-29T06:50:00.123456789Z root \
        alpha "$INIT_PID" running /bundles/alpha 2026-11-29T06:50:00.123456789Z root)"
    [ "$output" = "$expected" ]
}

@test "list --format json prints an array of OCI states" {
    spawn_init
    fake_container one running "$INIT_PID" "$INIT_START" '.annotations = {"a": "b"}'
    fake_container two created 0 0
    run crunpp list --format json
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    echo "$output" >"$BATS_TEST_TMPDIR/list.json"
    [ "$(jq length "$BATS_TEST_TMPDIR/list.json")" -eq 2 ]
    [ "$(jq -r '.[0].id + " " + .[0].status + " " + (.[0].pid | tostring)' "$BATS_TEST_TMPDIR/list.json")" = "one running $INIT_PID" ]
    [ "$(jq -r '.[0].annotations.a' "$BATS_TEST_TMPDIR/list.json")" = b ]
    [ "$(jq -r '.[1].id + " " + .[1].status' "$BATS_TEST_TMPDIR/list.json")" = "two stopped" ]
    [ "$(jq '.[1].pid' "$BATS_TEST_TMPDIR/list.json")" = 0 ]
    # -f is the short form.
    run crunpp list -f json
    [ "$(echo "$output" | jq length)" -eq 2 ]
    for i in 0 1; do
        jq ".[$i]" "$BATS_TEST_TMPDIR/list.json" >"$BATS_TEST_TMPDIR/item.json"
        validate_state "$BATS_TEST_TMPDIR/item.json"
    done
}

@test "list -q prints the ids only" {
    fake_container zed stopped 0 0
    fake_container abc stopped 0 0
    run crunpp list -q
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'abc\nzed')" ]
    run crunpp list --quiet
    [ "$output" = "$(printf 'abc\nzed')" ]
}

@test "list of an empty or missing root" {
    run crunpp list
    [ "$status" -eq 0 ]
    [ "$output" = "ID          PID         STATUS      BUNDLE      CREATED     OWNER" ]
    run crunpp list --format json
    [ "$output" = "[]" ]
    run crunpp list -q
    [ "$output" = "" ]
    run "$CRUNPP" --root "$BATS_TEST_TMPDIR/missing" list -q
    [ "$status" -eq 0 ]
    [ "$output" = "" ]
    # Listing does not create the root.
    [ ! -e "$BATS_TEST_TMPDIR/missing" ]
}

@test "list skips what is not a container and survives a damaged one" {
    fake_container good stopped 0 0
    fake_container broken stopped 0 0
    echo '{' >"$STATE_ROOT/broken/state.json"
    mkdir "$STATE_ROOT/.new-123-0-0"  # a create in progress
    : >"$STATE_ROOT/stray-file"
    ln -s "$STATE_ROOT/good" "$STATE_ROOT/link"
    run crunpp list -q
    [ "$status" -eq 0 ]
    [[ "$output" == *"skipping container \"broken\": $STATE_ROOT/broken/state.json: invalid JSON"* ]]
    # The warning goes to stderr; stdout has the good one only.
    [ "$(crunpp list -q 2>/dev/null)" = good ]
}

@test "a container directory without state.json is listed as creating" {
    mkdir -m 0711 "$STATE_ROOT/half"
    : >"$STATE_ROOT/half/lock"
    run crunpp list --format json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r '.[0].id + " " + .[0].status')" = "half creating" ]
    run crunpp state half
    [ "$status" -eq 0 ]
    echo "$output" >"$BATS_TEST_TMPDIR/state.json"
    [ "$(jq -r .status "$BATS_TEST_TMPDIR/state.json")" = creating ]
    [ "$(jq .pid "$BATS_TEST_TMPDIR/state.json")" = 0 ]
    validate_state "$BATS_TEST_TMPDIR/state.json"
}

@test "list rejects an unknown format and arguments" {
    run crunpp list --format yaml
    [ "$status" -eq 1 ]
    [ "$output" = 'crunpp: list: invalid --format "yaml": expected table or json' ]
    run crunpp list extra
    [ "$status" -eq 1 ]
    [[ "$output" == "crunpp: list: too many arguments"* ]]
    run crunpp list --format
    [ "$status" -eq 1 ]
    [ "$output" = "crunpp: list: flag needs an argument: --format" ]
}

@test "a relative --root is relative to the working directory" {
    STATE_ROOT="$BATS_TEST_TMPDIR/rel"
    mkdir -m 0700 "$STATE_ROOT"
    fake_container r1 stopped 0 0
    cd "$BATS_TEST_TMPDIR"
    run "$CRUNPP" --root rel list -q
    [ "$status" -eq 0 ]
    [ "$output" = r1 ]
}

# As an unprivileged user: the crunpp test user when it exists, else nobody.
run_unprivileged() {
    if id "$ROOTLESS_USER" >/dev/null 2>&1; then
        as_rootless "$@"
    else
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    fi
}

@test "rootless without XDG_RUNTIME_DIR or --root is a clear error" {
    require_root
    local uid=65534
    id "$ROOTLESS_USER" >/dev/null 2>&1 && uid="$(rootless_uid)"
    for cmd in "list" "state x"; do
        run run_unprivileged env -u XDG_RUNTIME_DIR "$CRUNPP" $cmd
        [ "$status" -eq 1 ]
        [ "$output" = "crunpp: XDG_RUNTIME_DIR is not set: set it (usually to /run/user/$uid) or pass --root DIR" ]
    done
    # An explicit --root needs no XDG_RUNTIME_DIR.
    run run_unprivileged env -u XDG_RUNTIME_DIR "$CRUNPP" --root "/tmp/crunpp-none-$$" list -q
    [ "$status" -eq 0 ]
    [ "$output" = "" ]
}

@test "rootless default root is \$XDG_RUNTIME_DIR/crunpp" {
    require_root
    local xdg="$BATS_TEST_TMPDIR/xdg"
    mkdir -p "$xdg/crunpp/mine"
    : >"$xdg/crunpp/mine/lock"
    # The user must reach it: o+x on the directories above that we own.
    local d="$xdg"
    while [ "$d" != / ]; do
        [ -O "$d" ] && chmod o+x "$d"
        d="$(dirname "$d")"
    done
    local uid=65534
    id "$ROOTLESS_USER" >/dev/null 2>&1 && uid="$(rootless_uid)"
    chown -R "$uid" "$xdg"
    run run_unprivileged env XDG_RUNTIME_DIR="$xdg" "$CRUNPP" list -q
    [ "$status" -eq 0 ]
    [ "$output" = mine ]
}
