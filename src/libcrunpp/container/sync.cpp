// SPDX-License-Identifier: GPL-2.0-or-later
#include "sync.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

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

bool SyncSocket::try_send(SyncType type, int32_t value, std::string_view text) noexcept {
    char buf[sizeof(Header) + kMaxText];
    Header h{static_cast<uint32_t>(type), value};
    memcpy(buf, &h, sizeof h);
    size_t n = text.size() < kMaxText ? text.size() : kMaxText;
    if (n > 0) // an empty string_view may have a null data()
        memcpy(buf + sizeof h, text.data(), n);
    ssize_t w;
    do
        w = ::send(fd_.get(), buf, sizeof h + n, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    return w == static_cast<ssize_t>(sizeof h + n);
}

void SyncSocket::send(SyncType type, int32_t value, std::string_view text) {
    if (!try_send(type, value, text))
        throw_errno("sync with the container init");
}

std::optional<SyncMessage> SyncSocket::receive() {
    char buf[sizeof(Header) + kMaxText];
    ssize_t r;
    do
        r = ::recv(fd_.get(), buf, sizeof buf, 0);
    while (r < 0 && errno == EINTR);
    if (r == 0 || (r < 0 && errno == ECONNRESET))
        return std::nullopt;
    if (r < 0)
        throw_errno("sync with the container init");
    if (static_cast<size_t>(r) < sizeof(Header))
        throw Error("sync with the container init: short message");
    Header h;
    memcpy(&h, buf, sizeof h);
    SyncMessage m;
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

} // namespace crunpp::container
