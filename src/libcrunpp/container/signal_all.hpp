// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include "crunpp/cgroup.hpp"

namespace crunpp::container {

// Sends `sig` to every process of the container whose init is `pid`
// (pidfd `init_pidfd`, already checked against the recorded start time):
// all processes of its pid namespace when the init is that namespace's
// pid 1, otherwise the init alone. Each one through its own pidfd, with the
// namespace checked again after opening it, so no recycled pid is hit.
void signal_all(pid_t pid, int init_pidfd, int sig);

// `kill --all` of a container with a cgroup: every process in it, each
// through a pidfd opened while it is still listed there, then the init
// (init_pidfd -1 once the init has exited: what is left in the cgroup).
void signal_cgroup(const cgroup::Paths &paths, int init_pidfd, int sig);

} // namespace crunpp::container
