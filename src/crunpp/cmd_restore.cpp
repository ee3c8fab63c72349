// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"
#include "criu_options.hpp"
#include "crunpp/container.hpp"
#include "lifecycle_options.hpp"

namespace crunpp::cli {
namespace {

std::vector<OptionSpec> restore_options() {
    std::vector<OptionSpec> o = kCriuOptions;
    o.push_back({"bundle", 'b', true, "path to the bundle directory (default: the current directory)"});
    o.push_back({"detach", 'd', false, "return once the container runs instead of waiting for it"});
    o.push_back({"pid-file", 0, true, "file to write the restored init's host pid to"});
    o.push_back({"console-socket", 0, true, "AF_UNIX socket that receives the pty master of a terminal container"});
    o.push_back({"no-pivot", 0, false, "accepted for runc (CRIU rebuilds the root itself; nothing to pivot)"});
    o.push_back({"lsm-profile", 0, true, "TYPE:NAME: the LSM profile of the restored processes"});
    o.push_back({"lsm-mount-context", 0, true, "the SELinux context of the restored mounts"});
    return o;
}

int run_restore(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("restore", a, 1, 1, "expects exactly one container ID");
    container::RestoreOptions o;
    o.create.id = a.positional[0];
    o.create.bundle = a.get_or("bundle", "");
    o.create.pid_file = a.get_or("pid-file", "");
    o.create.console_socket = a.get_or("console-socket", "");
    o.create.no_pivot = a.has("no-pivot");
    o.criu = criu_options(a);
    o.detach = a.has("detach");
    o.lsm_profile = a.get_or("lsm-profile", "");
    o.lsm_mount_context = a.get_or("lsm-mount-context", "");
    return container::restore(container_context(g), o);
}

} // namespace

extern const Command kRestoreCommand;
const Command kRestoreCommand = {"restore", "ID", "restore a container from a CRIU checkpoint", restore_options(),
                                 run_restore};

} // namespace crunpp::cli
