// SPDX-License-Identifier: GPL-2.0-or-later
// apply_kernel_settings and apply_process_resources in forked children
// (with private namespaces where the host would be touched).
#include "src/libcrunpp/linux/process/process.hpp"
#include "src/libcrunpp/linux/procfs.hpp"
#include "test_process_child.hpp"

#include "crunpp/error.hpp"

#include <catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace crunpp;
using namespace crunpp::linux;
using process_test::out;
using process_test::run_in_child;

namespace {

std::string read_host_file(const std::string &path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

void unshare_or_throw(int flags) {
    if (unshare(flags) < 0)
        throw Error("unshare", errno);
}

spec::Config config_with_namespaces(std::initializer_list<spec::NamespaceType> types) {
    spec::Config cfg;
    cfg.linux.emplace();
    for (auto t : types)
        cfg.linux->namespaces.push_back({t, std::nullopt});
    return cfg;
}

} // namespace

TEST_CASE("kernel settings: hostname, domainname and namespaced sysctls are applied", "[process][kernel]") {
    using T = spec::NamespaceType;
    spec::Config cfg = config_with_namespaces({T::Uts, T::Ipc, T::Network});
    cfg.hostname = "h6-host";
    cfg.domainname = "h6.example";
    cfg.linux->sysctl = {{"kernel.shm_rmid_forced", "1"}, {"net.ipv4.ip_forward", "1"}, {"fs/mqueue/msg_max", "42"}};
    auto r = run_in_child([&] {
        unshare_or_throw(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET);
        apply_kernel_settings(cfg);
        char host[256] = {}, domain[256] = {};
        gethostname(host, sizeof host - 1);
        getdomainname(domain, sizeof domain - 1);
        out(std::string(host) + " " + domain + " " + procfs::read_file("sys/kernel/shm_rmid_forced") +
            procfs::read_file("sys/net/ipv4/ip_forward") + procfs::read_file("sys/fs/mqueue/msg_max"));
    });
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == "h6-host h6.example 1\n1\n42\n");
}

TEST_CASE("kernel settings: a bad sysctl value names the key and the file", "[process][kernel]") {
    spec::Config cfg = config_with_namespaces({spec::NamespaceType::Ipc});
    cfg.linux->sysctl = {{"kernel.shm_rmid_forced", "7"}};
    auto r = run_in_child([&] {
        unshare_or_throw(CLONE_NEWIPC);
        apply_kernel_settings(cfg);
    });
    CHECK(r.exit_code == 127);
    CHECK(r.output == "sysctl \"kernel.shm_rmid_forced\" = \"7\": write /proc/sys/kernel/shm_rmid_forced: Invalid "
                      "argument\n");
    cfg.linux->sysctl = {{"kernel.shm_no_such_key", "1"}};
    r = run_in_child([&] {
        unshare_or_throw(CLONE_NEWIPC);
        apply_kernel_settings(cfg);
    });
    CHECK(r.output == "sysctl \"kernel.shm_no_such_key\" = \"1\": open /proc/sys/kernel/shm_no_such_key: No such "
                      "file or directory\n");
}

TEST_CASE("kernel settings: sysctl writes ignore what is mounted over /proc (CVE-2025-52881)", "[process][kernel]") {
    char tmpl[] = "/tmp/crunpp-h6-decoy.XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "0\n", 2) == 2);
    close(fd);
    std::string decoy = tmpl;
    spec::Config cfg = config_with_namespaces({spec::NamespaceType::Ipc});
    cfg.linux->sysctl = {{"kernel.shm_rmid_forced", "1"}, {"kernel.msgmax", "12345"}};
    auto r = run_in_child([&] {
        unshare_or_throw(CLONE_NEWNS | CLONE_NEWIPC);
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
            throw Error("make / private", errno);
        // What a container's config (readonlyPaths) or a hostile mount does
        // to the mounted /proc: a file over one sysctl, /proc/sys read-only.
        if (mount(decoy.c_str(), "/proc/sys/kernel/shm_rmid_forced", nullptr, MS_BIND, nullptr) < 0)
            throw Error("bind decoy", errno);
        if (mount("/proc/sys", "/proc/sys", nullptr, MS_BIND | MS_REC, nullptr) < 0 ||
            mount(nullptr, "/proc/sys", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) < 0)
            throw Error("read-only /proc/sys", errno);
        apply_kernel_settings(cfg);
        out(procfs::read_file("sys/kernel/shm_rmid_forced") + procfs::read_file("sys/kernel/msgmax"));
    });
    std::string decoy_after = read_host_file(decoy);
    unlink(decoy.c_str());
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == "1\n12345\n");
    CHECK(decoy_after == "0\n");
}

TEST_CASE("procfs: a forked child gets its own handle", "[process][procfs]") {
    procfs::root();
    auto r = run_in_child([&] {
        char buf[32];
        ssize_t n = readlinkat(procfs::root(), "self", buf, sizeof buf);
        out(std::string(buf, static_cast<size_t>(n > 0 ? n : 0)) + " " + std::to_string(getpid()));
    });
    CHECK(r.exit_code == 0);
    auto space = r.output.find(' ');
    REQUIRE(space != std::string::npos);
    CHECK(r.output.substr(0, space) == r.output.substr(space + 1));
}

TEST_CASE("rlimits: raising above the hard limit without privilege is a clear error", "[process][rlimit]") {
    spec::Config cfg;
    cfg.process.emplace();
    cfg.process->rlimits = {{"RLIMIT_NOFILE", RLIMIT_NOFILE, 1048576, 1048576}};
    auto r = run_in_child([&] {
        struct rlimit low = {256, 256};
        if (setrlimit(RLIMIT_NOFILE, &low) < 0 || setresuid(1000, 1000, 1000) < 0)
            throw Error("setup", errno);
        apply_process_resources(cfg);
    });
    CHECK(r.exit_code == 127);
    CHECK(r.output == "setrlimit RLIMIT_NOFILE (soft 1048576, hard 1048576): Operation not permitted\n");
    cfg.process->rlimits = {{"RLIMIT_CORE", RLIMIT_CORE, 10, 5}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == "setrlimit RLIMIT_CORE (soft 10, hard 5): Invalid argument\n");
    // The type name is enough when the parser did not resolve the number.
    cfg.process->rlimits = {{"RLIMIT_CORE", -1, 0, RLIM64_INFINITY}, {"RLIMIT_NPROC", -1, 77, 88}};
    r = run_in_child([&] {
        apply_process_resources(cfg);
        struct rlimit core, nproc;
        getrlimit(RLIMIT_CORE, &core);
        getrlimit(RLIMIT_NPROC, &nproc);
        out(std::to_string(core.rlim_cur) + " " + (core.rlim_max == RLIM_INFINITY ? "inf" : "finite") + " " +
            std::to_string(nproc.rlim_cur) + " " + std::to_string(nproc.rlim_max));
    });
    CHECK(r.output == "0 inf 77 88");
    cfg.process->rlimits = {{"RLIMIT_BOGUS", -1, 1, 1}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == "unknown rlimit type \"RLIMIT_BOGUS\"\n");
}

TEST_CASE("scheduler: policy, nice and flags reach the process", "[process][sched]") {
    spec::Config cfg;
    cfg.process.emplace();
    cfg.process->scheduler = spec::Scheduler{"SCHED_BATCH", 7, std::nullopt, {"SCHED_FLAG_RESET_ON_FORK"}, {}, {}, {}};
    auto r = run_in_child([&] {
        apply_process_resources(cfg);
        out(std::to_string(sched_getscheduler(0)) + " " + std::to_string(getpriority(PRIO_PROCESS, 0)));
    });
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == std::to_string(SCHED_BATCH | SCHED_RESET_ON_FORK) + " 7");

    cfg.process->scheduler = spec::Scheduler{"SCHED_FIFO", std::nullopt, 200, {}, {}, {}, {}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.exit_code == 127);
    CHECK(r.output == "sched_setattr (policy SCHED_FIFO, nice 0, priority 200): Invalid argument\n");

    cfg.process->scheduler = spec::Scheduler{"SCHED_OTHER", std::nullopt, std::nullopt, {"SCHED_FLAG_X"}, {}, {}, {}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == ".process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_X\"\n");
}

TEST_CASE("ioPriority is set with ioprio_set", "[process][sched]") {
    spec::Config cfg;
    cfg.process.emplace();
    cfg.process->ioPriority = spec::IoPriority{"IOPRIO_CLASS_BE", 6};
    auto r = run_in_child([&] {
        apply_process_resources(cfg);
        out(std::to_string(syscall(SYS_ioprio_get, 1, 0)));
    });
    CHECK(r.exit_code == 0);
    CHECK(r.output == std::to_string((2 << 13) | 6));
    cfg.process->ioPriority = spec::IoPriority{"IOPRIO_CLASS_BE", 8};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == ".process.ioPriority.priority: 8 is not in 0..7\n");
}

TEST_CASE("execCPUAffinity: initial in the process, final on a pid", "[process][sched]") {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    std::string last = std::to_string(cpus - 1);
    spec::Config cfg;
    cfg.process.emplace();
    cfg.process->execCPUAffinity = spec::ExecCpuAffinity{last, std::nullopt};
    auto r = run_in_child([&] {
        apply_process_resources(cfg);
        cpu_set_t set;
        sched_getaffinity(0, sizeof set, &set);
        out(std::to_string(CPU_COUNT(&set)) + " " + std::to_string(CPU_ISSET(cpus - 1, &set)));
    });
    CHECK(r.exit_code == 0);
    CHECK(r.output == "1 1");

    cfg.process->execCPUAffinity = spec::ExecCpuAffinity{"4000", std::nullopt};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == "sched_setaffinity to CPUs \"4000\" (.process.execCPUAffinity.initial): Invalid argument\n");
    cfg.process->execCPUAffinity = spec::ExecCpuAffinity{"0-9000", std::nullopt};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == ".process.execCPUAffinity.initial: invalid list \"0-9000\": 9000 is above the maximum 8191\n");

    pid_t sleeper = fork();
    REQUIRE(sleeper >= 0);
    if (sleeper == 0) {
        pause();
        _exit(0);
    }
    apply_final_cpu_affinity(sleeper, "0");
    cpu_set_t set;
    REQUIRE(sched_getaffinity(sleeper, sizeof set, &set) == 0);
    kill(sleeper, SIGKILL);
    waitpid(sleeper, nullptr, 0);
    CHECK(CPU_COUNT(&set) == 1);
    CHECK(CPU_ISSET(0, &set));
}

TEST_CASE("personality LINUX32 is what the exec'd program sees", "[process][personality]") {
    spec::Config cfg;
    cfg.linux.emplace();
    cfg.linux->personality = spec::Personality{"LINUX32", {}};
    spec::Process p;
    p.args = {"uname", "-m"};
    p.env = {"PATH=/usr/bin:/bin"};
    auto r = run_in_child([&] {
        apply_process_resources(cfg);
        exec_process(p, resolve_executable(p), {});
    });
    CHECK(r.exit_code == 0);
    CHECK(r.output == "i686\n");
    cfg.linux->personality = spec::Personality{"LINUX", {"ADDR_NO_RANDOMIZE"}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output ==
          ".linux.personality.flags[0]: unsupported flag \"ADDR_NO_RANDOMIZE\" (the runtime spec defines no personality "
          "flags)\n");
}

TEST_CASE("oomScoreAdj is what the exec'd program sees", "[process][oom]") {
    spec::Config cfg;
    cfg.process.emplace();
    cfg.process->oomScoreAdj = 512;
    spec::Process p;
    p.args = {"/bin/cat", "/proc/self/oom_score_adj"};
    auto r = run_in_child([&] {
        apply_process_resources(cfg);
        exec_process(p, resolve_executable(p), {});
    });
    CHECK(r.exit_code == 0);
    CHECK(r.output == "512\n");
    cfg.process->oomScoreAdj = 5000;
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output.rfind("set oomScoreAdj to 5000: write /proc/", 0) == 0);
    CHECK(r.output.find("/oom_score_adj: Invalid argument\n") != std::string::npos);
}

TEST_CASE("memoryPolicy: set_mempolicy with mode, flags and nodes", "[process][numa]") {
    spec::Config cfg;
    cfg.linux.emplace();
    cfg.linux->memoryPolicy = spec::MemoryPolicy{"MPOL_BIND", "0", {"MPOL_F_STATIC_NODES"}};
    auto r = run_in_child([&] {
        apply_process_resources(cfg);
        int mode = -1;
        unsigned long mask[16] = {};
        if (syscall(SYS_get_mempolicy, &mode, mask, sizeof mask * 8, nullptr, 0) < 0)
            throw Error("get_mempolicy", errno);
        out(std::to_string(mode) + " " + std::to_string(mask[0]));
    });
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == std::to_string(2 | (1 << 15)) + " 1");

    cfg.linux->memoryPolicy = spec::MemoryPolicy{"MPOL_BIND", "1000", {}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == "set_mempolicy (mode MPOL_BIND, nodes \"1000\"): Invalid argument\n");
    cfg.linux->memoryPolicy = spec::MemoryPolicy{"MPOL_LOCAL", std::nullopt, {}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.exit_code == 0);
    cfg.linux->memoryPolicy = spec::MemoryPolicy{"MPOL_NOPE", std::nullopt, {}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == ".linux.memoryPolicy.mode: unknown mode \"MPOL_NOPE\"\n");
    cfg.linux->memoryPolicy = spec::MemoryPolicy{"MPOL_BIND", "0", {"MPOL_F_BOGUS"}};
    r = run_in_child([&] { apply_process_resources(cfg); });
    CHECK(r.output == ".linux.memoryPolicy.flags[0]: unknown flag \"MPOL_F_BOGUS\"\n");
}

TEST_CASE("rootless: kernel settings and resources as an unprivileged user in its own namespaces", "[process][rootless]") {
    using T = spec::NamespaceType;
    spec::Config cfg = config_with_namespaces({T::User, T::Uts, T::Ipc});
    cfg.hostname = "rootless-h6";
    cfg.linux->sysctl = {{"kernel.shm_rmid_forced", "1"}};
    cfg.process.emplace();
    cfg.process->rlimits = {{"RLIMIT_NOFILE", RLIMIT_NOFILE, 100, 200}};
    cfg.process->oomScoreAdj = 900;
    auto r = run_in_child([&] {
        process_test::become_nobody();
        process_test::enter_single_mapping_userns();
        unshare_or_throw(CLONE_NEWUTS | CLONE_NEWIPC);
        // No pid namespace of its own: no private procfs, the mounted /proc is used.
        apply_kernel_settings(cfg);
        apply_process_resources(cfg);
        char host[64] = {};
        gethostname(host, sizeof host - 1);
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        out(std::string(host) + " " + read_host_file("/proc/sys/kernel/shm_rmid_forced") +
            read_host_file("/proc/self/oom_score_adj") + std::to_string(rl.rlim_cur) + " " +
            std::to_string(rl.rlim_max));
    });
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == "rootless-h6 1\n900\n100 200");
}

TEST_CASE("procfs: a fake /proc is refused when no private procfs can be made (CVE-2019-16884)", "[process][procfs][rootless]") {
    spec::Config cfg = config_with_namespaces({spec::NamespaceType::Ipc});
    cfg.linux->sysctl = {{"kernel.shm_rmid_forced", "1"}};
    auto r = run_in_child([&] {
        process_test::become_nobody();
        process_test::enter_single_mapping_userns();
        unshare_or_throw(CLONE_NEWNS | CLONE_NEWIPC);
        if (mount("fake", "/proc", "tmpfs", 0, nullptr) < 0)
            throw Error("mount tmpfs on /proc", errno);
        apply_kernel_settings(cfg);
    });
    CHECK(r.exit_code == 127);
    CHECK(r.output == "sysctl \"kernel.shm_rmid_forced\" = \"1\": /proc is not the root of a procfs mount: refusing "
                      "to use it\n");
}

TEST_CASE("rootless with its own pid namespace: sysctl through a private procfs despite a read-only /proc/sys",
          "[process][procfs][rootless]") {
    spec::Config cfg = config_with_namespaces({spec::NamespaceType::User, spec::NamespaceType::Pid,
                                               spec::NamespaceType::Mount, spec::NamespaceType::Ipc});
    cfg.linux->sysctl = {{"kernel.shm_rmid_forced", "1"}};
    auto r = run_in_child([&] {
        process_test::become_nobody();
        process_test::enter_single_mapping_userns();
        unshare_or_throw(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC);
        pid_t init = fork(); // the container's init: pid 1 of the new pid namespace
        if (init < 0)
            throw Error("fork", errno);
        if (init == 0) {
            try {
                if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
                    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0 ||
                    mount("/proc/sys", "/proc/sys", nullptr, MS_BIND | MS_REC, nullptr) < 0 ||
                    mount(nullptr, "/proc/sys", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
                                                              MS_NOEXEC,
                          nullptr) < 0 ||
                    // masked paths: a file covered by /dev/null, a directory by a read-only tmpfs
                    mount("/dev/null", "/proc/timer_list", nullptr, MS_BIND, nullptr) < 0 ||
                    mount("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, nullptr) < 0)
                    throw Error("set up /proc as a container has it", errno);
                apply_kernel_settings(cfg);
                out(std::to_string(getpid()) + " " + procfs::read_file("sys/kernel/shm_rmid_forced"));
                _exit(0);
            } catch (const std::exception &e) {
                out(std::string(e.what()) + "\n");
                _exit(127);
            }
        }
        int status = 0;
        waitpid(init, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw Error("container init failed");
    });
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output == "1 1\n");
}
