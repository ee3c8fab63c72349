// SPDX-License-Identifier: GPL-2.0-or-later
// Idmapped mounts of a container with a user namespace. The kernel lets only
// a process of the initial user namespace idmap a host filesystem, so crunpp
// (real root) makes them as detached trees (H5's prepare_idmapped_mounts)
// and the init attaches them (RootfsOptions::prepared_mounts).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "crunpp/container.hpp"
#include "crunpp/spec.hpp"
#include "plan.hpp"
#include "sync.hpp"

namespace crunpp::container {

// Whether the parent makes the config's bind mounts (idmapped or not, see
// linux::prepare_idmapped_mounts): a user namespace, real root, and at
// least one bind mount.
bool prepares_idmapped_mounts(const Context &ctx, const NamespacePlan &plan, const spec::Config &cfg);

// For a new user namespace (its maps written): makes the trees with the
// init's /proc/PID/ns/user and sends them with their config mount indices
// (SyncType::Mounts, at most kMaxSyncFds per message) before its "go".
// Then the linux.devices the host lacks (linux::prepare_missing_devices),
// with indices after the mounts'.
void send_idmapped_mounts(SyncSocket &sync, const spec::Config &cfg, const std::string &bundle, pid_t pid,
                          const NamespacePlan &plan);

// For a joined user namespace (its maps exist): the trees, index-aligned
// with cfg.mounts, made before the clone for the init to inherit.
std::vector<UniqueFd> prepare_for_joined_userns(const spec::Config &cfg, const std::string &bundle,
                                                const NamespacePlan &plan);

} // namespace crunpp::container
