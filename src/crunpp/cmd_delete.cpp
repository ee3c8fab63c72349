// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"
#include "crunpp/container.hpp"
#include "id_regex.hpp"
#include "lifecycle_options.hpp"

namespace crunpp::cli {
namespace {

int run_delete(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("delete", a, 1, 1, "expects exactly one container ID");
    if (a.has("regex")) {
        for_each_matching_id("delete", g, a.positional[0],
                             [&](const std::string &id) { container::remove(container_context(g), id, a.has("force")); });
        return 0;
    }
    container::remove(container_context(g), a.positional[0], a.has("force"));
    return 0;
}

} // namespace

extern const Command kDeleteCommand;
const Command kDeleteCommand = {"delete", "ID", "delete a stopped container and everything created for it",
                                {{"force", 'f', false, "kill a running container first"},
                                 {"regex", 'r', false, "ID is a regular expression: delete every match (crun)"}},
                                run_delete};

} // namespace crunpp::cli
