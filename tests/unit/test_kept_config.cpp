// SPDX-License-Identifier: GPL-2.0-or-later
// The config kept in the state directory at create: what exec and the
// poststart/poststop hooks read, and the fallbacks for a state directory
// that has none (one made by an older crunpp).
#include "src/libcrunpp/container/kept_config.hpp"
#include "src/libcrunpp/container/launch.hpp"

#include "crunpp/error.hpp"
#include "crunpp/state.hpp"
#include "test_util.hpp"

#include <catch.hpp>

#include <sys/stat.h>

#include <string>

using namespace crunpp;
using test_util::error_of;
using test_util::TempDir;

namespace {

std::string config_marked(const std::string &name) {
    return R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "annotations": {"mark": ")" + name + R"("}})";
}

} // namespace

TEST_CASE("keep_config writes the bytes it is given, 0600, once", "[kept_config]") {
    TempDir tmp;
    state::Store store(tmp.path + "/root");
    state::Container c = store.create("k1");
    c.save(); // published: dir() is its path
    container::keep_config(c, config_marked("kept"));
    struct stat st;
    REQUIRE(stat((c.dir() + "/config.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(container::kept_config(c.dir(), c.state()).annotations.at("mark") == "kept");
    // Exclusive: a second copy never replaces the first.
    CHECK(error_of([&] { container::keep_config(c, config_marked("other")); })
              .find("keep the config in " + c.dir()) == 0);
}

TEST_CASE("kept_config prefers the kept copy over the bundle's config", "[kept_config]") {
    TempDir tmp;
    tmp.file("bundle/config.json", 0644, config_marked("bundle"));
    state::Store store(tmp.path + "/root");
    state::Container c = store.create("k1");
    c.save(); // published: dir() is its path
    c.state().bundle = tmp.path + "/bundle";
    c.state().extra[container::kStateConfigPath] = tmp.path + "/bundle/config.json";
    container::keep_config(c, config_marked("kept"));
    CHECK(container::kept_config(c.dir(), c.state()).annotations.at("mark") == "kept");
}

TEST_CASE("kept_config without a kept copy reads the recorded path, then the bundle's", "[kept_config]") {
    TempDir tmp;
    tmp.file("bundle/config.json", 0644, config_marked("bundle"));
    tmp.file("elsewhere.json", 0644, config_marked("recorded"));
    state::Store store(tmp.path + "/root");
    state::Container c = store.create("k1");
    c.save(); // published: dir() is its path
    c.state().bundle = tmp.path + "/bundle";
    CHECK(container::kept_config(c.dir(), c.state()).annotations.at("mark") == "bundle");
    c.state().extra[container::kStateConfigPath] = tmp.path + "/elsewhere.json";
    CHECK(container::kept_config(c.dir(), c.state()).annotations.at("mark") == "recorded");
    c.state().extra[container::kStateConfigPath] = tmp.path + "/gone.json";
    CHECK(error_of([&] { container::kept_config(c.dir(), c.state()); }) ==
          "config.json: open " + tmp.path + "/gone.json: No such file or directory");
}
