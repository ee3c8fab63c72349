// SPDX-License-Identifier: GPL-2.0-or-later
// exec: entering the namespaces and the cgroup of a running container.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "crunpp/cgroup.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

// The CLONE_NEW* flags of the namespaces of `pid` (all eight types) that
// are not the caller's own: setns refuses to "join" one's own user
// namespace, and the others would be no-ops.
uint64_t namespaces_to_join(pid_t pid);

// In a single-threaded child: joins those namespaces of the process `pidfd`
// (`pid`) in one setns(pidfd, flags) call, which the kernel applies
// atomically, the user namespace first. Kernels without pidfd setns (before
// 5.8): the /proc/PID/ns files one by one (linux::join_namespaces: the user
// namespace first where it is needed). The process then has the container's
// root and cwd; only its children are in the container's pid namespace.
void join_container_namespaces(int pidfd, pid_t pid, uint64_t flags);
// The /proc/PID/ns fallback alone (for the tests).
void join_namespaces_by_files(pid_t pid, uint64_t flags);

// The cgroup2 directory of `paths` ("unified"), opened for clone3's
// CLONE_INTO_CGROUP; an empty fd when there is none. Errors name the dir
// (a --cgroup sub-cgroup that does not exist).
UniqueFd open_unified_cgroup(const cgroup::Paths &paths);
// Checks that every directory of `paths` exists (a --cgroup target).
void check_cgroup_dirs(const cgroup::Paths &paths);
// Moves the calling process into every v1 directory of `paths` (all but
// "unified"), each directory once; its children then start there.
void enter_v1_cgroups(const cgroup::Paths &paths);

} // namespace crunpp::container
