// SPDX-License-Identifier: GPL-2.0-or-later
#include "mount_api.hpp"

#include "crunpp/error.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {

UniqueFd clone_tree(int dirfd, const std::string &path, bool recursive, int &err) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    if (path.empty())
        flags |= AT_EMPTY_PATH;
    int fd = open_tree(dirfd, path.c_str(), flags);
    err = fd < 0 ? errno : 0;
    return UniqueFd(fd);
}

int attach_tree(int tree_fd, int target_fd) {
    if (move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return errno;
    return 0;
}

int set_mount_attr(int fd, bool recursive, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation, int userns_fd) {
    mount_attr attr{};
    attr.attr_set = attr_set;
    attr.attr_clr = attr_clr;
    attr.propagation = propagation;
    if (userns_fd >= 0)
        attr.userns_fd = uint64_t(userns_fd);
    if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
        return errno;
    return 0;
}

int set_mount_attr_keep_locked(int fd, bool recursive, uint64_t attr_set, uint64_t attr_clr) {
    if (attr_set == 0 && attr_clr == 0)
        return 0;
    int err = set_mount_attr(fd, recursive, attr_set, attr_clr);
    if (err != EPERM)
        return err;
    struct statvfs sv {};
    if (fstatvfs(fd, &sv) < 0)
        return err;
    uint64_t have = 0;
    if (sv.f_flag & ST_RDONLY)
        have |= MOUNT_ATTR_RDONLY;
    if (sv.f_flag & ST_NOSUID)
        have |= MOUNT_ATTR_NOSUID;
    if (sv.f_flag & ST_NODEV)
        have |= MOUNT_ATTR_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        have |= MOUNT_ATTR_NOEXEC;
    if (sv.f_flag & ST_NODIRATIME)
        have |= MOUNT_ATTR_NODIRATIME;
    uint64_t kept_clr = attr_clr & ~have;
    uint64_t kept_set = attr_set;
    // An atime mode cannot be changed on a locked mount either: keep it.
    if (attr_clr & MOUNT_ATTR__ATIME) {
        kept_clr &= ~uint64_t(MOUNT_ATTR__ATIME);
        kept_set &= ~uint64_t(MOUNT_ATTR__ATIME);
    }
    if (kept_clr == attr_clr && kept_set == attr_set)
        return err;
    if (kept_clr == 0 && kept_set == 0)
        return 0;
    return set_mount_attr(fd, recursive, kept_set, kept_clr);
}

void ms_flags_to_attr(unsigned long set, unsigned long clear, bool atime, uint64_t &attr_set, uint64_t &attr_clr) {
    struct Pair {
        unsigned long ms;
        uint64_t attr;
    };
    static constexpr Pair kPairs[] = {
        {MS_RDONLY, MOUNT_ATTR_RDONLY},         {MS_NOSUID, MOUNT_ATTR_NOSUID},
        {MS_NODEV, MOUNT_ATTR_NODEV},           {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
        {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
    };
    attr_set = attr_clr = 0;
    for (const auto &p : kPairs) {
        if (set & p.ms)
            attr_set |= p.attr;
        else if (clear & p.ms)
            attr_clr |= p.attr;
    }
    if (atime) {
        attr_clr |= MOUNT_ATTR__ATIME;
        if (set & MS_NOATIME)
            attr_set |= MOUNT_ATTR_NOATIME;
        else if (set & MS_STRICTATIME)
            attr_set |= MOUNT_ATTR_STRICTATIME;
        else
            attr_set |= MOUNT_ATTR_RELATIME;
    }
}

ProcFdDir::ProcFdDir(const std::string &proc) {
    std::string path = proc + "/self/fd";
    dir_.reset(open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_)
        throw_errno("open \"" + path + "\"");
    struct statfs sf {};
    if (fstatfs(dir_.get(), &sf) < 0)
        throw_errno("statfs \"" + path + "\"");
    if (sf.f_type != PROC_SUPER_MAGIC)
        throw Error("\"" + path + "\" is not on procfs");
}

int ProcFdDir::mount_on(const char *source, int target_fd, const char *type, unsigned long flags,
                        const char *data) const {
    if (fchdir(dir_.get()) < 0)
        return errno;
    std::string name = std::to_string(target_fd);
    if (mount(source, name.c_str(), type, flags, data) < 0)
        return errno;
    return 0;
}

} // namespace crunpp::linux
