// SPDX-License-Identifier: GPL-2.0-or-later
// features_json: the claims of `crunpp features`. The expected values are
// spelled out here so that a claim changes only together with this test,
// in the change that makes (or stops making) the feature work.
#include <catch.hpp>

#include <sys/capability.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "crunpp/features.hpp"
#include "crunpp/json.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/version.hpp"

using namespace crunpp;

namespace {

json::Value features() { return json::parse(features_json(false), "features"); }

std::vector<std::string> strings_of(const json::Value *v) {
    std::vector<std::string> r;
    REQUIRE(v);
    REQUIRE(v->type == json::Type::Array);
    for (const auto &e : v->array) {
        REQUIRE(e.type == json::Type::String);
        r.push_back(e.text);
    }
    return r;
}

const json::Value &member(const json::Value &v, std::string_view key) {
    const json::Value *m = v.find(key);
    INFO("member " << key);
    REQUIRE(m);
    return *m;
}

} // namespace

TEST_CASE("features: versions, and the six hook phases", "[features]") {
    const json::Value f = features();
    CHECK(member(f, "ociVersionMin").text == "1.0.0");
    CHECK(member(f, "ociVersionMax").text == spec::kOciVersion);
    // Every phase runs since issue 4.
    CHECK(strings_of(f.find("hooks")) == std::vector<std::string>{"prestart", "createRuntime", "createContainer",
                                                                   "startContainer", "poststart", "poststop"});
    CHECK(member(member(f, "annotations"), "run.oci.crunpp.version").text == CRUNPP_VERSION);
}

TEST_CASE("features: the crun annotations crunpp honours", "[features]") {
    const json::Value f = features();
    for (const char *a : {"run.oci.hooks.stdout", "run.oci.hooks.stderr", "run.oci.seccomp_fail_unknown_syscall",
                          "run.oci.keep_original_groups"})
        CHECK(member(member(f, "annotations"), a).text == "supported");
    // The same annotations, and the systemd driver's unit properties, as
    // prefixes an engine should not pass through from its users.
    CHECK(strings_of(f.find("potentiallyUnsafeConfigAnnotations")) ==
          std::vector<std::string>{"org.systemd.property.", "run.oci."});
}

TEST_CASE("features: all eight namespaces, known to the model", "[features]") {
    const json::Value f = features();
    std::vector<std::string> ns = strings_of(member(f, "linux").find("namespaces"));
    CHECK(ns == std::vector<std::string>{"mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"});
    for (const auto &n : ns)
        CHECK(spec::namespace_type_from_name(n));
}

TEST_CASE("features: capabilities are libcap's names, upper case, from CAP_CHOWN on", "[features]") {
    const json::Value f = features();
    std::vector<std::string> caps = strings_of(member(f, "linux").find("capabilities"));
    REQUIRE(caps.size() >= 41); // up to CAP_CHECKPOINT_RESTORE (libcap 2.66)
    CHECK(caps.front() == "CAP_CHOWN");
    CHECK(std::find(caps.begin(), caps.end(), "CAP_SYS_ADMIN") != caps.end());
    CHECK(std::find(caps.begin(), caps.end(), "CAP_CHECKPOINT_RESTORE") != caps.end());
    for (size_t i = 0; i < caps.size(); i++) {
        cap_value_t value = -1;
        INFO(caps[i]);
        REQUIRE(cap_from_name(caps[i].c_str(), &value) == 0);
        CHECK(value == static_cast<cap_value_t>(i));
    }
}

TEST_CASE("features: mount options are sorted, unique, and exclude filesystem data", "[features]") {
    const json::Value f = features();
    std::vector<std::string> opts = strings_of(f.find("mountOptions"));
    CHECK(std::is_sorted(opts.begin(), opts.end()));
    CHECK(std::set<std::string>(opts.begin(), opts.end()).size() == opts.size());
    for (const char *o : {"bind", "rbind", "ro", "rro", "nosuid", "rnosuid", "rslave", "idmap", "ridmap", "remount"})
        CHECK(std::find(opts.begin(), opts.end(), o) != opts.end());
    // Options the rootfs code rejects or passes as data are not claimed.
    for (const char *o : {"tmpcopyup", "size=65536k", "mode=755"})
        CHECK(std::find(opts.begin(), opts.end(), o) == opts.end());
}

TEST_CASE("features: cgroups (the systemd driver too) and netDevices on; intelRdt off", "[features]") {
    const json::Value f = features();
    const json::Value &linux = member(f, "linux");
    CHECK(json::to_string(member(linux, "cgroup")) ==
          R"({"v1":true,"v2":true,"systemd":true,"systemdUser":true,"rdma":true})");
    CHECK(json::to_string(member(linux, "apparmor")) == R"({"enabled":true})");
    CHECK(json::to_string(member(linux, "selinux")) == R"({"enabled":true})");
    CHECK(json::to_string(member(linux, "intelRdt")) == R"({"enabled":false})");
    CHECK(json::to_string(member(linux, "mountExtensions")) == R"({"idmap":{"enabled":true}})");
    CHECK(json::to_string(member(linux, "netDevices")) == R"({"enabled":true})");
}

TEST_CASE("features: pretty output is the same document", "[features]") {
    std::string pretty = features_json(true);
    CHECK(pretty.ends_with("}\n"));
    CHECK(json::to_string(json::parse(pretty, "features")) == features_json(false));
}
