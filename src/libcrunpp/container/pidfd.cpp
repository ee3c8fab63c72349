// SPDX-License-Identifier: GPL-2.0-or-later
#include "pidfd.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/state.hpp"

namespace crunpp::container {

UniqueFd pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) {
        if (errno == ESRCH)
            return UniqueFd();
        throw_errno("pidfd_open " + std::to_string(pid));
    }
    return UniqueFd(static_cast<int>(fd));
}

UniqueFd open_process(pid_t pid, uint64_t start_time) {
    if (pid <= 0)
        return UniqueFd();
    UniqueFd fd = pidfd_open(pid);
    // Checked after opening: the pidfd pins the process it names, so a match
    // now means the fd refers to the recorded process, not a successor.
    if (fd && state::process_start_time(pid) != start_time)
        fd.reset();
    return fd;
}

bool send_signal(int pidfd, int sig) {
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0)
        return true;
    if (errno == ESRCH)
        return false;
    throw_errno("send signal " + std::to_string(sig));
}

bool wait_exit(int pidfd, int timeout_ms) {
    struct pollfd p = {pidfd, POLLIN, 0};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r > 0)
            return true;
        if (r == 0)
            return false;
        if (errno != EINTR)
            throw_errno("wait for the container process");
    }
}

int reap(int pidfd) {
    siginfo_t info{};
    while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) < 0)
        if (errno != EINTR)
            throw_errno("wait for the container process");
    return exit_status(info.si_code, info.si_status);
}

void kill_and_reap(int pidfd) noexcept {
    if (pidfd < 0)
        return;
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    siginfo_t info{};
    while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
    }
}

} // namespace crunpp::container
