// SPDX-License-Identifier: GPL-2.0-or-later
// What the caller's environment hands through to the container process:
// socket-activation fds (LISTEN_FDS), --preserve-fds, and the session
// keyring the init makes for itself. (NOTIFY_SOCKET: notify_proxy.hpp.)
#pragma once

#include <string>

#include "crunpp/spec.hpp"

namespace crunpp::container {

// Adjusts the loaded config for the container process and returns how many
// fds from 3 up it keeps:
// - LISTEN_FDS=N with LISTEN_PID our pid (systemd socket activation): fds
//   3..3+N-1 are kept and the process gets LISTEN_FDS=N and LISTEN_PID=1,
//   as runc does;
// - then `preserve_fds` more; every fd of the range must be open.
int prepare_passthrough(spec::Config &cfg, int preserve_fds);

// In the init: joins a new session keyring "_ses.<id>" (runc's name), so the
// container does not share the caller's keys; the possessor keeps its
// rights, and the keyring gets search rights for the container user.
// ENOSYS (no keyring support) is not an error.
void join_session_keyring(const std::string &id, bool user_namespace);

} // namespace crunpp::container
