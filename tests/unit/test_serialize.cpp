// SPDX-License-Identifier: GPL-2.0-or-later
// spec::to_json: every field of the model is written, in runc's key order,
// unset optionals are omitted, and parse(to_json(c)) gives c back.
#include <catch.hpp>

#include <sys/resource.h>

#include <climits>
#include <cstdint>
#include <set>
#include <string>

#include "crunpp/json.hpp"
#include "crunpp/spec.hpp"
#include "schema_dir.hpp"

using namespace crunpp;
using namespace crunpp::spec;

namespace {

// Every field of the model, in the order to_json writes them. Also valid
// against the runtime-spec schema and the parser's semantic checks.
const char *const kFullConfig = R"JSON({
"ociVersion": "1.3.0",
"process": {
  "terminal": true,
  "consoleSize": {"height": 25, "width": 80},
  "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 4294967294], "username": "someone"},
  "args": ["/bin/sh", "-c", "echo \"hi\"\n\u00e9\t\\"],
  "commandLine": "sh -c true",
  "env": ["PATH=/bin", "EMPTY=", "TERM=xterm"],
  "cwd": "/work",
  "capabilities": {
    "bounding": ["CAP_KILL", "CAP_CHOWN"],
    "effective": ["CAP_KILL"],
    "inheritable": [],
    "permitted": ["CAP_KILL", "CAP_CHOWN"],
    "ambient": ["CAP_NET_BIND_SERVICE"]
  },
  "rlimits": [
    {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024},
    {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
  ],
  "noNewPrivileges": true,
  "apparmorProfile": "crunpp-default",
  "oomScoreAdj": -500,
  "scheduler": {"policy": "SCHED_DEADLINE", "nice": 0, "priority": 0, "flags": ["SCHED_FLAG_RESET_ON_FORK"],
                "runtime": 10000000, "deadline": 20000000, "period": 30000000},
  "selinuxLabel": "system_u:system_r:container_t:s0",
  "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
  "execCPUAffinity": {"initial": "0-1,3", "final": "2"}
},
"root": {"path": "rootfs", "readonly": true},
"hostname": "box",
"domainname": "example.org",
"mounts": [
  {"destination": "/proc", "type": "proc", "source": "proc"},
  {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro", "idmap"],
   "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
   "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]},
  {"destination": "/tmp"}
],
"hooks": {
  "prestart": [{"path": "/usr/bin/pre", "args": ["pre", "1"], "env": ["A=1"], "timeout": 5}],
  "createRuntime": [{"path": "/usr/bin/cr"}],
  "createContainer": [{"path": "/usr/bin/cc", "args": ["cc"]}],
  "startContainer": [{"path": "/usr/bin/sc", "env": ["B=2"]}],
  "poststart": [{"path": "/usr/bin/ps", "timeout": 1}],
  "poststop": [{"path": "/usr/bin/pst"}, {"path": "/usr/bin/pst2"}]
},
"annotations": {"a.b": "c", "org.example.key": "value"},
"linux": {
  "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}, {"containerID": 1, "hostID": 100000, "size": 65536}],
  "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
  "sysctl": {"kernel.shmmax": "4096", "net.ipv4.ip_forward": "1"},
  "resources": {
    "devices": [
      {"allow": false, "access": "rwm"},
      {"allow": true, "type": "c", "major": 1, "minor": -1, "access": "rw"}
    ],
    "memory": {"limit": 536870912, "reservation": 268435456, "swap": -1, "kernel": 0, "kernelTCP": 1048576,
               "swappiness": 60, "disableOOMKiller": false, "useHierarchy": true, "checkBeforeUpdate": true},
    "cpu": {"shares": 1024, "quota": -1, "burst": 1000, "period": 100000, "realtimeRuntime": 950000,
            "realtimePeriod": 1000000, "cpus": "0-3", "mems": "0", "idle": 1},
    "pids": {"limit": -1},
    "blockIO": {
      "weight": 500, "leafWeight": 300,
      "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}, {"major": 8, "minor": 16, "leafWeight": 10}],
      "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
      "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2097152}],
      "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
      "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 200}]
    },
    "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}, {"pageSize": "1GB", "limit": 0}],
    "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
    "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "mlx5_2": {"hcaObjects": 7}},
    "unified": {"io.max": "8:0 rbps=1048576", "memory.high": "max"}
  },
  "cgroupsPath": "/crunpp/full",
  "namespaces": [
    {"type": "pid"}, {"type": "network", "path": "/run/netns/x"}, {"type": "mount"}, {"type": "ipc"},
    {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
  ],
  "devices": [
    {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
    {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0},
    {"path": "/dev/fifo", "type": "p", "major": 0, "minor": 0}
  ],
  "netDevices": {"eth1": {"name": "ctr1"}, "eth2": {}},
  "seccomp": {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "flags": ["SECCOMP_FILTER_FLAG_LOG"],
    "listenerPath": "/run/seccomp.sock",
    "listenerMetadata": "meta",
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
       "args": [{"index": 0, "value": 18446744073709551615, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"},
                {"index": 5, "value": 8, "valueTwo": 1, "op": "SCMP_CMP_NE"}]},
      {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}
    ]
  },
  "rootfsPropagation": "slave",
  "maskedPaths": ["/proc/kcore", "/sys/firmware"],
  "readonlyPaths": ["/proc/sys"],
  "mountLabel": "system_u:object_r:container_file_t:s0",
  "intelRdt": {"closID": "guaranteed", "schemata": ["L3:0=ff"], "l3CacheSchema": "L3:0=ff",
               "memBwSchema": "MB:0=70", "enableMonitoring": true},
  "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"]},
  "personality": {"domain": "LINUX32"},
  "timeOffsets": {"boottime": {"secs": -3600, "nanosecs": 5}, "monotonic": {"secs": 86400, "nanosecs": 0}}
}
})JSON";

std::string compact(std::string_view json_text) { return json::to_string(json::parse(json_text, "expected"), false); }

IdMapping idmap(uint32_t c, uint32_t h, uint32_t s) { return IdMapping{c, h, s}; }

Hook hook(std::string path, std::vector<std::string> args = {}, std::optional<std::vector<std::string>> env = {},
          std::optional<int> timeout = {}) {
    Hook h;
    h.path = std::move(path);
    h.args = std::move(args);
    h.env = std::move(env);
    h.timeout = timeout;
    return h;
}

Process full_process() {
    Process p;
    p.terminal = true;
    p.consoleSize = ConsoleSize{25, 80};
    p.user.uid = 1000;
    p.user.gid = 1001;
    p.user.umask = 18;
    p.user.additionalGids = {5, UINT32_MAX - 1};
    p.user.username = "someone";
    p.args = {"/bin/sh", "-c", "echo \"hi\"\n\xc3\xa9\t\\"};
    p.commandLine = "sh -c true";
    p.env = {"PATH=/bin", "EMPTY=", "TERM=xterm"};
    p.cwd = "/work";
    Capabilities caps;
    caps.bounding = std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"};
    caps.effective = std::vector<std::string>{"CAP_KILL"};
    caps.inheritable = std::vector<std::string>{};
    caps.permitted = std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"};
    caps.ambient = std::vector<std::string>{"CAP_NET_BIND_SERVICE"};
    p.capabilities = caps;
    p.rlimits = {Rlimit{"RLIMIT_NOFILE", RLIMIT_NOFILE, 1024, 4096}, Rlimit{"RLIMIT_CORE", RLIMIT_CORE, 0, UINT64_MAX}};
    p.noNewPrivileges = true;
    p.apparmorProfile = "crunpp-default";
    p.oomScoreAdj = -500;
    Scheduler s;
    s.policy = "SCHED_DEADLINE";
    s.nice = 0;
    s.priority = 0;
    s.flags = {"SCHED_FLAG_RESET_ON_FORK"};
    s.runtime = 10000000;
    s.deadline = 20000000;
    s.period = 30000000;
    p.scheduler = s;
    p.selinuxLabel = "system_u:system_r:container_t:s0";
    p.ioPriority = IoPriority{"IOPRIO_CLASS_BE", 4};
    p.execCPUAffinity = ExecCpuAffinity{"0-1,3", "2"};
    return p;
}

Resources full_resources() {
    Resources r;
    DeviceCgroup deny;
    deny.allow = false;
    deny.access = "rwm";
    DeviceCgroup allow;
    allow.allow = true;
    allow.type = "c";
    allow.major = 1;
    allow.minor = -1;
    allow.access = "rw";
    r.devices = {deny, allow};
    Memory m;
    m.limit = 536870912;
    m.reservation = 268435456;
    m.swap = -1;
    m.kernel = 0;
    m.kernelTCP = 1048576;
    m.swappiness = 60;
    m.disableOOMKiller = false;
    m.useHierarchy = true;
    m.checkBeforeUpdate = true;
    r.memory = m;
    Cpu c;
    c.shares = 1024;
    c.quota = -1;
    c.burst = 1000;
    c.period = 100000;
    c.realtimeRuntime = 950000;
    c.realtimePeriod = 1000000;
    c.cpus = "0-3";
    c.mems = "0";
    c.idle = 1;
    r.cpu = c;
    r.pids = Pids{-1};
    BlockIO b;
    b.weight = 500;
    b.leafWeight = 300;
    WeightDevice wd;
    wd.major = 8;
    wd.minor = 0;
    wd.weight = 600;
    wd.leafWeight = 200;
    WeightDevice wd2;
    wd2.major = 8;
    wd2.minor = 16;
    wd2.leafWeight = 10;
    b.weightDevice = {wd, wd2};
    b.throttleReadBpsDevice = {ThrottleDevice{8, 0, 1048576}};
    b.throttleWriteBpsDevice = {ThrottleDevice{8, 0, 2097152}};
    b.throttleReadIOPSDevice = {ThrottleDevice{8, 0, 100}};
    b.throttleWriteIOPSDevice = {ThrottleDevice{8, 0, 200}};
    r.blockIO = b;
    r.hugepageLimits = {HugepageLimit{"2MB", 209715200}, HugepageLimit{"1GB", 0}};
    Network n;
    n.classID = 1048577;
    n.priorities = {InterfacePriority{"eth0", 500}};
    r.network = n;
    Rdma rd;
    rd.hcaHandles = 3;
    rd.hcaObjects = 10000;
    r.rdma["mlx5_1"] = rd;
    Rdma rd2;
    rd2.hcaObjects = 7;
    r.rdma["mlx5_2"] = rd2;
    r.unified = {{"io.max", "8:0 rbps=1048576"}, {"memory.high", "max"}};
    return r;
}

Seccomp full_seccomp() {
    Seccomp s;
    s.defaultAction = SeccompAction::Errno;
    s.defaultErrnoRet = 1;
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
    s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
    s.listenerPath = "/run/seccomp.sock";
    s.listenerMetadata = "meta";
    Syscall rw;
    rw.names = {"read", "write"};
    rw.action = SeccompAction::Allow;
    Syscall pers;
    pers.names = {"personality"};
    pers.action = SeccompAction::Errno;
    pers.errnoRet = 38;
    pers.args = {SyscallArg{0, UINT64_MAX, 0, SeccompOp::MaskedEqual}, SyscallArg{5, 8, 1, SeccompOp::NotEqual}};
    Syscall ptrace;
    ptrace.names = {"ptrace"};
    ptrace.action = SeccompAction::KillProcess;
    Syscall mount;
    mount.names = {"mount"};
    mount.action = SeccompAction::Notify;
    s.syscalls = {rw, pers, ptrace, mount};
    return s;
}

Linux full_linux() {
    Linux l;
    l.uidMappings = {idmap(0, 1000, 1), idmap(1, 100000, 65536)};
    l.gidMappings = {idmap(0, 1000, 1)};
    l.sysctl = {{"kernel.shmmax", "4096"}, {"net.ipv4.ip_forward", "1"}};
    l.resources = full_resources();
    l.cgroupsPath = "/crunpp/full";
    auto ns = [](NamespaceType t, std::optional<std::string> path = {}) { return Namespace{t, std::move(path)}; };
    l.namespaces = {ns(NamespaceType::Pid),  ns(NamespaceType::Network, "/run/netns/x"), ns(NamespaceType::Mount),
                    ns(NamespaceType::Ipc),  ns(NamespaceType::Uts), ns(NamespaceType::User),
                    ns(NamespaceType::Cgroup), ns(NamespaceType::Time)};
    Device fuse;
    fuse.type = "c";
    fuse.path = "/dev/fuse";
    fuse.major = 10;
    fuse.minor = 229;
    fuse.fileMode = 0666;
    fuse.uid = 0;
    fuse.gid = 0;
    Device sda;
    sda.type = "b";
    sda.path = "/dev/sda";
    sda.major = 8;
    Device fifo;
    fifo.type = "p";
    fifo.path = "/dev/fifo";
    l.devices = {fuse, sda, fifo};
    l.netDevices["eth1"] = NetDevice{"ctr1"};
    l.netDevices["eth2"] = NetDevice{};
    l.seccomp = full_seccomp();
    l.rootfsPropagation = "slave";
    l.maskedPaths = {"/proc/kcore", "/sys/firmware"};
    l.readonlyPaths = {"/proc/sys"};
    l.mountLabel = "system_u:object_r:container_file_t:s0";
    IntelRdt rdt;
    rdt.closID = "guaranteed";
    rdt.schemata = {"L3:0=ff"};
    rdt.l3CacheSchema = "L3:0=ff";
    rdt.memBwSchema = "MB:0=70";
    rdt.enableMonitoring = true;
    l.intelRdt = rdt;
    l.memoryPolicy = MemoryPolicy{"MPOL_BIND", "0-1", {"MPOL_F_STATIC_NODES"}};
    l.personality = Personality{"LINUX32", {}};
    TimeOffsets t;
    t.boottime = TimeOffset{-3600, 5};
    t.monotonic = TimeOffset{86400, 0};
    l.timeOffsets = t;
    return l;
}

Config full_config() {
    Config c;
    c.ociVersion = "1.3.0";
    c.process = full_process();
    c.root = Root{"rootfs", true};
    c.hostname = "box";
    c.domainname = "example.org";
    Mount proc;
    proc.destination = "/proc";
    proc.type = "proc";
    proc.source = "proc";
    Mount data;
    data.destination = "/data";
    data.type = "bind";
    data.source = "/srv/data";
    data.options = {"rbind", "ro", "idmap"};
    data.uidMappings = {idmap(0, 100000, 65536)};
    data.gidMappings = {idmap(0, 200000, 65536)};
    Mount tmp;
    tmp.destination = "/tmp";
    c.mounts = {proc, data, tmp};
    Hooks h;
    h.prestart = {hook("/usr/bin/pre", {"pre", "1"}, std::vector<std::string>{"A=1"}, 5)};
    h.createRuntime = {hook("/usr/bin/cr")};
    h.createContainer = {hook("/usr/bin/cc", {"cc"})};
    h.startContainer = {hook("/usr/bin/sc", {}, std::vector<std::string>{"B=2"})};
    h.poststart = {hook("/usr/bin/ps", {}, {}, 1)};
    h.poststop = {hook("/usr/bin/pst"), hook("/usr/bin/pst2")};
    c.hooks = h;
    c.annotations = {{"a.b", "c"}, {"org.example.key", "value"}};
    c.linux = full_linux();
    return c;
}

} // namespace

TEST_CASE("to_json writes every field of the model in runc's key order", "[serialize]") {
    // kFullConfig holds every field; the config built in C++ must come out
    // as exactly that document (same keys, same order, same values).
    CHECK(to_json(full_config(), false) == compact(kFullConfig));
}

TEST_CASE("parse(to_json(c)) gives c back", "[serialize]") {
    const Config original = full_config();
    const std::string text = to_json(original, true);
    const Config parsed = parse_config(text);
    // Both directions over every field: writing the parsed config again
    // gives the same document, so nothing was dropped or altered.
    CHECK(to_json(parsed, false) == to_json(original, false));
    CHECK(to_json(parsed, true) == text);
    // What the text does not show: resolved rlimit numbers, the optional
    // states of sets that are empty.
    REQUIRE(parsed.process);
    REQUIRE(parsed.process->rlimits.size() == 2);
    CHECK(parsed.process->rlimits[0].resource == RLIMIT_NOFILE);
    CHECK(parsed.process->rlimits[1].resource == RLIMIT_CORE);
    CHECK(parsed.process->rlimits[1].hard == UINT64_MAX);
    REQUIRE(parsed.process->capabilities);
    REQUIRE(parsed.process->capabilities->inheritable);
    CHECK(parsed.process->capabilities->inheritable->empty());
    REQUIRE(parsed.linux);
    CHECK(parsed.linux->seccomp->syscalls[1].args[0].value == UINT64_MAX);
    CHECK(parsed.linux->seccomp->syscalls[1].args[0].op == SeccompOp::MaskedEqual);
    CHECK(parsed.linux->timeOffsets->boottime->secs == -3600);
    CHECK(parsed.linux->namespaces.size() == 8);
}

TEST_CASE("parsing the complete document and writing it again loses nothing", "[serialize]") {
    const Config parsed = parse_config(kFullConfig);
    CHECK(to_json(parsed, false) == compact(kFullConfig));
}

TEST_CASE("to_json omits what is not set", "[serialize]") {
    Config c;
    c.ociVersion = kOciVersion;
    CHECK(to_json(c, false) == R"({"ociVersion":"1.3.0"})");

    c.process = Process{};
    c.root = Root{"/rootfs", false};
    c.linux = Linux{};
    c.hooks = Hooks{};
    // Required members stay (user, cwd, root.path); false booleans, empty
    // lists and unset optionals go.
    CHECK(to_json(c, false) == R"({"ociVersion":"1.3.0","process":{"user":{"uid":0,"gid":0},"cwd":"/"},)"
                               R"("root":{"path":"/rootfs"},"hooks":{},"linux":{}})");
}

TEST_CASE("to_json keeps a given empty capability set apart from an absent one", "[serialize]") {
    Process p;
    p.capabilities = Capabilities{};
    p.capabilities->ambient = std::vector<std::string>{};
    CHECK(to_json(p, false) == R"({"user":{"uid":0,"gid":0},"cwd":"/","capabilities":{"ambient":[]}})");
}

TEST_CASE("to_json writes integers exactly at the limits of their types", "[serialize]") {
    Config c;
    c.ociVersion = kOciVersion;
    c.linux = Linux{};
    c.linux->resources = Resources{};
    Memory m;
    m.limit = INT64_MIN;
    m.swap = INT64_MAX;
    m.swappiness = UINT64_MAX;
    c.linux->resources->memory = m;
    c.linux->uidMappings = {idmap(UINT32_MAX, 0, UINT32_MAX)};
    CHECK(to_json(c, false) ==
          R"({"ociVersion":"1.3.0","linux":{"uidMappings":[{"containerID":4294967295,"hostID":0,"size":4294967295}],)"
          R"("resources":{"memory":{"limit":-9223372036854775808,"swap":9223372036854775807,)"
          R"("swappiness":18446744073709551615}}}})");
}

TEST_CASE("to_json escapes strings so that they read back unchanged", "[serialize]") {
    Config c;
    c.ociVersion = kOciVersion;
    std::string nasty = std::string("quote\" backslash\\ newline\n tab\t bell\x07 nul") + '\0' + " \xe2\x82\xac end";
    c.annotations[nasty] = nasty;
    json::Value v = json::parse(to_json(c, false), "test");
    const json::Value *annotations = v.find("annotations");
    REQUIRE(annotations);
    REQUIRE(annotations->object.size() == 1);
    CHECK(annotations->object[0].first == nasty);
    CHECK(annotations->object[0].second.text == nasty);
}

TEST_CASE("pretty output is tab-indented and ends with a newline", "[serialize]") {
    Config c;
    c.ociVersion = kOciVersion;
    c.hostname = "h";
    CHECK(to_json(c, true) == "{\n\t\"ociVersion\": \"1.3.0\",\n\t\"hostname\": \"h\"\n}\n");
    CHECK(to_json(c, false).back() == '}');
}

TEST_CASE("to_json(Process) writes the process object alone, as exec --process reads it", "[serialize]") {
    const Process p = full_process();
    const std::string text = to_json(p, false);
    json::Value full = json::parse(kFullConfig, "expected");
    CHECK(text == json::to_string(*full.find("process"), false));
    CHECK(to_json(parse_process(text), false) == text);
}

namespace {

// Paths ("/linux/namespaces/0/type=pid") of every leaf that carries
// information; false, empty strings are kept, but false booleans and empty
// lists/objects are what Go's omitempty drops as well, so they are skipped.
void leaf_paths(const json::Value &v, const std::string &at, std::set<std::string> &out) {
    switch (v.type) {
    case json::Type::Object:
        for (const auto &[k, e] : v.object)
            leaf_paths(e, at + "/" + k, out);
        return;
    case json::Type::Array:
        for (size_t i = 0; i < v.array.size(); i++)
            leaf_paths(v.array[i], at + "/" + std::to_string(i), out);
        return;
    case json::Type::Bool:
        if (v.boolean)
            out.insert(at + "=true");
        return;
    default: out.insert(at + "=" + json::to_string(v)); return;
    }
}

} // namespace

TEST_CASE("the runtime-spec's example configs survive a round trip", "[serialize][schema]") {
    SKIP_WITHOUT_SCHEMA();
    const std::string dir = schema_test::schema_dir() + "/test/config/good/";
    for (const char *name : {"minimal.json", "minimal-for-start.json", "spec-example.json", "linux-rdma.json",
                             "linux-netdevice.json"}) {
        INFO(name);
        const Config first = load_config(dir + name);
        const std::string text = to_json(first, true);
        CHECK(to_json(parse_config(text), true) == text);
        // Every value of the example is in the written document, at the
        // same place.
        std::set<std::string> original, written;
        leaf_paths(json::parse_file(dir + name, name), "", original);
        leaf_paths(json::parse(text, "written"), "", written);
        // spec-example.json still has linux.resources.oomScoreAdj, which
        // the spec moved to process.oomScoreAdj: an unknown field, ignored.
        original.erase("/linux/resources/oomScoreAdj=100");
        for (const auto &path : original) {
            INFO(path);
            CHECK(written.count(path) == 1);
        }
    }
}
