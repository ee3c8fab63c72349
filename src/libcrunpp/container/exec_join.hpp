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

// clone3 (fork-like, CLONE_PIDFD) of exec's helper, which starts in the
// cgroup2 directory of `paths` ("unified", CLONE_INTO_CGROUP) when there is
// one: 0 in the child, its pid in the parent. A directory that cannot hold
// processes (v2's "no internal processes" rule: the container made its
// cgroup an inner node) falls back, as runc, to the cgroup of
// `fallback_init` when that lies below it (0: no fallback, for --cgroup);
// else an error saying why. Errors name the directory. With `outside`
// (rootless, systemd driver), a cgroup the caller may not move a process to
// (cgroup v2 needs write access to the common ancestor: a login session is
// outside the user manager's subtree) starts the helper in the caller's
// cgroup and sets *outside to the directory (the fallback applied): the
// caller has systemd move the process there.
pid_t fork_into_cgroup(int *pidfd, const cgroup::Paths &paths, pid_t fallback_init, std::string *outside = nullptr);
// Checks that every directory of `paths` exists (a --cgroup target).
void check_cgroup_dirs(const cgroup::Paths &paths);
// Moves the calling process into every v1 directory of `paths` (all but
// "unified"), each directory once; its children then start there.
void enter_v1_cgroups(const cgroup::Paths &paths);

} // namespace crunpp::container
