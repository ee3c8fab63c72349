// SPDX-License-Identifier: GPL-2.0-or-later
// `delete [--force] ID`.
#include <csignal>
#include <optional>
#include <string>

#include "crunpp/cgroup.hpp"
#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/state.hpp"
#include "hooks_flow.hpp"
#include "launch.hpp"
#include "pidfd.hpp"
#include "signal_all.hpp"

namespace crunpp::container {
namespace {

// SIGKILL cannot be blocked; this only waits for the kernel to tear down.
constexpr int kKillTimeoutMs = 10000;

} // namespace

void remove(const Context &ctx, std::string_view id, bool force) {
    state::check_id(id);
    state::Store store(ctx.state_root);
    store.collect_garbage();
    // runc and crun: `delete --force` of a missing container succeeds, and
    // containerd's shim relies on it (it force-deletes after every delete).
    std::optional<state::Container> found = force ? store.try_open(id) : store.open(id);
    if (!found)
        return;
    state::Container &c = *found;
    const state::ContainerState &st = c.state();
    const std::string name(id);
    state::Status status = state::effective_status(st);
    // A created container has not run anything yet: runc deletes it without
    // --force; a running (or paused) one needs it.
    if ((status == state::Status::Running || status == state::Status::Paused) && !force)
        throw Error("cannot delete container " + name + " that is not stopped: it is " +
                    state::status_name(status) + " (use --force)");
    // Frozen processes do not die of SIGKILL before they are thawed. A pause
    // killed half-way leaves the cgroup frozen (or freezing) and the state
    // "running": thawed too, where there is a freezer.
    if (status == state::Status::Paused) {
        cgroup::freeze(st.cgroup_paths, false);
    } else if (status == state::Status::Running && !st.cgroup_paths.empty()) {
        try {
            cgroup::freeze(st.cgroup_paths, false);
        } catch (const Error &) { // no freezer: nothing can be frozen
        }
    }
    if (status != state::Status::Stopped) {
        if (UniqueFd init = open_process(st.pid, st.pid_start_time)) {
            signal_all(st.pid, init.get(), SIGKILL);
            if (!wait_exit(init.get(), kKillTimeoutMs))
                throw Error("delete container " + name + ": its init did not exit after SIGKILL");
        }
    }
    cgroup::destroy(st.cgroup_paths, cgroup::systemd_scope(st.extra));
    if (auto planned = st.extra.find(kStateCgroupPlanned); planned != st.extra.end()) {
        cgroup::Paths p;
        size_t pos = 0, end;
        while ((end = planned->second.find('\n', pos)) != std::string::npos) {
            p[std::to_string(p.size())] = planned->second.substr(pos, end - pos);
            pos = end + 1;
        }
        cgroup::remove_empty(p);
    }
    run_poststop(c);
    c.remove();
}

} // namespace crunpp::container
