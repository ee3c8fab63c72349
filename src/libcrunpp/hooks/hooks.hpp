// SPDX-License-Identifier: GPL-2.0-or-later
// OCI hooks (config.md "POSIX-platform Hooks"): each hook of a phase runs in
// order, with the container's OCI state JSON on stdin, its own args, its env
// (the runtime's own when the hook has none, as in runc and crun), and its
// timeout. Where a phase runs (runtime or
// container namespaces) is the caller's business: this runs the hook from
// the calling process's namespaces and root.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::hooks {

// Where a phase's hooks run and where their output goes.
struct RunOptions {
    // The working directory (the bundle for the create phases, as in runc
    // and crun); empty: the caller's.
    std::string cwd;
    // crun's run.oci.hooks.stdout / run.oci.hooks.stderr annotations: the
    // files that get the hooks' output; -1: captured.
    int stdout_fd = -1;
    int stderr_fd = -1;
};

// Runs hooks[0], hooks[1]... and stops at the first failure, throwing
// Error("<phase> hook[i] \"/path\": exited with status 3[: <output>]") or
// "... timed out after N s" (the hook is then killed). The hook's stdout
// and stderr, unless sent to a file, are captured (the last few KiB go into
// the error message).
void run(std::string_view phase, const std::vector<spec::Hook> &hooks, const std::string &state_json,
         const RunOptions &o = {});

// The same, but a failure is only logged as a warning (poststop).
void run_warn_only(std::string_view phase, const std::vector<spec::Hook> &hooks, const std::string &state_json,
                   const RunOptions &o = {}) noexcept;

// The state JSON in a sealed-size memfd (read from offset 0), to hand the
// state to another process (the container init) over a socket.
UniqueFd state_memfd(const std::string &state_json);
// Everything in such a file, from offset 0.
std::string read_state_memfd(int fd);

} // namespace crunpp::hooks
