// SPDX-License-Identifier: GPL-2.0-or-later
#include "foreground.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "crunpp/error.hpp"
#include "notify_proxy.hpp"
#include "pidfd.hpp"

namespace crunpp::container {

ForwardedSignals::ForwardedSignals() {
    // Every signal, as runc and crun forward them: a SIGALRM, SIGPWR or
    // SIGRTMIN+3 (systemd's halt) meant for the container must reach it, not
    // end crunpp and leave the container behind. Not SIGCHLD, which is
    // about crunpp's own children. glibc's sigfillset already leaves out its
    // internal real-time signals; SIGKILL and SIGSTOP cannot be caught.
    sigfillset(&set_);
    for (int s : {SIGCHLD, SIGKILL, SIGSTOP})
        sigdelset(&set_, s);
    if (sigprocmask(SIG_BLOCK, &set_, &original_) < 0)
        throw_errno("block signals");
    fd_.reset(signalfd(-1, &set_, SFD_CLOEXEC));
    if (!fd_) {
        int err = errno;
        sigprocmask(SIG_SETMASK, &original_, nullptr);
        throw_errno("create a signalfd", err);
    }
}

ForwardedSignals::~ForwardedSignals() { sigprocmask(SIG_SETMASK, &original_, nullptr); }

int wait_forwarding(int pidfd, int sigfd, NotifyProxy *notify) {
    struct pollfd fds[3] = {{pidfd, POLLIN, 0}, {sigfd, POLLIN, 0}, {notify ? notify->fd() : -1, POLLIN, 0}};
    for (;;) {
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("wait for the container process");
        }
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
                send_signal(pidfd, static_cast<int>(si.ssi_signo));
        }
        // Also what the process sent just before it exited.
        if (notify && ((fds[2].revents & POLLIN) || (fds[0].revents & (POLLIN | POLLHUP))))
            notify->forward_pending_or_warn();
        if (fds[0].revents & (POLLIN | POLLHUP))
            return reap(pidfd);
    }
}

} // namespace crunpp::container
