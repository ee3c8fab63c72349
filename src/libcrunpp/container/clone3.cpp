// SPDX-License-Identifier: GPL-2.0-or-later
#include "clone3.hpp"

#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "crunpp/error.hpp"

namespace crunpp::container {

pid_t clone3_fork(uint64_t flags, int *pidfd, int cgroup_fd) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<uint64_t>(cgroup_fd);
    }
    long r = syscall(SYS_clone3, &args, sizeof args);
    if (r < 0)
        throw_errno("clone3 the container init");
    return static_cast<pid_t>(r);
}

} // namespace crunpp::container
