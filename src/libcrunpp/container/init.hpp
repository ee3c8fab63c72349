// SPDX-License-Identifier: GPL-2.0-or-later
// The container init: the code the cloned child runs, from the clone to
// execve. It reports any Error to the parent over the sync socket.
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include "../linux/seccomp/seccomp.hpp"
#include "crunpp/spec.hpp"
#include "plan.hpp"
#include "sync.hpp"

namespace crunpp::container {

struct InitParams {
    const spec::Config *config = nullptr;
    const std::string *rootfs = nullptr; // absolute
    const std::string *bundle = nullptr; // absolute
    NamespacePlan *plan = nullptr; // the init's copy: joining closes its fds
    SyncSocket *sync = nullptr;          // the init's end
    int exec_fifo_fd = -1;               // O_PATH fd of the exec fifo (create), -1 for run
    bool rootless = false;
    bool no_pivot = false;
    const sigset_t *signal_mask = nullptr; // restored first (run blocks signals before the clone)
    const linux::SeccompFilter *seccomp = nullptr; // linux.seccomp, compiled by the parent
    // Idmapped mount trees the parent made before the clone (joined user
    // namespace), index-aligned with config->mounts, -1 where none. Those
    // for a new user namespace arrive over the sync socket instead.
    std::vector<int> inherited_mounts;
    // v1: the "tasks" files of the container's cgroups (cgroup::open_v1_tasks),
    // written first thing; then the cgroup namespace is unshared when the
    // clone could not create it (it would be rooted at the runtime's cgroup).
    std::vector<int> v1_cgroup_tasks;
    bool unshare_cgroupns = false;
    // systemd driver: wait for the parent's Go (the unit started with this
    // process in it) before anything else.
    bool await_cgroup = false;
    const std::string *id = nullptr;
    int preserved_fds = 0;     // fds 3..3+N-1 reach the process
    const std::vector<int> *closed_fds = nullptr; // but these, not open at the start
    bool set_listen_pid = false; // LISTEN_PID=<the process's pid> (socket activation)
    bool new_keyring = true;   // join a fresh session keyring
    // The files of run.oci.hooks.stdout/stderr (hooks_flow.hpp), -1: none.
    int hooks_stdout_fd = -1, hooks_stderr_fd = -1;
};

// Never returns: execve's the container process or _exit()s (1 before
// "ready", 127 when the exec itself fails).
[[noreturn]] void container_init(const InitParams &p) noexcept;

} // namespace crunpp::container
