// SPDX-License-Identifier: GPL-2.0-or-later
#include "exe_guard.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::container {
namespace {

// The kernel follows at most this many nested interpreters (binfmt_script).
constexpr int kMaxInterpreters = 5;

// The interpreter of a "#!" script, or "" when `fd` is no such script.
std::string interpreter_of(int fd) {
    char buf[256];
    ssize_t n;
    do
        n = pread(fd, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 3 || buf[0] != '#' || buf[1] != '!')
        return {};
    size_t i = 2;
    const size_t end = static_cast<size_t>(n);
    while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    size_t start = i;
    while (i < end && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\0')
        i++;
    return std::string(buf + start, i - start);
}

} // namespace

FileId runtime_binary_id() {
    struct stat st;
    if (stat("/proc/self/exe", &st) < 0)
        throw_errno("stat crunpp's own binary (/proc/self/exe)");
    return FileId{st.st_dev, st.st_ino};
}

void check_not_runtime_binary(const std::string &exe, const FileId &runtime) {
    std::string path = exe;
    for (int depth = 0; depth <= kMaxInterpreters && !path.empty(); depth++) {
        UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        if (!fd) {
            // Unreadable: execve opens it the same way (by path) and fails
            // or runs it; only an O_PATH look at the file itself is left.
            fd.reset(open(path.c_str(), O_PATH | O_CLOEXEC));
            if (!fd)
                return;
        }
        struct stat st;
        if (fstat(fd.get(), &st) < 0)
            throw_errno("exec: \"" + exe + "\": stat \"" + path + "\"");
        if (st.st_dev == runtime.dev && st.st_ino == runtime.ino)
            throw Error("exec: \"" + exe + "\": \"" + path +
                        "\" is the runtime's own binary; refusing to run it in the container (CVE-2019-5736)");
        if (!S_ISREG(st.st_mode))
            return;
        path = interpreter_of(fd.get());
    }
}

} // namespace crunpp::container
