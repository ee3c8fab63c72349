// SPDX-License-Identifier: GPL-2.0-or-later
// The process environment as the config holds it: "NAME=value" strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crunpp::util {

// NAME=value in env, replacing an existing NAME (the process sees one value).
inline void set_env(std::vector<std::string> &env, std::string_view name, std::string_view value) {
    std::string entry;
    entry.reserve(name.size() + 1 + value.size());
    entry.append(name).append("=").append(value);
    for (std::string &e : env)
        if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') {
            e = std::move(entry);
            return;
        }
    env.push_back(std::move(entry));
}

} // namespace crunpp::util
