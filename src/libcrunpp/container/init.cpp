// SPDX-License-Identifier: GPL-2.0-or-later
#include "init.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <new>
#include <string>

#include "../linux/process/process.hpp"
#include "../linux/mount/rootfs.hpp"
#include "../linux/net/loopback.hpp"
#include "../linux/ns/userns.hpp"
#include "../linux/procfs.hpp"
#include "../hooks/hooks.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/error.hpp"
#include "annotations.hpp"
#include "exe_guard.hpp"
#include "passthrough.hpp"
#include "terminal.hpp"

namespace crunpp::container {
namespace {

// Into the container's v1 cgroups before anything else runs (v2: the clone
// placed it), then its own cgroup namespace rooted there.
void enter_cgroup(const InitParams &p) {
    if (p.await_cgroup) {
        std::optional<SyncMessage> m = p.sync->receive();
        if (!m || m->type != SyncType::Go)
            throw Error("wait for the container's systemd unit: the runtime gave up");
    }
    std::vector<int> fds = p.v1_cgroup_tasks;
    cgroup::enter_v1(fds);
    if (p.unshare_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
        throw_errno("unshare the cgroup namespace");
}

void join_and_unshare(const InitParams &p) {
    NamespacePlan &plan = *p.plan;
    linux::join_namespaces(plan.joins);
    if (plan.unshare_flags != 0 && unshare(static_cast<int>(plan.unshare_flags)) < 0)
        throw_errno("unshare the container namespaces");
    if (plan.new_user)
        p.sync->send(SyncType::MapsRequest);
}

// The parent's "go" once the user namespace has its maps; before it come
// the idmapped mounts the parent made for this namespace, if any.
void wait_for_maps(const InitParams &p, std::vector<UniqueFd> &owned, std::vector<int> &prepared) {
    // The config's mounts, then its devices (idmapped_mounts.hpp).
    const size_t mounts = p.config->mounts.size() + (p.config->linux ? p.config->linux->devices.size() : 0);
    for (;;) {
        std::optional<SyncMessage> m = p.sync->receive();
        if (!m)
            throw Error("wait for the user namespace maps: the other side exited");
        if (m->type == SyncType::Go)
            return;
        if (m->type != SyncType::Mounts || m->text.size() != m->fds.size() * sizeof(uint32_t))
            throw Error("wait for the user namespace maps: unexpected sync message");
        prepared.resize(mounts, -1);
        for (size_t i = 0; i < m->fds.size(); i++) {
            uint32_t index;
            memcpy(&index, m->text.data() + i * sizeof index, sizeof index);
            if (index >= mounts)
                throw Error("wait for the user namespace maps: bad mount index");
            prepared[index] = m->fds[i].get();
            owned.push_back(std::move(m->fds[i]));
        }
    }
}

void become_root_in_userns(const InitParams &p) {
    if (!p.plan->user)
        return;
    if (setresgid(0, 0, 0) < 0)
        throw_errno("setresgid 0 in the user namespace");
    if (setresuid(0, 0, 0) < 0)
        throw_errno("setresuid 0 in the user namespace");
}

// The real init is a fork when the pid namespace is joined or unshared: the
// cloned process reports its pid and leaves.
void fork_init_if_needed(const InitParams &p) {
    if (!p.plan->fork_in_child)
        return;
    pid_t pid = fork();
    if (pid < 0)
        throw_errno("fork the container init");
    if (pid > 0) {
        p.sync->try_send(SyncType::InitPid, pid);
        _exit(0);
    }
    // Nothing from the real init may reach the parent before its pid does.
    p.sync->expect(SyncType::Go, "wait for the init's pid to be recorded");
}

// The parent moves linux.netDevices into the namespace this process has
// now, before the mounts and the hooks (CNI plugins may expect them).
void wait_for_net_devices(const InitParams &p) {
    if (!p.config->linux || p.config->linux->netDevices.empty())
        return;
    p.sync->send(SyncType::NetDevices);
    p.sync->expect(SyncType::Go, "wait for the network devices");
}

// The fifo reopened through /proc/self/fd: the new root's /proc, or
// `host_proc` (a container without a mount namespace, whose rootfs may
// have none).
std::string exec_fifo_path(const InitParams &p, int host_proc) {
    return std::string(host_proc >= 0 ? "" : "/proc/") + "self/fd/" + std::to_string(p.exec_fifo_fd);
}

// Checked before "ready", so that a container that could never be started
// fails `create` instead.
void check_exec_fifo(const InitParams &p, int host_proc) {
    if (p.exec_fifo_fd >= 0 &&
        faccessat(host_proc >= 0 ? host_proc : AT_FDCWD, exec_fifo_path(p, host_proc).c_str(), W_OK, 0) < 0)
        throw_errno("reach the exec fifo through /proc/self/fd (the container needs /proc mounted)");
}

// Blocks until `start` opens the fifo for reading, then lets it read a
// byte. The returned write end (close-on-exec) stays open: `start` reads
// on until execve closes it, or until the init writes why it failed.
int wait_for_start(const InitParams &p, int host_proc) {
    if (p.exec_fifo_fd < 0) {
        p.sync->expect(SyncType::Start, "wait for start");
        return -1;
    }
    p.sync->close();
    std::string path = exec_fifo_path(p, host_proc);
    int fd;
    do
        fd = openat(host_proc >= 0 ? host_proc : AT_FDCWD, path.c_str(), O_WRONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        throw_errno("open the exec fifo");
    char byte = '0';
    ssize_t w = write(fd, &byte, 1);
    int saved = errno;
    close(p.exec_fifo_fd);
    if (w != 1) {
        close(fd);
        throw_errno("write the exec fifo", saved);
    }
    return fd;
}

hooks::RunOptions hook_options(const InitParams &p, std::string cwd) {
    hooks::RunOptions o;
    o.cwd = std::move(cwd);
    o.stdout_fd = p.hooks_stdout_fd;
    o.stderr_fd = p.hooks_stderr_fd;
    return o;
}

bool has_hooks_before_pivot(const spec::Config &cfg) {
    return cfg.hooks && (!cfg.hooks->prestart.empty() || !cfg.hooks->createRuntime.empty() ||
                         !cfg.hooks->createContainer.empty());
}

// Mounts done, root not yet changed: the parent runs prestart and
// createRuntime, then createContainer runs here, in the container's
// namespaces with paths resolved in the runtime's mount tree (runc's place).
// Returns the state JSON for startContainer.
std::string run_create_hooks(const InitParams &p) {
    p.sync->send(SyncType::Hooks);
    SyncMessage m = p.sync->expect(SyncType::HooksDone, "wait for the createRuntime hooks");
    if (m.fds.size() != 2)
        throw Error("wait for the createRuntime hooks: unexpected sync message");
    std::string creating = hooks::read_state_memfd(m.fds[0].get());
    std::string created = hooks::read_state_memfd(m.fds[1].get());
    // In the bundle, as crun does: a hook may use paths relative to it.
    hooks::run("createContainer", p.config->hooks->createContainer, creating, hook_options(p, *p.bundle));
    return created;
}

// The pty: made in the new root, its master sent to the parent.
void setup_terminal(const InitParams &p) {
    std::string name;
    UniqueFd master = setup_init_terminal(*p.config->process, name, p.plan->mount_namespace);
    p.sync->send_fds(SyncType::Console, {master.get()}, name);
}

// The preserved fds reach the process as they came, without close-on-exec;
// the range's closed ones stay closed (one of crunpp's may have taken it).
void keep_preserved_fds(const InitParams &p) {
    for (int fd = 3; fd < 3 + p.preserved_fds; fd++) {
        if (p.closed_fds && std::find(p.closed_fds->begin(), p.closed_fds->end(), fd) != p.closed_fds->end())
            continue;
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC))
            fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
}

} // namespace

void container_init(const InitParams &p) noexcept {
    int failure_status = 1;
    int start_fd = -1;
    try {
        if (p.signal_mask)
            sigprocmask(SIG_SETMASK, p.signal_mask, nullptr);
        const spec::Config &cfg = *p.config;
        enter_cgroup(p);
        const FileId runtime_binary = runtime_binary_id();
        if (!p.plan->joins.empty())
            join_and_unshare(p);
        std::vector<UniqueFd> received_mounts;
        std::vector<int> prepared_mounts = p.inherited_mounts;
        if (p.plan->new_user)
            wait_for_maps(p, received_mounts, prepared_mounts);
        // Before the uid change: that makes the process non-dumpable, and
        // its /proc/self/timens_offsets then no longer writable.
        if (p.plan->new_time && cfg.linux)
            linux::enter_time_namespace(cfg.linux->timeOffsets.value_or(spec::TimeOffsets{}));
        become_root_in_userns(p);
        fork_init_if_needed(p);
        if (p.plan->new_network)
            linux::bring_loopback_up();
        wait_for_net_devices(p);
        if (p.new_keyring)
            join_session_keyring(*p.id, p.plan->user);

        linux::RootfsOptions ro;
        ro.rootless = p.rootless;
        ro.user_namespace = p.plan->user;
        ro.network_namespace = p.plan->network;
        ro.cgroup_namespace = p.plan->cgroup;
        ro.no_pivot = p.no_pivot;
        ro.exec_fifo_fd = p.exec_fifo_fd;
        ro.bundle = *p.bundle;
        ro.prepared_mounts = std::move(prepared_mounts);
        std::string start_state;
        if (has_hooks_before_pivot(cfg))
            ro.before_root_change = [&] { start_state = run_create_hooks(p); };
        // Without a mount namespace the rootfs may have no /proc: the fifo is
        // reached through the procfs handle opened before the chroot.
        int host_proc = -1;
        if (p.plan->mount_namespace) {
            linux::setup_rootfs(cfg, *p.rootfs, ro);
        } else {
            linux::enter_rootfs_without_mount_namespace(cfg, *p.rootfs, ro);
            host_proc = linux::procfs::root();
        }
        if (cfg.process->terminal)
            setup_terminal(p);
        else if (setsid() < 0) // as runc: CRIU dumps only a tree that leads its own session
            throw_errno("setsid");
        linux::apply_kernel_settings(cfg);
        linux::apply_process_resources(cfg);
        std::optional<spec::Process> adjusted = linux::with_default_home(*cfg.process);
        if (p.set_listen_pid) {
            // The process keeps this pid across execve.
            if (!adjusted)
                adjusted = *cfg.process;
            set_listen_pid(adjusted->env);
        }
        const spec::Process &process = adjusted ? *adjusted : *cfg.process;
        std::string exe = linux::resolve_executable(process);
        check_not_runtime_binary(exe, runtime_binary);
        // A notify listener must reach the agent during create: loaded now
        // (see linux/seccomp.hpp); any other filter just before execve.
        linux::ExecOptions eo;
        if (p.seccomp && p.seccomp->notify) {
            UniqueFd listener = linux::load_seccomp(*p.seccomp, process.noNewPrivileges);
            p.sync->send_fds(SyncType::SeccompListener, {listener.get()}, {});
        } else if (p.seccomp) {
            linux::check_seccomp_loadable(*p.seccomp);
            eo.seccomp = p.seccomp;
        }
        keep_preserved_fds(p);
        eo.preserve_fds = p.preserved_fds;
        eo.keep_groups = annotation_enabled(cfg, kKeepOriginalGroupsAnnotation);
        // Everything that can fail does so before "ready": it is `create`'s
        // error (runtime-spec), not a message on the container's stderr.
        linux::prepare_exec(process, eo);
        linux::check_user_can_exec(exe);
        check_exec_fifo(p, host_proc);

        p.sync->send(SyncType::Ready);
        start_fd = wait_for_start(p, host_proc);
        if (cfg.hooks && !cfg.hooks->startContainer.empty())
            hooks::run("startContainer", cfg.hooks->startContainer, start_state, hook_options(p, {}));
        // The container process runs on the final CPUs; the setup above ran
        // on the initial ones (apply_process_resources).
        if (process.execCPUAffinity && process.execCPUAffinity->final)
            linux::apply_final_cpu_affinity(0, *process.execCPUAffinity->final);
        failure_status = 127;
        linux::finish_exec(process, exe, eo);
    } catch (...) {
        report_exception_and_exit(*p.sync, "container init", failure_status, start_fd);
    }
    _exit(failure_status);
}

} // namespace crunpp::container
