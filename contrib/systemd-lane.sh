#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd test lane: boots a Debian kernel in qemu (KVM when a quick probe
# boots, else TCG) with Debian's systemd as pid 1 on a pure cgroup v2
# hierarchy (systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all), the system
# bus, logind and a lingering user manager for the test user, from an
# initramfs made of the host's Debian packages: systemd, dbus, podman with
# conmon and netavark, containerd and ctr, runc, crun, CRIU, bats, plus the
# built crunpp and the tests. A oneshot service (tests/systemdlane/) runs the bats
# suites rootful (as a system service) and rootless (in a delegated scope of
# the user manager), then an optional script, checks for scopes and cgroups
# left behind, and reports over the serial console. Ends with the line
#   systemd-lane: N passed, N failed, N skipped
# (exit 1 on a failure), or `systemd-lane: SKIP: <reason>` (exit 0) where
# qemu cannot run at all.
#
# Environment:
#   CRUNPP               the binary to test (default: build/crunpp), with the
#                        leak-guard built next to it when there is one
#   SYSTEMDLANE_SUITES   tests/integration suites to run, without .bats
#                        (default: systemd_lane systemd_cgroup
#                        cgroups:systemd checkpoint_podman; none when a
#                        script is given); SUITE:systemd runs every crunpp
#                        call of SUITE with --systemd-cgroup (helpers.bash's
#                        CRUNPP_CGROUP_MANAGER), e.g. "lifecycle:systemd".
#                        contrib/test.sh boots two guests at once, one with
#                        systemd_lane systemd_cgroup checkpoint_podman, one
#                        with lifecycle:systemd exec:systemd cgroups:systemd
#                        (its run_lanes)
#   SYSTEMDLANE_PASSES   "rootful rootless" (default) or one of them
#   SYSTEMDLANE_ROOTLESS_FILTER  the bats --filter of the rootless pass
#                        (default "rootless"); empty: every test
#   SYSTEMDLANE_SCRIPT   a script the guest runs as root after the suites
#                        (cwd: the repo copy; CRUNPP, SYSTEMD_LANE=1 and
#                        CRUNPP_TEST_USER set); its output is shown, its exit
#                        status counts as one test
#   SYSTEMDLANE_TIMEOUT  seconds for the whole lane (default 1800: under TCG on
#                        a 2-core host the default suites took 676 s with the
#                        boot in a whole contrib/test.sh run, and the lane's
#                        times doubled at load 10-14);
#                        the guest starts no suite it cannot finish in time
#                        and says so
#   SYSTEMDLANE_SUITE_TIMEOUT  seconds for one suite in one pass (default
#                        420; exec:systemd's rootful pass took 311 s at load
#                        7 and more than 420 s at load 10)
#   SYSTEMDLANE_ACCEL    auto (default), kvm or tcg
#   SYSTEMDLANE_SMP      guest cpus (default 1)
#   SYSTEMDLANE_MEM      guest memory in MiB (default 3072: the initramfs is
#                        held twice while stage 1 copies it)
#   SYSTEMDLANE_LOG      where to keep the serial log (default: a temp file)
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRUNPP="${CRUNPP:-$REPO/build/crunpp}"
LEAK_GUARD="$(dirname "$CRUNPP")/tests/helpers/leak-guard"
# Test helpers the suites run (io_helpers.bash's helper_bin), where built.
HELPERS_DIR="$(dirname "$CRUNPP")/tests/helpers"
LANE_HELPERS=(fd-receiver criu-holder idmap-probe leak-guard)
SCRIPT="${SYSTEMDLANE_SCRIPT:-}"
if [ -n "$SCRIPT" ]; then
    SUITES="${SYSTEMDLANE_SUITES:-}"
else
    SUITES="${SYSTEMDLANE_SUITES:-systemd_lane systemd_cgroup cgroups:systemd checkpoint_podman}"
fi
PASSES="${SYSTEMDLANE_PASSES:-rootful rootless}"
ROOTLESS_FILTER="${SYSTEMDLANE_ROOTLESS_FILTER-rootless}"
TIMEOUT="${SYSTEMDLANE_TIMEOUT:-1800}"
ACCEL="${SYSTEMDLANE_ACCEL:-auto}"
SUITE_TIMEOUT="${SYSTEMDLANE_SUITE_TIMEOUT:-420}"
# Seconds kept for the guest's boot, leak check and power-off, and for
# building the initramfs.
GUEST_RESERVE=40
INITRAMFS_TIME=15
TEST_USER=crunpp-test
TEST_UID=1000
KERNEL_PACKAGE=linux-image-cloud-amd64
QEMU=qemu-system-x86_64
PYTHON="$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])' 2>/dev/null)" || PYTHON=python3.11
# What the guest runs: systemd with its bus, logind and PAM for the user
# manager; the engines and runtimes (rootlesskit: containerd rootless);
# CRIU and what it runs (ip, iptables-restore, tar, gzip) for podman's
# checkpoint/restore (checkpoint_podman.bats); the tests' shell and tools
# (bsdutils: script, for exec -t).
GUEST_PACKAGES=(systemd libsystemd0 libnss-systemd libpam-systemd systemd-sysv
    dbus dbus-bin dbus-daemon dbus-system-bus-common dbus-session-bus-common dbus-user-session
    libpam0g libpam-modules libpam-modules-bin libpam-runtime kmod
    podman conmon golang-github-containers-common netavark aardvark-dns
    slirp4netns catatonit iptables runc crun rootlesskit criu iproute2 gzip
    bash dash coreutils util-linux mount grep sed mawk findutils diffutils
    procps hostname tar jq bats uidmap libc-bin busybox-static bsdutils strace "$PYTHON-minimal")
# containerd's package also holds the v1 shims and test tools: only these.
CONTAINERD_FILES=(/usr/bin/containerd /usr/bin/ctr /usr/bin/containerd-shim-runc-v2)
HOST_PACKAGES=(qemu-system-x86 "$KERNEL_PACKAGE" cpio containerd "${GUEST_PACKAGES[@]}")
# Kernel modules the guest loads at boot (systemd-modules-load): overlayfs
# for podman's and containerd's default storage; fuse and tun for the
# device-rule tests; what `criu check` and a dump need that the cloud
# kernel has as modules (as contrib/v2-lane.sh's CRIU_MODULES): socket
# diag, tun, veth, nftables, conntrack, autofs.
GUEST_MODULES=(overlay fuse unix_diag inet_diag tcp_diag udp_diag raw_diag netlink_diag af_packet_diag
    tun veth nf_tables nft_compat xt_mark nf_conntrack_netlink autofs4)

LANE=systemd-lane
LANE_TAG=SDLANE
# shellcheck source=contrib/lib/qemu-lane.sh
. "$REPO/contrib/lib/qemu-lane.sh"
# shellcheck source=contrib/lib/apt.sh
. "$REPO/contrib/lib/apt.sh"

WORK="$(mktemp -d /tmp/crunpp-sdlane.XXXXXX)"
trap 'rm -rf --one-file-system "$WORK"' EXIT
LOG="${SYSTEMDLANE_LOG:-$WORK/serial.log}"

# The guest's own files: the first stage, systemd's configuration, the
# service, the tests, the binary, the accounts.
make_staging() {
    local s="$1" u e=$1/etc
    qemu_lane_stage "$s" systemdlane "$SCRIPT" || return 1
    echo "SCRIPT=$([ -n "$SCRIPT" ] && echo 1 || echo 0)" >>"$s/lane/config"
    mkdir -p "$s"/{var/tmp,var/lib/systemd/linger}
    chmod 1777 "$s/var/tmp"
    # Accounts: the test user's, and messagebus for the system bus.
    cat >"$e/passwd" <<EOC
root:x:0:0:root:/root:/bin/bash
messagebus:x:100:101::/nonexistent:/usr/sbin/nologin
$TEST_USER:x:$TEST_UID:$TEST_UID:crunpp test user:/home/$TEST_USER:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOC
    cat >"$e/group" <<EOC
root:x:0:
tty:x:5:
messagebus:x:101:
$TEST_USER:x:$TEST_UID:
nogroup:x:65534:
EOC
    printf 'root:*:19000:0:99999:7:::\nmessagebus:!:19000::::::\n%s:!:19000::::::\nnobody:!:19000::::::\n' \
        "$TEST_USER" >"$e/shadow"
    printf 'root:*::\nmessagebus:!::\n%s:!::\nnogroup:*::\n' "$TEST_USER" >"$e/gshadow"
    chmod 0640 "$e/shadow" "$e/gshadow"
    # systemd's own accounts (sysusers.d of the same packages), made here:
    # systemd-sysusers took seconds of the guest's boot under TCG.
    local sysusers=()
    if systemd-sysusers --root="$s" /usr/lib/sysusers.d/*.conf >/dev/null 2>&1; then
        sysusers=(systemd-sysusers.service)
    fi
    echo "$TEST_USER:100000:65536" >"$e/subuid"
    echo "$TEST_USER:100000:65536" >"$e/subgid"
    printf 'passwd: files systemd\ngroup: files systemd\nshadow: files\n' >"$e/nsswitch.conf"
    echo sdlane >"$e/hostname"
    # A fixed machine id: not a first boot, no generated one.
    echo 5d1a7e0c0ffee0000000000000c2a9e1 >"$e/machine-id"
    ln -s ../usr/lib/os-release "$e/os-release"
    [ -f /etc/login.defs ] && cp /etc/login.defs "$e/login.defs"
    mkdir -p "$e/pam.d"
    cp /etc/pam.d/common-* /etc/pam.d/other "$e/pam.d/" 2>/dev/null
    # The test user's manager starts at boot and keeps running.
    touch "$s/var/lib/systemd/linger/$TEST_USER"
    mkdir -p "$e/modules-load.d"
    printf '%s\n' "${GUEST_MODULES[@]}" >"$e/modules-load.d/crunpp-lane.conf"
    # systemd: multi-user with the lane's service, and nothing slow or
    # irrelevant here (no network, terminals, clock sync, udev, first boot).
    mkdir -p "$e/systemd/system/multi-user.target.wants" "$e/systemd/user"
    install -m 0644 "$REPO/tests/systemdlane/crunpp-lane.service" "$e/systemd/system/"
    ln -s ../crunpp-lane.service "$e/systemd/system/multi-user.target.wants/crunpp-lane.service"
    ln -s /lib/systemd/system/multi-user.target "$e/systemd/system/default.target"
    for u in systemd-networkd.service systemd-networkd.socket systemd-networkd-wait-online.service \
        systemd-timesyncd.service systemd-resolved.service getty.target getty@.service \
        serial-getty@.service console-getty.service systemd-firstboot.service \
        systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-random-seed.service \
        systemd-pstore.service systemd-hwdb-update.service systemd-udevd.service \
        systemd-udev-trigger.service systemd-udev-settle.service ldconfig.service \
        systemd-machine-id-commit.service systemd-journal-catalog-update.service \
        proc-sys-fs-binfmt_misc.automount systemd-binfmt.service sys-kernel-tracing.mount \
        sys-kernel-debug.mount sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
        systemd-tmpfiles-clean.timer apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
        fstrim.timer podman-auto-update.timer podman-restart.service containerd.service \
        systemd-ask-password-console.path systemd-ask-password-wall.path "${sysusers[@]}"; do
        ln -s /dev/null "$e/systemd/system/$u"
    done
    for u in pipewire.socket pipewire-pulse.socket podman.socket podman-auto-update.timer \
        gpg-agent.socket dirmngr.socket; do
        ln -s /dev/null "$e/systemd/user/$u"
    done
    # The engines: systemd cgroups (their default on a systemd host), local
    # storage only; podman's network stack is netavark (no CNI plugins in
    # the guest: 44 MiB that only containerd's CRI plugin would use).
    mkdir -p "$e/containers" "$e/containerd"
    cat >"$e/containers/containers.conf" <<'EOC'
[engine]
cgroup_manager = "systemd"
events_logger = "file"

[network]
network_backend = "netavark"
EOC
    cat >"$e/containerd/config.toml" <<'EOC'
version = 2
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
EOC
    return 0
}

# The guest's kernel modules (and what they need) for GUEST_MODULES, with
# the index files modprobe reads.
module_paths() {
    local kver="$1" m
    [ -d "/lib/modules/$kver" ] || return 0
    for m in "${GUEST_MODULES[@]}"; do
        modprobe --show-depends -S "$kver" "$m" 2>/dev/null | awk '$1 == "insmod" {print "--path"; print $2}'
    done
    for m in /lib/modules/"$kver"/modules.*; do
        printf -- '--path\n%s\n' "$m"
    done
}

# initramfs OUT: the host files the guest needs, then the staging tree; the
# kernel unpacks concatenated newc archives in order.
make_initramfs() {
    local out="$1" list="$WORK/files.txt" s="$WORK/staging" args=() f kver
    kver="$(basename "$KERNEL")"
    kver="${kver#vmlinuz-}"
    [ -x "$LEAK_GUARD" ] && args+=(--libs-of "$LEAK_GUARD")
    for f in "${CONTAINERD_FILES[@]}"; do args+=(--path "$f"); done
    mapfile -t -O "${#args[@]}" args < <(module_paths "$kver")
    python3 "$REPO/tests/v2lane/collect-files.py" --path "/usr/lib/$PYTHON" \
        --path /usr/bin/python3 --path /usr/bin/awk --path /usr/bin/sh \
        --path /usr/lib/os-release --path /usr/sbin/iptables-restore --path /usr/sbin/ip6tables-restore \
        --path /usr/sbin/iptables-save --path /usr/sbin/ip6tables-save --libs-of "$CRUNPP" "${args[@]}" \
        "${GUEST_PACKAGES[@]}" >"$list" || return 1
    (cd / && cpio --quiet -o -H newc <"$list") >"$out" || return 1
    make_staging "$s" || return 1
    (cd "$s" && find . -mindepth 1 | sort | cpio --quiet -o -H newc -R 0:0) >>"$out"
}

# Counts the TAP lines of the serial log and prints what failed.
report() {
    local log="$WORK/clean.log" rc
    tr -d '\r' <"$1" >"$log"
    grep -E '^SDLANE: (stage1|service up|kernel|pid 1|system state|cgroup mount|/proc/self/cgroup|/sys/fs/cgroup|user manager|tests begin|finished|warning|pass .* begin)' "$log" |
        sed 's/^SDLANE: /systemd-lane: guest: /'
    qemu_lane_count "$log" "(SYSTEMDLANE_TIMEOUT=${TIMEOUT}s for the lane)"
    # The script: its whole output, one result.
    if [ -n "$SCRIPT" ]; then
        sed -n 's/^SDLANE|script|-|//p' "$log"
        rc="$(sed -n 's/^SDLANE: script end rc=\([0-9]*\) .*/\1/p' "$log")"
        if [ "$rc" = 0 ]; then
            say "script $SCRIPT: passed"
            lane_passed=$((lane_passed + 1))
        else
            say "script $SCRIPT: failed (status ${rc:-none})"
            lane_extra=$((lane_extra + 1))
        fi
    fi
    qemu_lane_end "$log" 60
    say "total time: $((SECONDS - start))s (boot to the service: $(sed -n 's/^SDLANE: service up after \([0-9.]*\)s/\1s/p' "$log"))"
    say "$lane_passed passed, $lane_failed failed, $lane_skipped skipped"
    [ "$lane_failed" -eq 0 ]
}

qemu_lane_prepare
[ -z "$SCRIPT" ] || [ -r "$SCRIPT" ] || fail "SYSTEMDLANE_SCRIPT $SCRIPT not readable"

accel="$(qemu_choose_accel "$ACCEL" "$KERNEL" "$WORK")"
make_initramfs "$WORK/initramfs.cpio" || fail "could not build the initramfs"
say "kernel $KERNEL, initramfs $(($(stat -c %s "$WORK/initramfs.cpio") / 1048576)) MiB, accel $accel, suites: ${SUITES:-none}, passes: $PASSES${SCRIPT:+, script: $SCRIPT} ($((SECONDS - start))s)"
# systemd.show_status=error: the console shows failed units only.
qemu_lane_boot "$accel" "${SYSTEMDLANE_MEM:-3072}" "${SYSTEMDLANE_SMP:-1}" \
    "console=ttyS0 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all panic=-1 quiet loglevel=3 mitigations=off systemd.show_status=error systemd.log_target=console systemd.log_level=warning"
report "$LOG"
