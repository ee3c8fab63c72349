// SPDX-License-Identifier: GPL-2.0-or-later
// PLACEHOLDER: replaced by the helper implementing 'state'.
#include "cli.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cli {
namespace {
int run_state(const GlobalOptions &, const ParsedArgs &) { throw Error("state: PLACEHOLDER"); }
} // namespace
extern const Command kStateCommand;
const Command kStateCommand = {"state", "", "PLACEHOLDER", {}, run_state};
} // namespace crunpp::cli
