#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Terminals (--console-socket, the foreground proxy of `run`), fd passing
# (--preserve-fds, LISTEN_FDS, --pidfd-socket), the NOTIFY_SOCKET proxy and the
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
    # A closed fd in the range is skipped (crun): the process finds it
    # closed, and none of crunpp's own fds takes its place.
    set_config "$B" '.process.args = ["/bin/sh", "-c", "ls /proc/self/fd | xargs"]'
    run -0 crunpp run --preserve-fds 4 -b "$B" c2 3</dev/null 4<&- 5<&- 6</dev/null
    [ "$output" = "0 1 2 3 4 6" ] # 4: ls's own, the lowest free fd
    run crunpp run --preserve-fds x -b "$B" c2
    [ "$status" -eq 1 ]
    [[ "$output" == *"preserve-fds: \"x\" is not a number of fds"* ]]
}

@test "--preserve-fds 2: rootless" {
    make_rootless_bundle "$B" /bin/sleep 100
    preserve_fds_case rootless
}

@test "LISTEN_FDS/LISTEN_PID: socket-activation fds pass, LISTEN_PID is the process's pid" {
    make_bundle "$B" /bin/sh -c 'echo "$LISTEN_FDS $LISTEN_PID"; ls /proc/self/fd | xargs'
    # LISTEN_PID names crunpp itself: sh execs it with its own pid.
    run -0 sh -c 'LISTEN_FDS=2 LISTEN_PID=$$ exec "$@" 3</dev/null 4</dev/null' sh \
        "$CRUNPP" --root "$STATE_ROOT" run --preserve-fds 1 -b "$B" c1 5</dev/null
    [ "${lines[0]}" = "2 1" ]
    [ "${lines[1]}" = "0 1 2 3 4 5 6" ] # 6: ls's own
    # Without LISTEN_PID (crun), and without a pid namespace: the host pid.
    set_config "$B" '.process.args = ["/bin/sh", "-c", "echo \"$LISTEN_FDS $LISTEN_PID $$\""]
        | .linux.namespaces |= map(select(.type != "pid"))'
    run -0 sh -c 'LISTEN_FDS=1 exec "$@" 3</dev/null' sh "$CRUNPP" --root "$STATE_ROOT" run -b "$B" c1
    local got
    read -r -a got <<<"$output"
    [ "${got[0]}" = 1 ]
    [ "${got[1]}" = "${got[2]}" ]
    [ "${got[1]}" != 1 ]
    # Meant for another process: ignored, not passed.
    set_config "$B" '.process.args = ["/bin/sh", "-c", "echo \"$LISTEN_FDS $LISTEN_PID\"; ls /proc/self/fd | xargs"]'
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

# --- NOTIFY_SOCKET: crunpp proxies it (runc's and crun's behaviour) -------

# Copies sd-notify into the bundle's rootfs; skips without the helper.
notify_bundle_helper() {
    [ -x "$REPO_ROOT/build/tests/helpers/sd-notify" ] || skip "no sd-notify helper (not built in sanitized trees)"
    cp "$(helper_bin sd-notify)" "$B/rootfs/bin/sd-notify"
}

# Starts `sd-notify listen SOCKET [LINE]` in the background (as the test user
# with "rootless"), its output in $OUT; its pid in $LISTENER.
start_notify_listener() {
    local sock="$1" who="${2:-}" until="${3:-READY=1}" prog i
    prog="$(helper_bin sd-notify)"
    if [ "$who" = rootless ]; then
        as_rootless timeout 30 "$prog" listen "$sock" "$until" >"$OUT" 2>&1 &
    else
        timeout 30 "$prog" listen "$sock" "$until" >"$OUT" 2>&1 &
    fi
    LISTENER=$!
    record_pid "$LISTENER"
    if [ "${sock:0:1}" = @ ]; then
        for i in $(seq 100); do
            grep -q " ${sock}\$" /proc/net/unix && return 0
            sleep 0.1
        done
        echo "abstract socket $sock did not appear" >&2
        return 1
    fi
    wait_socket "$sock"
}

# The listener's output after it exited (READY=1 or LINE seen).
notify_received() {
    wait "$LISTENER" || { cat "$OUT" >&2; return 1; }
    cat "$OUT"
}

# The container's messages: a status, readiness, then a long sleep.
NOTIFY_READY_SCRIPT='sd-notify send STATUS=starting && sleep 1 && sd-notify send "$(printf "MAINPID=1\nREADY=1\nSTATUS=up")" && exec sleep 100'

@test "NOTIFY_SOCKET: a foreground run forwards READY=1 with its own pid, and the messages after it" {
    make_bundle "$B" /bin/sh -c 'echo $NOTIFY_SOCKET; sd-notify send STATUS=starting; sd-notify send READY=1
        sd-notify send STATUS=running; sd-notify send WATCHDOG=1; sd-notify send STOPPING=1'
    notify_bundle_helper
    local sock
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock" root STOPPING=1
    # Not under timeout(1): $! must be crunpp's pid. A bounded wait instead.
    NOTIFY_SOCKET="$sock" "$CRUNPP" --root "$STATE_ROOT" run -b "$B" k2n-fg >"$BATS_TEST_TMPDIR/run.out" 2>&1 &
    local crunpp_pid=$!
    record_pid "$crunpp_pid"
    timeout 20 tail --pid="$crunpp_pid" -f /dev/null
    wait "$crunpp_pid"
    [ "$(cat "$BATS_TEST_TMPDIR/run.out")" = /run/notify/notify.sock ]
    run -0 notify_received
    # As runc: in the foreground crunpp stays the main process.
    [ "$output" = "$(printf 'STATUS=starting\n--\nREADY=1\nMAINPID=%s\n--\nSTATUS=running\n--\nWATCHDOG=1\n--\nSTOPPING=1\n--' "$crunpp_pid")" ]
    assert_no_containers
}

@test "NOTIFY_SOCKET: a foreground run with a terminal forwards too" {
    make_bundle "$B" /bin/sh -c 'sd-notify send READY=1; sd-notify send STATUS=after; echo done'
    notify_bundle_helper
    set_config "$B" '.process.terminal = true'
    local sock
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock" root STATUS=after
    NOTIFY_SOCKET="$sock" run -0 timeout 20 "$CRUNPP" --root "$STATE_ROOT" run -b "$B" k2n-tty </dev/null
    [[ "$output" == *done* ]]
    run -0 notify_received
    [ "${lines[0]}" = READY=1 ]
    [[ "${lines[1]}" =~ ^MAINPID=[0-9]+$ ]]
    [ "${lines[3]}" = STATUS=after ]
}

@test "NOTIFY_SOCKET: rootless foreground run" {
    make_rootless_bundle "$B" /bin/sh -c 'echo $NOTIFY_SOCKET; sd-notify send READY=1'
    notify_bundle_helper
    local sock
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock" rootless
    _ensure_rootless_state_root
    run -0 as_rootless env NOTIFY_SOCKET="$sock" timeout 20 "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" run -b "$B" k2n-rl
    [ "$output" = /run/notify/notify.sock ]
    run -0 notify_received
    [ "${lines[0]}" = READY=1 ]
    [[ "${lines[1]}" =~ ^MAINPID=[0-9]+$ ]]
    assert_no_containers "$ROOTLESS_STATE_ROOT"
}

@test "NOTIFY_SOCKET: run -d returns after READY=1, sent with the init's pid; STATUS= before it is forwarded" {
    make_bundle "$B" /bin/sh -c "$NOTIFY_READY_SCRIPT"
    notify_bundle_helper
    local sock pf="$BATS_TEST_TMPDIR/pid" t0 t1
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock"
    t0="$(date +%s%N)"
    NOTIFY_SOCKET="$sock" timeout 20 "$CRUNPP" --root "$STATE_ROOT" run -d --pid-file "$pf" -b "$B" k2n-d \
        >"$BATS_TEST_TMPDIR/run.out" 2>&1
    t1="$(date +%s%N)"
    # The container waits 1 s before READY=1, and run -d waited for it.
    [ $(((t1 - t0) / 1000000)) -ge 900 ]
    [ "$(status_of k2n-d)" = running ]
    [ "$(pid_of k2n-d)" = "$(cat "$pf")" ]
    run -0 notify_received
    [ "$output" = "$(printf 'STATUS=starting\n--\nREADY=1\nMAINPID=%s\nSTATUS=up\n--' "$(cat "$pf")")" ]
    crunpp delete -f k2n-d
}

@test "NOTIFY_SOCKET: create + start; start forwards to the socket recorded at create" {
    make_bundle "$B" /bin/sh -c "$NOTIFY_READY_SCRIPT"
    notify_bundle_helper
    local sock
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock"
    NOTIFY_SOCKET="$sock" crunpp create -b "$B" k2n-cs >"$BATS_TEST_TMPDIR/create.out" 2>&1
    local dir="$STATE_ROOT/k2n-cs/notify"
    [ "$(stat -c %a "$dir")" = 755 ]
    [ "$(stat -c %a "$dir/notify.sock")" = 777 ]
    [ -S "$dir/notify.sock" ]
    # No NOTIFY_SOCKET in start's environment: the state has it.
    env -u NOTIFY_SOCKET timeout 20 "$CRUNPP" --root "$STATE_ROOT" start k2n-cs
    [ "$(status_of k2n-cs)" = running ]
    run -0 notify_received
    [ "$output" = "$(printf 'STATUS=starting\n--\nREADY=1\nMAINPID=%s\nSTATUS=up\n--' "$(pid_of k2n-cs)")" ]
    # The bind lives in the container's mount namespace only.
    ! grep -q "$dir" /proc/self/mountinfo
    crunpp delete -f k2n-cs
    [ ! -e "$STATE_ROOT/k2n-cs" ]
}

@test "NOTIFY_SOCKET: rootless create + start" {
    make_rootless_bundle "$B" /bin/sh -c "$NOTIFY_READY_SCRIPT"
    notify_bundle_helper
    local sock
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock" rootless
    _ensure_rootless_state_root
    as_rootless env NOTIFY_SOCKET="$sock" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" create -b "$B" k2n-rcs \
        >"$BATS_TEST_TMPDIR/create.out" 2>&1
    as_rootless timeout 20 "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" start k2n-rcs
    local pid
    pid="$(crunpp_rootless state k2n-rcs | jq -r .pid)"
    run -0 notify_received
    [ "$output" = "$(printf 'STATUS=starting\n--\nREADY=1\nMAINPID=%s\nSTATUS=up\n--' "$pid")" ]
    crunpp_rootless delete -f k2n-rcs
}

@test "NOTIFY_SOCKET: an abstract host socket reaches the host from a network namespace of its own" {
    make_bundle "$B" /bin/sh -c "$NOTIFY_READY_SCRIPT"
    notify_bundle_helper
    jq -e '.linux.namespaces | any(.type == "network")' "$B/config.json"
    local sock="@crunpp-k2n-$$-$RANDOM" pf="$BATS_TEST_TMPDIR/pid"
    start_notify_listener "$sock"
    NOTIFY_SOCKET="$sock" timeout 20 "$CRUNPP" --root "$STATE_ROOT" run -d --pid-file "$pf" -b "$B" k2n-abs \
        >"$BATS_TEST_TMPDIR/run.out" 2>&1
    run -0 notify_received
    [ "${lines[2]}" = READY=1 ]
    [ "${lines[3]}" = "MAINPID=$(cat "$pf")" ]
    crunpp delete -f k2n-abs
}

@test "NOTIFY_SOCKET: a user namespace whose root is another host id than the runtime's" {
    make_bundle "$B" /bin/sh -c 'id -u; sd-notify send READY=1'
    notify_bundle_helper
    chown -R 100000:100000 "$B/rootfs"
    set_config "$B" '.linux.namespaces += [{"type": "user"}] |
        .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
        .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    local sock
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock"
    # The init (host uid 100000) cannot reach the state dir: crunpp makes the bind.
    NOTIFY_SOCKET="$sock" run -0 timeout 20 "$CRUNPP" --root "$STATE_ROOT" run -b "$B" k2n-userns
    [ "$output" = 0 ]
    run -0 notify_received
    [ "${lines[0]}" = READY=1 ]
}

@test "NOTIFY_SOCKET: a container user other than root can notify" {
    make_bundle "$B" /bin/sh -c 'id -u; sd-notify send READY=1'
    notify_bundle_helper
    set_config "$B" '.process.user = {"uid": 1000, "gid": 1000}'
    local sock
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock"
    NOTIFY_SOCKET="$sock" run -0 timeout 20 "$CRUNPP" --root "$STATE_ROOT" run -b "$B" k2n-user
    [ "$output" = 1000 ]
    run -0 notify_received
    [ "${lines[0]}" = READY=1 ]
}

@test "NOTIFY_SOCKET: a container that exits without READY=1 does not hold start or run -d" {
    make_bundle "$B" /bin/sh -c 'sd-notify send STATUS=giving-up; exit 0'
    notify_bundle_helper
    local sock
    sock="$(shared_dir)/notify.sock"
    start_notify_listener "$sock" root STATUS=giving-up
    NOTIFY_SOCKET="$sock" crunpp create -b "$B" k2n-exit >"$BATS_TEST_TMPDIR/create.out" 2>&1
    run -0 timeout 20 "$CRUNPP" --root "$STATE_ROOT" --debug start k2n-exit
    [[ "$output" == *"the container's init exited before READY=1"* ]]
    run -0 notify_received
    [ "$output" = "$(printf 'STATUS=giving-up\n--')" ]
    crunpp delete -f k2n-exit
    set_config "$B" '.process.args = ["/bin/true"]'
    NOTIFY_SOCKET="$sock" run -0 timeout 20 "$CRUNPP" --root "$STATE_ROOT" run -d -b "$B" k2n-exit2
    crunpp delete -f k2n-exit2
}

@test "NOTIFY_SOCKET: a relative path is refused and nothing is left" {
    make_bundle "$B" /bin/true
    NOTIFY_SOCKET=run/notify.sock run -1 crunpp create -b "$B" k2n-bad
    [ "$output" = 'crunpp: NOTIFY_SOCKET: "run/notify.sock" is neither an absolute path nor an abstract socket "@name"' ]
    assert_no_containers
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
