// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli.hpp"
#include "crunpp/container.hpp"
#include "id_regex.hpp"
#include "lifecycle_options.hpp"

namespace crunpp::cli {
namespace {

int run_kill(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("kill", a, 1, 2, "expects a container ID and an optional signal");
    container::KillOptions o;
    if (a.positional.size() > 1)
        o.signal = container::parse_signal(a.positional[1]);
    o.all = a.has("all");
    if (a.has("regex")) {
        for_each_matching_id("kill", g, a.positional[0],
                             [&](const std::string &id) { container::kill(container_context(g), id, o); });
        return 0;
    }
    container::kill(container_context(g), a.positional[0], o);
    return 0;
}

} // namespace

extern const Command kKillCommand;
const Command kKillCommand = {"kill", "ID [SIGNAL]", "send a signal (default SIGTERM) to the container's process",
                              {{"all", 'a', false, "send the signal to every process of the container"},
                               {"regex", 'r', false, "ID is a regular expression: signal every match (crun)"}},
                              run_kill};

} // namespace crunpp::cli
