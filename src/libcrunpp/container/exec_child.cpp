// SPDX-License-Identifier: GPL-2.0-or-later
#include "exec_child.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "../linux/process/process.hpp"
#include "crunpp/error.hpp"
#include "annotations.hpp"
#include "exec_join.hpp"
#include "passthrough.hpp"
#include "terminal.hpp"

namespace crunpp::container {
namespace {

// The helper's child, parented to crunpp: in the helper's namespaces, with
// the container's pid namespace as its own.
pid_t clone_parent() {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    // exit_signal must be 0 with CLONE_PARENT (clone3 checks it): the child
    // gets the helper's own, SIGCHLD.
    args.flags = CLONE_PARENT;
    long r = syscall(SYS_clone3, &args, sizeof args);
    if (r < 0)
        throw_errno("exec: clone3 the process");
    return static_cast<pid_t>(r);
}

void keep_preserved_fds(int count, const std::vector<int> *closed) {
    for (int fd = 3; fd < 3 + count; fd++) {
        if (closed && std::find(closed->begin(), closed->end(), fd) != closed->end())
            continue;
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC))
            fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
}

// Called first in both children, whose parent is crunpp: its death kills
// them (a crunpp that died before the prctl: see the callers).
void die_with_runtime() {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        throw_errno("exec: prctl PR_SET_PDEATHSIG");
}

[[noreturn]] void exec_process_child(const ExecChildParams &p) noexcept {
    int failure_status = 1;
    try {
        // Not inherited from the helper. Had crunpp died already, Go never
        // comes: its end of the socket is closed (the helper closed its copy).
        die_with_runtime();
        if (p.signal_mask)
            sigprocmask(SIG_SETMASK, p.signal_mask, nullptr);
        // EOF instead of Go: crunpp gave up and reports why itself; a second
        // message from here would only confuse.
        std::optional<SyncMessage> go = p.sync->receive();
        if (!go)
            _exit(failure_status);
        if (go->type != SyncType::Go)
            throw Error("wait for the process's pid to be recorded: unexpected sync message");
        if (p.new_keyring)
            join_session_keyring(*p.id, (p.namespaces & CLONE_NEWUSER) != 0);
        const spec::Process &process = *p.config->process;
        if (process.terminal) {
            std::string name;
            UniqueFd master = setup_init_terminal(process, name, false);
            p.sync->send_fds(SyncType::Console, {master.get()}, name);
        }
        linux::apply_process_resources(*p.config);
        std::string exe = linux::resolve_executable(process);
        check_not_runtime_binary(exe, p.runtime_binary);
        linux::ExecOptions eo;
        if (p.seccomp && p.seccomp->notify) {
            UniqueFd listener = linux::load_seccomp(*p.seccomp, process.noNewPrivileges);
            p.sync->send_fds(SyncType::SeccompListener, {listener.get()}, {});
        } else {
            eo.seccomp = p.seccomp;
        }
        if (process.execCPUAffinity && process.execCPUAffinity->final)
            linux::apply_final_cpu_affinity(0, *process.execCPUAffinity->final);
        failure_status = 127;
        keep_preserved_fds(p.preserved_fds, p.closed_fds);
        eo.preserve_fds = p.preserved_fds;
        eo.keep_groups = annotation_enabled(*p.config, kKeepOriginalGroupsAnnotation);
        eo.parent_death_signal = SIGKILL;
        linux::exec_process(process, exe, eo);
    } catch (...) {
        report_exception_and_exit(*p.sync, "exec", failure_status);
    }
    _exit(failure_status);
}

} // namespace

void exec_helper(const ExecChildParams &p) noexcept {
    try {
        die_with_runtime();
        // Forked in crunpp's pid namespace: getppid is crunpp until it dies.
        if (getppid() != p.runtime_pid)
            _exit(1);
        // Else the process would hold crunpp's end too and never see EOF.
        close(p.parent_sync_fd);
        // Before the namespaces: the host's paths, and a cgroup namespace
        // joined afterwards is then rooted above the process.
        enter_v1_cgroups(*p.cgroups);
        // A container in our mount namespace (it has none of its own) is
        // only chrooted: the process gets the init's root, opened now
        // (after the user namespace is joined /proc may be out of reach).
        UniqueFd init_root;
        if (!(p.namespaces & CLONE_NEWNS)) {
            std::string root = "/proc/" + std::to_string(p.init_pid) + "/root";
            if (!(init_root = UniqueFd(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC))))
                throw_errno("exec: open the container's root " + root);
        }
        join_container_namespaces(p.init_pidfd, p.init_pid, p.namespaces);
        if (init_root && (fchdir(init_root.get()) < 0 || chroot(".") < 0 || chdir("/") < 0))
            throw_errno("exec: enter the container's root");
        init_root.reset();
        pid_t pid = clone_parent();
        if (pid == 0)
            exec_process_child(p);
        p.sync->send(SyncType::InitPid, pid);
        _exit(0);
    } catch (...) {
        report_exception_and_exit(*p.sync, "exec", 1);
    }
}

} // namespace crunpp::container
