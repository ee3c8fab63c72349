// SPDX-License-Identifier: GPL-2.0-or-later
#include "sync.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

#include "crunpp/error.hpp"

namespace crunpp::container {
namespace {

struct Header {
    uint32_t type;
    int32_t value;
};

// Error texts are short; longer ones are cut rather than failing the send.
constexpr size_t kMaxText = 4000;

} // namespace

void SyncSocket::make_pair(SyncSocket &parent, SyncSocket &child) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
        throw_errno("create the sync socket");
    parent = SyncSocket(UniqueFd(fds[0]));
    child = SyncSocket(UniqueFd(fds[1]));
}

namespace {

// One datagram: header, text (cut at kMaxText) and the fds, if any.
bool send_message(int sock, SyncType type, int32_t value, std::string_view text, const std::vector<int> *fds) noexcept {
    char buf[sizeof(Header) + kMaxText];
    Header h{static_cast<uint32_t>(type), value};
    memcpy(buf, &h, sizeof h);
    size_t n = text.size() < kMaxText ? text.size() : kMaxText;
    if (n > 0) // an empty string_view may have a null data()
        memcpy(buf + sizeof h, text.data(), n);
    struct iovec iov = {buf, sizeof h + n};
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(kMaxSyncFds * sizeof(int))];
    if (fds && !fds->empty()) {
        size_t bytes = fds->size() * sizeof(int);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(bytes);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(bytes);
        memcpy(CMSG_DATA(c), fds->data(), bytes);
    }
    ssize_t w;
    do
        w = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    return w == static_cast<ssize_t>(sizeof h + n);
}

} // namespace

bool SyncSocket::try_send(SyncType type, int32_t value, std::string_view text) noexcept {
    return send_message(fd_.get(), type, value, text, nullptr);
}

void SyncSocket::send(SyncType type, int32_t value, std::string_view text) {
    if (!try_send(type, value, text))
        throw_errno("container sync socket");
}

void SyncSocket::send_fds(SyncType type, const std::vector<int> &fds, std::string_view text) {
    if (fds.size() > kMaxSyncFds)
        throw Error("container sync socket: too many fds in one message");
    if (!send_message(fd_.get(), type, 0, text, &fds))
        throw_errno("container sync socket");
}

std::optional<SyncMessage> SyncSocket::receive() {
    char buf[sizeof(Header) + kMaxText];
    struct iovec iov = {buf, sizeof buf};
    alignas(struct cmsghdr) char control[CMSG_SPACE(kMaxSyncFds * sizeof(int))];
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t r;
    do
        r = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r == 0 || (r < 0 && errno == ECONNRESET))
        return std::nullopt;
    if (r < 0)
        throw_errno("container sync socket");
    SyncMessage m;
    // Owned right away, so that they are closed whatever happens next.
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            m.fds.emplace_back(fd);
        }
    }
    if (msg.msg_flags & MSG_CTRUNC)
        throw Error("container sync socket: file descriptors lost (truncated)");
    if (static_cast<size_t>(r) < sizeof(Header))
        throw Error("container sync socket: short message");
    Header h;
    memcpy(&h, buf, sizeof h);
    m.type = static_cast<SyncType>(h.type);
    m.value = h.value;
    m.text.assign(buf + sizeof h, static_cast<size_t>(r) - sizeof h);
    return m;
}

SyncMessage SyncSocket::expect(SyncType type, std::string_view waiting_for) {
    std::optional<SyncMessage> m = receive();
    if (!m)
        throw Error(std::string(waiting_for) + ": the other side exited");
    if (m->type == SyncType::Failed)
        throw Error(std::move(m->text), m->value);
    if (m->type != type)
        throw Error(std::string(waiting_for) + ": unexpected sync message " +
                    std::to_string(static_cast<uint32_t>(m->type)));
    return std::move(*m);
}

void report_failure_and_exit(SyncSocket &sync, std::string_view context, int err, int status, int start_fd) noexcept {
    if (start_fd >= 0) {
        std::string text = Error(std::string(context), err).what();
        ssize_t ignored = write(start_fd, text.data(), text.size());
        (void)ignored;
    }
    if (!sync || !sync.try_send(SyncType::Failed, err, context)) {
        std::string line = "crunpp: ";
        line += Error(std::string(context), err).what();
        line += '\n';
        ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
        (void)ignored;
    }
    _exit(status);
}

void report_exception_and_exit(SyncSocket &sync, std::string_view who, int status, int start_fd) noexcept {
    try {
        throw;
    } catch (const Error &e) {
        report_failure_and_exit(sync, e.context(), e.errnum(), status, start_fd);
    } catch (const std::bad_alloc &) {
        report_failure_and_exit(sync, std::string(who) + ": out of memory", 0, status, start_fd);
    } catch (const std::exception &e) {
        report_failure_and_exit(sync, std::string(who) + ": " + e.what(), 0, status, start_fd);
    } catch (...) {
        report_failure_and_exit(sync, std::string(who) + ": unknown error", 0, status, start_fd);
    }
}

} // namespace crunpp::container
