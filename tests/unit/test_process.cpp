// SPDX-License-Identifier: GPL-2.0-or-later
// The parsing and lookup helpers of the process attributes.
#include "src/libcrunpp/linux/process/process.hpp"
#include "src/libcrunpp/linux/process/process_internal.hpp"
#include "src/libcrunpp/linux/procfs.hpp"
#include "src/libcrunpp/util/passwd.hpp"

#include "crunpp/error.hpp"
#include "test_util.hpp"

#include <catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace crunpp;
using namespace crunpp::linux;
using test_util::error_of;
using test_util::TempDir;

TEST_CASE("parse_id_list reads CPU and node lists", "[process]") {
    CHECK(parse_id_list("0-3,5", "cpus") == std::vector<unsigned>{0, 1, 2, 3, 5});
    CHECK(parse_id_list("7", "cpus") == std::vector<unsigned>{7});
    CHECK(parse_id_list(" 1 , 3-4 \n", "cpus") == std::vector<unsigned>{1, 3, 4});
    CHECK(parse_id_list("2,1-2,0", "cpus") == std::vector<unsigned>{0, 1, 2});
    CHECK(parse_id_list("4-4", "cpus") == std::vector<unsigned>{4});
}

TEST_CASE("parse_id_list rejects malformed lists with the field name", "[process]") {
    CHECK(error_of([] { parse_id_list("", ".process.execCPUAffinity.initial"); }) ==
          ".process.execCPUAffinity.initial: invalid list \"\": empty");
    CHECK(error_of([] { parse_id_list("3-1", "x"); }) == "x: invalid list \"3-1\": range \"3-1\" is reversed");
    CHECK(error_of([] { parse_id_list("a", "x"); }) == "x: invalid list \"a\": \"a\" is not a number or a range");
    CHECK(error_of([] { parse_id_list("0-3,70000", "x"); }) ==
          "x: invalid list \"0-3,70000\": 70000 is above the maximum 65535");
    CHECK(error_of([] { parse_id_list("1-8", "x", 7); }) == "x: invalid list \"1-8\": 8 is above the maximum 7");
    for (const char *bad : {"1-", "-1", "1,,2", "1,", "99999999999", "1--2", "+1", "0x1", "1 2"})
        CHECK(error_of([&] { parse_id_list(bad, "x"); }).rfind("x: invalid list", 0) == 0);
}

TEST_CASE("capability names map to the kernel's numbers", "[process]") {
    CHECK(capability_from_name("CAP_CHOWN") == 0);
    CHECK(capability_from_name("CAP_KILL") == 5);
    CHECK(capability_from_name("CAP_NET_BIND_SERVICE") == 10);
    CHECK(capability_from_name("CAP_SYS_ADMIN") == 21);
    CHECK(capability_from_name("CAP_AUDIT_READ") == 37);
    CHECK(capability_from_name("CAP_CHECKPOINT_RESTORE") == 40);
    CHECK_FALSE(capability_from_name("SYS_ADMIN"));
    CHECK_FALSE(capability_from_name("cap_sys_admin"));
    CHECK_FALSE(capability_from_name("CAP_FOO"));
    CHECK_FALSE(capability_from_name(""));
}

TEST_CASE("last_capability agrees with /proc/sys/kernel/cap_last_cap", "[process]") {
    std::ifstream f("/proc/sys/kernel/cap_last_cap");
    int expected = -1;
    f >> expected;
    REQUIRE(expected > 0);
    CHECK(last_capability() == expected);
}

TEST_CASE("rlimit names map to RLIMIT_* numbers", "[process]") {
    CHECK(crunpp::spec::rlimit_resource_from_name("RLIMIT_NOFILE") == RLIMIT_NOFILE);
    CHECK(crunpp::spec::rlimit_resource_from_name("RLIMIT_CORE") == RLIMIT_CORE);
    CHECK(crunpp::spec::rlimit_resource_from_name("RLIMIT_RTTIME") == RLIMIT_RTTIME);
    CHECK(crunpp::spec::rlimit_resource_from_name("RLIMIT_AS") == RLIMIT_AS);
    int known = 0;
    for (const char *n : {"RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS",
                          "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",
                          "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"})
        known += crunpp::spec::rlimit_resource_from_name(n) ? 1 : 0;
    CHECK(known == 16);
    CHECK_FALSE(crunpp::spec::rlimit_resource_from_name("RLIMIT_FOO"));
    CHECK_FALSE(crunpp::spec::rlimit_resource_from_name("NOFILE"));
}

TEST_CASE("sysctl keys are classified by namespace", "[process]") {
    using N = SysctlNamespace;
    CHECK(sysctl_namespace("kernel.msgmax") == N::Ipc);
    CHECK(sysctl_namespace("kernel.msgmnb") == N::Ipc);
    CHECK(sysctl_namespace("kernel.sem") == N::Ipc);
    CHECK(sysctl_namespace("kernel.shmmax") == N::Ipc);
    CHECK(sysctl_namespace("kernel.shm_rmid_forced") == N::Ipc);
    CHECK(sysctl_namespace("fs.mqueue.msg_max") == N::Ipc);
    CHECK(sysctl_namespace("net.ipv4.ip_forward") == N::Net);
    CHECK(sysctl_namespace("net/ipv4/conf/eth0.100/forwarding") == N::Net);
    CHECK(sysctl_namespace("kernel.hostname") == N::Uts);
    CHECK(sysctl_namespace("kernel.domainname") == N::Uts);
    CHECK_FALSE(sysctl_namespace("vm.swappiness"));
    CHECK_FALSE(sysctl_namespace("kernel.semx"));
    CHECK_FALSE(sysctl_namespace("kernel.core_pattern"));
    CHECK_FALSE(sysctl_namespace("fs.mqueue"));
    CHECK_FALSE(sysctl_namespace("network.x"));
}

TEST_CASE("sysctl keys become /proc/sys paths that cannot leave it", "[process]") {
    CHECK(sysctl_proc_path("net.ipv4.ip_forward") == "sys/net/ipv4/ip_forward");
    CHECK(sysctl_proc_path("net/ipv4/conf/eth0.100/forwarding") == "sys/net/ipv4/conf/eth0.100/forwarding");
    CHECK(sysctl_proc_path("kernel.shm_rmid_forced") == "sys/kernel/shm_rmid_forced");
    for (const char *bad : {"net/../../etc/x", "net..x", ".net", "net.", "", "net/./x", "net//x"})
        CHECK(error_of([&] { sysctl_proc_path(bad); }) == "sysctl \"" + std::string(bad) + "\": invalid key");
}

TEST_CASE("PATH comes from the process env, last one wins, runc's default otherwise", "[process]") {
    CHECK(path_from_env({"A=1"}) == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    CHECK(path_from_env({"PATH=/a", "X=PATH=/c", "PATH=/b"}) == "/b");
    CHECK(path_from_env({"PATHX=/a"}) == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    CHECK(path_from_env({"PATH="}).empty());
}

TEST_CASE("find_in_path searches inside a root", "[process]") {
    TempDir root;
    root.file("bin/foo", 0755);
    root.file("usr/bin/foo", 0755);
    root.file("usr/bin/bar", 0644);
    root.file("opt/bar", 0755);
    std::filesystem::create_directories(root.path + "/sbin/dir");
    std::filesystem::create_symlink("/bin/foo", root.path + "/sbin/baz");         // absolute: inside the root
    std::filesystem::create_symlink("../../../../../usr/bin/env", root.path + "/sbin/evil"); // cannot escape

    CHECK(find_in_path("foo", "/bin:/usr/bin", root.path) == "/bin/foo");
    CHECK(find_in_path("foo", "/usr/bin:/bin", root.path) == "/usr/bin/foo");
    CHECK(find_in_path("foo", "/usr/bin/:/bin", root.path) == "/usr/bin/foo");
    // Not executable: the search goes on, and reports EACCES if nothing else matches.
    CHECK(find_in_path("bar", "/usr/bin:/opt", root.path) == "/opt/bar");
    CHECK(error_of([&] { find_in_path("bar", "/usr/bin", root.path); }) == "exec: \"bar\": permission denied");
    CHECK(error_of([&] { find_in_path("dir", "/sbin", root.path); }) == "exec: \"dir\": permission denied");
    CHECK(find_in_path("baz", "/sbin", root.path) == "/sbin/baz");
    CHECK(error_of([&] { find_in_path("evil", "/sbin", root.path); }) == "exec: \"evil\": executable file not found in $PATH");
    CHECK(error_of([&] { find_in_path("nope", "/bin:/usr/bin", root.path); }) ==
          "exec: \"nope\": executable file not found in $PATH");
    // Relative and empty entries are not searched.
    CHECK(error_of([&] { find_in_path("foo", "bin::.", root.path); }) == "exec: \"foo\": executable file not found in $PATH");
}

TEST_CASE("resolve_executable: PATH lookup, explicit paths checked", "[process]") {
    spec::Process p;
    p.env = {"PATH=/nonexistent-dir:/usr/bin:/bin"};
    p.args = {"env"};
    std::string env = resolve_executable(p);
    CHECK((env == "/usr/bin/env" || env == "/bin/env"));
    p.args = {"definitely-not-a-program-h6"};
    CHECK(error_of([&] { resolve_executable(p); }) == "exec: \"definitely-not-a-program-h6\": executable file not found in $PATH");
    p.args = {"/bin/sh", "-c", "true"};
    CHECK(resolve_executable(p) == "/bin/sh");
    p.args = {"/etc/passwd"};
    CHECK(error_of([&] { resolve_executable(p); }) == "exec: \"/etc/passwd\": permission denied");
    p.args = {"/"};
    CHECK(error_of([&] { resolve_executable(p); }) == "exec: \"/\": permission denied");
    p.args = {"/no/such/prog"};
    CHECK(error_of([&] { resolve_executable(p); }) == "exec: \"/no/such/prog\": stat /no/such/prog: no such file or directory");
    // Relative with a slash: from the cwd, kept as given for execve after chdir.
    p.cwd = "/usr";
    p.args = {"bin/env"};
    CHECK(resolve_executable(p) == "bin/env");
    p.cwd = "/etc";
    CHECK(error_of([&] { resolve_executable(p); }) == "exec: \"bin/env\": stat bin/env: no such file or directory");
    p.args = {};
    CHECK(error_of([&] { resolve_executable(p); }) == "config.json: .process.args: no program to run");
}

TEST_CASE("kernel settings refuse what the container's namespaces do not cover", "[process]") {
    spec::Config cfg;
    cfg.linux.emplace();
    cfg.hostname = "h6";
    CHECK(error_of([&] { apply_kernel_settings(cfg); }) ==
          "cannot set hostname \"h6\": the container has no uts namespace of its own (add {\"type\": \"uts\"} to "
          ".linux.namespaces)");
    cfg.hostname.reset();
    cfg.domainname = "example";
    CHECK(error_of([&] { apply_kernel_settings(cfg); }).rfind("cannot set domainname \"example\": the container has "
                                                              "no uts namespace",
                                                              0) == 0);
    cfg.domainname.reset();
    cfg.linux->sysctl = {{"vm.swappiness", "10"}};
    CHECK(error_of([&] { apply_kernel_settings(cfg); }) ==
          "sysctl \"vm.swappiness\" is not namespaced: a container cannot set it");
    cfg.linux->sysctl = {{"net.ipv4.ip_forward", "1"}};
    CHECK(error_of([&] { apply_kernel_settings(cfg); }) ==
          "sysctl \"net.ipv4.ip_forward\" needs a network namespace of the container's own, and the config has none");
    cfg.linux->sysctl = {{"kernel.shmmax", "1"}};
    cfg.linux->namespaces.push_back({spec::NamespaceType::Network, std::nullopt});
    CHECK(error_of([&] { apply_kernel_settings(cfg); }) ==
          "sysctl \"kernel.shmmax\" needs an ipc namespace of the container's own, and the config has none");
    // An empty hostname is "not set", as in runc.
    cfg.linux->sysctl.clear();
    cfg.hostname = "";
    CHECK(error_of([&] { apply_kernel_settings(cfg); }) == "<no error>");
}

TEST_CASE("procfs handle: a procfs root, no symlinks or magic links followed", "[process][procfs]") {
    int root = procfs::root();
    REQUIRE(root >= 0);
    CHECK(procfs::root() == root); // cached
    CHECK(fcntl(root, F_GETFD) & FD_CLOEXEC);
    CHECK(procfs::read_file("self/status").find("\nPid:\t" + std::to_string(getpid()) + "\n") != std::string::npos);
    CHECK(procfs::read_file("thread-self/comm").size() > 1);
    CHECK(error_of([] { procfs::open("self/cwd", O_RDONLY); }) ==
          "open /proc/" + std::to_string(getpid()) + "/cwd: a symlink is in the way (refusing to follow it)");
    CHECK(error_of([] { procfs::open("self/root/etc/passwd", O_RDONLY); }).find("a symlink is in the way") !=
          std::string::npos);
    CHECK(error_of([] { procfs::open("../etc/passwd", O_RDONLY); }).rfind("open /proc/../etc/passwd: ", 0) == 0);
    CHECK(error_of([] { procfs::open("no-such-file", O_RDONLY); }) ==
          "open /proc/no-such-file: No such file or directory");
    CHECK(error_of([] { procfs::write_file("sys/kernel/no-such-sysctl", "1"); }) ==
          "open /proc/sys/kernel/no-such-sysctl: No such file or directory");
}

TEST_CASE("home_in_passwd: the first entry of the uid, \"/\" otherwise", "[process]") {
    const std::string passwd = "root:x:0:0:root:/root:/bin/sh\n"
                               "# comment\n"
                               "short:x:5\n"
                               "bad:x:1x:0::/bad:/bin/sh\n"
                               "empty:x:7:7:::/bin/sh\n"
                               "user:x:1000:1000:A User,,,:/home/user:/bin/sh\n"
                               "dup:x:1000:1000::/home/dup:/bin/sh\n"
                               "last:x:65534:65534::/nonexistent";
    CHECK(detail::home_in_passwd(passwd, 0) == "/root");
    CHECK(detail::home_in_passwd(passwd, 1000) == "/home/user");
    CHECK(detail::home_in_passwd(passwd, 65534) == "/nonexistent");
    CHECK(detail::home_in_passwd(passwd, 7) == "/");
    CHECK(detail::home_in_passwd(passwd, 1) == "/");
    CHECK(detail::home_in_passwd(passwd, 5) == "/");
    CHECK(detail::home_in_passwd("", 0) == "/");
}

TEST_CASE("passwd_entry: the name and home of the uid's first entry; user_name reads /etc/passwd", "[process]") {
    const std::string passwd = "root:x:0:0:root:/root:/bin/sh\n"
                               "bad:x:1x:0::/bad:/bin/sh\n"
                               "user:x:1000:1000:A User,,,:/home/user:/bin/sh\n"
                               "dup:x:1000:1000::/home/dup:/bin/sh\n";
    std::optional<util::PasswdEntry> e = util::passwd_entry(passwd, 1000);
    REQUIRE(e);
    CHECK(e->name == "user");
    CHECK(e->home == "/home/user");
    CHECK_FALSE(util::passwd_entry(passwd, 1));
    CHECK(util::user_name(0) == "root");
    CHECK(util::user_name(4000000000u).empty());
    CHECK(util::read_passwd_file("/nonexistent/passwd").empty());
    CHECK(util::read_passwd_file("/proc").empty());
}
