// SPDX-License-Identifier: GPL-2.0-or-later
// `exec`: a new process in a running container (see exec_child.hpp for the
// process tree). The state is read without its lock: a paused container's
// exec (--ignore-paused) waits for `resume`, which takes the lock.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>

#include "../linux/seccomp/seccomp.hpp"
#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/state.hpp"
#include "exec_child.hpp"
#include "exec_join.hpp"
#include "exec_process.hpp"
#include "foreground.hpp"
#include "kept_config.hpp"
#include "passthrough.hpp"
#include "launch.hpp"
#include "pid_file.hpp"
#include "pidfd.hpp"
#include "terminal.hpp"

namespace crunpp::container {
namespace {

state::ContainerState running_state(const Context &ctx, const ExecOptions &o) {
    state::Store store(ctx.state_root);
    std::optional<state::ContainerState> st = store.read(o.id);
    if (!st)
        throw Error("container \"" + o.id + "\" does not exist");
    state::Status s = state::effective_status(*st);
    if (s == state::Status::Paused && !o.ignore_paused)
        throw Error("cannot exec in a paused container \"" + o.id + "\" (use --ignore-paused to override)");
    if (s != state::Status::Running && s != state::Status::Created && s != state::Status::Paused)
        throw Error("cannot exec in container \"" + o.id + "\": it is " + state::status_name(s) +
                    ", not running");
    return *st;
}

spec::Config load_container_config(const Context &ctx, const state::ContainerState &st) {
    try {
        return kept_config(state::Store(ctx.state_root).root() + "/" + st.id, st);
    } catch (Error &e) {
        throw e.wrap("exec: the container's config");
    }
}

spec::Process exec_process_spec(const spec::Config &cfg, const ExecOptions &o) {
    if (o.process_file.empty()) {
        if (!cfg.process)
            throw Error("exec: the container's config has no process");
        return build_exec_process(*cfg.process, false, o.overrides);
    }
    UniqueFd fd(open(o.process_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("exec: --process \"" + o.process_file + "\"");
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = read(fd.get(), buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("exec: read --process \"" + o.process_file + "\"");
        }
        text.append(buf, static_cast<size_t>(n));
    }
    return build_exec_process(spec::parse_process(text, o.process_file), true, o.overrides);
}

// runc's rules for a terminal, and the preserved fds being open (a closed
// one would be taken by one of crunpp's own, which would leak).
void check_options(const spec::Process &p, const ExecOptions &o) {
    if (p.terminal && o.console_socket.empty() && o.detach)
        throw Error("cannot allocate tty if crunpp will detach without setting console socket");
    if (!p.terminal && !o.console_socket.empty())
        throw Error("cannot use console socket if crunpp will not allocate tty (exec without --tty)");
    if (o.preserve_fds < 0 || o.preserve_fds > 4096)
        throw Error("preserve-fds: " + std::to_string(o.preserve_fds) + " is not a valid number of fds");
}

struct Spawned {
    UniqueFd pidfd; // the process, our child
    pid_t pid = 0;
    UniqueFd console;
};

// Reaps the helper; its status says whether it got as far as the pid.
// Waits until `sock` is readable (true) or the process of `pidfd` has
// exited with nothing left to read (false).
bool readable_before_exit(int sock, int pidfd) {
    struct pollfd fds[2] = {{sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
    for (;;) {
        int n = poll(fds, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("exec: wait for the setup process");
        if (fds[0].revents != 0)
            return true;
        if (fds[1].revents != 0)
            return false;
    }
}

void reap_helper(UniqueFd &helper) {
    if (helper) {
        reap(helper.get());
        helper.reset();
    }
}

} // namespace

int exec(const Context &ctx, const ExecOptions &o) {
    // An ignored SIGCHLD (inherited) would have the kernel reap our children.
    signal(SIGCHLD, SIG_DFL);
    const state::ContainerState st = running_state(ctx, o);
    UniqueFd init = open_process(st.pid, st.pid_start_time);
    if (!init)
        throw Error("cannot exec in container \"" + o.id + "\": it is stopped, not running");
    spec::Config cfg = load_container_config(ctx, st);
    cfg.process = exec_process_spec(cfg, o);
    const spec::Process &process = *cfg.process;
    check_options(process, o);

    if (!o.cgroups.empty() && st.cgroup_paths.empty())
        throw Error("exec: --cgroup: the container has no cgroup (rootless without a delegated cgroup, or "
                    "--cgroup-manager disabled)");
    const cgroup::Paths cgroups = exec_cgroup_paths(st.cgroup_paths, parse_sub_cgroups(o.cgroups));
    if (!o.cgroups.empty())
        check_cgroup_dirs(cgroups);
    std::optional<linux::SeccompFilter> seccomp;
    if (cfg.linux && cfg.linux->seccomp)
        seccomp = linux::prepare_seccomp(*cfg.linux->seccomp, linux::seccomp_cache_dir());
    const uint64_t namespaces = namespaces_to_join(st.pid);
    const FileId runtime_binary = runtime_binary_id();

    std::optional<ForwardedSignals> signals;
    if (!o.detach)
        signals.emplace();
    SyncSocket sync, child_sync;
    SyncSocket::make_pair(sync, child_sync);

    ExecChildParams cp;
    cp.config = &cfg;
    cp.init_pidfd = init.get();
    cp.init_pid = st.pid;
    cp.namespaces = namespaces;
    cp.cgroups = &cgroups;
    cp.sync = &child_sync;
    cp.parent_sync_fd = sync.fd();
    cp.runtime_pid = getpid();
    cp.seccomp = seccomp ? &*seccomp : nullptr;
    cp.id = &o.id;
    cp.new_keyring = st.extra.find(kStateNoNewKeyring) == st.extra.end();
    cp.preserved_fds = o.preserve_fds;
    // Closed fds of the range are skipped (crun).
    const std::vector<int> closed_fds = closed_fds_in_range(o.preserve_fds);
    cp.closed_fds = &closed_fds;
    cp.signal_mask = signals ? signals->original() : nullptr;
    cp.runtime_binary = runtime_binary;

    // v2: the helper starts in the target cgroup (CLONE_INTO_CGROUP), the
    // process inherits it; v1: the helper moves itself.
    int helper_fd = -1;
    // Rootless with the systemd driver, outside the user manager's subtree:
    // systemd moves the process (below, while it waits), into the --cgroup
    // sub-cgroup too (the unit is delegated).
    const cgroup::SystemdScope scope = cgroup::systemd_scope(st.extra);
    std::string outside;
    pid_t helper_pid = fork_into_cgroup(&helper_fd, cgroups, o.cgroups.empty() ? st.pid : 0,
                                        st.rootless && !scope.unit.empty() ? &outside : nullptr);
    if (helper_pid == 0)
        exec_helper(cp);
    UniqueFd helper(helper_fd);
    child_sync.close();

    Spawned s;
    try {
        for (;;) {
            // The process holds the children's end of the socket too: a
            // helper killed before it sent the pid would leave us waiting
            // for a message forever. What the helper sent is in the socket
            // before it exits, so its exit counts only with nothing to read.
            if (!s.pid && helper && !readable_before_exit(sync.fd(), helper.get())) {
                reap_helper(helper);
                throw Error("exec: the setup process exited before starting the process");
            }
            std::optional<SyncMessage> m = sync.receive();
            if (!m) {
                reap_helper(helper);
                throw Error(s.pid ? "exec: the process exited during its setup"
                                  : "exec: the setup process exited before starting the process");
            }
            if (m->type == SyncType::Failed) {
                if (s.pidfd)
                    reap(s.pidfd.get());
                s.pidfd.reset();
                reap_helper(helper);
                throw Error(std::move(m->text), m->value);
            }
            if (m->type == SyncType::InitPid && !s.pid) {
                s.pid = m->value;
                // Our child (CLONE_PARENT) and not reaped: the pid is its own.
                s.pidfd = pidfd_open(s.pid);
                if (!s.pidfd)
                    throw Error("exec: the process exited during its setup");
                reap_helper(helper);
                if (!outside.empty())
                    cgroup::systemd_attach(scope, s.pid, sub_cgroup(st.cgroup_paths, outside));
                sync.send(SyncType::Go);
                break;
            }
            throw Error("exec: unexpected sync message from the setup process");
        }
        // EOF: the process's end of the socket closed on execve.
        while (std::optional<SyncMessage> m = sync.receive()) {
            switch (m->type) {
            case SyncType::Console:
                if (m->fds.size() != 1)
                    throw Error("exec: bad console message");
                s.console = std::move(m->fds[0]);
                if (!o.console_socket.empty()) {
                    send_fd_to_socket(o.console_socket, s.console.get(), "/dev/ptmx", "console socket");
                    s.console.reset();
                }
                break;
            case SyncType::SeccompListener: {
                if (m->fds.size() != 1 || !seccomp || !seccomp->notify)
                    throw Error("exec: unexpected seccomp listener");
                state::ContainerState container_state = st;
                container_state.status = state::effective_status(st);
                linux::send_seccomp_listener(*cfg.linux->seccomp, m->fds[0].get(), container_state, s.pid);
                break;
            }
            case SyncType::Failed: {
                reap(s.pidfd.get());
                s.pidfd.reset();
                throw Error(std::move(m->text), m->value);
            }
            default: throw Error("exec: unexpected sync message from the process");
            }
        }
        if (!o.pid_file.empty())
            write_pid_file(o.pid_file, s.pid);
        if (!o.pidfd_socket.empty())
            send_fd_to_socket(o.pidfd_socket, s.pidfd.get(), "pidfd", "pidfd socket");
    } catch (...) {
        kill_and_reap(s.pidfd.get());
        kill_and_reap(helper.get());
        throw;
    }
    if (o.detach)
        return 0;
    if (s.console)
        return proxy_terminal(s.console.get(), s.pidfd.get(), signals->fd(), process.consoleSize.has_value());
    return wait_forwarding(s.pidfd.get(), signals->fd());
}

} // namespace crunpp::container
