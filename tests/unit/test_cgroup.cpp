// SPDX-License-Identifier: GPL-2.0-or-later
// The cgroup code: systemd paths, every resource written to v1 files and
// converted to v2 ones (checked in fake cgroup directories of plain files),
// stats, resource files, and the eBPF device program on the real cgroup2
// tree.
#include <catch.hpp>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "crunpp/cgroup.hpp"
#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "src/libcrunpp/cgroup/cgroup_internal.hpp"

using namespace crunpp;
namespace fs = std::filesystem;

namespace {

// A directory of empty files named like a cgroup's (the code opens them
// without O_CREAT, as in a real cgroup).
struct FakeCgroup {
    std::string dir;
    explicit FakeCgroup(std::initializer_list<const char *> files, const std::string &controllers = "") {
        char tmpl[] = "/tmp/crunpp-cgtest-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        dir = tmpl;
        for (const char *f : files)
            put(f, "");
        if (!controllers.empty())
            put("cgroup.controllers", controllers + "\n");
    }
    ~FakeCgroup() { fs::remove_all(dir); }
    void put(const std::string &f, const std::string &v) const { std::ofstream(dir + "/" + f) << v; }
    std::string get(const std::string &f) const {
        std::ifstream in(dir + "/" + f);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

constexpr const char *kV2Controllers = "cpuset cpu io memory hugetlb pids rdma";

void apply_res(const cgroup::Paths &p, const spec::Resources &r, bool update = false) {
    cgroup::apply(p, r, {}, true, update);
}

std::string apply_error(const cgroup::Paths &p, const spec::Resources &r) {
    try {
        apply_res(p, r);
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("cgroup: systemd cgroupsPath slice:prefix:name", "[cgroup]") {
    cgroup::SystemdPath p = cgroup::parse_systemd_path("system.slice:crunpp:abc");
    CHECK(p.slice == "system.slice");
    CHECK(p.prefix == "crunpp");
    CHECK(p.name == "abc");
    CHECK(cgroup::parse_systemd_path(":crunpp:abc").slice.empty());
    CHECK_THROWS_WITH(cgroup::parse_systemd_path("system.slice"),
                      "cgroupsPath \"system.slice\": the systemd driver expects \"slice:prefix:name\"");
    CHECK_THROWS_WITH(cgroup::parse_systemd_path("system:crunpp:abc"),
                      "cgroupsPath \"system:crunpp:abc\": slice \"system\" must end in .slice");
    CHECK_THROWS_WITH(cgroup::parse_systemd_path("a.slice:p:"), "cgroupsPath \"a.slice:p:\": the name part is empty");
    CHECK_THROWS_WITH(cgroup::parse_systemd_path("a.slice:p:x/y"),
                      "cgroupsPath \"a.slice:p:x/y\": systemd unit names contain no '/'");
}

TEST_CASE("cgroup: a relative cgroupsPath goes below crunpp's cgroup, or a v2 scope's parent", "[cgroup]") {
    CHECK(cgroup::relative_cgroup_parent("/user.slice/user-0.slice/session-3.scope", true) ==
          "/user.slice/user-0.slice");
    CHECK(cgroup::relative_cgroup_parent("/session-3.scope", true) == "/");
    // v1 keeps runc's rule: below its own cgroup, whatever its name.
    CHECK(cgroup::relative_cgroup_parent("/user.slice/session-3.scope", false) == "/user.slice/session-3.scope");
    CHECK(cgroup::relative_cgroup_parent("/system.slice/containerd.service", true) ==
          "/system.slice/containerd.service");
    CHECK(cgroup::relative_cgroup_parent("/", true) == "/");
    CHECK(cgroup::relative_cgroup_parent("/a/b.scopes", true) == "/a/b.scopes");
}

TEST_CASE("cgroup: hierarchy detection agrees with statfs", "[cgroup]") {
    struct statfs sf {};
    REQUIRE(statfs("/sys/fs/cgroup", &sf) == 0);
    cgroup::Mode m = cgroup::detect_mode();
    if (sf.f_type == CGROUP2_SUPER_MAGIC)
        CHECK(m == cgroup::Mode::V2);
    else
        CHECK(m != cgroup::Mode::V2);
    CHECK(std::string(cgroup::mode_name(m)).size() >= 2);
}

TEST_CASE("cgroup v2: v1 fields converted as runc does", "[cgroup]") {
    FakeCgroup cg({"memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle",
                   "pids.max", "io.weight", "io.max", "cpuset.cpus", "cpuset.mems", "hugetlb.2MB.max", "rdma.max",
                   "memory.high"},
                  kV2Controllers);
    cgroup::Paths p = {{"unified", cg.dir}};
    spec::Resources r;
    r.memory.emplace();
    r.memory->limit = 64 << 20;
    r.memory->swap = 96 << 20;
    r.memory->reservation = 32 << 20;
    r.cpu.emplace();
    r.cpu->shares = 1024;
    r.cpu->quota = 50000;
    r.cpu->period = 100000;
    r.cpu->burst = 1000;
    r.cpu->idle = 1;
    r.cpu->cpus = "0";
    r.cpu->mems = "0";
    r.pids = spec::Pids{-1};
    r.blockIO.emplace();
    r.blockIO->weight = 500;
    r.blockIO->throttleReadBpsDevice = {{8, 0, 1048576}};
    r.hugepageLimits = {{"2MB", 4194304}};
    r.rdma["mlx5_0"] = spec::Rdma{3, 4};
    r.unified["memory.high"] = "50000000";
    apply_res(p, r);
    CHECK(cg.get("memory.max") == "67108864");
    CHECK(cg.get("memory.swap.max") == "33554432"); // swap - limit
    CHECK(cg.get("memory.low") == "33554432");
    CHECK(cg.get("cpu.weight") == "39");            // 1 + (1024 - 2) * 9999 / 262142
    CHECK(cg.get("cpu.max") == "50000 100000");
    CHECK(cg.get("cpu.max.burst") == "1000");
    CHECK(cg.get("cpu.idle") == "1");
    CHECK(cg.get("cpuset.cpus") == "0");
    CHECK(cg.get("cpuset.mems") == "0");
    CHECK(cg.get("pids.max") == "max");
    CHECK(cg.get("io.weight") == "4950");           // 1 + (500 - 10) * 9999 / 990
    CHECK(cg.get("io.max") == "8:0 rbps=1048576");
    CHECK(cg.get("hugetlb.2MB.max") == "4194304");
    CHECK(cg.get("rdma.max") == "mlx5_0 hca_handle=3 hca_object=4");
    CHECK(cg.get("memory.high") == "50000000");

    SECTION("quota -1 and only a period keep the other half") {
        cg.put("cpu.max", "20000 100000\n");
        spec::Resources q;
        q.cpu.emplace();
        q.cpu->period = 50000;
        apply_res(p, q);
        CHECK(cg.get("cpu.max").substr(0, 11) == "20000 50000");
        cg.put("cpu.max", "12345 100000\n");
        q.cpu->period.reset();
        q.cpu->quota = -1;
        apply_res(p, q);
        // A plain file is not truncated by the shorter write, unlike a cgroup's.
        CHECK(cg.get("cpu.max").substr(0, 10) == "max 100000");
    }
    SECTION("swap -1 is max, limit -1 is max") {
        spec::Resources m;
        m.memory.emplace();
        m.memory->limit = -1;
        m.memory->swap = -1;
        cg.put("memory.max", "");
        cg.put("memory.swap.max", "");
        apply_res(p, m);
        CHECK(cg.get("memory.max") == "max");
        CHECK(cg.get("memory.swap.max") == "max");
    }
    SECTION("bfq weight when io.bfq.weight exists") {
        cg.put("io.bfq.weight", "");
        spec::Resources b;
        b.blockIO.emplace();
        b.blockIO->weight = 300;
        apply_res(p, b);
        CHECK(cg.get("io.bfq.weight") == "300");
    }
}

TEST_CASE("cgroup v2: what has no v2 file is an error naming it", "[cgroup]") {
    FakeCgroup cg({"memory.max", "memory.swap.max", "cpu.max", "pids.max"}, "cpu memory");
    cgroup::Paths p = {{"unified", cg.dir}};
    spec::Resources r;
    r.memory.emplace();
    r.memory->swappiness = 10;
    CHECK(apply_error(p, r) == "cgroup: linux.resources.memory.swappiness: not available on cgroup v2");
    r.memory->swappiness.reset();
    r.memory->disableOOMKiller = true;
    CHECK(apply_error(p, r) == "cgroup: linux.resources.memory.disableOOMKiller: not available on cgroup v2");
    r.memory.emplace();
    r.memory->limit = 100;
    r.memory->swap = 50;
    CHECK(apply_error(p, r) == "cgroup: linux.resources.memory.swap: 50 is below the memory limit 100");
    spec::Resources c;
    c.cpu.emplace();
    c.cpu->realtimeRuntime = 1000;
    CHECK(apply_error(p, c) == "cgroup: linux.resources.cpu.realtimeRuntime/realtimePeriod: not available on cgroup v2");
    spec::Resources pid;
    pid.pids = spec::Pids{5};
    CHECK(apply_error(p, pid) ==
          "cgroup: linux.resources.pids: the pids controller is not available in the container's cgroup");
    spec::Resources n;
    n.network.emplace();
    n.network->classID = 7;
    CHECK(apply_error(p, n) ==
          "cgroup: linux.resources.network.classID: no net_cls hierarchy (not available on cgroup v2)");
    spec::Resources u;
    u.unified["../x"] = "1";
    CHECK(apply_error(p, u) == "cgroup: linux.resources.unified: invalid file name \"../x\"");
    u.unified.clear();
    u.unified["memory.nosuch"] = "1";
    CHECK(apply_error(p, u) == "cgroup: linux.resources.unified: " + cg.dir +
                                   "/memory.nosuch does not exist (controller not enabled?)");
    spec::Resources h;
    h.hugepageLimits = {{"2MB", 1}};
    CHECK(apply_error(p, h).find("hugetlb controller is not available") != std::string::npos);
}

TEST_CASE("cgroup v1: every field in its file", "[cgroup]") {
    FakeCgroup mem({"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
                    "memory.kmem.tcp.limit_in_bytes", "memory.swappiness", "memory.oom_control", "memory.use_hierarchy",
                    "memory.usage_in_bytes"});
    FakeCgroup cpu({"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.cfs_burst_us", "cpu.rt_period_us",
                    "cpu.rt_runtime_us", "cpu.idle"});
    FakeCgroup other({"pids.max", "blkio.weight", "blkio.leaf_weight", "blkio.weight_device",
                      "blkio.throttle.write_iops_device", "net_cls.classid", "net_prio.ifpriomap",
                      "hugetlb.1GB.limit_in_bytes", "cpuset.cpus", "cpuset.mems"});
    cgroup::Paths p = {{"memory", mem.dir}, {"cpu", cpu.dir},     {"cpuacct", cpu.dir},   {"pids", other.dir},
                       {"blkio", other.dir}, {"net_cls", other.dir}, {"net_prio", other.dir}, {"hugetlb", other.dir},
                       {"cpuset", other.dir}};
    mem.put("memory.use_hierarchy", "1\n");
    spec::Resources r;
    r.memory.emplace();
    r.memory->limit = 1 << 20;
    r.memory->swap = 2 << 20;
    r.memory->reservation = 4096;
    r.memory->kernelTCP = 8192;
    r.memory->swappiness = 30;
    r.memory->disableOOMKiller = true;
    r.memory->useHierarchy = true;
    r.cpu.emplace();
    r.cpu->shares = 512;
    r.cpu->quota = 20000;
    r.cpu->period = 100000;
    r.cpu->burst = 10;
    r.cpu->realtimePeriod = 1000000;
    r.cpu->realtimeRuntime = 950000;
    r.cpu->idle = 0;
    r.cpu->cpus = "0-1";
    r.cpu->mems = "0";
    r.pids = spec::Pids{42};
    r.blockIO.emplace();
    r.blockIO->weight = 200;
    r.blockIO->leafWeight = 300;
    r.blockIO->weightDevice = {{8, 16, 400, std::nullopt}};
    r.blockIO->throttleWriteIOPSDevice = {{8, 0, 77}};
    r.hugepageLimits = {{"1GB", 1073741824}};
    r.network.emplace();
    r.network->classID = 0x100001;
    r.network->priorities = {{"eth0", 5}};
    apply_res(p, r);
    CHECK(mem.get("memory.limit_in_bytes") == "1048576");
    CHECK(mem.get("memory.memsw.limit_in_bytes") == "2097152"); // v1: memory + swap
    CHECK(mem.get("memory.soft_limit_in_bytes") == "4096");
    CHECK(mem.get("memory.kmem.tcp.limit_in_bytes") == "8192");
    CHECK(mem.get("memory.swappiness") == "30");
    CHECK(mem.get("memory.oom_control") == "1");
    CHECK(mem.get("memory.use_hierarchy") == "1\n"); // unchanged: not rewritten
    CHECK(cpu.get("cpu.shares") == "512");
    CHECK(cpu.get("cpu.cfs_quota_us") == "20000");
    CHECK(cpu.get("cpu.cfs_period_us") == "100000");
    CHECK(cpu.get("cpu.cfs_burst_us") == "10");
    CHECK(cpu.get("cpu.rt_period_us") == "1000000");
    CHECK(cpu.get("cpu.rt_runtime_us") == "950000");
    CHECK(cpu.get("cpu.idle") == "0");
    CHECK(other.get("cpuset.cpus") == "0-1");
    CHECK(other.get("pids.max") == "42");
    CHECK(other.get("blkio.weight") == "200");
    CHECK(other.get("blkio.leaf_weight") == "300");
    CHECK(other.get("blkio.weight_device") == "8:16 400");
    CHECK(other.get("blkio.throttle.write_iops_device") == "8:0 77");
    CHECK(other.get("hugetlb.1GB.limit_in_bytes") == "1073741824");
    CHECK(other.get("net_cls.classid") == "1048577");
    CHECK(other.get("net_prio.ifpriomap") == "eth0 5");

    SECTION("unified needs v2") {
        spec::Resources u;
        u.unified["memory.high"] = "1";
        CHECK(apply_error(p, u) == "cgroup: linux.resources.unified: needs cgroup v2 (this host's hierarchy is v1)");
    }
    SECTION("an unknown huge page size") {
        spec::Resources h;
        h.hugepageLimits = {{"3MB", 1}};
        CHECK(apply_error(p, h) == "cgroup: linux.resources.hugepageLimits: page size \"3MB\" is not supported (no " +
                                       other.dir + "/hugetlb.3MB.limit_in_bytes)");
    }
    SECTION("checkBeforeUpdate refuses a limit below the usage") {
        mem.put("memory.usage_in_bytes", "5000000\n");
        spec::Resources m;
        m.memory.emplace();
        m.memory->limit = 1000000;
        m.memory->checkBeforeUpdate = true;
        CHECK_THROWS_WITH(apply_res(p, m, true), "cgroup: linux.resources.memory.limit: 1000000 is below the current "
                                             "usage 5000000 (checkBeforeUpdate)");
        m.memory->checkBeforeUpdate = false;
        apply_res(p, m, true);
        CHECK(mem.get("memory.limit_in_bytes") == "1000000");
    }
    SECTION("a rejected write names the file and the value") {
        fs::remove(other.dir + "/pids.max");
        spec::Resources q;
        q.pids = spec::Pids{9};
        CHECK(apply_error(p, q) == "cgroup: write \"9\" to " + other.dir + "/pids.max: No such file or directory");
    }
}

namespace {

// What Docker sends on every `docker run` and, for the fields not given, on
// `docker update`: zeros runc reads as "not set".
spec::Resources docker_zeros() {
    spec::Resources r;
    r.memory.emplace();
    r.memory->limit = 0;
    r.memory->reservation = 0;
    r.memory->swap = 0;
    r.memory->kernel = 0;
    r.memory->kernelTCP = 0;
    r.memory->disableOOMKiller = false;
    r.cpu.emplace();
    r.cpu->shares = 0;
    r.cpu->quota = 0;
    r.cpu->period = 0;
    r.cpu->realtimeRuntime = 0;
    r.cpu->realtimePeriod = 0;
    r.cpu->cpus = "";
    r.cpu->mems = "";
    r.pids = spec::Pids{0};
    r.blockIO.emplace();
    r.blockIO->weight = 0;
    r.blockIO->leafWeight = 0;
    r.blockIO->weightDevice = {{8, 0, 0, 0}};
    r.network.emplace();
    r.network->classID = 0;
    return r;
}

} // namespace

TEST_CASE("cgroup: zeros are not set, as runc reads them", "[cgroup]") {
    spec::Resources none = cgroup::without_unset(docker_zeros());
    CHECK_FALSE(none.memory);
    CHECK_FALSE(none.cpu);
    CHECK_FALSE(none.pids);
    CHECK_FALSE(none.blockIO);
    CHECK_FALSE(none.network);
    spec::Resources keep;
    keep.cpu.emplace();
    keep.cpu->idle = 0; // a pointer in runc: 0 is a value
    keep.blockIO.emplace();
    keep.blockIO->throttleReadBpsDevice = {{8, 0, 0}}; // removes the device's limit
    keep.pids = spec::Pids{-1};
    spec::Resources kept = cgroup::without_unset(keep);
    CHECK(kept.cpu->idle == 0);
    CHECK(kept.blockIO->throttleReadBpsDevice.size() == 1);
    CHECK(kept.pids->limit == -1);

    SECTION("parsed from Docker's JSON") {
        spec::Resources parsed = cgroup::without_unset(cgroup::parse_resources(
            R"({"memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0,
                "disableOOMKiller": false},
                "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0,
                "cpus": "", "mems": ""}, "pids": {"limit": 0}, "blockIO": {"weight": 0, "leafWeight": 0}})",
            "test"));
        CHECK_FALSE(parsed.memory);
        CHECK_FALSE(parsed.cpu);
        CHECK_FALSE(parsed.pids);
        CHECK_FALSE(parsed.blockIO);
    }
    SECTION("v1 without blkio.weight (no BFQ): nothing written, no error") {
        FakeCgroup mem({"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes"});
        FakeCgroup cpu({"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.rt_period_us",
                        "cpu.rt_runtime_us"});
        FakeCgroup other({"pids.max", "cpuset.cpus", "cpuset.mems", "memory.oom_control"});
        cgroup::Paths p = {{"memory", mem.dir}, {"cpu", cpu.dir}, {"pids", other.dir}, {"blkio", other.dir},
                           {"cpuset", other.dir}};
        for (bool update : {false, true}) {
            apply_res(p, docker_zeros(), update);
            for (const char *f : {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes"})
                CHECK(mem.get(f).empty());
            for (const char *f : {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.rt_period_us",
                                  "cpu.rt_runtime_us"})
                CHECK(cpu.get(f).empty());
            for (const char *f : {"pids.max", "cpuset.cpus", "cpuset.mems"})
                CHECK(other.get(f).empty());
        }
        spec::Resources w;
        w.blockIO.emplace();
        w.blockIO->weight = 500;
        CHECK(apply_error(p, w) == "cgroup: write \"500\" to " + other.dir + "/blkio.weight: No such file or directory");
    }
    SECTION("v2: nothing written, and no controller needed") {
        FakeCgroup cg({"memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max", "pids.max",
                       "cpuset.cpus", "cpuset.mems", "io.weight"},
                      "memory");
        cgroup::Paths p = {{"unified", cg.dir}};
        apply_res(p, docker_zeros());
        for (const char *f : {"memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max", "pids.max",
                              "cpuset.cpus", "io.weight"})
            CHECK(cg.get(f).empty());
    }
    SECTION("rootless without a cgroup: zeros request nothing") {
        CHECK(apply_error(cgroup::Paths{}, docker_zeros()).empty());
    }
    SECTION("memory -1 without a swap value lifts the swap limit too (runc)") {
        FakeCgroup cg({"memory.max", "memory.swap.max"}, "memory");
        spec::Resources m;
        m.memory.emplace();
        m.memory->limit = -1;
        m.memory->swap = 0;
        apply_res(cgroup::Paths{{"unified", cg.dir}}, m);
        CHECK(cg.get("memory.max") == "max");
        CHECK(cg.get("memory.swap.max") == "max");
        FakeCgroup v1({"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"});
        v1.put("memory.limit_in_bytes", "1048576\n");
        apply_res(cgroup::Paths{{"memory", v1.dir}}, m);
        CHECK(v1.get("memory.limit_in_bytes").rfind("-1", 0) == 0);
        CHECK(v1.get("memory.memsw.limit_in_bytes") == "-1");
    }
    SECTION("v2 memory and swap the same: no swap") {
        FakeCgroup cg({"memory.max", "memory.swap.max"}, "memory");
        spec::Resources m;
        m.memory.emplace();
        m.memory->limit = 1 << 20;
        m.memory->swap = 1 << 20;
        apply_res(cgroup::Paths{{"unified", cg.dir}}, m);
        CHECK(cg.get("memory.swap.max") == "0");
    }
}

TEST_CASE("cgroup: a failed update puts back what it had written", "[cgroup]") {
    FakeCgroup mem({"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes"});
    FakeCgroup cpu({"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"});
    FakeCgroup other({"blkio.throttle.read_bps_device"});
    mem.put("memory.limit_in_bytes", "104857600\n");
    mem.put("memory.memsw.limit_in_bytes", "209715200\n");
    mem.put("memory.soft_limit_in_bytes", "9223372036854771712\n");
    cpu.put("cpu.shares", "1024\n");
    cpu.put("cpu.cfs_quota_us", "-1\n");
    other.put("blkio.throttle.read_bps_device", "8:0 1000\n");
    // No pids.max: the last write fails.
    cgroup::Paths p = {{"memory", mem.dir}, {"cpu", cpu.dir}, {"cpuacct", cpu.dir}, {"blkio", other.dir},
                       {"pids", other.dir}};
    spec::Resources r = docker_zeros();
    r.memory->limit = 314572800;
    r.memory->swap = 629145600;
    r.memory->reservation = 1 << 20;
    r.cpu->quota = 50000;
    r.blockIO->throttleReadBpsDevice = {{8, 0, 5000}, {8, 16, 7000}};
    r.pids = spec::Pids{50};
    std::string err;
    try {
        apply_res(p, r, true);
    } catch (const Error &e) {
        err = e.what();
    }
    CHECK(err == "cgroup: write \"50\" to " + other.dir + "/pids.max: No such file or directory");
    // The fake files are not truncated: the restored value leads.
    CHECK(mem.get("memory.limit_in_bytes").rfind("104857600", 0) == 0);
    CHECK(mem.get("memory.memsw.limit_in_bytes").rfind("209715200", 0) == 0);
    CHECK(mem.get("memory.soft_limit_in_bytes").rfind("9223372036854771712", 0) == 0);
    CHECK(cpu.get("cpu.cfs_quota_us").rfind("-1", 0) == 0);
    CHECK(cpu.get("cpu.shares") == "1024\n");
    // Newest first: the new device's rule is removed ("8:16 0"), then the
    // old limit of 8:0 written back, last.
    CHECK(other.get("blkio.throttle.read_bps_device").rfind("8:0 1000", 0) == 0);

    SECTION("what the config cannot have is found before any write") {
        FakeCgroup cg({"memory.max", "memory.swap.max", "cpu.max"}, "cpu memory");
        cg.put("memory.max", "max\n");
        spec::Resources v;
        v.memory.emplace();
        v.memory->limit = 64 << 20;
        v.cpu.emplace();
        v.cpu->realtimeRuntime = 1000;
        CHECK_THROWS_WITH(apply_res(cgroup::Paths{{"unified", cg.dir}}, v, true),
                          "cgroup: linux.resources.cpu.realtimeRuntime/realtimePeriod: not available on cgroup v2");
        // Not even written and put back (a plain file would keep the tail).
        CHECK(cg.get("memory.max") == "max\n");
    }
    SECTION("a successful update is kept") {
        r.pids.reset();
        other.put("pids.max", "");
        apply_res(p, r, true);
        CHECK(mem.get("memory.limit_in_bytes").rfind("314572800", 0) == 0);
        CHECK(cpu.get("cpu.cfs_quota_us").rfind("50000", 0) == 0);
    }
}

TEST_CASE("cgroup: no cgroup and resources requested is an error naming them", "[cgroup]") {
    spec::Resources r;
    r.pids = spec::Pids{3};
    CHECK(apply_error(cgroup::Paths{}, r) == "cgroup: linux.resources.pids cannot be applied: the container has no cgroup");
    spec::Resources devices_only;
    devices_only.devices = {spec::DeviceCgroup{}};
    CHECK(apply_error(cgroup::Paths{}, devices_only).empty());
}

TEST_CASE("cgroup: stats from v2 files in runc's shape", "[cgroup]") {
    FakeCgroup cg({}, "cpuset cpu memory pids io");
    cg.put("cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n");
    cg.put("cpuset.cpus.effective", "0-2,5\n");
    cg.put("cpuset.mems.effective", "0\n");
    cg.put("memory.current", "4096\n");
    cg.put("memory.max", "max\n");
    cg.put("memory.swap.current", "1000\n");
    cg.put("memory.swap.max", "max\n");
    cg.put("memory.events", "low 0\nhigh 0\nmax 6\noom 1\noom_kill 1\n");
    cg.put("memory.stat", "anon 100\nfile 200\n");
    cg.put("pids.current", "3\n");
    cg.put("pids.max", "10\n");
    cg.put("io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
    cgroup::Paths p = {{"unified", cg.dir}};
    json::Value v = json::parse(cgroup::stats_json(p), "stats");
    CHECK(json::to_string(*v.find("cpu")) ==
          R"({"usage":{"total":5000,"kernel":2000,"user":3000},"throttling":{"periods":4,"throttledPeriods":1,"throttledTime":7000}})");
    CHECK(json::to_string(*v.find("cpuset")) ==
          R"({"cpus":[0,1,2,5],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,)"
          R"("memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0})");
    const json::Value *mem = v.find("memory");
    REQUIRE(mem);
    CHECK(json::to_string(*mem->find("usage")) == R"({"limit":18446744073709551615,"usage":4096,"failcnt":6})");
    // v1's swap counts memory too: runc adds it.
    CHECK(json::to_string(*mem->find("swap")) == R"({"limit":18446744073709551615,"usage":5096,"failcnt":0})");
    CHECK(json::to_string(*mem->find("kernel")) == R"({"limit":0,"failcnt":0})");
    CHECK(json::to_string(*mem->find("kernelTCP")) == R"({"limit":0,"failcnt":0})");
    CHECK(json::to_string(*mem->find("raw")) == R"({"anon":100,"file":200})");
    CHECK(json::to_string(*mem->find("cache")) == "200");
    CHECK(json::to_string(*v.find("pids")) == R"({"current":3,"limit":10})");
    CHECK(json::to_string(*v.find("blkio")) ==
          R"({"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":10},{"major":8,"op":"Write","value":20}],)"
          R"("ioServicedRecursive":[{"major":8,"op":"Read","value":1},{"major":8,"op":"Write","value":2}]})");
    CHECK(json::to_string(*v.find("hugetlb")) == "{}");
    CHECK(json::to_string(*v.find("intel_rdt")) == "{}");
    CHECK(json::to_string(*v.find("network_interfaces")) == "null");
    // runc's order of the members.
    std::vector<std::string> keys;
    for (const auto &[k, _] : v.object)
        keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                                           "network_interfaces"});
    CHECK(cgroup::oom_kills(p) == 1);
    CHECK(cgroup::stats_json(cgroup::Paths{}) == "{}");

    // A limited swap: memory's limit is added; no swap accounting at all
    // reads as a swap of 0 on top of memory, as runc reports it.
    cg.put("memory.max", "1000\n");
    cg.put("memory.swap.max", "500\n");
    v = json::parse(cgroup::stats_json(p), "stats");
    CHECK(json::to_string(*v.find("memory")->find("swap")) == R"({"limit":1500,"usage":5096,"failcnt":0})");
    fs::remove(cg.dir + "/memory.swap.max");
    fs::remove(cg.dir + "/memory.swap.current");
    v = json::parse(cgroup::stats_json(p), "stats");
    CHECK(json::to_string(*v.find("memory")->find("swap")) == R"({"limit":1000,"usage":4096,"failcnt":0})");
}

TEST_CASE("cgroup: stats from v1 files in runc's shape", "[cgroup]") {
    FakeCgroup acct({}), cpu({}), cpuset({}), mem({}), pids({}), blkio({});
    acct.put("cpuacct.usage", "900\n");
    acct.put("cpuacct.usage_percpu", "400 500 \n");
    acct.put("cpuacct.usage_all", "cpu user system\n0 300 100\n1 450 50\n");
    acct.put("cpuacct.stat", "user 2\nsystem 1\n");
    cpu.put("cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
    cpuset.put("cpuset.cpus", "0-1\n");
    cpuset.put("cpuset.mems", "0\n");
    cpuset.put("cpuset.sched_load_balance", "1\n");
    cpuset.put("cpuset.sched_relax_domain_level", "-1\n");
    mem.put("memory.stat", "cache 0\nrss 4096\n");
    mem.put("memory.limit_in_bytes", "9223372036854771712\n");
    mem.put("memory.usage_in_bytes", "8192\n");
    mem.put("memory.max_usage_in_bytes", "16384\n");
    mem.put("memory.failcnt", "2\n");
    mem.put("memory.kmem.tcp.limit_in_bytes", "9223372036854771712\n");
    mem.put("memory.kmem.tcp.usage_in_bytes", "0\n");
    pids.put("pids.current", "1\n");
    pids.put("pids.max", "max\n");
    // No CFQ/BFQ scheduler: the throttle policy's counters, whose recursive
    // file has no entry yet, and then its plain ones.
    blkio.put("blkio.throttle.io_serviced_recursive", "Total 0\n");
    blkio.put("blkio.throttle.io_service_bytes_recursive", "Total 0\n");
    blkio.put("blkio.throttle.io_serviced", "8:0 Read 3\n8:0 Write 0\n8:0 Total 3\nTotal 3\n");
    blkio.put("blkio.throttle.io_service_bytes", "8:0 Read 12288\nTotal 12288\n");
    blkio.put("blkio.sectors_recursive", "");
    cgroup::Paths p = {{"cpuacct", acct.dir}, {"cpu", cpu.dir},   {"cpuset", cpuset.dir},
                       {"memory", mem.dir},   {"pids", pids.dir}, {"blkio", blkio.dir}};
    json::Value v = json::parse(cgroup::stats_json(p), "stats");
    const long hz = sysconf(_SC_CLK_TCK);
    const std::string tick = std::to_string(1000000000 / hz);
    CHECK(json::to_string(*v.find("cpu")) == R"({"usage":{"total":900,"percpu":[400,500],"percpu_kernel":[100,50],)"
                                             R"("percpu_user":[300,450],"kernel":)" +
                                                 tick + R"(,"user":)" + std::to_string(2 * (1000000000 / hz)) +
                                                 R"(},"throttling":{}})");
    CHECK(json::to_string(*v.find("cpuset")) ==
          R"({"cpus":[0,1],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,)"
          R"("memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":1,"sched_relax_domain_level":-1})");
    const json::Value *m = v.find("memory");
    REQUIRE(m);
    CHECK(!m->find("cache"));
    CHECK(json::to_string(*m->find("usage")) ==
          R"({"limit":9223372036854771712,"usage":8192,"max":16384,"failcnt":2})");
    // No swap accounting and no kmem here: runc's zero entries.
    CHECK(json::to_string(*m->find("swap")) == R"({"limit":0,"failcnt":0})");
    CHECK(json::to_string(*m->find("kernel")) == R"({"limit":0,"failcnt":0})");
    CHECK(json::to_string(*m->find("kernelTCP")) == R"({"limit":9223372036854771712,"failcnt":0})");
    CHECK(json::to_string(*v.find("pids")) == R"({"current":1})");
    CHECK(json::to_string(*v.find("blkio")) ==
          R"({"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":12288}],)"
          R"("ioServicedRecursive":[{"major":8,"op":"Read","value":3},{"major":8,"op":"Write"},{"major":8,"op":"Total","value":3}]})");

    // CFQ's counters come first when they have entries; sectors have no op.
    blkio.put("blkio.sectors_recursive", "8:16 24\n");
    blkio.put("blkio.io_serviced_recursive", "8:16 Read 1\nTotal 1\n");
    v = json::parse(cgroup::stats_json(p), "stats");
    CHECK(json::to_string(*v.find("blkio")) ==
          R"({"ioServicedRecursive":[{"major":8,"minor":16,"op":"Read","value":1}],)"
          R"("sectorsRecursive":[{"major":8,"minor":16,"value":24}]})");
}

TEST_CASE("cgroup: update --resources files", "[cgroup]") {
    spec::Resources r = cgroup::parse_resources(R"({"pids": {"limit": 4}, "memory": {"limit": 100}})", "res.json");
    REQUIRE(r.pids);
    CHECK(r.pids->limit == 4);
    CHECK(r.memory->limit == 100);
    CHECK_THROWS_WITH(cgroup::parse_resources(R"({"pids": {"limit": "x"}})", "res.json"),
                      Catch::Contains("res.json") && Catch::Contains(".pids.limit"));
}

TEST_CASE("cgroup: pids and destroy on missing directories", "[cgroup]") {
    cgroup::Paths gone = {{"unified", "/sys/fs/cgroup/crunpp-no-such-dir"}};
    CHECK(cgroup::pids(gone).empty());
    CHECK_NOTHROW(cgroup::destroy(gone));
    CHECK_THROWS_WITH(cgroup::freeze(cgroup::Paths{}, true), "cgroup: pause: the container has no freezer cgroup");
}

// The eBPF device program on a real cgroup2 directory: needs root and a
// cgroup2 tree (pure v2, or the unified one of a hybrid host).
TEST_CASE("cgroup v2: the eBPF device program denies and allows by rule", "[cgroup][root]") {
    if (geteuid() != 0)
        {
        WARN("needs root");
        return;
    }
    std::string base = cgroup::detect_mode() == cgroup::Mode::V2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    struct statfs sf {};
    if (statfs(base.c_str(), &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
        {
        WARN("no cgroup2 tree");
        return;
    }
    if (access("/dev/kmsg", F_OK) < 0)
        {
        WARN("no /dev/kmsg");
        return;
    }
    std::string dir = base + "/crunpp-unit-devices-" + std::to_string(getpid());
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);
    cgroup::Paths p = {{"unified", dir}};
    spec::Resources r;
    spec::DeviceCgroup deny_all;
    deny_all.access = "rwm";
    r.devices = {deny_all};
    // Opens /dev/null and /dev/kmsg from inside the cgroup: bit 0 null ok,
    // bit 1 kmsg ok.
    auto probe = [&]() {
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int fd = open((dir + "/cgroup.procs").c_str(), O_WRONLY);
            if (fd < 0 || write(fd, "0", 1) != 1)
                _exit(100);
            close(fd);
            int result = 0;
            int n = open("/dev/null", O_RDONLY);
            if (n >= 0)
                result |= 1;
            int k = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
            if (k >= 0)
                result |= 2;
            else if (errno != EPERM)
                result |= 4;
            _exit(result);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    try {
        cgroup::apply(p, r, {}, false, false);
        CHECK(probe() == 1);
        // A rule for the device (major 1, minor 11), replacing the program.
        spec::DeviceCgroup kmsg;
        kmsg.allow = true;
        kmsg.type = "c";
        kmsg.major = 1;
        kmsg.minor = 11;
        kmsg.access = "r";
        r.devices.push_back(kmsg);
        cgroup::apply(p, r, {}, false, true);
        CHECK(probe() == 3);
        // Through linux.devices too.
        r.devices = {deny_all};
        spec::Device d;
        d.type = "c";
        d.path = "/dev/kmsg";
        d.major = 1;
        d.minor = 11;
        cgroup::apply(p, r, {d}, false, true);
        CHECK(probe() == 3);
    } catch (...) {
        rmdir(dir.c_str());
        throw;
    }
    CHECK(rmdir(dir.c_str()) == 0);
}

TEST_CASE("cgroup: a v1 mount's controllers, without its flags, settings and SELinux labels", "[cgroup]") {
    using crunpp::cgroup::detail::mount_controllers;
    using V = std::vector<std::string>;
    CHECK(mount_controllers("rw,cpu,cpuacct") == V{"cpu", "cpuacct"});
    // As a RHEL 8 host (v1, SELinux) shows them.
    CHECK(mount_controllers("rw,seclabel,cpu,cpuacct") == V{"cpu", "cpuacct"});
    CHECK(mount_controllers("rw,seclabel,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd") ==
          V{"name=systemd"});
    CHECK(mount_controllers("ro,context=\"system_u:object_r:container_file_t:s0:c1,c2\",memory") == V{"memory"});
    CHECK(mount_controllers("rw,noprefix,clone_children,cpuset_v2_mode,favordynmods,cpuset") == V{"cpuset"});
    CHECK(mount_controllers("rw,none,name=foo") == V{"name=foo"});
    // statmount's options carry no rw/ro.
    CHECK(mount_controllers("pids") == V{"pids"});
    CHECK(mount_controllers("") == V{});
}
