#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# crunpp spec: the default config.json, rootful and rootless.

load helpers
load schema

validate_config() {
    validate_schema config-schema.json "$1"
}

# A fresh empty directory for one test.
new_dir() {
    mktemp -d "$BATS_TEST_TMPDIR/spec.XXXXXX"
}

# Lets the test user reach DIR: o+x on every directory above it that we own.
reachable_by_others() {
    local d
    d="$(dirname "$1")"
    while [ "$d" != / ]; do
        [ -O "$d" ] && chmod o+x "$d"
        d="$(dirname "$d")"
    done
}

@test "spec writes a config.json valid against the runtime-spec schema" {
    dir="$(new_dir)"
    cd "$dir"
    run "$CRUNPP" spec
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ -f config.json ]
    [ "$(jq -r .ociVersion config.json)" = 1.3.0 ]
    [ "$(jq -c .process.args config.json)" = '["sh"]' ]
    [ "$(jq -r .process.terminal config.json)" = true ]
    [ "$(jq -r .root.path config.json)" = rootfs ]
    [ "$(jq -c '[.linux.namespaces[].type] - ["cgroup"]' config.json)" = '["pid","network","ipc","uts","mount"]' ]
    [ "$(jq -c '.process.capabilities.bounding' config.json)" = '["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]' ]
    [ "$(jq -r '.linux.maskedPaths | index("/proc/kcore") != null' config.json)" = true ]
    [ "$(jq -r '.linux.readonlyPaths | index("/proc/sys") != null' config.json)" = true ]
    [ "$(jq -c '[.mounts[].destination]' config.json)" = '["/proc","/dev","/dev/pts","/dev/shm","/dev/mqueue","/sys","/sys/fs/cgroup"]' ]
    # Pretty-printed with tabs, ending with a newline, as runc writes it.
    [ "$(sed -n 2p config.json)" = "$(printf '\t"ociVersion": "1.3.0",')" ]
    [ "$(tail -c 1 config.json | od -An -c | tr -d ' ')" = '\n' ]
    validate_config config.json
}

@test "spec has the content of runc spec" {
    command -v runc >/dev/null || skip "runc is not installed"
    dir="$(new_dir)"
    mkdir "$dir/runc" "$dir/crunpp"
    (cd "$dir/runc" && runc spec)
    (cd "$dir/crunpp" && "$CRUNPP" spec)
    # Our own ociVersion and hostname; newer runc than Debian 12's dropped
    # the ambient set and masks /sys/devices/virtual/tpm: follow the newer.
    normalize='.ociVersion = "X" | .hostname = "X" | del(.process.capabilities.ambient)
        | .linux.maskedPaths -= ["/sys/devices/virtual/tpm"]
        | .linux.namespaces -= [{"type": "cgroup"}]'
    diff <(jq -S "$normalize" "$dir/runc/config.json") <(jq -S "$normalize" "$dir/crunpp/config.json")
}

@test "spec --rootless has the content of runc spec --rootless" {
    command -v runc >/dev/null || skip "runc is not installed"
    dir="$(new_dir)"
    mkdir "$dir/runc" "$dir/crunpp"
    (cd "$dir/runc" && runc spec --rootless)
    (cd "$dir/crunpp" && "$CRUNPP" spec --rootless)
    normalize='.ociVersion = "X" | .hostname = "X" | del(.process.capabilities.ambient)
        | .linux.maskedPaths -= ["/sys/devices/virtual/tpm"]
        | .linux.namespaces -= [{"type": "cgroup"}]'
    diff <(jq -S "$normalize" "$dir/runc/config.json") <(jq -S "$normalize" "$dir/crunpp/config.json")
}

@test "spec adds a cgroup namespace only on a cgroup v2 host, as runc does" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to mount cgroup2 in a private mount namespace"
    dir="$(new_dir)"
    mkdir "$dir/r" "$dir/v2" "$dir/v2r"
    "$CRUNPP" spec -b "$dir"
    "$CRUNPP" spec --rootless -b "$dir/r"
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        [ "$(jq -r '[.linux.namespaces[].type] | index("cgroup") != null' "$dir/config.json")" = true ]
    else
        [ "$(jq -r '[.linux.namespaces[].type] | index("cgroup")' "$dir/config.json")" = null ]
        [ "$(jq -r '[.linux.namespaces[].type] | index("cgroup")' "$dir/r/config.json")" = null ]
    fi
    # A unified hierarchy on /sys/fs/cgroup, seen only by this private
    # mount namespace.
    unshare -m --propagation private sh -c \
        'mount -t cgroup2 none /sys/fs/cgroup && "$1" spec -b "$2/v2" && "$1" spec --rootless -b "$2/v2r"' \
        sh "$CRUNPP" "$dir"
    [ "$(jq -c '[.linux.namespaces[].type]' "$dir/v2/config.json")" = '["pid","network","ipc","uts","mount","cgroup"]' ]
    [ "$(jq -c '[.linux.namespaces[].type]' "$dir/v2r/config.json")" = '["pid","ipc","uts","mount","cgroup","user"]' ]
}

@test "spec --rootless maps the caller to root in a user namespace and drops what needs root" {
    dir="$(new_dir)"
    run "$CRUNPP" spec --rootless --bundle "$dir"
    [ "$status" -eq 0 ]
    c="$dir/config.json"
    [ "$(jq -c '.linux.uidMappings' "$c")" = "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" ]
    [ "$(jq -c '.linux.gidMappings' "$c")" = "[{\"containerID\":0,\"hostID\":$(id -g),\"size\":1}]" ]
    [ "$(jq -r '[.linux.namespaces[].type] | last' "$c")" = user ]
    [ "$(jq -r '[.linux.namespaces[].type] | index("network")' "$c")" = null ]
    [ "$(jq -r '.linux.resources' "$c")" = null ]
    [ "$(jq -c '.mounts[] | select(.destination == "/sys") | [.type, .source, .options[0]]' "$c")" = '["none","/sys","rbind"]' ]
    [ "$(jq -r '[.mounts[].options // [] | .[] | select(startswith("gid=") or startswith("uid="))] | length' "$c")" = 0 ]
    validate_config "$dir/config.json"
}

@test "spec --rootless as an unprivileged user maps that user's ids" {
    require_rootless_user
    dir="$(new_dir)"
    chown "$(rootless_uid):$(rootless_gid)" "$dir"
    reachable_by_others "$dir"
    run as_rootless sh -c 'cd "$1" && "$CRUNPP" spec --rootless' sh "$dir"
    [ "$status" -eq 0 ]
    [ "$(stat -c %u "$dir/config.json")" = "$(rootless_uid)" ]
    [ "$(jq -r '.linux.uidMappings[0].hostID' "$dir/config.json")" = "$(rootless_uid)" ]
    [ "$(jq -r '.linux.gidMappings[0].hostID' "$dir/config.json")" = "$(rootless_gid)" ]
    validate_config "$dir/config.json"
}

@test "spec refuses to overwrite an existing config.json" {
    dir="$(new_dir)"
    echo '{"mine": true}' >"$dir/config.json"
    run "$CRUNPP" spec --bundle "$dir"
    [ "$status" -eq 1 ]
    [[ "$output" == *"config.json already exists; remove it first"* ]]
    [ "$(cat "$dir/config.json")" = '{"mine": true}' ]
}

@test "spec does not follow a config.json symlink out of the bundle" {
    dir="$(new_dir)"
    mkdir "$dir/bundle"
    ln -s ../outside.json "$dir/bundle/config.json"
    run "$CRUNPP" spec --bundle "$dir/bundle"
    [ "$status" -eq 1 ]
    [[ "$output" == *"already exists"* ]]
    [ ! -e "$dir/outside.json" ]
}

@test "spec --bundle, -b and --bundle= write into another directory" {
    dir="$(new_dir)"
    mkdir "$dir/a" "$dir/b" "$dir/c" "$dir/cwd"
    cd "$dir/cwd"
    "$CRUNPP" spec --bundle "$dir/a"
    "$CRUNPP" spec -b ../b
    "$CRUNPP" spec --bundle="$dir/c"
    [ ! -e "$dir/cwd/config.json" ]
    for d in a b c; do
        validate_config "$dir/$d/config.json"
    done
}

@test "spec creates config.json with mode 0666 minus the umask" {
    dir="$(new_dir)"
    (umask 022 && "$CRUNPP" spec -b "$dir")
    [ "$(stat -c %a "$dir/config.json")" = 644 ]
    rm "$dir/config.json"
    (umask 077 && "$CRUNPP" spec -b "$dir")
    [ "$(stat -c %a "$dir/config.json")" = 600 ]
}

@test "spec with a bundle that is missing or not a directory is a clear error" {
    dir="$(new_dir)"
    run "$CRUNPP" spec --bundle "$dir/missing"
    [ "$status" -eq 1 ]
    [ "$output" = "crunpp: spec: bundle directory \"$dir/missing\": No such file or directory" ]
    [ ! -e "$dir/missing" ]
    touch "$dir/file"
    run "$CRUNPP" spec -b "$dir/file"
    [ "$status" -eq 1 ]
    [ "$output" = "crunpp: spec: bundle directory \"$dir/file\": Not a directory" ]
}

@test "spec in a directory the user cannot write is a clear error" {
    require_rootless_user
    dir="$(new_dir)"
    chmod 0755 "$dir"
    reachable_by_others "$dir"
    run as_rootless "$CRUNPP" spec --rootless --bundle "$dir"
    [ "$status" -eq 1 ]
    [ "$output" = "crunpp: spec: create $dir/config.json: Permission denied" ]
    [ ! -e "$dir/config.json" ]
}

@test "spec rejects arguments and unknown options" {
    dir="$(new_dir)"
    cd "$dir"
    run "$CRUNPP" spec extra
    [ "$status" -eq 1 ]
    [[ "$output" == *"spec: too many arguments"* ]]
    run "$CRUNPP" spec --bogus
    [ "$status" -eq 1 ]
    [[ "$output" == *"spec: unknown option --bogus"* ]]
    run "$CRUNPP" spec --bundle
    [ "$status" -eq 1 ]
    [[ "$output" == *"flag needs an argument: --bundle"* ]]
    [ ! -e config.json ]
}

@test "spec --help describes its options" {
    run "$CRUNPP" spec --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--bundle"* ]]
    [[ "$output" == *"--rootless"* ]]
}
