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
