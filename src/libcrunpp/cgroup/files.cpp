// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cgroup::detail {

int try_write_file(const std::string &dir, const std::string &file, const std::string &value) {
    std::string path = dir + "/" + file;
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    ssize_t w = write(fd, value.data(), value.size());
    int err = w < 0 ? errno : (static_cast<size_t>(w) != value.size() ? EIO : 0);
    close(fd);
    return err;
}

void write_file(const std::string &dir, const std::string &file, const std::string &value) {
    if (int err = try_write_file(dir, file, value); err != 0)
        throw Error("cgroup: write \"" + value + "\" to " + dir + "/" + file, err);
}

std::optional<std::string> read_file(const std::string &dir, const std::string &file) {
    std::string path = dir + "/" + file;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    close(fd);
    if (n < 0)
        return std::nullopt;
    return out;
}

bool file_exists(const std::string &dir, const std::string &file) {
    return access((dir + "/" + file).c_str(), F_OK) == 0;
}

std::string trim(const std::string &s) {
    size_t b = s.find_first_not_of(" \t\n");
    if (b == std::string::npos)
        return "";
    size_t e = s.find_last_not_of(" \t\n");
    return s.substr(b, e - b + 1);
}

} // namespace crunpp::cgroup::detail
