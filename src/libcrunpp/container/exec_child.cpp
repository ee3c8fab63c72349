// SPDX-License-Identifier: GPL-2.0-or-later
#include "exec_child.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <new>

#include "../linux/process.hpp"
#include "crunpp/error.hpp"
#include "exec_join.hpp"
#include "passthrough.hpp"
#include "terminal.hpp"

namespace crunpp::container {
namespace {

[[noreturn]] void report_and_exit(const ExecChildParams &p, std::string_view context, int err, int status) noexcept {
    if (!p.sync->try_send(SyncType::Failed, err, context)) {
        std::string line = "crunpp: ";
        line += Error(std::string(context), err).what();
        line += '\n';
        ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
        (void)ignored;
    }
    _exit(status);
}

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

void keep_preserved_fds(int count) {
    for (int fd = 3; fd < 3 + count; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && (flags & FD_CLOEXEC))
            fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
}

[[noreturn]] void exec_process_child(const ExecChildParams &p) noexcept {
    int failure_status = 1;
    try {
        if (p.signal_mask)
            sigprocmask(SIG_SETMASK, p.signal_mask, nullptr);
        p.sync->expect(SyncType::Go, "wait for the process's pid to be recorded");
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
        keep_preserved_fds(p.preserved_fds);
        eo.preserve_fds = p.preserved_fds;
        linux::exec_process(process, exe, eo);
    } catch (const Error &e) {
        report_and_exit(p, e.context(), e.errnum(), failure_status);
    } catch (const std::bad_alloc &) {
        report_and_exit(p, "exec: out of memory", 0, failure_status);
    } catch (const std::exception &e) {
        report_and_exit(p, std::string("exec: ") + e.what(), 0, failure_status);
    } catch (...) {
        report_and_exit(p, "exec: unknown error", 0, failure_status);
    }
    _exit(failure_status);
}

} // namespace

void exec_helper(const ExecChildParams &p) noexcept {
    try {
        // Before the namespaces: the host's paths, and a cgroup namespace
        // joined afterwards is then rooted above the process.
        enter_v1_cgroups(*p.cgroups);
        join_container_namespaces(p.init_pidfd, p.init_pid, p.namespaces);
        pid_t pid = clone_parent();
        if (pid == 0)
            exec_process_child(p);
        p.sync->send(SyncType::InitPid, pid);
        _exit(0);
    } catch (const Error &e) {
        report_and_exit(p, e.context(), e.errnum(), 1);
    } catch (const std::exception &e) {
        report_and_exit(p, std::string("exec: ") + e.what(), 0, 1);
    } catch (...) {
        report_and_exit(p, "exec: unknown error", 0, 1);
    }
}

} // namespace crunpp::container
