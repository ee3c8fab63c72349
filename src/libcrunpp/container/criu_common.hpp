// SPDX-License-Identifier: GPL-2.0-or-later
// What checkpoint and restore both tell CRIU about a container (runc's
// choices): its options, its bind mounts, devices and masked paths as
// external mounts, and the directories CRIU works in.
#pragma once

#include <string>
#include <vector>

#include "../criu/rpc.hpp"
#include "crunpp/error.hpp"
#include "crunpp/container.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

// The runtime's stdio, as the container's init had it: written at
// checkpoint (runc's file name), read at restore to hand pipes back.
inline constexpr const char *kCriuDescriptors = "descriptors.json";

// The options both share; `what` ("checkpoint") prefixes errors.
void set_common_criu_opts(criu::Opts &opts, const CriuOptions &o, const spec::Config &cfg, const std::string &what);

// A bind mount of the config (type bind, or a bind/rbind option).
bool is_bind_mount(const spec::Mount &m);
// "/" + the cleaned destination, as CRIU names mount points.
std::string criu_mount_point(const std::string &destination);

// The devices crunpp creates or binds: the config's and the default ones.
std::vector<std::string> device_paths(const spec::Config &cfg);

// A directory that `path` names, created (0700) when missing; `created` says
// whether this call made it (and so must remove it on failure).
UniqueFd open_or_make_dir(const std::string &path, bool &created, const std::string &what);

// Removes a directory tree this command created (best effort).
void remove_tree(const std::string &path) noexcept;

// checkpoint --status-fd on CRIU's "status-ready" (its page server serves
// the lazy pages): one \0 to `fd`, then `fd` is closed so that a reader
// also sees the end; a standard one (--status-fd 1) becomes /dev/null
// instead, so that no file opened later takes its number. `fd` is -1 then.
void report_status_ready(int &fd) noexcept;

// The error of a failed CRIU request, with the log's error lines.
Error criu_failure(const std::string &what, const criu::Response &r, int work_fd, const std::string &log_name,
                   const std::string &log_path);

} // namespace crunpp::container
