// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfs.hpp"

#include "crunpp/error.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace crunpp::linux::procfs {

namespace {

constexpr ino_t kProcRootIno = 1;

bool is_procfs(int fd) {
    struct statfs sfs;
    return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

// A private procfs instance: nothing the container mounted on /proc (masks,
// read-only binds, fakes) is visible through it.
int open_fresh_instance() {
    UniqueFd fs(static_cast<int>(syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC)));
    if (!fs)
        return -1;
    if (syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return -1;
    return static_cast<int>(syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC,
                                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
}

// Without the right to mount a procfs (rootless without a pid namespace of
// its own): the mounted /proc, accepted only if it is a procfs root.
int open_mounted_proc() {
    UniqueFd fd(::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        throw_errno("open /proc");
    struct stat st;
    if (fstat(fd.get(), &st) < 0)
        throw_errno("stat /proc");
    if (!is_procfs(fd.get()) || st.st_ino != kProcRootIno)
        throw Error("/proc is not the root of a procfs mount: refusing to use it");
    return fd.release();
}

struct Cache {
    pid_t owner = -1; // the process that opened it: a forked child reopens
    int fd = -1;
};
Cache cache;

std::string read_link(int dirfd, const char *name);

// The cached instance is only good for the process that opened it, in the
// pid namespace it was opened in (a clone into a new pid namespace can have
// the same pid as its parent had in the parent's: "self" tells them apart).
bool cache_valid(pid_t me) {
    if (cache.fd < 0 || cache.owner != me)
        return false;
    char buf[32];
    ssize_t n = readlinkat(cache.fd, "self", buf, sizeof buf);
    return n > 0 && std::string_view(buf, static_cast<size_t>(n)) == std::to_string(me);
}

std::string read_link(int dirfd, const char *name) {
    char buf[64];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof buf);
    if (n < 0 || static_cast<size_t>(n) >= sizeof buf)
        throw_errno(std::string("readlink /proc/") + name, n < 0 ? errno : ENAMETOOLONG);
    return std::string(buf, static_cast<size_t>(n));
}

// "self/x" -> "<pid>/x", "thread-self/x" -> "<pid>/task/<tid>/x": the
// symlinks are read here so that the open itself never follows one.
std::string resolve_self(int root_fd, std::string_view rel) {
    for (const char *link : {"thread-self", "self"}) {
        std::string_view l(link);
        if (rel == l || (rel.size() > l.size() && rel.substr(0, l.size()) == l && rel[l.size()] == '/'))
            return read_link(root_fd, link) + std::string(rel.substr(l.size()));
    }
    return std::string(rel);
}

} // namespace

int root() {
    pid_t me = getpid();
    if (cache_valid(me))
        return cache.fd;
    int fd = open_fresh_instance();
    if (fd < 0 || !is_procfs(fd)) {
        if (fd >= 0)
            ::close(fd);
        fd = open_mounted_proc();
    }
    // An fd inherited from the parent is left alone: it is the parent's (CLOEXEC).
    if (cache.owner == me && cache.fd >= 0)
        ::close(cache.fd);
    cache = {me, fd};
    return fd;
}

UniqueFd open(std::string_view rel, int flags) {
    int rootfd = root();
    std::string path = resolve_self(rootfd, rel);
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
    int fd = static_cast<int>(syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof how));
    if (fd < 0 && errno == ENOSYS) {
        // Kernels before 5.6: no RESOLVE_BENEATH, so no ".." at all.
        if (("/" + path + "/").find("/../") != std::string::npos)
            throw Error("open /proc/" + path + ": it leaves /proc or crosses a mount point (refused)");
        fd = openat(rootfd, path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        int err = errno;
        if (err == EXDEV)
            throw Error("open /proc/" + path + ": it leaves /proc or crosses a mount point (refused)");
        if (err == ELOOP)
            throw Error("open /proc/" + path + ": a symlink is in the way (refusing to follow it)");
        throw_errno("open /proc/" + path, err);
    }
    UniqueFd out(fd);
    if (!is_procfs(out.get()))
        throw Error("open /proc/" + path + ": not on procfs");
    return out;
}

void write_file(std::string_view rel, std::string_view data) {
    UniqueFd fd = open(rel, O_WRONLY);
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0)
        throw_errno("write /proc/" + std::string(rel));
    if (static_cast<size_t>(n) != data.size())
        throw Error("write /proc/" + std::string(rel) + ": short write");
}

std::string read_file(std::string_view rel) {
    UniqueFd fd = open(rel, O_RDONLY);
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read /proc/" + std::string(rel));
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (1u << 20))
            throw Error("read /proc/" + std::string(rel) + ": file too large");
    }
    return out;
}

} // namespace crunpp::linux::procfs
