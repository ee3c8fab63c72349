// SPDX-License-Identifier: GPL-2.0-or-later
// `start`: read the byte the init writes into the exec fifo; the init then
// execs the container process.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <optional>
#include <string>

#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/state.hpp"
#include "../hooks/hooks.hpp"
#include "hooks_flow.hpp"
#include "launch.hpp"
#include "notify_proxy.hpp"
#include "pidfd.hpp"
#include "signal_all.hpp"

namespace crunpp::container {

namespace {

// The rest of the exec fifo until EOF (the init exec'd or exited), at most
// 4 KiB of it.
std::string read_until_exec(int fifo) {
    std::string out;
    char buf[1024];
    for (;;) {
        struct pollfd pfd = {fifo, POLLIN, 0};
        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("start: wait for the container process");
        }
        ssize_t n = read(fifo, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return out;
        if (out.size() < 4096)
            out.append(buf, static_cast<size_t>(n));
    }
}

} // namespace

void start(const Context &ctx, std::string_view id) {
    state::Store store(ctx.state_root);
    state::Container c = store.open(id);
    state::ContainerState &st = c.state();
    const std::string name(id);
    state::Status status = state::effective_status(st);
    if (status != state::Status::Created)
        throw Error("cannot start container " + name + ": it is " + state::status_name(status) + ", not created");
    // The init's pidfd first: opening the fifo releases the init, whose
    // process may then run and exit before we look (containerd's shim saw
    // `start` fail on `sh -c 'echo hi'`). Its byte in the fifo says it started.
    UniqueFd init = open_process(st.pid, st.pid_start_time);
    if (!init)
        throw Error("start container " + name + ": its init has exited");
    // Listening before the init is released: its process may notify at once.
    std::optional<NotifyProxy> notify;
    if (auto host = st.extra.find(kStateNotifySocket); host != st.extra.end()) {
        notify = NotifyProxy::rebind(c.dir_fd(), host->second);
        notify->set_main_pid(st.pid);
    }
    // Non-blocking open: a fifo reader never waits for a writer, and the
    // poll below also watches the init so that its death cannot hang us.
    UniqueFd fifo(openat(c.dir_fd(), kExecFifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo)
        throw_errno("start container " + name + ": open the exec fifo");
    struct pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {init.get(), POLLIN, 0}};
    while (poll(fds, 2, -1) < 0)
        if (errno != EINTR)
            throw_errno("start container " + name + ": wait for the init");
    char byte;
    ssize_t r;
    do
        r = read(fifo.get(), &byte, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1)
        throw Error("start container " + name + ": its init exited before starting");
    unlinkat(c.dir_fd(), kExecFifo, 0);
    // The init keeps its end open until execve closes it; what it writes
    // before is why the process could not start (startContainer hooks,
    // the seccomp load, execve): start's error, as the runtime-spec asks.
    if (std::string failed = read_until_exec(fifo.get()); !failed.empty())
        throw Error(failed);
    st.status = state::Status::Running;
    c.save();
    const state::ContainerState running = st;
    const std::string dir = c.dir();
    {
        // Released first: a poststart hook may run `crunpp state`.
        state::Container released = std::move(c);
    }
    std::optional<spec::Hooks> h;
    try {
        h = recorded_hooks(dir, running);
        if (h && !h->poststart.empty()) {
            HookOutput out = open_hook_output(running.annotations, true);
            hooks::run("poststart", h->poststart, hook_state_json(running, state::Status::Running, running.pid),
                       out.options());
        }
    } catch (...) {
        // A failed poststart hook fails the container (runtime-spec 1.3):
        // it is stopped; delete removes it.
        signal_all(running.pid, init.get(), SIGKILL);
        wait_exit(init.get(), 10000);
        throw;
    }
    if (notify)
        notify->wait_ready(init.get());
}

} // namespace crunpp::container
