// SPDX-License-Identifier: GPL-2.0-or-later
// Paths given on the command line, made absolute before crunpp or a helper
// (criu, the notify proxy) changes directory.
#pragma once

#include <limits.h>
#include <unistd.h>

#include <string>

#include "crunpp/error.hpp"

namespace crunpp::util {

// path if absolute, else joined to the current directory.
inline std::string absolute_path(const std::string &path) {
    if (!path.empty() && path[0] == '/')
        return path;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        throw_errno("getcwd");
    return std::string(cwd) + "/" + path;
}

} // namespace crunpp::util
