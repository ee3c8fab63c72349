// SPDX-License-Identifier: GPL-2.0-or-later
// CPU and NUMA node lists in the kernel's "0-3,5" syntax.
#include "process.hpp"

#include "crunpp/error.hpp"

#include <algorithm>
#include <charconv>

namespace crunpp::linux {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

bool parse_number(std::string_view s, unsigned &out) {
    if (s.empty())
        return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

} // namespace

std::vector<unsigned> parse_id_list(std::string_view list, std::string_view what, unsigned max_id) {
    auto bad = [&](std::string_view why) {
        return Error(std::string(what) + ": invalid list \"" + std::string(list) + "\": " + std::string(why));
    };
    std::vector<unsigned> ids;
    std::string_view rest = trim(list);
    if (rest.empty())
        throw bad("empty");
    while (true) {
        size_t comma = rest.find(',');
        std::string_view item = trim(rest.substr(0, comma));
        size_t dash = item.find('-');
        unsigned lo = 0, hi = 0;
        if (dash == std::string_view::npos) {
            if (!parse_number(item, lo))
                throw bad("\"" + std::string(item) + "\" is not a number or a range");
            hi = lo;
        } else if (!parse_number(item.substr(0, dash), lo) || !parse_number(item.substr(dash + 1), hi)) {
            throw bad("\"" + std::string(item) + "\" is not a number or a range");
        }
        if (lo > hi)
            throw bad("range \"" + std::string(item) + "\" is reversed");
        if (hi > max_id)
            throw bad(std::to_string(hi) + " is above the maximum " + std::to_string(max_id));
        for (unsigned i = lo; i <= hi; ++i)
            ids.push_back(i);
        if (comma == std::string_view::npos)
            break;
        rest = rest.substr(comma + 1);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

} // namespace crunpp::linux
