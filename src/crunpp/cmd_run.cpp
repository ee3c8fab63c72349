// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"
#include "crunpp/container.hpp"
#include "lifecycle_options.hpp"

namespace crunpp::cli {
namespace {

std::vector<OptionSpec> run_options() {
    std::vector<OptionSpec> o = kCreateOptions;
    o.push_back({"detach", 'd', false, "return once the process runs instead of waiting for it"});
    o.push_back({"keep", 0, false, "do not delete the container after its process exits"});
    return o;
}

int run_run(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("run", a, 1, 1, "expects exactly one container ID");
    container::RunOptions o;
    o.create = create_options(a);
    o.detach = a.has("detach");
    o.keep = a.has("keep");
    return container::run(container_context(g), o);
}

} // namespace

extern const Command kRunCommand;
const Command kRunCommand = {"run", "ID", "create and start a container, wait for it and return its exit status",
                             run_options(), run_run};

} // namespace crunpp::cli
