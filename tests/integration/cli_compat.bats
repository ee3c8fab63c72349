#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Every flag spelling runc and crun accept (issue 13, item 7), read from
# their own --help, reaches crunpp's commands; and crun's extensions
# delete --regex, kill --regex, spec --file.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

# "CMD SPELLING takes-value" lines from a runtime's help texts: runc's
# "--bundle value, -b value  text", crun's "-b, --bundle=DIR  text".
flags_of() {
    local runtime="$1" cmd="$2"
    "$runtime" "$cmd" --help 2>/dev/null | sed -n '/OPTIONS:/,$p;/^ *-/p' | awk -v cmd="$cmd" '
        /^ +-/ {
            sub(/^ +/, "")
            split($0, parts, /  +/)
            n = split(parts[1], items, /, /)
            for (i = 1; i <= n; i++) {
                item = items[i]
                value = (item ~ / value$/ || item ~ /^[^[]*=/) ? 1 : 0
                sub(/[ =[].*/, "", item)
                if (item != "") print cmd, item, value
            }
        }' | sort -u
}

@test "cli compat: every flag of runc 1.1 and crun 1.8 is known to the same crunpp command" {
    command -v runc >/dev/null || skip "runc is not installed"
    command -v crun >/dev/null || skip "crun is not installed"
    local empty="$BATS_TEST_TMPDIR/empty" cmd flag value checked=0 bad=""
    mkdir -p "$empty"
    cd "$empty"
    for cmd in create run start delete kill exec update ps state list pause resume spec events; do
        while read -r cmd flag value; do
            case "$flag" in --help | -h | '-?' | --usage) continue ;; esac
            if [ "$value" = 1 ]; then
                run crunpp "$cmd" "$flag" 1 c13-nosuch
            else
                run crunpp "$cmd" "$flag" c13-nosuch
            fi
            checked=$((checked + 1))
            if [[ "$output" == *"unknown option"* ]]; then
                bad+="$cmd $flag: $output"$'\n'
            fi
        done < <(flags_of runc "$cmd"; [ "$cmd" = events ] || flags_of crun "$cmd")
    done
    [ -z "$bad" ] || { echo "$bad"; false; }
    echo "checked $checked" >&3
    [ "$checked" -gt 80 ]
}

@test "cli compat: the global options of runc and crun" {
    run -0 "$CRUNPP" --root "$STATE_ROOT" --criu /usr/sbin/criu --rootless=auto --debug list -q
    run -0 "$CRUNPP" -V
    [[ "$output" == "crunpp version "* ]]
    run -0 "$CRUNPP" -?
    [[ "$output" == *"Global options:"* ]]
    run -0 crunpp kill -?
    [[ "$output" == "Usage: crunpp kill"* ]]
    run -0 crunpp delete --usage
    [[ "$output" == "Usage: crunpp delete"* ]]
}

@test "cli compat: argp spellings (--abbrev, -bDIR) and urfave's (-bundle DIR, --flag=false)" {
    require_root
    make_bundle "$B" /bin/sh -c 'echo ran'
    run -0 crunpp run "-b$B" c13-cli1
    [ "$output" = ran ]
    run -0 crunpp run --bund "$B" c13-cli2
    [ "$output" = ran ]
    run -0 crunpp run -bundle "$B" --detach=false c13-cli3
    [ "$output" = ran ]
    # An ambiguous abbreviation is an error, not a guess.
    run -1 crunpp run --p "$B" c13-cli4
    [[ "$output" == *"unknown option --p"* ]]
}

@test "cli compat: update --cpu-share sets the CPU shares (runc's and crun's spelling)" {
    require_root
    [ -d /sys/fs/cgroup/cpu ] || skip "no cgroup v1 cpu controller"
    make_bundle "$B" sleep 100
    set_config "$B" '.linux.cgroupsPath = "/crunpp-c13/cli-shares"'
    crunpp run -d -b "$B" c13-shares >"$BATS_TEST_TMPDIR/out" 2>&1
    run -0 crunpp update --cpu-share 512 c13-shares
    [ "$(cat /sys/fs/cgroup/cpu/crunpp-c13/cli-shares/cpu.shares)" = 512 ]
    run -0 crunpp update --cpu-share=256 c13-shares
    [ "$(cat /sys/fs/cgroup/cpu/crunpp-c13/cli-shares/cpu.shares)" = 256 ]
    run -1 crunpp update --l3-cache-schema L3:0=f c13-shares
    [ "$output" = "crunpp: update: --l3-cache-schema: Intel RDT (resctrl) is not implemented by crunpp" ]
    crunpp delete -f c13-shares
    find /sys/fs/cgroup/*/crunpp-c13 -depth -type d -exec rmdir {} + 2>/dev/null || true
}

@test "cli compat: delete --regex and kill --regex act on every matching container (crun)" {
    require_root
    make_bundle "$B" sleep 100
    local id
    for id in c13-rx-a c13-rx-b c13-other; do
        crunpp run -d -b "$B" "$id" >"$BATS_TEST_TMPDIR/out" 2>&1
    done
    run -0 crunpp kill --regex 'rx-[ab]$' KILL
    for id in c13-rx-a c13-rx-b; do
        for _ in $(seq 50); do
            [ "$(crunpp state "$id" | jq -r .status)" = stopped ] && break
            sleep 0.1
        done
        [ "$(crunpp state "$id" | jq -r .status)" = stopped ]
    done
    [ "$(crunpp state c13-other | jq -r .status)" = running ]
    run -0 crunpp delete -r 'rx'
    run -0 crunpp list -q
    [ "$output" = c13-other ]
    # A running match fails without --force: a warning, and the status says so.
    run -1 crunpp delete --regex '^c13-'
    [[ "$output" == *'delete: 1 of the 1 containers matching "^c13-" failed'* ]]
    run -0 crunpp delete --regex --force '^c13-'
    run -0 crunpp list -q
    [ "$output" = "" ]
    run -1 crunpp delete --regex '('
    [[ "$output" == 'crunpp: delete: --regex "(": '* ]]
}

@test "cli compat: spec --file writes another file of the bundle (crun)" {
    mkdir -p "$B"
    run -0 crunpp spec -b "$B" --file other.json
    [ -f "$B/other.json" ]
    [ ! -e "$B/config.json" ]
    jq -e .process "$B/other.json" >/dev/null
}
