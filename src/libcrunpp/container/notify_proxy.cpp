// SPDX-License-Identifier: GPL-2.0-or-later
#include "notify_proxy.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "../linux/mount/mount_api.hpp"
#include "../util/env.hpp"
#include "../util/paths.hpp"

namespace crunpp::container {
namespace {

constexpr const char *kNotifyDir = "notify";
constexpr const char *kNotifySocketName = "notify.sock";
// Room for any sd_notify message (systemd takes a few KiB); longer ones are
// dropped.
constexpr size_t kMaxDatagram = 16384;

// The socket address of a host NOTIFY_SOCKET ("@name": abstract).
socklen_t host_address(const std::string &host, struct sockaddr_un &addr) {
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, host.data(), host.size());
    if (host[0] == '@') {
        addr.sun_path[0] = '\0';
        return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + host.size());
    }
    return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + host.size() + 1);
}

// Binds a datagram socket at <dir_fd>/notify/notify.sock, through
// /proc/self/fd so that a long state path still fits a socket address.
UniqueFd bind_proxy_socket(int notify_dir_fd) {
    UniqueFd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!sock)
        throw_errno("notify socket: socket");
    struct sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", notify_dir_fd, kNotifySocketName);
    if (bind(sock.get(), reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) < 0)
        throw_errno("notify socket: bind in the state directory");
    // Any container user may notify, as with runc.
    if (fchmodat(notify_dir_fd, kNotifySocketName, 0777, 0) < 0)
        throw_errno("notify socket: chmod");
    return sock;
}

UniqueFd open_notify_dir(int state_dir_fd) {
    UniqueFd dir(openat(state_dir_fd, kNotifyDir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir)
        throw_errno("notify socket: open the directory in the state directory");
    return dir;
}

} // namespace

std::optional<std::string> host_notify_socket() {
    const char *value = getenv("NOTIFY_SOCKET");
    if (!value || !*value)
        return std::nullopt;
    std::string v = value;
    if (v[0] != '/' && !(v[0] == '@' && v.size() > 1))
        throw Error("NOTIFY_SOCKET: \"" + v + "\" is neither an absolute path nor an abstract socket \"@name\"");
    if (v.size() >= sizeof(sockaddr_un::sun_path))
        throw Error("NOTIFY_SOCKET: \"" + v + "\" is longer than a socket address (" +
                    std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");
    return v;
}

NotifyForward translate_notify(std::string_view datagram, pid_t main_pid) {
    NotifyForward f;
    std::string rest;
    while (!datagram.empty()) {
        size_t nl = datagram.find('\n');
        std::string_view line = datagram.substr(0, nl);
        datagram.remove_prefix(nl == std::string_view::npos ? datagram.size() : nl + 1);
        if (line.empty() || line.starts_with("MAINPID=") || line == "BARRIER=1")
            continue;
        if (line == "READY=1") {
            f.ready = true;
            continue;
        }
        rest.append(line);
        rest += '\n';
    }
    if (f.ready)
        f.message = "READY=1\nMAINPID=" + std::to_string(main_pid) + "\n";
    f.message += rest;
    return f;
}

NotifyProxy NotifyProxy::create(state::Container &c, const std::string &host, spec::Config &cfg) {
    if (mkdirat(c.dir_fd(), kNotifyDir, 0755) < 0)
        throw_errno("notify socket: create the directory in the state directory");
    // 0755 whatever the umask: the container's users traverse it.
    if (fchmodat(c.dir_fd(), kNotifyDir, 0755, 0) < 0)
        throw_errno("notify socket: chmod the directory");
    UniqueFd dir = open_notify_dir(c.dir_fd());
    NotifyProxy p(bind_proxy_socket(dir.get()), host);
    p.dir_ = std::move(dir);
    c.state().extra[kStateNotifySocket] = host;

    spec::Mount m;
    m.destination = kContainerNotifyDir;
    m.type = "bind";
    m.source = util::absolute_path(c.dir()) + "/" + kNotifyDir;
    m.options = {"bind", "ro", "nosuid", "nodev", "noexec"};
    cfg.mounts.push_back(std::move(m));
    p.mount_index_ = cfg.mounts.size() - 1;
    util::set_env(cfg.process->env, "NOTIFY_SOCKET", kContainerNotifySocket);
    return p;
}

UniqueFd NotifyProxy::mount_tree() const {
    int err = 0;
    UniqueFd tree = linux::clone_tree(dir_.get(), "", false, err);
    if (!tree) {
        if (err == EPERM)
            return tree;
        throw_errno("notify socket: clone the directory's mount", err);
    }
    err = linux::set_mount_attr(tree.get(), false,
                                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0);
    if (err != 0)
        throw_errno("notify socket: set the bind's flags", err);
    return tree;
}

NotifyProxy NotifyProxy::rebind(int state_dir_fd, const std::string &host) {
    UniqueFd dir = open_notify_dir(state_dir_fd);
    // create's socket file stays behind it, bound to nobody.
    if (unlinkat(dir.get(), kNotifySocketName, 0) < 0 && errno != ENOENT)
        throw_errno("notify socket: remove the stale socket");
    return NotifyProxy(bind_proxy_socket(dir.get()), host);
}

void NotifyProxy::send_host(const std::string &message, bool may_block) {
    if (!host_sock_) {
        host_sock_.reset(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!host_sock_)
            throw_errno("notify socket: socket");
    }
    struct sockaddr_un addr;
    socklen_t len = host_address(host_, addr);
    ssize_t r;
    do
        r = sendto(host_sock_.get(), message.data(), message.size(), MSG_NOSIGNAL | (may_block ? 0 : MSG_DONTWAIT),
                   reinterpret_cast<struct sockaddr *>(&addr), len);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        throw_errno("notify socket \"" + host_ + "\": send");
}

void NotifyProxy::forward_pending(bool may_block) {
    char buf[kMaxDatagram];
    for (;;) {
        ssize_t n = recv(sock_.get(), buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            throw_errno("notify socket: receive");
        }
        if (static_cast<size_t>(n) > sizeof buf) {
            log::debug("notify socket: dropped a message of " + std::to_string(n) + " bytes");
            continue;
        }
        NotifyForward f = translate_notify(std::string_view(buf, static_cast<size_t>(n)), main_pid_);
        if (f.message.empty())
            continue;
        send_host(f.message, may_block);
        ready_sent_ = ready_sent_ || f.ready;
    }
}

void NotifyProxy::forward_pending_or_warn() noexcept {
    try {
        forward_pending(false);
    } catch (const Error &e) {
        if (warned_) {
            log::debug(e.what());
        } else {
            log::warn(e.what());
            warned_ = true;
        }
    }
}

void NotifyProxy::wait_ready(int pidfd) {
    while (!ready_sent_) {
        struct pollfd fds[2] = {{sock_.get(), POLLIN, 0}, {pidfd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("notify socket: wait for READY=1");
        }
        // What the process sent before it exited goes out first.
        forward_pending(true);
        if (!ready_sent_ && (fds[1].revents & (POLLIN | POLLHUP))) {
            log::debug("notify socket: the container's init exited before READY=1");
            return;
        }
    }
}

} // namespace crunpp::container
