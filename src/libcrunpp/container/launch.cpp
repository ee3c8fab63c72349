// SPDX-License-Identifier: GPL-2.0-or-later
#include "launch.hpp"

#include <fcntl.h>
#include <sched.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <climits>
#include <cstdlib>
#include <vector>

#include "../linux/net/net_devices.hpp"
#include "../linux/seccomp/seccomp.hpp"
#include "../linux/ns/userns.hpp"
#include "../hooks/hooks.hpp"
#include "annotations.hpp"
#include "clone3.hpp"
#include "hooks_flow.hpp"
#include "kept_config.hpp"
#include "notify_proxy.hpp"
#include "passthrough.hpp"
#include "terminal.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "crunpp/spec.hpp"
#include "idmapped_mounts.hpp"
#include "init.hpp"
#include "pid_file.hpp"
#include "pidfd.hpp"
#include "plan.hpp"

namespace crunpp::container {
namespace {

std::string real_path(const std::string &path, const char *what) {
    char buf[PATH_MAX];
    if (!realpath(path.c_str(), buf))
        throw_errno(std::string(what) + " \"" + path + "\"");
    return buf;
}

// The host id that container id 0 maps to, or `fallback` when unmapped.
uint32_t host_id_of_root(const std::vector<spec::IdMapping> &maps, uint32_t fallback) {
    for (const spec::IdMapping &m : maps)
        if (m.containerID == 0 && m.size > 0)
            return m.hostID;
    return fallback;
}

// The init keeps only the fds it needs: an inherited copy of the state
// lock would keep `start` waiting for the lock the init holds.
void close_other_fds(std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned int from = 3;
    for (int fd : keep) {
        if (fd < 3)
            continue;
        if (static_cast<unsigned int>(fd) > from)
            syscall(SYS_close_range, from, static_cast<unsigned int>(fd) - 1, 0);
        from = static_cast<unsigned int>(fd) + 1;
    }
    syscall(SYS_close_range, from, ~0u, 0);
}

} // namespace

Loaded load(const CreateOptions &o) {
    Loaded l;
    l.bundle = real_path(o.bundle.empty() ? "." : o.bundle, "bundle");
    std::string config_path = o.config_path.empty() ? l.bundle + "/config.json" : o.config_path;
    l.config_text = json::read_file(config_path, "config.json");
    l.config = spec::parse_config(l.config_text);
    // The bundle's path is already real: only a --config given elsewhere
    // needs resolving (the path is recorded in the state).
    l.config_path = o.config_path.empty() ? std::move(config_path) : real_path(config_path, "config");
    if (!l.config.process)
        throw Error("config.json: .process: required to create a container");
    if (!l.config.root || l.config.root->path.empty())
        throw Error("config.json: .root.path: required to create a container");
    // Parsed and validated, but never silently dropped: `features` says
    // intelRdt enabled:false, and a container must not start without it.
    if (l.config.linux && l.config.linux->intelRdt)
        throw Error("config.json: .linux.intelRdt: Intel RDT (resctrl) is not implemented by crunpp");
    const std::string &root = l.config.root->path;
    std::string rootfs = root[0] == '/' ? root : l.bundle + "/" + root;
    struct stat st;
    if (stat(rootfs.c_str(), &st) < 0)
        throw_errno("rootfs \"" + rootfs + "\"");
    if (!S_ISDIR(st.st_mode))
        throw_errno("rootfs \"" + rootfs + "\"", ENOTDIR);
    l.rootfs = real_path(rootfs, "rootfs");
    return l;
}

void fill_state(state::ContainerState &st, const Context &ctx, const Loaded &l) {
    // id, ociVersion, owner and created come from Store::create.
    st.status = state::Status::Creating;
    st.bundle = l.bundle;
    st.rootfs = l.rootfs;
    st.rootless = ctx.rootless;
    st.systemd_cgroup = ctx.systemd_cgroup;
    st.cgroup_manager = ctx.cgroup_manager.empty() ? "cgroupfs" : ctx.cgroup_manager;
    if (l.config.linux && l.config.linux->cgroupsPath)
        st.cgroups_path = *l.config.linux->cgroupsPath;
    st.annotations = l.config.annotations;
    record_hooks_config(st, l.config, l.config_path);
}

namespace {

// runc's rules: a terminal needs somewhere to go.
void check_terminal(const spec::Config &cfg, const CreateOptions &o, const LaunchMode &mode) {
    bool terminal = cfg.process->terminal;
    if (terminal && o.console_socket.empty() && !mode.proxy_terminal)
        throw Error("cannot allocate tty if crunpp will detach without setting console socket");
    if (!terminal && !o.console_socket.empty())
        throw Error("cannot use console socket if crunpp will not allocate tty (process.terminal is false)");
}

// The init's mounts are made: prestart and createRuntime run here, in the
// runtime's namespaces; the init gets the state for its own hooks.
void run_runtime_hooks(SyncSocket &sync, const spec::Config &cfg, const state::ContainerState &st, pid_t pid,
                       const hooks::RunOptions &options) {
    std::string creating = hook_state_json(st, state::Status::Creating, pid);
    if (cfg.hooks) {
        // prestart is deprecated but still run, before createRuntime (runc).
        hooks::run("prestart", cfg.hooks->prestart, creating, options);
        hooks::run("createRuntime", cfg.hooks->createRuntime, creating, options);
    }
    UniqueFd a = hooks::state_memfd(creating);
    UniqueFd b = hooks::state_memfd(hook_state_json(st, state::Status::Created, pid));
    sync.send_fds(SyncType::HooksDone, {a.get(), b.get()}, {});
}

// The init opens the fifo as the container's user (after the user switch,
// see linux::prepare_exec): writable by others, as runc makes it (the
// state dir keeps everyone else out), and owned by the container's root.
UniqueFd make_exec_fifo(int dir_fd, const NamespacePlan &plan) {
    if (mkfifoat(dir_fd, kExecFifo, 0600) < 0)
        throw_errno("create the exec fifo");
    if (fchmodat(dir_fd, kExecFifo, 0622, 0) < 0)
        throw_errno("chmod the exec fifo");
    if (plan.user && geteuid() == 0) {
        uid_t uid = host_id_of_root(plan.uid_mappings, geteuid());
        gid_t gid = host_id_of_root(plan.gid_mappings, getegid());
        if (uid != geteuid() && fchownat(dir_fd, kExecFifo, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            throw_errno("chown the exec fifo");
    }
    int fd = openat(dir_fd, kExecFifo, O_PATH | O_CLOEXEC);
    if (fd < 0)
        throw_errno("open the exec fifo");
    return UniqueFd(fd);
}

} // namespace

// The container's cgroup, made and filled with its limits before the init
// exists, so the init never runs outside it or without them.
cgroup::Setup make_cgroup(const Context &ctx, const CreateOptions &o, const spec::Config &cfg,
                          state::Container &c) {
    cgroup::Request r;
    // Saved first, so that a runtime killed while making them leaves the
    // directories to `delete`, not to nobody.
    r.planned = [&c](const cgroup::Paths &p) {
        std::string dirs;
        for (const auto &[controller, dir] : p)
            dirs += dir + "\n";
        c.state().extra[kStateCgroupPlanned] = dirs;
        c.save();
    };
    r.id = o.id;
    r.manager = ctx.cgroup_manager;
    r.systemd = ctx.systemd_cgroup;
    r.rootless = ctx.rootless;
    r.annotations = &cfg.annotations;
    if (cfg.linux) {
        r.cgroups_path = cfg.linux->cgroupsPath.value_or("");
        r.resources = cfg.linux->resources ? &*cfg.linux->resources : nullptr;
        r.devices = cfg.linux->devices;
    }
    // A real-time scheduler without a budget of the config's inherits what
    // the parents have left; a budget given is granted exactly
    // (ensure_rt_budget), so that it does not take the host's whole budget
    // from the other containers.
    const bool rt_budget_given = r.resources && r.resources->cpu && r.resources->cpu->realtimeRuntime.value_or(0) > 0;
    if (cfg.process && cfg.process->scheduler && !rt_budget_given)
        r.realtime_scheduler = cfg.process->scheduler->policy == "SCHED_FIFO" || cfg.process->scheduler->policy == "SCHED_RR";
    return cgroup::create(r);
}

void save_cgroup_state(state::Container &c, const cgroup::Setup &cg) {
    c.state().extra.erase(kStateCgroupPlanned);
    // The systemd unit once this container started it (placed): one refused
    // as in use is another container's, which this one's cleanup
    // (abort_launch, delete) must not stop.
    if (!cg.systemd().unit.empty() && !cg.awaits_placement()) {
        c.state().extra[cgroup::kStateSystemdUnit] = cg.systemd().unit;
        c.state().extra[cgroup::kStateSystemdUser] = cg.systemd().user ? "true" : "false";
    }
    c.state().cgroup_paths = cg.paths();
    c.save();
}

namespace {

// The init's user namespace has its maps: idmapped mounts, then "go".
void user_namespace_ready(SyncSocket &sync, const Loaded &l, const NamespacePlan &plan, pid_t pid,
                          bool idmapped_mounts) {
    linux::write_id_mappings(pid, plan.uid_mappings, plan.gid_mappings);
    if (idmapped_mounts)
        send_idmapped_mounts(sync, l.config, l.bundle, pid, plan);
    sync.send(SyncType::Go);
}

// Without a cgroup the saved pid is all that delete can find the init by:
// saved (status creating) as soon as it is known, so that a runtime killed
// during the setup leaves no init waiting on its exec fifo forever.
void save_pid_without_cgroup(state::Container &c, pid_t pid) {
    state::ContainerState &st = c.state();
    if (!st.cgroup_paths.empty())
        return;
    st.pid = pid;
    st.pid_start_time = state::process_start_time(pid);
    c.save();
}

} // namespace

Launched launch(const Context &ctx, const CreateOptions &o, const LaunchMode &mode) {
    state::check_id(o.id);
    // A SIGCHLD ignored by our caller (inherited through execve) would have
    // the kernel reap our children before we could wait for them.
    signal(SIGCHLD, SIG_DFL);
    Loaded loaded = load(o);
    check_terminal(loaded.config, o, mode);
    const Passthrough passthrough = prepare_passthrough(loaded.config, o.preserve_fds);
    const int preserved_fds = passthrough.count;
    const std::optional<std::string> notify_host = host_notify_socket();
    // Root in another user namespace (rootless podman) can create every
    // namespace itself: no user namespace is added for it, as in runc.
    const bool add_user_namespace = ctx.rootless && !(geteuid() == 0 && state::in_user_namespace());
    NamespacePlan plan = plan_namespaces(loaded.config, add_user_namespace);
    if (loaded.config.linux)
        linux::check_net_devices(*loaded.config.linux);

    state::Store store(ctx.state_root);
    Launched l{store.create(o.id), UniqueFd(), 0, SyncSocket(), UniqueFd(), false, loaded.config.hooks, std::nullopt};
    UniqueFd middle; // the cloned process when the init is its fork
    cgroup::Setup cg; // removed again unless committed
    try {
        fill_state(l.container.state(), ctx, loaded);
        l.container.state().extra[kStateConfigPath] = loaded.config_path;
        keep_config(l.container, loaded.config_text);
        // sd_notify proxy: the socket and its bind mount (notify_proxy.hpp).
        if (notify_host)
            l.notify = NotifyProxy::create(l.container, *notify_host, loaded.config);
        if (o.no_new_keyring)
            l.container.state().extra[kStateNoNewKeyring] = "true";
        cg = make_cgroup(ctx, o, loaded.config, l.container);
        save_cgroup_state(l.container, cg);
        const HookOutput hook_output = open_hook_output(loaded.config.annotations, loaded.config.hooks.has_value());
        // Compiled (or taken from the cache) here, by the runtime user, so
        // that the init only loads a ready program.
        std::optional<linux::SeccompFilter> seccomp;
        if (loaded.config.linux && loaded.config.linux->seccomp) {
            if (annotation_enabled(loaded.config, linux::kFailUnknownSyscallAnnotation))
                linux::check_known_syscalls(*loaded.config.linux->seccomp);
            seccomp = linux::prepare_seccomp(*loaded.config.linux->seccomp, linux::seccomp_cache_dir());
            linux::remove_legacy_seccomp_cache(ctx.state_root);
        }
        bool seccomp_listener_sent = false;
        UniqueFd fifo;
        if (!mode.run)
            fifo = make_exec_fifo(l.container.dir_fd(), plan);
        SyncSocket child_sync;
        SyncSocket::make_pair(l.sync, child_sync);
        // The forked init is orphaned when its parent leaves: adopt it so
        // that `run` can wait for it and errors can reap it.
        if (plan.fork_in_child && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
            throw_errno("become a child subreaper");

        const bool idmapped_mounts = prepares_idmapped_mounts(ctx, plan, loaded.config);
        // A joined user namespace has its maps already: its idmapped mounts
        // are made now and inherited.
        std::vector<UniqueFd> inherited_trees;
        if (idmapped_mounts && !plan.new_user)
            inherited_trees = prepare_for_joined_userns(loaded.config, loaded.bundle, plan);
        // The notify proxy's bind, when the init's root may not reach the
        // state dir (notify_proxy.hpp).
        if (l.notify && plan.user) {
            if (UniqueFd tree = l.notify->mount_tree()) {
                inherited_trees.resize(std::max(inherited_trees.size(), l.notify->mount_index() + 1));
                inherited_trees[l.notify->mount_index()] = std::move(tree);
            }
        }

        int pidfd = -1;
        // v2: the init starts in its cgroup (CLONE_INTO_CGROUP); v1: it moves
        // itself there first thing, and only then creates its cgroup
        // namespace, so that the namespace is rooted at the container's cgroup.
        std::vector<UniqueFd> v1_tasks = cgroup::open_v1_tasks(cg.paths());
        uint64_t clone_flags = plan.clone_flags;
        // systemd driver: the unit is started with the new process's pid
        // while it waits (InitParams::await_cgroup).
        const bool await_cgroup = cg.awaits_placement();
        const bool unshare_cgroupns = (!v1_tasks.empty() || await_cgroup) && (clone_flags & CLONE_NEWCGROUP);
        if (unshare_cgroupns)
            clone_flags &= ~static_cast<uint64_t>(CLONE_NEWCGROUP);
        pid_t pid = clone3_fork(clone_flags, &pidfd, cg.unified_fd());
        if (pid == 0) {
            std::vector<int> keep = {child_sync.fd(), fifo.get()};
            InitParams ip;
            for (const UniqueFd &fd : v1_tasks) {
                ip.v1_cgroup_tasks.push_back(fd.get());
                keep.push_back(fd.get());
            }
            ip.unshare_cgroupns = unshare_cgroupns;
            ip.await_cgroup = await_cgroup;
            for (int fd = 3; fd < 3 + preserved_fds; fd++)
                if (std::find(passthrough.closed.begin(), passthrough.closed.end(), fd) == passthrough.closed.end())
                    keep.push_back(fd);
            keep.push_back(hook_output.out.get());
            keep.push_back(hook_output.err.get());
            for (const auto &[type, fd] : plan.joins)
                keep.push_back(fd.get());
            for (const UniqueFd &tree : inherited_trees) {
                ip.inherited_mounts.push_back(tree.get());
                keep.push_back(tree.get());
            }
            close_other_fds(std::move(keep));
            ip.config = &loaded.config;
            ip.rootfs = &loaded.rootfs;
            ip.bundle = &loaded.bundle;
            ip.plan = &plan;
            ip.sync = &child_sync;
            ip.exec_fifo_fd = fifo.get();
            ip.rootless = ctx.rootless;
            ip.no_pivot = o.no_pivot;
            ip.signal_mask = mode.child_mask;
            ip.seccomp = seccomp ? &*seccomp : nullptr;
            ip.id = &o.id;
            ip.preserved_fds = preserved_fds;
            ip.closed_fds = &passthrough.closed;
            ip.set_listen_pid = passthrough.listen_fds;
            ip.new_keyring = !o.no_new_keyring;
            ip.hooks_stdout_fd = hook_output.out.get();
            ip.hooks_stderr_fd = hook_output.err.get();
            container_init(ip);
        }
        v1_tasks.clear();
        if (plan.fork_in_child) {
            middle.reset(pidfd);
        } else {
            l.pidfd.reset(pidfd);
            l.pid = pid;
            save_pid_without_cgroup(l.container, pid);
        }
        child_sync.close();
        if (await_cgroup) {
            cg.place(pid);
            save_cgroup_state(l.container, cg);
            l.sync.send(SyncType::Go);
        }
        fifo.reset();
        plan.joins.clear();
        inherited_trees.clear();

        if (plan.new_user && plan.unshare_flags == 0)
            user_namespace_ready(l.sync, loaded, plan, pid, idmapped_mounts);
        for (bool ready = false; !ready;) {
            std::optional<SyncMessage> m = l.sync.receive();
            if (!m)
                throw Error("container init exited during setup");
            switch (m->type) {
            case SyncType::MapsRequest: user_namespace_ready(l.sync, loaded, plan, pid, idmapped_mounts); break;
            case SyncType::InitPid:
                l.pid = m->value;
                l.pidfd = pidfd_open(l.pid);
                if (!l.pidfd)
                    throw Error("container init exited during setup");
                save_pid_without_cgroup(l.container, l.pid);
                reap(middle.get());
                middle.reset();
                l.sync.send(SyncType::Go);
                break;
            case SyncType::SeccompListener: {
                // To the agent at once: the init's next syscalls may already
                // wait for its answers.
                if (m->fds.size() != 1 || !seccomp)
                    throw Error("sync with the container init: unexpected seccomp listener");
                state::ContainerState st = l.container.state();
                st.pid = l.pid;
                linux::send_seccomp_listener(*loaded.config.linux->seccomp, m->fds[0].get(), st);
                seccomp_listener_sent = true;
                break;
            }
            case SyncType::NetDevices:
                if (!loaded.config.linux)
                    throw Error("sync with the container init: unexpected network devices request");
                linux::move_net_devices(*loaded.config.linux, l.pid);
                l.sync.send(SyncType::Go);
                break;
            case SyncType::Hooks:
                run_runtime_hooks(l.sync, loaded.config, l.container.state(), l.pid,
                                  hook_output.options(loaded.bundle));
                break;
            case SyncType::Console:
                if (m->fds.size() != 1)
                    throw Error("sync with the container init: bad console message");
                l.console = std::move(m->fds[0]);
                l.console_size_set = loaded.config.process->consoleSize.has_value();
                break;
            case SyncType::Ready: ready = true; break;
            case SyncType::Failed: throw Error(std::move(m->text), m->value);
            default: throw Error("sync with the container init: unexpected message");
            }
        }
        if (!l.pidfd)
            throw Error("container init: no pid reported");

        state::ContainerState &st = l.container.state();
        st.pid = l.pid;
        st.pid_start_time = state::process_start_time(l.pid);
        if (seccomp && seccomp->notify && !seccomp_listener_sent)
            throw Error("container init: no seccomp listener received");
        st.status = state::Status::Created;
        // run skips this save, but without a cgroup the saved pid is the
        // only way delete can find the processes of a run killed later.
        if (mode.save_created || st.cgroup_paths.empty())
            l.container.save();
        if (!o.pid_file.empty())
            write_pid_file(o.pid_file, l.pid);
        cg.commit();
        if (l.console && !o.console_socket.empty()) {
            // The name runc sends with the master.
            send_fd_to_socket(o.console_socket, l.console.get(), "/dev/ptmx", "console socket");
            l.console.reset();
        }
        if (!o.pidfd_socket.empty())
            send_fd_to_socket(o.pidfd_socket, l.pidfd.get(), "pidfd", "pidfd socket");
    } catch (...) {
        kill_and_reap(middle.get());
        abort_launch(l);
        throw;
    }
    return l;
}

void abort_launch(Launched &l) noexcept {
    kill_and_reap(l.pidfd.get());
    l.pidfd.reset();
    // A failed create is deleted: its poststop hooks run (runtime-spec
    // lifecycle, steps 12 and 13).
    if (l.pid != 0)
        run_poststop(l.container);
    try {
        cgroup::destroy(l.container.state().cgroup_paths, cgroup::systemd_scope(l.container.state().extra));
    } catch (...) {
        // Best effort, as below.
    }
    try {
        l.container.remove();
    } catch (...) {
        // Best effort: the caller reports the original error.
    }
}

} // namespace crunpp::container
