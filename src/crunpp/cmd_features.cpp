// SPDX-License-Identifier: GPL-2.0-or-later
// `crunpp features`: prints what this crunpp implements (OCI features JSON).
#include "cli.hpp"
#include "crunpp/features.hpp"

namespace crunpp::cli {
namespace {

int run_features(const GlobalOptions &, const ParsedArgs &args) {
    require_positional("features", args, 0, 0, "no arguments");
    out(features_json(true));
    return 0;
}

} // namespace

extern const Command kFeaturesCommand;
const Command kFeaturesCommand = {
    "features", "", "show the enabled features (OCI features document, JSON)", {}, run_features,
};

} // namespace crunpp::cli
