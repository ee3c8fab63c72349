// SPDX-License-Identifier: GPL-2.0-or-later
// Where the lifecycle runs the hooks that belong to the runtime's side:
// prestart/createRuntime (launch), poststart (start, run), poststop
// (delete, run). createContainer/startContainer run in the init (init.cpp).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "../hooks/hooks.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/state.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

// The OCI state a hook reads on stdin.
std::string hook_state_json(state::ContainerState st, state::Status status, pid_t pid);

// The state records whether the config has poststart or poststop hooks, so
// that start and delete read the kept config (kept_config.hpp) only then.
void record_hooks_config(state::ContainerState &st, const spec::Config &cfg, const std::string &config_path);
// Those hooks of the container whose state directory is `dir`, or nullopt
// when it has none. Throws on a kept config that cannot be read.
std::optional<spec::Hooks> recorded_hooks(const std::string &dir, const state::ContainerState &st);

// crun's annotations run.oci.hooks.stdout and run.oci.hooks.stderr: files,
// appended to (created when missing), that get every hook's output instead
// of the error message.
inline constexpr const char *kHooksStdoutAnnotation = "run.oci.hooks.stdout";
inline constexpr const char *kHooksStderrAnnotation = "run.oci.hooks.stderr";
struct HookOutput {
    UniqueFd out, err;
    // The hooks' options with these files and working directory `cwd`.
    hooks::RunOptions options(std::string cwd = {}) const;
};
// Opens the annotations' files (none without hooks); throws naming the
// annotation.
HookOutput open_hook_output(const std::map<std::string, std::string> &annotations, bool has_hooks);

// poststop: failures (and an unreadable config) are warnings.
void run_poststop(const state::Container &c) noexcept;

} // namespace crunpp::container
