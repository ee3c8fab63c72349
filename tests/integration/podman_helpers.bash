# SPDX-License-Identifier: GPL-2.0-or-later
# podman on crunpp (podman.bats): a private podman for root and one for the
# test user, each with its own storage (vfs), run root, tmpdir, events file
# and containers.conf, no network, and a busybox image from `podman import`.
# Nothing of the host's podman state is used or changed.
#
# Provides (after podman_setup_file)
#   pm ARGS...                podman (root) with --runtime $CRUNPP
#   pm_with RUNTIME ARGS...   the same with another runtime (runc)
#   pmr ARGS...               podman as the test user with --runtime $CRUNPP
#   pmr_with RUNTIME ARGS...
#   pm_tty / pmr_tty ARGS...  podman with crunpp under a pseudo-terminal
#   $IMG                      the busybox image's name
#   $PROBE                    a shell script printing what a container sees,
#                             normalised (see probe_diff)
# Every podman call is bounded by `timeout $PODMAN_TIMEOUT`.
# PODMAN_CGROUP_MANAGER (set before podman_setup_file) chooses podman's
# cgroup manager: cgroupfs (default) or systemd (where systemd is pid 1).

PODMAN_TIMEOUT=60
IMG=localhost/busybox:latest
RUNC="$(command -v runc || echo /usr/sbin/runc)"

require_podman() {
    command -v podman >/dev/null 2>&1 || skip "podman is not installed (contrib/test.sh installs it)"
    command -v conmon >/dev/null 2>&1 || skip "conmon is not installed (contrib/test.sh installs it)"
}

# The file-level directory: short, because conmon's sockets live below it.
_podman_base() {
    cat "$BATS_FILE_TMPDIR/podman-base"
}

_write_containers_conf() {
    local dir="$1"
    cat >"$dir/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "${PODMAN_CGROUP_MANAGER:-cgroupfs}"
events_logger = "file"
events_logfile_path = "$dir/events.log"
EOF
}

_podman_args() {
    local dir="$1"
    PODMAN_ARGS=(--root "$dir/root" --runroot "$dir/run" --tmpdir "$dir/tmp"
        --storage-driver vfs)
}

# _pm_cmd RUNTIME / _pmr_cmd RUNTIME: the whole command line in PM_CMD.
_pm_cmd() {
    local dir
    dir="$(_podman_base)/r"
    _podman_args "$dir"
    PM_CMD=(env CONTAINERS_CONF="$dir/containers.conf"
        timeout "$PODMAN_TIMEOUT" podman "${PODMAN_ARGS[@]}" --runtime "$1")
}

_pmr_cmd() {
    local dir
    dir="$(_podman_base)/u"
    _podman_args "$dir"
    _rootless_prefix
    # XDG_DATA_HOME: podman keeps a blob-info cache outside --root, in the
    # user's $XDG_DATA_HOME/containers/cache; this keeps it in the test dir.
    PM_CMD=("${ROOTLESS_PREFIX[@]}" env CONTAINERS_CONF="$dir/containers.conf" XDG_DATA_HOME="$dir/data"
        timeout "$PODMAN_TIMEOUT" podman "${PODMAN_ARGS[@]}" --runtime "$1")
}

pm_with() {
    _pm_cmd "$1"
    shift
    "${PM_CMD[@]}" "$@"
}

pm() {
    pm_with "$CRUNPP" "$@"
}

pmr_with() {
    _pmr_cmd "$1"
    shift
    "${PM_CMD[@]}" "$@"
}

pmr() {
    pmr_with "$CRUNPP" "$@"
}

# pm_tty / pmr_tty ARGS...: podman (with crunpp) under a pseudo-terminal
# (script(1)), as `podman run -t` from an interactive shell.
pm_tty() {
    _pm_cmd "$CRUNPP"
    _in_pty "${PM_CMD[@]}" "$@"
}

pmr_tty() {
    _pmr_cmd "$CRUNPP"
    _in_pty "${PM_CMD[@]}" "$@"
}

# `exec` keeps podman's `timeout` the pty session's leader, so it stays in the
# terminal's foreground process group: otherwise (e.g. when script's $SHELL is
# dash, which forks the command) timeout moves to a group of its own and
# podman, setting the terminal raw from the background, stops on SIGTTOU.
_in_pty() {
    local cmd
    printf -v cmd '%q ' "$@"
    SHELL=/bin/sh timeout "$PODMAN_TIMEOUT" script -qec "exec $cmd" /dev/null </dev/null
}

# The directories podman and crunpp may create in the shared run dirs, so
# that the file's teardown removes those it created and no others.
_record_created() {
    local d
    for d in "$@"; do
        [ -e "$d" ] || echo "$d" >>"$(_podman_base)/created"
    done
}

podman_setup_file() {
    local base uid
    # podman refuses a runroot longer than 50 characters: /tmp, short names.
    base="$(mktemp -d /tmp/crunpp-pm.XXXXXX)"
    echo "$base" >"$BATS_FILE_TMPDIR/podman-base"
    chmod 0755 "$base"
    _open_path "$base"
    : >"$base/created"
    # A busybox rootfs as an image: the tarball podman imports.
    tar -C "$ROOTFS_CACHE" -cf "$base/busybox.tar" .
    chmod 0644 "$base/busybox.tar"

    mkdir -p "$base/r"
    _write_containers_conf "$base/r"
    _record_created /run/crunpp /run/crunpp-seccomp-cache
    # Root's podman writes its blob-info cache to /var/lib/containers/cache
    # whatever --root says: the import runs where a tmpfs hides /var/lib.
    _pm_cmd "$CRUNPP"
    unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /var/lib && exec "$@"' sh \
        "${PM_CMD[@]}" import "$base/busybox.tar" "$IMG" >/dev/null

    if id "$ROOTLESS_USER" >/dev/null 2>&1; then
        uid="$(rootless_uid)"
        if [ ! -d "/run/user/$uid" ]; then
            install -d -m 0700 -o "$uid" -g "$(rootless_gid)" "/run/user/$uid"
            echo "/run/user/$uid" >>"$base/created"
        fi
        _record_created "/run/user/$uid/crunpp" "/run/user/$uid/crunpp-seccomp-cache" \
            "/run/user/$uid/libpod" "/run/user/$uid/containers"
        install -d -m 0755 -o "$uid" -g "$(rootless_gid)" "$base/u"
        _write_containers_conf "$base/u"
        chown "$uid:$(rootless_gid)" "$base/u/containers.conf"
        pmr import "$base/busybox.tar" "$IMG" >/dev/null
    fi
}

# Removes every container of both podmans (then nothing of theirs runs).
podman_remove_containers() {
    local base
    base="$(_podman_base)"
    [ -d "$base/r/root" ] && pm rm -af -t 0 >/dev/null 2>&1
    [ -d "$base/u/root" ] && pmr rm -af -t 0 >/dev/null 2>&1
    return 0
}

podman_teardown_file() {
    local base pid d
    base="$(_podman_base)" || return 0
    [ -d "$base" ] || return 0
    podman_remove_containers
    # Rootless podman's pause process (the holder of its user namespace) was
    # started by this file's first rootless call: its pid is in our tmpdir.
    if [ -f "$base/u/tmp/pause.pid" ]; then
        pid="$(cat "$base/u/tmp/pause.pid")"
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    fi
    # The run dirs this file created (newest first: children before parents).
    if [ -f "$base/created" ]; then
        tac "$base/created" | while read -r d; do
            [ -n "$d" ] && rm -rf --one-file-system "$d"
        done
    fi
    if grep -q " $base" /proc/self/mountinfo; then
        echo "podman_teardown_file: mounts left under $base:" >&2
        grep " $base" /proc/self/mountinfo >&2
        return 1
    fi
    rm -rf --one-file-system "$base"
}

# Printed from inside a container: identity, capabilities, seccomp, mounts
# (mount point, options, type, super options; sources and ids dropped,
# duplicates folded), limits, cgroup limit files.
PROBE='
echo "uid_map: $(tr -s " " </proc/self/uid_map | tr "\n" ";")"
echo "gid_map: $(tr -s " " </proc/self/gid_map | tr "\n" ";")"
grep -E "^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status
awk "{ for (i = 7; \$i != \"-\"; i++); print \$5, \$6, \$(i+1), \$(i+3) }" /proc/self/mountinfo | sort -u
sed "s/  */ /g" /proc/self/limits
for f in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares; do
    [ -e /sys/fs/cgroup/$f ] && echo "$f: $(cat /sys/fs/cgroup/$f)"
done
echo "id: $(id) cwd: $(pwd)"
'

# The known, deliberate differences between runc 1.1 and crunpp, folded:
# - crunpp also mounts the hybrid host's cgroup2 hierarchy at
#   /sys/fs/cgroup/unified (as the host has it); runc 1.1 leaves it out.
# - podman asks a read-only cgroup mount; runc 1.1 mounts the v1 tmpfs on
#   /sys/fs/cgroup rw anyway, crunpp follows the config.
# - crunpp's masking tmpfs (maskedPaths directories) is also nosuid,nodev,noexec.
# - rootless --privileged: podman binds the host's /dev/null... (nosuid,noexec);
#   runc binds its default devices once more on top (without them), crunpp
#   leaves podman's binds as the only ones.
# - in a user namespace crunpp binds the host's device nodes nosuid,noexec
#   (as crun does); runc without; the masks bound from /dev/null follow.
_probe_normalise() {
    sed -E -e '\|^/sys/fs/cgroup/unified |d' \
        -e 's| rw,nosuid,noexec,relatime devtmpfs | rw,relatime devtmpfs |' \
        -e '\#^/dev/(null|zero|full|random|urandom) rw,relatime devtmpfs #d' \
        -e 's|^/sys/fs/cgroup rw,|/sys/fs/cgroup ro,|' \
        -e '/ tmpfs ro(,|$)/ s/ ro,nosuid,nodev,noexec,/ ro,/'
}

# probe_diff PODMAN-WITH-FUNCTION ARGS...: runs $PROBE in a container made
# with ARGS under runc and under crunpp; succeeds when both see the same.
probe_diff() {
    local with="$1" base
    shift
    base="$BATS_TEST_TMPDIR/probe"
    local rt bin
    for rt in runc crunpp; do
        bin="$RUNC"
        [ "$rt" = crunpp ] && bin="$CRUNPP"
        "$with" "$bin" run --rm "$@" "$IMG" sh -c "$PROBE" >"$base.$rt" 2>"$base.$rt.err" || {
            echo "$rt run failed:" >&2
            cat "$base.$rt" "$base.$rt.err" >&2
            return 1
        }
    done
    # Not trivially equal: a probe that printed nothing proves nothing.
    grep -q '^CapEff:' "$base.crunpp" && grep -q ' proc ' "$base.crunpp" || {
        echo "probe output incomplete:" >&2
        cat "$base.crunpp" >&2
        return 1
    }
    diff -u <(_probe_normalise <"$base.runc") <(_probe_normalise <"$base.crunpp")
}

# The host pid of a running podman container.
pm_pid() {
    pm inspect --format '{{.State.Pid}}' "$1"
}

# Waits (bounded) until the container's log has LINE.
wait_log() {
    local fn="$1" name="$2" line="$3" i
    for i in $(seq 100); do
        "$fn" logs "$name" 2>/dev/null | grep -qx "$line" && return 0
        sleep 0.1
    done
    echo "wait_log: no line \"$line\" in the log of $name" >&2
    "$fn" logs "$name" >&2
    return 1
}
