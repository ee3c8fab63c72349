// SPDX-License-Identifier: GPL-2.0-or-later
// "tmpcopyup": the content of a tmpfs destination is copied into the new
// tmpfs (podman asks for it on every --tmpfs). Everything is done relative
// to directory fds with O_NOFOLLOW/AT_SYMLINK_NOFOLLOW: symlinks of the
// rootfs are copied as symlinks, never followed.
#include "rootfs_internal.hpp"

#include "crunpp/error.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {
namespace {

constexpr int kMaxDepth = 128;

[[noreturn]] void copy_fail(const std::string &path, const std::string &step, int err) {
    throw Error("tmpcopyup \"" + path + "\": " + step, err);
}

void copy_bytes(int in, int out, const std::string &path) {
    for (;;) {
        ssize_t n = copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
        if (n == 0)
            return;
        if (n > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            copy_fail(path, "copy", errno);
        break;
    }
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            copy_fail(path, "read", errno);
        if (n == 0)
            return;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, size_t(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                copy_fail(path, "write", errno);
            off += w;
        }
    }
}

// Owner, mode and times of `name` in dst as `st` says. An owner that is not
// mapped in the user namespace cannot be set (EINVAL): it stays the
// overflow id the source shows too.
void copy_attributes(int dst, const char *name, const struct stat &st, const std::string &path) {
    if (fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
        copy_fail(path, "chown", errno);
    if (!S_ISLNK(st.st_mode) && fchmodat(dst, name, st.st_mode & 07777, 0) < 0)
        copy_fail(path, "chmod", errno);
    const timespec times[2] = {st.st_atim, st.st_mtim};
    if (utimensat(dst, name, times, AT_SYMLINK_NOFOLLOW) < 0)
        copy_fail(path, "set times", errno);
}

void copy_dir(int src, int dst, const std::string &path, int depth) {
    if (depth > kMaxDepth)
        copy_fail(path, "directories nested too deep", ELOOP);
    int list_fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (list_fd < 0)
        copy_fail(path, "open", errno);
    DIR *dir = fdopendir(list_fd);
    if (!dir) {
        close(list_fd);
        copy_fail(path, "open", errno);
    }
    struct DirCloser {
        DIR *d;
        ~DirCloser() { closedir(d); }
    } closer{dir};
    for (;;) {
        errno = 0;
        dirent *e = readdir(dir);
        if (!e) {
            if (errno != 0)
                copy_fail(path, "read directory", errno);
            return;
        }
        std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        const std::string child = path + (path == "/" ? "" : "/") + name;
        struct stat st {};
        if (fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            copy_fail(child, "stat", errno);
        if (S_ISDIR(st.st_mode)) {
            if (mkdirat(dst, name.c_str(), 0700) < 0)
                copy_fail(child, "mkdir", errno);
            UniqueFd s(openat(src, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            UniqueFd d(openat(dst, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!s || !d)
                copy_fail(child, "open", errno);
            copy_dir(s.get(), d.get(), child, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            UniqueFd in(openat(src, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!in)
                copy_fail(child, "open", errno);
            UniqueFd out(openat(dst, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!out)
                copy_fail(child, "create", errno);
            copy_bytes(in.get(), out.get(), child);
        } else if (S_ISLNK(st.st_mode)) {
            std::string target(size_t(st.st_size) + 1, '\0');
            ssize_t n = readlinkat(src, name.c_str(), target.data(), target.size());
            if (n < 0)
                copy_fail(child, "readlink", errno);
            target.resize(size_t(n));
            if (symlinkat(target.c_str(), dst, name.c_str()) < 0)
                copy_fail(child, "symlink", errno);
        } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            if (mknodat(dst, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
                copy_fail(child, "mknod", errno);
        } else {
            continue; // a socket: nothing to copy, its listener is not in the tmpfs either
        }
        copy_attributes(dst, name.c_str(), st, child);
    }
}

} // namespace

void copy_up(int src_dir, int dst_dir, const std::string &display) { copy_dir(src_dir, dst_dir, display, 0); }

} // namespace crunpp::linux
