#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# man/crunpp.1 renders cleanly and documents every command and option the
# binary has.

load helpers
bats_require_minimum_version 1.5.0

MAN_PAGE="$REPO_ROOT/man/crunpp.1"

listed_commands() {
    "$CRUNPP" --help | sed -n '/^Commands:/,/^$/{/^  [a-z]/{s/^  \([a-z-]*\).*/\1/;p}}'
}

# The long options a --help text lists, one per line, without --help.
long_options() {
    sed -n 's/^  \(-[a-zA-Z], \|    \)--\([a-z0-9-]*\).*/\2/p' | grep -vx help || true
}

# An ERE matching the roff spelling of --OPT (\-\-pid\-file), not of a
# longer option starting the same way.
roff_option_re() {
    local roff="\\-\\-${1//-/\\-}"
    printf '%s([^a-z0-9\\\\]|$)' "${roff//\\/\\\\}"
}

# The roff source of one command's subsection (.SS NAME up to the next .SS/.SH).
man_section() {
    awk -v name="$1" '
        /^\.S[SH] / { inside = ($0 == ".SS " name) }
        inside { print }
    ' "$MAN_PAGE"
}

@test "the man page renders without groff warnings" {
    command -v groff >/dev/null || skip "groff is not installed"
    run --separate-stderr groff -man -Tutf8 -ww -P-cbou "$MAN_PAGE"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ] || { echo "$stderr"; false; }
    [[ "$output" == *"SYNOPSIS"* ]]
    [[ "$output" == *"crunpp - run containers from OCI bundles"* ]]
}

@test "man -l shows the page without warnings" {
    command -v man >/dev/null || skip "man is not installed"
    run --separate-stderr env MANWIDTH=80 man --warnings -l "$MAN_PAGE"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ] || { echo "$stderr"; false; }
}

@test "the man page has the required sections" {
    local s
    for s in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" COMMANDS "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"; do
        grep -qx "\.SH \"\?$s\"\?" "$MAN_PAGE" || { echo "missing section $s"; false; }
    done
}

@test "the man page documents every global option" {
    local opt
    for opt in $("$CRUNPP" --help | sed -n '/^Global options:/,$p' | long_options); do
        grep -Eq -- "$(roff_option_re "$opt")" "$MAN_PAGE" || { echo "undocumented global option --$opt"; false; }
    done
}

@test "the man page documents every command and its options" {
    local c opt section n=0
    for c in $(listed_commands); do
        section="$(man_section "$c")"
        [ -n "$section" ] || { echo "no .SS $c in the man page"; false; }
        for opt in $("$CRUNPP" "$c" --help | long_options); do
            grep -Eq -- "$(roff_option_re "$opt")" <<<"$section" ||
                { echo "man page: $c does not document --$opt"; false; }
        done
        n=$((n + 1))
    done
    [ "$n" -ge 4 ]
}

@test "meson installs the man page" {
    grep -q "install_man('man/crunpp.1')" "$REPO_ROOT/meson.build"
}
