# SPDX-License-Identifier: GPL-2.0-or-later
# What terminal.bats, hooks.bats and security.bats share, on top of
# helpers.bash and lifecycle_helpers.bash.

# The helper programs of tests/helpers, copied where the test user can run them.
helper_bin() {
    local dir="$BATS_TEST_TMPDIR/bin"
    if [ ! -x "$dir/$1" ]; then
        install -d -m 0755 "$dir"
        install -m 0755 "$REPO_ROOT/build/tests/helpers/$1" "$dir/$1"
        _open_path "$dir"
    fi
    echo "$dir/$1"
}

# A directory the test user may create sockets and files in.
shared_dir() {
    local dir="$BATS_TEST_TMPDIR/shared"
    if [ ! -d "$dir" ]; then
        install -d -m 0777 "$dir"
        _open_path "$dir"
    fi
    echo "$dir"
}

# Waits (at most 10 s) until PATH is a socket.
wait_socket() {
    local i
    for i in $(seq 100); do
        [ -S "$1" ] && return 0
        sleep 0.1
    done
    echo "socket $1 did not appear" >&2
    return 1
}

# The host fds of PID, as "0 1 2 ...".
fds_of() {
    ls /proc/"$1"/fd | sort -n | xargs
}
