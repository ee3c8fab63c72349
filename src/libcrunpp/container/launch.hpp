// SPDX-License-Identifier: GPL-2.0-or-later
// The parent side shared by create and run: load the config, make the state
// dir, clone the init, feed it its id maps and wait until it is ready.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <optional>
#include <string>

#include "crunpp/cgroup.hpp"
#include "crunpp/container.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/state.hpp"
#include "crunpp/unique_fd.hpp"
#include "notify_proxy.hpp"
#include "sync.hpp"

namespace crunpp::container {

// The name of the exec fifo in the container's state dir.
inline constexpr const char *kExecFifo = "exec.fifo";

// State extra keys for `exec`: the config's absolute path (its process,
// seccomp filter) and whether create had --no-new-keyring.
inline constexpr const char *kStateConfigPath = "configPath";
inline constexpr const char *kStateNoNewKeyring = "noNewKeyring";
// The cgroup directories while they are being made, one a line: what
// `delete` removes (if empty) when the runtime died before saving them.
inline constexpr const char *kStateCgroupPlanned = "cgroupPlanned";

// The bundle and config of a create (or restore).
struct Loaded {
    std::string bundle, rootfs, config_path;
    std::string config_text; // kept in the state directory
    spec::Config config;
};
// Reads and checks <bundle>/config.json (or o.config_path) and the rootfs.
Loaded load(const CreateOptions &o);
// The state of a container being created from `l`.
void fill_state(state::ContainerState &st, const Context &ctx, const Loaded &l);
// The container's cgroup with its limits; removed unless committed.
cgroup::Setup make_cgroup(const Context &ctx, const CreateOptions &o, const spec::Config &cfg, state::Container &c);
// Records cg in the state (saved): its directories and, for the systemd
// driver, its unit, before the unit exists, so that a runtime killed while
// starting it leaves it to `delete`.
void save_cgroup_state(state::Container &c, const cgroup::Setup &cg);

struct Launched {
    state::Container container; // locked, status Created (saved)
    UniqueFd pidfd;             // the init
    pid_t pid = 0;
    SyncSocket sync;            // run: still open, to send Start
    UniqueFd console;           // the pty master, when run proxies the terminal
    bool console_size_set = false; // process.consoleSize given
    std::optional<spec::Hooks> hooks; // the config's hooks (run: poststart)
    std::optional<NotifyProxy> notify; // NOTIFY_SOCKET was set: the proxy socket
};

struct LaunchMode {
    bool run = false;                      // no exec fifo: Start comes over the sync socket
    const sigset_t *child_mask = nullptr; // signal mask the init restores
    bool save_created = true;              // run skips the write of the intermediate state
    bool proxy_terminal = false;           // run in the foreground: keeps the pty master
};

// On failure nothing is left: the init is killed and reaped, the state dir
// removed, and the init's Error rethrown with its own text.
Launched launch(const Context &ctx, const CreateOptions &o, const LaunchMode &mode);

// Kills the init (and reaps it when it is our child) and removes the state
// dir; for failures after launch() returned. Never throws.
void abort_launch(Launched &l) noexcept;

} // namespace crunpp::container
