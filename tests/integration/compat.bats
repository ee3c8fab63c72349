#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Configs that runc and crun run (issue 13): each test is a bundle as other
# tools write it, checked from inside the container, rootful and rootless
# where it applies.

load helpers
bats_require_minimum_version 1.5.0

B=""

setup() {
    crunpp_setup
    B="$BATS_TEST_TMPDIR/bundle"
}

teardown() {
    crunpp_teardown
}

# The optional fields of the mountinfo line of "/" in the container.
root_propagation_cmd='awk '"'"'$5 == "/" {for (i = 7; $i != "-"; i++) printf "%s ", $i; print ""}'"'"' /proc/self/mountinfo'

@test "compat: rootfsPropagation unbindable and runbindable, as root" {
    require_root
    local p
    for p in unbindable runbindable; do
        rm -rf "$B"
        make_bundle "$B" /bin/sh -c "$root_propagation_cmd"
        set_config "$B" ".linux.rootfsPropagation = \"$p\""
        run -0 crunpp run -b "$B" "c13-unbind-$p"
        [[ "$output" == *unbindable* ]]
    done
}

@test "compat: rootfsPropagation unbindable, rootless" {
    make_rootless_bundle "$B" /bin/sh -c "$root_propagation_cmd"
    set_config "$B" '.linux.rootfsPropagation = "unbindable"'
    run -0 crunpp_rootless run -b "$B" c13-unbind-rl
    [[ "$output" == *unbindable* ]]
}
