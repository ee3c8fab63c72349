# SPDX-License-Identifier: GPL-2.0-or-later
# What containerd.bats needs on top of helpers.bash: a private containerd 1.6
# that runs crunpp through its runc shim (containerd-shim-runc-v2), as a
# Kubernetes node does with a RuntimeClass whose BinaryName is crunpp.
#
# The host is never changed. containerd (and so every shim it starts) runs in
# a private mount namespace where /run is a fresh tmpfs: the shim's sockets
# (/run/containerd/s/, fixed in containerd 1.6), ctr's fifos
# (/run/containerd/fifo) and crunpp's state (the shim's --root,
# /run/containerd/runc/<namespace>) live and die there, and so do the
# snapshot mounts. Its root, state, sockets and config are under $CTD_DIR.
#
# Provides (after ctd_start, exported to every test)
#   $CTD_DIR $CTD_PID $CTD_NS $CTD_IMAGE
#   ctr ARGS...          bounded ctr in containerd's mount namespace
#   in_ctd CMD...        any command in that namespace
#   crunpp_ctd ARGS...   crunpp on the shim's state root
#   task_pid ID          the host pid of a task's init
#   wait_task_status ID STATUS
#   ctd_cleanup_containers   deletes every container of $CTD_NS

CTR_TIMEOUT=30
CTR_BIN="$(type -P ctr || echo /usr/bin/ctr)"
CTD_IMAGE=localhost/crunpp-busybox:test

_proc_alive() {
    local s
    s="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

in_ctd() {
    nsenter -t "$CTD_PID" -m -- "$@"
}

ctr() {
    timeout "$CTR_TIMEOUT" nsenter -t "$CTD_PID" -m -- \
        "$CTR_BIN" --address "$CTD_DIR/containerd.sock" --namespace "$CTD_NS" "$@"
}

crunpp_ctd() {
    timeout "$CTR_TIMEOUT" nsenter -t "$CTD_PID" -m -- \
        "$CRUNPP" --root "/run/containerd/runc/$CTD_NS" "$@"
}

task_pid() {
    ctr task ls | awk -v id="$1" '$1 == id { print $2 }'
}

task_status() {
    ctr task ls | awk -v id="$1" '$1 == id { print $3 }'
}

# Polls (at most 10 s) until `ctr task ls` shows ID with STATUS.
wait_task_status() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(task_status "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    echo "task $1 is '$(task_status "$1")', not $2" >&2
    return 1
}

# The busybox rootfs of helpers.bash as an OCI archive, made by podman in a
# private mount namespace with tmpfs over /run, /var/lib, /var/tmp and
# /dev/shm: its storage (vfs), runroot, tmpdir, lock and blob-info cache
# vanish with it (and stay within podman's 50-byte runroot limit).
_ctd_make_image() {
    local d="$CTD_DIR/podman"
    mkdir -p "$d"
    tar -C "$ROOTFS_CACHE" -cf "$d/rootfs.tar" . || return 1
    cat >"$d/containers.conf" <<EOF
[engine]
events_logger = "none"
EOF
    env -u XDG_RUNTIME_DIR CONTAINERS_CONF="$d/containers.conf" timeout 120 \
        unshare -m --propagation private sh -ec '
        mount -t tmpfs -o mode=0755 tmpfs /run
        mount -t tmpfs -o mode=0755 tmpfs /var/lib
        mount -t tmpfs -o mode=1777 tmpfs /var/tmp
        mount -t tmpfs -o mode=1777 tmpfs /dev/shm
        d="$1" image="$2"
        set -- podman --root /var/lib/containers/storage --runroot /run/containers/storage \
            --tmpdir /run/libpod --storage-driver vfs --cgroup-manager cgroupfs
        "$@" import --change "CMD [\"/bin/sh\"]" "$d/rootfs.tar" "$image" >/dev/null
        "$@" save -q --format oci-archive -o "$d/image.tar" "$image"
        ' sh "$d" "$CTD_IMAGE" </dev/null >"$d/podman.log" 2>&1 || {
        cat "$d/podman.log" >&2
        return 1
    }
    rm -f "$d/rootfs.tar"
}

_ctd_write_config() {
    cat >"$CTD_DIR/config.toml" <<EOF
version = 2
root = "$CTD_DIR/root"
state = "$CTD_DIR/state"
# Nothing that reaches the network, the host's disks or /opt.
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "$CTD_DIR/containerd.sock"

[ttrpc]
  address = "$CTD_DIR/containerd.sock.ttrpc"

[debug]
  address = "$CTD_DIR/debug.sock"
  level = "debug"

[metrics]
  address = ""

[plugins."io.containerd.runtime.v2.task"]
  platforms = ["linux/amd64"]
EOF
}

# Starts containerd and imports the image; sets and exports CTD_*.
ctd_start() {
    CTD_DIR="$BATS_FILE_TMPDIR/ctd"
    # Unix socket paths are limited to 107 bytes.
    if [ "${#CTD_DIR}" -gt 80 ]; then
        CTD_DIR="$(mktemp -d /tmp/crunpp-ctd.XXXXXX)"
    fi
    mkdir -p "$CTD_DIR"
    # "crunpp" in the name: contrib/test.sh's leak check sees a cgroup left.
    CTD_NS="crunpp-ctd-$$-$RANDOM"
    export CTD_DIR CTD_NS CTD_IMAGE
    _ctd_make_image || return 1
    _ctd_write_config
    # No bats fd (3) in the daemon, or bats waits for it.
    unshare -m --propagation private sh -c \
        'mount -t tmpfs -o mode=0755 tmpfs /run && exec containerd --config "$1"' \
        sh "$CTD_DIR/config.toml" </dev/null >"$CTD_DIR/containerd.log" 2>&1 3>&- &
    CTD_PID=$!
    export CTD_PID
    echo "$CTD_PID" >"$CTD_DIR/containerd.pid"
    local i
    for ((i = 0; i < 100; i++)); do
        _proc_alive "$CTD_PID" || break
        ctr version >/dev/null 2>&1 && break
        sleep 0.1
    done
    if ! ctr version >/dev/null 2>&1; then
        echo "containerd did not start; its log:" >&2
        tail -n 30 "$CTD_DIR/containerd.log" >&2
        return 1
    fi
    # The mount namespace, to find a shim that outlives containerd.
    readlink "/proc/$CTD_PID/ns/mnt" >"$CTD_DIR/mntns"
    ctr images import --base-name "${CTD_IMAGE%:*}" "$CTD_DIR/podman/image.tar" >/dev/null
}

# Deletes every task and container of the namespace (the shims exit with
# their last container), then whatever crunpp still knows of.
ctd_cleanup_containers() {
    local id
    for id in $(ctr containers ls -q 2>/dev/null); do
        ctr task delete --force "$id" >/dev/null 2>&1
        ctr containers delete "$id" >/dev/null 2>&1
    done
    for id in $(crunpp_ctd list -q 2>/dev/null); do
        crunpp_ctd delete --force "$id" >/dev/null 2>&1
    done
    return 0
}

# Stops containerd by its pid (TERM, 10 s, KILL), kills any process left in
# its mount namespace (a shim), removes the namespace's cgroup parents.
ctd_stop() {
    if [ -z "${CTD_PID:-}" ]; then
        [ -z "${CTD_DIR:-}" ] || rm -rf --one-file-system "$CTD_DIR"
        return 0
    fi
    ctd_cleanup_containers
    local i ns p
    ns="$(cat "$CTD_DIR/mntns" 2>/dev/null)"
    kill -TERM "$CTD_PID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        _proc_alive "$CTD_PID" || break
        sleep 0.1
    done
    _proc_alive "$CTD_PID" && kill -KILL "$CTD_PID" 2>/dev/null
    wait "$CTD_PID" 2>/dev/null
    if [ -n "$ns" ]; then
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
            echo "containerd.bats: killing ${p#/proc/} left in containerd's mount namespace" >&2
            kill -KILL "${p#/proc/}" 2>/dev/null
        done
    fi
    # containerd puts a container in /<namespace>/<id>; crunpp removes the
    # <id> level, the parent is the engine's (runc leaves it too).
    local d
    for d in /sys/fs/cgroup/*/"$CTD_NS" /sys/fs/cgroup/"$CTD_NS"; do
        [ -d "$d" ] || continue
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$d" ] && echo "containerd.bats: cannot remove cgroup $d" >&2
    done
    # Every mount was made in containerd's namespace, gone with it: the host
    # must show none under our directory.
    if grep -F " $CTD_DIR" /proc/self/mountinfo >&2; then
        echo "containerd.bats: mounts left under $CTD_DIR" >&2
        return 1
    fi
    rm -rf --one-file-system "$CTD_DIR"
}
