// SPDX-License-Identifier: GPL-2.0-or-later
// crun's boolean annotations that change how a container runs (listed in
// `features`): set, and not "0" or "false", means on.
#pragma once

#include "crunpp/spec.hpp"

namespace crunpp::container {

// The process keeps the runtime's supplementary groups: no setgroups, and
// process.user.additionalGids unused (crun).
inline constexpr const char *kKeepOriginalGroupsAnnotation = "run.oci.keep_original_groups";

inline bool annotation_enabled(const spec::Config &cfg, const char *key) {
    auto it = cfg.annotations.find(key);
    return it != cfg.annotations.end() && it->second != "0" && it->second != "false";
}

} // namespace crunpp::container
