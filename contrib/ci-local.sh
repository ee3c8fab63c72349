#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs .ci/run as CI does, to see CI's result before pushing: on a fresh
# clone of the committed HEAD (uncommitted changes are not tested), as root,
# with CI=true, no standard input, no controlling terminal, and a bare
# environment (no SHELL, TERM or LANG: a test that needs one must set it).
#
# Usage: contrib/ci-local.sh [--no-shared] [CLONE_DIR]   (default: a new
# temp dir, removed afterwards). Prints CI's output; the exit status is
# .ci/run's.
#
# CI has the read-only ../shared (the OCI schemas, cri-tools) beside its
# clone; this copies the one beside this tree, if any, next to the clone.
# --no-shared leaves it out, as for someone who just cloned the repository:
# the tests that need it must skip, saying why, and nothing may fail.
set -euo pipefail

WITH_SHARED=1
if [ "${1:-}" = --no-shared ]; then
    WITH_SHARED=0
    shift
fi

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
    echo "ci-local: CI runs as root; run this as root" >&2
    exit 1
fi

# The clone goes one level down in a folder of its own, so that its
# ../shared is the copy made here, or nothing.
if [ $# -ge 1 ]; then
    CLONE="$1"
    [ ! -e "$CLONE" ] || { echo "ci-local: $CLONE exists" >&2; exit 1; }
    mkdir -p "$(dirname "$CLONE")"
    TOP=""
else
    TOP="$(mktemp -d /tmp/crunpp-ci.XXXXXX)"
    CLONE="$TOP/crunpp"
fi
cleanup() { [ -z "$TOP" ] || rm -rf --one-file-system "$TOP"; }
trap cleanup EXIT

SHARED="$(dirname "$CLONE")/shared"
if [ "$WITH_SHARED" -eq 1 ] && [ -d "$REPO/../shared" ] && [ ! -e "$SHARED" ]; then
    cp -a "$REPO/../shared/." "$SHARED"
    chmod -R a-w "$SHARED"
elif [ "$WITH_SHARED" -eq 0 ] && [ -e "$SHARED" ]; then
    echo "ci-local: --no-shared, but $SHARED exists beside the clone" >&2
    exit 1
fi

git clone -q "$REPO" "$CLONE"
cd "$CLONE"
echo "ci-local: $(git log -1 --format='%h %s') in $CLONE, ../shared: $([ -d "$SHARED" ] && echo present || echo absent)"
rc=0
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
    setsid --wait bash .ci/run 0<&- || rc=$?
exit "$rc"
