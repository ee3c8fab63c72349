// SPDX-License-Identifier: GPL-2.0-or-later
// Which namespaces the container creates and which it joins, decided in the
// parent before the clone: the join paths are opened (and their types
// checked) here, so a bad path fails `create` before any process exists.
#pragma once

#include <cstdint>
#include <vector>

#include "../linux/ns/userns.hpp"
#include "crunpp/spec.hpp"

namespace crunpp::container {

struct NamespacePlan {
    // CLONE_NEW* given to clone3: every new namespace when nothing is joined.
    uint64_t clone_flags = 0;
    // When something is joined, the init joins first (its user namespace
    // first) and then unshares these, so that they belong to the joined user
    // namespace (a clone would make them belong to crunpp's).
    uint64_t unshare_flags = 0;
    linux::NamespaceFds joins; // joined by the init with linux::join_namespaces
    // unshare/setns of a pid namespace only moves children: then the init is
    // a fork of the cloned process, which reports its pid and exits.
    bool fork_in_child = false;

    // Without one the container runs in the caller's mount namespace, only
    // chrooted into its rootfs (check_without_mount_namespace).
    bool mount_namespace = true;
    bool new_user = false;   // a user namespace is created (maps to write)
    bool user = false;       // in a user namespace (new or joined)
    bool new_pid = false;
    bool network = false;    // in its own network namespace (new or joined)
    bool new_network = false; // a network namespace is created (lo to set up)
    bool cgroup = false;
    bool new_time = false;   // time namespace with offsets (H8's enter_time_namespace)
    std::vector<spec::IdMapping> uid_mappings, gid_mappings;
};

// rootless: no real root; a config without a user namespace gets one mapping
// the caller (and its subordinate ids) as crun does.
NamespacePlan plan_namespaces(const spec::Config &cfg, bool rootless);

} // namespace crunpp::container
