// SPDX-License-Identifier: GPL-2.0-or-later
// Seccomp notify: the runtime hands the filter's listener fd to the agent at
// linux.seccomp.listenerPath, with the container process state, in one
// message on a fresh SOCK_STREAM connection that is then closed.
#include "seccomp.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "crunpp/state.hpp"

namespace crunpp::linux {

std::string seccomp_process_state_json(const spec::Seccomp &s, const state::ContainerState &st, pid_t pid) {
    json::Writer w;
    w.begin_object();
    w.key("ociVersion").string(spec::kOciVersion);
    // The names of the fds of the SCM_RIGHTS array, in order.
    w.key("fds").begin_array().string("seccompFd").end_array();
    w.key("pid").integer(pid ? pid : st.pid);
    w.key("metadata").string(s.listenerMetadata.value_or(""));
    w.key("state");
    state::write_oci_state(w, st, state::PidWhenNone::Omitted);
    w.end_object();
    return std::string(w.str());
}

void send_seccomp_listener(const spec::Seccomp &s, int listener_fd, const state::ContainerState &st, pid_t pid) {
    const std::string &path = s.listenerPath.value_or("");
    std::string what = "send the seccomp listener to linux.seccomp.listenerPath \"" + path + "\"";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        throw Error(what + ": the path must have 1 to " + std::to_string(sizeof addr.sun_path - 1) + " bytes");
    memcpy(addr.sun_path, path.data(), path.size());

    UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock)
        throw_errno(what + ": socket");
    // An agent that accepts nothing (its backlog full) or reads nothing
    // would block create forever: 5 s at most (runc fails at once).
    constexpr int kTimeoutSeconds = 5;
    const std::string late = " within " + std::to_string(kTimeoutSeconds) + " s";
    timeval tv{kTimeoutSeconds, 0};
    if (setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        throw_errno(what + ": set a send timeout");
    int rc;
    do
        rc = connect(sock.get(), reinterpret_cast<const sockaddr *>(&addr), sizeof addr);
    while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno == EAGAIN)
        throw Error(what + ": connect: the agent accepted no connection" + late);
    if (rc < 0)
        throw_errno(what + ": connect");

    std::string payload = seccomp_process_state_json(s, st, pid);
    iovec iov{payload.data(), payload.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &listener_fd, sizeof(int));

    ssize_t sent;
    do
        sent = sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent < 0 && errno == EAGAIN)
        throw Error(what + ": the agent read nothing" + late);
    if (sent < 0)
        throw_errno(what);
    // The fd went with the first byte; the rest of a long state follows.
    for (size_t done = static_cast<size_t>(sent); done < payload.size();) {
        ssize_t w = send(sock.get(), payload.data() + done, payload.size() - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            throw Error(what + ": the agent read nothing" + late);
        if (w < 0)
            throw_errno(what);
        done += static_cast<size_t>(w);
    }
}

} // namespace crunpp::linux
