// SPDX-License-Identifier: GPL-2.0-or-later
// What several unit test files share: the text of the error a call throws,
// and a temporary directory removed with everything in it.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "crunpp/error.hpp"

namespace test_util {

// The what() of the crunpp::Error `f` throws; "<no error>" when it throws none.
inline std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const crunpp::Error &e) {
        return e.what();
    }
    return "<no error>";
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/crunpp-unit-test.XXXXXX";
        if (!mkdtemp(tmpl))
            throw crunpp::Error("mkdtemp", errno);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    // Creates path/rel (and its parents) with `content` and `mode`.
    void file(const std::string &rel, mode_t mode, const std::string &content = "#!/bin/sh\n") const {
        std::filesystem::create_directories(std::filesystem::path(path + "/" + rel).parent_path());
        std::ofstream(path + "/" + rel) << content;
        chmod((path + "/" + rel).c_str(), mode);
    }
};

} // namespace test_util
