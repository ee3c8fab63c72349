// SPDX-License-Identifier: GPL-2.0-or-later
// Entering the new root. pivot_root(".", ".") stacks the old root under the
// new one, which is then made rslave (so the unmount does not propagate to
// the host) and lazily detached. A ramfs host root cannot be pivoted away
// from, and --no-pivot asks not to: there the rootfs is moved over "/" and
// chrooted into, after the host's proc and sysfs mounts (the way out of a
// chroot) are detached or covered.
#include "rootfs_internal.hpp"

#include "crunpp/error.hpp"
#include "mountinfo.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace crunpp::linux {
namespace {

void pivot(int root_fd) {
    UniqueFd old_root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!old_root)
        throw_errno("pivot_root: open the old root");
    if (fchdir(root_fd) < 0)
        throw_errno("pivot_root: chdir to the rootfs");
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        throw_errno("pivot_root");
    if (fchdir(old_root.get()) < 0)
        throw_errno("pivot_root: chdir to the old root");
    if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
        throw_errno("pivot_root: make the old root rslave");
    if (umount2(".", MNT_DETACH) < 0)
        throw_errno("pivot_root: unmount the old root");
    if (chdir("/") < 0)
        throw_errno("chdir \"/\"");
}

void move_root(int root_fd, const std::string &rootfs) {
    // Deepest first, so a covered mount is reached after what covers it.
    auto mounts = read_mountinfo();
    std::sort(mounts.begin(), mounts.end(),
              [](const MountInfo &a, const MountInfo &b) { return a.mountpoint.size() > b.mountpoint.size(); });
    for (const auto &m : mounts) {
        if ((m.fstype != "proc" && m.fstype != "sysfs") || path_is_under(m.mountpoint, rootfs))
            continue;
        if (umount2(m.mountpoint.c_str(), MNT_DETACH) == 0)
            continue;
        // Locked in a user namespace: cover it instead.
        if (mount("tmpfs", m.mountpoint.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0 &&
            errno != ENOENT)
            throw_errno("no-pivot: cover \"" + m.mountpoint + "\"");
    }
    if (fchdir(root_fd) < 0)
        throw_errno("chdir to the rootfs");
    if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0)
        throw_errno("move the rootfs to \"/\"");
    if (chroot(".") < 0)
        throw_errno("chroot");
    if (chdir("/") < 0)
        throw_errno("chdir \"/\"");
}

} // namespace

bool root_cannot_pivot(unsigned long fs_magic, const std::vector<MountInfo> &mounts) {
    if (fs_magic == RAMFS_MAGIC)
        return true;
    // The initial rootfs can also be a tmpfs: mountinfo names it "rootfs".
    if (fs_magic != TMPFS_MAGIC)
        return false;
    for (const auto &m : mounts)
        if (m.mountpoint == "/")
            return m.fstype == "rootfs";
    return false;
}

void enter_root(int root_fd, const std::string &rootfs, bool no_pivot) {
    struct statfs sf {};
    if (statfs("/", &sf) < 0)
        throw_errno("statfs \"/\"");
    unsigned long magic = static_cast<unsigned long>(sf.f_type);
    // mountinfo is only read when it can matter (a tmpfs root).
    bool cannot_pivot = root_cannot_pivot(magic, magic == TMPFS_MAGIC ? read_mountinfo() : std::vector<MountInfo>{});
    if (no_pivot || cannot_pivot)
        move_root(root_fd, rootfs);
    else
        pivot(root_fd);
}

} // namespace crunpp::linux
