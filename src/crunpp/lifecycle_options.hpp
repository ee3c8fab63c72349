// SPDX-License-Identifier: GPL-2.0-or-later
// What create and run share: their options and the library context.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "crunpp/container.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cli {

inline const std::vector<OptionSpec> kCreateOptions = {
    {"bundle", 'b', true, "path to the bundle directory (default: the current directory)"},
    {"config", 'f', true, "config file to use instead of <bundle>/config.json"},
    {"pid-file", 0, true, "file to write the container's host pid to"},
    {"no-pivot", 0, false, "do not use pivot_root (MS_MOVE + chroot; for a ramfs root)"},
    {"console-socket", 0, true, "AF_UNIX socket that receives the pty master of a terminal container"},
    {"pidfd-socket", 0, true, "AF_UNIX socket that receives a pidfd of the container's init"},
    {"preserve-fds", 0, true, "number of extra fds (from 3, after LISTEN_FDS ones) passed to the container"},
    {"no-new-keyring", 0, false, "do not give the container its own session keyring"},
    // runc's run and crun's create/run: crunpp is a subreaper only while it
    // adopts an init forked in a pid namespace, which it must wait for.
    {"no-subreaper", 0, false, "accepted for runc and crun (crunpp keeps no subreaper besides its init's)"},
};

inline container::Context container_context(const GlobalOptions &g) {
    container::Context ctx;
    ctx.state_root = g.state_root();
    ctx.rootless = g.is_rootless();
    ctx.cgroup_manager = g.cgroup_manager;
    ctx.systemd_cgroup = g.systemd_cgroup;
    ctx.criu_path = g.criu;
    return ctx;
}

// --preserve-fds of run, create and exec.
inline int parse_fd_count(const std::string &n) {
    if (std::optional<int> count = parse_non_negative(n))
        return *count;
    throw Error("preserve-fds: \"" + n + "\" is not a number of fds");
}

inline container::CreateOptions create_options(const ParsedArgs &a) {
    container::CreateOptions o;
    o.id = a.positional.at(0);
    o.bundle = a.get_or("bundle", "");
    o.config_path = a.get_or("config", "");
    o.pid_file = a.get_or("pid-file", "");
    o.no_pivot = a.has("no-pivot");
    o.console_socket = a.get_or("console-socket", "");
    o.pidfd_socket = a.get_or("pidfd-socket", "");
    o.no_new_keyring = a.has("no-new-keyring");
    if (std::optional<std::string> n = a.get("preserve-fds"))
        o.preserve_fds = parse_fd_count(*n);
    return o;
}

} // namespace crunpp::cli
