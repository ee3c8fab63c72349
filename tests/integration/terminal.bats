#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Terminals (--console-socket, the foreground proxy of `run`), fd passing
# (--preserve-fds, LISTEN_FDS, --pidfd-socket), NOTIFY_SOCKET and the
# session keyring, as root and as an unprivileged user.

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

# Starts `fd-receiver MODE SOCKET` in the background (as the test user
# with "rootless"), stdin from INPUT, output in $OUT and $OUT.err.
start_receiver() {
    local mode="$1" sock="$2" input="$3" who="${4:-}"
    local prog
    prog="$(helper_bin fd-receiver)"
    if [ "$who" = rootless ]; then
        printf '%s' "$input" | as_rootless timeout 30 "$prog" "$mode" "$sock" >"$OUT" 2>"$OUT.err" &
    else
        printf '%s' "$input" | timeout 30 "$prog" "$mode" "$sock" >"$OUT" 2>"$OUT.err" &
    fi
    RECEIVER=$!
    record_pid "$RECEIVER"
    wait_socket "$sock"
}

console_socket_case() {
    local who="$1" sock
    sock="$(shared_dir)/console.sock"
    start_receiver pty "$sock" 'stty size; echo hel""lo; tty; exit 5
' "$who"
    if [ "$who" = rootless ]; then
        run crunpp_rootless run --console-socket "$sock" -b "$B" c1
    else
        run crunpp run --console-socket "$sock" -b "$B" c1
    fi
    [ "$status" -eq 5 ]
    wait "$RECEIVER"
    cat "$OUT"
    grep -q '^33 77' "$OUT"
    grep -q '^hello' "$OUT"
    grep -q '^/dev/pts/0' "$OUT"
    grep -qx 'payload /dev/ptmx' "$OUT.err"
}

@test "console socket: the pty master reaches the receiver (size, echo, exit status)" {
    make_bundle "$B" /bin/sh
    set_config "$B" '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 77}'
    console_socket_case root
}

@test "console socket: rootless" {
    make_rootless_bundle "$B" /bin/sh
    set_config "$B" '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 77}'
    console_socket_case rootless
}

@test "console socket with create/start: the console is /dev/console, the process has it as ctty" {
    make_bundle "$B" /bin/sh
    set_config "$B" '.process.terminal = true'
    local sock
    sock="$(shared_dir)/console.sock"
    start_receiver pty "$sock" 'ls -l /dev/console; cat /proc/self/stat | cut -d" " -f7; exit 0
'
    crunpp create --console-socket "$sock" -b "$B" c1 >/dev/null
    record_pid "$(pid_of c1)"
    crunpp start c1
    wait "$RECEIVER"
    cat "$OUT"
    # char device 136:N (a pty), and a controlling tty (tty_nr != 0).
    grep -q '^crw.* 136, *0 .*/dev/console' "$OUT"
    grep -qx '34816' <(tr -d '\r' <"$OUT")
}

@test "terminal without a console socket: create refuses, run -d refuses" {
    make_bundle "$B" /bin/true
    set_config "$B" '.process.terminal = true'
    run crunpp create -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot allocate tty if crunpp will detach without setting console socket"* ]]
    run crunpp run -d -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot allocate tty"* ]]
    set_config "$B" '.process.terminal = false'
    run crunpp run --console-socket /nonexistent -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *"cannot use console socket if crunpp will not allocate tty"* ]]
    assert_no_containers
}

@test "console socket nobody listens on: clear error, nothing left" {
    make_bundle "$B" /bin/true
    set_config "$B" '.process.terminal = true'
    run crunpp run --console-socket "$BATS_TEST_TMPDIR/none.sock" -b "$B" c1
    [ "$status" -eq 1 ]
    [[ "$output" == *"console socket \"$BATS_TEST_TMPDIR/none.sock\": connect: No such file or directory"* ]]
    assert_no_containers
}

# `run` in the foreground relays the terminal itself, under script(1).
foreground_case() {
    local cmd="$1"
    run script -qec "$cmd" /dev/null < <(sleep 2)
    [ "$status" -eq 7 ]
    [[ "$output" == *"33 77"* ]]
    [[ "$output" == *"/dev/pts/0"* ]]
}

@test "run with a terminal in the foreground proxies it (size, output, exit status)" {
    command -v script >/dev/null || skip "script is not installed"
    make_bundle "$B" /bin/sh -c 'stty size; tty; exit 7'
    set_config "$B" '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 77}'
    foreground_case "$CRUNPP --root $STATE_ROOT run -b $B c1"
    assert_no_containers
}

@test "run with a terminal in the foreground: rootless, and input reaches the process" {
    command -v script >/dev/null || skip "script is not installed"
    make_rootless_bundle "$B" /bin/sh -c 'stty size; tty; exit 7'
    set_config "$B" '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 77}'
    _ensure_rootless_state_root
    _rootless_prefix
    foreground_case "${ROOTLESS_PREFIX[*]} $CRUNPP --root $ROOTLESS_STATE_ROOT run -b $B c1"
    # Input: a line typed on crunpp's terminal is read by the process.
    set_config "$B" '.process.args = ["/bin/sh", "-c", "read x; echo got-$x"]'
    run script -qec "${ROOTLESS_PREFIX[*]} $CRUNPP --root $ROOTLESS_STATE_ROOT run -b $B c2" /dev/null < <(sleep 1; printf 'abc\r'; sleep 1)
    [ "$status" -eq 0 ]
    [[ "$output" == *"got-abc"* ]]
}

preserve_fds_case() {
    local who="$1"
    local f="$BATS_TEST_TMPDIR/f"
    echo data >"$f"
    chmod 0644 "$f"
    if [ "$who" = rootless ]; then
        crunpp_rootless run -d --preserve-fds 2 -b "$B" c1 3<"$f" 4<"$f" >"$OUT.log" 2>&1
        pid="$(crunpp_rootless state c1 | jq -r .pid)"
    else
        crunpp run -d --preserve-fds 2 -b "$B" c1 3<"$f" 4<"$f" 5<"$f" >"$OUT.log" 2>&1
        pid="$(pid_of c1)"
    fi
    record_pid "$pid"
    [ "$(fds_of "$pid")" = "0 1 2 3 4" ]
    [ "$(readlink /proc/"$pid"/fd/3)" = "$f" ]
}

@test "--preserve-fds 2: fds 3 and 4 reach the process, nothing else" {
    make_bundle "$B" /bin/sleep 100
    preserve_fds_case root
    # A closed fd in the range is refused (it would be one of crunpp's).
    run crunpp run --preserve-fds 3 -b "$B" c2 3</dev/null 4</dev/null 5<&-
    [ "$status" -eq 1 ]
    [[ "$output" == *"preserve-fds: fd 5 is not open"* ]]
    run crunpp run --preserve-fds x -b "$B" c2
    [ "$status" -eq 1 ]
    [[ "$output" == *"preserve-fds: \"x\" is not a number of fds"* ]]
}

@test "--preserve-fds 2: rootless" {
    make_rootless_bundle "$B" /bin/sleep 100
    preserve_fds_case rootless
}

@test "LISTEN_FDS/LISTEN_PID: socket-activation fds pass, the process sees LISTEN_PID=1" {
    make_bundle "$B" /bin/sh -c 'echo "$LISTEN_FDS $LISTEN_PID"; ls /proc/self/fd | xargs'
    # LISTEN_PID names crunpp itself: sh execs it with its own pid.
    run -0 sh -c 'LISTEN_FDS=2 LISTEN_PID=$$ exec "$@" 3</dev/null 4</dev/null' sh \
        "$CRUNPP" --root "$STATE_ROOT" run --preserve-fds 1 -b "$B" c1 5</dev/null
    [ "${lines[0]}" = "2 1" ]
    [ "${lines[1]}" = "0 1 2 3 4 5 6" ] # 6: ls's own
    # Meant for another process: ignored, not passed.
    run -0 sh -c 'LISTEN_FDS=2 LISTEN_PID=1 exec "$@" 3</dev/null 4</dev/null' sh \
        "$CRUNPP" --root "$STATE_ROOT" run -b "$B" c1
    [ "${lines[0]}" = " " ]
    [ "${lines[1]}" = "0 1 2 3" ]
}

pidfd_case() {
    local who="$1" sock
    sock="$(shared_dir)/pidfd.sock"
    start_receiver pidfd "$sock" '' "$who"
    if [ "$who" = rootless ]; then
        crunpp_rootless run -d --pidfd-socket "$sock" -b "$B" c1 >/dev/null 2>&1
        pid="$(crunpp_rootless state c1 | jq -r .pid)"
        record_pid "$pid"
        crunpp_rootless kill c1 KILL
    else
        crunpp run -d --pidfd-socket "$sock" -b "$B" c1 >/dev/null 2>&1
        pid="$(pid_of c1)"
        record_pid "$pid"
        crunpp kill c1 KILL
    fi
    wait "$RECEIVER"
    [ "$(head -1 "$OUT")" = "pid $pid" ]
    [ "$(tail -1 "$OUT")" = exited ]
    grep -qx 'payload pidfd' "$OUT.err"
}

@test "--pidfd-socket: the receiver gets a pidfd of the init" {
    make_bundle "$B" /bin/sleep 100
    pidfd_case root
}

@test "--pidfd-socket: rootless" {
    make_rootless_bundle "$B" /bin/sleep 100
    pidfd_case rootless
}

notify_case() {
    local who="$1" sock prog
    sock="$(shared_dir)/notify.sock"
    [ -x "$REPO_ROOT/build/tests/helpers/sd-notify" ] || skip "no sd-notify helper (not built in sanitized trees)"
    prog="$(helper_bin sd-notify)"
    cp "$prog" "$B/rootfs/bin/sd-notify"
    if [ "$who" = rootless ]; then
        as_rootless timeout 30 "$prog" listen "$sock" >"$OUT" 2>&1 &
    else
        timeout 30 "$prog" listen "$sock" >"$OUT" 2>&1 &
    fi
    local listener=$!
    record_pid "$listener"
    wait_socket "$sock"
    if [ "$who" = rootless ]; then
        _ensure_rootless_state_root
        run as_rootless env NOTIFY_SOCKET="$sock" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" run -b "$B" c1
    else
        NOTIFY_SOCKET="$sock" run crunpp run -b "$B" c1
    fi
    [ "$status" -eq 0 ]
    [ "$output" = /run/notify/notify.sock ]
    wait "$listener"
    grep -qx 'READY=1' "$OUT"
}

@test "NOTIFY_SOCKET: READY=1 from the container reaches the listener" {
    make_bundle "$B" /bin/sh -c 'echo $NOTIFY_SOCKET; sd-notify send READY=1'
    notify_case root
}

@test "NOTIFY_SOCKET: rootless" {
    make_rootless_bundle "$B" /bin/sh -c 'echo $NOTIFY_SOCKET; sd-notify send READY=1'
    notify_case rootless
}

# Keyrings of earlier containers linger until the kernel collects them, and
# the same user sees them: every run gets a name of its own.
keyring_count_bundle() {
    local id="$1"
    set_config "$B" ".linux.maskedPaths -= [\"/proc/keys\"] |
        .process.args = [\"/bin/sh\", \"-c\", \"grep -c 'keyring *_ses.$id:' /proc/keys || true\"]"
}

@test "session keyring: a new _ses.<id> per container, none with --no-new-keyring" {
    make_bundle "$B" /bin/true
    local id="kr-$$-$RANDOM"
    keyring_count_bundle "$id"
    run -0 crunpp run -b "$B" "$id"
    [ "$output" = 1 ]
    id="kr-$$-$RANDOM-b"
    keyring_count_bundle "$id"
    run -0 crunpp run --no-new-keyring -b "$B" "$id"
    [ "$output" = 0 ]
}

@test "session keyring: rootless" {
    make_rootless_bundle "$B" /bin/true
    local id="kr-$$-$RANDOM-r"
    keyring_count_bundle "$id"
    run -0 crunpp_rootless run -b "$B" "$id"
    [ "$output" = 1 ]
}
