#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The seed's example end to end (../shared/seeds/container-primer.txt): its
# Express backend, plus GET /db that inserts a row through pg and returns the
# row count, and its docker-compose.yml with a PostgreSQL 15 image built
# locally (tests/integration/seed-app/). docker-compose up, curl / and /db,
# down (the volume stays), up again: the count survived. On Docker with
# "default-runtime": "crunpp" (a compose file of version 3 names no runtime),
# then with podman-compose on podman with crunpp, rootful and rootless.

load helpers
load podman_helpers
load docker_helpers
load seed_helpers
bats_require_minimum_version 1.5.0

SEED_PROJECT=crunppseed

setup_file() {
    [ "$(id -u)" -eq 0 ] || return 0
    [ -x "$DOCKER_BIN" ] && command -v dockerd >/dev/null 2>&1 || return 0
    command -v debootstrap >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 0
    seed_prepare
    dk_start crunpp
    dk import "$SEED_BASE_TAR" "crunpp-seed-base:$SEED_KEY" >/dev/null
}

teardown_file() {
    pc_stop
    [ -f "$BATS_FILE_TMPDIR/dk-dir" ] || return 0
    dk_reattach
    dk_stop
}

setup() {
    crunpp_setup
    require_root
    require_docker
    command -v docker-compose >/dev/null 2>&1 || skip "docker-compose is not installed (contrib/test.sh installs it)"
    command -v debootstrap >/dev/null 2>&1 || skip "debootstrap is not installed (contrib/test.sh installs it)"
    command -v npm >/dev/null 2>&1 || skip "npm is not installed (it installs the app's modules on the host)"
    [ -n "${DK_PID:-}" ] || skip "dockerd did not start in setup_file"
    DK_PID="$(cat "$DK_DIR/docker.pid")"
}

teardown() {
    dk_rm_all
    pc_stop
    crunpp_teardown
}

# dc ARGS...: docker-compose on the private daemon, in the app's directory.
dc() {
    (cd "$BATS_TEST_TMPDIR/app" && timeout 600 env DOCKER_HOST="unix://$DK_DIR/docker.sock" \
        DOCKER_CONFIG="$DK_DIR/cli" SEED_BASE="crunpp-seed-base:$SEED_KEY" \
        docker-compose --no-ansi -p "$SEED_PROJECT" "$@")
}

# http_get NETNS-RUNNER PATH: the body of a 200 answer of the backend's PATH
# on 127.0.0.1:3000, polled for at most 60 s (postgres makes its cluster,
# the backend connects when asked).
http_get() {
    local runner="$1" path="$2" i body
    for ((i = 0; i < 300; i++)); do
        body="$("$runner" curl -sf --max-time 5 "http://127.0.0.1:3000$path")" && {
            echo "$body"
            return 0
        }
        sleep 0.2
    done
    echo "http_get: no 200 answer on $path; last try:" >&2
    "$runner" curl -s --max-time 5 "http://127.0.0.1:3000$path" >&2
    return 1
}

@test "docker-compose: the seed's Express + PostgreSQL app on crunpp; the row count survives down/up" {
    seed_app "$BATS_TEST_TMPDIR/app"
    run -0 dc up -d --build
    run -0 http_get in_dk_net /
    [ "$output" = '{"message":"Hello from a containerized backend!"}' ]
    run -0 http_get in_dk_net /db
    [ "$output" = '{"count":1}' ]
    run -0 http_get in_dk_net /db
    [ "$output" = '{"count":2}' ]
    # Both services ran on crunpp (the default runtime), as crunpp's state says.
    local c
    for c in "${SEED_PROJECT}_backend_1" "${SEED_PROJECT}_db_1"; do
        run -0 dk inspect --format '{{.HostConfig.Runtime}} {{.State.Running}}' "$c"
        [ "$output" = "crunpp true" ]
    done
    run -0 dc down
    run -0 dk ps -aq
    [ -z "$output" ]
    run -0 dk volume ls -q
    [[ "$output" == *"${SEED_PROJECT}_postgres-data"* ]]
    run -0 dc up -d
    run -0 http_get in_dk_net /db
    [ "$output" = '{"count":3}' ]
    run -0 dc down -v
    run -0 dk volume ls -q
    [[ "$output" != *"${SEED_PROJECT}_postgres-data"* ]]
}

# ---- podman-compose on podman with crunpp ----
#
# podman has no daemon: its containers (conmon, aardvark-dns, the network's
# bridge) live where podman-compose ran. Each podman-compose call joins a
# holder process's private mount and network namespaces (tmpfs over /run and
# /var/lib, where podman keeps its locks, netns files and blob-info cache),
# so the network, its iptables rules and the overlay mounts never reach the
# host; the teardown kills what is left in them. Storage, run root, networks
# and events are under $PC_DIR; the runtime is crunpp.

# pc_start ROOTLESS(0|1): the holder and the configuration; sets PC_DIR,
# PC_HOLDER. Rootless, podman runs as the test user with HOME and the XDG
# directories in $PC_DIR: nothing of the user's own podman is used.
pc_start() {
    local rootless="$1" uid=0 gid=0
    PC_DIR="$(mktemp -d /tmp/crunpp-pc.XXXXXX)"
    echo "$PC_DIR" >>"$BATS_FILE_TMPDIR/pc-dirs"
    chmod 0755 "$PC_DIR"
    echo "$rootless" >"$PC_DIR/rootless"
    if [ "$rootless" = 1 ]; then
        uid="$(rootless_uid)"
        gid="$(rootless_gid)"
        chown -R "$uid:$gid" "$BATS_TEST_TMPDIR/app"
        _open_path "$BATS_TEST_TMPDIR/app"
    fi
    install -d -m 0700 -o "$uid" -g "$gid" "$PC_DIR/home" "$PC_DIR/tmp" "$PC_DIR/networks" "$PC_DIR/xdg"
    cat >"$PC_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[network]
network_backend = "netavark"
network_config_dir = "$PC_DIR/networks"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PC_DIR/tmp/events.log"
tmp_dir = "$PC_DIR/tmp"
runtime = "crunpp"
[engine.runtimes]
crunpp = ["$CRUNPP"]
CONF
    cat >"$PC_DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$PC_DIR/home/storage"
runroot = "$PC_DIR/tmp/run"
CONF
    chmod 0644 "$PC_DIR/containers.conf" "$PC_DIR/storage.conf"
    unshare -m -n --propagation private sh -c '
        mount -t tmpfs -o mode=0755 tmpfs /run && mount -t tmpfs -o mode=0755 tmpfs /var/lib &&
            ip link set lo up && echo 1 >/proc/sys/net/ipv4/ip_forward && exec sleep 100000' \
        </dev/null >/dev/null 2>&1 3>&- &
    PC_HOLDER=$!
    echo "$PC_HOLDER" >"$PC_DIR/holder.pid"
    export PC_DIR PC_HOLDER
}

# in_pc_net CMD...: CMD in the holder's network namespace.
in_pc_net() {
    nsenter -t "$PC_HOLDER" -n -- "$@"
}

# pc_run COMMAND ARGS...: COMMAND (podman, podman-compose) in the holder's
# namespaces, in the app's directory, with the private configuration, as
# root or as the test user.
pc_run() {
    local user=()
    if [ "$(cat "$PC_DIR/rootless")" = 1 ]; then
        user=(setpriv --reuid="$(rootless_uid)" --regid="$(rootless_gid)" --init-groups
            env -i USER="$ROOTLESS_USER" LOGNAME="$ROOTLESS_USER" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin)
    fi
    nsenter -t "$PC_HOLDER" -m -n -- "${user[@]}" env -C "$BATS_TEST_TMPDIR/app" HOME="$PC_DIR/home" \
        XDG_RUNTIME_DIR="$PC_DIR/xdg" XDG_DATA_HOME="$PC_DIR/home/data" XDG_CONFIG_HOME="$PC_DIR/home/config" \
        CONTAINERS_CONF="$PC_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$PC_DIR/storage.conf" \
        SEED_BASE="localhost/crunpp-seed-base:$SEED_KEY" timeout 600 "$@"
}

# Removes the containers, then kills what is left in the holder's mount or
# network namespace (rootless: podman's pause process, slirp4netns), then
# the holder.
pc_stop() {
    local dir pid p mnt net
    [ -f "$BATS_FILE_TMPDIR/pc-dirs" ] || return 0
    while read -r dir; do
        [ -d "$dir" ] || continue
        pid="$(cat "$dir/holder.pid" 2>/dev/null)"
        if [ -n "$pid" ] && [ -e "/proc/$pid" ]; then
            PC_DIR="$dir" PC_HOLDER="$pid" pc_run podman rm -af -t 0 >/dev/null 2>&1
            mnt="$(readlink "/proc/$pid/ns/mnt")"
            net="$(readlink "/proc/$pid/ns/net")"
            for p in /proc/[0-9]*; do
                [ "${p#/proc/}" = "$pid" ] && continue
                [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$mnt" ] ||
                    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$net" ] || continue
                kill -KILL "${p#/proc/}" 2>/dev/null
            done
            kill -KILL "$pid" 2>/dev/null
        fi
        rm -rf --one-file-system "$dir"
    done <"$BATS_FILE_TMPDIR/pc-dirs"
    rm -f "$BATS_FILE_TMPDIR/pc-dirs"
}

# The seed app under podman-compose: up, /, /db, the containers on crunpp,
# down, up again, the count kept.
_pc_seed() {
    seed_app "$BATS_TEST_TMPDIR/app"
    pc_start "$1"
    run -0 pc_run podman import "$SEED_BASE_TAR" "localhost/crunpp-seed-base:$SEED_KEY"
    run -0 pc_run podman-compose -p "$SEED_PROJECT" up -d
    # podman-compose exits 0 when a podman command it runs fails: its
    # output is the only account of a build or create that went wrong.
    local up_output="$output"
    run -0 http_get in_pc_net / || {
        echo "podman-compose up -d, its last lines:" >&2
        tail -n 40 <<<"$up_output" >&2
        pc_run podman ps -a >&2
        pc_run podman logs "${SEED_PROJECT}_backend_1" >&2
        pc_run podman logs "${SEED_PROJECT}_db_1" >&2
        return 1
    }
    [ "$output" = '{"message":"Hello from a containerized backend!"}' ]
    run -0 http_get in_pc_net /db
    [ "$output" = '{"count":1}' ]
    run -0 pc_run podman inspect --format '{{.OCIRuntime}} {{.State.Running}}' "${SEED_PROJECT}_db_1" "${SEED_PROJECT}_backend_1"
    [ "$output" = $'crunpp true\ncrunpp true' ]
    run -0 pc_run podman-compose -p "$SEED_PROJECT" down
    run -0 pc_run podman ps -aq
    [ -z "$output" ]
    run -0 pc_run podman volume ls -q
    [[ "$output" == *"${SEED_PROJECT}_postgres-data"* ]]
    run -0 pc_run podman-compose -p "$SEED_PROJECT" up -d
    run -0 http_get in_pc_net /db
    [ "$output" = '{"count":2}' ]
    run -0 pc_run podman-compose -p "$SEED_PROJECT" down
}

_require_podman_compose() {
    command -v podman-compose >/dev/null 2>&1 || skip "podman-compose is not installed (contrib/test.sh installs it)"
    [ -x /usr/lib/podman/netavark ] || skip "netavark is not installed (contrib/test.sh installs it)"
}

@test "podman-compose (rootful, crunpp): the seed app; the row count survives down/up" {
    _require_podman_compose
    _pc_seed 0
}

@test "podman-compose (rootless, crunpp): the seed app; the row count survives down/up" {
    _require_podman_compose
    require_rootless_user
    command -v slirp4netns >/dev/null 2>&1 || skip "slirp4netns is not installed (contrib/test.sh installs it)"
    _pc_seed 1
}
