// SPDX-License-Identifier: GPL-2.0-or-later
// PLACEHOLDER: replaced by the helper implementing 'spec'.
#include "cli.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cli {
namespace {
int run_spec(const GlobalOptions &, const ParsedArgs &) { throw Error("spec: PLACEHOLDER"); }
} // namespace
extern const Command kSpecCommand;
const Command kSpecCommand = {"spec", "", "PLACEHOLDER", {}, run_spec};
} // namespace crunpp::cli
