# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installing the Debian packages a script needs, shared by contrib/test.sh,
# contrib/v2-lane.sh and contrib/demo.sh (source it; bash).
#
#   apt_missing PACKAGE...            prints the packages dpkg does not list
#                                     as installed, one a line
#   apt_install_missing LOG PACKAGE...
#       installs the missing ones (no recommends, non-interactive): first
#       without `apt-get update` (quick when the lists are fresh), then with
#       it. apt's output goes to LOG, whose last 20 lines are printed when it
#       fails; an empty LOG shows apt's output as it runs. Status 1 when
#       something is missing and cannot be installed (not root, apt failed).
#       Concurrent callers take turns (flock on $APT_LOCK).
#
# Messages go through apt_say MESSAGE, which a script may define before
# sourcing this file (default: the message on a line of its own).

declare -F apt_say >/dev/null || apt_say() { printf '%s\n' "$*"; }
APT_LOCK=/run/lock/crunpp-apt.lock

apt_missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || printf '%s\n' "$p"
    done
}

# Runs apt-get ARGS... with its output in LOG, or shown when LOG is empty.
_apt_get() {
    local log="$1"
    shift
    if [ -n "$log" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get "$@" </dev/null >>"$log" 2>&1
    else
        DEBIAN_FRONTEND=noninteractive apt-get "$@" </dev/null
    fi
}

apt_install_missing() {
    local log="$1" missing
    shift
    mapfile -t missing < <(apt_missing "$@")
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        apt_say "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
        return 1
    fi
    # One install at a time: contrib/test.sh starts two qemu lanes at once,
    # and apt-get fails at once when another holds dpkg's lock. Whoever waited
    # installs only what is still missing. apt-get runs without the lock's fd,
    # so that a daemon a package starts does not hold the lock.
    {
        flock -w 1200 9 || {
            apt_say "waited 1200 s for $APT_LOCK: not installing ${missing[*]}"
            return 1
        }
        mapfile -t missing < <(apt_missing "$@")
        [ ${#missing[@]} -eq 0 ] && return 0
        apt_say "installing ${missing[*]}"
        local install=(install -y -q --no-install-recommends "${missing[@]}")
        _apt_get "$log" "${install[@]}" 9>&- ||
            { _apt_get "$log" update -q 9>&- && _apt_get "$log" "${install[@]}" 9>&-; } || {
            [ -n "$log" ] && tail -n 20 "$log"
            return 1
        }
    } 9>"$APT_LOCK"
}
