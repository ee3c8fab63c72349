// SPDX-License-Identifier: GPL-2.0-or-later
// Finding process.args[0] inside the container's root before the process
// is released, so that a missing binary fails `create` (as in runc).
#include "process.hpp"

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace crunpp::linux {

namespace {

constexpr const char *kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The kernel's text in lower case, as Go spells errnos: engines match
// runc's lower-case wording ("no such file or directory" -> exit 127,
// "permission denied" -> 126).
std::string errno_text(int err) {
    std::string t = strerror(err);
    if (!t.empty())
        t[0] = static_cast<char>(tolower(static_cast<unsigned char>(t[0])));
    return t;
}

// runc's (Go's exec.LookPath) wording for a program that cannot be run.
[[noreturn]] void exec_error(const std::string &name, int err, bool searched_path) {
    std::string msg = "exec: \"" + name + "\": ";
    if (searched_path && err == ENOENT)
        throw Error(msg + "executable file not found in $PATH");
    if (err == ENOENT)
        throw Error(msg + "stat " + name + ": " + errno_text(err));
    throw Error(msg + errno_text(err));
}

// 0 when `path` (absolute, inside the root `root_fd`) is an executable
// regular file, else the errno execve would give. Symlinks resolve inside
// the root, never out of it.
int check_executable(int root_fd, const std::string &path) {
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT;
    size_t first = path.find_first_not_of('/');
    std::string rel = first == std::string::npos ? std::string(".") : path.substr(first);
    UniqueFd fd(static_cast<int>(syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how)));
    if (!fd && errno == ENOSYS)
        fd.reset(openat(root_fd, rel.c_str(), O_PATH | O_CLOEXEC));
    if (!fd)
        return errno;
    struct stat st;
    if (fstat(fd.get(), &st) < 0)
        return errno;
    if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)
        return EACCES;
    return 0;
}

std::string join(const std::string &dir, const std::string &name) {
    std::string out;
    out.reserve(dir.size() + 1 + name.size());
    out.append(dir);
    if (out.empty() || out.back() != '/')
        out.push_back('/');
    out.append(name);
    return out;
}

UniqueFd open_root(const std::string &root) {
    const char *dir = root.empty() ? "/" : root.c_str();
    UniqueFd fd(::open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        throw_errno("open root directory \"" + std::string(dir) + "\"");
    return fd;
}

} // namespace

std::string path_from_env(const std::vector<std::string> &env) {
    // The last PATH= wins, as when the entries are applied one by one.
    const std::string *found = nullptr;
    for (const auto &e : env)
        if (e.rfind("PATH=", 0) == 0)
            found = &e;
    return found ? found->substr(5) : std::string(kDefaultPath);
}

std::string find_in_path(const std::string &name, const std::string &path_var, const std::string &root) {
    UniqueFd root_fd = open_root(root);
    int first_error = ENOENT;
    size_t start = 0;
    while (start <= path_var.size()) {
        size_t colon = path_var.find(':', start);
        std::string dir = path_var.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        start = colon == std::string::npos ? path_var.size() + 1 : colon + 1;
        // Relative entries would depend on the cwd: skipped (as Go's LookPath refuses them).
        if (dir.empty() || dir[0] != '/')
            continue;
        std::string candidate = join(dir, name);
        int err = check_executable(root_fd.get(), candidate);
        if (err == 0)
            return candidate;
        // execvp reports EACCES when a candidate exists but cannot be run.
        if (err == EACCES)
            first_error = EACCES;
    }
    exec_error(name, first_error, true);
}

std::string resolve_executable(const spec::Process &p) {
    if (p.args.empty() || p.args[0].empty())
        throw Error("config.json: .process.args: no program to run");
    const std::string &arg0 = p.args[0];
    if (arg0.find('/') == std::string::npos)
        return find_in_path(arg0, path_from_env(p.env), "");
    // A relative path runs from the process's cwd.
    std::string path = arg0[0] == '/' ? arg0 : join(p.cwd, arg0);
    UniqueFd root_fd = open_root("");
    if (int err = check_executable(root_fd.get(), path); err != 0)
        exec_error(arg0, err, false);
    return arg0;
}

void check_user_can_exec(const std::string &exe) {
    // access() checks with the real ids: those of the container's user now.
    if (access(exe.c_str(), X_OK) < 0)
        exec_error(exe, errno, false);
}

void exec_failed(const std::string &exe, int err) { throw Error("exec " + exe + ": " + errno_text(err)); }

} // namespace crunpp::linux
