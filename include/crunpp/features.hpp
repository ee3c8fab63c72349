// SPDX-License-Identifier: GPL-2.0-or-later
// What this build of crunpp implements, as the OCI "features" document
// (runtime-spec features.md; schema/features-schema.json) that `crunpp
// features` prints and that engines read to decide what they may ask for.
#pragma once

#include <string>

namespace crunpp {

// The features document as JSON (tab-indented when pretty, as runc prints it).
std::string features_json(bool pretty = true);

} // namespace crunpp
