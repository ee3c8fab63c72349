// SPDX-License-Identifier: GPL-2.0-or-later
// PLACEHOLDER: replaced by the helper implementing 'features'.
#include "cli.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cli {
namespace {
int run_features(const GlobalOptions &, const ParsedArgs &) { throw Error("features: PLACEHOLDER"); }
} // namespace
extern const Command kFeaturesCommand;
const Command kFeaturesCommand = {"features", "", "PLACEHOLDER", {}, run_features};
} // namespace crunpp::cli
