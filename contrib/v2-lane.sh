#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The pure cgroup v2 test lane: boots a Debian kernel with cgroup_no_v1=all in
# qemu (KVM when a quick probe boots, else TCG) from an initramfs holding the
# built crunpp, the integration tests and the programs they run, runs the
# suites there rootful and rootless (tests/v2lane/guest.sh), and reads the
# results from the serial console. Ends with the line
#   v2-lane: N passed, N failed, N skipped
# (exit 1 on a failure), or `v2-lane: SKIP: <reason>` (exit 0) where qemu
# cannot run at all.
#
# Environment:
#   CRUNPP            the binary to test (default: build/crunpp); the guest
#                     runs each suite under the leak-guard built next to it
#                     (tests/helpers/leak-guard) when there is one
#   V2LANE_SUITES     tests/integration suites to run, without .bats (default:
#                     cgroups, or rootless before it exists)
#   V2LANE_PASSES     "rootful rootless" (default; "rootless" before
#                     cgroups.bats) or one of them
#   V2LANE_ROOTLESS_FILTER  the bats --filter of the rootless pass (default
#                     "rootless": the tests whose name says rootless; the
#                     rootful pass runs every test, the rootless ones there
#                     without a delegated cgroup); empty: every test
#   V2LANE_TIMEOUT    seconds for the whole lane (default 300); the guest
#                     starts no suite it cannot finish in time and says so
#   V2LANE_SUITE_TIMEOUT  seconds for one suite (default 240)
#   V2LANE_ACCEL      auto (default), kvm or tcg
#   V2LANE_SMP        guest cpus (default 1: under TCG on a busy 2-core host
#                     one vcpu ran fork/exec-bound tests ~30% faster than two)
#   V2LANE_LOG        where to keep the serial log (default: a temp file,
#                     removed at exit)
#   V2LANE_MODE       tests (default), or bench: the guest runs
#                     contrib/bench.sh instead of the suites (crunpp, crun and
#                     runc, which run natively on pure v2), and the lane
#                     prints its table and ratios, then
#                     `v2-lane: bench done` (exit 0) or `v2-lane: bench failed`
#                     (exit 1). contrib/bench.sh v2 [N] runs this mode.
#   V2LANE_BENCH_N    bench mode: bench.sh's N (default 20, and PAR_ROUNDS
#                     default 1: under TCG a run takes 10-50x the host's
#                     time, every line ~25 minutes on the loaded 2-core
#                     host); BENCH and PAR_ROUNDS pass through
#   V2LANE_SCRIPT     a bash script the guest runs as root before the suites
#                     (its output on the console as "V2LANE: script: ...")
#   V2LANE_PACKAGES   more host packages for the guest (e.g. runc, to
#                     compare in the same kernel)
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRUNPP="${CRUNPP:-$REPO/build/crunpp}"
LEAK_GUARD="$(dirname "$CRUNPP")/tests/helpers/leak-guard"
# Test helpers the suites run (io_helpers.bash's helper_bin), where built.
HELPERS_DIR="$(dirname "$CRUNPP")/tests/helpers"
LANE_HELPERS=(fd-receiver criu-holder idmap-probe)
if [ -f "$REPO/tests/integration/cgroups.bats" ]; then
    SUITES="${V2LANE_SUITES:-cgroups}"
    PASSES="${V2LANE_PASSES:-rootful rootless}"
else
    # Before cgroups.bats: what fits the budget under TCG, rootless.bats in
    # the delegated subtree.
    SUITES="${V2LANE_SUITES:-rootless}"
    PASSES="${V2LANE_PASSES:-rootless}"
fi
ROOTLESS_FILTER="${V2LANE_ROOTLESS_FILTER-rootless}"
MODE="${V2LANE_MODE:-tests}"
case "$MODE" in
tests) TIMEOUT="${V2LANE_TIMEOUT:-300}" ;;
bench) TIMEOUT="${V2LANE_TIMEOUT:-2400}" ;;
*)
    echo "v2-lane: V2LANE_MODE must be tests or bench" >&2
    exit 1
    ;;
esac
ACCEL="${V2LANE_ACCEL:-auto}"
SUITE_TIMEOUT="${V2LANE_SUITE_TIMEOUT:-240}"
# Seconds kept for the guest's boot, leak check and power-off, and for
# building the initramfs.
GUEST_RESERVE=15
INITRAMFS_TIME=10
TEST_USER=crunpp-test
TEST_UID=1000
KERNEL_PACKAGE=linux-image-cloud-amd64
QEMU=qemu-system-x86_64
# The host's python3, e.g. python3.11: lifecycle.bats runs python3 in the
# guest, and tests/v2lane/collect-files.py runs on the host.
PYTHON="$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])' 2>/dev/null)" || PYTHON=python3.11
# What the guest runs: the shell and tools of the tests and helpers.bash,
# python3, newuidmap/newgidmap (setuid) for rootless; CRIU and what it runs
# (ip, iptables-restore/-save, tar, gzip) for checkpoint.bats; runc, which
# cgroups.bats compares `events --stats` with.
GUEST_PACKAGES=(bash dash coreutils util-linux mount grep sed mawk findutils diffutils
    procps hostname jq bats uidmap libc-bin busybox-static "$PYTHON-minimal"
    criu iproute2 iptables tar gzip runc)
# shellcheck disable=SC2206 # a list of package names
GUEST_PACKAGES+=(${V2LANE_PACKAGES:-})
# What CRIU (checkpoint.bats) probes that the cloud kernel has as modules:
# socket diag, tun, veth, nftables (CRIU locks the network with
# iptables-nft), autofs; the guest loads them first.
CRIU_MODULES=(unix_diag inet_diag tcp_diag udp_diag raw_diag netlink_diag af_packet_diag tun veth nf_tables nft_compat xt_mark nf_conntrack_netlink autofs4)
HOST_PACKAGES=(qemu-system-x86 "$KERNEL_PACKAGE" cpio "${GUEST_PACKAGES[@]}")

LANE=v2-lane
LANE_TAG=V2LANE
# shellcheck source=contrib/lib/qemu-lane.sh
. "$REPO/contrib/lib/qemu-lane.sh"
# shellcheck source=contrib/lib/apt.sh
. "$REPO/contrib/lib/apt.sh"

if [ "$MODE" = bench ]; then
    # crun (runc is there already), GNU time (peak RSS), podman's seccomp
    # profile (the realistic line).
    BENCH_PACKAGES=(crun time golang-github-containers-common)
    GUEST_PACKAGES+=("${BENCH_PACKAGES[@]}")
    HOST_PACKAGES+=("${BENCH_PACKAGES[@]}")
fi

WORK="$(mktemp -d /tmp/crunpp-v2lane.XXXXXX)"
trap 'rm -rf --one-file-system "$WORK"' EXIT
LOG="${V2LANE_LOG:-$WORK/serial.log}"

# The module files of CRIU_MODULES for kernel image $1, dependencies
# first, one a line.
kernel_modules() {
    local kver m
    kver="$(basename "$1")"
    kver="${kver#vmlinuz-}"
    for m in "${CRIU_MODULES[@]}"; do
        modprobe -S "$kver" --show-depends "$m" 2>/dev/null
    done | awk '$1 == "insmod" && !seen[$2]++ {print $2}'
}

# The guest's own files: the first stage, the tests, the binary, accounts.
make_staging() {
    local s="$1"
    qemu_lane_stage "$s" v2lane "${V2LANE_SCRIPT:-}" || return 1
    kernel_modules "$KERNEL" >"$s/lane/modules"
    cat >"$s/etc/passwd" <<EOC
root:x:0:0:root:/root:/bin/bash
$TEST_USER:x:$TEST_UID:$TEST_UID:crunpp test user:/home/$TEST_USER:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOC
    cat >"$s/etc/group" <<EOC
root:x:0:
tty:x:5:
$TEST_USER:x:$TEST_UID:
nogroup:x:65534:
EOC
    echo "$TEST_USER:100000:65536" >"$s/etc/subuid"
    echo "$TEST_USER:100000:65536" >"$s/etc/subgid"
    printf 'passwd: files\ngroup: files\nshadow: files\n' >"$s/etc/nsswitch.conf"
    echo v2lane >"$s/etc/hostname"
    [ -f /etc/login.defs ] && cp /etc/login.defs "$s/etc/login.defs"
    [ "$MODE" = bench ] && stage_bench "$s"
    return 0
}

# bench mode: bench.sh and its helper, and no test pass.
stage_bench() {
    local s="$1"
    mkdir -p "$s/lane/repo/contrib"
    install -m 0755 "$REPO/contrib/bench.sh" "$REPO/contrib/podman-seccomp-to-oci.py" "$s/lane/repo/contrib/"
    cat >>"$s/lane/config" <<EOC
MODE=bench
PASSES=""
BENCH_N=${V2LANE_BENCH_N:-20}
BENCH_LINES="${BENCH:-}"
PAR_ROUNDS=${PAR_ROUNDS:-1}
EOC
}

# initramfs OUT: the host files the guest needs, then the staging tree; the
# kernel unpacks concatenated newc archives in order.
make_initramfs() {
    local out="$1" list="$WORK/files.txt" s="$WORK/staging" extra=() m
    [ -x "$LEAK_GUARD" ] && extra=(--libs-of "$LEAK_GUARD")
    while read -r m; do
        extra+=(--path "$m")
    done < <(kernel_modules "$KERNEL")
    for m in "${LANE_HELPERS[@]}"; do
        [ -x "$HELPERS_DIR/$m" ] && extra+=(--libs-of "$HELPERS_DIR/$m")
    done
    python3 "$REPO/tests/v2lane/collect-files.py" --path "/usr/lib/$PYTHON" \
        --path /usr/bin/python3 --path /usr/bin/awk --path /usr/bin/sh --libs-of "$CRUNPP" \
        --path /usr/sbin/iptables-restore --path /usr/sbin/ip6tables-restore \
        --path /usr/sbin/iptables-save --path /usr/sbin/ip6tables-save \
        "${extra[@]}" \
        "${GUEST_PACKAGES[@]}" >"$list" || return 1
    (cd / && cpio --quiet -o -H newc <"$list") >"$out" || return 1
    make_staging "$s" || return 1
    (cd "$s" && find . -mindepth 1 | sort | cpio --quiet -o -H newc -R 0:0) >>"$out"
}

# Counts the TAP lines of the serial log and prints what failed.
report() {
    local log="$WORK/clean.log"
    tr -d '\r' <"$1" >"$log"
    grep -E '^V2LANE: (kernel|script|cgroup mount|/proc/self/cgroup|/sys/fs/cgroup|delegated|v1 hier|guest up|finished|warning|pass .* begin)' "$log" |
        sed 's/^V2LANE: /v2-lane: guest: /'
    qemu_lane_count "$log" "(${SUITE_TIMEOUT}s per suite, V2LANE_TIMEOUT=${TIMEOUT}s for the lane)"
    qemu_lane_end "$log" 40
    say "total time: $((SECONDS - start))s"
    say "$lane_passed passed, $lane_failed failed, $lane_skipped skipped"
    [ "$lane_failed" -eq 0 ]
}

# bench mode: the guest's environment, bench.sh's output, leaked cgroups.
report_bench() {
    tr -d '\r' <"$1" >"$WORK/clean.log"
    grep -E '^V2LANE: (kernel|cgroup mount|guest up|finished|warning|bench)' "$WORK/clean.log" |
        sed 's/^V2LANE: /v2-lane: guest: /'
    sed -n 's/^V2LANE|bench|//p' "$WORK/clean.log"
    say "total time: $((SECONDS - start))s"
    if grep -q '^V2LANE: leaked cgroup' "$WORK/clean.log"; then
        grep '^V2LANE: leaked cgroup' "$WORK/clean.log" | sed 's/^V2LANE: /v2-lane: /'
    elif grep -q '^V2LANE: bench end rc=0' "$WORK/clean.log"; then
        say "bench done"
        return 0
    fi
    grep -q '^V2LANE: done' "$WORK/clean.log" || tail -n 40 "$WORK/clean.log"
    say "bench failed"
    return 1
}

qemu_lane_prepare
accel="$(qemu_choose_accel "$ACCEL" "$KERNEL" "$WORK")"
make_initramfs "$WORK/initramfs.cpio" || fail "could not build the initramfs"
what="suites: $SUITES, passes: $PASSES"
[ "$MODE" = bench ] && what="bench.sh ${V2LANE_BENCH_N:-20}"
say "kernel $KERNEL, initramfs $(($(stat -c %s "$WORK/initramfs.cpio") / 1048576)) MiB, accel $accel, $what ($((SECONDS - start))s)"
qemu_lane_boot "$accel" 1024 "${V2LANE_SMP:-1}" "console=ttyS0 cgroup_no_v1=all panic=-1 quiet loglevel=3 mitigations=off"
if [ "$MODE" = bench ]; then
    report_bench "$LOG"
else
    report "$LOG"
fi
