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

// The config (absolute path) is recorded in the state when it has hooks,
// so that start and delete find the poststart and poststop hooks.
void record_hooks_config(state::ContainerState &st, const spec::Config &cfg, const std::string &config_path);
// Those hooks, or nullopt when the container has none. Throws on a config
// that cannot be read any more.
std::optional<spec::Hooks> recorded_hooks(const state::ContainerState &st);

// poststop: failures (and an unreadable config) are warnings.
void run_poststop(const state::ContainerState &st) noexcept;

} // namespace crunpp::container
