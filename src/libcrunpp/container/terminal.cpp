// SPDX-License-Identifier: GPL-2.0-or-later
#include "terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>

#include "../linux/mount/rootfs.hpp"
#include "crunpp/error.hpp"
#include "notify_proxy.hpp"
#include "pidfd.hpp"

namespace crunpp::container {
namespace {

// The pty's peer (slave) from its master, without any path lookup.
UniqueFd pty_peer(int master) {
    int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        throw_errno("terminal: TIOCGPTPEER");
    return UniqueFd(fd);
}

// Writes all of buf; false when the other side is gone.
bool write_all(int fd, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, 1000);
            continue;
        }
        if (w <= 0)
            return false;
        buf += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// crunpp's stdin in raw mode for the lifetime of the object, when a tty.
class RawStdin {
public:
    RawStdin() {
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) < 0)
            return;
        struct termios raw = saved_;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
            active_ = true;
    }
    ~RawStdin() {
        if (active_)
            tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    RawStdin(const RawStdin &) = delete;
    RawStdin &operator=(const RawStdin &) = delete;

private:
    struct termios saved_{};
    bool active_ = false;
};

// crunpp's own terminal size, when it has one, onto the container's pty.
void copy_window_size(int master) {
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        ioctl(master, TIOCSWINSZ, &ws);
}

// Copies one read's worth from `from` to `to`; false at EOF or error
// (EIO: every peer of the pty closed).
bool pump(int from, int to) {
    char buf[8192];
    ssize_t r;
    do
        r = read(from, buf, sizeof buf);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == EAGAIN)
        return true;
    if (r <= 0)
        return false;
    return write_all(to, buf, static_cast<size_t>(r));
}

} // namespace

UniqueFd setup_init_terminal(const spec::Process &p, std::string &name, bool bind_console) {
    UniqueFd master(open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master)
        throw_errno("terminal: open \"/dev/pts/ptmx\" (the container needs a devpts on /dev/pts)");
    int unlock = 0;
    if (ioctl(master.get(), TIOCSPTLCK, &unlock) < 0)
        throw_errno("terminal: unlock the pty");
    unsigned int number = 0;
    if (ioctl(master.get(), TIOCGPTN, &number) < 0)
        throw_errno("terminal: TIOCGPTN");
    name = "/dev/pts/" + std::to_string(number);
    UniqueFd peer = pty_peer(master.get());
    if (p.consoleSize) {
        struct winsize ws{};
        ws.ws_row = static_cast<unsigned short>(p.consoleSize->height);
        ws.ws_col = static_cast<unsigned short>(p.consoleSize->width);
        if (ioctl(master.get(), TIOCSWINSZ, &ws) < 0)
            throw_errno("terminal: set the console size");
    }
    if (bind_console)
        linux::setup_console(peer.get());
    if (setsid() < 0)
        throw_errno("terminal: setsid");
    if (ioctl(peer.get(), TIOCSCTTY, 0) < 0)
        throw_errno("terminal: make the pty the controlling terminal");
    for (int fd = 0; fd < 3; fd++)
        if (dup2(peer.get(), fd) < 0)
            throw_errno("terminal: make the pty stdio");
    return master;
}

void send_fd_to_socket(const std::string &path, int fd, std::string_view payload, std::string_view what) {
    const std::string ctx = std::string(what) + " \"" + path + "\"";
    struct sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw Error(ctx + ": path too long");
    memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock)
        throw_errno(ctx + ": socket");
    // A receiver that accepts nothing (its backlog full) would block the
    // connect, one that reads nothing a full socket's send, forever: both
    // wait kSendTimeoutSeconds at most (runc does not wait at all).
    struct timeval tv = {kSendTimeoutSeconds, 0};
    if (setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        throw_errno(ctx + ": set a send timeout");
    const std::string late = " within " + std::to_string(kSendTimeoutSeconds) + " s";
    int r;
    do
        r = connect(sock.get(), reinterpret_cast<struct sockaddr *>(&addr), sizeof addr);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == EAGAIN)
        throw Error(ctx + ": connect: the receiver accepted no connection" + late);
    if (r < 0)
        throw_errno(ctx + ": connect");
    std::string data(payload.empty() ? std::string_view("fd") : payload);
    struct iovec iov = {data.data(), data.size()};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t s;
    do
        s = sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
    while (s < 0 && errno == EINTR);
    if (s < 0 && errno == EAGAIN)
        throw Error(ctx + ": send the fd: the receiver read nothing" + late);
    if (s < 0)
        throw_errno(ctx + ": send the fd");
}

int proxy_terminal(int master, int pidfd, int sigfd, bool keep_size, NotifyProxy *notify) {
    RawStdin raw;
    if (!keep_size)
        copy_window_size(master);
    int flags = fcntl(master, F_GETFL);
    if (flags >= 0)
        fcntl(master, F_SETFL, flags | O_NONBLOCK);
    bool stdin_open = true, master_open = true;
    for (;;) {
        struct pollfd fds[5] = {{pidfd, POLLIN, 0},
                                {sigfd, POLLIN, 0},
                                {master_open ? master : -1, POLLIN, 0},
                                {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                                {notify ? notify->fd() : -1, POLLIN, 0}};
        if (poll(fds, 5, -1) < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("terminal: poll");
        }
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                // The kernel tells the container's foreground process group.
                if (static_cast<int>(si.ssi_signo) == SIGWINCH)
                    copy_window_size(master);
                else
                    send_signal(pidfd, static_cast<int>(si.ssi_signo));
            }
        }
        if (master_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
            master_open = pump(master, STDOUT_FILENO);
        if (stdin_open && (fds[3].revents & (POLLIN | POLLHUP | POLLERR)))
            stdin_open = pump(STDIN_FILENO, master);
        if (notify && ((fds[4].revents & POLLIN) || (fds[0].revents & POLLIN)))
            notify->forward_pending_or_warn();
        if (fds[0].revents & POLLIN) {
            // What the process wrote before it exited.
            for (int i = 0; master_open && i < 1024; i++) {
                struct pollfd p = {master, POLLIN, 0};
                if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
                    break;
                master_open = pump(master, STDOUT_FILENO);
            }
            return reap(pidfd);
        }
    }
}

} // namespace crunpp::container
