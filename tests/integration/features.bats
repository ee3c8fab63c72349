#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# crunpp features: the OCI features document.

load helpers
load schema

features_file() {
    local f="$BATS_TEST_TMPDIR/features.json"
    "$CRUNPP" features >"$f"
    echo "$f"
}

@test "features is valid against the features schema" {
    run "$CRUNPP" features
    [ "$status" -eq 0 ]
    validate_schema features-schema.json "$(features_file)"
}

@test "the schema check catches an invalid features document" {
    # The validator itself must be able to fail.
    require_schema features-schema.json
    bad="$BATS_TEST_TMPDIR/bad.json"
    jq 'del(.ociVersionMax)' "$(features_file)" >"$bad"
    run validate_schema features-schema.json "$bad"
    [ "$status" -eq 1 ]
    [[ "$output" == *"'ociVersionMax' is a required property"* ]]
}

@test "features states the OCI versions crunpp implements" {
    f="$(features_file)"
    [ "$(jq -r .ociVersionMin "$f")" = 1.0.0 ]
    [ "$(jq -r .ociVersionMax "$f")" = "$("$CRUNPP" --version | sed -n 's/^spec: //p')" ]
}

@test "features lists all eight namespaces" {
    f="$(features_file)"
    [ "$(jq -c '.linux.namespaces | sort' "$f")" = '["cgroup","ipc","mount","network","pid","time","user","uts"]' ]
}

@test "features lists libcap's capabilities by their CAP_ names" {
    f="$(features_file)"
    [ "$(jq -r '.linux.capabilities[0]' "$f")" = CAP_CHOWN ]
    [ "$(jq -r '.linux.capabilities | index("CAP_SYS_ADMIN") != null' "$f")" = true ]
    [ "$(jq -r '[.linux.capabilities[] | select(test("^CAP_[A-Z_]+$") | not)] | length' "$f")" = 0 ]
}

@test "features lists mount options and no filesystem data" {
    f="$(features_file)"
    for o in bind rbind ro rro nosuid rnosuid private rslave idmap; do
        [ "$(jq -r --arg o "$o" '.mountOptions | index($o) != null' "$f")" = true ]
    done
    [ "$(jq -r '[.mountOptions[] | select(contains("="))] | length' "$f")" = 0 ]
}

@test "features does not claim what is not implemented yet" {
    f="$(features_file)"
    # cgroups (issue 5) with the systemd driver, system and user managers
    # (issue 15), built in whether or not systemd runs here.
    [ "$(jq -c .linux.cgroup "$f")" = '{"v1":true,"v2":true,"systemd":true,"systemdUser":true,"rdma":true}' ]
    [ "$(jq -c .linux.intelRdt "$f")" = '{"enabled":false}' ]
}

@test "features enables netDevices" {
    f="$(features_file)"
    [ "$(jq -c .linux.netDevices "$f")" = '{"enabled":true}' ]
}

@test "features lists the six hook phases" {
    f="$(features_file)"
    [ "$(jq -c .hooks "$f")" = '["prestart","createRuntime","createContainer","startContainer","poststart","poststop"]' ]
}

@test "features lists the annotations that change the runtime's behaviour as potentially unsafe" {
    f="$(features_file)"
    [ "$(jq -c .potentiallyUnsafeConfigAnnotations "$f")" = '["org.systemd.property.","run.oci."]' ]
    # Every annotation crunpp honours is under one of the prefixes.
    local a
    for a in $(jq -r '.annotations | to_entries[] | select(.value == "supported") | .key' "$f"); do
        jq -e --arg a "$a" 'any(.potentiallyUnsafeConfigAnnotations[]; . as $p | $a | startswith($p))' "$f" >/dev/null
    done
    [ "$(jq '[.annotations[] | select(. == "supported")] | length' "$f")" -ge 4 ]
}

@test "features rejects arguments" {
    run "$CRUNPP" features extra
    [ "$status" -eq 1 ]
    [[ "$output" == *"features: too many arguments"* ]]
}
