// SPDX-License-Identifier: GPL-2.0-or-later
// The lifecycle's building blocks: signal names, exit statuses, the sync
// protocol, pid files, the namespace plan, clone3 and pidfd handles.
#include <catch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>

#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/state.hpp"
#include "src/libcrunpp/container/clone3.hpp"
#include "src/libcrunpp/container/pid_file.hpp"
#include "src/libcrunpp/container/pidfd.hpp"
#include "src/libcrunpp/container/plan.hpp"
#include "src/libcrunpp/container/sync.hpp"
#include "test_util.hpp"

using namespace crunpp;
using namespace crunpp::container;
namespace fs = std::filesystem;
using test_util::error_of;
using test_util::TempDir;

namespace {

std::string slurp(const fs::path &p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

spec::Config config_with(std::vector<spec::Namespace> namespaces) {
    spec::Config c;
    c.linux.emplace();
    c.linux->namespaces = std::move(namespaces);
    return c;
}

spec::Namespace ns(spec::NamespaceType t, std::optional<std::string> path = std::nullopt) {
    spec::Namespace n;
    n.type = t;
    n.path = std::move(path);
    return n;
}

} // namespace

TEST_CASE("parse_signal: names, SIG prefix, case, numbers, real-time signals") {
    CHECK(parse_signal("TERM") == SIGTERM);
    CHECK(parse_signal("SIGTERM") == SIGTERM);
    CHECK(parse_signal("sigkill") == SIGKILL);
    CHECK(parse_signal("kill") == SIGKILL);
    CHECK(parse_signal("HUP") == SIGHUP);
    CHECK(parse_signal("USR1") == SIGUSR1);
    CHECK(parse_signal("SIGWINCH") == SIGWINCH);
    CHECK(parse_signal("9") == 9);
    CHECK(parse_signal("0") == 0);
    CHECK(parse_signal("15") == 15);
    CHECK(parse_signal("RTMIN") == SIGRTMIN);
    CHECK(parse_signal("SIGRTMIN+2") == SIGRTMIN + 2);
    CHECK(parse_signal("RTMAX") == SIGRTMAX);
    CHECK(parse_signal("RTMAX-1") == SIGRTMAX - 1);
    CHECK(parse_signal(std::to_string(SIGRTMAX)) == SIGRTMAX);
}

TEST_CASE("parse_signal: anything else is an error naming the input") {
    for (const char *bad : {"", "FOO", "SIG", "-1", "9x", "RTMIN-1", "RTMAX+1", "RTMIN+99", "RTMIN+", "1e3"})
        CHECK(error_of([&] { parse_signal(bad); }) == std::string("invalid signal \"") + bad + "\"");
    CHECK(error_of([] { parse_signal(std::to_string(SIGRTMAX + 1)); }) ==
          "invalid signal \"" + std::to_string(SIGRTMAX + 1) + "\"");
}

TEST_CASE("exit_status: the exit code, or 128+N for signal N") {
    CHECK(exit_status(CLD_EXITED, 0) == 0);
    CHECK(exit_status(CLD_EXITED, 42) == 42);
    CHECK(exit_status(CLD_KILLED, SIGKILL) == 137);
    CHECK(exit_status(CLD_DUMPED, SIGSEGV) == 139);
}

TEST_CASE("sync protocol: messages keep their type, value and text") {
    SyncSocket a, b;
    SyncSocket::make_pair(a, b);
    a.send(SyncType::Go);
    a.send(SyncType::InitPid, 1234);
    a.send(SyncType::Failed, ENOENT, "exec \"foo\"");
    auto m = b.receive();
    REQUIRE(m);
    CHECK(m->type == SyncType::Go);
    CHECK(m->value == 0);
    CHECK(m->text.empty());
    CHECK(b.expect(SyncType::InitPid, "wait").value == 1234);
    // A Failed message is the peer's Error, with the same text.
    CHECK(error_of([&] { b.expect(SyncType::Ready, "wait for ready"); }) ==
          Error("exec \"foo\"", ENOENT).what());
    a.send(SyncType::Start);
    CHECK(error_of([&] { b.expect(SyncType::Ready, "wait for ready"); }) ==
          "wait for ready: unexpected sync message " + std::to_string(static_cast<int>(SyncType::Start)));
    a.close();
    CHECK_FALSE(b.receive());
    CHECK(error_of([&] { b.expect(SyncType::Ready, "wait for ready"); }) == "wait for ready: the other side exited");
    CHECK_FALSE(b.try_send(SyncType::Go));
    CHECK_THROWS_AS(b.send(SyncType::Go), Error);
}

TEST_CASE("sync protocol: a long error text is cut, not lost") {
    SyncSocket a, b;
    SyncSocket::make_pair(a, b);
    a.send(SyncType::Failed, 0, std::string(10000, 'x'));
    auto m = b.receive();
    REQUIRE(m);
    CHECK(m->type == SyncType::Failed);
    CHECK(m->text == std::string(4000, 'x'));
}

TEST_CASE("sync protocol: file descriptors travel with a message, close-on-exec") {
    SyncSocket a, b;
    SyncSocket::make_pair(a, b);
    int p[2];
    REQUIRE(pipe(p) == 0);
    UniqueFd r(p[0]), w(p[1]);
    a.send_fds(SyncType::Mounts, {r.get(), w.get()}, "ab");
    auto m = b.receive();
    REQUIRE(m);
    CHECK(m->type == SyncType::Mounts);
    CHECK(m->text == "ab");
    REQUIRE(m->fds.size() == 2);
    CHECK((fcntl(m->fds[0].get(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(write(m->fds[1].get(), "x", 1) == 1);
    char c = 0;
    CHECK(read(r.get(), &c, 1) == 1);
    CHECK(c == 'x');
    std::vector<int> too_many(kMaxSyncFds + 1, r.get());
    CHECK_THROWS_AS(a.send_fds(SyncType::Mounts, too_many, ""), Error);
}

TEST_CASE("write_pid_file: the pid alone, atomically replaced, no temporary left") {
    TempDir t;
    fs::path p = fs::path(t.path) / "pid";
    write_pid_file(p, 4242);
    CHECK(slurp(p) == "4242");
    write_pid_file(p, 7);
    CHECK(slurp(p) == "7");
    int entries = 0;
    for (const auto &e : fs::directory_iterator(t.path)) {
        (void)e;
        entries++;
    }
    CHECK(entries == 1);
    std::string missing = (fs::path(t.path) / "nodir" / "pid").string();
    CHECK(error_of([&] { write_pid_file(missing, 1); }) ==
          "write pid file \"" + missing + "\": No such file or directory");
}

TEST_CASE("plan_namespaces: new namespaces are created by the one clone") {
    using T = spec::NamespaceType;
    auto plan = plan_namespaces(config_with({ns(T::Pid), ns(T::Network), ns(T::Ipc), ns(T::Uts), ns(T::Mount)}),
                                false);
    CHECK(plan.clone_flags == static_cast<uint64_t>(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS));
    CHECK(plan.unshare_flags == 0);
    CHECK(plan.joins.empty());
    CHECK_FALSE(plan.fork_in_child);
    CHECK_FALSE(plan.user);
    CHECK(plan.network);
    CHECK(plan.new_pid);
}

TEST_CASE("plan_namespaces: the time namespace is entered by the init, not cloned") {
    using T = spec::NamespaceType;
    auto plan = plan_namespaces(config_with({ns(T::Mount), ns(T::Time)}), false);
    CHECK(plan.clone_flags == static_cast<uint64_t>(CLONE_NEWNS));
    CHECK(plan.new_time);
}

TEST_CASE("plan_namespaces: without a mount namespace, what needs one is refused") {
    using T = spec::NamespaceType;
    CHECK(!plan_namespaces(config_with({ns(T::Pid)}), false).mount_namespace);
    CHECK(!plan_namespaces(spec::Config{}, false).mount_namespace);
    CHECK(plan_namespaces(config_with({ns(T::Mount)}), false).mount_namespace);
    auto c = config_with({ns(T::Pid)});
    c.mounts.push_back(spec::Mount{});
    CHECK(error_of([&] { plan_namespaces(c, false); }).rfind("config.json: .mounts: mounting needs a mount namespace", 0) ==
          0);
    CHECK(error_of([] { plan_namespaces(config_with({ns(T::Pid)}), true); })
              .rfind("config.json: .linux.namespaces: a new pid namespace without a mount namespace cannot work "
                     "rootless",
                     0) == 0);
}

TEST_CASE("plan_namespaces: a new user namespace without mappings maps the process's ids 1:1 (crun)") {
    using T = spec::NamespaceType;
    auto c = config_with({ns(T::Mount), ns(T::User)});
    c.process.emplace();
    c.process->user.uid = 1000;
    c.process->user.gid = 100;
    auto plan = plan_namespaces(c, false);
    REQUIRE(plan.uid_mappings.size() == 1);
    CHECK((plan.uid_mappings[0].containerID == 0 && plan.uid_mappings[0].hostID == 0 &&
           plan.uid_mappings[0].size == 1001));
    REQUIRE(plan.gid_mappings.size() == 1);
    CHECK(plan.gid_mappings[0].size == 101);
}

TEST_CASE("plan_namespaces: a new user namespace needs mappings, except rootless") {
    using T = spec::NamespaceType;
    // Without a process (never launched) nothing says which ids to map.
    CHECK(error_of([] { plan_namespaces(config_with({ns(T::Mount), ns(T::User)}), false); }) ==
          "config.json: .linux.uidMappings/.gidMappings: a new user namespace needs both mappings");
    auto c = config_with({ns(T::Mount), ns(T::User)});
    c.linux->uidMappings = {{0, 100000, 65536}};
    c.linux->gidMappings = {{0, 100000, 65536}};
    auto plan = plan_namespaces(c, false);
    CHECK(plan.new_user);
    CHECK((plan.clone_flags & CLONE_NEWUSER) != 0);
    REQUIRE(plan.uid_mappings.size() == 1);
    CHECK(plan.uid_mappings[0].hostID == 100000);
}

TEST_CASE("plan_namespaces: rootless without a user namespace gets one mapping the caller") {
    using T = spec::NamespaceType;
    auto plan = plan_namespaces(config_with({ns(T::Mount), ns(T::Pid)}), true);
    CHECK(plan.new_user);
    CHECK(plan.user);
    CHECK((plan.clone_flags & CLONE_NEWUSER) != 0);
    REQUIRE_FALSE(plan.uid_mappings.empty());
    REQUIRE_FALSE(plan.gid_mappings.empty());
    CHECK(plan.uid_mappings[0].containerID == 0);
    CHECK(plan.uid_mappings[0].hostID == getuid());
    CHECK(plan.gid_mappings[0].hostID == getgid());
}

TEST_CASE("plan_namespaces: joining by path unshares the rest in the init; a pid namespace needs a fork") {
    using T = spec::NamespaceType;
    auto plan = plan_namespaces(config_with({ns(T::Mount), ns(T::Pid), ns(T::Uts, "/proc/self/ns/uts")}), false);
    CHECK(plan.clone_flags == 0);
    CHECK(plan.unshare_flags == static_cast<uint64_t>(CLONE_NEWNS | CLONE_NEWPID));
    REQUIRE(plan.joins.size() == 1);
    CHECK(plan.joins[0].first == T::Uts);
    CHECK(plan.fork_in_child);

    auto no_pid = plan_namespaces(config_with({ns(T::Mount), ns(T::Uts, "/proc/self/ns/uts")}), false);
    CHECK_FALSE(no_pid.fork_in_child);
    auto joined_pid = plan_namespaces(config_with({ns(T::Mount), ns(T::Pid, "/proc/self/ns/pid")}), false);
    CHECK(joined_pid.fork_in_child);
    CHECK_FALSE(joined_pid.new_pid);
}

TEST_CASE("plan_namespaces: a path of the wrong namespace type fails in the parent") {
    using T = spec::NamespaceType;
    std::string e = error_of([] { plan_namespaces(config_with({ns(T::Mount), ns(T::Network, "/proc/self/ns/uts")}), false); });
    CHECK(e.find(".linux.namespaces[1].path") != std::string::npos);
}

TEST_CASE("clone3_fork: a child with a pidfd, reaped with its status") {
    int pidfd = -1;
    pid_t pid = clone3_fork(0, &pidfd);
    if (pid == 0)
        _exit(7);
    REQUIRE(pid > 0);
    UniqueFd fd(pidfd);
    CHECK(wait_exit(fd.get(), 10000));
    CHECK(reap(fd.get()) == 7);
}

TEST_CASE("clone3_fork: a new pid namespace makes the child pid 1") {
    if (geteuid() != 0) {
        WARN("not root: CLONE_NEWPID not tested");
        return;
    }
    int pidfd = -1;
    pid_t pid = clone3_fork(CLONE_NEWPID, &pidfd);
    if (pid == 0)
        _exit(getpid() == 1 ? 0 : 1);
    UniqueFd fd(pidfd);
    CHECK(reap(fd.get()) == 0);
}

TEST_CASE("open_process: only the process started at the recorded time") {
    uint64_t start = state::process_start_time(getpid());
    REQUIRE(start != 0);
    CHECK(open_process(getpid(), start));
    CHECK_FALSE(open_process(getpid(), start + 1));
    CHECK_FALSE(open_process(0, start));

    int pidfd = -1;
    pid_t pid = clone3_fork(0, &pidfd);
    if (pid == 0)
        _exit(0);
    UniqueFd fd(pidfd);
    uint64_t child_start = state::process_start_time(pid);
    reap(fd.get());
    // Reaped: the pid names nothing (or someone else) now.
    CHECK_FALSE(open_process(pid, child_start));
    CHECK_FALSE(send_signal(fd.get(), 0));
}

TEST_CASE("kill_and_reap: a blocked child is gone afterwards") {
    int pidfd = -1;
    pid_t pid = clone3_fork(0, &pidfd);
    if (pid == 0) {
        pause();
        _exit(0);
    }
    UniqueFd fd(pidfd);
    kill_and_reap(fd.get());
    CHECK(state::process_start_time(pid) == 0);
}

// containerd's runc shim reads these answers by their wording (go-runc):
// "container not running" is "process already finished", and its task
// delete sends `kill --all KILL` to every exited container.
TEST_CASE("kill of a container whose init has exited: 'container not running'; --all succeeds") {
    TempDir t;
    Context ctx;
    ctx.state_root = t.path + "/state";
    int pidfd = -1;
    pid_t pid = clone3_fork(0, &pidfd);
    if (pid == 0)
        _exit(0);
    UniqueFd fd(pidfd);
    uint64_t start = state::process_start_time(pid);
    REQUIRE(start > 0);
    {
        state::Store store(ctx.state_root);
        state::Container c = store.create("gone");
        c.state().status = state::Status::Running;
        c.state().pid = pid;
        c.state().pid_start_time = start;
        c.save();
    }
    reap(fd.get());
    for (bool all : {false, true}) {
        KillOptions o;
        o.signal = SIGKILL;
        o.all = all;
        if (all)
            CHECK_NOTHROW(container::kill(ctx, "gone", o));
        else
            CHECK(error_of([&] { container::kill(ctx, "gone", o); }) == "kill container gone: container not running");
    }
    KillOptions o;
    o.all = true;
    CHECK(error_of([&] { container::kill(ctx, "nosuch", o); }) == "container \"nosuch\" does not exist");
}
