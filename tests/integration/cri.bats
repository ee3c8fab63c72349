#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Kubernetes' CRI validation suite, critest 1.26.1, against containerd 1.6's
# CRI plugin with two runtime handlers in the same containerd and the same
# run: "runc" (the reference) and "crunpp" (containerd-shim-runc-v2 with
# BinaryName crunpp, as a RuntimeClass `handler: crunpp` selects it).
# crunpp passes when it has no failure and passes and skips exactly the specs
# runc does. cri_helpers.bash builds the private containerd, its CNI network
# and the images. One spec needs a real registry (an image pulled by a public
# digest) and is skipped for both. Each run must leave no pod, container,
# shim, pod network namespace, veth, mount or cgroup behind. A spec failing
# once is run again (ginkgo's flake attempts, for both handlers: runc's run
# once failed to start a container here under load); the report line counts
# those.
#
# A line "# report: ..." per handler is the lane's summary (contrib/test.sh
# prints it). About 4 minutes.

bats_require_minimum_version 1.5.0
load helpers
load containerd_helpers
load cri_helpers

CRITEST_TIMEOUT=480
CRITEST_SKIP='public image with digest should be pulled and removed'

setup_file() {
    CRI_SKIP="$(cri_skip_reason)"
    export CRI_SKIP
    [ -n "$CRI_SKIP" ] && return 0
    cri_start || {
        cri_stop
        return 1
    }
}

teardown_file() {
    [ -n "${CRI_SKIP:-}" ] && return 0
    cri_stop
}

setup() {
    [ -z "${CRI_SKIP:-}" ] || skip "$CRI_SKIP"
    crunpp_setup
}

teardown() {
    if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${CRI_DIR:-}" ]; then
        tail -n 20 "$CRI_DIR/containerd.log"
    fi
    crunpp_teardown
}

# Runs critest with HANDLER; its log in $CRI_DIR/critest-HANDLER.log, its
# counts "PASSED FAILED SKIPPED" in $CRI_DIR/critest-HANDLER.counts.
run_critest() {
    local handler="$1" log="$CRI_DIR/critest-$1.log" start=$SECONDS rc=0
    mkdir -p "$CRI_DIR/tmp-$handler"
    # critest writes the host paths of its volumes under TMPDIR; it runs in
    # containerd's namespaces as a kubelet would share the node's.
    timeout "$CRITEST_TIMEOUT" nsenter -t "$CTD_PID" -m -n -i -- env TMPDIR="$CRI_DIR/tmp-$handler" \
        "$CRITEST" --runtime-endpoint "unix://$CRI_SOCK" --image-endpoint "unix://$CRI_SOCK" \
        --runtime-handler "$handler" --runtime-service-timeout 60s \
        --ginkgo.skip "$CRITEST_SKIP" --ginkgo.flake-attempts 2 --ginkgo.no-color \
        </dev/null >"$log" 2>&1 || rc=$?
    # Ginkgo's summary: "79 Passed | 0 Failed | [1 Flaked | ]0 Pending | 6 Skipped".
    local line p=? f=? k=0 s=?
    line="$(grep -E '[0-9]+ Passed \| [0-9]+ Failed \|' "$log" | tail -n1)"
    [[ "$line" =~ ([0-9]+)\ Passed ]] && p=${BASH_REMATCH[1]}
    [[ "$line" =~ ([0-9]+)\ Failed ]] && f=${BASH_REMATCH[1]}
    [[ "$line" =~ ([0-9]+)\ Flaked ]] && k=${BASH_REMATCH[1]}
    [[ "$line" =~ ([0-9]+)\ Skipped ]] && s=${BASH_REMATCH[1]}
    echo "$p $f $s" >"$CRI_DIR/critest-$handler.counts"
    echo "# report: critest --runtime-handler $handler: $p passed, $f failed, $s skipped, $k passed on a second attempt ($((SECONDS - start))s, exit status $rc)" >&3
    # The failures with ginkgo's summary of each.
    if [ "$rc" -ne 0 ]; then
        sed -n '/^Summarizing [0-9]* Failure/,$p' "$log" | head -n 60
        [ "$rc" -eq 124 ] && echo "critest timed out after ${CRITEST_TIMEOUT}s"
    fi
    # The SysV segments of its HostIpc specs (in containerd's IPC namespace,
    # which only critest and the pods use).
    in_cri ipcrm --all=shm
    return "$rc"
}

# Nothing of the run is left: pods, containers, shims, pod network
# namespaces, veths, container mounts.
assert_cri_clean() {
    run -0 crictl pods -q
    [ -z "$output" ] || { echo "pods left: $output"; return 1; }
    run -0 crictl ps -aq
    [ -z "$output" ] || { echo "containers left: $output"; return 1; }
    local p ns left=""
    ns="$(cat "$CRI_DIR/mntns")"
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
        [[ "$(cat "$p/comm" 2>/dev/null)" == containerd-shim* ]] && left+=" ${p#/proc/}"
    done
    [ -z "$left" ] || { echo "shims left:$left"; return 1; }
    run -0 nsenter -t "$CTD_PID" -m -- sh -c 'ls -A /run/netns 2>/dev/null; true'
    [ -z "$output" ] || { echo "pod netns left: $output"; return 1; }
    run -0 in_cri ip -o link show type veth
    [ -z "$output" ] || { echo "veths left: $output"; return 1; }
    # grep's status 1: no such line.
    run -1 nsenter -t "$CTD_PID" -m -- grep -E ' /run/containerd/io.containerd.runtime.v2.task/| /run/containerd/(runc|crunpp)/' /proc/self/mountinfo
    run -0 cri_cgroups_left
    [ -z "$output" ] || { echo "cgroups left: $output"; return 1; }
}

@test "critest with the runc handler: the reference run passes" {
    run_critest runc
    assert_cri_clean
}

@test "critest with the crunpp handler: no failure, the same passes and skips as runc" {
    local rc=0
    run_critest crunpp || rc=$?
    local rp rf rs cp cf cs
    read -r rp rf rs <"$CRI_DIR/critest-runc.counts"
    read -r cp cf cs <"$CRI_DIR/critest-crunpp.counts"
    echo "runc: $rp passed, $rf failed, $rs skipped; crunpp: $cp passed, $cf failed, $cs skipped"
    [ "$rc" -eq 0 ]
    [ "$cf" = 0 ]
    [ "$cp" = "$rp" ]
    [ "$cs" = "$rs" ]
    assert_cri_clean
}
