// SPDX-License-Identifier: GPL-2.0-or-later
// Small string helpers shared by the kernel-file readers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crunpp::util {

// The non-empty fields of `s` between `sep`s: "a,,b," -> {"a", "b"}.
inline std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t e = s.find(sep, pos);
        if (e == std::string_view::npos)
            e = s.size();
        if (e > pos)
            out.emplace_back(s.substr(pos, e - pos));
        pos = e + 1;
    }
    return out;
}

} // namespace crunpp::util
