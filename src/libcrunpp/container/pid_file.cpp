// SPDX-License-Identifier: GPL-2.0-or-later
#include "pid_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

void write_pid_file(const std::string &path, pid_t pid) {
    std::string tmp = path + ".tmp-" + std::to_string(getpid());
    UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd)
        throw_errno("write pid file \"" + path + "\"");
    std::string text = std::to_string(pid);
    ssize_t w = write(fd.get(), text.data(), text.size());
    int err = w < 0 ? errno : EIO;
    fd.reset();
    if (w != static_cast<ssize_t>(text.size())) {
        unlink(tmp.c_str());
        throw_errno("write pid file \"" + path + "\"", err);
    }
    if (rename(tmp.c_str(), path.c_str()) < 0) {
        err = errno;
        unlink(tmp.c_str());
        throw_errno("write pid file \"" + path + "\"", err);
    }
}

} // namespace crunpp::container
