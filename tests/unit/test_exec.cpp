// SPDX-License-Identifier: GPL-2.0-or-later
// exec's pure parts: --user parsing, the process built from the config (or
// a process.json) and the flags, --cgroup parsing and targets; and the
// /proc/PID/ns fallback of the namespace join.
#include <catch.hpp>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "src/libcrunpp/container/exec_join.hpp"
#include "src/libcrunpp/container/exec_process.hpp"

using namespace crunpp;
using namespace crunpp::container;

namespace {

spec::Process config_process() {
    spec::Process p;
    p.terminal = true;
    p.args = {"sh"};
    p.env = {"PATH=/bin", "TERM=xterm"};
    p.user.uid = 5;
    p.user.gid = 7;
    p.user.additionalGids = {10};
    spec::Capabilities c;
    c.bounding = std::vector<std::string>{"CAP_KILL"};
    c.effective = std::vector<std::string>{"CAP_KILL"};
    c.permitted = std::vector<std::string>{"CAP_KILL"};
    p.capabilities = c;
    return p;
}

ProcessOverrides with_args(std::vector<std::string> args) {
    ProcessOverrides o;
    o.args = std::move(args);
    return o;
}

std::vector<std::string> set_of(const std::optional<std::vector<std::string>> &s) { return s.value_or(std::vector<std::string>{}); }

} // namespace

TEST_CASE("exec --user: UID alone is gid 0, UID:GID both", "[exec]") {
    UserSpec u = parse_user_spec("1");
    CHECK(u.uid == 1);
    CHECK(u.gid == 0);
    u = parse_user_spec("1:2");
    CHECK(u.uid == 1);
    CHECK(u.gid == 2);
    u = parse_user_spec("4294967294:0");
    CHECK(u.uid == 4294967294u);
    // (uid_t)-1 would leave the process's ids unchanged (root).
    for (const char *minus_one : {"4294967295", "4294967295:0", "0:4294967295"})
        CHECK_THROWS_WITH(parse_user_spec(minus_one), Catch::Contains("4294967295 is not a valid id"));
    for (const char *bad : {"", "root", "1:", ":2", "1:x", "-1", "1:2:3", "4294967296", " 1"})
        CHECK_THROWS_WITH(parse_user_spec(bad), Catch::Contains("--user") && Catch::Contains("UID:GID"));
}

TEST_CASE("exec: -u 1 does not keep the config's gid (CVE-2026-30892)", "[exec]") {
    ProcessOverrides o = with_args({"id"});
    o.user = std::string("1");
    spec::Process p = build_exec_process(config_process(), false, o);
    CHECK(p.user.uid == 1);
    CHECK(p.user.gid == 0);
    o.user = std::string("3:4");
    p = build_exec_process(config_process(), false, o);
    CHECK(p.user.uid == 3);
    CHECK(p.user.gid == 4);
    // Without --user, the config's.
    p = build_exec_process(config_process(), false, with_args({"id"}));
    CHECK(p.user.uid == 5);
    CHECK(p.user.gid == 7);
}

TEST_CASE("exec: the config's process with COMMAND, env, cwd, groups, labels", "[exec]") {
    ProcessOverrides o = with_args({"ls", "-l"});
    o.env = {"TERM=dumb", "NEW=1", "EMPTY="};
    o.cwd = std::string("/tmp");
    o.additional_gids = {"11", "12"};
    o.no_new_privs = true;
    o.apparmor = std::string("prof");
    o.process_label = std::string("system_u:system_r:container_t:s0");
    spec::Process p = build_exec_process(config_process(), false, o);
    CHECK(p.args == std::vector<std::string>{"ls", "-l"});
    CHECK(p.env == std::vector<std::string>{"PATH=/bin", "TERM=dumb", "NEW=1", "EMPTY="});
    CHECK(p.cwd == "/tmp");
    CHECK(p.user.additionalGids == std::vector<uint32_t>{10, 11, 12});
    CHECK(p.noNewPrivileges);
    CHECK(p.apparmorProfile == "prof");
    CHECK(p.selinuxLabel == "system_u:system_r:container_t:s0");
    // The config's terminal is not used: only -t makes one (runc).
    CHECK_FALSE(p.terminal);
    o.tty = true;
    CHECK(build_exec_process(config_process(), false, o).terminal);
}

TEST_CASE("exec: bad flags are errors naming them", "[exec]") {
    ProcessOverrides o = with_args({"true"});
    o.env = {"NOEQUALS"};
    CHECK_THROWS_WITH(build_exec_process(config_process(), false, o), Catch::Contains("--env \"NOEQUALS\""));
    o.env = {"=x"};
    CHECK_THROWS_WITH(build_exec_process(config_process(), false, o), Catch::Contains("KEY=VALUE"));
    o = with_args({"true"});
    o.cwd = std::string("relative");
    CHECK_THROWS_WITH(build_exec_process(config_process(), false, o), Catch::Contains("--cwd \"relative\""));
    o = with_args({"true"});
    o.additional_gids = {"x"};
    CHECK_THROWS_WITH(build_exec_process(config_process(), false, o), Catch::Contains("--additional-gids \"x\""));
    o = with_args({"true"});
    o.caps = {"CAP_NOPE"};
    CHECK_THROWS_WITH(build_exec_process(config_process(), false, o), Catch::Contains("--cap \"CAP_NOPE\""));
    o.caps = {"NET_ADMIN"};
    CHECK_THROWS_WITH(build_exec_process(config_process(), false, o), Catch::Contains("unknown capability"));
    CHECK_THROWS_WITH(build_exec_process(config_process(), false, ProcessOverrides{}),
                      Catch::Contains("no command given"));
}

TEST_CASE("exec --cap: bounding, effective, permitted; never inheritable (CVE-2022-29162)", "[exec]") {
    ProcessOverrides o = with_args({"true"});
    o.caps = {"CAP_NET_ADMIN", "CAP_KILL"};
    spec::Process p = build_exec_process(config_process(), false, o);
    std::vector<std::string> both = {"CAP_KILL", "CAP_NET_ADMIN"};
    CHECK(set_of(p.capabilities->bounding) == both);
    CHECK(set_of(p.capabilities->effective) == both);
    CHECK(set_of(p.capabilities->permitted) == both);
    CHECK_FALSE(p.capabilities->inheritable.has_value());
    CHECK_FALSE(p.capabilities->ambient.has_value());

    // Ambient only where the inheritable set has it (the kernel's rule).
    spec::Process base = config_process();
    base.capabilities->inheritable = std::vector<std::string>{"CAP_NET_RAW"};
    o.caps = {"CAP_NET_RAW", "CAP_NET_ADMIN"};
    p = build_exec_process(base, false, o);
    CHECK(set_of(p.capabilities->inheritable) == std::vector<std::string>{"CAP_NET_RAW"});
    CHECK(set_of(p.capabilities->ambient) == std::vector<std::string>{"CAP_NET_RAW"});

    // A process without capabilities gets the sets made.
    base.capabilities.reset();
    o.caps = {"CAP_SYS_ADMIN"};
    p = build_exec_process(base, false, o);
    CHECK(set_of(p.capabilities->bounding) == std::vector<std::string>{"CAP_SYS_ADMIN"});
    CHECK_FALSE(p.capabilities->inheritable.has_value());
}

TEST_CASE("exec --process: the file's process, terminal kept, flags on top", "[exec]") {
    spec::Process file = spec::parse_process(
        R"({"terminal": true, "args": ["top"], "cwd": "/srv", "user": {"uid": 9, "gid": 9}, "env": ["A=1"]})");
    spec::Process p = build_exec_process(file, true, ProcessOverrides{});
    CHECK(p.terminal);
    CHECK(p.args == std::vector<std::string>{"top"});
    CHECK(p.cwd == "/srv");
    CHECK(p.user.uid == 9);
    ProcessOverrides o;
    o.env = {"A=2"};
    o.user = std::string("0");
    p = build_exec_process(file, true, o);
    CHECK(p.env == std::vector<std::string>{"A=2"});
    CHECK(p.user.gid == 0);

    file.terminal = false;
    o.tty = true;
    CHECK(build_exec_process(file, true, o).terminal);
    file.args.clear();
    CHECK_THROWS_WITH(build_exec_process(file, true, ProcessOverrides{}), Catch::Contains(".args"));
    file.args = {"x"};
    file.cwd = std::string("rel");
    CHECK_THROWS_WITH(build_exec_process(file, true, ProcessOverrides{}), Catch::Contains("absolute"));
}

TEST_CASE("exec --cgroup: runc's syntax", "[exec]") {
    CHECK(parse_sub_cgroups({}).empty());
    CHECK(parse_sub_cgroups({"sub"}) == SubCgroups{{"", "sub"}});
    CHECK(parse_sub_cgroups({"/a/b/"}) == SubCgroups{{"", "a/b"}});
    CHECK(parse_sub_cgroups({"memory:m", "cpu,cpuacct:c"}) ==
          SubCgroups{{"memory", "m"}, {"cpu", "c"}, {"cpuacct", "c"}});
    CHECK_THROWS_WITH(parse_sub_cgroups({"a", "b"}), Catch::Contains("missing CONTROLLER: prefix"));
    CHECK_THROWS_WITH(parse_sub_cgroups({"memory:a", "b"}), Catch::Contains("missing CONTROLLER: prefix"));
    CHECK_THROWS_WITH(parse_sub_cgroups({":a"}), Catch::Contains("empty controller"));
    CHECK_THROWS_WITH(parse_sub_cgroups({"cpu,:a"}), Catch::Contains("empty controller"));
    CHECK_THROWS_WITH(parse_sub_cgroups({"memory:a", "memory:b"}), Catch::Contains("\"memory\" given more than once"));
    CHECK_THROWS_WITH(parse_sub_cgroups({"memory:"}), Catch::Contains("empty sub-cgroup path"));
    CHECK_THROWS_WITH(parse_sub_cgroups({""}), Catch::Contains("empty sub-cgroup path"));
    // "/": the container's own cgroup.
    CHECK(parse_sub_cgroups({"/"}).at("") == "");
    CHECK(parse_sub_cgroups({"memory:/"}).at("memory") == "");
    CHECK_THROWS_WITH(parse_sub_cgroups({"../x"}), Catch::Contains("\"..\""));
    CHECK_THROWS_WITH(parse_sub_cgroups({"memory:a/../../b"}), Catch::Contains("\"..\""));
}

TEST_CASE("exec --cgroup: targets per hierarchy", "[exec]") {
    const cgroup::Paths container = {
        {"cpu", "/sys/fs/cgroup/cpu,cpuacct/c1"},
        {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct/c1"},
        {"memory", "/sys/fs/cgroup/memory/c1"},
        {"unified", "/sys/fs/cgroup/unified/c1"},
    };
    CHECK(exec_cgroup_paths(container, {}) == container);
    CHECK(exec_cgroup_paths(container, parse_sub_cgroups({"/"})) == container);
    cgroup::Paths all = exec_cgroup_paths(container, parse_sub_cgroups({"s"}));
    CHECK(all.at("cpu") == "/sys/fs/cgroup/cpu,cpuacct/c1/s");
    CHECK(all.at("memory") == "/sys/fs/cgroup/memory/c1/s");
    CHECK(all.at("unified") == "/sys/fs/cgroup/unified/c1/s");
    // One controller of a co-mounted pair moves the whole hierarchy.
    cgroup::Paths one = exec_cgroup_paths(container, parse_sub_cgroups({"cpu:s", "memory:m"}));
    CHECK(one.at("cpu") == "/sys/fs/cgroup/cpu,cpuacct/c1/s");
    CHECK(one.at("cpuacct") == "/sys/fs/cgroup/cpu,cpuacct/c1/s");
    CHECK(one.at("memory") == "/sys/fs/cgroup/memory/c1/m");
    CHECK(one.at("unified") == "/sys/fs/cgroup/unified/c1");
    CHECK_THROWS_WITH(exec_cgroup_paths(container, parse_sub_cgroups({"cpu:a", "cpuacct:b"})),
                      Catch::Contains("co-mounted"));
    CHECK_THROWS_WITH(exec_cgroup_paths(container, parse_sub_cgroups({"pids:p"})),
                      Catch::Contains("no \"pids\" cgroup"));
    // A v2 host: the lone path.
    const cgroup::Paths v2 = {{"unified", "/sys/fs/cgroup/c1"}};
    CHECK(exec_cgroup_paths(v2, parse_sub_cgroups({"x/y"})).at("unified") == "/sys/fs/cgroup/c1/x/y");
    // A controller prefix there: the controllers share the directory.
    CHECK_THROWS_WITH(exec_cgroup_paths(v2, parse_sub_cgroups({"memory:m"})),
                      Catch::Contains("--cgroup \"memory:m\": the container's cgroup is a cgroup v2 one"));
    // What systemd is asked to move an exec into, below the unit's cgroup.
    CHECK(sub_cgroup(v2, "/sys/fs/cgroup/c1").empty());
    CHECK(sub_cgroup(v2, exec_cgroup_paths(v2, parse_sub_cgroups({"x/y"})).at("unified")) == "x/y");
    CHECK(sub_cgroup(container, all.at("unified")) == "s");
    CHECK(sub_cgroup(container, one.at("unified")).empty());
    CHECK(sub_cgroup(v2, "/sys/fs/cgroup/c10").empty());
}

TEST_CASE("cgroup::unified_dir_of: the cgroup2 directory listing the process", "[exec]") {
    std::string dir = cgroup::unified_dir_of(getpid());
    if (dir.empty()) {
        WARN("no cgroup2 mount: unified_dir_of not tested");
        return;
    }
    std::ifstream procs(dir + "/cgroup.procs");
    REQUIRE(procs);
    bool found = false;
    for (pid_t p; procs >> p;)
        found = found || p == getpid();
    CHECK(found);
}

TEST_CASE("exec: namespaces_to_join sees only the namespaces that differ", "[exec]") {
    CHECK(namespaces_to_join(getpid()) == 0);
    CHECK_THROWS_WITH(namespaces_to_join(0x3fffffff), Catch::Contains("the container's init"));
}

TEST_CASE("exec: the /proc/PID/ns fallback joins another process's namespaces", "[exec][root]") {
    if (geteuid() != 0) {
        WARN("not root: the namespace join by files not tested");
        return;
    }
    int ready[2], done[2];
    REQUIRE(pipe(ready) == 0);
    REQUIRE(pipe(done) == 0);
    pid_t holder = fork();
    REQUIRE(holder >= 0);
    if (holder == 0) {
        char c = 0;
        if (unshare(CLONE_NEWUTS) < 0 || sethostname("exec-target", 11) < 0)
            _exit(1);
        if (write(ready[1], "x", 1) != 1 || read(done[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    char c;
    REQUIRE(read(ready[0], &c, 1) == 1);
    uint64_t flags = namespaces_to_join(holder);
    CHECK(flags == CLONE_NEWUTS);
    pid_t joiner = fork();
    REQUIRE(joiner >= 0);
    if (joiner == 0) {
        try {
            join_namespaces_by_files(holder, flags);
        } catch (...) {
            _exit(2);
        }
        char name[64] = {};
        gethostname(name, sizeof name - 1);
        _exit(strcmp(name, "exec-target") == 0 ? 0 : 3);
    }
    int status = 0;
    waitpid(joiner, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    REQUIRE(write(done[1], "x", 1) == 1);
    waitpid(holder, &status, 0);
    for (int fd : {ready[0], ready[1], done[0], done[1]})
        close(fd);
}
