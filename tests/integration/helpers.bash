# SPDX-License-Identifier: GPL-2.0-or-later
# Shared setup for every integration test: `load helpers` in a .bats file.
#
# Provides
#   $CRUNPP               the binary under test (reachable by the test user)
#   $REPO_ROOT            the source tree
#   $ROOTFS_CACHE         a busybox rootfs built once per run; copy, never modify
#   $STATE_ROOT           this test's --root for root; $ROOTLESS_STATE_ROOT for
#                         the test user (both under $BATS_TEST_TMPDIR)
#   crunpp ARGS...        "$CRUNPP" --root "$STATE_ROOT" ARGS...
#   crunpp_rootless ARGS...  the same as the test user, --root "$ROOTLESS_STATE_ROOT"
#   make_bundle DIR [ARGS...]           busybox bundle, terminal off, args ARGS
#                                       (default /bin/true)
#   make_rootless_bundle DIR [ARGS...]  the same owned by the test user, its
#                                       config from `spec --rootless` run as that user
#   set_config DIR JQ-FILTER            edit DIR/config.json in place
#   as_rootless CMD...    run CMD as $ROOTLESS_USER with HOME, XDG_RUNTIME_DIR
#   require_root, require_rootless_user  skip the test (with a reason) otherwise
#   record_pid PID        the teardown kills PID (and only recorded pids)
#   crunpp_setup / crunpp_teardown      what setup/teardown below call; a file
#                                       defining its own setup/teardown must
#                                       call them
#   $CRUNPP_CGROUP_MANAGER  "systemd" runs every crunpp call with the systemd
#                         cgroup driver (the systemd lane's "SUITE:systemd"):
#                         $CRUNPP is then a wrapper adding --systemd-cgroup,
#                         $CRUNPP_BINARY the binary itself
#   systemd_cgroups       true when that is so
#   RUNTIME_CGROUP_ARGS   the same flags for another runtime (runc) compared
#   test_cgroups_path NAME  a cgroupsPath for NAME the driver accepts:
#                         /crunpp-NAME (one level: no parent left behind,
#                         delete removes it), or system.slice:crunpp:NAME (rootful)
#                         and user.slice:crunpp:NAME (rootless) with systemd
#
# No test touches /run/crunpp: every command goes through a per-test --root.
# A created container keeps the stdout/stderr crunpp was given until it
# exits, so `run crunpp create ...` would wait for it: call create without
# `run`, or give it other output (`crunpp create ... >"$BATS_TEST_TMPDIR/out"`).

REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
ROOTLESS_USER="${CRUNPP_TEST_USER:-crunpp-test}"

# Where per-run artifacts live: the rootfs cache and, when run by hand, a copy
# of the binary. contrib/test.sh sets CRUNPP_TEST_CACHE to a 0755 directory.
_crunpp_cache_dir() {
    echo "${CRUNPP_TEST_CACHE:-$BATS_RUN_TMPDIR/crunpp-cache}"
}

# The test user needs to traverse every directory from / down to DIR.
_open_path() {
    local dir="$1"
    while [ -n "$dir" ] && [ "$dir" != / ]; do
        if [ -O "$dir" ] && [ "$(($(stat -c '%#a' "$dir") & 1))" -eq 0 ]; then
            chmod o+x "$dir"
        fi
        dir="$(dirname "$dir")"
    done
}

# Runs FUNC once per test run, whatever the number of tests or bats jobs:
# MARKER records completion, a flock serializes the first callers.
_once() {
    local marker="$1"
    shift
    [ -e "$marker" ] && return 0
    mkdir -p "$(dirname "$marker")"
    (
        flock 9
        if [ ! -e "$marker" ]; then
            "$@" && touch "$marker"
        fi
    ) 9>"$marker.lock"
    [ -e "$marker" ]
}

_install_binary() {
    local dir
    dir="$(_crunpp_cache_dir)/bin"
    install -d -m 0755 "$dir"
    install -m 0755 "$REPO_ROOT/build/crunpp" "$dir/crunpp"
}

if [ -z "${CRUNPP:-}" ]; then
    if [ ! -x "$REPO_ROOT/build/crunpp" ]; then
        echo "helpers.bash: $REPO_ROOT/build/crunpp not found; build first (ninja -C build) or set CRUNPP" >&2
        exit 1
    fi
    # A copy, so the test user can execute it whatever the source tree's modes.
    _once "$(_crunpp_cache_dir)/bin/.done" _install_binary
    CRUNPP="$(_crunpp_cache_dir)/bin/crunpp"
    _open_path "$(_crunpp_cache_dir)/bin"
fi
# Kept when helpers.bash is loaded again with $CRUNPP already the wrapper.
CRUNPP_BINARY="${CRUNPP_BINARY:-$CRUNPP}"
# shellcheck disable=SC2034 # the suites' (runc comparisons)
RUNTIME_CGROUP_ARGS=()

systemd_cgroups() {
    [ "${CRUNPP_CGROUP_MANAGER:-cgroupfs}" = systemd ]
}

# Every call, the tests' own "$CRUNPP" ones included, as the test user too:
# a wrapper that execs the binary (same pid, same /proc/PID/exe).
_install_systemd_wrapper() {
    local dir
    dir="$(_crunpp_cache_dir)/bin-systemd"
    install -d -m 0755 "$dir"
    printf '#!/bin/sh\nexec %q --systemd-cgroup "$@"\n' "$CRUNPP_BINARY" >"$dir/crunpp.new"
    chmod 0755 "$dir/crunpp.new"
    mv "$dir/crunpp.new" "$dir/crunpp"
}

case "${CRUNPP_CGROUP_MANAGER:-cgroupfs}" in
cgroupfs) ;;
systemd)
    _once "$(_crunpp_cache_dir)/bin-systemd/.done" _install_systemd_wrapper
    CRUNPP="$(_crunpp_cache_dir)/bin-systemd/crunpp"
    _open_path "$(_crunpp_cache_dir)/bin-systemd"
    # shellcheck disable=SC2034 # the suites'
    RUNTIME_CGROUP_ARGS=(--systemd-cgroup)
    ;;
*)
    echo "helpers.bash: CRUNPP_CGROUP_MANAGER must be cgroupfs or systemd, not $CRUNPP_CGROUP_MANAGER" >&2
    exit 1
    ;;
esac
export CRUNPP CRUNPP_BINARY

test_cgroups_path() {
    if ! systemd_cgroups; then
        echo "/crunpp-$1"
    elif [ "$(id -u)" -eq 0 ] && [ "${2:-}" != rootless ]; then
        echo "system.slice:crunpp:$1"
    else
        echo "user.slice:crunpp:$1"
    fi
}

ROOTFS_CACHE="$(_crunpp_cache_dir)/rootfs"

_build_rootfs() {
    local r="$ROOTFS_CACHE" busybox applet
    busybox=/bin/busybox
    [ -x "$busybox" ] || busybox="$(command -v busybox || true)"
    # ldd fails on a static binary: the rootfs has no libc to offer.
    if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
        echo "helpers.bash: a static busybox is needed (apt-get install busybox-static)" >&2
        return 1
    fi
    rm -rf "$r"
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home}
    chmod 1777 "$r/tmp"
    chmod 0700 "$r/root"
    cp "$busybox" "$r/bin/busybox"
    chmod 0755 "$r/bin/busybox"
    # Every applet at its usual place as a symlink to /bin/busybox: one
    # process as root (busybox installs itself inside the chroot), else a loop.
    if [ "$(id -u)" -ne 0 ] || ! chroot "$r" /bin/busybox --install -s; then
        for applet in $("$r/bin/busybox" --list-full); do
            [ -e "$r/$applet" ] || [ -L "$r/$applet" ] || ln -s /bin/busybox "$r/$applet"
        done
    fi
    cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$r/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF
    echo crunpp >"$r/etc/hostname"
}
_once "$ROOTFS_CACHE.done" _build_rootfs || {
    echo "helpers.bash: could not build the busybox rootfs in $ROOTFS_CACHE" >&2
    exit 1
}

rootless_uid() { id -u "$ROOTLESS_USER"; }
rootless_gid() { id -g "$ROOTLESS_USER"; }

require_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
}

require_rootless_user() {
    id "$ROOTLESS_USER" >/dev/null 2>&1 ||
        skip "no user $ROOTLESS_USER (contrib/test.sh creates it)"
    [ "$(id -u)" -eq 0 ] || skip "switching to $ROOTLESS_USER needs root"
    local uid
    uid="$(rootless_uid)"
    # contrib/test.sh creates it; when run by hand, make it like a login would.
    if [ ! -d "/run/user/$uid" ]; then
        install -d -m 0700 -o "$uid" -g "$(rootless_gid)" "/run/user/$uid"
    fi
}

# Skips unless root and `criu check` passes (its verdict checked once a file).
require_criu() {
    require_root
    command -v criu >/dev/null || skip "criu is not installed"
    local verdict="$BATS_FILE_TMPDIR/criu-check"
    if [ ! -f "$verdict" ]; then
        if timeout 60 criu check >"$verdict.out" 2>&1; then
            echo ok >"$verdict"
        else
            grep -m1 -E 'Error|error' "$verdict.out" >"$verdict" || echo "criu check failed" >"$verdict"
        fi
    fi
    [ "$(cat "$verdict")" = ok ] || skip "criu check fails on this kernel: $(cat "$verdict")"
}

# Kills ctr task ID with SIGKILL, waits (10 s at most) until it is stopped,
# then removes the task and its container. CTR: the client (ctr, or a
# function wrapping it).
ctr_remove_task() {
    local ctr="$1" id="$2" i
    "$ctr" task kill -s KILL "$id"
    for ((i = 0; i < 50; i++)); do
        [ "$("$ctr" task ls | awk -v id="$id" '$1 == id {print $3}')" = STOPPED ] && break
        sleep 0.2
    done
    "$ctr" task rm "$id"
    "$ctr" container rm "$id"
}

# The command prefix that runs a command as the test user with a clean
# environment: what the user's login shell would have.
_rootless_prefix() {
    local uid gid home
    uid="$(rootless_uid)"
    gid="$(rootless_gid)"
    home="$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)"
    ROOTLESS_PREFIX=(setpriv --reuid="$uid" --regid="$gid" --init-groups
        env -i HOME="$home" USER="$ROOTLESS_USER" LOGNAME="$ROOTLESS_USER"
        PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
        XDG_RUNTIME_DIR="/run/user/$uid" CRUNPP="$CRUNPP")
}

as_rootless() {
    _rootless_prefix
    "${ROOTLESS_PREFIX[@]}" "$@"
}

crunpp() {
    "$CRUNPP" --root "$STATE_ROOT" "$@"
}

crunpp_rootless() {
    _ensure_rootless_state_root
    as_rootless "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" "$@"
}

_ensure_rootless_state_root() {
    if [ ! -d "$ROOTLESS_STATE_ROOT" ]; then
        _open_path "$(dirname "$ROOTLESS_STATE_ROOT")"
        install -d -m 0700 -o "$(rootless_uid)" -g "$(rootless_gid)" "$ROOTLESS_STATE_ROOT"
    fi
}

# The process args of a config as a JSON array.
_args_json() {
    if [ $# -eq 0 ]; then
        set -- /bin/true
    fi
    jq -cn '$ARGS.positional' --args -- "$@"
}

# Applies FILTER to DIR/config.json, keeping the file's owner and mode.
set_config() {
    local dir="$1" filter="$2" tmp
    tmp="$(mktemp "$BATS_TEST_TMPDIR/config.XXXXXX")"
    jq "$filter" "$dir/config.json" >"$tmp" || {
        rm -f "$tmp"
        echo "set_config: jq failed on $dir/config.json with: $filter" >&2
        return 1
    }
    cat "$tmp" >"$dir/config.json"
    rm -f "$tmp"
}

make_bundle() {
    local dir="$1"
    shift
    mkdir -p "$dir"
    cp -a "$ROOTFS_CACHE" "$dir/rootfs"
    (cd "$dir" && "$CRUNPP" spec) || return 1
    set_config "$dir" ".process.terminal = false | .process.args = $(_args_json "$@")"
}

make_rootless_bundle() {
    require_rootless_user
    local dir="$1"
    shift
    mkdir -p "$dir"
    cp -a "$ROOTFS_CACHE" "$dir/rootfs"
    chown -R "$(rootless_uid):$(rootless_gid)" "$dir"
    _open_path "$(dirname "$dir")"
    as_rootless sh -c 'cd "$1" && exec "$CRUNPP" spec --rootless' sh "$dir" || return 1
    set_config "$dir" ".process.terminal = false | .process.args = $(_args_json "$@")"
}

record_pid() {
    echo "$1" >>"$BATS_TEST_TMPDIR/.recorded-pids"
}

crunpp_setup() {
    STATE_ROOT="$BATS_TEST_TMPDIR/state"
    ROOTLESS_STATE_ROOT="$BATS_TEST_TMPDIR/state-rootless"
    mkdir -p "$STATE_ROOT"
    chmod 0700 "$STATE_ROOT"
}

# Deletes what a test left: containers in its state roots, then recorded pids.
crunpp_teardown() {
    local d id pid
    if [ -d "$STATE_ROOT" ]; then
        for d in "$STATE_ROOT"/*/; do
            [ -d "$d" ] || continue
            id="$(basename "$d")"
            timeout 20 "$CRUNPP" --root "$STATE_ROOT" delete -f "$id" >/dev/null 2>&1 || true
        done
    fi
    if [ -d "$ROOTLESS_STATE_ROOT" ]; then
        for d in "$ROOTLESS_STATE_ROOT"/*/; do
            [ -d "$d" ] || continue
            id="$(basename "$d")"
            _rootless_prefix
            timeout 20 "${ROOTLESS_PREFIX[@]}" "$CRUNPP" --root "$ROOTLESS_STATE_ROOT" delete -f "$id" >/dev/null 2>&1 || true
        done
    fi
    if [ -f "$BATS_TEST_TMPDIR/.recorded-pids" ]; then
        while read -r pid; do
            [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
        done <"$BATS_TEST_TMPDIR/.recorded-pids"
    fi
    return 0
}

setup() {
    crunpp_setup
}

teardown() {
    crunpp_teardown
}
