// SPDX-License-Identifier: GPL-2.0-or-later
#include "file_util.hpp"

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {

std::string read_file_at(int dirfd, const std::string &path) {
    UniqueFd fd(openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("open \"" + path + "\"");
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read \"" + path + "\"");
        }
        if (n == 0)
            break;
        out.append(buf, size_t(n));
    }
    return out;
}

void write_file_at(int dirfd, const std::string &path, const std::string &data) {
    UniqueFd fd(openat(dirfd, path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("open \"" + path + "\"");
    ssize_t n;
    do
        n = write(fd.get(), data.data(), data.size());
    while (n < 0 && errno == EINTR);
    if (n < 0)
        throw_errno("write \"" + path + "\"");
    if (size_t(n) != data.size())
        throw Error("write \"" + path + "\": short write");
}

} // namespace crunpp::linux
