// SPDX-License-Identifier: GPL-2.0-or-later
#include "safe_path.hpp"

#include "crunpp/error.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {

std::string clean_relative_path(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos)
            j = path.size();
        std::string_view c = path.substr(i, j - i);
        if (c == "..") {
            if (!parts.empty())
                parts.pop_back();
        } else if (!c.empty() && c != ".") {
            parts.push_back(c);
        }
        i = j + 1;
    }
    std::string out;
    for (auto c : parts) {
        if (!out.empty())
            out += '/';
        out += c;
    }
    return out;
}

std::vector<std::string> path_components(const std::string &rel) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < rel.size()) {
        size_t j = rel.find('/', i);
        if (j == std::string::npos)
            j = rel.size();
        if (j > i)
            out.emplace_back(rel.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

UniqueFd open_in_root(int root_fd, const std::string &rel, int flags, int &err, unsigned long long extra_resolve) {
    open_how how{};
    how.flags = uint64_t(flags) | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve;
    const char *p = rel.empty() ? "." : rel.c_str();
    long fd;
    do
        fd = syscall(SYS_openat2, root_fd, p, &how, sizeof how);
    while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    err = fd < 0 ? errno : 0;
    return UniqueFd(fd < 0 ? -1 : int(fd));
}

UniqueFd mkdir_all_in_root(int root_fd, const std::string &rel) {
    int err = 0;
    UniqueFd cur = open_in_root(root_fd, rel, O_PATH | O_DIRECTORY, err);
    if (cur)
        return cur;
    if (err != ENOENT)
        throw_errno("mkdir \"" + display_path(rel) + "\"", err);
    cur = open_in_root(root_fd, "", O_PATH | O_DIRECTORY, err);
    if (!cur)
        throw_errno("open the root", err);
    // Walk from the root: each prefix is resolved in the root again, so
    // symlinks met on the way stay inside; only the one missing component
    // is made, relative to its verified parent, with mkdirat (which does
    // not follow a symlink in the last component).
    std::string prefix;
    for (const auto &c : path_components(rel)) {
        prefix += prefix.empty() ? c : "/" + c;
        UniqueFd next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, err);
        if (!next && err == ENOENT) {
            if (mkdirat(cur.get(), c.c_str(), 0755) < 0 && errno != EEXIST)
                throw_errno("mkdir \"" + display_path(prefix) + "\"");
            next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, err);
        }
        if (!next)
            throw_errno("mkdir \"" + display_path(prefix) + "\"", err);
        cur = std::move(next);
    }
    return cur;
}

UniqueFd ensure_in_root(int root_fd, const std::string &rel, bool directory, mode_t file_mode) {
    int err = 0;
    UniqueFd fd = open_in_root(root_fd, rel, O_PATH, err);
    if (fd)
        return fd;
    if (err != ENOENT)
        throw_errno("open \"" + display_path(rel) + "\"", err);
    if (directory)
        return mkdir_all_in_root(root_fd, rel);
    size_t slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
    std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    UniqueFd dir = mkdir_all_in_root(root_fd, parent);
    // O_EXCL|O_NOFOLLOW: never create through a symlink of the rootfs.
    UniqueFd created(openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode));
    if (!created && errno != EEXIST)
        throw_errno("create \"" + display_path(rel) + "\"");
    created.reset();
    fd = open_in_root(root_fd, rel, O_PATH, err);
    if (!fd)
        throw_errno("create \"" + display_path(rel) + "\"" + (err == ENOENT ? ": a symlink to a missing path" : ""), err);
    return fd;
}

} // namespace crunpp::linux
