// SPDX-License-Identifier: GPL-2.0-or-later
// Container ids and the default state root.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "crunpp/error.hpp"
#include "crunpp/state.hpp"

namespace crunpp::state {
namespace {

bool id_char(char c, bool first) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '_' || c == '.' || c == '-');
}

// An id as it may appear in a message: bounded, non-printable bytes escaped,
// so a hostile argument cannot flood or corrupt the terminal.
std::string printable(std::string_view id) {
    constexpr size_t kShown = 64;
    std::string s;
    for (size_t i = 0; i < id.size() && i < kShown; i++) {
        unsigned char c = static_cast<unsigned char>(id[i]);
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            s += static_cast<char>(c);
        } else {
            static const char hex[] = "0123456789abcdef";
            s += "\\x";
            s += hex[c >> 4];
            s += hex[c & 15];
        }
    }
    if (id.size() > kShown)
        s += "...";
    return s;
}

} // namespace

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxIdLength)
        return false;
    for (size_t i = 0; i < id.size(); i++)
        if (!id_char(id[i], i == 0))
            return false;
    return true;
}

void check_id(std::string_view id) {
    if (valid_id(id))
        return;
    std::string why = id.size() > kMaxIdLength ? "longer than " + std::to_string(kMaxIdLength) + " bytes"
                                                : "must match [A-Za-z0-9][A-Za-z0-9_.-]*";
    throw Error("invalid container id \"" + printable(id) + "\": " + why);
}

bool in_user_namespace() {
    int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[256];
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return false;
    if (n == 0)
        return true; // a new user namespace whose map is not written yet
    buf[n] = '\0';
    // The initial namespace maps every id to itself in one line.
    unsigned long inner = 1, outer = 1, count = 0;
    int used = 0;
    if (sscanf(buf, "%lu %lu %lu\n%n", &inner, &outer, &count, &used) != 3)
        return true;
    return inner != 0 || outer != 0 || count != 4294967295UL || buf[used] != '\0';
}

// Root inside another user namespace (rootless podman runs the runtime so)
// is not the host's root: it gets $XDG_RUNTIME_DIR/crunpp unless USER says
// root, as runc decides.
bool root_uses_xdg_runtime_dir() {
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (!xdg || !*xdg || !in_user_namespace())
        return false;
    const char *user = getenv("USER");
    return !user || std::string(user) != "root";
}

std::string default_root() {
    if (geteuid() == 0 && !root_uses_xdg_runtime_dir())
        return "/run/crunpp";
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (!xdg || !*xdg)
        throw Error("XDG_RUNTIME_DIR is not set: set it (usually to /run/user/" + std::to_string(geteuid()) +
                    ") or pass --root DIR");
    if (xdg[0] != '/')
        throw Error("XDG_RUNTIME_DIR \"" + std::string(xdg) + "\" is not an absolute path: fix it or pass --root DIR");
    return std::string(xdg) + "/crunpp";
}

} // namespace crunpp::state
