#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Many commands at once: 100 containers through their whole life 12 at a
# time, 300 brief runs 2 at a time while their shared cgroup parent comes
# and goes, 20 different commands on one container at once, and two
# creates of one id. Each command succeeds or fails with one `crunpp: ...`
# line, none waits forever (every command has a timeout), state.json is
# always whole, and nothing is left afterwards. About 1 minute on 2 cores.

load helpers

# Ids of this file: its own prefix, as the default cgroupsPath /<id> is
# shared by every --root of the host.
PREFIX="cc-$$"

# The container's process: a sleep whose argument marks this test's
# processes, so that a leak of one is found by its command line.
MARK=9$$

# No process of this test's containers is left.
no_process_left() {
    local left
    left="$(pgrep -f "^/bin/sleep $MARK\$" || true)"
    [ -z "$left" ] || {
        echo "left processes: $left"
        return 1
    }
}

# No cgroup named after this test's ids is left in any hierarchy.
no_cgroup_left() {
    local left
    left="$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$PREFIX-*" 2>/dev/null || true)"
    [ -z "$left" ] || {
        echo "left cgroups: $left"
        return 1
    }
}

no_state_left() {
    local left
    left="$(find "$STATE_ROOT" -mindepth 1 -maxdepth 1 ! -name .seccomp-cache 2>/dev/null || true)"
    [ -z "$left" ] || {
        echo "left in the state root: $left"
        return 1
    }
}

# An error is one line that names crunpp; a success says nothing special.
check_outcome() {
    local rc="$1" err="$2" what="$3"
    [ "$rc" -ne 124 ] || {
        echo "$what: timed out"
        return 1
    }
    [ "$rc" -eq 0 ] && return 0
    # An exec whose process the concurrent delete --force killed reports
    # its status, 128+SIGKILL, as runc does: no error of crunpp's.
    [[ "$what" == "exec "* ]] && [ "$rc" -eq 137 ] && [ ! -s "$err" ] && return 0
    if [ "$(grep -c . "$err")" -ne 1 ] || ! grep -q '^crunpp: ' "$err"; then
        echo "$what: status $rc without one 'crunpp: ...' line:"
        cat "$err"
        return 1
    fi
}

# One container's whole life: create, start, exec, delete --force. Prints
# "ok ID" or what failed.
life() {
    local id="$1" out="$BATS_TEST_TMPDIR/life-$1"
    timeout 60 "$CRUNPP" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$id" >"$out" 2>&1 </dev/null ||
        { echo "$id: create failed: $(cat "$out")"; return 0; }
    timeout 60 "$CRUNPP" --root "$STATE_ROOT" start "$id" >>"$out" 2>&1 ||
        { echo "$id: start failed: $(cat "$out")"; return 0; }
    local got
    got="$(timeout 60 "$CRUNPP" --root "$STATE_ROOT" exec "$id" cat /proc/self/cgroup 2>&1)" ||
        { echo "$id: exec failed: $got"; return 0; }
    timeout 60 "$CRUNPP" --root "$STATE_ROOT" delete --force "$id" >>"$out" 2>&1 ||
        { echo "$id: delete failed: $(cat "$out")"; return 0; }
    echo "ok $id"
}

setup() {
    crunpp_setup
    BUNDLE="$BATS_TEST_TMPDIR/bundle"
    make_bundle "$BUNDLE" /bin/sleep "$MARK"
    export BUNDLE STATE_ROOT CRUNPP BATS_TEST_TMPDIR
}

teardown() {
    crunpp_teardown
}

@test "100 containers created, started, exec'd into and deleted 12 at a time" {
    require_root
    export -f life
    local start=$SECONDS
    run bash -c "seq -f '$PREFIX-%g' 1 100 | timeout 240 xargs -P 12 -I{} bash -c 'life {}'"
    [ "$status" -eq 0 ]
    local ok
    ok="$(grep -c '^ok ' <<<"$output")"
    [ "$ok" -eq 100 ] || {
        grep -v '^ok ' <<<"$output" | head -20
        false
    }
    echo "100 lives in $((SECONDS - start))s"
    no_state_left
    no_cgroup_left
    no_process_left
}

# A `run` of /bin/true in the cgroup PARENT/ID. Its cgroup lives a few
# milliseconds, so that PARENT is often empty, and removed (by a failed
# create that made it, an admin, here the test's remover) while other
# creates make it or copy its cpuset (make_dirs then starts again from the
# top).
brief() {
    local b="$BATS_TEST_TMPDIR/brief-$1"
    mkdir "$b"
    ln -s "$BRIEF/rootfs" "$b/rootfs"
    sed "s|@ID@|$1|" "$BRIEF/config.json" >"$b/config.json"
    timeout 60 "$CRUNPP" --root "$STATE_ROOT" run --bundle "$b" "$1" >"$b/out" 2>&1 </dev/null &&
        echo "ok $1" || echo "$1: run failed: $(cat "$b/out")"
}

@test "300 runs of /bin/true 2 at a time in one parent cgroup, removed whenever empty" {
    require_root
    BRIEF="$BATS_TEST_TMPDIR/brief"
    local parent="/$PREFIX-parent"
    make_bundle "$BRIEF" /bin/true
    set_config "$BRIEF" ".linux.cgroupsPath = \"$parent/@ID@\""
    export BRIEF
    export -f brief
    # An rmdir that succeeds only while no container is in the parent, as
    # often as a fork allows. Before make_dirs restarted, about 1 run in 100
    # failed with ENOENT writing the parent's cpuset.
    (
        end=$((SECONDS + 120))
        while [ "$SECONDS" -lt "$end" ]; do rmdir /sys/fs/cgroup/*"$parent" 2>/dev/null || true; done
    ) &
    local remover=$!
    run bash -c "seq -f '$PREFIX-b%g' 1 300 | timeout 110 xargs -P 2 -I{} bash -c 'brief {}'"
    kill "$remover"
    wait "$remover" || true
    rmdir /sys/fs/cgroup/*"$parent" 2>/dev/null || true
    [ "$status" -eq 0 ]
    [ "$(grep -c '^ok ' <<<"$output")" -eq 300 ] || {
        grep -v '^ok ' <<<"$output" | head -20
        false
    }
    no_state_left
    no_cgroup_left
}

@test "20 different commands at once on one container: clear outcomes, whole state.json, nothing left" {
    require_root
    local id="$PREFIX-one"
    crunpp run -d --bundle "$BUNDLE" "$id" >"$BATS_TEST_TMPDIR/run.out" 2>&1
    local cmds=(
        "state $id" "state $id" "state $id" "kill $id USR1" "kill $id USR1"
        "exec $id true" "exec $id true" "exec $id true" "pause $id" "pause $id"
        "resume $id" "resume $id" "update --pids-limit 100 $id" "update --pids-limit 200 $id"
        "ps $id" "ps $id" "events --stats $id" "events --stats $id" "list" "delete --force $id"
    )
    # A reader of state.json while they run: every version it sees is whole JSON.
    local state="$STATE_ROOT/$id/state.json" stop="$BATS_TEST_TMPDIR/stop"
    (
        bad=0
        for _ in $(seq 2000); do
            [ -e "$stop" ] && break
            if s="$(cat "$state" 2>/dev/null)" && [ -n "$s" ] && ! jq -e .status >/dev/null 2>&1 <<<"$s"; then
                echo "invalid state.json: $s"
                bad=1
            fi
        done
        exit "$bad"
    ) >"$BATS_TEST_TMPDIR/reader.out" 2>&1 &
    local reader=$!
    local i pids=()
    for i in "${!cmds[@]}"; do
        # shellcheck disable=SC2086 # the command's words
        timeout 60 "$CRUNPP" --root "$STATE_ROOT" ${cmds[$i]} >"$BATS_TEST_TMPDIR/c$i.out" 2>"$BATS_TEST_TMPDIR/c$i.err" </dev/null &
        pids+=($!)
    done
    local rc failed=0
    for i in "${!cmds[@]}"; do
        rc=0
        wait "${pids[$i]}" || rc=$?
        echo "${cmds[$i]}: $rc"
        check_outcome "$rc" "$BATS_TEST_TMPDIR/c$i.err" "${cmds[$i]}" || failed=1
    done
    touch "$stop"
    wait "$reader" || {
        cat "$BATS_TEST_TMPDIR/reader.out"
        failed=1
    }
    [ "$failed" -eq 0 ]
    # Whatever the order, delete --force ran: the container is gone.
    run crunpp state "$id"
    [ "$status" -eq 1 ]
    [[ "$output" == *"does not exist"* ]]
    no_state_left
    no_cgroup_left
    no_process_left
}

@test "two creates of one id at once: one wins, the other says it exists, the winner works" {
    require_root
    local id="$PREFIX-twin" round
    for round in 1 2 3 4 5; do
        timeout 60 "$CRUNPP" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$id" >"$BATS_TEST_TMPDIR/a.out" 2>&1 </dev/null &
        local a=$!
        timeout 60 "$CRUNPP" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$id" >"$BATS_TEST_TMPDIR/b.out" 2>&1 </dev/null &
        local b=$!
        local ra=0 rb=0
        wait "$a" || ra=$?
        wait "$b" || rb=$?
        echo "round $round: $ra $rb: $(cat "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out")"
        [ $((ra + rb)) -eq 1 ]
        [ "$ra" -eq 0 ] || [ "$rb" -eq 0 ]
        local loser="$BATS_TEST_TMPDIR/a.out"
        [ "$ra" -eq 0 ] && loser="$BATS_TEST_TMPDIR/b.out"
        grep -qx "crunpp: container \"$id\" already exists" "$loser"
        run crunpp state "$id"
        [ "$status" -eq 0 ]
        [ "$(jq -r .status <<<"$output")" = created ]
        local pid
        pid="$(jq -r .pid <<<"$output")"
        [ -d "/proc/$pid" ]
        crunpp start "$id"
        [ "$(crunpp exec "$id" cat /proc/1/cmdline | tr '\0' ' ')" = "/bin/sleep $MARK " ]
        crunpp delete --force "$id"
    done
    no_state_left
    no_cgroup_left
    no_process_left
}
