// SPDX-License-Identifier: GPL-2.0-or-later
#include "swrk.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "../container/clone3.hpp"
#include "../container/pidfd.hpp"
#include "../linux/process/process.hpp"
#include "crunpp/error.hpp"

namespace crunpp::criu {
namespace {

// criu's answers are a few hundred bytes; a larger one is an error.
constexpr size_t kMaxMessage = 64 * 1024;
constexpr int kHighFd = 100;

[[noreturn]] void child_fail(int pipe_fd, const std::string &msg) {
    (void)!write(pipe_fd, msg.data(), msg.size());
    _exit(127);
}

// The child's fds: stdio, the socket as 3, extra fds from 4; all else
// close-on-exec. Sources are first moved above every target.
void child_fds(const SpawnOptions &o, int sock, int err_pipe) {
    std::vector<int> src = {o.stdio[0] >= 0 ? o.stdio[0] : 0, o.stdio[1] >= 0 ? o.stdio[1] : 1,
                            o.stdio[2] >= 0 ? o.stdio[2] : 2, sock};
    src.insert(src.end(), o.extra_fds.begin(), o.extra_fds.end());
    std::vector<int> high;
    for (int fd : src) {
        int h = fcntl(fd, F_DUPFD_CLOEXEC, kHighFd);
        if (h < 0)
            child_fail(err_pipe, "criu: duplicate fd " + std::to_string(fd) + ": " + strerror(errno));
        high.push_back(h);
    }
    for (size_t i = 0; i < high.size(); i++)
        if (dup2(high[i], static_cast<int>(i)) < 0)
            child_fail(err_pipe, std::string("criu: dup2: ") + strerror(errno));
    syscall(SYS_close_range, static_cast<unsigned>(high.size()), ~0u, CLOSE_RANGE_CLOEXEC);
}

std::string read_all(int fd) {
    std::string out;
    char buf[512];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return out;
        if (out.size() < 4096)
            out.append(buf, static_cast<size_t>(n));
    }
}

// "Version: 2.8\n..." -> "2.8"
std::string version_line(const std::string &text) {
    size_t p = text.find("Version:");
    if (p == std::string::npos)
        return "";
    size_t s = text.find_first_not_of(' ', p + 8);
    size_t e = text.find('\n', p);
    return s == std::string::npos ? "" : text.substr(s, e == std::string::npos ? e : e - s);
}

// `criu --version`'s version line, for the error about a criu that does
// not answer the VERSION request.
std::string criu_version_output(const std::string &binary) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return "";
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return "";
    }
    if (pid == 0) {
        dup2(p[1], 1);
        execl(binary.c_str(), binary.c_str(), "--version", static_cast<char *>(nullptr));
        _exit(127);
    }
    close(p[1]);
    std::string out = read_all(p[0]);
    close(p[0]);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return version_line(out);
}

} // namespace

std::string Swrk::find_binary(const std::string &binary) {
    if (!binary.empty() && binary != "criu") {
        if (access(binary.c_str(), X_OK) < 0)
            throw_errno("criu \"" + binary + "\" (--criu)");
        return binary;
    }
    const char *path = getenv("PATH");
    try {
        return linux::find_in_path("criu", path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    } catch (const Error &) {
        throw Error("criu not found in $PATH: checkpoint and restore need CRIU 3.0 or newer (Debian: apt-get "
                    "install criu)");
    }
}

Swrk Swrk::spawn(const SpawnOptions &o) {
    Swrk s;
    s.binary_ = find_binary(o.binary);
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        throw_errno("criu: socketpair");
    s.sock_.reset(sp[0]);
    UniqueFd theirs(sp[1]);
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) < 0)
        throw_errno("criu: pipe");
    UniqueFd err_read(ep[0]), err_write(ep[1]);
    int pidfd = -1;
    pid_t pid = container::clone3_fork(0, &pidfd, o.cgroup_fd);
    if (pid == 0) {
        err_read.reset();
        s.sock_.reset();
        try {
            child_fds(o, theirs.get(), err_write.get());
            if (o.child_setup)
                o.child_setup();
        } catch (const std::exception &e) {
            child_fail(err_write.get(), e.what());
        }
        execl(s.binary_.c_str(), "criu", "swrk", "3", static_cast<char *>(nullptr));
        child_fail(err_write.get(), "exec " + s.binary_ + ": " + strerror(errno));
    }
    s.pid_ = pid;
    s.pidfd_.reset(pidfd);
    theirs.reset();
    err_write.reset();
    // EOF: the exec succeeded; text: why the child could not get there.
    if (std::string failed = read_all(err_read.get()); !failed.empty()) {
        s.finish();
        throw Error(failed);
    }
    return s;
}

Swrk::~Swrk() {
    if (pidfd_ && !reaped_)
        container::kill_and_reap(pidfd_.get());
}

Response Swrk::call(const Request &request, const NotifyHandler &on_notify) {
    std::string out = encode(request);
    const std::string what = std::string("criu ") + req_type_name(static_cast<int>(request.type));
    for (;;) {
        ssize_t w;
        do
            w = send(sock_.get(), out.data(), out.size(), MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0)
            throw_errno(what + ": send the request to criu");
        std::string buf(kMaxMessage, '\0');
        alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
        struct iovec iov = {buf.data(), buf.size()};
        struct msghdr msg = {};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n;
        do
            n = recvmsg(sock_.get(), &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            throw_errno(what + ": read criu's answer");
        std::vector<UniqueFd> fds;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                fds.emplace_back(fd);
            }
        }
        if (n == 0)
            throw Error(what + ": criu exited without an answer");
        if (msg.msg_flags & MSG_TRUNC)
            throw Error(what + ": criu's answer is too large");
        Response r = decode(std::string_view(buf.data(), static_cast<size_t>(n)));
        if (r.type != static_cast<int>(ReqType::Notify) || !r.success)
            return r;
        bool ok = true;
        std::optional<Error> failed;
        if (on_notify) {
            try {
                on_notify(r, fds);
            } catch (const Error &e) {
                ok = false;
                failed = e;
            }
        }
        Request ack;
        ack.type = ReqType::Notify;
        ack.notify_success = ok;
        out = encode(ack);
        if (failed) {
            // criu rolls back on the failed notify; its answer is not needed.
            (void)send(sock_.get(), out.data(), out.size(), MSG_NOSIGNAL);
            throw *failed;
        }
    }
}

int Swrk::finish() {
    sock_.reset();
    if (reaped_ || !pidfd_)
        return 0;
    reaped_ = true;
    return container::reap(pidfd_.get());
}

Version check_version(const std::string &binary, int minimum, const std::string &what) {
    SpawnOptions o;
    o.binary = binary;
    Swrk s = Swrk::spawn(o);
    Request r;
    r.type = ReqType::Version;
    std::optional<Version> v;
    try {
        Response resp = s.call(r);
        if (resp.success && resp.version)
            v = resp.version;
    } catch (const Error &) {
        // Answered below with `criu --version`.
    }
    s.finish();
    if (!v) {
        std::string found = criu_version_output(s.binary());
        throw Error(what + ": " + s.binary() + " (version " + (found.empty() ? "unknown" : found) +
                    ") does not answer the RPC VERSION request: CRIU 3.0 or newer is needed");
    }
    if (v->number() < minimum) {
        Version need{minimum / 10000, minimum / 100 % 100, minimum % 100, {}};
        throw Error(what + ": CRIU " + need.text() + " or newer is needed, " + s.binary() + " is " + v->text());
    }
    return *v;
}

std::string log_errors(int dir_fd, const std::string &name) {
    int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "";
    UniqueFd f(fd);
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > 16 * 1024 * 1024)
            break;
    }
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t e = text.find('\n', pos);
        if (e == std::string::npos)
            e = text.size();
        std::string_view line(text.data() + pos, e - pos);
        if (line.find("Error") != std::string_view::npos)
            lines.emplace_back(line);
        pos = e + 1;
    }
    if (lines.size() > 10)
        lines.erase(lines.begin(), lines.end() - 10);
    std::string r;
    for (const std::string &l : lines)
        r += (r.empty() ? "" : "\n") + l;
    return r;
}

} // namespace crunpp::criu
