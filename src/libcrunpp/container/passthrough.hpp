// SPDX-License-Identifier: GPL-2.0-or-later
// What the caller's environment hands through to the container process:
// socket-activation fds (LISTEN_FDS), --preserve-fds, and the session
// keyring the init makes for itself. (NOTIFY_SOCKET: notify_proxy.hpp.)
#pragma once

#include <string>
#include <vector>

#include "crunpp/spec.hpp"

namespace crunpp::container {

struct Passthrough {
    int count = 0;           // fds 3..3+count-1
    std::vector<int> closed; // those of the range that were not open: skipped (crun)
    bool listen_fds = false; // LISTEN_PID is to be the container process's pid
};

// Adjusts the loaded config for the container process and says which fds
// from 3 up it keeps:
// - LISTEN_FDS=N, with LISTEN_PID absent or our pid (systemd socket
//   activation): fds 3..3+N-1 are kept and the process gets LISTEN_FDS=N,
//   and LISTEN_PID its own pid (set_listen_pid, in the init; as crun);
// - then `preserve_fds` more.
// An fd of the range that is not open (or is one of crunpp's, close-on-
// exec) is skipped: the process finds it closed.
Passthrough prepare_passthrough(spec::Config &cfg, int preserve_fds);

// The fds of 3..3+count-1 that are not the caller's (closed or close-on-
// exec): never kept or made inheritable.
std::vector<int> closed_fds_in_range(int count);

// In the init or exec's process: LISTEN_PID=<own pid> in `env`.
void set_listen_pid(std::vector<std::string> &env);

// In the init: joins a new session keyring "_ses.<id>" (runc's name), so the
// container does not share the caller's keys; the possessor keeps its
// rights, and the keyring gets search rights for the container user.
// ENOSYS (no keyring support) is not an error.
void join_session_keyring(const std::string &id, bool user_namespace);

} // namespace crunpp::container
