// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"
#include "crunpp/container.hpp"
#include "lifecycle_options.hpp"

namespace crunpp::cli {
namespace {

int run_create(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("create", a, 1, 1, "expects exactly one container ID");
    container::create(container_context(g), create_options(a));
    return 0;
}

} // namespace

extern const Command kCreateCommand;
const Command kCreateCommand = {"create", "ID", "create a container (its process waits for 'start')", kCreateOptions,
                                run_create};

} // namespace crunpp::cli
