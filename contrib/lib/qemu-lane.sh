# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the qemu test lanes share (source it; bash): contrib/systemd-lane.sh
# and contrib/v2-lane.sh use it.
#
#   qemu_find_kernel        prints the newest /boot/vmlinuz-*-cloud-amd64
#                           (the flavour the lanes install), else any kernel
#   qemu_choose_accel MODE KERNEL WORKDIR
#                           prints kvm or tcg: MODE kvm or tcg is taken as
#                           is; auto is kvm when /dev/kvm is usable and a
#                           probe guest (busybox, prints a marker, powers off)
#                           boots with it within 8 s, else tcg
#
# QEMU names the emulator (default qemu-system-x86_64).

: "${QEMU:=qemu-system-x86_64}"

# shellcheck disable=SC2012 # ls -v sorts versions; /boot names have no spaces
qemu_find_kernel() {
    local k
    k="$(ls -v /boot/vmlinuz-*-cloud-amd64 2>/dev/null | tail -n1)"
    [ -n "$k" ] || k="$(ls -v /boot/vmlinuz-* 2>/dev/null | tail -n1)"
    [ -n "$k" ] && [ -r "$k" ] && echo "$k"
}

# qemu_probe_accel ACCEL KERNEL WORKDIR: whether a guest boots with ACCEL.
qemu_probe_accel() {
    local accel="$1" kernel="$2" p="$3/probe" out
    mkdir -p "$p/usr/bin" "$p/dev" "$p/proc"
    cp /usr/bin/busybox "$p/usr/bin/busybox"
    ln -sfn usr/bin "$p/bin"
    cat >"$p/init" <<'EOP'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
echo QEMU-LANE-PROBE-OK >/dev/console
/bin/busybox poweroff -f
EOP
    chmod 0755 "$p/init"
    (cd "$p" && find . -mindepth 1 | cpio --quiet -o -H newc -R 0:0) >"$3/probe.cpio" || return 1
    out="$(timeout 8 "$QEMU" -machine q35 -accel "$accel" -cpu max -m 256 -nographic -no-reboot \
        -kernel "$kernel" -initrd "$3/probe.cpio" \
        -append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1)"
    [[ "$out" == *QEMU-LANE-PROBE-OK* ]]
}

qemu_choose_accel() {
    case "$1" in
    kvm | tcg) echo "$1" ;;
    *)
        if [ -r /dev/kvm ] && [ -w /dev/kvm ] && qemu_probe_accel kvm "$2" "$3"; then
            echo kvm
        else
            echo tcg
        fi
        ;;
    esac
}

# What follows serves a lane script, which sets LANE (its name in messages,
# e.g. v2-lane) and LANE_TAG (the prefix of its guest's console lines, e.g.
# V2LANE) before sourcing this file, and WORK, LOG, REPO, CRUNPP,
# LEAK_GUARD, HELPERS_DIR, LANE_HELPERS, SUITES, PASSES, ROOTLESS_FILTER,
# SUITE_TIMEOUT, TIMEOUT, INITRAMFS_TIME, GUEST_RESERVE, TEST_USER, TEST_UID
# and HOST_PACKAGES before calling it.
#
#   say, skip, fail         a line "LANE: ..."; skip says SKIP and exits 0;
#                           fail ends with the totals line of one failure
#                           and exits 1 (apt_say, for contrib/lib/apt.sh,
#                           is say)
#   qemu_lane_prepare       installs what the host lacks; sets KERNEL and
#                           start (the lane's clock, after the installation)
#   qemu_lane_stage STAGING GUEST_DIR SCRIPT
#                           the staging tree's common part (below)
#   qemu_lane_boot ACCEL MEM SMP APPEND
#                           runs the guest, its console in LOG, within the
#                           lane's time left; sets qemu_timeout
#   qemu_lane_count LOG TIMEOUT_HINT
#                           the suites' results from a cleaned LOG
#   qemu_lane_end LOG TAIL_LINES
#                           the leak and completion checks; sets
#                           lane_failed to all the failures

say() { printf '%s: %s\n' "$LANE" "$*"; }
skip() {
    say "SKIP: $*"
    exit 0
}
fail() {
    say "$*"
    say "0 passed, 1 failed, 0 skipped"
    exit 1
}
apt_say() { say "$*"; }

qemu_lane_prepare() {
    if ! command -v "$QEMU" >/dev/null || [ -z "$(qemu_find_kernel)" ] || ! command -v cpio >/dev/null; then
        apt_install_missing "$WORK/apt.log" "${HOST_PACKAGES[@]}" ||
            skip "qemu, a kernel or cpio is missing and cannot be installed"
    fi
    apt_install_missing "$WORK/apt.log" "${HOST_PACKAGES[@]}" ||
        fail "the guest's programs are missing and cannot be installed"
    command -v "$QEMU" >/dev/null || skip "$QEMU not found"
    KERNEL="$(qemu_find_kernel)" || skip "no readable kernel in /boot"
    [ -x "$CRUNPP" ] || fail "$CRUNPP not found: build first (ninja -C build) or set CRUNPP"
    # The time budget starts after the one-time package installation.
    start=$SECONDS
}

# The usr-merged root with its usual directories, tests/GUEST_DIR's init
# and guest.sh, crunpp and the leak-guard in /lane/bin, SCRIPT (if any) as
# /lane/script, the tests (not the unit and fuzz ones) and the helpers
# they run, the OCI schemas when ../shared has them, and /lane/config's
# lines that both guests read.
qemu_lane_stage() {
    local s="$1" guest="$2" script="$3" h
    mkdir -p "$s"/{etc,lane/bin,lane/repo,proc,sys,dev,run,tmp,root,home}
    chmod 1777 "$s/tmp"
    chmod 0700 "$s/root"
    ln -s usr/bin "$s/bin"
    ln -s usr/sbin "$s/sbin"
    ln -s usr/lib "$s/lib"
    ln -s usr/lib64 "$s/lib64"
    install -m 0755 "$REPO/tests/$guest/init" "$s/init"
    install -m 0755 "$REPO/tests/$guest/guest.sh" "$s/lane/guest.sh"
    install -m 0755 "$CRUNPP" "$s/lane/bin/crunpp"
    if [ -x "$LEAK_GUARD" ]; then
        install -m 0755 "$LEAK_GUARD" "$s/lane/bin/leak-guard"
    fi
    if [ -n "$script" ]; then
        install -m 0755 "$script" "$s/lane/script" || return 1
    fi
    cp -r "$REPO/tests" "$s/lane/repo/tests"
    rm -rf "$s/lane/repo/tests/fuzz" "$s/lane/repo/tests/unit"
    for h in "${LANE_HELPERS[@]}"; do
        if [ -x "$HELPERS_DIR/$h" ]; then
            install -D -m 0755 "$HELPERS_DIR/$h" "$s/lane/repo/build/tests/helpers/$h"
        fi
    done
    if [ -d "$REPO/../shared/runtime-spec/schema" ]; then
        mkdir -p "$s/lane/shared/runtime-spec"
        cp -r "$REPO/../shared/runtime-spec/schema" "$s/lane/shared/runtime-spec/"
    fi
    cat >"$s/lane/config" <<EOC
SUITES="$SUITES"
PASSES="$PASSES"
ROOTLESS_FILTER="$ROOTLESS_FILTER"
SUITE_TIMEOUT=$SUITE_TIMEOUT
DEADLINE=$((TIMEOUT - (SECONDS - start) - INITRAMFS_TIME - GUEST_RESERVE))
TEST_USER=$TEST_USER
TEST_UID=$TEST_UID
EOC
}

# -cpu max,-la57: four-level paging, a shorter page walk for TCG's soft
# MMU. The APPEND of both lanes has mitigations=off: the guest's
# speculation defences only slow emulation.
qemu_lane_boot() {
    local accel="$1" mem="$2" smp="$3" append="$4" rc
    qemu_timeout=$((TIMEOUT - (SECONDS - start)))
    timeout "$qemu_timeout" "$QEMU" -machine q35 -accel "$accel" -cpu max,-la57 -m "$mem" -smp "$smp" \
        -nographic -no-reboot -kernel "$KERNEL" -initrd "$WORK/initramfs.cpio" \
        -append "$append" </dev/null >"$LOG" 2>&1
    rc=$?
    [ "$rc" -eq 124 ] && say "qemu timed out after ${qemu_timeout}s"
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ! grep -q "^$LANE_TAG" "$LOG"; then
        # qemu itself could not start (no emulator for this machine, no memory).
        tail -n 20 "$LOG"
        skip "$QEMU failed with status $rc before the guest started"
    fi
    return 0
}

# The guest prints its TAP lines as "TAG|PASS|SUITE|<line>" and ends each
# suite with "TAG: suite PASS SUITE end rc=N time=Ts". Says each suite's
# counts and each suite a pass skipped ("TAG: suite PASS SUITE skipped:
# why"), then the failing tests with the diagnostics bats prints under
# them. Sets lane_passed, lane_failed, lane_skipped, and lane_extra: the
# failures that are not a failed test (a leak-guard report, bats failing
# on its own, a suite missing or not started for lack of time).
qemu_lane_count() {
    local log="$1" hint="$2" t="$LANE_TAG" pass suite rc time sp sf ss
    lane_skipped="$(grep -cE "^$t\|[^|]*\|[^|]*\|ok [0-9]+ .*# skip" "$log")"
    lane_passed="$(grep -cE "^$t\|[^|]*\|[^|]*\|ok [0-9]+ " "$log")"
    lane_passed=$((lane_passed - lane_skipped))
    lane_failed="$(grep -cE "^$t\|[^|]*\|[^|]*\|not ok [0-9]+ " "$log")"
    lane_extra=0
    while read -r _ _ pass suite _ rc time; do
        rc="${rc#rc=}"
        sp="$(grep -cE "^$t\|$pass\|$suite\|ok [0-9]+ " "$log")"
        ss="$(grep -cE "^$t\|$pass\|$suite\|ok [0-9]+ .*# skip" "$log")"
        sf="$(grep -cE "^$t\|$pass\|$suite\|not ok [0-9]+ " "$log")"
        say "$pass $suite.bats: $((sp - ss)) passed, $sf failed, $ss skipped (${time#time=})"
        # leak-guard's report: one failure per suite that leaked.
        if grep -qE "^$t\|$pass\|$suite\|leak-guard: leaked process" "$log"; then
            grep -E "^$t\|$pass\|$suite\|leak-guard: leaked process" "$log"
            lane_extra=$((lane_extra + 1))
        elif [ "$rc" != 0 ] && [ "$sf" -eq 0 ]; then
            say "$pass $suite.bats: bats exited with status $rc without a failed test"
            [ "$rc" = 124 ] && say "$pass $suite.bats: timed out $hint"
            lane_extra=$((lane_extra + 1))
        fi
    done < <(grep -E "^$t: suite [^ ]+ [^ ]+ end rc=" "$log")
    grep -E "^$t: suite [^ ]+ [^ ]+ skipped: " "$log" | sed "s/^$t: /$LANE: /"
    if grep -qE "^$t: suite [^ ]+ [^ ]+ (missing|not run)" "$log"; then
        grep -E "^$t: suite [^ ]+ [^ ]+ (missing|not run)" "$log" | sed "s/^$t: /$LANE: /"
        lane_extra=$((lane_extra + $(grep -cE "^$t: suite [^ ]+ [^ ]+ (missing|not run)" "$log")))
    fi
    awk -v t="$t" '$0 ~ "^" t "\\|[^|]*\\|[^|]*\\|not ok " {p=1; print; next}
         $0 ~ "^" t "\\|[^|]*\\|[^|]*\\|(ok|not ok) " {p=0}
         p && $0 ~ "^" t "\\|[^|]*\\|[^|]*\\|#" {print}' "$log"
}

# After qemu_lane_count (and what the lane counts itself into lane_passed
# and lane_extra): a cgroup or scope the guest found left behind, and a
# guest that never printed "TAG: done" (its console's last TAIL_LINES
# shown) each count as a failure; a finished lane without a single test
# fails too. Sets lane_failed to the total.
qemu_lane_end() {
    local log="$1" tail_lines="$2" t="$LANE_TAG" finished=1
    if grep -qE "^$t: leaked (cgroup|scope)" "$log"; then
        grep -E "^$t: leaked (cgroup|scope)" "$log" | sed "s/^$t: /$LANE: /"
        lane_extra=$((lane_extra + 1))
    fi
    if ! grep -q "^$t: done" "$log"; then
        finished=0
        lane_extra=$((lane_extra + 1))
        say "the guest did not finish (timeout ${qemu_timeout}s or a crash); the last lines of its console:"
        tail -n "$tail_lines" "$log"
    fi
    lane_failed=$((lane_failed + lane_extra))
    if [ "$finished" -eq 1 ] && [ "$lane_passed" -eq 0 ] && [ "$lane_failed" -eq 0 ]; then
        say "no test ran"
        lane_failed=1
    fi
}
