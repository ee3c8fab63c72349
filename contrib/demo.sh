#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A tour of crunpp on a fresh Debian 12 machine: installs the build
# dependencies that are missing, builds, assembles a busybox bundle in a
# temporary folder, shows its generated config.json and `crunpp features`,
# then runs `echo hello from crunpp` in a container as root and as an
# unprivileged user (when this build has the `run` command).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO_USER="${CRUNPP_DEMO_USER:-crunpp-demo}"
PACKAGES=(meson ninja-build pkg-config g++ libseccomp-dev libyajl-dev libcap-dev catch2
    busybox-static uidmap jq)

step() { printf '\n== %s\n' "$*"; }
is_root() { [ "$(id -u)" -eq 0 ]; }
# shellcheck source=contrib/lib/apt.sh
. "$REPO/contrib/lib/apt.sh"

step "build dependencies"
if [ -z "$(apt_missing "${PACKAGES[@]}")" ]; then
    echo "all installed"
else
    apt_install_missing "" "${PACKAGES[@]}" || exit 1
fi

step "build"
cd "$REPO"
[ -f build/build.ninja ] || meson setup build
ninja -C build -j2

DEMO="$(mktemp -d /tmp/crunpp-demo.XXXXXX)"
chmod 0755 "$DEMO"
trap 'rm -rf --one-file-system "$DEMO"' EXIT
# A copy every user can execute, wherever the source tree is.
install -m 0755 build/crunpp "$DEMO/crunpp"
CRUNPP="$DEMO/crunpp"
"$CRUNPP" --version

# make_rootfs DIR: busybox and a symlink per applet, the minimal /etc.
make_rootfs() {
    local r="$1/rootfs" applet
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
    chmod 1777 "$r/tmp"
    cp /bin/busybox "$r/bin/busybox"
    for applet in $("$r/bin/busybox" --list-full); do
        [ -e "$r/$applet" ] || ln -s /bin/busybox "$r/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"$r/etc/group"
}

# make_bundle DIR [spec options]: rootfs + config.json running the greeting.
make_bundle() {
    local dir="$1" tmp
    shift
    mkdir -p "$dir"
    make_rootfs "$dir"
    (cd "$dir" && "$CRUNPP" spec "$@")
    tmp="$(mktemp)"
    jq '.process.terminal = false | .process.args = ["echo", "hello from crunpp"]' "$dir/config.json" >"$tmp"
    cat "$tmp" >"$dir/config.json"
    rm -f "$tmp"
}

step "a busybox bundle in $DEMO/bundle (crunpp spec)"
make_bundle "$DEMO/bundle"
cat "$DEMO/bundle/config.json"

step "crunpp features"
"$CRUNPP" features

if ! "$CRUNPP" run --help >/dev/null 2>&1; then
    step "this build has no 'run' command yet: the container lifecycle is not merged"
    exit 0
fi

if is_root; then
    step "run as root"
    (cd "$DEMO/bundle" && "$CRUNPP" run "demo-root-$$")
fi

# The unprivileged run: the caller itself when not root, else a demo user
# that gets subordinate id ranges and a runtime dir like a login would.
step "run as an unprivileged user"
if is_root; then
    if ! id "$DEMO_USER" >/dev/null 2>&1; then
        useradd -m -s /bin/sh "$DEMO_USER"
        echo "created user $DEMO_USER"
    fi
    for f in /etc/subuid /etc/subgid; do
        touch "$f"
        grep -q "^$DEMO_USER:" "$f" ||
            echo "$DEMO_USER:$(awk -F: 'BEGIN{e=100000} NF>=3 && $2+$3>e {e=$2+$3} END{print e}' "$f"):65536" >>"$f"
    done
    uid="$(id -u "$DEMO_USER")"
    install -d -m 0700 -o "$uid" -g "$(id -g "$DEMO_USER")" "/run/user/$uid"
    install -d -o "$uid" -g "$(id -g "$DEMO_USER")" "$DEMO/rootless"
    as_user=(setpriv --reuid="$uid" --regid="$(id -g "$DEMO_USER")" --init-groups
        env -i HOME="$(getent passwd "$DEMO_USER" | cut -d: -f6)" USER="$DEMO_USER"
        PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="/run/user/$uid" CRUNPP="$CRUNPP")
else
    mkdir -p "$DEMO/rootless"
    as_user=(env CRUNPP="$CRUNPP")
fi
"${as_user[@]}" bash -c "$(declare -f make_rootfs make_bundle); set -e
    make_bundle '$DEMO/rootless/bundle' --rootless
    echo \"as \$(id -un) (uid \$(id -u)):\"
    cd '$DEMO/rootless/bundle' && exec \"\$CRUNPP\" run demo-rootless-$$"
