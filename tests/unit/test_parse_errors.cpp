// SPDX-License-Identifier: GPL-2.0-or-later
// parse_config and parse_process errors: each class with its exact message
// and JSON path.
#include <fcntl.h>
#include <unistd.h>

#include <catch.hpp>
#include <string>
#include <vector>

#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"
#include "test_parse_util.hpp"

using namespace crunpp::spec;
using parse_test::config_error;
using parse_test::config_with;
using parse_test::process_error;

namespace {

struct Case {
    std::string members; // added to a valid config's top level
    std::string error;   // the whole message
};

void check_cases(const std::vector<Case> &cases) {
    for (const auto &c : cases) {
        INFO(c.members);
        CHECK(config_error(config_with(c.members)) == c.error);
    }
}

// A process object with `extra` members added.
std::string process_with(std::string_view extra) {
    return std::string(R"("process": {"cwd": "/", "args": ["sh"], )") + std::string(extra) + "}";
}

// A linux object with `extra` members added.
std::string linux_with(std::string_view extra) { return "\"linux\": {" + std::string(extra) + "}"; }

const std::string kUserNs = R"("namespaces": [{"type": "user"}], )";

} // namespace

TEST_CASE("malformed documents", "[parse][errors]") {
    CHECK(config_error("[]") == "config.json: expected object, got array");
    CHECK(config_error("\"x\"") == "config.json: expected object, got string");
    std::string truncated = R"({"ociVersion": "1.0.0", "root": {"pa)";
    // A truncated document is reported at its end.
    CHECK(config_error(truncated) == "config.json: invalid JSON at byte 36: parse error: premature EOF");
    CHECK(config_error("") == "config.json: invalid JSON at byte 0: parse error: premature EOF");
    CHECK(config_error(R"({"ociVersion": "1.0.0"} x)").rfind("config.json: invalid JSON at byte ", 0) == 0);
    CHECK(config_error(R"({"ociVersion": "1.0.0", /* c */ "root": {"path": "r"}})").rfind("config.json: invalid JSON", 0) ==
          0);
    std::string bad_utf8 = "{\"ociVersion\": \"1.0.0\", \"hostname\": \"\xff\xfe\"}";
    std::string e = config_error(bad_utf8);
    CHECK(e.rfind("config.json: invalid JSON at byte ", 0) == 0);
    CHECK(e == "config.json: invalid JSON at byte 38: lexical error: invalid bytes in UTF8 string.");
    // The origin names the document.
    try {
        parse_config("[]", "/b/config.json");
        FAIL("no error");
    } catch (const crunpp::ConfigError &err) {
        CHECK(std::string(err.what()) == "/b/config.json: expected object, got array");
        CHECK(err.json_path().empty());
    }
}

TEST_CASE("deep nesting is refused, not recursed into", "[parse][errors]") {
    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK(config_error(deep) == "config.json: nested deeper than 256 levels");
    std::string hidden = config_with("\"x\": " + std::string(300, '[') + std::string(300, ']'));
    CHECK(config_error(hidden) == "config.json: nested deeper than 256 levels");
    // Unknown members nested within the limit are ignored.
    std::string ok = config_with("\"x\": " + std::string(200, '[') + std::string(200, ']'));
    CHECK(config_error(ok).empty());
}

TEST_CASE("documents over the size limit are refused", "[parse][errors]") {
    std::string huge = config_with("\"x\": \"" + std::string(100u << 20, 'a') + "\"");
    std::string e = config_error(huge);
    CHECK(e.rfind("config.json: too large (104857", 0) == 0);
    CHECK(e.find("limit 67108864") != std::string::npos);

    // A 100 MB file is refused from its size, before it is read.
    char path[] = "/tmp/crunpp-test-parse-XXXXXX";
    crunpp::UniqueFd fd(mkstemp(path));
    REQUIRE(fd);
    REQUIRE(ftruncate(fd.get(), 100 << 20) == 0);
    try {
        load_config(path);
        FAIL("no error");
    } catch (const crunpp::Error &err) {
        CHECK(std::string(err.what()) == "config.json: too large (104857600 bytes, limit 67108864)");
    }
    // A truncated file.
    std::string full = parse_test::read_file(std::string(CRUNPP_SOURCE_DIR) + "/tests/fuzz/corpus-config/full-config.json");
    REQUIRE(full.size() > 1000);
    REQUIRE(ftruncate(fd.get(), 0) == 0);
    REQUIRE(pwrite(fd.get(), full.data(), 1000, 0) == 1000);
    CHECK_THROWS_WITH(load_config(path), "config.json: invalid JSON at byte 1000: parse error: premature EOF");
    unlink(path);
    CHECK_THROWS_WITH(load_config("/nonexistent/config.json"),
                      "config.json: open /nonexistent/config.json: No such file or directory");
}

TEST_CASE("wrong JSON types", "[parse][errors]") {
    CHECK(config_error(R"({"ociVersion": 1, "root": {"path": "r"}})") ==
          "config.json: .ociVersion: expected string, got number");
    check_cases({
        {R"("hostname": true)", "config.json: .hostname: expected string, got boolean"},
        {R"("mounts": {})", "config.json: .mounts: expected array, got object"},
        {R"("mounts": ["/x"])", "config.json: .mounts[0]: expected object, got string"},
        {R"("process": [])", "config.json: .process: expected object, got array"},
        {process_with(R"("terminal": "yes")"), "config.json: .process.terminal: expected boolean, got string"},
        {process_with(R"("user": {"uid": "0"})"), "config.json: .process.user.uid: expected integer, got string"},
        {process_with(R"("env": ["A=1", 2])"), "config.json: .process.env[1]: expected string, got number"},
        {process_with(R"("capabilities": {"bounding": "CAP_KILL"})"),
         "config.json: .process.capabilities.bounding: expected array, got string"},
        {R"("annotations": {"a": 1})", "config.json: .annotations.a: expected string, got number"},
        {R"("annotations": {"com.example": {}})",
         "config.json: .annotations[\"com.example\"]: expected string, got object"},
        {linux_with(R"("sysctl": {"kernel.shm_rmid_forced": 1})"),
         "config.json: .linux.sysctl[\"kernel.shm_rmid_forced\"]: expected string, got number"},
        {linux_with(R"("resources": {"unified": {"io.max": null, "memory.max": false}})"),
         "config.json: .linux.resources.unified[\"memory.max\"]: expected string, got boolean"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": 1}]})"),
         "config.json: .linux.seccomp.syscalls[0].action: expected string, got number"},
        {linux_with(R"("resources": {"devices": [{"allow": 1}]})"),
         "config.json: .linux.resources.devices[0].allow: expected boolean, got number"},
    });
    CHECK(process_error("[]") == "process.json: expected object, got array");
    CHECK(process_error(R"({"cwd": "/", "args": ["a"], "noNewPrivileges": 1})") ==
          "process.json: .noNewPrivileges: expected boolean, got number");
}

TEST_CASE("integers out of range, fractions and exponents", "[parse][errors]") {
    check_cases({
        {process_with(R"("user": {"uid": 4294967296})"),
         "config.json: .process.user.uid: 4294967296 is out of range for uint32 (0..4294967295)"},
        {process_with(R"("user": {"gid": -1})"),
         "config.json: .process.user.gid: -1 is out of range for uint32 (0..4294967295)"},
        {process_with(R"("user": {"uid": 4294967295})"),
         "config.json: .process.user.uid: 4294967295 is not a valid id (the kernel reads it as \"unchanged\")"},
        {process_with(R"("user": {"gid": 4294967295})"),
         "config.json: .process.user.gid: 4294967295 is not a valid id (the kernel reads it as \"unchanged\")"},
        {process_with(R"("user": {"additionalGids": [1, 4294967295]})"),
         "config.json: .process.user.additionalGids[1]: 4294967295 is not a valid id (the kernel reads it as \"unchanged\")"},
        {process_with(R"("user": {"additionalGids": [1, 4294967296]})"),
         "config.json: .process.user.additionalGids[1]: 4294967296 is out of range for uint32 (0..4294967295)"},
        {linux_with(R"("resources": {"blockIO": {"weight": 65536}})"),
         "config.json: .linux.resources.blockIO.weight: 65536 is out of range for uint16 (0..65535)"},
        {process_with(R"("scheduler": {"policy": "SCHED_OTHER", "nice": 2147483648})"),
         "config.json: .process.scheduler.nice: 2147483648 is out of range for int32 (-2147483648..2147483647)"},
        {process_with(R"("oomScoreAdj": -2147483649)"),
         "config.json: .process.oomScoreAdj: -2147483649 is out of range for int32 (-2147483648..2147483647)"},
        {linux_with(R"("resources": {"memory": {"limit": 9223372036854775808}})"),
         "config.json: .linux.resources.memory.limit: 9223372036854775808 is out of range for int64 "
         "(-9223372036854775808..9223372036854775807)"},
        {linux_with(R"("resources": {"pids": {"limit": -9223372036854775809}})"),
         "config.json: .linux.resources.pids.limit: -9223372036854775809 is out of range for int64 "
         "(-9223372036854775808..9223372036854775807)"},
        {process_with(R"("rlimits": [{"type": "RLIMIT_CORE", "soft": 18446744073709551616, "hard": 1}])"),
         "config.json: .process.rlimits[0].soft: 18446744073709551616 is out of range for uint64 "
         "(0..18446744073709551615)"},
        {process_with(R"("consoleSize": {"height": -1, "width": 1})"),
         "config.json: .process.consoleSize.height: -1 is out of range for uint64 (0..18446744073709551615)"},
        {process_with(R"("user": {"uid": 1.5})"), "config.json: .process.user.uid: expected integer, got \"1.5\""},
        {process_with(R"("user": {"uid": 1.0})"), "config.json: .process.user.uid: expected integer, got \"1.0\""},
        {process_with(R"("user": {"uid": 1e3})"), "config.json: .process.user.uid: expected integer, got \"1e3\""},
        {process_with(R"("user": {"uid": -2E-1})"),
         "config.json: .process.user.uid: expected integer, got \"-2E-1\""},
        {process_with(R"("user": {"uid": )" + std::string(400, '9') + "}"),
         "config.json: .process.user.uid: " + std::string(64, '9') +
             "... is out of range for uint32 (0..4294967295)"},
    });
}

TEST_CASE("missing required fields", "[parse][errors]") {
    CHECK(config_error(R"({"root": {"path": "r"}})") == "config.json: .ociVersion: missing required field");
    CHECK(config_error(R"({"ociVersion": "1.0.0"})") == "config.json: .root: missing required field");
    CHECK(config_error(R"({"ociVersion": "1.0.0", "root": {}})") == "config.json: .root.path: missing required field");
    CHECK(config_error(R"({"ociVersion": null, "root": {"path": "r"}})") ==
          "config.json: .ociVersion: missing required field");
    check_cases({
        {R"("process": {"args": ["sh"]})", "config.json: .process.cwd: missing required field"},
        {R"("process": {"cwd": "/"})", "config.json: .process.args: missing required field"},
        {process_with(R"("consoleSize": {"height": 1})"),
         "config.json: .process.consoleSize.width: missing required field"},
        {process_with(R"("rlimits": [{"soft": 1, "hard": 1}])"),
         "config.json: .process.rlimits[0].type: missing required field"},
        {process_with(R"("rlimits": [{"type": "RLIMIT_CORE", "hard": 1}])"),
         "config.json: .process.rlimits[0].soft: missing required field"},
        {process_with(R"("rlimits": [{"type": "RLIMIT_CORE", "soft": 1}])"),
         "config.json: .process.rlimits[0].hard: missing required field"},
        {process_with(R"("scheduler": {"nice": 1})"), "config.json: .process.scheduler.policy: missing required field"},
        {process_with(R"("ioPriority": {"priority": 1})"),
         "config.json: .process.ioPriority.class: missing required field"},
        {R"("mounts": [{"type": "tmpfs"}])", "config.json: .mounts[0].destination: missing required field"},
        {R"("mounts": [{"destination": "/a", "uidMappings": [{"containerID": 0, "hostID": 0}]}])",
         "config.json: .mounts[0].uidMappings[0].size: missing required field"},
        {R"("hooks": {"poststop": [{"args": ["x"]}]})", "config.json: .hooks.poststop[0].path: missing required field"},
        {linux_with(R"("namespaces": [{"path": "/proc/1/ns/pid"}])"),
         "config.json: .linux.namespaces[0].type: missing required field"},
        {linux_with(kUserNs + R"("uidMappings": [{"hostID": 0, "size": 1}])"),
         "config.json: .linux.uidMappings[0].containerID: missing required field"},
        {linux_with(kUserNs + R"("gidMappings": [{"containerID": 0, "size": 1}])"),
         "config.json: .linux.gidMappings[0].hostID: missing required field"},
        {linux_with(R"("devices": [{"path": "/dev/x"}])"), "config.json: .linux.devices[0].type: missing required field"},
        {linux_with(R"("devices": [{"type": "c"}])"), "config.json: .linux.devices[0].path: missing required field"},
        {linux_with(R"("devices": [{"type": "c", "path": "/dev/x", "minor": 1}])"),
         "config.json: .linux.devices[0].major: missing required field"},
        {linux_with(R"("seccomp": {"syscalls": []})"), "config.json: .linux.seccomp.defaultAction: missing required field"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]})"),
         "config.json: .linux.seccomp.syscalls[0].names: missing required field"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"]}]})"),
         "config.json: .linux.seccomp.syscalls[0].action: missing required field"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
              "action": "SCMP_ACT_ERRNO", "args": [{"value": 1, "op": "SCMP_CMP_EQ"}]}]})"),
         "config.json: .linux.seccomp.syscalls[0].args[0].index: missing required field"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
              "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "op": "SCMP_CMP_EQ"}]}]})"),
         "config.json: .linux.seccomp.syscalls[0].args[0].value: missing required field"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
              "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 2}]}]})"),
         "config.json: .linux.seccomp.syscalls[0].args[0].op: missing required field"},
        {linux_with(R"("resources": {"pids": {}})"), "config.json: .linux.resources.pids.limit: missing required field"},
        {linux_with(R"("resources": {"devices": [{"access": "r"}]})"),
         "config.json: .linux.resources.devices[0].allow: missing required field"},
        {linux_with(R"("resources": {"hugepageLimits": [{"limit": 1}]})"),
         "config.json: .linux.resources.hugepageLimits[0].pageSize: missing required field"},
        {linux_with(R"("resources": {"hugepageLimits": [{"pageSize": "2MB"}]})"),
         "config.json: .linux.resources.hugepageLimits[0].limit: missing required field"},
        {linux_with(R"("resources": {"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0}]}})"),
         "config.json: .linux.resources.blockIO.throttleReadBpsDevice[0].rate: missing required field"},
        {linux_with(R"("resources": {"blockIO": {"weightDevice": [{"minor": 0, "weight": 1}]}})"),
         "config.json: .linux.resources.blockIO.weightDevice[0].major: missing required field"},
        {linux_with(R"("resources": {"network": {"priorities": [{"priority": 1}]}})"),
         "config.json: .linux.resources.network.priorities[0].name: missing required field"},
        {linux_with(R"("memoryPolicy": {"nodes": "0"})"), "config.json: .linux.memoryPolicy.mode: missing required field"},
        {linux_with(R"("personality": {})"), "config.json: .linux.personality.domain: missing required field"},
    });
    CHECK(process_error(R"({"args": ["a"]})") == "process.json: .cwd: missing required field");
}

TEST_CASE("relative paths where the spec wants absolute ones", "[parse][errors]") {
    check_cases({
        {R"("process": {"cwd": "home", "args": ["sh"]})", "config.json: .process.cwd: must be an absolute path"},
        {R"("process": {"cwd": "", "args": ["sh"]})", "config.json: .process.cwd: must be an absolute path"},
        {R"("mounts": [{"destination": "/a"}, {"destination": ""}])",
         "config.json: .mounts[1].destination: must not be empty"},
        {R"("hooks": {"prestart": [{"path": "bin/hook"}]})", "config.json: .hooks.prestart[0].path: must be an absolute path"},
        {linux_with(R"("devices": [{"type": "c", "path": "dev/null", "major": 1, "minor": 3}])"),
         "config.json: .linux.devices[0].path: must be an absolute path"},
        {linux_with(R"("namespaces": [{"type": "network", "path": "netns/a"}])"),
         "config.json: .linux.namespaces[0].path: must be an absolute path"},
        {linux_with(R"("maskedPaths": ["/proc/kcore", "proc/keys"])"),
         "config.json: .linux.maskedPaths[1]: must be an absolute path"},
        {linux_with(R"("readonlyPaths": ["sys"])"), "config.json: .linux.readonlyPaths[0]: must be an absolute path"},
    });
    CHECK(process_error(R"({"cwd": "./x", "args": ["a"]})") == "process.json: .cwd: must be an absolute path");
}

TEST_CASE("duplicates", "[parse][errors]") {
    check_cases({
        {linux_with(R"("namespaces": [{"type": "pid"}, {"type": "uts"}, {"type": "ipc"}, {"type": "pid", "path": "/x"}])"),
         "config.json: .linux.namespaces[3].type: duplicate namespace \"pid\""},
        {process_with(R"("rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
                                     {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}])"),
         "config.json: .process.rlimits[1].type: duplicate rlimit type \"RLIMIT_NOFILE\""},
    });
}

TEST_CASE("unknown enum values", "[parse][errors]") {
    const std::string seccomp = R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", )";
    check_cases({
        {linux_with(R"("namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "pidd"}])"),
         "config.json: .linux.namespaces[3].type: unknown namespace type \"pidd\""},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOWED"})"),
         "config.json: .linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_ALLOWED\""},
        {linux_with(seccomp + R"("syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO"},
                                              {"names": ["b"], "action": "kill"}]})"),
         "config.json: .linux.seccomp.syscalls[1].action: unknown seccomp action \"kill\""},
        {linux_with(seccomp + R"("architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]})"),
         "config.json: .linux.seccomp.architectures[1]: unknown seccomp architecture \"SCMP_ARCH_VAX\""},
        {linux_with(seccomp + R"("flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]})"),
         "config.json: .linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\""},
        {linux_with(seccomp + R"("syscalls": [{"names": ["a"], "action": "SCMP_ACT_ERRNO",
                                               "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQUAL"}]}]})"),
         "config.json: .linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_EQUAL\""},
        {process_with(R"("rlimits": [{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}])"),
         "config.json: .process.rlimits[0].type: unknown rlimit type \"RLIMIT_FOO\""},
        {process_with(R"("rlimits": [{"type": "nofile", "soft": 1, "hard": 1}])"),
         "config.json: .process.rlimits[0].type: unknown rlimit type \"nofile\""},
        {linux_with(R"("rootfsPropagation": "rsharde")"),
         "config.json: .linux.rootfsPropagation: unknown rootfsPropagation \"rsharde\""},
        {process_with(R"("scheduler": {"policy": "SCHED_FAST"})"),
         "config.json: .process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\""},
        {process_with(R"("scheduler": {"policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_X"]})"),
         "config.json: .process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_X\""},
        {process_with(R"("ioPriority": {"class": "IOPRIO_CLASS_NONE"})"),
         "config.json: .process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\""},
        {linux_with(R"("memoryPolicy": {"mode": "MPOL_FAST"})"),
         "config.json: .linux.memoryPolicy.mode: unknown memory policy mode \"MPOL_FAST\""},
        {linux_with(R"("memoryPolicy": {"mode": "MPOL_LOCAL", "flags": ["MPOL_F_X"]})"),
         "config.json: .linux.memoryPolicy.flags[0]: unknown memory policy flag \"MPOL_F_X\""},
        {linux_with(R"("personality": {"domain": "LINUX64"})"),
         "config.json: .linux.personality.domain: unknown personality domain \"LINUX64\""},
        {linux_with(R"("personality": {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]})"),
         "config.json: .linux.personality.flags[0]: unknown personality flag \"ADDR_NO_RANDOMIZE\""},
        {linux_with(R"("devices": [{"type": "x", "path": "/dev/x"}])"),
         "config.json: .linux.devices[0].type: unknown device type \"x\""},
        {linux_with(R"("resources": {"devices": [{"allow": true, "type": "p"}]})"),
         "config.json: .linux.resources.devices[0].type: unknown device type \"p\""},
        {process_with(R"("capabilities": {"effective": ["CAP_KILL", "CAP_FLY"]})"),
         "config.json: .process.capabilities.effective[1]: unknown capability \"CAP_FLY\""},
        {process_with(R"("capabilities": {"ambient": ["KILL"]})"),
         "config.json: .process.capabilities.ambient[0]: unknown capability \"KILL\""},
        {process_with(R"("capabilities": {"permitted": ["cap_kill"]})"),
         "config.json: .process.capabilities.permitted[0]: unknown capability \"cap_kill\""},
        {process_with(R"("capabilities": {"inheritable": ["CAP_12"]})"),
         "config.json: .process.capabilities.inheritable[0]: unknown capability \"CAP_12\""},
    });
}

TEST_CASE("patterns and value ranges", "[parse][errors]") {
    auto page = [](const char *size) {
        return linux_with(std::string(R"("resources": {"hugepageLimits": [{"pageSize": ")") + size +
                          R"(", "limit": 1}]})");
    };
    for (const char *bad : {"64kB", "0MB", "02MB", "MB", "2 MB", "2M", "2TB", "2MBB", ""}) {
        INFO(bad);
        CHECK(config_error(config_with(page(bad))).find(".pageSize: invalid page size") != std::string::npos);
    }
    for (const char *good : {"64KB", "2MB", "1GB", "16384KB"})
        CHECK(config_error(config_with(page(good))).empty());
    check_cases({
        {linux_with(R"("devices": [{"type": "c", "path": "/dev/x", "major": 1, "minor": 1, "fileMode": 512}])"),
         "config.json: .linux.devices[0].fileMode: must be at most 0777 (511), got 512"},
        // 0o60644: a block device's st_mode given for a char device.
        {linux_with(R"("devices": [{"type": "c", "path": "/dev/x", "major": 1, "minor": 1, "fileMode": 25012}])"),
         "config.json: .linux.devices[0].fileMode: file type bits 24576 do not match device type \"c\""},
        // 0o21000: the right type bits, but the sticky bit.
        {linux_with(R"("devices": [{"type": "c", "path": "/dev/x", "major": 1, "minor": 1, "fileMode": 8704}])"),
         "config.json: .linux.devices[0].fileMode: must be at most 0777 (511), got 512"},
        {R"("hooks": {"poststart": [{"path": "/bin/x", "timeout": 0}]})",
         "config.json: .hooks.poststart[0].timeout: must be at least 1 second"},
        {R"("hooks": {"poststart": [{"path": "/bin/x", "timeout": -3}]})",
         "config.json: .hooks.poststart[0].timeout: must be at least 1 second"},
        {linux_with(R"("intelRdt": {"memBwSchema": "L3:0=ff"})"),
         "config.json: .linux.intelRdt.memBwSchema: must start with \"MB:\" and be a single line"},
        {linux_with(R"("intelRdt": {"memBwSchema": "MB:0=20\nMB:1=30"})"),
         "config.json: .linux.intelRdt.memBwSchema: must start with \"MB:\" and be a single line"},
        {process_with(R"("execCPUAffinity": {"initial": "0-3", "final": "0x3"})"),
         "config.json: .process.execCPUAffinity.final: invalid CPU list \"0x3\""},
        {process_with(R"("env": ["A=1", "NOEQUALS"])"),
         "config.json: .process.env[1]: invalid environment entry \"NOEQUALS\" (want NAME=value)"},
        {process_with(R"("env": ["=value"])"),
         "config.json: .process.env[0]: invalid environment entry \"=value\" (want NAME=value)"},
        {R"("hooks": {"prestart": [{"path": "/bin/x", "env": ["X"]}]})",
         "config.json: .hooks.prestart[0].env[0]: invalid environment entry \"X\" (want NAME=value)"},
        {R"("hostname": "a\u0000b", "linux": {"namespaces": [{"type": "uts"}]})",
         "config.json: .hostname: must not contain a NUL byte"},
        {R"("linux": {"namespaces": [{"type": "uts"}], "sysctl": {"kernel.hostname": "x"}})",
         "config.json: .linux.sysctl[\"kernel.hostname\"]: not allowed: the host name is set with .hostname"},
        {R"("domainname": "a", "linux": {"namespaces": [{"type": "uts"}], "sysctl": {"kernel/domainname": "b"}})",
         "config.json: .linux.sysctl[\"kernel/domainname\"]: \"b\" conflicts with .domainname \"a\""},
        {R"("ociVersion": "1.0")", "config.json: .ociVersion: \"1.0\" is not a SemVer 2.0.0 version"},
        {R"("ociVersion": "01.0.0")", "config.json: .ociVersion: \"01.0.0\" is not a SemVer 2.0.0 version"},
        {R"("ociVersion": "1.0.0-")", "config.json: .ociVersion: \"1.0.0-\" is not a SemVer 2.0.0 version"},
        {R"("ociVersion": "1.0.0+a..b")", "config.json: .ociVersion: \"1.0.0+a..b\" is not a SemVer 2.0.0 version"},
        {R"("root": {"path": ""})", "config.json: .root.path: must not be empty"},
        {R"("annotations": {"": "x"})", "config.json: .annotations[\"\"]: key must not be empty"},
        {process_with(R"("args": [])"), "config.json: .process.args: must have at least one entry"},
        {process_with(R"("oomScoreAdj": 1001)"), "config.json: .process.oomScoreAdj: must be between -1000 and 1000"},
        {process_with(R"("ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 8})"),
         "config.json: .process.ioPriority.priority: must be between 0 and 7"},
        {process_with(R"("rlimits": [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}])"),
         "config.json: .process.rlimits[0]: soft limit 2048 is greater than hard limit 1024"},
        {linux_with(R"("resources": {"devices": [{"allow": true, "access": "rwx"}]})"),
         "config.json: .linux.resources.devices[0].access: invalid device access \"rwx\" (letters r, w, m)"},
        {linux_with(R"("resources": {"memory": {"swappiness": 101}})"),
         "config.json: .linux.resources.memory.swappiness: must be between 0 and 100"},
        {linux_with(R"("resources": {"cpu": {"quota": 1000, "burst": 1001}})"),
         "config.json: .linux.resources.cpu.burst: must not be larger than quota"},
        {linux_with(R"("resources": {"blockIO": {"weightDevice": [{"major": 8, "minor": 0}]}})"),
         "config.json: .linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight"},
        {linux_with(R"("resources": {"rdma": {"mlx5_1": {}}})"),
         "config.json: .linux.resources.rdma.mlx5_1: needs hcaHandles or hcaObjects"},
        {linux_with(R"("timeOffsets": {"boottime": {"nanosecs": 1000000000}}, "namespaces": [{"type": "time"}])"),
         "config.json: .linux.timeOffsets.boottime.nanosecs: must be less than 1000000000"},
    });
    // Control characters in a value are escaped in the message.
    CHECK(config_error(config_with(process_with(R"("env": ["X\u001b[2J"])"))) ==
          "config.json: .process.env[0]: invalid environment entry \"X\\x1b[2J\" (want NAME=value)");
    // Long values are cut short.
    std::string long_name(1000, 'A');
    CHECK(config_error(config_with(linux_with(R"("rootfsPropagation": ")" + long_name + "\""))) ==
          "config.json: .linux.rootfsPropagation: unknown rootfsPropagation \"" + std::string(64, 'A') + "\"...");
}

TEST_CASE("names that become paths cannot escape their directory", "[parse][errors]") {
    check_cases({
        {linux_with(R"("resources": {"unified": {"../../release_agent": "x"}})"),
         "config.json: .linux.resources.unified[\"../../release_agent\"]: invalid cgroup file name"},
        {linux_with(R"("resources": {"unified": {"..": "x"}})"),
         "config.json: .linux.resources.unified[\"..\"]: invalid cgroup file name"},
        {linux_with(R"("sysctl": {"../../proc/sysrq-trigger": "b"})"),
         "config.json: .linux.sysctl[\"../../proc/sysrq-trigger\"]: invalid sysctl name"},
        {linux_with(R"("sysctl": {"net/../../x": "b"})"),
         "config.json: .linux.sysctl[\"net/../../x\"]: invalid sysctl name"},
        {linux_with(R"("sysctl": {"": "b"})"), "config.json: .linux.sysctl[\"\"]: invalid sysctl name"},
        {linux_with(R"("intelRdt": {"closID": "../info"})"),
         "config.json: .linux.intelRdt.closID: invalid closID \"../info\" (must be a single path component)"},
        {linux_with(R"("netDevices": {"eth0/x": {}})"),
         "config.json: .linux.netDevices[\"eth0/x\"]: invalid network interface name"},
        {linux_with(R"("netDevices": {"eth0": {"name": "a_name_too_long_x"}})"),
         "config.json: .linux.netDevices.eth0.name: invalid network interface name \"a_name_too_long_x\""},
        {linux_with(R"("resources": {"rdma": {"": {"hcaObjects": 1}}})"),
         "config.json: .linux.resources.rdma[\"\"]: device name must not be empty"},
    });
}

TEST_CASE("id mappings", "[parse][errors]") {
    check_cases({
        {linux_with(kUserNs + R"("uidMappings": [{"containerID": 0, "hostID": 1000, "size": 0}])"),
         "config.json: .linux.uidMappings[0].size: must be greater than 0"},
        {linux_with(kUserNs + R"("uidMappings": [{"containerID": 4294967295, "hostID": 0, "size": 2}])"),
         "config.json: .linux.uidMappings[0].size: range goes beyond id 4294967295"},
        {linux_with(kUserNs + R"("gidMappings": [{"containerID": 0, "hostID": 1000, "size": 10},
                                                {"containerID": 9, "hostID": 5000, "size": 1}])"),
         "config.json: .linux.gidMappings[1]: container id range overlaps an earlier mapping"},
        {linux_with(kUserNs + R"("uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10},
                                                {"containerID": 10, "hostID": 995, "size": 6}])"),
         "config.json: .linux.uidMappings[1]: host id range overlaps an earlier mapping"},
        {linux_with(R"("uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}])"),
         "config.json: .linux.uidMappings: requires a user namespace in linux.namespaces"},
        {linux_with(R"("namespaces": [{"type": "pid"}], "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}])"),
         "config.json: .linux.gidMappings: requires a user namespace in linux.namespaces"},
        {R"("mounts": [{"destination": "/a", "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}])",
         "config.json: .mounts[0]: an idmapped mount needs both uidMappings and gidMappings"},
    });
    // Adjacent ranges do not overlap; mappings with an empty list need no namespace.
    CHECK(config_error(config_with(linux_with(kUserNs + R"("uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10},
                                                {"containerID": 10, "hostID": 1010, "size": 4294966286}])")))
              .empty());
    CHECK(config_error(config_with(linux_with(R"("uidMappings": [])"))).empty());
}

TEST_CASE("settings that need a namespace", "[parse][errors]") {
    check_cases({
        {linux_with(R"("timeOffsets": {"monotonic": {"secs": 1}})"),
         "config.json: .linux.timeOffsets: requires a time namespace in linux.namespaces"},
        {R"("hostname": "box")", "config.json: .hostname: requires a UTS namespace in linux.namespaces"},
        {R"("domainname": "example", "linux": {"namespaces": [{"type": "pid"}]})",
         "config.json: .domainname: requires a UTS namespace in linux.namespaces"},
    });
    CHECK(config_error(config_with(R"("hostname": "")")).empty());
    CHECK(config_error(config_with(R"("hostname": "h", "linux": {"namespaces": [{"type": "uts"}]})")).empty());
}

TEST_CASE("seccomp consistency", "[parse][errors]") {
    check_cases({
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1})"),
         "config.json: .linux.seccomp.defaultErrnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not "
         "SCMP_ACT_ALLOW"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
              "action": "SCMP_ACT_KILL", "errnoRet": 1}]})"),
         "config.json: .linux.seccomp.syscalls[0].errnoRet: only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not "
         "SCMP_ACT_KILL"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/a.sock"})"),
         "config.json: .linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"],
              "action": "SCMP_ACT_NOTIFY"}]})"),
         "config.json: .linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"})"),
         "config.json: .linux.seccomp.listenerMetadata: requires listenerPath"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [],
              "action": "SCMP_ACT_KILL"}]})"),
         "config.json: .linux.seccomp.syscalls[0].names: must have at least one entry"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", ""],
              "action": "SCMP_ACT_KILL"}]})"),
         "config.json: .linux.seccomp.syscalls[0].names[1]: must not be empty"},
        {linux_with(R"("seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
              "action": "SCMP_ACT_KILL", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]})"),
         "config.json: .linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5"},
    });
}

TEST_CASE("scheduler and memory policy consistency", "[parse][errors]") {
    check_cases({
        {process_with(R"("scheduler": {"policy": "SCHED_OTHER", "nice": 20})"),
         "config.json: .process.scheduler.nice: must be between -20 and 19"},
        {process_with(R"("scheduler": {"policy": "SCHED_BATCH", "priority": 5})"),
         "config.json: .process.scheduler.priority: can only be set for SCHED_FIFO and SCHED_RR"},
        {process_with(R"("scheduler": {"policy": "SCHED_RR", "priority": 100})"),
         "config.json: .process.scheduler.priority: must be between 1 and 99 for SCHED_RR"},
        {process_with(R"("scheduler": {"policy": "SCHED_FIFO", "period": 100})"),
         "config.json: .process.scheduler.period: can only be set for SCHED_DEADLINE"},
        {linux_with(R"("memoryPolicy": {"mode": "MPOL_BIND"})"), "config.json: .linux.memoryPolicy: nodes is required for MPOL_BIND"},
        {linux_with(R"("memoryPolicy": {"mode": "MPOL_DEFAULT", "nodes": "0"})"),
         "config.json: .linux.memoryPolicy.nodes: must be empty for MPOL_DEFAULT"},
        {linux_with(R"("memoryPolicy": {"mode": "MPOL_INTERLEAVE", "nodes": "0-1",
                                        "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]})"),
         "config.json: .linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other"},
    });
    CHECK(config_error(config_with(linux_with(R"("memoryPolicy": {"mode": "MPOL_PREFERRED"})"))).empty());
    CHECK(config_error(config_with(process_with(R"("scheduler": {"policy": "SCHED_FIFO", "priority": 99})"))).empty());
}

TEST_CASE("ConfigError carries the JSON path", "[parse][errors]") {
    try {
        parse_config(config_with(R"("process": {"cwd": "x", "args": ["a"]})"));
        FAIL("no error");
    } catch (const crunpp::ConfigError &e) {
        CHECK(e.json_path() == ".process.cwd");
        CHECK(std::string(e.what()) == "config.json: .process.cwd: must be an absolute path");
        CHECK(e.errnum() == 0);
    }
}
