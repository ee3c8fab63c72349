// SPDX-License-Identifier: GPL-2.0-or-later
// parse_config: every field of a complete config, the schema's examples,
// the name tables, and malformed files.
#include <sys/capability.h>
#include <sys/resource.h>
#include <sched.h>
#include <unistd.h>

#include <catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "crunpp/json.hpp"
#include "crunpp/spec.hpp"
#include "schema_dir.hpp"
#include "test_parse_util.hpp"

using namespace crunpp::spec;
using parse_test::config_error;
using parse_test::config_with;
using parse_test::read_file;

namespace {

const std::string kFullConfig = std::string(CRUNPP_SOURCE_DIR) + "/tests/fuzz/corpus-config/full-config.json";

using Strings = std::vector<std::string>;

} // namespace

TEST_CASE("a relative mount destination is relative to / (runtime-spec 1.1)", "[parse]") {
    Config c = parse_config(config_with(R"("mounts": [{"destination": "data/x", "type": "tmpfs"}])"));
    REQUIRE(c.mounts.size() == 1);
    CHECK(c.mounts[0].destination == "/data/x");
}

TEST_CASE("full config: top level, root, mounts, hooks, annotations", "[parse]") {
    Config c = load_config(kFullConfig);
    CHECK(c.ociVersion == "1.3.0");
    REQUIRE(c.root);
    CHECK(c.root->path == "rootfs");
    CHECK(c.root->readonly);
    REQUIRE(c.mounts.size() == 2);
    CHECK(c.mounts[0].destination == "/proc");
    CHECK(c.mounts[0].type == "proc");
    CHECK(c.mounts[0].source == "proc");
    CHECK(c.mounts[0].options.empty());
    CHECK(c.mounts[0].uidMappings.empty());
    const Mount &m = c.mounts[1];
    CHECK(m.destination == "/data");
    CHECK(m.type == "none");
    CHECK(m.source == "/srv/data");
    CHECK(m.options == Strings{"rbind", "ro", "idmap"});
    REQUIRE(m.uidMappings.size() == 1);
    CHECK(m.uidMappings[0].containerID == 0);
    CHECK(m.uidMappings[0].hostID == 100000);
    CHECK(m.uidMappings[0].size == 65536);
    REQUIRE(m.gidMappings.size() == 1);
    CHECK(m.gidMappings[0].hostID == 200000);
    CHECK(m.gidMappings[0].size == 1000);
    CHECK(c.hostname == "box");
    CHECK(c.domainname == "example.test");

    REQUIRE(c.hooks);
    REQUIRE(c.hooks->prestart.size() == 1);
    const Hook &h = c.hooks->prestart[0];
    CHECK(h.path == "/usr/bin/prestart");
    CHECK(h.args == Strings{"prestart", "a"});
    CHECK(h.env == Strings{"K=v"});
    CHECK(h.timeout == 5);
    REQUIRE(c.hooks->createRuntime.size() == 1);
    CHECK(c.hooks->createRuntime[0].path == "/usr/bin/create-runtime");
    CHECK(!c.hooks->createRuntime[0].timeout);
    REQUIRE(c.hooks->createContainer.size() == 1);
    CHECK(c.hooks->createContainer[0].path == "/usr/bin/create-container");
    REQUIRE(c.hooks->startContainer.size() == 1);
    CHECK(c.hooks->startContainer[0].path == "/usr/bin/start-container");
    REQUIRE(c.hooks->poststart.size() == 1);
    CHECK(c.hooks->poststart[0].timeout == 1);
    REQUIRE(c.hooks->poststop.size() == 1);
    CHECK(c.hooks->poststop[0].args == Strings{"cleanup.sh", "-f"});

    CHECK(c.annotations == std::map<std::string, std::string>{{"com.example.key1", "value1"}, {"key2", ""}});
}

TEST_CASE("full config: process", "[parse]") {
    Config c = load_config(kFullConfig);
    REQUIRE(c.process);
    const Process &p = *c.process;
    CHECK(p.terminal);
    REQUIRE(p.consoleSize);
    CHECK(p.consoleSize->height == 25);
    CHECK(p.consoleSize->width == 80);
    CHECK(p.user.uid == 4294967294u); // the largest valid id
    CHECK(p.user.gid == 1000);
    CHECK(p.user.umask == 18u);
    CHECK(p.user.additionalGids == std::vector<uint32_t>{5, 6});
    CHECK(p.user.username == "someone");
    CHECK(p.args == Strings{"sh", "-c", "echo hi"});
    CHECK(p.commandLine == "sh -c 'echo hi'");
    CHECK(p.env == Strings{"PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="});
    CHECK(p.cwd == "/home");
    REQUIRE(p.capabilities);
    CHECK(p.capabilities->bounding == Strings{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
    CHECK(p.capabilities->effective == Strings{"CAP_KILL"});
    REQUIRE(p.capabilities->inheritable);
    CHECK(p.capabilities->inheritable->empty());
    CHECK(p.capabilities->permitted == Strings{"CAP_KILL", "CAP_CHOWN"});
    CHECK(p.capabilities->ambient == Strings{"CAP_NET_BIND_SERVICE"});
    REQUIRE(p.rlimits.size() == 2);
    CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
    CHECK(p.rlimits[0].resource == RLIMIT_NOFILE);
    CHECK(p.rlimits[0].soft == 1024);
    CHECK(p.rlimits[0].hard == 4096);
    CHECK(p.rlimits[1].resource == RLIMIT_CORE);
    CHECK(p.rlimits[1].soft == 0);
    CHECK(p.rlimits[1].hard == UINT64_MAX);
    CHECK(p.noNewPrivileges);
    CHECK(p.apparmorProfile == "acme_secure_profile");
    CHECK(p.oomScoreAdj == -500);
    REQUIRE(p.scheduler);
    CHECK(p.scheduler->policy == "SCHED_DEADLINE");
    CHECK(p.scheduler->nice == -5);
    CHECK(p.scheduler->priority == 0);
    CHECK(p.scheduler->flags == Strings{"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM"});
    CHECK(p.scheduler->runtime == 10000000u);
    CHECK(p.scheduler->deadline == 20000000u);
    CHECK(p.scheduler->period == 30000000u);
    CHECK(p.selinuxLabel == "system_u:system_r:svirt_lxc_net_t:s0:c124,c675");
    REQUIRE(p.ioPriority);
    CHECK(p.ioPriority->ioClass == "IOPRIO_CLASS_BE");
    CHECK(p.ioPriority->priority == 4);
    REQUIRE(p.execCPUAffinity);
    CHECK(p.execCPUAffinity->initial == "0-3, 7");
    CHECK(p.execCPUAffinity->final == "1");
}

TEST_CASE("full config: linux namespaces, mappings, devices, paths", "[parse]") {
    Config c = load_config(kFullConfig);
    REQUIRE(c.linux);
    const Linux &l = *c.linux;
    REQUIRE(l.namespaces.size() == 8);
    NamespaceType order[] = {NamespaceType::Pid, NamespaceType::Network, NamespaceType::Mount, NamespaceType::Ipc,
                             NamespaceType::Uts, NamespaceType::User,    NamespaceType::Cgroup, NamespaceType::Time};
    for (size_t i = 0; i < 8; i++)
        CHECK(l.namespaces[i].type == order[i]);
    CHECK(l.namespaces[1].path == "/var/run/netns/neta");
    CHECK(!l.namespaces[0].path);
    REQUIRE(l.find_namespace(NamespaceType::Network));
    CHECK(l.find_namespace(NamespaceType::Network)->path == "/var/run/netns/neta");
    REQUIRE(l.uidMappings.size() == 2);
    CHECK(l.uidMappings[1].containerID == 1);
    CHECK(l.uidMappings[1].hostID == 100000);
    CHECK(l.uidMappings[1].size == 65536);
    REQUIRE(l.gidMappings.size() == 1);
    CHECK(l.gidMappings[0].size == 32000);
    REQUIRE(l.timeOffsets);
    REQUIRE(l.timeOffsets->boottime);
    CHECK(l.timeOffsets->boottime->secs == -604800);
    CHECK(l.timeOffsets->boottime->nanosecs == 999999999u);
    REQUIRE(l.timeOffsets->monotonic);
    CHECK(l.timeOffsets->monotonic->secs == 172800);
    CHECK(l.timeOffsets->monotonic->nanosecs == 0);
    REQUIRE(l.devices.size() == 2);
    CHECK(l.devices[0].type == "c");
    CHECK(l.devices[0].path == "/dev/fuse");
    CHECK(l.devices[0].major == 10);
    CHECK(l.devices[0].minor == 229);
    CHECK(l.devices[0].fileMode == 0666u);
    CHECK(l.devices[0].uid == 0u);
    CHECK(l.devices[0].gid == 0u);
    CHECK(l.devices[1].type == "p");
    CHECK(!l.devices[1].fileMode);
    REQUIRE(l.netDevices.size() == 2);
    CHECK(l.netDevices.at("eth0").name == "container_eth0");
    CHECK(!l.netDevices.at("ens4").name);
    CHECK(l.cgroupsPath == "/myRuntime/myContainer");
    CHECK(l.sysctl ==
          std::map<std::string, std::string>{{"net.ipv4.ip_forward", "1"}, {"net/ipv4/conf/eth0.100/forwarding", "0"}});
    CHECK(l.rootfsPropagation == "slave");
    CHECK(l.maskedPaths == Strings{"/proc/kcore", "/proc/keys"});
    CHECK(l.readonlyPaths == Strings{"/proc/sys"});
    CHECK(l.mountLabel == "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811");
    REQUIRE(l.personality);
    CHECK(l.personality->domain == "LINUX32");
    CHECK(l.personality->flags.empty());
    REQUIRE(l.intelRdt);
    CHECK(l.intelRdt->closID == "guaranteed_group");
    CHECK(l.intelRdt->schemata == Strings{"L3:0=7f0;1=1f", "L2:0=f"});
    CHECK(l.intelRdt->l3CacheSchema == "L3:0=ffff");
    CHECK(l.intelRdt->memBwSchema == "MB:0=20;1=70");
    CHECK(l.intelRdt->enableMonitoring == true);
    REQUIRE(l.memoryPolicy);
    CHECK(l.memoryPolicy->mode == "MPOL_BIND");
    CHECK(l.memoryPolicy->nodes == "0-1");
    CHECK(l.memoryPolicy->flags == Strings{"MPOL_F_STATIC_NODES"});
}

TEST_CASE("full config: linux resources", "[parse]") {
    Config c = load_config(kFullConfig);
    REQUIRE(c.linux);
    REQUIRE(c.linux->resources);
    const Resources &r = *c.linux->resources;
    REQUIRE(r.devices.size() == 2);
    CHECK(!r.devices[0].allow);
    CHECK(!r.devices[0].type);
    CHECK(!r.devices[0].major);
    CHECK(r.devices[0].access == "rwm");
    CHECK(r.devices[1].allow);
    CHECK(r.devices[1].type == "c");
    CHECK(r.devices[1].major == 10);
    CHECK(r.devices[1].minor == 229);
    CHECK(r.devices[1].access == "rw");
    REQUIRE(r.memory);
    CHECK(r.memory->limit == 536870912);
    CHECK(r.memory->reservation == 268435456);
    CHECK(r.memory->swap == 1073741824);
    CHECK(r.memory->kernel == -1);
    CHECK(r.memory->kernelTCP == -1);
    CHECK(r.memory->swappiness == 60u);
    CHECK(r.memory->disableOOMKiller == true);
    CHECK(r.memory->useHierarchy == false);
    CHECK(r.memory->checkBeforeUpdate == true);
    REQUIRE(r.cpu);
    CHECK(r.cpu->shares == 1024u);
    CHECK(r.cpu->quota == 1000000);
    CHECK(r.cpu->burst == 500000u);
    CHECK(r.cpu->period == 500000u);
    CHECK(r.cpu->realtimeRuntime == 950000);
    CHECK(r.cpu->realtimePeriod == 1000000u);
    CHECK(r.cpu->cpus == "2-3");
    CHECK(r.cpu->mems == "0-7");
    CHECK(r.cpu->idle == 1);
    REQUIRE(r.pids);
    CHECK(r.pids->limit == -1);
    REQUIRE(r.blockIO);
    const BlockIO &b = *r.blockIO;
    CHECK(b.weight == 10);
    CHECK(b.leafWeight == 65535);
    REQUIRE(b.weightDevice.size() == 2);
    CHECK(b.weightDevice[0].major == 8);
    CHECK(b.weightDevice[0].minor == 0);
    CHECK(b.weightDevice[0].weight == 500);
    CHECK(b.weightDevice[0].leafWeight == 300);
    CHECK(!b.weightDevice[1].weight);
    CHECK(b.weightDevice[1].leafWeight == 20);
    REQUIRE(b.throttleReadBpsDevice.size() == 1);
    CHECK(b.throttleReadBpsDevice[0].rate == 600);
    REQUIRE(b.throttleWriteBpsDevice.size() == 1);
    CHECK(b.throttleWriteBpsDevice[0].minor == 1);
    CHECK(b.throttleWriteBpsDevice[0].rate == 700);
    REQUIRE(b.throttleReadIOPSDevice.size() == 1);
    CHECK(b.throttleReadIOPSDevice[0].rate == 800);
    REQUIRE(b.throttleWriteIOPSDevice.size() == 1);
    CHECK(b.throttleWriteIOPSDevice[0].minor == 16);
    CHECK(b.throttleWriteIOPSDevice[0].rate == 300);
    REQUIRE(r.hugepageLimits.size() == 2);
    CHECK(r.hugepageLimits[0].pageSize == "2MB");
    CHECK(r.hugepageLimits[0].limit == 9223372036854772000u);
    CHECK(r.hugepageLimits[1].pageSize == "64KB");
    REQUIRE(r.network);
    CHECK(r.network->classID == 1048577u);
    REQUIRE(r.network->priorities.size() == 2);
    CHECK(r.network->priorities[1].name == "eth1");
    CHECK(r.network->priorities[1].priority == 1000);
    REQUIRE(r.rdma.size() == 2);
    CHECK(r.rdma.at("mlx5_1").hcaHandles == 3u);
    CHECK(r.rdma.at("mlx5_1").hcaObjects == 10000u);
    CHECK(!r.rdma.at("mlx4_0").hcaHandles);
    CHECK(r.unified == std::map<std::string, std::string>{{"io.max", "259:0 rbps=2097152"}, {"memory.high", "max"}});
}

TEST_CASE("full config: seccomp", "[parse]") {
    Config c = load_config(kFullConfig);
    REQUIRE(c.linux);
    REQUIRE(c.linux->seccomp);
    const Seccomp &s = *c.linux->seccomp;
    CHECK(s.defaultAction == SeccompAction::Errno);
    CHECK(s.defaultErrnoRet == 1u);
    CHECK(s.architectures == Strings{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
    CHECK(s.flags == Strings{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"});
    CHECK(s.listenerPath == "/run/seccomp-agent.sock");
    CHECK(s.listenerMetadata == "meta");
    REQUIRE(s.syscalls.size() == 4);
    CHECK(s.syscalls[0].names == Strings{"read", "write"});
    CHECK(s.syscalls[0].action == SeccompAction::Allow);
    CHECK(!s.syscalls[0].errnoRet);
    CHECK(s.syscalls[1].action == SeccompAction::Notify);
    REQUIRE(s.syscalls[2].args.size() == 2);
    CHECK(s.syscalls[2].args[0].index == 0);
    CHECK(s.syscalls[2].args[0].value == 8);
    CHECK(s.syscalls[2].args[0].valueTwo == 0);
    CHECK(s.syscalls[2].args[0].op == SeccompOp::Equal);
    CHECK(s.syscalls[2].args[1].index == 5);
    CHECK(s.syscalls[2].args[1].value == UINT64_MAX);
    CHECK(s.syscalls[2].args[1].valueTwo == 4);
    CHECK(s.syscalls[2].args[1].op == SeccompOp::MaskedEqual);
    CHECK(s.syscalls[3].action == SeccompAction::Errno);
    CHECK(s.syscalls[3].errnoRet == 38u);
}

TEST_CASE("absent optional fields keep their defaults", "[parse]") {
    Config c = parse_config(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})");
    CHECK(c.ociVersion == "1.0.0");
    CHECK(!c.root->readonly);
    CHECK(c.mounts.empty());
    CHECK(!c.process);
    CHECK(!c.hostname);
    CHECK(!c.hooks);
    CHECK(c.annotations.empty());
    CHECK(!c.linux);

    Process p = parse_process(R"({"cwd": "/", "args": ["true"]})");
    CHECK(!p.terminal);
    CHECK(p.user.uid == 0);
    CHECK(!p.user.umask);
    CHECK(!p.capabilities);
    CHECK(p.env.empty());
    CHECK(!p.oomScoreAdj);
}

TEST_CASE("null is an absent member; unknown members are ignored", "[parse]") {
    Config c = parse_config(config_with(
        R"("mounts": null, "hostname": null, "process": {"cwd": "/", "args": ["a"], "env": null, "user": null},
           "linux": {"namespaces": null, "resources": {"devices": null}}, "windows": {"x": 1}, "future": [1, {"a": null}])"));
    CHECK(c.mounts.empty());
    CHECK(!c.hostname);
    REQUIRE(c.process);
    CHECK(c.process->env.empty());
    REQUIRE(c.linux);
    CHECK(c.linux->namespaces.empty());
}

TEST_CASE("integers are exact at the limits of their types", "[parse]") {
    Config c = parse_config(config_with(R"(
        "process": {"cwd": "/", "args": ["a"], "user": {"uid": 4294967294, "gid": 0},
                    "oomScoreAdj": -1000, "scheduler": {"policy": "SCHED_OTHER", "nice": -20},
                    "rlimits": [{"type": "RLIMIT_AS", "soft": 18446744073709551615, "hard": 18446744073709551615}]},
        "linux": {"resources": {"pids": {"limit": -9223372036854775808},
                                "memory": {"limit": 9223372036854775807, "swap": -0},
                                "blockIO": {"weight": 65535}}})"));
    CHECK(c.process->user.uid == UINT32_MAX - 1); // UINT32_MAX is (uid_t)-1: refused
    CHECK(c.process->rlimits[0].soft == UINT64_MAX);
    CHECK(c.linux->resources->pids->limit == INT64_MIN);
    CHECK(c.linux->resources->memory->limit == INT64_MAX);
    CHECK(c.linux->resources->memory->swap == 0);
    CHECK(c.linux->resources->blockIO->weight == 65535);
    CHECK(c.process->oomScoreAdj == -1000);
}

TEST_CASE("duplicate members: the last one wins", "[parse]") {
    Config c = parse_config(R"({"ociVersion": "1.0.0", "root": {"path": "a"}, "root": {"path": "b"},
                               "annotations": {"k": "1", "k": "2"}})");
    CHECK(c.root->path == "b");
    CHECK(c.annotations.at("k") == "2");
}

TEST_CASE("every rlimit type resolves to its RLIMIT_ number", "[parse]") {
    const std::pair<const char *, int> all[] = {
        {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},     {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    for (const auto &[name, resource] : all) {
        Process p = parse_process(std::string(R"({"cwd": "/", "args": ["a"], "rlimits": [{"type": ")") + name +
                                  R"(", "soft": 1, "hard": 2}]})");
        CHECK(p.rlimits.at(0).resource == resource);
    }
}

TEST_CASE("every capability libcap knows is accepted", "[parse]") {
    std::string caps;
    for (int i = 0; i <= CAP_LAST_CAP; i++) {
        char *name = cap_to_name(i);
        std::string upper = name;
        cap_free(name);
        for (char &ch : upper)
            ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
        caps += (caps.empty() ? "\"" : ", \"") + upper + "\"";
    }
    Process p = parse_process(R"({"cwd": "/", "args": ["a"], "capabilities": {"bounding": [)" + caps + "]}}");
    CHECK(p.capabilities->bounding->size() == CAP_LAST_CAP + 1);
}

TEST_CASE("enum names: namespaces and seccomp", "[parse][names]") {
    const std::pair<NamespaceType, int> flags[] = {
        {NamespaceType::Mount, CLONE_NEWNS},   {NamespaceType::Pid, CLONE_NEWPID},
        {NamespaceType::Network, CLONE_NEWNET}, {NamespaceType::Uts, CLONE_NEWUTS},
        {NamespaceType::Ipc, CLONE_NEWIPC},    {NamespaceType::User, CLONE_NEWUSER},
        {NamespaceType::Cgroup, CLONE_NEWCGROUP}, {NamespaceType::Time, 0x80},
    };
    for (const auto &[type, flag] : flags) {
        CHECK(namespace_clone_flag(type) == flag);
        CHECK(namespace_type_from_name(namespace_type_name(type)) == type);
    }
    CHECK(std::string(namespace_type_name(NamespaceType::Network)) == "network");
    CHECK(!namespace_type_from_name("net"));
    CHECK(!namespace_type_from_name(""));

    for (int i = 0; i <= static_cast<int>(SeccompAction::Notify); i++) {
        auto a = static_cast<SeccompAction>(i);
        CHECK(seccomp_action_from_name(seccomp_action_name(a)) == a);
    }
    CHECK(std::string(seccomp_action_name(SeccompAction::KillProcess)) == "SCMP_ACT_KILL_PROCESS");
    CHECK(!seccomp_action_from_name("SCMP_ACT_allow"));
    for (int i = 0; i <= static_cast<int>(SeccompOp::MaskedEqual); i++) {
        auto o = static_cast<SeccompOp>(i);
        CHECK(seccomp_op_from_name(seccomp_op_name(o)) == o);
    }
    CHECK(std::string(seccomp_op_name(SeccompOp::GreaterEqual)) == "SCMP_CMP_GE");
    CHECK(!seccomp_op_from_name("SCMP_CMP_XX"));
}

TEST_CASE("enum names match the runtime-spec schema", "[parse][names][schema]") {
    SKIP_WITHOUT_SCHEMA();
    auto defs = crunpp::json::parse_file(schema_test::schema_dir() + "/defs-linux.json",
                                         "defs-linux.json");
    const auto *d = defs.find("definitions");
    REQUIRE(d);
    auto enum_of = [&](const char *name) {
        std::vector<std::string_view> out;
        const auto *def = d->find(name);
        REQUIRE(def);
        const auto *e = def->find("enum");
        REQUIRE(e);
        for (const auto &v : e->array)
            out.push_back(v.text);
        return out;
    };
    CHECK(enum_of("SeccompArch") == seccomp_arch_names());
    CHECK(enum_of("SeccompFlag") == seccomp_flag_names());
    auto actions = enum_of("SeccompAction");
    REQUIRE(actions.size() == 9);
    for (auto a : actions)
        CHECK(seccomp_action_from_name(a));
    for (auto o : enum_of("SeccompOperators"))
        CHECK(seccomp_op_from_name(o));
    auto types = enum_of("NamespaceType");
    REQUIRE(types.size() == static_cast<size_t>(kNamespaceTypeCount));
    for (auto t : types)
        CHECK(namespace_type_from_name(t));
}

TEST_CASE("schema examples: good ones parse", "[parse][examples][schema]") {
    SKIP_WITHOUT_SCHEMA();
    const std::string examples = schema_test::schema_dir() + "/test/config";
    size_t n = 0;
    for (const auto &entry : std::filesystem::directory_iterator(examples + "/good")) {
        INFO(entry.path().string());
        CHECK_NOTHROW(load_config(entry.path().string()));
        n++;
    }
    CHECK(n >= 5);
    Config c = load_config(examples + "/good/spec-example.json");
    CHECK(c.ociVersion == "0.5.0-dev");
    CHECK(c.linux->resources->hugepageLimits.size() == 2);
    CHECK(c.linux->namespaces.size() == 8);
    CHECK(c.process->capabilities->ambient == Strings{"CAP_NET_BIND_SERVICE"});
}

TEST_CASE("schema examples: bad ones are rejected with their reason", "[parse][examples][schema]") {
    SKIP_WITHOUT_SCHEMA();
    const std::string examples = schema_test::schema_dir() + "/test/config";
    auto error_of = [&](const char *name) {
        try {
            load_config(examples + "/bad/" + name);
        } catch (const crunpp::Error &e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(error_of("invalid-json.json").rfind("config.json: invalid JSON at byte ", 0) == 0);
    CHECK(error_of("linux-hugepage.json") ==
          "config.json: .linux.resources.hugepageLimits[0].pageSize: invalid page size \"64kB\" (want a number and "
          "KB, MB or GB, as \"2MB\")");
    CHECK(error_of("linux-netdevice.json") ==
          "config.json: .linux.netDevices.eth0.name: expected string, got number");
    CHECK(error_of("linux-rdma.json") ==
          "config.json: .linux.resources.rdma.mlx5_1.hcaHandles: expected integer, got string");
    // Every bad example is covered above.
    size_t n = 0;
    for (const auto &entry : std::filesystem::directory_iterator(examples + "/bad")) {
        INFO(entry.path().string());
        CHECK_THROWS_AS(load_config(entry.path().string()), crunpp::Error);
        n++;
    }
    CHECK(n == 4);
}

TEST_CASE("an empty namespace path means a new namespace, as runc reads it", "[parse]") {
    auto c = crunpp::spec::parse_config(
        parse_test::config_with(R"("linux": {"namespaces": [{"type": "pid", "path": ""}]})"));
    REQUIRE(c.linux->namespaces.size() == 1);
    CHECK(!c.linux->namespaces[0].path);
    CHECK(parse_test::config_error(parse_test::config_with(
              R"("linux": {"namespaces": [{"type": "pid", "path": "proc/1/ns/pid"}]})")) ==
          "config.json: .linux.namespaces[0].path: must be an absolute path");
}

TEST_CASE("device fileMode with the node's type bits, as podman passes it", "[parse]") {
    // 8612 = 0o20644 (S_IFCHR | 0644); 4516 = 0o10644 (S_IFIFO | 0644).
    auto cfg = crunpp::spec::parse_config(parse_test::config_with(
        R"("linux": {"devices": [{"type": "c", "path": "/dev/null", "major": 1, "minor": 3, "fileMode": 8612},)"
        R"( {"type": "p", "path": "/dev/f", "fileMode": 4516}]})"));
    REQUIRE(cfg.linux);
    REQUIRE(cfg.linux->devices.size() == 2);
    CHECK(cfg.linux->devices[0].fileMode == 0644u);
    CHECK(cfg.linux->devices[1].fileMode == 0644u);
}

TEST_CASE("rootfsPropagation takes runc's recursive forms too", "[parse]") {
    for (const char *p : {"rslave", "rprivate", "rshared", "runbindable", "slave"}) {
        INFO(p);
        auto cfg = crunpp::spec::parse_config(
            parse_test::config_with(std::string(R"("linux": {"rootfsPropagation": ")") + p + "\"}"));
        REQUIRE(cfg.linux);
        CHECK(cfg.linux->rootfsPropagation == p);
    }
}

TEST_CASE("a hook's absent env differs from an empty one, also after to_json", "[parse][serialize]") {
    Config c = parse_config(config_with(
        R"("hooks": {"prestart": [{"path": "/bin/a"}, {"path": "/bin/b", "env": []}]})"));
    REQUIRE(c.hooks);
    REQUIRE(c.hooks->prestart.size() == 2);
    CHECK(!c.hooks->prestart[0].env);
    REQUIRE(c.hooks->prestart[1].env);
    CHECK(c.hooks->prestart[1].env->empty());
    Config again = parse_config(to_json(c, false));
    CHECK(!again.hooks->prestart[0].env);
    REQUIRE(again.hooks->prestart[1].env);
}
