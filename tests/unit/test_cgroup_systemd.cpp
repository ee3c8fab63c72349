// SPDX-License-Identifier: GPL-2.0-or-later
// The systemd cgroup driver's conversions: cgroupsPath to unit and slice,
// slice expansion, resources and annotations to unit properties (what is
// sent over D-Bus; the bus itself is tested in the systemd lane).
#include <catch.hpp>

#include <string>

#include "crunpp/error.hpp"
#include "src/libcrunpp/cgroup/systemd_unit.hpp"
#include "test_util.hpp"

using namespace crunpp;
using test_util::error_of;
namespace sd = crunpp::cgroup::systemd;

namespace {

const sd::Value *find(const sd::Properties &p, const std::string &name) {
    for (const sd::Property &x : p)
        if (x.name == name)
            return &x.value;
    return nullptr;
}

} // namespace

TEST_CASE("systemd: slice names expand to their nested cgroup path as runc's ExpandSlice", "[cgroup][systemd]") {
    CHECK(sd::expand_slice("system.slice") == "/system.slice");
    CHECK(sd::expand_slice("a-b-c.slice") == "/a.slice/a-b.slice/a-b-c.slice");
    CHECK(sd::expand_slice("machine-libpod_pod_x.slice") == "/machine.slice/machine-libpod_pod_x.slice");
    CHECK(sd::expand_slice("-.slice") == "/");
    for (const char *bad : {"a--b.slice", "-a.slice", "a-.slice", ".slice", "a.scope", "a/b.slice", "slice"})
        CHECK_THROWS_WITH(sd::expand_slice(bad), std::string("invalid slice name \"") + bad + "\"");
}

TEST_CASE("systemd: cgroupsPath forms and runc's defaults", "[cgroup][systemd]") {
    sd::Unit u = sd::unit_for("", "abc", false);
    CHECK(u.name == "crunpp-abc.scope");
    CHECK(u.slice == "system.slice");
    CHECK_FALSE(u.is_slice);
    CHECK(sd::unit_for("", "abc", true).slice == "user.slice");
    u = sd::unit_for("machine.slice:libpod:0123", "ignored", false);
    CHECK(u.name == "libpod-0123.scope");
    CHECK(u.slice == "machine.slice");
    u = sd::unit_for(":cri-containerd:c1", "x", true);
    CHECK(u.name == "cri-containerd-c1.scope");
    CHECK(u.slice == "user.slice");
    // A name ending in .slice asks for a slice unit (runc).
    u = sd::unit_for("system.slice:x:mine.slice", "x", false);
    CHECK(u.is_slice);
    CHECK(u.name == "mine.slice");
}

TEST_CASE("systemd: a bad cgroupsPath is an error naming .linux.cgroupsPath", "[cgroup][systemd]") {
    CHECK(error_of([] { sd::unit_for("system.slice", "x", false); }) ==
          "config.json: .linux.cgroupsPath: cgroupsPath \"system.slice\": the systemd driver expects "
          "\"slice:prefix:name\"");
    CHECK(error_of([] { sd::unit_for("/a/b", "x", false); }) ==
          "config.json: .linux.cgroupsPath: cgroupsPath \"/a/b\": the systemd driver expects \"slice:prefix:name\"");
    CHECK(error_of([] { sd::unit_for("a--b.slice:p:n", "x", false); }) ==
          "config.json: .linux.cgroupsPath: \"a--b.slice:p:n\": invalid slice name \"a--b.slice\"");
    CHECK(error_of([] { sd::unit_for("a.slice:p:", "x", false); }) ==
          "config.json: .linux.cgroupsPath: cgroupsPath \"a.slice:p:\": the name part is empty");
    CHECK(error_of([] { sd::unit_for("a.slice:p q:n", "x", false); }) ==
          "config.json: .linux.cgroupsPath: \"a.slice:p q:n\": prefix \"p q\" has a character systemd unit names "
          "cannot have (' ')");
}

TEST_CASE("systemd: cpu shares to CPUWeight with runc's formula", "[cgroup][systemd]") {
    CHECK(sd::shares_to_weight(0) == 0);
    CHECK(sd::shares_to_weight(2) == 1);
    CHECK(sd::shares_to_weight(1024) == 39);
    CHECK(sd::shares_to_weight(512) == 20);
    CHECK(sd::shares_to_weight(262144) == 10000);
    CHECK(sd::shares_to_weight(1000000) == 10000); // clamped as the kernel clamps
}

TEST_CASE("systemd: quota and period to CPUQuotaPerSecUSec, rounded up to whole percents", "[cgroup][systemd]") {
    CHECK(sd::quota_per_sec(50000, 100000) == 500000);
    CHECK(sd::quota_per_sec(50000, 0) == 500000); // the default period
    CHECK(sd::quota_per_sec(12345, 100000) == 130000);
    CHECK(sd::quota_per_sec(-1, 100000) == sd::kInfinity);
    spec::Resources r;
    r.cpu.emplace();
    r.cpu->quota = 20000;
    r.cpu->period = 50000;
    sd::Properties p = sd::resource_properties(r, true);
    REQUIRE(find(p, "CPUQuotaPeriodUSec"));
    CHECK(std::get<uint64_t>(*find(p, "CPUQuotaPeriodUSec")) == 50000);
    CHECK(std::get<uint64_t>(*find(p, "CPUQuotaPerSecUSec")) == 400000);
    // Only a period: the quota stays unlimited.
    r.cpu->quota.reset();
    p = sd::resource_properties(r, true);
    CHECK(std::get<uint64_t>(*find(p, "CPUQuotaPerSecUSec")) == sd::kInfinity);
}

TEST_CASE("systemd: cpusets as AllowedCPUs byte masks", "[cgroup][systemd]") {
    CHECK(sd::cpuset_mask("0", "p") == std::vector<uint8_t>{0x01});
    CHECK(sd::cpuset_mask("0-2,7", "p") == std::vector<uint8_t>{0x87});
    CHECK(sd::cpuset_mask("9", "p") == std::vector<uint8_t>{0x00, 0x02});
    CHECK(sd::cpuset_mask("1,3-4,10-11", "p") == std::vector<uint8_t>{0x1a, 0x0c});
    CHECK(sd::cpuset_mask(" ", "p") == std::vector<uint8_t>{0x00});
    CHECK(error_of([] { sd::cpuset_mask("2-1", "linux.resources.cpu.cpus"); }) ==
          "linux.resources.cpu.cpus: \"2-1\": not a list of numbers and ranges (\"0-2,7\")");
    CHECK(error_of([] { sd::cpuset_mask("a", "linux.resources.cpu.mems"); }) ==
          "linux.resources.cpu.mems: \"a\": not a list of numbers and ranges (\"0-2,7\")");
}

TEST_CASE("systemd: resources as v2 and v1 unit properties", "[cgroup][systemd]") {
    spec::Resources r;
    r.memory.emplace();
    r.memory->limit = 100 << 20;
    r.memory->reservation = 50 << 20;
    r.memory->swap = 300 << 20;
    r.cpu.emplace();
    r.cpu->shares = 1024;
    r.cpu->cpus = "0-1";
    r.cpu->mems.emplace(1, '0'); // (a literal assigned here trips GCC 12's -Wrestrict false positive)
    r.pids.emplace();
    r.pids->limit = 42;
    sd::Properties p = sd::resource_properties(r, true);
    CHECK(std::get<uint64_t>(*find(p, "MemoryMax")) == 100u << 20);
    CHECK(std::get<uint64_t>(*find(p, "MemoryLow")) == 50u << 20);
    CHECK(std::get<uint64_t>(*find(p, "MemorySwapMax")) == 200u << 20); // swap alone on v2
    CHECK(std::get<uint64_t>(*find(p, "CPUWeight")) == 39);
    CHECK(std::get<std::vector<uint8_t>>(*find(p, "AllowedCPUs")) == std::vector<uint8_t>{0x03});
    CHECK(std::get<std::vector<uint8_t>>(*find(p, "AllowedMemoryNodes")) == std::vector<uint8_t>{0x01});
    CHECK(std::get<uint64_t>(*find(p, "TasksMax")) == 42);
    CHECK_FALSE(find(p, "CPUQuotaPerSecUSec"));
    // Unlimited: infinity.
    r.memory->limit = -1;
    r.memory->swap.reset();
    r.pids->limit = -1;
    p = sd::resource_properties(r, true);
    CHECK(std::get<uint64_t>(*find(p, "MemoryMax")) == sd::kInfinity);
    CHECK(std::get<uint64_t>(*find(p, "MemorySwapMax")) == sd::kInfinity);
    CHECK(std::get<uint64_t>(*find(p, "TasksMax")) == sd::kInfinity);
    // v1 names; no cpuset properties there (systemd has none on v1).
    p = sd::resource_properties(r, false);
    CHECK(find(p, "MemoryLimit"));
    CHECK(std::get<uint64_t>(*find(p, "CPUShares")) == 1024);
    CHECK_FALSE(find(p, "MemoryMax"));
    CHECK_FALSE(find(p, "AllowedCPUs"));
    CHECK(sd::resource_properties(spec::Resources{}, true).empty());
}

TEST_CASE("systemd: device rules as DevicePolicy and DeviceAllow", "[cgroup][systemd]") {
    using R = cgroup::detail::DeviceRule;
    const std::string proc = "Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n";
    std::vector<R> rules = {{'a', -1, -1, "rwm", false}, {'c', 1, 3, "rwm", true}, {'c', 136, -1, "rwm", true},
                            {'b', 8, -1, "r", true},     {'c', 5, 1, "rw", true},  {'c', 5, 1, "rw", false}};
    auto all = [](char, int64_t, int64_t) { return true; };
    sd::Properties p = sd::device_properties(rules, proc, all);
    CHECK(std::get<std::string>(*find(p, "DevicePolicy")) == "strict");
    std::vector<sd::DeviceAllow> want = {{"/dev/char/1:3", "rwm"}, {"char-pts", "rwm"}, {"block-sd", "r"}};
    CHECK(std::get<std::vector<sd::DeviceAllow>>(*find(p, "DeviceAllow")) == want);
    // A denial after an allow of the same device takes those accesses away.
    std::vector<R> partial = {{'a', -1, -1, "rwm", false}, {'c', 10, 229, "r", true}, {'c', 1, 3, "rwm", true},
                              {'c', 10, 229, "rwm", false}, {'c', 1, 3, "w", false}};
    p = sd::device_properties(partial, proc, all);
    CHECK(std::get<std::vector<sd::DeviceAllow>>(*find(p, "DeviceAllow")) ==
          std::vector<sd::DeviceAllow>{{"/dev/char/1:3", "rm"}});
    // A device the host does not have is left out (runc; systemd refuses it).
    rules.push_back({'c', 10, 200, "rwm", true});
    p = sd::device_properties(rules, proc, [](char, int64_t major, int64_t) { return major != 10; });
    CHECK(std::get<std::vector<sd::DeviceAllow>>(*find(p, "DeviceAllow")) == want);
    // Allow everything (a privileged container): systemd's default policy.
    rules.push_back({'a', -1, -1, "rwm", true});
    p = sd::device_properties(rules, proc, all);
    CHECK(std::get<std::string>(*find(p, "DevicePolicy")) == "auto");
    CHECK(std::get<std::vector<sd::DeviceAllow>>(*find(p, "DeviceAllow")).empty());
}

TEST_CASE("systemd: GVariant values of org.systemd.property annotations", "[cgroup][systemd]") {
    CHECK(std::get<uint64_t>(sd::parse_variant("uint64 123", "p")) == 123);
    CHECK(std::get<uint64_t>(sd::parse_variant("@t 7", "p")) == 7);
    CHECK(std::get<uint32_t>(sd::parse_variant("uint32 9", "p")) == 9);
    CHECK(std::get<int64_t>(sd::parse_variant("int64 -4", "p")) == -4);
    CHECK(std::get<int32_t>(sd::parse_variant("12", "p")) == 12);
    CHECK(std::get<bool>(sd::parse_variant("true", "p")));
    CHECK_FALSE(std::get<bool>(sd::parse_variant("false", "p")));
    CHECK(std::get<std::string>(sd::parse_variant("'hello world'", "p")) == "hello world");
    CHECK(std::get<std::string>(sd::parse_variant("\"x\"", "p")) == "x");
    CHECK(std::get<double>(sd::parse_variant("1.5", "p")) == 1.5);
    CHECK(std::get<std::vector<std::string>>(sd::parse_variant("['a.service', 'b.service']", "p")) ==
          std::vector<std::string>{"a.service", "b.service"});
    CHECK(error_of([] { sd::parse_variant("uint64 -1", "q"); }) == "q: \"-1\" is negative for an unsigned type");
    CHECK(error_of([] { sd::parse_variant("nonsense", "q"); }) ==
          "q: \"nonsense\": not a GVariant value (\"uint64 5\", \"true\", \"'text'\")");
    CHECK(error_of([] { sd::parse_variant("byte 300", "q"); }) == "q: \"300\" is not a number of the type given");
}

TEST_CASE("systemd: annotations become properties, *Sec in seconds becomes *USec", "[cgroup][systemd]") {
    std::map<std::string, std::string> a = {
        {"org.systemd.property.CollectMode", "'inactive-or-failed'"},
        {"org.systemd.property.TimeoutStopSec", "uint64 5"},
        {"org.systemd.property.RuntimeMaxSec", "1.5"},
        {"org.systemd.property.TimeoutStopUSec", "uint64 7"}, // already µs: as given
        {"other.annotation", "ignored"},
    };
    sd::Properties p = sd::annotation_properties(a);
    REQUIRE(p.size() == 4);
    CHECK(std::get<std::string>(*find(p, "CollectMode")) == "inactive-or-failed");
    CHECK(std::get<uint64_t>(*find(p, "RuntimeMaxUSec")) == 1500000);
    // Two annotations name TimeoutStopUSec: both sent, in key order.
    CHECK(p[2].name == "TimeoutStopUSec");
    CHECK(std::get<uint64_t>(p[2].value) == 5000000);
    CHECK(std::get<uint64_t>(p[3].value) == 7);
    CHECK(error_of([] { sd::annotation_properties({{"org.systemd.property.Bad-Name", "true"}}); }) ==
          "config.json: .annotations[\"org.systemd.property.Bad-Name\"]: the property name \"Bad-Name\" has a "
          "character that is not a letter");
    CHECK(error_of([] { sd::annotation_properties({{"org.systemd.property.TimeoutStopSec", "'5s'"}}); }) ==
          "config.json: .annotations[\"org.systemd.property.TimeoutStopSec\"]: \"'5s'\": a *Sec property takes a "
          "number of seconds");
    CHECK(error_of([] { sd::annotation_properties({{"org.systemd.property.RuntimeMaxSec", "1e300"}}); }) ==
          "config.json: .annotations[\"org.systemd.property.RuntimeMaxSec\"]: \"1e300\": too many seconds");
    CHECK(std::get<uint64_t>(
              *find(sd::annotation_properties({{"org.systemd.property.RuntimeMaxSec", "0.0000004"}}), "RuntimeMaxUSec")) ==
          0);
    CHECK(std::get<uint64_t>(
              *find(sd::annotation_properties({{"org.systemd.property.RuntimeMaxSec", "0.0000006"}}), "RuntimeMaxUSec")) ==
          1);
    CHECK(error_of([] { sd::annotation_properties({{"org.systemd.property.Xy", "true"}}); }) ==
          "config.json: .annotations[\"org.systemd.property.Xy\"]: the property name \"Xy\" is too short");
}
