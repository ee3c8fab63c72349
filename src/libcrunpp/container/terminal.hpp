// SPDX-License-Identifier: GPL-2.0-or-later
// process.terminal: the pty made inside the container, the fds sent over
// unix sockets (--console-socket, --pidfd-socket), and the foreground
// terminal proxy of `run`.
#pragma once

#include <string>
#include <string_view>

#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

class NotifyProxy;

// In the init, after the root change: opens /dev/pts/ptmx of the
// container's devpts, gets the peer with TIOCGPTPEER (never by path:
// CVE-2025-52565), applies consoleSize, binds the peer on /dev/console and
// makes it the controlling terminal and stdin/stdout/stderr of a new
// session. Returns the master; `name` gets the peer's path (/dev/pts/N).
// An exec'd process (bind_console false) leaves /dev/console to the init's.
UniqueFd setup_init_terminal(const spec::Process &p, std::string &name, bool bind_console = true);

// Connects to the AF_UNIX socket at `path` and sends `fd` with SCM_RIGHTS
// and `payload` as the message data. `what` names the option in errors.
// A receiver that does not accept or read within kSendTimeoutSeconds is
// an error.
inline constexpr int kSendTimeoutSeconds = 5;
void send_fd_to_socket(const std::string &path, int fd, std::string_view payload, std::string_view what);

// `run` in the foreground with a terminal and no console socket: copies
// crunpp's stdin to the master and the master to crunpp's stdout until the
// process (pidfd) exits; stdin in raw mode while it is a tty (restored
// after), its window size follows SIGWINCH; the other signals read from
// `sigfd` are forwarded. keep_size: process.consoleSize is set, the
// initial size is not taken from crunpp's terminal. With `notify`, the
// container's sd_notify messages go on to the host meanwhile. Returns the
// process's status (reaped).
int proxy_terminal(int master, int pidfd, int sigfd, bool keep_size, NotifyProxy *notify = nullptr);

} // namespace crunpp::container
