# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the qemu test lanes share (source it; bash): contrib/systemd-lane.sh
# uses it; contrib/v2-lane.sh has its own copies of the same functions.
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
