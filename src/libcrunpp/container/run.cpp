// SPDX-License-Identifier: GPL-2.0-or-later
// `run`: create and start in one process; in the foreground crunpp stays
// the parent of the init, forwards signals to it and returns its status.
#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>

#include "crunpp/container.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/error.hpp"
#include "crunpp/state.hpp"
#include "../hooks/hooks.hpp"
#include "foreground.hpp"
#include "hooks_flow.hpp"
#include "launch.hpp"
#include "notify_proxy.hpp"
#include "pidfd.hpp"
#include "terminal.hpp"

namespace crunpp::container {
namespace {

// Removes (or, with keep, marks stopped) the state, unless a concurrent
// delete already did and the id now names another container.
void finish(const Context &ctx, const std::string &id, pid_t pid, uint64_t start_time, bool keep) {
    try {
        state::Store store(ctx.state_root);
        state::Container c = store.open(id);
        if (c.state().pid != pid || c.state().pid_start_time != start_time)
            return;
        if (keep) {
            c.state().status = state::Status::Stopped;
            c.save();
        } else {
            cgroup::destroy(c.state().cgroup_paths, cgroup::systemd_scope(c.state().extra));
            run_poststop(c);
            c.remove();
        }
    } catch (const Error &) {
        // Deleted meanwhile (`delete --force` from elsewhere): nothing to do.
        if (keep)
            throw;
    }
}

} // namespace

int run(const Context &ctx, const RunOptions &o) {
    std::optional<ForwardedSignals> signals;
    if (!o.detach)
        signals.emplace();
    LaunchMode mode;
    mode.run = true;
    mode.child_mask = signals ? signals->original() : nullptr;
    mode.save_created = false;
    mode.proxy_terminal = !o.detach;
    Launched l = launch(ctx, o.create, mode);
    try {
        l.sync.send(SyncType::Start);
        // The init's end is close-on-exec: EOF means execve succeeded,
        // a message that it failed.
        if (std::optional<SyncMessage> m = l.sync.receive()) {
            if (m->type == SyncType::Failed)
                throw Error(std::move(m->text), m->value);
            throw Error("sync with the container init: unexpected message");
        }
        l.container.state().status = state::Status::Running;
        l.container.save();
    } catch (...) {
        abort_launch(l);
        throw;
    }
    const std::string id = o.create.id;
    const pid_t pid = l.pid;
    const uint64_t start_time = l.container.state().pid_start_time;
    UniqueFd pidfd = std::move(l.pidfd);
    UniqueFd console = std::move(l.console);
    std::optional<NotifyProxy> notify = std::move(l.notify);
    state::ContainerState running = l.container.state();
    {
        // Release the lock: kill and delete from elsewhere take it (a
        // poststart hook may run `crunpp state`).
        state::Container released = std::move(l.container);
    }
    if (l.hooks && !l.hooks->poststart.empty()) {
        try {
            HookOutput out = open_hook_output(running.annotations, true);
            hooks::run("poststart", l.hooks->poststart, hook_state_json(running, state::Status::Running, pid),
                       out.options());
        } catch (...) {
            // A failed poststart hook fails the container (runtime-spec 1.3).
            kill_and_reap(pidfd.get());
            finish(ctx, id, pid, start_time, o.keep);
            throw;
        }
    }
    if (o.detach) {
        // The caller (systemd) learns the container's init as main pid.
        if (notify) {
            notify->set_main_pid(pid);
            notify->wait_ready(pidfd.get());
        }
        return 0;
    }
    // In the foreground crunpp stays the main process, as with runc.
    if (notify)
        notify->set_main_pid(getpid());
    NotifyProxy *n = notify ? &*notify : nullptr;
    int status = console ? proxy_terminal(console.get(), pidfd.get(), signals->fd(), l.console_size_set, n)
                         : wait_forwarding(pidfd.get(), signals->fd(), n);
    finish(ctx, id, pid, start_time, o.keep);
    return status;
}

} // namespace crunpp::container
