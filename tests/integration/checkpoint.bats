#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# checkpoint and restore through CRIU (criu swrk), rootful. Each test that
# needs CRIU skips, with criu's reason, where `criu check` fails (the host
# kernel of the dev machine; the v2 lane's Debian kernel passes it).

load helpers
load io_helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
    IMG="$BATS_TEST_TMPDIR/img"
}

teardown() {
    crunpp_teardown
    # What the tests' pipes held open.
    [ -n "${PIPE_IN:-}" ] && exec {PIPE_IN}<&-
    [ -n "${PIPE_OUT:-}" ] && exec {PIPE_OUT}<&-
    [ -n "${PIPE_ERR:-}" ] && exec {PIPE_ERR}<&-
    return 0
}

# Anonymous pipes as the container's stdio: CRIU finds a pipe again by its
# inode (restore hands it back), while a file of the host is outside the
# container's mounts.
open_pipes() {
    exec {PIPE_IN}<> <(:)
    exec {PIPE_OUT}<> <(:)
    exec {PIPE_ERR}<> <(:)
}

# Runs crunpp ARGS with the pipes as stdio; on failure shows its stderr
# (what the pipe holds).
with_pipes() {
    "$CRUNPP" --root "$STATE_ROOT" "$@" <&"$PIPE_IN" >&"$PIPE_OUT" 2>&"$PIPE_ERR" && return 0
    echo "crunpp $* failed:" >&2
    timeout 1 cat <&"$PIPE_ERR" >&2
    return 1
}

# A container (id $1) counting in memory: every 100 ms it writes
# "TOKEN COUNT" to /count, TOKEN chosen at start (a restarted counter has
# another one).
run_counter() {
    local id="$1"
    if [ ! -d "$B" ]; then
        make_bundle "$B" sh -c 't=$(cat /proc/sys/kernel/random/uuid); i=0
            while :; do i=$((i+1)); echo "$t $i" >/count; sleep 0.1; done'
        set_config "$B" '.root.readonly = false'
    fi
    with_pipes run -d -b "$B" "$id"
    wait_count "$id" 3
}

# Waits (30 s at most: an exec takes a second under TCG) until container
# $1's /count, read from inside, says at least $2; sets TOKEN and COUNT.
wait_count() {
    local id="$1" min="$2" line end=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$end" ]; do
        line="$(crunpp exec "$id" cat /count 2>/dev/null)" || line=
        TOKEN="${line% *}"
        COUNT="${line#* }"
        [ -n "$line" ] && [ "$COUNT" -ge "$min" ] && return 0
        sleep 0.2
    done
    echo "container $id: count below $min: \"$line\"" >&2
    return 1
}

# The count the stopped counter left in the bundle's rootfs.
last_count() {
    local line
    line="$(cat "$B/rootfs/count")"
    [ "${line% *}" = "$TOKEN" ]
    echo "${line#* }"
}

# Waits (20 s at most) until container $1 is stopped.
wait_stopped() {
    local end=$((SECONDS + 20))
    while [ "$SECONDS" -lt "$end" ]; do
        [ "$(crunpp state "$1" | jq -r .status)" = stopped ] && return 0
        sleep 0.2
    done
    crunpp state "$1" >&2
    return 1
}

init_pid() { crunpp state "$1" | jq -r .pid; }

unified_cgroup() { jq -r '.cgroupPaths.unified // .cgroupPaths.memory // empty' "$STATE_ROOT/$1/state.json"; }

@test "checkpoint and restore: errors without CRIU and before it" {
    require_root
    make_bundle "$B" sleep 100
    crunpp create -b "$B" cp-err >/dev/null 2>&1
    run crunpp checkpoint cp-err
    [ "$status" -ne 0 ]
    [[ "$output" == *"cannot checkpoint container cp-err: it is created, not running"* ]]
    run crunpp checkpoint no-such
    [ "$status" -ne 0 ]
    [[ "$output" == *"no-such"*"does not exist"* ]]
    run crunpp start cp-err
    [ "$status" -eq 0 ]
    # criu missing from $PATH: a clear error, and the container runs on.
    run env PATH=/nonexistent "$CRUNPP" --root "$STATE_ROOT" checkpoint --image-path "$IMG" cp-err
    [ "$status" -ne 0 ]
    [[ "$output" == *"crunpp: criu not found in \$PATH: checkpoint and restore need CRIU 3.0 or newer"* ]]
    [ ! -e "$IMG" ]
    [ "$(crunpp state cp-err | jq -r .status)" = running ]
    run env PATH=/nonexistent "$CRUNPP" --root "$STATE_ROOT" restore -d -b "$B" --image-path "$B" cp-err2
    [ "$status" -ne 0 ]
    [[ "$output" == *"descriptors.json"* || "$output" == *"criu not found"* ]]
    [ ! -e "$STATE_ROOT/cp-err2" ]
    run crunpp restore -d -b "$B" --image-path "$BATS_TEST_TMPDIR/none" cp-err3
    [ "$status" -ne 0 ]
    [[ "$output" == *"image path \"$BATS_TEST_TMPDIR/none\": No such file or directory"* ]]
    # An image path that cannot be made: the container runs on. CRIU's
    # version is asked first (as runc does), so without criu on $PATH that
    # is the error (contrib/test.sh installs criu; the host's kernel fails
    # `criu check`, but criu answers the version).
    touch "$BATS_TEST_TMPDIR/file"
    run crunpp checkpoint --image-path "$BATS_TEST_TMPDIR/file/img" cp-err
    [ "$status" -ne 0 ]
    if command -v criu >/dev/null; then
        [[ "$output" == *"crunpp: checkpoint: create \"$BATS_TEST_TMPDIR/file/img\": Not a directory"* ]]
    else
        [[ "$output" == *"crunpp: criu not found in \$PATH"* ]]
    fi
    [ "$(crunpp state cp-err | jq -r .status)" = running ]
    # A restore onto an id that exists is refused before anything is read
    # or started, and the container it names is untouched.
    local pid
    pid="$(crunpp state cp-err | jq -r .pid)"
    mkdir -p "$BATS_TEST_TMPDIR/empty"
    run crunpp restore -d -b "$B" --image-path "$BATS_TEST_TMPDIR/empty" cp-err
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: container \"cp-err\" already exists" ]
    [ "$(crunpp state cp-err | jq -r .status)" = running ]
    [ "$(crunpp state cp-err | jq -r .pid)" = "$pid" ]
    # An image directory without images: no state is left.
    run crunpp restore -d -b "$B" --image-path "$BATS_TEST_TMPDIR/empty" cp-err4
    [ "$status" -ne 0 ]
    [[ "$output" == *"descriptors.json"*"No such file or directory"* ]]
    [ ! -e "$STATE_ROOT/cp-err4" ]
    [ -z "$(ls -A "$BATS_TEST_TMPDIR/empty")" ]
    run crunpp checkpoint --parent-path /abs cp-err
    [ "$status" -ne 0 ]
    [[ "$output" == *"--parent-path \"/abs\": must be relative to the image path"* ]]
    # --status-fd (runc's): checked before CRIU is asked anything.
    run crunpp checkpoint --status-fd 1 cp-err
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: checkpoint: --status-fd 1: only with --lazy-pages (it tells when the lazy pages can be fetched)" ]
    run crunpp checkpoint --lazy-pages --status-fd 57 cp-err
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: checkpoint: --status-fd 57: Bad file descriptor" ]
    run crunpp checkpoint --lazy-pages --status-fd 57 cp-err 57</dev/null
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: checkpoint: --status-fd 57: not open for writing" ]
    run crunpp checkpoint --lazy-pages --status-fd -3 cp-err
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: checkpoint: --status-fd \"-3\": not a file descriptor number" ]
    [ "$(crunpp state cp-err | jq -r .status)" = running ]
    run crunpp --rootless=true checkpoint cp-err
    [ "$status" -ne 0 ]
    [[ "$output" == *"CRIU needs root"* ]]
    # A criu too old to answer the VERSION request is named with its version.
    mkdir -p "$BATS_TEST_TMPDIR/oldcriu"
    printf '#!/bin/sh\n[ "$1" = --version ] && echo "Version: 2.5" && exit 0\nexit 1\n' >"$BATS_TEST_TMPDIR/oldcriu/criu"
    chmod 0755 "$BATS_TEST_TMPDIR/oldcriu/criu"
    run env PATH="$BATS_TEST_TMPDIR/oldcriu:/usr/bin:/bin" "$CRUNPP" --root "$STATE_ROOT" checkpoint --image-path "$IMG" cp-err
    [ "$status" -ne 0 ]
    [[ "$output" == *"criu (version 2.5) does not answer the RPC VERSION request: CRIU 3.0 or newer is needed"* ]]
    [ ! -e "$IMG" ]
    [ "$(crunpp state cp-err | jq -r .status)" = running ]
}

# Writes $1/criu: a CRIU claiming version $2 (fake_criu.py), which answers
# VERSION and, with no feature, FEATURE_CHECK.
fake_criu() {
    mkdir -p "$1"
    printf '#!/bin/sh\nexec python3 %q %q "$@"\n' "$BATS_TEST_DIRNAME/fake_criu.py" "$2" >"$1/criu"
    chmod 0755 "$1/criu"
}

# The version gates, on any host: a stand-in CRIU claims the versions on
# either side of each gate (the installed one is newer than them all).
@test "checkpoint and restore: an option's CRIU version is checked before anything is done" {
    require_root
    command -v python3 >/dev/null || skip "python3 is not installed"
    make_bundle "$B" sleep 100
    crunpp run -d -b "$B" cp-ver >/dev/null
    local pid
    pid="$(init_pid cp-ver)"
    local v
    for v in 2.99 3.14 3.15 3.16.2; do
        fake_criu "$BATS_TEST_TMPDIR/criu-$v" "$v"
    done
    run crunpp --criu "$BATS_TEST_TMPDIR/criu-2.99/criu" checkpoint --image-path "$IMG" cp-ver
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: checkpoint: CRIU 3.0 or newer is needed, $BATS_TEST_TMPDIR/criu-2.99/criu is 2.99" ]
    # --status-fd waits on CRIU's "status-ready" notification (3.15).
    run crunpp --criu "$BATS_TEST_TMPDIR/criu-3.14/criu" checkpoint --lazy-pages --status-fd 1 --image-path "$IMG" cp-ver
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: checkpoint: --status-fd needs CRIU 3.15 or newer, criu is 3.14" ]
    # 3.15 passes on to the feature check, which this CRIU fails.
    run crunpp --criu "$BATS_TEST_TMPDIR/criu-3.15/criu" checkpoint --lazy-pages --status-fd 1 --image-path "$IMG" cp-ver
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: checkpoint: --lazy-pages: CRIU reports no lazy pages (userfaultfd) on this kernel" ]
    run crunpp --criu "$BATS_TEST_TMPDIR/criu-3.14/criu" checkpoint --pre-dump --image-path "$IMG" cp-ver
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: checkpoint: --pre-dump: CRIU reports no memory tracking (soft-dirty bits) on this kernel" ]
    [ ! -e "$IMG" ]
    [ "$(crunpp state cp-ver | jq -r .status)" = running ]
    [ "$(init_pid cp-ver)" = "$pid" ]
    # restore: refused before its container exists.
    mkdir -p "$IMG"
    echo '["/dev/null", "/dev/null", "/dev/null"]' >"$IMG/descriptors.json"
    run crunpp --criu "$BATS_TEST_TMPDIR/criu-3.15/criu" restore -d -b "$B" --image-path "$IMG" --lsm-profile apparmor:x cp-ver2
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: restore: --lsm-profile needs CRIU 3.16 or newer, criu is 3.15" ]
    run crunpp --criu "$BATS_TEST_TMPDIR/criu-3.16.2/criu" restore -d -b "$B" --image-path "$IMG" --lsm-mount-context x cp-ver2
    [ "$status" -ne 0 ]
    [ "$output" = "crunpp: restore: --lsm-mount-context needs CRIU 3.17 or newer, criu is 3.16.2" ]
    [ ! -e "$STATE_ROOT/cp-ver2" ]
    [ "$(ls -A "$IMG")" = descriptors.json ]
}

# crunpp ARGS with the host's /dev/null as stdin and stderr.
_with_dev_null() {
    crunpp "$@" </dev/null 2>/dev/null
}

# podman -d gives the container the host's /dev/null as stdin: a file of a
# mount CRIU does not see in the container ("Can't lookup mount=N for fd=0").
# runc, and now crunpp, make such stdio the container's own /dev/null.
@test "checkpoint: stdio that is the host's /dev/null becomes the container's own (CRIU can dump it)" {
    require_root
    make_bundle "$B" /probe.sh
    # The mount point of the mount each of fds 0 and 2 is on, as the
    # container's mountinfo lists it (nothing when it is not there).
    cat >"$B/rootfs/probe.sh" <<'EOS'
#!/bin/sh
for fd in 0 2; do
    m="$(sed -n 's/^mnt_id:[[:space:]]*//p' /proc/self/fdinfo/$fd)"
    echo "fd $fd: $(awk -v m="$m" '$1 == m {print $5}' /proc/self/mountinfo) $(stat -L -c %t:%T /proc/self/fd/$fd)"
done
EOS
    chmod 0755 "$B/rootfs/probe.sh"
    run -0 _with_dev_null run -b "$B" cp-devnull
    echo "$output"
    [ "${lines[0]}" = "fd 0: /dev 1:3" ]
    [ "${lines[1]}" = "fd 2: /dev 1:3" ]
    # A /dev bound from the host (no /dev of crunpp's making) keeps the
    # host's descriptors, as runc does: their mount is not the container's.
    set_config "$B" '.mounts |= map(if .destination == "/dev" then {"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind", "nosuid"]} else . end)'
    run -0 _with_dev_null run -b "$B" cp-devnull2
    echo "$output"
    [ "${lines[0]}" = "fd 0:  1:3" ]
}

@test "checkpoint and restore: a running counter continues from where it was" {
    require_criu
    open_pipes
    run_counter cp-count
    local pid token n1
    pid="$(init_pid cp-count)"
    token="$TOKEN"
    crunpp checkpoint --image-path "$IMG" cp-count
    # The container is gone, as after delete.
    run ! kill -0 "$pid"
    run crunpp state cp-count
    [ "$status" -ne 0 ]
    [ -f "$IMG/descriptors.json" ]
    [ -f "$IMG/dump.log" ]
    n1="$(last_count)"
    with_pipes restore -d -b "$B" --image-path "$IMG" cp-count
    [ "$(crunpp state cp-count | jq -r .status)" = running ]
    wait_count cp-count $((n1 + 3))
    # The same counter (its token is in its memory), counting on.
    [ "$TOKEN" = "$token" ]
    [ "$COUNT" -gt "$n1" ]
    [ "$COUNT" -lt $((n1 + 150)) ]
    # Its pid namespace came back: it is pid 1 inside.
    run crunpp exec cp-count sh -c 'cat /proc/1/cmdline | tr "\0" " "'
    [[ "$output" == "sh -c t="* ]]
}

@test "checkpoint and restore: state, exec, ps, pause, update, kill and delete work after restore" {
    require_criu
    open_pipes
    run_counter cp-cmds
    crunpp checkpoint --image-path "$IMG" cp-cmds
    with_pipes restore -d -b "$B" --image-path "$IMG" --pid-file "$BATS_TEST_TMPDIR/pid" cp-cmds
    local pid cg
    pid="$(init_pid cp-cmds)"
    [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$pid" ]
    # The restored tree is in the container's cgroup.
    cg="$(unified_cgroup cp-cmds)"
    [ -n "$cg" ]
    grep -qx "$pid" "$cg/cgroup.procs"
    [ "$(crunpp state cp-cmds | jq -r .bundle)" = "$B" ]
    run crunpp ps cp-cmds
    [ "$status" -eq 0 ]
    [[ "$output" == *"$pid"* ]]
    crunpp pause cp-cmds
    [ "$(crunpp state cp-cmds | jq -r .status)" = paused ]
    crunpp resume cp-cmds
    crunpp update --pids-limit 50 cp-cmds
    [ "$(cat "$cg/pids.max")" = 50 ]
    wait_count cp-cmds 2
    crunpp kill cp-cmds KILL
    wait_stopped cp-cmds
    crunpp delete cp-cmds
    [ ! -e "$STATE_ROOT/cp-cmds" ]
    [ ! -e "$cg" ]
}

@test "checkpoint --leave-running: the container runs on; the images restore under another id with hooks" {
    require_criu
    open_pipes
    run_counter cp-leave
    local pid hooks="$BATS_TEST_TMPDIR/hooks"
    pid="$(init_pid cp-leave)"
    crunpp checkpoint --leave-running --image-path "$IMG" cp-leave
    [ "$(crunpp state cp-leave | jq -r .status)" = running ]
    [ "$(init_pid cp-leave)" = "$pid" ]
    local n="$COUNT"
    wait_count cp-leave $((n + 3))
    # The hooks of create run for the restored container: prestart and
    # createRuntime with its pid, poststart once it runs.
    mkdir -p "$hooks"
    set_config "$B" '.hooks = {
        "prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > '"$hooks"'/prestart"]}],
        "createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > '"$hooks"'/createRuntime"]}],
        "poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > '"$hooks"'/poststart"]}]}'
    with_pipes restore -d -b "$B" --image-path "$IMG" cp-leave2
    local pid2
    pid2="$(init_pid cp-leave2)"
    [ "$pid2" != "$pid" ]
    [ "$(crunpp state cp-leave | jq -r .status)" = running ]
    [ "$(crunpp state cp-leave2 | jq -r .status)" = running ]
    # Each in its own cgroup.
    echo "restored init's cgroup: $(cat "/proc/$pid2/cgroup"), container's: $(unified_cgroup cp-leave2)"
    grep -qx "$pid2" "$(unified_cgroup cp-leave2)/cgroup.procs"
    grep -qx "$pid" "$(unified_cgroup cp-leave)/cgroup.procs"
    [ "$(unified_cgroup cp-leave)" != "$(unified_cgroup cp-leave2)" ]
    wait_count cp-leave2 $((n + 1))
    for h in prestart createRuntime poststart; do
        [ "$(jq -r .id "$hooks/$h")" = cp-leave2 ]
        [ "$(jq -r .pid "$hooks/$h")" = "$pid2" ]
    done
    [ "$(jq -r .status "$hooks/prestart")" = creating ]
    [ "$(jq -r .status "$hooks/poststart")" = running ]
}

@test "checkpoint and restore: an open file and a unix socket pair" {
    require_criu
    [ -x "$REPO_ROOT/build/tests/helpers/criu-holder" ] || skip "no criu-holder helper (not built in sanitized trees)"
    make_bundle "$B" /criu-holder /data
    set_config "$B" '.root.readonly = false'
    install -m 0755 "$(helper_bin criu-holder)" "$B/rootfs/criu-holder"
    open_pipes
    with_pipes run -d -b "$B" cp-files
    local line token n end=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$end" ]; do
        line="$(cat "$B/rootfs/data" 2>/dev/null)" || true
        [ -n "$line" ] && [ "$(echo "$line" | cut -d' ' -f2)" -ge 3 ] && break
        sleep 0.2
    done
    crunpp checkpoint --image-path "$IMG" cp-files
    line="$(cat "$B/rootfs/data")"
    token="$(echo "$line" | cut -d' ' -f1)"
    n="$(echo "$line" | cut -d' ' -f2)"
    with_pipes restore -d -b "$B" --image-path "$IMG" cp-files
    end=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$end" ]; do
        line="$(crunpp exec cp-files cat /data 2>/dev/null)" || true
        [ -n "$line" ] && [ "$(echo "$line" | cut -d' ' -f2)" -ge $((n + 3)) ] && break
        sleep 0.2
    done
    # Same process, the pair still carries the counter, the file is the one
    # it opened (fd 3), the socket pair fds 4 and 5.
    [ "$line" = "$token $(echo "$line" | cut -d' ' -f2) ok" ]
    [ "$(echo "$line" | cut -d' ' -f2)" -gt "$n" ]
    run crunpp exec cp-files sh -c 'for fd in 3 4 5; do readlink /proc/1/fd/$fd; done'
    [ "${lines[0]}" = /data ]
    [[ "${lines[1]}" == socket:* ]]
    [[ "${lines[2]}" == socket:* ]]
}

@test "checkpoint and restore: a terminal container (--console-socket, --shell-job)" {
    require_criu
    local sock out="$BATS_TEST_TMPDIR/tty" prog
    prog="$(helper_bin fd-receiver)"
    sock="$(shared_dir)/console.sock"
    make_bundle "$B" /bin/sh
    set_config "$B" '.process.terminal = true | .root.readonly = false'
    # The first receiver only holds the master until the checkpoint (its
    # stdin a pipe nobody writes to).
    open_pipes
    timeout 60 "$prog" pty "$sock" <&"$PIPE_IN" >"$out.1" 2>&1 &
    record_pid $!
    wait_socket "$sock"
    crunpp run -d --console-socket "$sock" -b "$B" cp-tty
    crunpp exec cp-tty sh -c 'echo before > /tty-mark'
    crunpp checkpoint --shell-job --image-path "$IMG" cp-tty
    rm -f "$sock"
    # The restored shell gets a new pty from CRIU through --console-socket,
    # and is the same shell: it still has the variable set before.
    printf 'echo "mark=$(cat /tty-mark) tty=$(tty)"; exit 7\n' | timeout 60 "$prog" pty "$sock" >"$out.2" 2>&1 &
    local receiver=$!
    record_pid "$receiver"
    wait_socket "$sock"
    crunpp restore -d --shell-job --console-socket "$sock" -b "$B" --image-path "$IMG" cp-tty
    wait "$receiver" || true
    cat "$out.2"
    grep -q 'mark=before tty=/dev/pts/0' "$out.2"
    wait_stopped cp-tty
}

@test "checkpoint --pre-dump, then a final dump with --parent-path, restores" {
    require_criu
    open_pipes
    run_counter cp-pre
    local token="$TOKEN" n
    mkdir -p "$IMG"
    crunpp checkpoint --pre-dump --image-path "$IMG/pre" cp-pre
    [ "$(crunpp state cp-pre | jq -r .status)" = running ]
    compgen -G "$IMG/pre/pages-*" >/dev/null
    [ ! -e "$IMG/pre/descriptors.json" ]
    run crunpp checkpoint --parent-path ../missing --image-path "$IMG/final" cp-pre
    [ "$status" -ne 0 ]
    [[ "$output" == *"--parent-path \"../missing\": no such directory"* ]]
    [ ! -e "$IMG/final" ]
    crunpp checkpoint --parent-path ../pre --image-path "$IMG/final" cp-pre
    [ "$(readlink "$IMG/final/parent")" = ../pre ]
    n="$(last_count)"
    with_pipes restore -d -b "$B" --image-path "$IMG/final" cp-pre
    wait_count cp-pre $((n + 2))
    [ "$TOKEN" = "$token" ]
}

@test "checkpoint and restore: a failure leaves nothing behind" {
    require_criu
    open_pipes
    run_counter cp-fail
    local pid before
    pid="$(init_pid cp-fail)"
    before="$(pgrep -c criu || true)"
    # No page server listens there: CRIU fails, the container runs on, and
    # the image and work directories made for it are gone.
    run crunpp checkpoint --page-server 127.0.0.1:1 --image-path "$IMG" --work-path "$BATS_TEST_TMPDIR/work" cp-fail
    [ "$status" -ne 0 ]
    [[ "$output" == *"crunpp: checkpoint: criu DUMP failed"* ]]
    [ ! -e "$IMG" ]
    [ ! -e "$BATS_TEST_TMPDIR/work" ]
    [ "$(crunpp state cp-fail | jq -r .status)" = running ]
    [ "$(init_pid cp-fail)" = "$pid" ]
    wait_count cp-fail $((COUNT + 2))
    # An image directory CRIU cannot write (read-only in the mount namespace
    # crunpp and criu run in): CRIU fails, the container is thawed and runs
    # on, and the directory, not made by crunpp, stays as it was.
    mkdir -p "$BATS_TEST_TMPDIR/ro"
    run unshare -m --propagation private sh -c 'mount --bind -o ro "$1" "$1" && exec "$2" --root "$3" checkpoint --image-path "$1" cp-fail' \
        sh "$BATS_TEST_TMPDIR/ro" "$CRUNPP" "$STATE_ROOT"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"crunpp: checkpoint: "* ]]
    [ -d "$BATS_TEST_TMPDIR/ro" ]
    [ -z "$(ls -A "$BATS_TEST_TMPDIR/ro")" ]
    [ "$(crunpp state cp-fail | jq -r .status)" = running ]
    [ "$(init_pid cp-fail)" = "$pid" ]
    [ "$(pgrep -c criu || true)" = "$before" ]
    wait_count cp-fail $((COUNT + 2))
    # A damaged image: the restore fails and leaves no state, cgroup,
    # process or mount.
    crunpp checkpoint --leave-running --image-path "$IMG" cp-fail
    # --lsm-profile reaches CRIU, which refuses an LSM it does not know;
    # nothing is left of that restore either.
    run with_pipes restore -d --lsm-profile bogus:p -b "$B" --image-path "$IMG" cp-fail3
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"unknown lsm bogus"* ]]
    [ ! -e "$STATE_ROOT/cp-fail3" ]
    rm "$IMG"/pstree.img
    local cgroups_before mounts_before rootfs_before
    cgroups_before="$(find /sys/fs/cgroup -type d | sort)"
    mounts_before="$(wc -l </proc/self/mountinfo)"
    rootfs_before="$(cd "$B/rootfs" && find . | sort)"
    run with_pipes restore -d -b "$B" --image-path "$IMG" cp-fail2
    [ "$status" -ne 0 ]
    echo "$output"
    [[ "$output" == *"crunpp: restore: criu "* ]]
    # The rootfs CRIU had bound in the state dir is whole.
    [ "$(cd "$B/rootfs" && find . | sort)" = "$rootfs_before" ]
    [ ! -e "$STATE_ROOT/cp-fail2" ]
    [ "$(find /sys/fs/cgroup -type d | sort)" = "$cgroups_before" ]
    [ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ]
    [ "$(pgrep -c criu || true)" = "$before" ]
    [ "$(crunpp list -q)" = cp-fail ]
}

# A restore without --detach waits for the container, forwards its exit
# status, and removes it, as `run` does.
fg_restore() {
    "$CRUNPP" --root "$STATE_ROOT" restore "$@" <&"$PIPE_IN" >&"$PIPE_OUT" 2>&"$PIPE_ERR"
}

@test "restore in the foreground: crunpp waits and exits with the container's status" {
    require_criu
    make_bundle "$B" sh -c 't=$(cat /proc/sys/kernel/random/uuid); i=0
        while [ $i -lt 150 ]; do i=$((i+1)); echo "$t $i" >/count; sleep 0.1; done; exit 7'
    set_config "$B" '.root.readonly = false'
    open_pipes
    with_pipes run -d -b "$B" cp-fg
    wait_count cp-fg 3
    local token="$TOKEN" cg
    cg="$(unified_cgroup cp-fg)"
    crunpp checkpoint --image-path "$IMG" cp-fg
    [ "$(last_count)" -lt 150 ]
    run -7 fg_restore -b "$B" --image-path "$IMG" cp-fg
    # It ran to its end from where it was: the same token, 150 reached.
    [ "$(cat "$B/rootfs/count")" = "$token 150" ]
    run crunpp state cp-fg
    [ "$status" -ne 0 ]
    [ ! -e "$STATE_ROOT/cp-fg" ]
    [ ! -e "$cg" ]
}

@test "checkpoint and restore leave the network namespace empty, as runc's (--empty-ns network implied)" {
    require_criu
    open_pipes
    run_counter cp-ens
    local token="$TOKEN"
    # crunpp brought the loopback up in the container's namespace.
    run -0 crunpp exec cp-ens ip -o link show lo
    [[ "$output" == *"<LOOPBACK,UP,"* ]]
    # runc always asks CRIU for an empty network namespace: nothing of it
    # is dumped, and the restored container gets a fresh one, its loopback
    # down, with or without --empty-ns network.
    crunpp checkpoint --image-path "$IMG" cp-ens
    [ -z "$(compgen -G "$IMG/netns-*.img")" ]
    with_pipes restore -d --empty-ns network -b "$B" --image-path "$IMG" cp-ens
    wait_count cp-ens 3
    [ "$TOKEN" = "$token" ]
    run -0 crunpp exec cp-ens ip -o link show lo
    [[ "$output" == *"<LOOPBACK>"* ]]
    # That is the namespace of the restored init.
    run -0 crunpp exec cp-ens sh -c '[ "$(readlink /proc/1/ns/net)" = "$(readlink /proc/self/ns/net)" ]'
}

# Whether something listens on 127.0.0.1:$1 now.
listening() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {found=1} END {exit !found}' /proc/net/tcp
}

@test "checkpoint --lazy-pages --page-server, restore --lazy-pages from criu lazy-pages: a lazy migration" {
    require_criu
    open_pipes
    run_counter cp-lazy
    local token="$TOKEN" port=$((20000 + RANDOM % 20000)) dump lazy status status_r ready
    # The dump keeps the memory and serves it from its page server until
    # the restored side has fetched it all; CRIU's lazy-pages daemon fetches
    # it for the restore, which faults pages in through userfaultfd.
    # --status-fd gets a \0 once that server is ready (runc's way to wait),
    # then is closed. crunpp (run directly, no shell around it) holds the
    # only writer, so the reader sees the end at once, or at its exit.
    mkfifo "$BATS_TEST_TMPDIR/status"
    exec {status}<>"$BATS_TEST_TMPDIR/status"
    "$CRUNPP" --root "$STATE_ROOT" checkpoint --lazy-pages --page-server "127.0.0.1:$port" --status-fd "$status" \
        --image-path "$IMG" cp-lazy >"$BATS_TEST_TMPDIR/dump.out" 2>&1 &
    dump=$!
    record_pid "$dump"
    exec {status_r}<"$BATS_TEST_TMPDIR/status"
    exec {status}>&-
    ready="$(timeout 120 dd bs=1 count=1 <&"$status_r" 2>/dev/null | od -An -tx1)"
    [ "$ready" = " 00" ] || {
        cat "$BATS_TEST_TMPDIR/dump.out"
        false
    }
    listening "$port"
    # Closed, while the dump goes on serving.
    run -0 timeout 10 dd bs=1 count=1 status=none <&"$status_r"
    [ -z "$output" ]
    kill -0 "$dump"
    exec {status_r}<&-
    criu lazy-pages --page-server --address 127.0.0.1 --port "$port" -D "$IMG" -W "$IMG" \
        >"$BATS_TEST_TMPDIR/lazy.out" 2>&1 &
    lazy=$!
    record_pid "$lazy"
    with_pipes restore -d --lazy-pages --work-path "$IMG" -b "$B" --image-path "$IMG" cp-lazy-2 || {
        cat "$BATS_TEST_TMPDIR/dump.out" "$BATS_TEST_TMPDIR/lazy.out"
        false
    }
    wait_count cp-lazy-2 3
    [ "$TOKEN" = "$token" ]
    timeout 60 tail --pid="$dump" -f /dev/null
    wait "$dump"
    timeout 60 tail --pid="$lazy" -f /dev/null
    # The source is gone, as after any checkpoint without --leave-running.
    run crunpp state cp-lazy
    [ "$status" -ne 0 ]
    wait_count cp-lazy-2 $((COUNT + 2))
}
