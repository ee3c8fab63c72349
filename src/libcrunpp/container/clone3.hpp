// SPDX-License-Identifier: GPL-2.0-or-later
// A fork-like clone3(2): no new stack, the child continues on a copy of the
// caller's memory, so the init needs no re-exec of crunpp.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace crunpp::container {

// clone3 with `flags` (CLONE_NEW*), SIGCHLD as exit signal and CLONE_PIDFD.
// Returns the child's pid in the parent (pidfd set) and 0 in the child.
// Throws Error in the parent on failure. cgroup_fd >= 0: a cgroup2 directory
// the child starts in (CLONE_INTO_CGROUP).
pid_t clone3_fork(uint64_t flags, int *pidfd, int cgroup_fd = -1);

} // namespace crunpp::container
