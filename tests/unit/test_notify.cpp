// SPDX-License-Identifier: GPL-2.0-or-later
// The sd_notify proxy without a container: the host NOTIFY_SOCKET's checks,
// the translation of the container's datagrams, and the proxy socket in a
// state directory forwarding to a listener of the test's own.
#include <catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/state.hpp"
#include "src/libcrunpp/container/notify_proxy.hpp"
#include "src/libcrunpp/container/pidfd.hpp"
#include "test_util.hpp"

using namespace crunpp;
using container::NotifyProxy;
using container::translate_notify;
using test_util::error_of;

namespace {

// NOTIFY_SOCKET set (or unset with nullptr) for the lifetime of the object.
struct NotifyEnv {
    explicit NotifyEnv(const char *value) {
        if (value)
            setenv("NOTIFY_SOCKET", value, 1);
        else
            unsetenv("NOTIFY_SOCKET");
    }
    ~NotifyEnv() { unsetenv("NOTIFY_SOCKET"); }
};

socklen_t address(const std::string &name, sockaddr_un &addr) {
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') {
        addr.sun_path[0] = '\0';
        return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    }
    return sizeof addr;
}

// A datagram socket bound at `name` (a path or "@abstract"): the "host".
UniqueFd listener(const std::string &name) {
    UniqueFd s(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s);
    sockaddr_un addr;
    socklen_t len = address(name, addr);
    REQUIRE(bind(s.get(), reinterpret_cast<sockaddr *>(&addr), len) == 0);
    return s;
}

void send_to(const std::string &path, const std::string &message) {
    UniqueFd s(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s);
    sockaddr_un addr;
    socklen_t len = address(path, addr);
    REQUIRE(sendto(s.get(), message.data(), message.size(), 0, reinterpret_cast<sockaddr *>(&addr), len) ==
            static_cast<ssize_t>(message.size()));
}

// The next datagram on `s` within 5 s; "<none>" otherwise.
std::string receive(int s, int timeout_ms = 5000) {
    pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1)
        return "<none>";
    char buf[4096];
    ssize_t n = recv(s, buf, sizeof buf, 0);
    return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
}

mode_t mode_of(const std::string &path) {
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    return st.st_mode;
}

// A fresh container (state directory in a temp dir) and a config with a
// process, for the proxy to be added to.
struct ProxyFixture {
    test_util::TempDir t;
    state::Store store{t.path};
    state::Container c;
    spec::Config cfg;
    explicit ProxyFixture(const std::string &id) : c(store.create(id)) {
        c.save(); // published: dir() is its path
        cfg.process.emplace();
    }
    // The proxy socket, as the container sees it at /run/notify/notify.sock.
    std::string proxy_socket() const { return c.dir() + "/notify/notify.sock"; }
};

} // namespace

TEST_CASE("notify: READY=1 goes out first with MAINPID", "[notify]") {
    auto f = translate_notify("READY=1", 4242);
    CHECK(f.ready);
    CHECK(f.message == "READY=1\nMAINPID=4242\n");
    f = translate_notify("STATUS=up\nREADY=1\n", 7);
    CHECK(f.ready);
    CHECK(f.message == "READY=1\nMAINPID=7\nSTATUS=up\n");
}

TEST_CASE("notify: the container's MAINPID and BARRIER lines are dropped", "[notify]") {
    auto f = translate_notify("MAINPID=1\nREADY=1\nMAINPID=33", 99);
    CHECK(f.message == "READY=1\nMAINPID=99\n");
    f = translate_notify("MAINPID=1", 99);
    CHECK_FALSE(f.ready);
    CHECK(f.message.empty());
    f = translate_notify("BARRIER=1\n", 99);
    CHECK(f.message.empty());
    CHECK(translate_notify("", 99).message.empty());
    CHECK(translate_notify("\n\n", 99).message.empty());
}

TEST_CASE("notify: other messages pass as they are, line by line", "[notify]") {
    auto f = translate_notify("STATUS=starting\nEXTEND_TIMEOUT_USEC=5000000", 1);
    CHECK_FALSE(f.ready);
    CHECK(f.message == "STATUS=starting\nEXTEND_TIMEOUT_USEC=5000000\n");
    CHECK(translate_notify("WATCHDOG=1", 1).message == "WATCHDOG=1\n");
    CHECK(translate_notify("STOPPING=1\n\nSTATUS=bye\n", 1).message == "STOPPING=1\nSTATUS=bye\n");
    // Only a whole line READY=1 is readiness.
    f = translate_notify("READY=10\nXREADY=1\nSTATUS=READY=1", 1);
    CHECK_FALSE(f.ready);
    CHECK(f.message == "READY=10\nXREADY=1\nSTATUS=READY=1\n");
}

TEST_CASE("notify: the host NOTIFY_SOCKET is a path or an abstract name", "[notify]") {
    {
        NotifyEnv e(nullptr);
        CHECK_FALSE(container::host_notify_socket());
    }
    {
        NotifyEnv e("");
        CHECK_FALSE(container::host_notify_socket());
    }
    {
        NotifyEnv e("/run/systemd/notify");
        CHECK(container::host_notify_socket() == "/run/systemd/notify");
    }
    {
        NotifyEnv e("@sd-notify");
        CHECK(container::host_notify_socket() == "@sd-notify");
    }
    {
        NotifyEnv e("run/notify.sock");
        CHECK(error_of([] { container::host_notify_socket(); }) ==
              "NOTIFY_SOCKET: \"run/notify.sock\" is neither an absolute path nor an abstract socket \"@name\"");
    }
    {
        NotifyEnv e("@");
        CHECK(error_of([] { container::host_notify_socket(); }) ==
              "NOTIFY_SOCKET: \"@\" is neither an absolute path nor an abstract socket \"@name\"");
    }
    {
        std::string longer = "/" + std::string(107, 'x');
        NotifyEnv e(longer.c_str());
        CHECK(error_of([] { container::host_notify_socket(); }) ==
              "NOTIFY_SOCKET: \"" + longer + "\" is longer than a socket address (107 bytes)");
    }
}

TEST_CASE("notify: create makes the proxy socket, its bind mount and the env", "[notify]") {
    test_util::TempDir t;
    state::Store store(t.path + "/state");
    // An id long enough that the socket's path exceeds a socket address.
    const std::string id = "notify-" + std::string(120, 'n');
    state::Container c = store.create(id);
    c.save(); // published: dir() is its path
    spec::Config cfg;
    cfg.process.emplace();
    cfg.process->env = {"PATH=/bin", "NOTIFY_SOCKET=/elsewhere"};
    const std::string host = t.path + "/host.sock";
    UniqueFd h = listener(host);
    NotifyProxy p = NotifyProxy::create(c, host, cfg);

    CHECK(c.state().extra.at(container::kStateNotifySocket) == host);
    const std::string dir = t.path + "/state/" + id + "/notify";
    CHECK(mode_of(dir) == (S_IFDIR | 0755));
    CHECK(mode_of(dir + "/notify.sock") == (S_IFSOCK | 0777));
    REQUIRE(cfg.mounts.size() == 1);
    CHECK(cfg.mounts[0].destination == "/run/notify");
    CHECK(cfg.mounts[0].type == "bind");
    CHECK(cfg.mounts[0].source == dir);
    CHECK(cfg.mounts[0].options == std::vector<std::string>{"bind", "ro", "nosuid", "nodev", "noexec"});
    CHECK(cfg.process->env == std::vector<std::string>{"PATH=/bin", "NOTIFY_SOCKET=/run/notify/notify.sock"});

    // Through a short path to the same socket (the real one is too long).
    const std::string via = t.path + "/short";
    REQUIRE(symlink(dir.c_str(), via.c_str()) == 0);
    p.set_main_pid(1234);
    send_to(via + "/notify.sock", "STATUS=loading\nMAINPID=1");
    send_to(via + "/notify.sock", "READY=1\nSTATUS=ready");
    p.forward_pending();
    CHECK(p.ready_sent());
    CHECK(receive(h.get()) == "STATUS=loading\n");
    CHECK(receive(h.get()) == "READY=1\nMAINPID=1234\nSTATUS=ready\n");
    c.remove();
}

TEST_CASE("notify: start rebinds the socket; an abstract host socket is reached", "[notify]") {
    ProxyFixture f("n1");
    const std::string host = "@crunpp-unit-notify-" + std::to_string(getpid());
    UniqueFd h = listener(host);
    { NotifyProxy created = NotifyProxy::create(f.c, host, f.cfg); }
    // create's socket is dead: sending to it is refused until start binds.
    UniqueFd s(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr;
    socklen_t len = address(f.proxy_socket(), addr);
    CHECK(sendto(s.get(), "x", 1, 0, reinterpret_cast<sockaddr *>(&addr), len) < 0);

    NotifyProxy p = NotifyProxy::rebind(f.c.dir_fd(), host);
    CHECK(mode_of(f.proxy_socket()) == (S_IFSOCK | 0777));
    p.set_main_pid(77);
    send_to(f.proxy_socket(), "READY=1");
    // wait_ready returns once READY=1 went out, the process still running.
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        pause();
        _exit(0);
    }
    UniqueFd pidfd = container::pidfd_open(child);
    p.wait_ready(pidfd.get());
    CHECK(receive(h.get()) == "READY=1\nMAINPID=77\n");
    container::kill_and_reap(pidfd.get());
}

TEST_CASE("notify: wait_ready returns when the process exits without READY=1", "[notify]") {
    ProxyFixture f("n2");
    const std::string host = f.t.path + "/host.sock";
    UniqueFd h = listener(host);
    NotifyProxy p = NotifyProxy::create(f.c, host, f.cfg);
    p.set_main_pid(5);
    const std::string sock = f.proxy_socket();
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // A status, then exit without readiness.
        UniqueFd s(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr;
        socklen_t len = address(sock, addr);
        sendto(s.get(), "STATUS=giving up", 16, 0, reinterpret_cast<sockaddr *>(&addr), len);
        _exit(3);
    }
    UniqueFd pidfd = container::pidfd_open(child);
    auto start = std::chrono::steady_clock::now();
    p.wait_ready(pidfd.get());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK_FALSE(p.ready_sent());
    CHECK(receive(h.get()) == "STATUS=giving up\n");
    CHECK(container::reap(pidfd.get()) == 3);
}

TEST_CASE("notify: a host socket nobody listens on is a clear error", "[notify]") {
    ProxyFixture f("n3");
    const std::string host = f.t.path + "/gone.sock";
    NotifyProxy p = NotifyProxy::create(f.c, host, f.cfg);
    send_to(f.proxy_socket(), "READY=1");
    CHECK(error_of([&] { p.forward_pending(); }) ==
          "notify socket \"" + host + "\": send: No such file or directory");
}

TEST_CASE("notify: the foreground variant does not throw, and forwards once the host listens", "[notify]") {
    ProxyFixture f("n4");
    const std::string host = f.t.path + "/late.sock";
    NotifyProxy p = NotifyProxy::create(f.c, host, f.cfg);
    p.set_main_pid(8);
    const std::string sock = f.proxy_socket();
    send_to(sock, "READY=1");
    send_to(sock, "STATUS=queued");
    p.forward_pending_or_warn(); // warns; the failed message is dropped, the next one waits
    CHECK_FALSE(p.ready_sent());
    UniqueFd h = listener(host);
    send_to(sock, "STATUS=later");
    p.forward_pending_or_warn(); // a failure again would only be a debug line
    CHECK(receive(h.get()) == "STATUS=queued\n");
    CHECK(receive(h.get()) == "STATUS=later\n");
    CHECK(receive(h.get(), 100) == "<none>");
}
