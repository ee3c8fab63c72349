// SPDX-License-Identifier: GPL-2.0-or-later
// The container's config.json as it was at create, kept in its state
// directory: exec, poststart and poststop use it, so that editing, moving or
// removing the bundle's config later changes nothing for a created container
// (runc keeps it in its state.json, crun in its state directory).
#pragma once

#include <string>
#include <string_view>

#include "crunpp/spec.hpp"
#include "crunpp/state.hpp"

namespace crunpp::container {

// Writes <state dir>/config.json (0600) from the bytes create parsed.
void keep_config(const state::Container &c, std::string_view text);

// The kept config of the container whose state directory is `dir`. A state
// directory from a crunpp that kept none falls back to the config path the
// state records, then to the bundle's config.json. Throws Error.
spec::Config kept_config(const std::string &dir, const state::ContainerState &st);

} // namespace crunpp::container
