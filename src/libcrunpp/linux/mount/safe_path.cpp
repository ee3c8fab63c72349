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
    // EAGAIN: a rename raced with the lookup (RESOLVE_IN_ROOT refuses to
    // guess); retried a bounded number of times.
    long fd = -1;
    for (int attempt = 0; attempt < 32; ++attempt) {
        fd = syscall(SYS_openat2, root_fd, p, &how, sizeof how);
        if (fd >= 0 || (errno != EINTR && errno != EAGAIN))
            break;
    }
    err = fd < 0 ? errno : 0;
    return UniqueFd(fd < 0 ? -1 : int(fd));
}

namespace {

// Symlinks followed while creating one path, as the kernel's MAXSYMLINKS.
constexpr int kMaxSymlinks = 40;

// `name` in `dir_fd` (at `parent`) exists but resolves to nothing: a
// symlink to a missing path. The path to create instead, `rest` appended;
// it is resolved in the root again, so it cannot lead out either.
std::string through_dangling_symlink(int dir_fd, const std::string &parent, const std::string &name,
                                     const std::string &rest, const std::string &what) {
    char buf[4096];
    ssize_t n = readlinkat(dir_fd, name.c_str(), buf, sizeof buf - 1);
    if (n < 0)
        throw_errno(what + ": readlink \"" + display_path(parent.empty() ? name : parent + "/" + name) + "\"");
    std::string target(buf, size_t(n));
    std::string joined = !target.empty() && target[0] == '/' ? target : parent + "/" + target;
    if (!rest.empty())
        joined += "/" + rest;
    return clean_relative_path(joined);
}

std::string join_from(const std::vector<std::string> &parts, size_t from) {
    std::string out;
    for (size_t i = from; i < parts.size(); ++i)
        out += (out.empty() ? "" : "/") + parts[i];
    return out;
}

// The common case of a missing directory, only its last component missing
// (the mount points of /sys/fs/cgroup/<controller>, /dev/pts ...): made in
// its parent resolved in the root, 4 syscalls instead of the walk's 2 per
// component. Empty when that is not the case (no parent, a component of it
// missing, the leaf made meanwhile or a dangling symlink): the walk decides.
UniqueFd mkdir_leaf(int root_fd, const std::string &path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == path.size())
        return UniqueFd();
    int err = 0;
    UniqueFd parent = open_in_root(root_fd, path.substr(0, slash), O_PATH | O_DIRECTORY, err);
    if (!parent)
        return UniqueFd();
    if (mkdirat(parent.get(), path.c_str() + slash + 1, 0755) < 0) {
        if (errno == EEXIST)
            return UniqueFd();
        throw_errno("mkdir \"" + display_path(path) + "\"");
    }
    return open_in_root(root_fd, path, O_PATH | O_DIRECTORY, err);
}

} // namespace

UniqueFd mkdir_all_in_root(int root_fd, const std::string &rel) {
    const std::string what = "mkdir \"" + display_path(rel) + "\"";
    std::string path = rel;
    for (int hops = 0;; ++hops) {
        if (hops > kMaxSymlinks)
            throw_errno(what, ELOOP);
        int err = 0;
        UniqueFd cur = open_in_root(root_fd, path, O_PATH | O_DIRECTORY, err);
        if (cur)
            return cur;
        if (err != ENOENT)
            throw_errno(what, err);
        if (UniqueFd made = mkdir_leaf(root_fd, path))
            return made;
        cur = open_in_root(root_fd, "", O_PATH | O_DIRECTORY, err);
        if (!cur)
            throw_errno("open the root", err);
        // Walk from the root: each prefix is resolved in the root again, so
        // symlinks met on the way stay inside; only a missing component is
        // made, relative to its verified parent, with mkdirat (which does
        // not follow a symlink in the last component).
        auto parts = path_components(path);
        std::string prefix;
        bool rewritten = false;
        for (size_t i = 0; i < parts.size(); ++i) {
            std::string parent = prefix;
            prefix += prefix.empty() ? parts[i] : "/" + parts[i];
            UniqueFd next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, err);
            if (!next && err == ENOENT) {
                bool existed = mkdirat(cur.get(), parts[i].c_str(), 0755) < 0;
                if (existed && errno != EEXIST)
                    throw_errno("mkdir \"" + display_path(prefix) + "\"");
                next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY, err);
                if (!next && err == ENOENT && existed) {
                    path = through_dangling_symlink(cur.get(), parent, parts[i], join_from(parts, i + 1), what);
                    rewritten = true;
                    break;
                }
            }
            if (!next)
                throw_errno("mkdir \"" + display_path(prefix) + "\"", err);
            cur = std::move(next);
        }
        if (!rewritten)
            return cur;
    }
}

UniqueFd ensure_in_root(int root_fd, const std::string &rel, bool directory, mode_t file_mode) {
    if (directory)
        return mkdir_all_in_root(root_fd, rel);
    const std::string what = "create \"" + display_path(rel) + "\"";
    std::string path = rel;
    for (int hops = 0;; ++hops) {
        if (hops > kMaxSymlinks)
            throw_errno(what, ELOOP);
        int err = 0;
        UniqueFd fd = open_in_root(root_fd, path, O_PATH, err);
        if (fd)
            return fd;
        if (err != ENOENT)
            throw_errno(what, err);
        size_t slash = path.rfind('/');
        std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
        std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
        if (name.empty())
            throw_errno(what, EISDIR);
        UniqueFd dir = mkdir_all_in_root(root_fd, parent);
        // O_EXCL|O_NOFOLLOW: never create through a symlink of the rootfs.
        UniqueFd created(
            openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode));
        if (!created && errno != EEXIST)
            throw_errno(what);
        bool existed = !created;
        created.reset();
        fd = open_in_root(root_fd, path, O_PATH, err);
        if (fd)
            return fd;
        if (err != ENOENT || !existed)
            throw_errno(what, err);
        path = through_dangling_symlink(dir.get(), parent, name, "", what);
    }
}

} // namespace crunpp::linux
