// SPDX-License-Identifier: GPL-2.0-or-later
// `kill [--all] ID [SIGNAL]`.
#include <string>

#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/state.hpp"
#include "pidfd.hpp"
#include "signal_all.hpp"

namespace crunpp::container {

void kill(const Context &ctx, std::string_view id, const KillOptions &o) {
    state::Store store(ctx.state_root);
    state::Container c = store.open(id);
    const state::ContainerState &st = c.state();
    state::Status status = state::effective_status(st);
    UniqueFd init;
    if (status == state::Status::Created || status == state::Status::Running || status == state::Status::Paused)
        init = open_process(st.pid, st.pid_start_time);
    if (!init)
        throw Error("kill container " + std::string(id) + ": it is not running");
    if (o.all && !st.cgroup_paths.empty())
        signal_cgroup(st.cgroup_paths, init.get(), o.signal);
    else if (o.all)
        signal_all(st.pid, init.get(), o.signal);
    else if (!send_signal(init.get(), o.signal))
        throw Error("kill container " + std::string(id) + ": it is not running");
}

} // namespace crunpp::container
