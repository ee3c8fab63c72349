// SPDX-License-Identifier: GPL-2.0-or-later
// maskedPaths and readonlyPaths, after the root change. Each path is
// resolved inside the new root and its last component never followed
// (O_NOFOLLOW): a symlink the container planted is an error, not a way to
// mask or remount something else. The /dev/null that masks files is checked
// to be the null device (char 1:3) on the very fd that is bound
// (CVE-2025-31133).
#include "rootfs_internal.hpp"

#include "crunpp/error.hpp"
#include "safe_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {
namespace {

UniqueFd open_root() {
    UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        throw_errno("open \"/\"");
    return root;
}

// The path's fd (last component not followed), or none when it is missing.
UniqueFd open_target(int root_fd, const std::string &path, const char *what) {
    std::string rel = clean_relative_path(path);
    int err = 0;
    UniqueFd fd = open_in_root(root_fd, rel, O_PATH | O_NOFOLLOW, err);
    if (!fd) {
        if (err == ENOENT)
            return fd;
        throw Error(std::string(what) + " \"" + path + "\"", err);
    }
    struct stat st {};
    if (fstat(fd.get(), &st) < 0)
        throw Error(std::string(what) + " \"" + path + "\": stat", errno);
    if (S_ISLNK(st.st_mode))
        throw Error(std::string(what) + " \"" + path + "\": is a symlink");
    return fd;
}

UniqueFd verified_dev_null(int root_fd) {
    int err = 0;
    // Whatever /dev resolves to inside the root, the node bound is the one
    // whose type is checked below, through the same fd.
    UniqueFd fd = open_in_root(root_fd, "dev/null", O_PATH | O_NOFOLLOW, err);
    if (!fd)
        throw Error("maskedPaths: open \"/dev/null\"", err);
    struct stat st {};
    if (fstat(fd.get(), &st) < 0)
        throw Error("maskedPaths: stat \"/dev/null\"", errno);
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
        throw Error("maskedPaths: \"/dev/null\" is not the null device (char 1:3)");
    return fd;
}

// An empty tmpfs, read-only down to the superblock (as runc's), not yet
// attached anywhere.
UniqueFd empty_readonly_tmpfs(const std::string &what, const std::string &mount_label) {
    UniqueFd fs(fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!fs)
        throw_errno(what + ": fsopen tmpfs");
    if (!mount_label.empty() && fsconfig(fs.get(), FSCONFIG_SET_STRING, "context", mount_label.c_str(), 0) < 0)
        throw_errno(what + ": context");
    if (fsconfig(fs.get(), FSCONFIG_SET_FLAG, "ro", nullptr, 0) < 0)
        throw_errno(what + ": ro");
    if (fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        throw_errno(what + ": create tmpfs");
    UniqueFd mnt(fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                        MOUNT_ATTR_NOEXEC));
    if (!mnt)
        throw_errno(what + ": fsmount");
    return mnt;
}

// Every masked directory shows the same empty read-only tmpfs: the first
// one gets a new superblock, the others a clone of that mount (nothing can
// be written to it, so they cannot tell), which saves a superblock's set-up
// and teardown per directory in every container.
void mask_dir(int target_fd, const std::string &path, const std::string &mount_label, UniqueFd &first_mask) {
    const std::string what = "mask \"" + path + "\"";
    UniqueFd mnt;
    if (!first_mask) {
        mnt = empty_readonly_tmpfs(what, mount_label);
    } else {
        int err = 0;
        mnt = clone_tree(first_mask.get(), "", false, err);
        if (!mnt)
            throw Error(what + ": clone the mask's tmpfs", err);
    }
    if (int err = attach_tree(mnt.get(), target_fd))
        throw Error(what, err);
    if (!first_mask)
        first_mask = std::move(mnt);
}

} // namespace

void apply_readonly_paths(const std::vector<std::string> &paths) {
    if (paths.empty())
        return;
    UniqueFd root = open_root();
    for (const auto &p : paths) {
        UniqueFd target = open_target(root.get(), p, "readonlyPaths:");
        if (!target)
            continue;
        const std::string what = "readonly \"" + p + "\"";
        int err = 0;
        UniqueFd tree = clone_tree(target.get(), "", true, err);
        if (!tree)
            throw Error(what, err);
        if ((err = set_mount_attr(tree.get(), true, MOUNT_ATTR_RDONLY, 0)) != 0)
            throw Error(what, err);
        if ((err = attach_tree(tree.get(), target.get())) != 0)
            throw Error(what, err);
    }
}

void apply_masked_paths(const std::vector<std::string> &paths, const std::string &mount_label) {
    if (paths.empty())
        return;
    UniqueFd root = open_root();
    UniqueFd null, first_mask;
    for (const auto &p : paths) {
        UniqueFd target = open_target(root.get(), p, "maskedPaths:");
        if (!target)
            continue;
        struct stat st {};
        if (fstat(target.get(), &st) < 0)
            throw Error("mask \"" + p + "\": stat", errno);
        if (S_ISDIR(st.st_mode)) {
            mask_dir(target.get(), p, mount_label, first_mask);
            continue;
        }
        if (!null)
            null = verified_dev_null(root.get());
        int err = 0;
        UniqueFd tree = clone_tree(null.get(), "", false, err);
        if (!tree)
            throw Error("mask \"" + p + "\": bind \"/dev/null\"", err);
        if ((err = attach_tree(tree.get(), target.get())) != 0)
            throw Error("mask \"" + p + "\"", err);
    }
}

} // namespace crunpp::linux
