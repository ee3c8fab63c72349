#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Docker with crunpp against Docker with runc: N `docker run --rm IMAGE true`
# and N `docker exec CTR true` per runtime, interleaved (crunpp, runc,
# crunpp, ...), after one warm-up each; prints the medians and the ratios.
# The daemon is the private dockerd of tests/integration/docker_helpers.bash
# (its own data root, exec root, socket, mount and network namespaces, both
# runtimes registered in its daemon.json), stopped at the end; the image is
# a static busybox from `docker import`. A benchmark, never a timed test.
#
# Usage: contrib/bench.sh docker [N]   (root; N defaults to 30;
#                                       CRUNPP=path overrides build/crunpp)
set -euo pipefail

N="${1:-30}"
case "$N" in
'' | *[!0-9]* | 0) echo "bench-docker.sh: N must be a positive integer" >&2; exit 1 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "bench-docker.sh: needs root (dockerd)" >&2; exit 1; }
here="$(cd "$(dirname "$0")/.." && pwd)"
CRUNPP="${CRUNPP:-$here/build/crunpp}"
[ -x "$CRUNPP" ] || { echo "bench-docker.sh: $CRUNPP not found; build first (ninja -C build)" >&2; exit 1; }
export CRUNPP
# shellcheck source=tests/integration/docker_helpers.bash
. "$here/tests/integration/docker_helpers.bash"
for tool in "$DOCKER_BIN" dockerd runc jq; do
    command -v "$tool" >/dev/null || { echo "bench-docker.sh: $tool not installed (docker.io, runc, jq)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "bench-docker.sh: needs a static busybox at /bin/busybox (busybox-static)" >&2; exit 1; }

work="$(mktemp -d /tmp/crunpp-bench-docker.XXXXXX)"
cleanup() {
    dk_stop || true
    rm -rf "$work"
}
trap cleanup EXIT

# What dk_start imports as $DK_IMG.
ROOTFS_CACHE="$work/rootfs"
mkdir -p "$ROOTFS_CACHE"/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$ROOTFS_CACHE/bin/busybox"
for applet in sh true sleep; do
    ln -s busybox "$ROOTFS_CACHE/bin/$applet"
done
dk_start runc >/dev/null

RUNTIMES=(crunpp runc)
for rt in "${RUNTIMES[@]}"; do
    dk run -d --runtime "$rt" --name "bench-$rt" "$DK_IMG" sleep 1000000 >/dev/null
done

# timed FILE CMD...: appends CMD's wall time in milliseconds to FILE.
timed() {
    local file="$1" t0 t1
    shift
    t0="$(date +%s%N)"
    "$@" >/dev/null 2>&1 || { echo "bench-docker.sh: failed: $*" >&2; exit 1; }
    t1="$(date +%s%N)"
    awk -v ns="$((t1 - t0))" 'BEGIN { printf "%.2f\n", ns / 1e6 }' >>"$file"
}

for rt in "${RUNTIMES[@]}"; do
    timed /dev/null dk run --rm --runtime "$rt" "$DK_IMG" true
    timed /dev/null dk exec "bench-$rt" true
done
for ((i = 0; i < N; i++)); do
    for rt in "${RUNTIMES[@]}"; do
        timed "$work/run.$rt" dk run --rm --runtime "$rt" "$DK_IMG" true
        timed "$work/exec.$rt" dk exec "bench-$rt" true
    done
done

median() {
    sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "Docker $(dk version --format "{{.Server.Version}}"): $N of each per runtime, interleaved"
printf '%-26s %12s %12s %8s\n' command "crunpp ms" "runc ms" ratio
for what in run exec; do
    c="$(median "$work/$what.crunpp")"
    r="$(median "$work/$what.runc")"
    label="docker run --rm IMAGE true"
    [ "$what" = exec ] && label="docker exec CTR true"
    printf '%-26s %12s %12s %8s\n' "$label" "$c" "$r" "$(awk -v c="$c" -v r="$r" 'BEGIN { printf "%.2f", c / r }')"
done
