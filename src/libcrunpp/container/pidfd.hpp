// SPDX-License-Identifier: GPL-2.0-or-later
// Process handles: every signal crunpp sends goes through a pidfd that was
// checked against the start time recorded in the state, so a recycled pid
// is never signalled.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

// pidfd_open(2); an empty fd when the process does not exist, Error otherwise.
UniqueFd pidfd_open(pid_t pid);

// A pidfd on `pid` if it is still the process started at `start_time`
// (field 22 of /proc/PID/stat); empty when it is gone or was replaced.
UniqueFd open_process(pid_t pid, uint64_t start_time);

// pidfd_send_signal(2); false when the process has already exited.
bool send_signal(int pidfd, int sig);

// Waits until the process exits (its pidfd turns readable), at most
// timeout_ms; true when it has exited.
bool wait_exit(int pidfd, int timeout_ms);

// Reaps a child by its pidfd; returns the shell-style exit status.
int reap(int pidfd);

// SIGKILL and reap a child of ours (best effort, for error paths).
void kill_and_reap(int pidfd) noexcept;

} // namespace crunpp::container
