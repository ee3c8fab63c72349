// SPDX-License-Identifier: GPL-2.0-or-later
// exec's children. A pid namespace can only be entered by a child of the
// process that called setns(2), so crunpp forks a helper that joins the
// container's cgroup and namespaces and then clones the real process with
// CLONE_PARENT: the process is crunpp's own child (foreground exec waits
// for it directly, as run does for its init), in the container's pid
// namespace; the helper reports the process's pid and exits.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <cstdint>
#include <string>

#include "../linux/seccomp/seccomp.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/spec.hpp"
#include "exe_guard.hpp"
#include "sync.hpp"

namespace crunpp::container {

struct ExecChildParams {
    // The container's config with the exec'd process in config->process
    // (its rlimits, scheduling... and the container's personality).
    const spec::Config *config = nullptr;
    int init_pidfd = -1;   // the container's init
    pid_t init_pid = 0;
    uint64_t namespaces = 0; // CLONE_NEW* to join (namespaces_to_join)
    const cgroup::Paths *cgroups = nullptr; // v1 directories the helper enters
    SyncSocket *sync = nullptr;             // the children's end
    int parent_sync_fd = -1;                // crunpp's end: the helper closes it
    pid_t runtime_pid = 0;                  // crunpp
    const linux::SeccompFilter *seccomp = nullptr; // the container's filter, compiled
    const std::string *id = nullptr;
    bool new_keyring = true;   // join the container's session keyring "_ses.<id>"
    int preserved_fds = 0;     // fds 3..3+N-1 reach the process
    const std::vector<int> *closed_fds = nullptr; // but these, not open in crunpp
    const sigset_t *signal_mask = nullptr; // restored by the process
    FileId runtime_binary;     // crunpp's binary, never the process's (CVE-2019-5736)
};

// Sync, helper -> parent: InitPid (the process's host pid) or Failed. The
// process then waits for Go; it sends Console (the pty master, when
// process.terminal), SeccompListener (notify filters) and, on failure,
// Failed; its end is close-on-exec, so EOF tells the parent it exec'd.
// Until the process execs, crunpp's death kills the helper and the process
// (PR_SET_PDEATHSIG), and only crunpp holds its end of the socket, so a
// process still waiting for Go sees EOF: a crunpp killed at any moment
// leaves no half-set-up process in the container.
// Never returns: the helper _exit()s (0 once the pid is sent, 1 on error).
[[noreturn]] void exec_helper(const ExecChildParams &p) noexcept;

} // namespace crunpp::container
