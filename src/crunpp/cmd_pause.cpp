// SPDX-License-Identifier: GPL-2.0-or-later
// `pause ID` and `resume ID`: the cgroup freezer (v1 freezer.state, v2
// cgroup.freeze), waiting until the kernel reports it done.
#include "cgroup_commands.hpp"
#include "crunpp/cgroup.hpp"

namespace crunpp::cli {
namespace {

int run_pause(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("pause", a, 1, 1, "container ID");
    state::Container c = open_container(g, "pause", a.positional[0], {state::Status::Running});
    cgroup::freeze(c.state().cgroup_paths, true);
    c.state().status = state::Status::Paused;
    c.save();
    return 0;
}

int run_resume(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("resume", a, 1, 1, "container ID");
    state::Container c = open_container(g, "resume", a.positional[0], {state::Status::Paused});
    cgroup::freeze(c.state().cgroup_paths, false);
    c.state().status = state::Status::Running;
    c.save();
    return 0;
}

} // namespace

extern const Command kPauseCommand;
const Command kPauseCommand = {"pause", "ID", "suspend every process of the container (cgroup freezer)", {}, run_pause};
extern const Command kResumeCommand;
const Command kResumeCommand = {"resume", "ID", "resume the processes of a paused container", {}, run_resume};

} // namespace crunpp::cli
