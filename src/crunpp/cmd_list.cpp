// SPDX-License-Identifier: GPL-2.0-or-later
// PLACEHOLDER: replaced by the helper implementing 'list'.
#include "cli.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cli {
namespace {
int run_list(const GlobalOptions &, const ParsedArgs &) { throw Error("list: PLACEHOLDER"); }
} // namespace
extern const Command kListCommand;
const Command kListCommand = {"list", "", "PLACEHOLDER", {}, run_list};
} // namespace crunpp::cli
