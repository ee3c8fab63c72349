// SPDX-License-Identifier: GPL-2.0-or-later
// The fuzz targets (tests/fuzz/fuzz_<name>.cpp) run on every file of their
// seed corpus and of the inputs that once broke them (regressions/<name>/),
// in the normal build: what a fuzzer found stays fixed.
#include <catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "crunpp/unique_fd.hpp"
#include "tests/fuzz/fuzz.hpp"

namespace {

std::vector<std::string> files_in(const std::string &dir) {
    std::vector<std::string> out;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d))
            if (e->d_name[0] != '.')
                out.push_back(dir + "/" + e->d_name);
        closedir(d);
    }
    return out;
}

std::string contents(const std::string &path) {
    crunpp::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd.get(), buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    REQUIRE(n == 0);
    return out;
}

} // namespace

TEST_CASE("fuzz targets: every seed and every committed crash input passes", "[fuzz]") {
    using Target = int (*)(const uint8_t *, size_t);
    const std::vector<std::pair<std::string, Target>> targets = {
        {"config", crunpp::fuzz::config},   {"exec_process", crunpp::fuzz::exec_process},
        {"state", crunpp::fuzz::state},     {"seccomp", crunpp::fuzz::seccomp},
        {"procfs", crunpp::fuzz::procfs},   {"dbus", crunpp::fuzz::dbus},
    };
    const std::string dir = std::string(CRUNPP_SOURCE_DIR) + "/tests/fuzz/";
    for (const auto &[name, fn] : targets) {
        std::vector<std::string> inputs = files_in(dir + "corpus-" + name);
        CHECK(!inputs.empty()); // a seed corpus per target
        for (const std::string &f : files_in(dir + "regressions/" + name))
            inputs.push_back(f);
        for (const std::string &f : inputs) {
            INFO(f);
            std::string data = contents(f);
            CHECK_NOTHROW(fn(reinterpret_cast<const uint8_t *>(data.data()), data.size()));
        }
    }
}
