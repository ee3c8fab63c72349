#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/helpers/leak-guard, which contrib/test.sh runs every suite under to
# find the processes a suite leaves behind.

load helpers
bats_require_minimum_version 1.5.0

LEAK_GUARD="$REPO_ROOT/build/tests/helpers/leak-guard"

@test "leak-guard passes the command's status through" {
    run -0 "$LEAK_GUARD" true
    run -7 "$LEAK_GUARD" sh -c 'exit 7'
    run -137 "$LEAK_GUARD" sh -c 'kill -KILL $$'
    run -127 "$LEAK_GUARD" /nonexistent/command
    [[ "$output" == *"exec /nonexistent/command: No such file or directory"* ]]
}

@test "leak-guard reports, kills and reaps an orphan left behind" {
    # The orphan writes its pid, then would sleep far beyond the test.
    local pidfile="$BATS_TEST_TMPDIR/orphan.pid"
    run -1 "$LEAK_GUARD" sh -c "sh -c 'echo \$\$ > $pidfile; exec sleep 300' >/dev/null 2>&1 3>&- &
        for i in \$(seq 100); do [ -s $pidfile ] && break; sleep 0.05; done"
    local pid
    pid="$(cat "$pidfile")"
    record_pid "$pid"
    [[ "$output" == *"leak-guard: leaked process $pid: sleep 300"* ]]
    ! kill -0 "$pid" 2>/dev/null
}

@test "leak-guard does not count an orphan that exits in its grace period" {
    run -0 "$LEAK_GUARD" sh -c '(sleep 0.3 >/dev/null 2>&1 3>&- &); exit 0'
    [[ "$output" != *"leaked"* ]]
}
