// SPDX-License-Identifier: GPL-2.0-or-later
// Mount operations on file descriptors: detached trees (open_tree), their
// attributes (mount_setattr) and their attachment onto a verified target fd
// (move_mount), plus mount(2) onto a target fd through the verified
// /proc/self/fd directory, so no path is ever looked up again after it was
// checked.
#pragma once

#include "crunpp/unique_fd.hpp"

#include <sys/mount.h>

#include <cstdint>
#include <string>

namespace crunpp::linux {

// A detached copy of the mount tree at dirfd/path (path "" = dirfd itself);
// invalid fd + errno on failure.
UniqueFd clone_tree(int dirfd, const std::string &path, bool recursive, int &err);

// Attaches a detached tree onto the target fd (an O_PATH fd of the mountpoint).
// Returns 0 or an errno.
int attach_tree(int tree_fd, int target_fd);

// mount_setattr(fd, "", AT_EMPTY_PATH [|AT_RECURSIVE], attr). Returns 0 or an errno.
int set_mount_attr(int fd, bool recursive, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation = 0,
                   int userns_fd = -1);

// Like set_mount_attr, but when clearing an attribute is refused with EPERM
// because the mount has it locked (a user namespace over a more privileged
// mount), keeps those the mount has and retries (as runc keeps the locked
// flags of a bind's source). Returns 0 or an errno.
int set_mount_attr_keep_locked(int fd, bool recursive, uint64_t attr_set, uint64_t attr_clr);

// The MOUNT_ATTR_* equivalents of mount(2) per-mount flags (MS_RDONLY...).
// `atime`: also carry the atime mode (otherwise it is left unchanged).
void ms_flags_to_attr(unsigned long set, unsigned long clear, bool atime, uint64_t &attr_set, uint64_t &attr_clr);

// The /proc/self/fd directory of a procfs, checked to be one (fstatfs).
class ProcFdDir {
public:
    ProcFdDir() = default;
    // Opens <proc>/self/fd; throws when it is not procfs.
    explicit ProcFdDir(const std::string &proc);
    // mount(2) with the target given as fd: "<proc>/self/fd/N" resolved
    // from this directory (the process's cwd is changed to it; callers do
    // not depend on the cwd). Returns 0 or an errno.
    int mount_on(const char *source, int target_fd, const char *type, unsigned long flags, const char *data) const;
    bool valid() const { return bool(dir_); }

private:
    UniqueFd dir_;
};

} // namespace crunpp::linux
