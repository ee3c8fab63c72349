// SPDX-License-Identifier: GPL-2.0-or-later
// crun's `delete --regex` and `kill --regex`: the command applies to every
// container whose id matches a POSIX extended regular expression (anywhere
// in the id, as regexec(3) matches).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cli.hpp"

namespace crunpp::cli {

// Runs `action` on each matching id of the state root; a failure is logged
// as a warning and the others go on. Throws when the pattern is invalid or
// when any action failed (naming how many). No match is no error (crun).
void for_each_matching_id(std::string_view command, const GlobalOptions &g, const std::string &pattern,
                          const std::function<void(const std::string &id)> &action);

} // namespace crunpp::cli
