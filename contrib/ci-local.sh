#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs .ci/run as CI does, to see CI's result before pushing: on a fresh
# clone of the committed HEAD (uncommitted changes are not tested), as root,
# with CI=true, no standard input, no controlling terminal, and a bare
# environment (no SHELL, TERM or LANG: a test that needs one must set it).
#
# Usage: contrib/ci-local.sh [CLONE_DIR]   (default: a new temp dir, removed
# afterwards). Prints CI's output; the exit status is .ci/run's.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
    echo "ci-local: CI runs as root; run this as root" >&2
    exit 1
fi

if [ $# -ge 1 ]; then
    CLONE="$1"
    [ ! -e "$CLONE" ] || { echo "ci-local: $CLONE exists" >&2; exit 1; }
    KEEP=1
else
    CLONE="$(mktemp -d /tmp/crunpp-ci.XXXXXX)"
    rmdir "$CLONE"
    KEEP=0
fi
cleanup() { [ "$KEEP" -eq 1 ] || rm -rf --one-file-system "$CLONE"; }
trap cleanup EXIT

git clone -q "$REPO" "$CLONE"
cd "$CLONE"
echo "ci-local: $(git log -1 --format='%h %s') in $CLONE"
rc=0
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
    setsid --wait bash .ci/run 0<&- || rc=$?
exit "$rc"
