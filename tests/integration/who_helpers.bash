# SPDX-License-Identifier: GPL-2.0-or-later
# One test body for root and rootless: WHO is "root" or "rootless".

# bundle_as WHO ARGS...: $B with ARGS as the process, for WHO.
bundle_as() {
    local who="$1"
    shift
    if [ "$who" = rootless ]; then
        make_rootless_bundle "$B" "$@"
    else
        require_root
        make_bundle "$B" "$@"
    fi
}

# crunpp_as WHO ARGS...: crunpp as root or as the test user.
crunpp_as() {
    local who="$1"
    shift
    if [ "$who" = rootless ]; then crunpp_rootless "$@"; else crunpp "$@"; fi
}
