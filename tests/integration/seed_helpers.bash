# SPDX-License-Identifier: GPL-2.0-or-later
# The seed's Express + PostgreSQL app (tests/integration/seed-app/) for
# compose.bats: its images need a Debian base, as no registry is reachable.
#
#   seed_prepare      once per cache: a Debian bookworm minbase made by
#                     debootstrap with Debian's nodejs and postgresql-15, as a
#                     tarball ($SEED_BASE_TAR), and `npm install` of the app's
#                     package.json on the host ($SEED_MODULES)
#   seed_app DIR      a copy of the app with its node_modules: a build context
#   $SEED_KEY         names the base image (crunpp-seed-base:$SEED_KEY)
#
# The cache is $CRUNPP_TEST_CACHE/seed (contrib/test.sh: one per run), else
# tests/.cache/seed in the source tree (gitignored), kept between hand runs.
# Its entries are keyed by what made them, so a change rebuilds.

SEED_SRC="$REPO_ROOT/tests/integration/seed-app"
SEED_SUITE=bookworm
SEED_PACKAGES=nodejs,postgresql-15
SEED_MIRROR="${CRUNPP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SEED_TIMEOUT=900

_seed_cache() {
    if [ -n "${CRUNPP_TEST_CACHE:-}" ]; then
        echo "$CRUNPP_TEST_CACHE/seed"
    else
        echo "$REPO_ROOT/tests/.cache/seed"
    fi
}

# debootstrap mounts /proc and /sys in the target: in a mount namespace of
# its own, they cannot outlive it even when it fails half-way.
_seed_build_base() {
    local out="$1" dir
    dir="$(mktemp -d "$(dirname "$out")/base.XXXXXX")"
    timeout "$SEED_TIMEOUT" unshare -m --propagation private \
        debootstrap --variant=minbase --include="$SEED_PACKAGES" "$SEED_SUITE" "$dir/rootfs" "$SEED_MIRROR" \
        >"$dir/debootstrap.log" 2>&1 || {
        echo "seed_helpers: debootstrap failed; the end of its log:" >&2
        tail -n 20 "$dir/debootstrap.log" >&2
        rm -rf --one-file-system "$dir"
        return 1
    }
    # What an image needs no copy of: downloaded packages, apt lists,
    # documentation, and the cluster postgresql-15's postinst made (the
    # image's entrypoint makes its own in the volume).
    (cd "$dir/rootfs" && rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc \
        usr/share/man usr/share/info var/lib/postgresql/15 etc/postgresql/15 var/log/*.log)
    tar --numeric-owner -C "$dir/rootfs" -cf "$out.tmp" . && mv "$out.tmp" "$out"
    local rc=$?
    rm -rf --one-file-system "$dir"
    return "$rc"
}

_seed_npm_install() {
    local out="$1" dir
    dir="$(mktemp -d "$(dirname "$out")/npm.XXXXXX")"
    cp "$SEED_SRC/package.json" "$dir/"
    # Its own npm cache: nothing in root's ~/.npm.
    (cd "$dir" && timeout 300 env npm_config_cache="$dir/.npm" npm install --omit=dev --no-audit --no-fund \
        --loglevel=error >"$dir/npm.log" 2>&1) || {
        echo "seed_helpers: npm install failed:" >&2
        tail -n 20 "$dir/npm.log" >&2
        rm -rf "$dir"
        return 1
    }
    mv "$dir/node_modules" "$out" && rm -rf "$dir"
}

seed_prepare() {
    local cache
    cache="$(_seed_cache)"
    mkdir -p "$cache"
    SEED_KEY="$(printf '%s\n' "$SEED_SUITE" "$SEED_PACKAGES" "$(declare -f _seed_build_base)" |
        sha256sum | cut -c1-12)"
    SEED_BASE_TAR="$cache/base-$SEED_KEY.tar"
    SEED_MODULES="$cache/node_modules-$(sha256sum <"$SEED_SRC/package.json" | cut -c1-12)"
    export SEED_KEY SEED_BASE_TAR SEED_MODULES
    _once "$SEED_BASE_TAR.done" _seed_build_base "$SEED_BASE_TAR" || return 1
    _once "$SEED_MODULES.done" _seed_npm_install "$SEED_MODULES" || return 1
    # Rootless podman imports the tarball as the test user.
    _open_path "$cache"
}

seed_app() {
    local dir="$1"
    mkdir -p "$dir"
    cp -a "$SEED_SRC/." "$dir/"
    cp -a "$SEED_MODULES" "$dir/node_modules"
}
