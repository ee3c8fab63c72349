// SPDX-License-Identifier: GPL-2.0-or-later
#include "passwd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "crunpp/unique_fd.hpp"

namespace crunpp::util {

namespace {
constexpr size_t kMaxPasswdSize = 4 << 20;
}

std::optional<PasswdEntry> passwd_entry(std::string_view passwd, uint32_t uid) {
    size_t pos = 0;
    while (pos < passwd.size()) {
        size_t end = passwd.find('\n', pos);
        if (end == std::string_view::npos)
            end = passwd.size();
        std::string_view line = passwd.substr(pos, end - pos);
        pos = end + 1;
        std::string_view fields[7];
        size_t count = 0, start = 0;
        while (count < 7) {
            size_t colon = line.find(':', start);
            fields[count++] = line.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
            if (colon == std::string_view::npos)
                break;
            start = colon + 1;
        }
        if (count < 6 || fields[2].empty())
            continue;
        uint32_t line_uid = 0;
        auto [p, ec] = std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), line_uid);
        if (ec != std::errc() || p != fields[2].data() + fields[2].size() || line_uid != uid)
            continue;
        return PasswdEntry{std::string(fields[0]), std::string(fields[5])};
    }
    return std::nullopt;
}

std::string read_passwd_file(const char *path) {
    UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    struct stat st;
    if (!fd || fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > kMaxPasswdSize)
        return {};
    std::string text;
    char buf[8192];
    ssize_t n;
    while (text.size() <= kMaxPasswdSize && (n = read(fd.get(), buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return {};
        }
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

std::string user_name(uint32_t uid) {
    std::optional<PasswdEntry> e = passwd_entry(read_passwd_file("/etc/passwd"), uid);
    return e ? e->name : std::string();
}

} // namespace crunpp::util
