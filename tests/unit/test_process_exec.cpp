// SPDX-License-Identifier: GPL-2.0-or-later
// exec_process in forked children: what the exec'd program sees (user,
// groups, capabilities, no_new_privs, umask, rlimits, cwd, env, fds).
#include "src/libcrunpp/linux/process/process.hpp"
#include "src/libcrunpp/linux/process/process_internal.hpp"
#include "test_process_child.hpp"

#include "crunpp/error.hpp"

#include <catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <sstream>

using namespace crunpp;
using namespace crunpp::linux;
using process_test::run_in_child;
using process_test::status_field;

namespace {

spec::Process shell(const std::string &script) {
    spec::Process p;
    p.args = {"/bin/sh", "-c", script};
    p.env = {"PATH=/usr/bin:/bin"};
    p.cwd = "/";
    return p;
}

void exec(const spec::Process &p, int preserve_fds = 0) {
    exec_process(p, resolve_executable(p), ExecOptions{preserve_fds});
}

std::optional<std::vector<std::string>> caps(std::initializer_list<const char *> names) {
    return std::vector<std::string>(names.begin(), names.end());
}

} // namespace

TEST_CASE("exec as root keeps only the listed capabilities, with no_new_privs", "[process][exec]") {
    spec::Process p = shell("cat /proc/self/status");
    p.capabilities.emplace();
    p.capabilities->bounding = caps({"CAP_CHOWN", "CAP_KILL"});
    p.capabilities->effective = caps({"CAP_CHOWN", "CAP_KILL"});
    p.capabilities->permitted = caps({"CAP_CHOWN", "CAP_KILL"});
    p.noNewPrivileges = true;
    auto r = run_in_child([&] { exec(p); });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.output, "CapBnd") == "0000000000000021");
    CHECK(status_field(r.output, "CapPrm") == "0000000000000021");
    CHECK(status_field(r.output, "CapEff") == "0000000000000021");
    CHECK(status_field(r.output, "CapInh") == "0000000000000000");
    CHECK(status_field(r.output, "CapAmb") == "0000000000000000");
    CHECK(status_field(r.output, "NoNewPrivs") == "1");
    CHECK(status_field(r.output, "Uid") == "0\t0\t0\t0");
}

TEST_CASE("exec without a capabilities object leaves root with none", "[process][exec]") {
    auto r = run_in_child([&] { exec(shell("cat /proc/self/status")); });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.output, "CapBnd") == "0000000000000000");
    CHECK(status_field(r.output, "CapEff") == "0000000000000000");
    CHECK(status_field(r.output, "NoNewPrivs") == "0");
}

TEST_CASE("exec as another user: uid, gid, groups, ambient capabilities, umask, rlimits", "[process][exec]") {
    spec::Process p = shell("cat /proc/self/status; umask; ulimit -Sn; ulimit -Hn");
    p.user.uid = 1000;
    p.user.gid = 1001;
    p.user.additionalGids = {2000, 3000};
    p.user.umask = 027;
    p.capabilities.emplace();
    for (auto *set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted,
                      &p.capabilities->inheritable, &p.capabilities->ambient})
        *set = caps({"CAP_NET_BIND_SERVICE"});
    spec::Config cfg;
    cfg.process = p;
    cfg.process->rlimits = {{"RLIMIT_NOFILE", RLIMIT_NOFILE, 512, 1024}};
    auto r = run_in_child([&] {
        apply_process_resources(cfg);
        exec(p);
    });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.output, "Uid") == "1000\t1000\t1000\t1000");
    CHECK(status_field(r.output, "Gid") == "1001\t1001\t1001\t1001");
    CHECK(status_field(r.output, "Groups") == "2000 3000 ");
    CHECK(status_field(r.output, "CapAmb") == "0000000000000400");
    CHECK(status_field(r.output, "CapPrm") == "0000000000000400");
    CHECK(status_field(r.output, "CapEff") == "0000000000000400");
    CHECK(status_field(r.output, "CapInh") == "0000000000000400");
    CHECK(status_field(r.output, "CapBnd") == "0000000000000400");
    CHECK(r.output.find("\n0027\n512\n1024\n") != std::string::npos);
}

TEST_CASE("exec as another user without capabilities: none survive the uid change", "[process][exec]") {
    spec::Process p = shell("cat /proc/self/status");
    p.user.uid = 1000;
    p.user.gid = 1000;
    p.capabilities.emplace();
    p.capabilities->bounding = caps({"CAP_CHOWN"});
    auto r = run_in_child([&] { exec(p); });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.output, "CapBnd") == "0000000000000001");
    CHECK(status_field(r.output, "CapPrm") == "0000000000000000");
    CHECK(status_field(r.output, "CapEff") == "0000000000000000");
    CHECK(status_field(r.output, "Groups").empty());
}

TEST_CASE("exec: an unknown capability is an error naming it", "[process][exec]") {
    spec::Process p = shell("true");
    p.capabilities.emplace();
    p.capabilities->permitted = caps({"CAP_CHOWN", "CAP_FOO"});
    auto r = run_in_child([&] { exec(p); });
    CHECK(r.exit_code == 127);
    CHECK(r.output == ".process.capabilities.permitted[1]: unknown capability \"CAP_FOO\"\n");
}

TEST_CASE("exec: the default umask is 0022", "[process][exec]") {
    auto r = run_in_child([&] { exec(shell("umask")); });
    CHECK(r.exit_code == 0);
    CHECK(r.output == "0022\n");
}

TEST_CASE("exec: env is passed as is (HOME added when missing), the program found in its PATH, cwd applied",
          "[process][exec]") {
    spec::Process p;
    p.args = {"env"};
    p.env = {"PATH=/usr/bin:/bin", "FOO=bar baz", "EMPTY=", "DUP=1", "DUP=2", "HOME=/h"};
    p.cwd = "/tmp";
    auto r = run_in_child([&] { exec(p); });
    CHECK(r.exit_code == 0);
    CHECK(r.output == "PATH=/usr/bin:/bin\nFOO=bar baz\nEMPTY=\nDUP=1\nDUP=2\nHOME=/h\n");
    // Without HOME: the uid's home in the current root's /etc/passwd.
    p.env.pop_back();
    r = run_in_child([&] { exec(p); });
    CHECK(r.output == "PATH=/usr/bin:/bin\nFOO=bar baz\nEMPTY=\nDUP=1\nDUP=2\nHOME=" + detail::default_home(0) + "\n");
    r = run_in_child([&] { exec(shell("pwd")); });
    CHECK(r.output == "/\n");
    spec::Process q = shell("pwd");
    q.cwd = "/tmp";
    r = run_in_child([&] { exec(q); });
    CHECK(r.output == "/tmp\n");
}

TEST_CASE("exec: a missing cwd is a clear error", "[process][exec]") {
    spec::Process p = shell("true");
    p.cwd = "/nonexistent-h6-cwd";
    auto r = run_in_child([&] { exec(p); });
    CHECK(r.exit_code == 127);
    CHECK(r.output == "chdir to cwd (\"/nonexistent-h6-cwd\") set in config.json failed: No such file or directory\n");
}

TEST_CASE("exec: the cwd is checked as the container's user", "[process][exec]") {
    char tmpl[] = "/tmp/crunpp-h6-cwd.XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    REQUIRE(chmod(tmpl, 0700) == 0);
    spec::Process p = shell("pwd");
    p.cwd = tmpl;
    p.user.uid = 1000;
    p.user.gid = 1000;
    auto r = run_in_child([&] { exec(p); });
    rmdir(tmpl);
    CHECK(r.exit_code == 127);
    CHECK(r.output == "chdir to cwd (\"" + std::string(tmpl) + "\") set in config.json failed: Permission denied\n");
}

TEST_CASE("exec: execve failure throws the exec error", "[process][exec]") {
    spec::Process p = shell("true");
    auto r = run_in_child([&] { exec_process(p, "/no/such/binary", {}); });
    CHECK(r.exit_code == 127);
    // runc's wording, which engines map to exit code 127.
    CHECK(r.output == "exec /no/such/binary: no such file or directory\n");
}

namespace {

// The fds the exec'd `ls -l /proc/self/fd` lists, minus the directory it
// reads (which ls itself opened).
std::set<int> listed_fds(const std::string &ls_output) {
    std::set<int> fds;
    std::istringstream in(ls_output);
    std::string line;
    while (std::getline(in, line)) {
        size_t arrow = line.find(" -> ");
        if (arrow == std::string::npos)
            continue;
        std::string target = line.substr(arrow + 4);
        if (target.rfind("/proc/", 0) == 0 && target.size() > 3 && target.substr(target.size() - 3) == "/fd")
            continue;
        size_t name_end = arrow;
        size_t name_start = line.rfind(' ', name_end - 1) + 1;
        fds.insert(std::stoi(line.substr(name_start, name_end - name_start)));
    }
    return fds;
}

void open_extra_fds() {
    // Inheritable fds, as crunpp's own could be if someone forgot CLOEXEC.
    for (int i = 0; i < 4; ++i)
        if (open("/dev/null", O_RDONLY) < 0)
            throw Error("open /dev/null", errno);
    if (dup2(0, 40) < 0 || dup2(0, 1000) < 0)
        throw Error("dup2", errno);
}

} // namespace

TEST_CASE("exec: no fd beyond 0, 1, 2 reaches the program (CVE-2024-21626)", "[process][exec]") {
    auto r = run_in_child([&] {
        open_extra_fds();
        exec(shell("ls -l /proc/self/fd"));
    });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(listed_fds(r.output) == std::set<int>{0, 1, 2});
}

TEST_CASE("exec: preserve_fds keeps exactly fds 3 .. 3+N-1", "[process][exec]") {
    auto r = run_in_child([&] {
        int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int b = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        if (dup3(a, 3, 0) < 0 || dup3(b, 4, 0) < 0)
            throw Error("dup3", errno);
        open_extra_fds();
        exec(shell("ls -l /proc/self/fd"), 2);
    });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(listed_fds(r.output) == std::set<int>{0, 1, 2, 3, 4});
    CHECK(r.output.find(" 3 -> /dev/null") != std::string::npos);
    CHECK(r.output.find(" 4 -> /dev/zero") != std::string::npos);
}

TEST_CASE("exec: additionalGids fail clearly where setgroups is denied", "[process][exec]") {
    // A user namespace with only the caller's ids mapped and setgroups denied,
    // as an unprivileged user gets without newgidmap.
    auto r = run_in_child([&] {
        process_test::enter_single_mapping_userns();
        spec::Process p = shell("cat /proc/self/status");
        // With no additionalGids the exec goes on.
        pid_t child = fork();
        if (child == 0) {
            try {
                exec(p);
            } catch (const std::exception &e) {
                process_test::out(std::string("unexpected: ") + e.what() + "\n");
            }
            _exit(1);
        }
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw Error("exec without additionalGids failed");
        p.user.additionalGids = {0};
        exec(p);
    });
    INFO(r.output);
    CHECK(r.exit_code == 127);
    CHECK(status_field(r.output, "Uid") == "0\t0\t0\t0");
    CHECK(r.output.find(".process.user.additionalGids: supplementary groups cannot be set: setgroups is denied in "
                        "this user namespace (rootless with a single id mapping)\n") != std::string::npos);
}

TEST_CASE("exec: an unmapped uid says so", "[process][exec]") {
    auto r = run_in_child([&] {
        process_test::enter_single_mapping_userns();
        spec::Process p = shell("true");
        p.user.uid = 5; // only 0 is mapped
        exec(p);
    });
    CHECK(r.exit_code == 127);
    CHECK(r.output == "setresuid 5 (is the uid mapped in the user namespace?): Invalid argument\n");
}

TEST_CASE("exec: LSM labels are refused when the LSM is not active", "[process][exec]") {
    std::string lsms;
    {
        int fd = open("/sys/kernel/security/lsm", O_RDONLY | O_CLOEXEC);
        char buf[256];
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
        if (n > 0)
            lsms.assign(buf, static_cast<size_t>(n));
        if (fd >= 0)
            close(fd);
    }
    spec::Process p = shell("true");
    if (lsms.find("apparmor") == std::string::npos) {
        p.apparmorProfile = "h6-test-profile";
        auto r = run_in_child([&] { exec(p); });
        CHECK(r.exit_code == 127);
        CHECK(r.output ==
              "apparmor profile \"h6-test-profile\" requested but AppArmor is not enabled on this host\n");
        p.apparmorProfile.reset();
    }
    if (lsms.find("selinux") == std::string::npos) {
        p.selinuxLabel = "system_u:system_r:container_t:s0";
        auto r = run_in_child([&] { exec(p); });
        CHECK(r.exit_code == 127);
        CHECK(r.output == "selinux label \"system_u:system_r:container_t:s0\" requested but SELinux is not enabled "
                          "on this host\n");
    }
    // Empty strings mean "no label".
    p.selinuxLabel = "";
    p.apparmorProfile = "";
    auto r = run_in_child([&] { exec(p); });
    CHECK(r.exit_code == 0);
}

TEST_CASE("rootless: exec as root of a user namespace created by an unprivileged user", "[process][rootless]") {
    spec::Process p = shell("cat /proc/self/status");
    p.capabilities.emplace();
    for (auto *set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
        *set = caps({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
    p.noNewPrivileges = true;
    auto r = run_in_child([&] {
        process_test::become_nobody();
        process_test::enter_single_mapping_userns();
        exec(p);
    });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.output, "Uid") == "0\t0\t0\t0");
    CHECK(status_field(r.output, "CapBnd") == "0000000020000420");
    CHECK(status_field(r.output, "CapEff") == "0000000020000420");
    CHECK(status_field(r.output, "NoNewPrivs") == "1");
}

TEST_CASE("prepare_exec then finish_exec: the user and cwd are set before the release", "[process][exec]") {
    spec::Process p = shell("grep NoNewPrivs /proc/self/status");
    p.user.uid = 1000;
    p.user.gid = 1000;
    p.cwd = "/tmp";
    p.noNewPrivileges = true;
    auto r = run_in_child([&] {
        prepare_exec(p);
        char cwd[64] = {};
        if (!getcwd(cwd, sizeof cwd))
            throw Error("getcwd", errno);
        process_test::out(std::to_string(geteuid()) + " " + std::to_string(getegid()) + " " + cwd + " " +
                          std::to_string(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)) + "\n");
        finish_exec(p, resolve_executable(p), {});
    });
    CHECK(r.exit_code == 0);
    // no_new_privs is set before the release too: after it only the filter
    // and execve are left.
    CHECK(r.output == "1000 1000 /tmp 1\nNoNewPrivs:\t1\n");
    p.cwd = "/nonexistent-h6";
    r = run_in_child([&] { prepare_exec(p); });
    CHECK(r.output == "chdir to cwd (\"/nonexistent-h6\") set in config.json failed: No such file or directory\n");
}

TEST_CASE("exec without CAP_SETPCAP: a bounding set already reduced is fine, a needed drop is an error",
          "[process][exec]") {
    // A process that has only CAP_CHOWN in its bounding, permitted and effective sets.
    auto reduce_to_chown = [] {
        if (setgroups(0, nullptr) < 0)
            throw Error("setgroups", errno);
        for (int cap = 0; cap <= last_capability(); ++cap)
            if (cap != CAP_CHOWN && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                throw Error("PR_CAPBSET_DROP", errno);
        cap_t c = cap_from_text("cap_chown=ep");
        if (!c || cap_set_proc(c) < 0)
            throw Error("cap_set_proc", errno);
        cap_free(c);
    };
    spec::Process p = shell("cat /proc/self/status");
    p.capabilities.emplace();
    for (auto *set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
        *set = caps({"CAP_CHOWN"});
    auto r = run_in_child([&] {
        reduce_to_chown();
        exec(p);
    });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.output, "CapBnd") == "0000000000000001");
    CHECK(status_field(r.output, "CapEff") == "0000000000000001");

    p.capabilities->bounding = caps({});
    r = run_in_child([&] {
        reduce_to_chown();
        exec(p);
    });
    CHECK(r.exit_code == 127);
    CHECK(r.output == "drop CAP_CHOWN from the bounding set: Operation not permitted\n");
}

TEST_CASE("exec: the process starts with default signal dispositions and nothing blocked", "[process][exec]") {
    spec::Process p;
    p.args = {"/bin/cat", "/proc/self/status"};
    p.cwd = "/";
    auto r = run_in_child([&] {
        // As under nohup, and a caller that blocks signals: SIG_IGN and the
        // mask survive execve unless the runtime resets them.
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, nullptr);
        exec(p);
    });
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(status_field(r.output, "SigIgn") == "0000000000000000");
    CHECK(status_field(r.output, "SigBlk") == "0000000000000000");
}
