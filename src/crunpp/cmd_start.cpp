// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"
#include "crunpp/container.hpp"
#include "lifecycle_options.hpp"

namespace crunpp::cli {
namespace {

int run_start(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("start", a, 1, 1, "expects exactly one container ID");
    container::start(container_context(g), a.positional[0]);
    return 0;
}

} // namespace

extern const Command kStartCommand;
const Command kStartCommand = {"start", "ID", "start the process of a created container", {}, run_start};

} // namespace crunpp::cli
