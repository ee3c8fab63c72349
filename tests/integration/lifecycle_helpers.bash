# SPDX-License-Identifier: GPL-2.0-or-later
# What the lifecycle, rootless and errors tests share, on top of helpers.bash.

# The container's status as `state` reports it.
status_of() {
    crunpp state "$1" | jq -r .status
}

status_of_rootless() {
    crunpp_rootless state "$1" | jq -r .status
}

# The container init's host pid.
pid_of() {
    crunpp state "$1" | jq -r .pid
}

# Waits (at most 10 s) until the container reaches STATUS.
wait_status() {
    local id="$1" want="$2" i
    for i in $(seq 100); do
        [ "$(status_of "$id")" = "$want" ] && return 0
        sleep 0.1
    done
    echo "container $id: status $(status_of "$id"), expected $want" >&2
    return 1
}

# Waits (at most 10 s) until PATH exists and is not empty.
wait_file() {
    local i
    for i in $(seq 100); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    echo "$1 did not appear" >&2
    return 1
}

# "gone" when PID no longer runs (exited or a zombie), else its state letter.
state_of_pid() {
    local s
    s="$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" || true
    case "$s" in
    '' | Z) echo gone ;;
    *) echo "$s" ;;
    esac
}

# Fails when the state root holds any container.
assert_no_containers() {
    local root="${1:-$STATE_ROOT}" left
    left="$(ls -A "$root" 2>/dev/null | grep -v '^\.' || true)"
    [ -z "$left" ] || { echo "left in $root: $left" >&2; return 1; }
}

# The Cap* line of /proc/self/status output: "CapEff:\t0000000000000021" -> 0000000000000021.
status_field() {
    local name="$1" text="$2"
    printf '%s\n' "$text" | sed -n "s/^$name:[[:space:]]*//p"
}

# Every host process whose root lies under DIR (a container's init or
# process: its root is its rootfs), and every host mount below DIR: what a
# container of this run could have leaked.
leftovers_under() {
    local dir="$1" p root
    for p in /proc/[0-9]*; do
        root="$(readlink "$p/root" 2>/dev/null)" || continue
        case "$root" in
        "$dir"/*) echo "process ${p#/proc/}: root $root ($(tr '\0' ' ' <"$p/cmdline" 2>/dev/null))" ;;
        esac
    done
    awk -v d="$dir/" 'index($5, d) == 1 { print "mount: " $5 }' /proc/self/mountinfo
}

# The /proc/PID/status mask ("00000000a80425fb") of the capability names
# given one per line on stdin.
cap_mask() {
    awk 'BEGIN {
        n = split("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE", names, " ")
        for (i = 1; i <= n; i++) bit["CAP_" names[i]] = i - 1
    }
    { if (!($1 in bit)) { print "unknown capability " $1 > "/dev/stderr"; exit 1 } lo[bit[$1]] = 1 }
    END {
        # 64-bit mask as two 32-bit halves (awk numbers are doubles).
        hi = 0; low = 0
        for (b in lo) { if (b + 0 >= 32) hi += 2 ^ (b - 32); else low += 2 ^ b }
        printf "%08x%08x\n", hi, low
    }'
}

# ctr ARGS...: crunpp as root, or as the test user when WHO=rootless (tests
# that run the same body both ways set WHO).
ctr() {
    if [ "$WHO" = rootless ]; then
        crunpp_rootless "$@"
    else
        crunpp "$@"
    fi
}

# Skips the test when the kernel cannot make an idmapped mount of DIR's
# filesystem (tmpfs before Linux 6.3: the qemu lanes' 6.1 guest), as probed
# by tests/helpers/idmap-probe, not by crunpp.
require_idmapped_mounts() {
    local probe="$REPO_ROOT/build/tests/helpers/idmap-probe" out rc=0
    [ -x "$probe" ] || {
        echo "$probe not found: build first (ninja -C build)" >&2
        return 1
    }
    # (bats' errexit: the status taken before it sees it.)
    out="$("$probe" "$1")" || rc=$?
    case $rc in
    0) ;;
    2) skip "$out" ;;
    *) return 1 ;;
    esac
}
