// SPDX-License-Identifier: GPL-2.0-or-later
#include "passthrough.hpp"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "crunpp/error.hpp"
#include "../util/env.hpp"

namespace crunpp::container {
namespace {

// Key permission bits (keyutils' names; not in the kernel's uapi header).
constexpr uint32_t kKeyUserSearch = 0x00080000;
constexpr uint32_t kKeyOtherSearch = 0x00000008;

bool parse_number(const char *s, long &out) {
    if (!s || !*s)
        return false;
    auto [end, ec] = std::from_chars(s, s + strlen(s), out);
    return ec == std::errc() && *end == '\0';
}

int socket_activation_fds() {
    long fds = 0, pid = 0;
    if (!parse_number(getenv("LISTEN_FDS"), fds) || fds <= 0)
        return 0;
    // Not meant for us when LISTEN_PID names another process (sd_listen_fds'
    // rule); crun takes them without one.
    if (getenv("LISTEN_PID") && (!parse_number(getenv("LISTEN_PID"), pid) || pid != getpid()))
        return 0;
    if (fds > 4096)
        throw Error("LISTEN_FDS: " + std::to_string(fds) + " fds is too many");
    return static_cast<int>(fds);
}

} // namespace

std::vector<int> closed_fds_in_range(int count) {
    // A closed fd of the range may be taken by one of crunpp's own later:
    // those are close-on-exec, the caller's never (exec clears the flag).
    std::vector<int> closed;
    for (int fd = 3; fd < 3 + count; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || (flags & FD_CLOEXEC))
            closed.push_back(fd);
    }
    return closed;
}

void set_listen_pid(std::vector<std::string> &env) { util::set_env(env, "LISTEN_PID", std::to_string(getpid())); }

Passthrough prepare_passthrough(spec::Config &cfg, int preserve_fds) {
    if (preserve_fds < 0)
        throw Error("preserve-fds: " + std::to_string(preserve_fds) + " is negative");
    if (preserve_fds > 4096)
        throw Error("preserve-fds: " + std::to_string(preserve_fds) + " fds is too many");
    Passthrough p;
    int listen = socket_activation_fds();
    if (listen > 0) {
        util::set_env(cfg.process->env, "LISTEN_FDS", std::to_string(listen));
        p.listen_fds = true;
    }
    p.count = listen + preserve_fds;
    p.closed = closed_fds_in_range(p.count);
    return p;
}

void join_session_keyring(const std::string &id, bool user_namespace) {
    const std::string name = "_ses." + id;
    long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str());
    if (key < 0) {
        if (errno == ENOSYS)
            return;
        throw_errno("join a new session keyring \"" + name + "\"");
    }
    // The possessor's rights stay; the container's user (other than the
    // owner inside a user namespace) may search it.
    char desc[512];
    long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, desc, sizeof desc);
    if (n < 0 || static_cast<size_t>(n) > sizeof desc)
        throw_errno("describe the session keyring");
    // "type;uid;gid;perm;description", perm in hex.
    std::string_view d(desc, strnlen(desc, sizeof desc));
    size_t p = 0;
    for (int i = 0; i < 3 && p != std::string_view::npos; i++)
        p = d.find(';', p + (i ? 1 : 0));
    if (p == std::string_view::npos)
        throw Error("describe the session keyring: unexpected \"" + std::string(d) + "\"");
    uint32_t perm = 0;
    auto [end, ec] = std::from_chars(d.data() + p + 1, d.data() + d.size(), perm, 16);
    if (ec != std::errc())
        throw Error("describe the session keyring: unexpected \"" + std::string(d) + "\"");
    // exec joins the keyring the init made (and opened up): only its owner
    // may change it, and it needs no change.
    const uint32_t wanted = perm | (user_namespace ? kKeyOtherSearch : kKeyUserSearch);
    if (wanted != perm && syscall(SYS_keyctl, KEYCTL_SETPERM, key, wanted) < 0)
        throw_errno("set the session keyring's permissions");
}

} // namespace crunpp::container
