// SPDX-License-Identifier: GPL-2.0-or-later
// What create and run share: their options and the library context.
#pragma once

#include <vector>

#include "cli.hpp"
#include "crunpp/container.hpp"

namespace crunpp::cli {

inline const std::vector<OptionSpec> kCreateOptions = {
    {"bundle", 'b', true, "path to the bundle directory (default: the current directory)"},
    {"config", 'f', true, "config file to use instead of <bundle>/config.json"},
    {"pid-file", 0, true, "file to write the container's host pid to"},
    {"no-pivot", 0, false, "do not use pivot_root (MS_MOVE + chroot; for a ramfs root)"},
};

inline container::Context container_context(const GlobalOptions &g) {
    container::Context ctx;
    ctx.state_root = g.state_root();
    ctx.rootless = g.is_rootless();
    ctx.cgroup_manager = g.cgroup_manager;
    ctx.systemd_cgroup = g.systemd_cgroup;
    return ctx;
}

inline container::CreateOptions create_options(const ParsedArgs &a) {
    container::CreateOptions o;
    o.id = a.positional.at(0);
    o.bundle = a.get_or("bundle", "");
    o.config_path = a.get_or("config", "");
    o.pid_file = a.get_or("pid-file", "");
    o.no_pivot = a.has("no-pivot");
    return o;
}

} // namespace crunpp::cli
