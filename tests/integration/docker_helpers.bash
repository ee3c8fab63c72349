# SPDX-License-Identifier: GPL-2.0-or-later
# Docker Engine on crunpp (docker.bats, compose.bats): a private dockerd 20.10
# (Debian's docker.io) with crunpp and runc registered as runtimes, as a user
# registers crunpp in /etc/docker/daemon.json.
#
# The host is never changed. dockerd, its containerd (a service of its own,
# started first as under nohup), every shim and every container run in a
# private mount namespace where /run is a fresh tmpfs (containerd 1.6 puts
# its shims' sockets in the fixed /run/containerd/s), and in a private
# network namespace: docker0, the iptables chains, the userland proxies of
# -p and the overlay mounts live and die there. "The host" of a test (curl
# to a -p port) is that namespace (in_dk_net). The data roots, exec root,
# sockets, pid files and configs are under $DK_DIR; containers get cgroups
# under the parent $DK_CGROUP, which dk_stop removes.
#
# Provides (after dk_start, exported to every test)
#   $DK_DIR $DK_PID $DK_CGROUP $DK_IMG (the busybox image)
#   dk ARGS...              bounded /usr/bin/docker on the private daemon
#   dk_tty ARGS...          the same under a pseudo-terminal
#   in_dk_net CMD...        CMD in dockerd's network namespace
#   dk_start [DEFAULT-RUNTIME]  starts dockerd (default runtime: runc)
#   dk_stop [keep]          removes the containers, stops dockerd and
#                           containerd by their pids, checks nothing is left;
#                           "keep" keeps the data root for another dk_start
#   dk_reattach             in a teardown_file: the daemon of setup_file
#   dk_rm_all               removes every container (not the images)
#   dk_pid NAME             the host pid of a container's init
#   dk_cgroup_file NAME CONTROLLER FILE   a container's cgroup file on the host
#   dk_wait_log NAME LINE   waits (bounded) for LINE in a container's log
#   dk_probe_diff ARGS...   runs $PROBE (podman_helpers.bash) with ARGS under
#                           runc and crunpp; succeeds when both see the same

DOCKER_BIN=/usr/bin/docker
DOCKER_TIMEOUT=120
DK_IMG=crunpp-busybox:latest

require_docker() {
    [ -x "$DOCKER_BIN" ] || skip "Debian's docker.io is not installed (contrib/test.sh installs it)"
    command -v dockerd >/dev/null 2>&1 || skip "dockerd is not installed (docker.io)"
    command -v runc >/dev/null 2>&1 || skip "runc is not installed (compared with it)"
}

_dk_alive() {
    local s
    s="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

dk() {
    timeout "$DOCKER_TIMEOUT" env DOCKER_CONFIG="$DK_DIR/cli" DOCKER_HOST="unix://$DK_DIR/docker.sock" \
        "$DOCKER_BIN" "$@"
}

# `exec` keeps timeout the pty session's leader (see podman_helpers' _in_pty).
dk_tty() {
    local cmd
    printf -v cmd '%q ' env DOCKER_CONFIG="$DK_DIR/cli" DOCKER_HOST="unix://$DK_DIR/docker.sock" \
        "$DOCKER_BIN" "$@"
    SHELL=/bin/sh timeout "$DOCKER_TIMEOUT" script -qec "exec $cmd" /dev/null </dev/null
}

in_dk_net() {
    nsenter --net="/proc/$DK_PID/ns/net" -- "$@"
}

_dk_write_config() {
    local default="$1"
    # runc is built in (the runc on $PATH); crunpp is registered by path.
    jq -n --arg crunpp "$CRUNPP" --arg default "$default" --arg parent "/$DK_CGROUP" '{
        "runtimes": {"crunpp": {"path": $crunpp}},
        "default-runtime": $default,
        "storage-driver": "overlay2",
        "cgroup-parent": $parent,
        "exec-opts": ["native.cgroupdriver=cgroupfs"],
        "ip-forward": false,
        "iptables": true,
        "ip-masq": false,
        "ipv6": false,
        "userland-proxy": true,
        "bip": "10.213.0.1/24",
        "default-address-pools": [{"base": "10.214.0.0/16", "size": 24}],
        "log-driver": "json-file",
        "features": {"buildkit": false},
        "live-restore": false
    }' >"$DK_DIR/daemon.json"
}

_dk_write_containerd_config() {
    cat >"$DK_DIR/containerd.toml" <<EOF
version = 2
root = "$DK_DIR/containerd/root"
state = "$DK_DIR/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$DK_DIR/containerd.sock"
[ttrpc]
  address = "$DK_DIR/containerd.sock.ttrpc"
[debug]
  address = "$DK_DIR/containerd-debug.sock"
[metrics]
  address = ""
EOF
}

# dk_start [DEFAULT-RUNTIME]: starts the private dockerd (a second call after
# dk_stop reuses the data root, so the images stay); exports DK_*.
dk_start() {
    local default="${1:-runc}"
    if [ -z "${DK_DIR:-}" ]; then
        # Short: unix socket paths are limited to 107 bytes.
        DK_DIR="$(mktemp -d /tmp/crunpp-dk.XXXXXX)"
        # "crunpp" in the name: contrib/test.sh's leak check sees it if left.
        DK_CGROUP="crunpp-dk-$$-$RANDOM"
        mkdir -p "$DK_DIR/cli" "$DK_DIR/data" "$DK_DIR/exec"
        echo "$DK_CGROUP" >"$DK_DIR/cgroup-parent"
    fi
    # Where a file's teardown finds the daemon, even when this start fails.
    [ -z "${BATS_FILE_TMPDIR:-}" ] || echo "$DK_DIR" >"$BATS_FILE_TMPDIR/dk-dir"
    export DK_DIR DK_CGROUP DK_IMG
    _dk_write_config "$default"
    _dk_write_containerd_config
    # containerd is a service of its own, started as under nohup (SIGHUP
    # ignored, which its children inherit unless reset), and dockerd uses it
    # (--containerd). No bats fd (3) in the daemons, or bats waits for them.
    unshare -m -n --propagation private sh -c '
        mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
        ip link set lo up || exit 1
        # This namespace'"'"'s own forwarding (Docker warns on every run without
        # it); "ip-forward": false keeps dockerd from changing it anywhere.
        echo 1 >/proc/sys/net/ipv4/ip_forward || exit 1
        d="$1"
        (trap "" HUP && exec containerd --config "$d/containerd.toml" >>"$d/containerd.log" 2>&1) &
        echo $! >"$d/containerd.pid"
        i=0
        while [ ! -S "$d/containerd.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        exec dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$d/exec" \
            --pidfile "$d/docker.pid" -H "unix://$d/docker.sock" --containerd "$d/containerd.sock" \
            --containerd-namespace crunpp-dk --containerd-plugins-namespace crunpp-dk-plugins' \
        sh "$DK_DIR" </dev/null >>"$DK_DIR/dockerd.log" 2>&1 3>&- &
    DK_PID=$!
    export DK_PID
    local i
    for ((i = 0; i < 300; i++)); do
        _dk_alive "$DK_PID" || break
        dk version >/dev/null 2>&1 && break
        sleep 0.1
    done
    if ! dk version >/dev/null 2>&1; then
        echo "dockerd did not start; its log:" >&2
        tail -n 30 "$DK_DIR/dockerd.log" >&2
        dk_stop keep
        return 1
    fi
    readlink "/proc/$DK_PID/ns/mnt" >"$DK_DIR/mntns"
    if ! dk image inspect "$DK_IMG" >/dev/null 2>&1; then
        tar -C "$ROOTFS_CACHE" -c . | dk import -c 'CMD ["/bin/sh"]' - "$DK_IMG" >/dev/null || return 1
    fi
}

dk_rm_all() {
    local ids
    ids="$(dk ps -aq 2>/dev/null)"
    # shellcheck disable=SC2086 # one id per word
    [ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1
    return 0
}

# Stops dockerd by its pid (TERM, 30 s, KILL), kills any process left in its
# mount namespace, removes the cgroup parent; with "keep" the data root stays
# (for a dk_start with another configuration).
dk_stop() {
    [ -n "${DK_DIR:-}" ] || return 0
    if [ -n "${DK_PID:-}" ]; then
        dk_rm_all
        local i ns p
        ns="$(cat "$DK_DIR/mntns" 2>/dev/null)"
        kill -TERM "$DK_PID" 2>/dev/null
        for ((i = 0; i < 300; i++)); do
            _dk_alive "$DK_PID" || break
            sleep 0.1
        done
        _dk_alive "$DK_PID" && kill -KILL "$DK_PID" 2>/dev/null
        # Not a child when started by setup_file: then wait says 127.
        wait "$DK_PID" 2>/dev/null || true
        _dk_stop_containerd
        if [ -n "$ns" ]; then
            for p in /proc/[0-9]*; do
                [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
                echo "docker_helpers: killing ${p#/proc/} ($(cat "$p/comm" 2>/dev/null)) left in dockerd's namespace" >&2
                kill -KILL "${p#/proc/}" 2>/dev/null
            done
        fi
        DK_PID=
    fi
    local d
    [ -n "${DK_CGROUP:-}" ] || { echo "docker_helpers: no cgroup parent name" >&2; return 1; }
    for d in /sys/fs/cgroup/*/"$DK_CGROUP" /sys/fs/cgroup/"$DK_CGROUP"; do
        [ -d "$d" ] || continue
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$d" ] && echo "docker_helpers: cannot remove cgroup $d" >&2
    done
    if grep -F " $DK_DIR" /proc/self/mountinfo >&2; then
        echo "docker_helpers: mounts left under $DK_DIR" >&2
        return 1
    fi
    [ "${1:-}" = keep ] && return 0
    rm -rf --one-file-system "$DK_DIR"
    DK_DIR=
}

_dk_stop_containerd() {
    local pid i
    pid="$(cat "$DK_DIR/containerd.pid" 2>/dev/null)"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        _dk_alive "$pid" || break
        sleep 0.1
    done
    _dk_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    rm -f "$DK_DIR/containerd.pid"
}

dk_pid() {
    dk inspect --format '{{.State.Pid}}' "$1"
}

# dk_cgroup_file NAME CONTROLLER FILE: the path of FILE in the container's
# cgroup v1 CONTROLLER directory on the host.
dk_cgroup_file() {
    local id
    id="$(dk inspect --format '{{.Id}}' "$1")" || return 1
    echo "/sys/fs/cgroup/$2/$DK_CGROUP/$id/$3"
}

dk_wait_log() {
    local name="$1" line="$2" i
    for i in $(seq 100); do
        dk logs "$name" 2>/dev/null | grep -qx "$line" && return 0
        sleep 0.1
    done
    echo "dk_wait_log: no line \"$line\" in the log of $name" >&2
    dk logs "$name" >&2
    return 1
}

# Docker's own differences from podman in what a container sees are none of
# crunpp's business: the probe compares runc and crunpp under the same docker.
dk_probe_diff() {
    local base rt
    base="$BATS_TEST_TMPDIR/probe"
    for rt in runc crunpp; do
        dk run --rm --runtime "$rt" "$@" "$DK_IMG" sh -c "$PROBE" >"$base.$rt" 2>"$base.$rt.err" || {
            echo "$rt run failed:" >&2
            cat "$base.$rt" "$base.$rt.err" >&2
            return 1
        }
    done
    grep -q '^CapEff:' "$base.crunpp" && grep -q ' proc ' "$base.crunpp" || {
        echo "probe output incomplete:" >&2
        cat "$base.crunpp" >&2
        return 1
    }
    # The rootfs's overlay layers differ from container to container.
    diff -u <(_dk_probe_normalise <"$base.runc") <(_dk_probe_normalise <"$base.crunpp")
}

_dk_probe_normalise() {
    _probe_normalise | sed -E 's|^/ (.*) overlay rw,lowerdir=.*|/ \1 overlay (layers)|'
}

# In a file's teardown: the daemon its setup_file started (or tried to).
dk_reattach() {
    DK_DIR="$(cat "$BATS_FILE_TMPDIR/dk-dir")"
    DK_CGROUP="$(cat "$DK_DIR/cgroup-parent" 2>/dev/null)"
    DK_PID="$(cat "$DK_DIR/docker.pid" 2>/dev/null)"
}
