#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole fault-injection sweep (tests/faults/sweep.py): every syscall
# occurrence of create, start, run, run -d, exec, exec -d, kill, delete,
# update, pause and resume, rootful and rootless, failed with an errno and
# killed by SIGKILL, after the recorded regression points. Prints each
# failure (user, command, syscall, occurrence, what was left) and ends with
# "faults: N points, N passed, N failed". Run as root on Debian 12 with
# strace, busybox-static and the user crunpp-test (contrib/test.sh makes it).
#   contrib/faults.sh [--asan] [SWEEP-OPTIONS...]
#     --asan   the sanitizer build (build-asan/crunpp) instead of build/crunpp
#     e.g. --commands run,exec --modes kill --users root --max-occurrences 3
#   CRUNPP=PATH overrides the binary; the JSON report goes to
#   $FAULTS_REPORT (default faults-report.json in the current directory).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tree=build
if [ "${1:-}" = --asan ]; then
    tree=build-asan
    shift
fi
bin="${CRUNPP:-$REPO/$tree/crunpp}"
[ -x "$bin" ] || { echo "faults.sh: $bin not found: build it first (see README)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "faults.sh: run it as root" >&2; exit 1; }
command -v strace >/dev/null || { echo "faults.sh: strace is missing (apt-get install strace)" >&2; exit 1; }
# A copy the test user can execute, wherever the tree is; gone at exit.
work="$(mktemp -d /tmp/crunpp-faults-bin.XXXXXX)"
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
install -m 0755 "$bin" "$work/crunpp"
# LeakSanitizer cannot work under ptrace (the unit tests check leaks). A
# failed allocation returns NULL as glibc's malloc would (std::bad_alloc,
# crunpp's to handle), not a sanitizer abort.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# Not exec: the trap removes the copy afterwards.
python3 "$REPO/tests/faults/sweep.py" --crunpp "$work/crunpp" \
    --commands run,run-d,create,start,exec,exec-d,kill,delete,update,pause,resume \
    --regressions "$REPO/tests/faults/regressions.txt" \
    --report "${FAULTS_REPORT:-$PWD/faults-report.json}" "$@"
