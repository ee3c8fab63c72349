#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The command-line frame: version, help, global options, errors, and how the
# binary is linked.

load helpers
bats_require_minimum_version 1.5.0

# The subcommands `crunpp --help` lists, one per line.
listed_commands() {
    "$CRUNPP" --help | sed -n '/^Commands:/,/^$/{/^  [a-z]/{s/^  \([a-z-]*\).*/\1/;p}}'
}

@test "--version prints the crunpp and OCI spec versions" {
    local version
    version="$(sed -n "s/^ *version : '\([^']*\)'.*/\1/p" "$REPO_ROOT/meson.build")"
    run --separate-stderr "$CRUNPP" --version
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "crunpp version $version" ]
    [ "${lines[1]}" = "spec: 1.3.0" ]
    [ -z "$stderr" ]
    run -0 "$CRUNPP" -v
    [ "${lines[0]}" = "crunpp version $version" ]
}

@test "--help lists the commands and every global option" {
    run --separate-stderr "$CRUNPP" --help
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [[ "$output" == *"Usage: crunpp [GLOBAL OPTIONS] COMMAND"* ]]
    local opt
    for opt in --root --log --log-format --debug --systemd-cgroup --cgroup-manager --rootless --version --help; do
        [[ "$output" == *"$opt "* ]] || { echo "missing $opt"; false; }
    done
    run -0 "$CRUNPP" -h
    run -0 "$CRUNPP" help
    [[ "$output" == *"Commands:"* ]]
}

@test "the foundation commands are in the command table" {
    run -0 listed_commands
    local c
    for c in spec features state list; do
        [[ " ${lines[*]} " == *" $c "* ]] || { echo "missing command $c"; false; }
    done
}

@test "every subcommand has --help, -h and 'help NAME' with the same text" {
    local c n=0
    for c in $(listed_commands); do
        run --separate-stderr "$CRUNPP" "$c" --help
        [ "$status" -eq 0 ] || { echo "$c --help: status $status"; false; }
        [ -z "$stderr" ]
        [[ "${lines[0]}" == "Usage: crunpp $c"* ]] || { echo "$c --help: ${lines[0]}"; false; }
        [[ "$output" == *"--help"* ]]
        local help="$output"
        run -0 "$CRUNPP" "$c" -h
        [ "$output" = "$help" ]
        run -0 "$CRUNPP" help "$c"
        [ "$output" = "$help" ]
        n=$((n + 1))
    done
    [ "$n" -ge 4 ]
}

@test "--help of a subcommand wins over its other arguments" {
    run -0 "$CRUNPP" --root /nonexistent/dir state no-such-id --help
    [[ "${lines[0]}" == "Usage: crunpp state"* ]]
}

@test "no command: usage on stderr and exit 1" {
    run --separate-stderr "$CRUNPP"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ "$stderr" == *"Usage: crunpp"* ]]
    [[ "$stderr" == *"crunpp: no command given" ]]
}

@test "an unknown command is an error naming it" {
    run --separate-stderr "$CRUNPP" frobnicate
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "crunpp: unknown command \"frobnicate\" (see 'crunpp --help')" ]
}

@test "an unknown global option is an error naming it" {
    run --separate-stderr "$CRUNPP" --frobnicate spec
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ "$stderr" == "crunpp: "*"unknown option --frobnicate"* ]]
}

@test "an unknown subcommand option is an error pointing at the command's help" {
    local c
    for c in $(listed_commands); do
        run --separate-stderr "$CRUNPP" "$c" --frobnicate
        [ "$status" -eq 1 ] || { echo "$c: status $status"; false; }
        [ -z "$output" ]
        [ "$stderr" = "crunpp: $c: unknown option --frobnicate (see 'crunpp $c --help')" ]
    done
}

@test "a global option without its value is an error" {
    local opt
    for opt in --root --log --log-format --rootless --cgroup-manager; do
        run --separate-stderr "$CRUNPP" "$opt"
        [ "$status" -eq 1 ] || { echo "$opt: status $status"; false; }
        [[ "$stderr" == "crunpp: "*"flag needs an argument: $opt" ]] || { echo "$opt: $stderr"; false; }
    done
}

@test "restore --lsm-mount-context without a value answers podman's probe as runc does" {
    # podman restores into a pod only when this output holds runc's words
    # (CRRuntimeSupportsPodCheckpointRestore).
    run --separate-stderr "$CRUNPP" restore --lsm-mount-context
    [ "$status" -eq 1 ]
    [ "$stderr" = "crunpp: restore: flag needs an argument: --lsm-mount-context" ]
}

@test "commands taking an ID say so when it is missing" {
    local c synopsis
    for c in $(listed_commands); do
        synopsis="$("$CRUNPP" "$c" --help | head -n1)"
        [[ "$synopsis" == *" ID"* ]] || continue
        run --separate-stderr "$CRUNPP" --root "$STATE_ROOT" "$c"
        [ "$status" -eq 1 ] || { echo "$c: status $status"; false; }
        [[ "$stderr" == "crunpp: $c: missing "* ]] || { echo "$c: $stderr"; false; }
    done
}

@test "--log-format accepts only text and json" {
    run --separate-stderr "$CRUNPP" --log-format xml --help
    [ "$status" -eq 1 ]
    [ "$stderr" = 'crunpp: invalid --log-format "xml": expected text or json' ]
    run -0 "$CRUNPP" --log-format text --version
    run -0 "$CRUNPP" --log-format=json --version
}

@test "--rootless accepts only true, false and auto" {
    run --separate-stderr "$CRUNPP" --rootless maybe --version
    [ "$status" -eq 1 ]
    [ "$stderr" = 'crunpp: invalid --rootless "maybe": expected true, false or auto' ]
    local v
    for v in true false auto; do
        run -0 "$CRUNPP" --rootless "$v" --version
        run -0 "$CRUNPP" --rootless="$v" --version
    done
}

@test "--cgroup-manager accepts only cgroupfs, systemd and disabled" {
    run --separate-stderr "$CRUNPP" --cgroup-manager lxc --version
    [ "$status" -eq 1 ]
    [ "$stderr" = 'crunpp: invalid --cgroup-manager "lxc": expected cgroupfs, systemd or disabled' ]
    local v
    for v in cgroupfs systemd disabled; do
        run -0 "$CRUNPP" --cgroup-manager "$v" --version
    done
}

@test "--log FILE --log-format json writes an error as a runc-style JSON line" {
    local log="$BATS_TEST_TMPDIR/log.json"
    run --separate-stderr "$CRUNPP" --log "$log" --log-format json frobnicate
    [ "$status" -eq 1 ]
    # The caller still sees the error on stderr, as with runc.
    [ "$stderr" = "crunpp: unknown command \"frobnicate\" (see 'crunpp --help')" ]
    [ "$(wc -l <"$log")" -eq 1 ]
    run -0 jq -r '[.level, .msg] | @tsv' "$log"
    [ "$output" = "error	unknown command \"frobnicate\" (see 'crunpp --help')" ]
    run -0 jq -r '.time' "$log"
    [[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]]
    run -0 jq -r 'keys | join(",")' "$log"
    [ "$output" = "level,msg,time" ]
}

@test "--log appends, and --log=FILE works too" {
    local log="$BATS_TEST_TMPDIR/log.json"
    run -1 "$CRUNPP" --log="$log" --log-format=json frobnicate
    run -1 "$CRUNPP" --log="$log" --log-format=json frobnicate
    [ "$(wc -l <"$log")" -eq 2 ]
    run -0 jq -s -e 'map(.level == "error") | all' "$log"
}

@test "--log FILE in text format writes the error line" {
    local log="$BATS_TEST_TMPDIR/log.txt"
    run -1 "$CRUNPP" --log "$log" frobnicate
    [ "$(cat "$log")" = "crunpp: unknown command \"frobnicate\" (see 'crunpp --help')" ]
}

@test "--log to a file that cannot be opened is an error" {
    run --separate-stderr "$CRUNPP" --log /nonexistent/dir/log frobnicate
    [ "$status" -eq 1 ]
    [[ "$stderr" == "crunpp: "*"/nonexistent/dir/log"*"No such file or directory"* ]]
}

@test "crunpp is one static PIE when the static archives exist: no dynamic loader, no library" {
    local lib
    for lib in libseccomp.a libcap.a libyajl_s.a libc.a; do
        [ -n "$(find /usr/lib /usr/lib64 /lib -name "$lib" 2>/dev/null | head -n1)" ] ||
            skip "$lib is not installed: crunpp links the shared library"
    done
    command -v readelf >/dev/null || skip "readelf (binutils) is not installed"
    run -0 readelf -h -l -d "$CRUNPP"
    # Position-independent (ASLR kept), no interpreter, nothing needed.
    [[ "$output" == *"Type:"*"DYN"* ]] || { echo "not PIE"; false; }
    [[ "$output" != *"INTERP"* ]] || { echo "has a dynamic loader"; false; }
    [[ "$output" != *"(NEEDED)"* ]] || { echo "needs libraries"; false; }
    # It runs.
    run -0 "$CRUNPP" --version
}
