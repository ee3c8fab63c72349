// SPDX-License-Identifier: GPL-2.0-or-later
// The pieces of the config parser, one file per part of config.json.
#pragma once

#include "crunpp/spec.hpp"
#include "parse_reader.hpp"

namespace crunpp::spec::detail {

// parse_process.cpp
Process read_process(const Node &n);
// Environment lists ("NAME=value" each) of process.env and hooks.
std::vector<std::string> read_env(const Node &parent, std::string_view key);

// parse_linux.cpp
Linux read_linux(const Node &n);
// uidMappings/gidMappings of linux and of mounts.
std::vector<IdMapping> read_id_mappings(const Node &parent, std::string_view key);

// parse_resources.cpp
Resources read_resources(const Node &n);

// Finds `name` in a table of C strings; its index or -1.
template <size_t N> int index_of(const char *const (&table)[N], std::string_view name) {
    for (size_t i = 0; i < N; i++)
        if (name == table[i])
            return static_cast<int>(i);
    return -1;
}

// A string member that must be one of `table`; `what` names the enum in errors.
template <size_t N>
std::string read_enum(const Node &n, const char *const (&table)[N], std::string_view what) {
    std::string_view s = n.string_view();
    if (index_of(table, s) < 0)
        n.fail("unknown " + std::string(what) + " " + quote(s));
    return std::string(s);
}

} // namespace crunpp::spec::detail
