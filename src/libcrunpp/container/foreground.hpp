// SPDX-License-Identifier: GPL-2.0-or-later
// The foreground wait of `run` and `exec`: crunpp stays the parent of the
// process, forwards the signals it gets to it and returns its status.
#pragma once

#include <csignal>

#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

class NotifyProxy;

// Blocks every signal but SIGCHLD for the lifetime of the object (they are
// read from a signalfd instead, to be forwarded); the child restores
// original() before it execs.
class ForwardedSignals {
public:
    ForwardedSignals();
    ~ForwardedSignals();
    ForwardedSignals(const ForwardedSignals &) = delete;
    ForwardedSignals &operator=(const ForwardedSignals &) = delete;

    const sigset_t *original() const { return &original_; }
    int fd() const { return fd_.get(); }

private:
    sigset_t set_, original_;
    UniqueFd fd_;
};

// Until the child (pidfd) exits: every signal read from `sigfd` goes to it,
// and with `notify` every sd_notify message of the container goes on to the
// host. Returns its shell-style status, reaped.
int wait_forwarding(int pidfd, int sigfd, NotifyProxy *notify = nullptr);

} // namespace crunpp::container
