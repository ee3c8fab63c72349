# SPDX-License-Identifier: GPL-2.0-or-later
# What cgroups.bats needs on top of helpers.bash and lifecycle_helpers.bash:
# the host's hierarchy and where a controller's files are.

# v2, hybrid or v1, as crunpp detects it.
cgroup_mode() {
    case "$(stat -f -c %T /sys/fs/cgroup)" in
    cgroup2fs) echo v2 ;;
    *)
        if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
            echo hybrid
        else
            echo v1
        fi
        ;;
    esac
}

# The container's cgroup directory for a v1 controller (or "unified") from
# its state.json.
cgroup_dir() {
    jq -r --arg k "$2" '.cgroupPaths[$k] // empty' "$STATE_ROOT/$1/state.json"
}

# The directory holding CONTROLLER's files: the v1 one, else the unified one.
controller_dir() {
    local d
    d="$(cgroup_dir "$1" "$2")"
    [ -n "$d" ] || d="$(cgroup_dir "$1" unified)"
    echo "$d"
}

# Every cgroup directory of the container, one per line.
cgroup_dirs() {
    jq -r '.cgroupPaths | to_entries[] | .value' "$STATE_ROOT/$1/state.json" | sort -u
}

# Whether CONTROLLER is a v1 hierarchy here.
is_v1_controller() {
    [ "$(cgroup_mode)" != v2 ] && [ -d "/sys/fs/cgroup/$1" ] && [ "$(stat -f -c %T "/sys/fs/cgroup/$1")" = cgroupfs ]
}

# A file of the container's cgroup as the container sees it: v1 under
# /sys/fs/cgroup/<controller>/, v2 directly under /sys/fs/cgroup/.
inner_path() {
    local ctrl="$1" v1file="$2" v2file="$3"
    if is_v1_controller "$ctrl"; then
        echo "/sys/fs/cgroup/$ctrl/$v1file"
    else
        echo "/sys/fs/cgroup/$v2file"
    fi
}

# Fails when any directory in the list (from cgroup_dirs) still exists.
assert_dirs_gone() {
    local d
    for d in "$@"; do
        if [ -d "$d" ]; then
            echo "cgroup dir left behind: $d" >&2
            return 1
        fi
    done
}

# No directory named ID in any hierarchy (the default place is /ID, or below
# the delegated subtree rootless), nor crunpp-ID (test_cgroups_path), nor
# the systemd driver's default scope crunpp-ID.scope (the user manager's is
# 5 levels down).
assert_no_cgroup_named() {
    local left
    left="$(find /sys/fs/cgroup -maxdepth 6 -type d \( -name "$1" -o -name "crunpp-$1" -o -name "crunpp-$1.scope" \) 2>/dev/null)"
    if [ -n "$left" ]; then
        echo "cgroup dirs left behind: $left" >&2
        return 1
    fi
}
