// SPDX-License-Identifier: GPL-2.0-or-later
// Where the lifecycle runs the hooks that belong to the runtime's side:
// prestart/createRuntime (launch), poststart (start, run), poststop
// (delete, run). createContainer/startContainer run in the init (init.cpp).
#pragma once

#include <optional>
#include <string>

#include "crunpp/spec.hpp"
#include "crunpp/state.hpp"

namespace crunpp::container {

// The OCI state a hook reads on stdin.
std::string hook_state_json(state::ContainerState st, state::Status status, pid_t pid);

// The state records whether the config has poststart or poststop hooks, so
// that start and delete read the kept config (kept_config.hpp) only then.
void record_hooks_config(state::ContainerState &st, const spec::Config &cfg, const std::string &config_path);
// Those hooks of the container whose state directory is `dir`, or nullopt
// when it has none. Throws on a kept config that cannot be read.
std::optional<spec::Hooks> recorded_hooks(const std::string &dir, const state::ContainerState &st);

// poststop: failures (and an unreadable config) are warnings.
void run_poststop(const state::Container &c) noexcept;

} // namespace crunpp::container
