// SPDX-License-Identifier: GPL-2.0-or-later
// What the caller's environment hands through to the container process:
// socket-activation fds (LISTEN_FDS), --preserve-fds, the sd_notify socket
// (NOTIFY_SOCKET), and the session keyring the init makes for itself.
#pragma once

#include <string>

#include "crunpp/spec.hpp"

namespace crunpp::container {

// Where the host's notify socket appears inside the container (runc's path).
inline constexpr const char *kContainerNotifySocket = "/run/notify/notify.sock";

// Adjusts the loaded config for the container process and returns how many
// fds from 3 up it keeps:
// - LISTEN_FDS=N with LISTEN_PID our pid (systemd socket activation): fds
//   3..3+N-1 are kept and the process gets LISTEN_FDS=N and LISTEN_PID=1,
//   as runc does;
// - then `preserve_fds` more; every fd of the range must be open;
// - NOTIFY_SOCKET=/path: the socket is bound at kContainerNotifySocket and
//   the process's NOTIFY_SOCKET names it (an abstract "@name" is passed as
//   is: it reaches the host only without a network namespace of its own).
int prepare_passthrough(spec::Config &cfg, int preserve_fds);

// In the init: joins a new session keyring "_ses.<id>" (runc's name), so the
// container does not share the caller's keys; the possessor keeps its
// rights, and the keyring gets search rights for the container user.
// ENOSYS (no keyring support) is not an error.
void join_session_keyring(const std::string &id, bool user_namespace);

} // namespace crunpp::container
