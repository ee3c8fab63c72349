// SPDX-License-Identifier: GPL-2.0-or-later
// `kill [--all] ID [SIGNAL]`, with runc's answers for a stopped container,
// which containerd's runc shim (go-runc) reads by their wording: "container
// not running" (and "no such process") mean the process is already gone.
#include <csignal>
#include <string>

#include "crunpp/cgroup.hpp"
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
    if (o.all) {
        // After the init exited, --all still signals whatever is left in the
        // cgroup (a container without its own pid namespace leaves
        // processes) and succeeds as runc does: containerd's task delete
        // sends `kill --all KILL` to every exited container.
        if (!st.cgroup_paths.empty())
            signal_cgroup(st.cgroup_paths, init.get(), o.signal);
        else if (init)
            signal_all(st.pid, init.get(), o.signal);
    } else if (!init || !send_signal(init.get(), o.signal)) {
        throw Error("kill container " + std::string(id) + ": container not running");
    }
    // Frozen processes do not die of SIGKILL before they are thawed (cgroup
    // v1); runc thaws a paused container it kills.
    if (o.signal == SIGKILL && status == state::Status::Paused)
        cgroup::freeze(st.cgroup_paths, false);
}

} // namespace crunpp::container
