#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# podman's `container checkpoint` and `container restore` on crunpp, rootful,
# compared with the same sequence on runc: podman calls `checkpoint
# --image-path --work-path [--leave-running]` and, through conmon, `restore
# --image-path --work-path --bundle --detach --pid-file`, after probing
# `checkpoint --help`. Needs CRIU that passes `criu check` (the systemd
# lane's guest, contrib/systemd-lane.sh; this host's kernel fails it, and
# every test skips saying why). The podman state is private to this file
# (podman_helpers.bash); under systemd podman uses its default there, the
# systemd cgroup manager.

load helpers
load io_helpers
load podman_helpers
bats_require_minimum_version 1.5.0

setup_file() {
    [ "$(id -u)" -eq 0 ] || return 0
    # The systemd lane's rootless pass runs no test of this file.
    [ "${SYSTEMD_LANE_PASS:-}" = rootless ] && return 0
    command -v podman >/dev/null 2>&1 || return 0
    command -v criu >/dev/null 2>&1 || return 0
    [ "${SYSTEMD_LANE:-}" = 1 ] && export PODMAN_CGROUP_MANAGER=systemd
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
    require_criu
    [ -x "$RUNC" ] || skip "runc is not installed (the comparison runs it)"
}

teardown() {
    podman_remove_containers
    crunpp_teardown
}

# The counter: every 100 ms "TOKEN COUNT" to /count, TOKEN chosen at start
# (in memory: a restarted counter would have another one).
# shellcheck disable=SC2016 # expanded in the container's shell
COUNTER='t=$(cat /proc/sys/kernel/random/uuid); i=0; while :; do i=$((i+1)); echo "$t $i" >/count; sleep 0.1; done'

# pm_count RUNTIME NAME MIN: waits (60 s at most: a podman exec takes
# seconds under TCG) until the counter's /count, read with podman exec,
# says at least MIN; sets TOKEN and COUNT.
pm_count() {
    local rt="$1" name="$2" min="$3" line end=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$end" ]; do
        line="$(pm_with "$rt" exec "$name" cat /count 2>/dev/null)" || line=
        TOKEN="${line% *}"
        COUNT="${line#* }"
        [ -n "$line" ] && [ "$COUNT" -ge "$min" ] && return 0
        sleep 0.5
    done
    echo "container $name ($rt): count below $min: \"$line\"" >&2
    return 1
}

pm_state() {
    pm_with "$1" inspect --format '{{.State.Status}} checkpointed={{.State.Checkpointed}} restored={{.State.Restored}}' "$2"
}

# step RUNTIME WHAT PODMAN-ARGS...: podman with RUNTIME; on failure shows
# its output and the container's logs.
step() {
    local rt="$1" what="$2"
    shift 2
    echo "# $what ($(basename "$rt"))"
    if ! pm_with "$rt" "$@" >"$BATS_TEST_TMPDIR/step.out" 2>&1; then
        echo "podman $* with $(basename "$rt") failed:" >&2
        cat "$BATS_TEST_TMPDIR/step.out" >&2
        return 1
    fi
}

# sequence RUNTIME NAME: run -d, checkpoint, restore, checkpoint
# --leave-running, checkpoint --export, restore --import under a new name,
# exec, stop, rm; asserts each step and writes what podman reports (states,
# the export's entries) to $BATS_TEST_TMPDIR/seen.NAME for the comparison.
sequence() {
    local rt="$1" n="$2" seen="$BATS_TEST_TMPDIR/seen.$2" token n0 pid dir tar="$BATS_TEST_TMPDIR/$2.tar"
    step "$rt" run run -d --name "$n" "$IMG" sh -c "$COUNTER"
    pm_count "$rt" "$n" 3
    token="$TOKEN"
    n0="$COUNT"

    step "$rt" checkpoint container checkpoint "$n"
    # Nothing of the network namespace is dumped (runc asks CRIU for an
    # empty one: the engine sets the network up again).
    dir="$(pm_with "$rt" inspect --format '{{.StaticDir}}' "$n")"
    [ -f "$dir/checkpoint/inventory.img" ]
    [ -z "$(compgen -G "$dir/checkpoint/netns-*.img")" ]
    echo "checkpoint: $(pm_state "$rt" "$n")" >>"$seen"
    [ "$(pm_state "$rt" "$n")" = "exited checkpointed=true restored=false" ]
    step "$rt" restore container restore "$n"
    echo "restore: $(pm_state "$rt" "$n")" >>"$seen"
    [ "$(pm_state "$rt" "$n")" = "running checkpointed=false restored=true" ]
    # The same counter (its token is in its memory), counting on from where
    # it was, not from 0.
    pm_count "$rt" "$n" $((n0 + 2))
    [ "$TOKEN" = "$token" ]

    pid="$(pm_pid "$n")"
    n0="$COUNT"
    step "$rt" "checkpoint --leave-running" container checkpoint --leave-running "$n"
    echo "leave-running: $(pm_state "$rt" "$n")" >>"$seen"
    [ "$(pm_state "$rt" "$n" | cut -d' ' -f1)" = running ]
    [ "$(pm_pid "$n")" = "$pid" ]
    pm_count "$rt" "$n" $((n0 + 2))
    [ "$TOKEN" = "$token" ]

    n0="$COUNT"
    # Uncompressed: podman's default is zstd, which the guest lacks.
    step "$rt" "checkpoint --export" container checkpoint --compress none --export "$tar" "$n"
    echo "export: $(pm_state "$rt" "$n")" >>"$seen"
    # What the archive holds, CRIU's images by kind (their names carry ids).
    tar -tf "$tar" >"$BATS_TEST_TMPDIR/entries"
    grep -qx 'checkpoint/inventory.img' "$BATS_TEST_TMPDIR/entries"
    sed -E 's|/$||; s/-[0-9]+(\.img|\.tar\.gz\.img)$/-N\1/' "$BATS_TEST_TMPDIR/entries" | sort -u | sed 's/^/export entry: /' >>"$seen"
    step "$rt" "restore --import --name" container restore --import "$tar" --name "$n-2"
    echo "import: $(pm_state "$rt" "$n-2")" >>"$seen"
    [ "$(pm_state "$rt" "$n-2" | cut -d' ' -f1)" = running ]
    pm_count "$rt" "$n-2" $((n0 + 2))
    [ "$TOKEN" = "$token" ]
    # Where the restored tree runs, for the caller to judge: CRIU puts it
    # back in the cgroup it was dumped from unless told otherwise.
    RESTORED_ID="$(pm_with "$rt" inspect --format '{{.Id}}' "$n-2")"
    RESTORED_CG="$(cut -d: -f3- "/proc/$(pm_pid "$n-2")/cgroup")"
    echo "# $(basename "$rt"): $n-2 ($RESTORED_ID) runs in $RESTORED_CG"
    # The original stays checkpointed and exited beside it.
    [ "$(pm_state "$rt" "$n" | cut -d' ' -f1)" = exited ]

    # The restored container is a container like any other.
    run -0 pm_with "$rt" exec "$n-2" sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "'
    [ "${lines[0]}" = in-exec ]
    [[ "${lines[1]}" == "sh -c t="* ]]
    step "$rt" stop stop -t 2 "$n-2"
    echo "stop: $(pm_state "$rt" "$n-2" | cut -d' ' -f1)" >>"$seen"
    [ "$(pm_state "$rt" "$n-2" | cut -d' ' -f1)" = exited ]
    step "$rt" rm rm "$n" "$n-2"
    run -0 pm_with "$rt" ps -aq
    [ -z "$output" ]
}

# The containers' cgroups of podman (libpod-ID[.scope]), one a line.
libpod_cgroups() {
    find /sys/fs/cgroup -type d -name 'libpod-*' 2>/dev/null | sort
}

@test "podman container checkpoint/restore on crunpp (plain, --leave-running, --export/--import), as on runc" {
    local before left d
    before="$(libpod_cgroups)"
    sequence "$RUNC" cp-pm-runc
    # runc lets CRIU put the container restored under a new name back in
    # the cgroup of the one it was checkpointed from (made anew by CRIU when
    # that one has stopped), which nobody removes afterwards: shown, and
    # removed here, empty.
    [[ "$RESTORED_CG" != *"$RESTORED_ID"* ]] && echo "# runc: the restored container ran in another's cgroup"
    left="$(comm -13 <(echo "$before") <(libpod_cgroups))"
    for d in $left; do
        echo "# runc left the cgroup $d (processes: $(wc -l <"$d/cgroup.procs"))"
        [ -s "$d/cgroup.procs" ] || rmdir "$d"
    done

    before="$(libpod_cgroups)"
    sequence "$CRUNPP" cp-pm-crunpp
    # crunpp restores it in its own cgroup, and leaves none.
    [[ "$RESTORED_CG" == *"$RESTORED_ID"* ]]
    left="$(comm -13 <(echo "$before") <(libpod_cgroups))"
    [ -z "$left" ] || {
        echo "crunpp left cgroups: $left" >&2
        false
    }
    # podman saw the same from both runtimes.
    diff -u "$BATS_TEST_TMPDIR/seen.cp-pm-runc" "$BATS_TEST_TMPDIR/seen.cp-pm-crunpp"
    # Nothing of crunpp's is left: no state, no criu.
    run ! pgrep -x criu
}
