// SPDX-License-Identifier: GPL-2.0-or-later
// `crunpp state ID`: the OCI state of one container, as runc prints it.
#include "cli.hpp"
#include "crunpp/error.hpp"
#include "crunpp/state.hpp"

namespace crunpp::cli {
namespace {

int run_state(const GlobalOptions &global, const ParsedArgs &args) {
    require_positional("state", args, 1, 1, "container ID");
    const std::string &id = args.positional[0];
    state::Store store(global.state_root());
    // No lock: state.json is replaced atomically, and a reader must not wait
    // behind a create or delete in progress.
    std::optional<state::ContainerState> s = store.read(id);
    if (!s)
        throw Error("container \"" + id + "\" does not exist");
    s->status = state::effective_status(*s);
    out(state::to_oci_json(*s, true, state::PidWhenNone::Zero) + "\n");
    return 0;
}

} // namespace

extern const Command kStateCommand;
const Command kStateCommand = {"state", "ID", "print the OCI state of a container as JSON", {}, run_state};

} // namespace crunpp::cli
