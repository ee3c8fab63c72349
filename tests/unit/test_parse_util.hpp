// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers shared by the parser tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"

namespace parse_test {

// A valid document with `members` added at the top level.
inline std::string config_with(std::string_view members) {
    std::string s = R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})";
    if (!members.empty()) {
        s.pop_back();
        s += ", ";
        s += members;
        s += "}";
    }
    return s;
}

// The message parse_config throws for `text`, or "" when it parses.
inline std::string config_error(std::string_view text) {
    try {
        crunpp::spec::parse_config(text);
    } catch (const crunpp::Error &e) {
        return e.what();
    }
    return "";
}

inline std::string process_error(std::string_view text) {
    try {
        crunpp::spec::parse_process(text);
    } catch (const crunpp::Error &e) {
        return e.what();
    }
    return "";
}

inline std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace parse_test
