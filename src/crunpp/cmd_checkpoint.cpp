// SPDX-License-Identifier: GPL-2.0-or-later
#include <optional>
#include <string>

#include "cli.hpp"
#include "criu_options.hpp"
#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "lifecycle_options.hpp"

namespace crunpp::cli {
namespace {

std::vector<OptionSpec> checkpoint_options() {
    std::vector<OptionSpec> o = kCriuOptions;
    o.push_back({"parent-path", 0, true, "path of the previous (pre-)dump, relative to --image-path"});
    o.push_back({"leave-running", 0, false, "leave the container running after the checkpoint"});
    o.push_back({"pre-dump", 0, false, "dump the memory only, to be followed by a final dump with --parent-path"});
    o.push_back({"page-server", 0, true, "ADDRESS:PORT of a CRIU page server that gets the memory pages"});
    o.push_back({"status-fd", 0, true, "with --lazy-pages: a descriptor written \\0, then closed, once the lazy pages can be fetched"});
    return o;
}

int parse_status_fd(const std::string &n) {
    if (std::optional<int> fd = parse_non_negative(n))
        return *fd;
    throw Error("checkpoint: --status-fd \"" + n + "\": not a file descriptor number");
}

int run_checkpoint(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("checkpoint", a, 1, 1, "expects exactly one container ID");
    container::CheckpointOptions o;
    o.id = a.positional[0];
    o.criu = criu_options(a);
    o.parent_path = a.get_or("parent-path", "");
    o.leave_running = a.has("leave-running");
    o.pre_dump = a.has("pre-dump");
    o.page_server = a.get_or("page-server", "");
    if (std::optional<std::string> fd = a.get("status-fd"))
        o.status_fd = parse_status_fd(*fd);
    container::checkpoint(container_context(g), o);
    return 0;
}

} // namespace

extern const Command kCheckpointCommand;
const Command kCheckpointCommand = {"checkpoint", "ID", "checkpoint a running container with CRIU",
                                    checkpoint_options(), run_checkpoint};

} // namespace crunpp::cli
