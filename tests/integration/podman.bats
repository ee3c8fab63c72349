#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# podman (the real engine) on crunpp, rootful and rootless: what podman calls
# (create --bundle --pid-file [--console-socket], start, kill, delete --force,
# exec --process --detach [--tty --console-socket], pause, resume, update,
# ps) through podman's own commands, checked from inside the container; and
# what a container sees compared with the same podman command on runc.
# The podman state is private to this file (podman_helpers.bash).

load helpers
load io_helpers
load podman_helpers
bats_require_minimum_version 1.5.0

setup_file() {
    [ "$(id -u)" -eq 0 ] || return 0
    command -v podman >/dev/null 2>&1 || return 0
    podman_setup_file
}

teardown_file() {
    [ -f "$BATS_FILE_TMPDIR/podman-base" ] || return 0
    podman_teardown_file
}

setup() {
    crunpp_setup
    require_root
    require_podman
}

teardown() {
    podman_remove_containers
    crunpp_teardown
}

# ---- rootful: run ----

@test "podman run --rm: output and exit codes" {
    run -0 pm run --rm "$IMG" echo hi
    [ "$output" = hi ]
    run -3 pm run --rm "$IMG" sh -c 'exit 3'
}

@test "podman run -i: stdin reaches the container" {
    _pm_cmd "$CRUNPP"
    run -0 bash -c 'printf "x\ny\n" | "$@" run --rm -i "$0" sh -c "cat; echo done"' "$IMG" "${PM_CMD[@]}"
    [ "$output" = $'x\ny\ndone' ]
}

@test "podman run -t: the container's stdio is a pty of its own" {
    run -0 pm_tty run --rm -t "$IMG" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-tty; exit 0'
    [[ "$output" == *"/dev/pts/0"* ]]
    [[ "$output" == *both-tty* ]]
    run -4 pm_tty run --rm -t "$IMG" sh -c 'exit 4'
}

@test "podman run of a missing binary: crunpp's error, no error from the cleanup" {
    run -127 --separate-stderr pm run --rm "$IMG" /nonexistent
    [[ "$stderr" == *'exec: "/nonexistent": stat /nonexistent: no such file or directory'* ]]
    # podman removes the failed container with `delete --force`, which
    # must not complain that it is already gone.
    [[ "$stderr" != *"does not exist"* ]]
    [[ "$stderr" != *"level=error"* ]]
}

@test "podman run: a fast container is never lost between create and start (20 runs)" {
    local i
    for i in $(seq 20); do
        run -0 pm run --rm "$IMG" true
    done
}

# ---- rootful: a detached container ----

@test "podman run -d, logs, exec (status, stdin, -u/-e/-w, -d), exec -t, top" {
    run -0 pm run -d --name c1 "$IMG" sh -c 'echo started; exec sleep 100'
    wait_log pm c1 started
    run -0 pm exec c1 sh -c 'echo in-exec; exit 0'
    [ "$output" = in-exec ]
    run -5 pm exec c1 sh -c 'exit 5'
    _pm_cmd "$CRUNPP"
    run -0 bash -c 'echo piped | "$@" exec -i c1 cat' _ "${PM_CMD[@]}"
    [ "$output" = piped ]
    run -0 pm exec -u 65534:65534 -e FOO=bar -w /tmp c1 sh -c 'echo "$(id -u):$(id -g) $FOO $(pwd)"'
    [ "$output" = "65534:65534 bar /tmp" ]
    # The exec'd process is in the container's pid namespace: its ps sees it.
    run -0 pm exec -d c1 sleep 77
    run -0 pm exec c1 ps -o args
    [[ "$output" == *"sleep 77"* ]]
    run -0 pm_tty exec -t c1 sh -c 'tty; [ -t 0 ] && echo stdin-tty'
    [[ "$output" == *"/dev/pts/"* ]]
    [[ "$output" == *stdin-tty* ]]
    run -0 pm top c1 pid args
    [[ "$output" == *"1 "*"sleep 100"* ]]
    [[ "$output" == *"sleep 77"* ]]
    run -127 pm exec c1 /nonexistent
    [[ "$output" == *'exec: "/nonexistent": stat /nonexistent: no such file or directory'* ]]
}

@test "podman stop: SIGTERM first; SIGKILL after the timeout" {
    pm run -d --name t1 "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done'
    wait_log pm t1 started
    run -0 pm stop -t 2 t1
    run -0 pm inspect --format '{{.State.ExitCode}}' t1
    [ "$output" = 7 ]
    run -0 pm logs t1
    [[ "$output" == *got-term* ]]

    pm run -d --name t2 "$IMG" sh -c 'trap "" TERM; echo started; while :; do sleep 0.1; done'
    wait_log pm t2 started
    local start=$SECONDS
    run -0 pm stop -t 2 t2
    [ $((SECONDS - start)) -ge 2 ]
    run -0 pm inspect --format '{{.State.ExitCode}}' t2
    [ "$output" = 137 ]
}

@test "podman kill (SIGKILL, and -s TERM), podman rm -f of a running container" {
    pm run -d --name k1 "$IMG" sleep 100
    run -0 pm kill k1
    run -0 pm wait k1
    [ "$output" = 137 ]
    pm run -d --name k2 "$IMG" sh -c 'trap "exit 9" TERM; echo started; while :; do sleep 0.1; done'
    wait_log pm k2 started
    run -0 pm kill -s TERM k2
    run -0 pm wait k2
    [ "$output" = 9 ]
    pm run -d --name k3 "$IMG" sleep 100
    local pid
    pid="$(pm_pid k3)"
    run -0 pm rm -f -t 0 k3
    ! kill -0 "$pid" 2>/dev/null
    run -0 pm ps -a --format '{{.Names}}'
    [[ "$output" != *k3* ]]
}

@test "podman restart: a new init, the same container" {
    pm run -d --name r1 "$IMG" sh -c 'echo started; exec sleep 100'
    wait_log pm r1 started
    local pid1 pid2
    pid1="$(pm_pid r1)"
    run -0 pm restart -t 0 r1
    pid2="$(pm_pid r1)"
    [ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ]
    run -0 pm logs r1
    [ "$(grep -c started <<<"$output")" -eq 2 ]
    run -0 pm exec r1 echo alive
}

@test "podman pause / unpause: frozen in its freezer cgroup, then running again" {
    pm run -d --name p1 "$IMG" sh -c 'echo started; exec sleep 100'
    wait_log pm p1 started
    local pid freezer
    pid="$(pm_pid p1)"
    freezer="$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid/cgroup")"
    run -0 pm pause p1
    run -0 pm inspect --format '{{.State.Status}}' p1
    [ "$output" = paused ]
    [ "$(cat "/sys/fs/cgroup/freezer$freezer/freezer.state")" = FROZEN ]
    run -0 pm unpause p1
    [ "$(cat "/sys/fs/cgroup/freezer$freezer/freezer.state")" = THAWED ]
    run -0 pm exec p1 echo thawed
}

@test "podman stats --no-stream and podman update --memory" {
    pm run -d --name s1 --memory 128m "$IMG" sh -c 'echo started; exec sleep 100'
    wait_log pm s1 started
    run -0 pm stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}' s1
    [[ "$output" =~ ^s1\ 1\ [0-9.]+[kMG]?B\ /\ 134.2MB$ ]]
    run -0 pm exec s1 cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    [ "$output" = 134217728 ]
    run -0 pm update --memory 64m s1
    run -0 pm exec s1 cat /sys/fs/cgroup/memory/memory.limit_in_bytes
    [ "$output" = 67108864 ]
}

# ---- rootful: flags, seen from inside ----

@test "podman run --memory --pids-limit --cpus: the container's cgroup limits" {
    run -0 pm run --rm --memory 64m --pids-limit 77 --cpus 1.5 "$IMG" sh -c \
        'cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us'
    [ "$output" = $'67108864\n77\n150000\n100000' ]
    # The pids limit holds: the 78th process cannot be forked.
    run pm run --rm --pids-limit 5 "$IMG" sh -c 'for i in 1 2 3 4 5 6; do sleep 5 & done; wait'
    [[ "$output" == *"can't fork"* || "$output" == *"Resource temporarily unavailable"* ]]
}

@test "podman run --read-only, --tmpfs, -v (rw and ro)" {
    run -1 pm run --rm --read-only "$IMG" touch /file
    [[ "$output" == *"Read-only file system"* ]]
    # podman keeps /tmp writable under --read-only (a tmpfs).
    run -0 pm run --rm --read-only "$IMG" sh -c 'touch /tmp/ok && echo ok'
    run -0 pm run --rm --tmpfs /scratch:size=1m,mode=1777 "$IMG" sh -c \
        'grep " /scratch " /proc/self/mountinfo; stat -c %a /scratch; echo x >/scratch/f && cat /scratch/f'
    [[ "$output" == *" /scratch "*" - tmpfs "*"size=1024k"* ]]
    [[ "$output" == *$'\n1777\nx' ]]
    local vol="$BATS_TEST_TMPDIR/vol"
    mkdir -p "$vol"
    echo from-host >"$vol/in"
    run -0 pm run --rm -v "$vol:/vol" "$IMG" sh -c 'cat /vol/in; echo from-container >/vol/out'
    [ "$output" = from-host ]
    [ "$(cat "$vol/out")" = from-container ]
    run -1 pm run --rm -v "$vol:/vol:ro" "$IMG" sh -c 'echo x >/vol/out2'
    [ ! -e "$vol/out2" ]
}

@test "podman run --user, --env, --workdir, --hostname" {
    run -0 pm run --rm --user 65534:65534 --env FOO=bar --workdir /tmp --hostname box1 "$IMG" \
        sh -c 'echo "$(id -u):$(id -g) $FOO $(pwd) $(hostname)"'
    [ "$output" = "65534:65534 bar /tmp box1" ]
}

@test "podman run --cap-add / --cap-drop" {
    run -0 pm run --rm --cap-add SYS_ADMIN --cap-drop CHOWN "$IMG" grep CapEff /proc/self/status
    local eff=$((16#${output##*[[:space:]]}))
    [ $((eff & (1 << 21))) -ne 0 ] # CAP_SYS_ADMIN
    [ $((eff & 1)) -eq 0 ]         # CAP_CHOWN
    run -1 pm run --rm --cap-drop CHOWN "$IMG" chown 65534 /tmp
    [[ "$output" == *"Operation not permitted"* ]]
    run -0 pm run --rm "$IMG" chown 65534 /tmp
}

@test "podman run: the default seccomp profile, a custom one, seccomp=unconfined" {
    run -0 pm run --rm "$IMG" grep -E '^Seccomp(_filters)?:' /proc/self/status
    [ "$output" = $'Seccomp:\t2\nSeccomp_filters:\t1' ]
    run -0 pm run --rm --security-opt seccomp=unconfined "$IMG" grep '^Seccomp:' /proc/self/status
    [ "$output" = $'Seccomp:\t0' ]
    local profile="$BATS_TEST_TMPDIR/seccomp.json"
    cat >"$profile" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
    run -1 pm run --rm --security-opt "seccomp=$profile" "$IMG" mkdir /tmp/d
    [[ "$output" == *"Operation not permitted"* ]]
    run -0 pm run --rm --security-opt seccomp=unconfined "$IMG" mkdir /tmp/d
}

@test "podman run --init: catatonit is PID 1 and reaps" {
    command -v catatonit >/dev/null || skip "catatonit is not installed (contrib/test.sh installs it)"
    run -0 pm run --rm --init "$IMG" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$'
    [[ "${lines[0]}" == *"/run/podman-init"* ]]
    [ "${lines[1]}" != 1 ]
}

@test "podman run --privileged: every host device, all capabilities, no seccomp" {
    run -0 pm run --rm --privileged "$IMG" sh -c \
        'grep -E "^(CapEff|Seccomp):" /proc/self/status; ls -l /dev/null | cut -c1'
    [[ "$output" == *$'Seccomp:\t0'* ]]
    [[ "${lines[2]}" == c ]]
}

@test "podman run --uidmap (a user namespace as root): exec joins it" {
    run -0 pm run -d --name u1 --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG" sleep 100
    run -0 pm exec u1 sh -c 'id -u; cat /proc/self/uid_map'
    [ "${lines[0]}" = 0 ]
    [ "$(echo "${lines[1]}" | xargs)" = "0 100000 65536" ]
    run -0 pm exec -u 1000:1000 u1 sh -c 'echo "$(id -u):$(id -g)"'
    [ "$output" = 1000:1000 ]
    [ "$(awk '/^Uid:/ {print $2}' /proc/"$(pm_pid u1)"/status)" = 100000 ]
}

@test "podman run --sdnotify=container: the container's READY=1 reaches the host socket, as with runc" {
    [ -x "$REPO_ROOT/build/tests/helpers/sd-notify" ] || skip "no sd-notify helper (not built in sanitized trees)"
    local prog rt bin sock out listener conmon
    prog="$(helper_bin sd-notify)"
    for rt in runc crunpp; do
        bin="$RUNC"
        [ "$rt" = crunpp ] && bin="$CRUNPP"
        # Short: a socket path must fit 108 bytes.
        sock="$(_podman_base)/n-$rt.sock"
        out="$BATS_TEST_TMPDIR/notify-$rt.out"
        timeout 30 "$prog" listen "$sock" READY=1 MAINPID= >"$out" 2>&1 &
        listener=$!
        record_pid "$listener"
        wait_socket "$sock"
        NOTIFY_SOCKET="$sock" run -0 pm_with "$bin" run -d --name "sn-$rt" --sdnotify=container \
            -v "$prog:/usr/local/bin/sd-notify:ro" "$IMG" sh -c 'sd-notify send READY=1; exec sleep 100'
        # The listener exits once it has both (status 0), or after 20 s (1).
        wait "$listener"
        conmon="$(pm_with "$bin" inspect --format '{{.State.ConmonPid}}' "sn-$rt")"
        echo "$rt: conmon $conmon, the listener got: $(cat "$out")"
        # podman names conmon as the main pid, and conmon passes the
        # container's READY=1 on: two senders, so either may come first
        # (with runc as with crunpp).
        local main_first="MAINPID=$conmon"$'\n--\nREADY=1\n--' ready_first="READY=1"$'\n--\n'"MAINPID=$conmon"$'\n--'
        [ "$(cat "$out")" = "$main_first" ] || [ "$(cat "$out")" = "$ready_first" ]
        rm -f "$sock"
    done
}

# ---- rootful: compared with runc ----

@test "what a container sees matches runc: default" {
    probe_diff pm_with
}

@test "what a container sees matches runc: limits, user, caps, read-only, tmpfs" {
    probe_diff pm_with --memory 64m --pids-limit 77 --cpus 1.5 --user 65534:65534 \
        --cap-add SYS_ADMIN --cap-drop CHOWN --read-only --tmpfs /scratch:size=1m \
        --security-opt no-new-privileges
}

@test "what a container sees matches runc: --uidmap" {
    probe_diff pm_with --uidmap 0:100000:65536 --gidmap 0:100000:65536
}

@test "what a container sees matches runc: --privileged, seccomp=unconfined" {
    probe_diff pm_with --privileged
    probe_diff pm_with --security-opt seccomp=unconfined --cap-drop all
}

# ---- rootless ----

@test "rootless: run --rm, exit codes, stdin, -t, the default state root" {
    require_rootless_user
    run -0 --separate-stderr pmr run --rm "$IMG" sh -c 'cat /proc/self/uid_map | tr -s " "; id -u'
    [[ "$output" == *" 0 $(rootless_uid) 1"* ]]
    [ "${lines[-1]}" = 0 ]
    run -3 --separate-stderr pmr run --rm "$IMG" sh -c 'exit 3'
    _pmr_cmd "$CRUNPP"
    run -0 --separate-stderr bash -c 'echo x | "$@" run --rm -i "$0" cat' "$IMG" "${PM_CMD[@]}"
    [ "$output" = x ]
    run -0 --separate-stderr pmr_tty run --rm -t "$IMG" sh -c 'tty'
    [[ "$output" == *"/dev/pts/0"* ]]
    # crunpp runs as root of podman's user namespace there, yet keeps its
    # state where the user's runc would: $XDG_RUNTIME_DIR/crunpp.
    local id
    id="$(pmr run -d "$IMG" sleep 100)"
    [ -d "/run/user/$(rootless_uid)/crunpp/$id" ]
    [ "$(stat -c %U "/run/user/$(rootless_uid)/crunpp/$id")" = "$ROOTLESS_USER" ]
    run -0 --separate-stderr pmr rm -f -t 0 "$id"
    [ ! -e "/run/user/$(rootless_uid)/crunpp/$id" ]
}

@test "rootless: run -d, exec, exec -t, top, logs, stop, kill, restart, rm -f" {
    require_rootless_user
    pmr run -d --name u1 "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; echo started; while :; do sleep 0.1; done'
    wait_log pmr u1 started
    run -0 --separate-stderr pmr exec u1 sh -c 'echo in-exec; id -u'
    [ "$output" = $'in-exec\n0' ]
    run -6 --separate-stderr pmr exec u1 sh -c 'exit 6'
    run -0 --separate-stderr pmr_tty exec -t u1 tty
    [[ "$output" == *"/dev/pts/"* ]]
    run -0 --separate-stderr pmr top u1 pid args
    [[ "$output" == *"1 "*"sh -c trap"* ]]
    run -0 --separate-stderr pmr restart -t 2 u1
    wait_log pmr u1 got-term
    run -0 --separate-stderr pmr stop -t 2 u1
    run -0 --separate-stderr pmr inspect --format '{{.State.ExitCode}}' u1
    [ "$output" = 7 ]
    run -0 --separate-stderr pmr logs u1
    [ "$(grep -c started <<<"$output")" -eq 2 ]
    pmr run -d --name u2 "$IMG" sleep 100
    run -0 --separate-stderr pmr kill u2
    run -0 --separate-stderr pmr wait u2
    [ "$output" = 137 ]
    pmr run -d --name u3 "$IMG" sleep 100
    run -0 --separate-stderr pmr rm -f -t 0 u3
    run -0 --separate-stderr pmr ps -a --format '{{.Names}}'
    [[ "$output" != *u3* ]]
}

@test "rootless: flags (--read-only, --user, --cap-drop, --tmpfs, -v, --env, --workdir, --hostname, --init, seccomp)" {
    require_rootless_user
    run -1 --separate-stderr pmr run --rm --read-only "$IMG" touch /file
    local vol="$BATS_TEST_TMPDIR/uvol"
    install -d -m 1777 "$vol"
    _open_path "$BATS_TEST_TMPDIR"
    run -0 --separate-stderr pmr run --rm --user 1:1 --env FOO=bar --workdir /tmp --hostname ubox \
        --tmpfs /scratch -v "$vol:/vol" "$IMG" \
        sh -c 'echo "$(id -u):$(id -g) $FOO $(pwd) $(hostname)"; grep -c " /scratch .* - tmpfs " /proc/self/mountinfo; echo x >/vol/f'
    [ "$output" = $'1:1 bar /tmp ubox\n1' ]
    [ "$(stat -c %u "$vol/f")" != "$(rootless_uid)" ] # uid 1 of the container is a subordinate id
    run -1 --separate-stderr pmr run --rm --cap-drop CHOWN "$IMG" chown 1 /tmp
    run -0 --separate-stderr pmr run --rm --security-opt seccomp=unconfined "$IMG" grep '^Seccomp:' /proc/self/status
    [ "$output" = $'Seccomp:\t0' ]
    if command -v catatonit >/dev/null; then
        run -0 --separate-stderr pmr run --rm --init "$IMG" cat /proc/1/cmdline
        [[ "$output" == *"/run/podman-init"* ]]
    fi
}

@test "rootless: --userns=keep-id runs as the user's own uid" {
    require_rootless_user
    run -0 --separate-stderr pmr run --rm --userns=keep-id "$IMG" sh -c 'id -u; id -g'
    [ "$output" = "$(rootless_uid)"$'\n'"$(rootless_gid)" ]
}

@test "rootless: --privileged gets the host's devices (bound) and every capability of the namespace" {
    require_rootless_user
    run -0 --separate-stderr pmr run --rm --privileged "$IMG" sh -c 'echo x >/dev/null && ls -l /dev/null | cut -c1; grep ^Seccomp: /proc/self/status'
    [ "$output" = $'c\nSeccomp:\t0' ]
}

@test "rootless: cgroup v1 limits, pause, stats and update fail as with runc" {
    require_rootless_user
    # Where cgroups are v1, rootless podman refuses these itself or the
    # runtime cannot apply them: the same outcome under runc and crunpp.
    [ -d /sys/fs/cgroup/memory ] || skip "the host has cgroup v2: rootless limits are tested elsewhere"
    local rt
    for rt in "$RUNC" "$CRUNPP"; do
        pmr_with "$rt" run -d --name "l-${rt##*/}" "$IMG" sleep 100
        run ! --separate-stderr pmr_with "$rt" pause "l-${rt##*/}"
        run ! --separate-stderr pmr_with "$rt" stats --no-stream "l-${rt##*/}"
        run ! --separate-stderr pmr_with "$rt" update --memory 64m "l-${rt##*/}"
        run -0 --separate-stderr pmr_with "$rt" exec "l-${rt##*/}" echo still-running
        run -0 --separate-stderr pmr_with "$rt" rm -f -t 0 "l-${rt##*/}"
    done
}

@test "rootless: what a container sees matches runc (default, keep-id, --privileged)" {
    require_rootless_user
    probe_diff pmr_with
    probe_diff pmr_with --userns=keep-id --read-only --cap-drop CHOWN
    probe_diff pmr_with --privileged
}
