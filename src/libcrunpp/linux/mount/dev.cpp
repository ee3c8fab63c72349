// SPDX-License-Identifier: GPL-2.0-or-later
// /dev when the config mounts a fresh filesystem on it: the default devices
// and linux.devices (mknod as real root, bind of the host's node inside a
// user namespace, where mknod is refused), then the standard symlinks.
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

const spec::Device kDefaultDevices[] = {
    {"c", "/dev/null", 1, 3, 0666, 0, 0},    {"c", "/dev/zero", 1, 5, 0666, 0, 0},
    {"c", "/dev/full", 1, 7, 0666, 0, 0},    {"c", "/dev/random", 1, 8, 0666, 0, 0},
    {"c", "/dev/urandom", 1, 9, 0666, 0, 0}, {"c", "/dev/tty", 5, 0, 0666, 0, 0},
};

mode_t device_type_bits(const spec::Device &d) {
    if (d.type == "c" || d.type == "u")
        return S_IFCHR;
    if (d.type == "b")
        return S_IFBLK;
    if (d.type == "p")
        return S_IFIFO;
    throw ConfigError(".linux.devices", "\"" + d.path + "\": unknown device type \"" + d.type + "\"");
}

// What setup_dev makes its nodes with: most are in /dev, which is opened
// once; the credentials a node gets from mknod, which then needs no chown.
struct DeviceDir {
    std::string rel;
    UniqueFd fd;
    bool setgid = false;
    uid_t euid = geteuid();
    gid_t egid = getegid();
};

// `prepared`: the runtime's bind of a node the host lacks, or -1.
void create_device(MountContext &c, const spec::Device &d, DeviceDir &dir_cache, int prepared = -1) {
    std::string rel = clean_relative_path(d.path);
    const std::string what = "create device \"" + d.path + "\"";
    if (rel.empty())
        throw ConfigError(".linux.devices", what + ": not a file path");
    mode_t type = device_type_bits(d);
    mode_t perm = d.fileMode.value_or(0666) & 07777;
    size_t slash = rel.rfind('/');
    std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash);
    if (!dir_cache.fd || dir_cache.rel != parent) {
        try {
            dir_cache.fd = mkdir_all_in_root(c.root_fd, parent);
        } catch (Error &e) {
            throw e.wrap(what);
        }
        struct stat st {};
        if (fstat(dir_cache.fd.get(), &st) < 0)
            throw_errno(what + ": stat its directory");
        dir_cache.rel = parent;
        dir_cache.setgid = (st.st_mode & S_ISGID) != 0;
    }
    const UniqueFd &dir = dir_cache.fd;
    // An entry already there (a node of the rootfs' /dev under a bind, or
    // the config listing a path twice) is replaced; unlinkat never follows
    // a symlink.
    auto replace_existing = [&] {
        if (unlinkat(dir.get(), name.c_str(), 0) < 0 && errno != ENOENT)
            throw_errno(what + ": remove the existing entry");
    };

    bool bind = type != S_IFIFO && (c.opts.rootless || c.opts.user_namespace);
    if (bind) {
        int err = 0;
        UniqueFd tree = prepared >= 0 ? UniqueFd(fcntl(prepared, F_DUPFD_CLOEXEC, 0)) : clone_tree(AT_FDCWD, d.path, false, err);
        if (!tree && prepared >= 0)
            throw_errno(what);
        if (!tree)
            throw Error(what + ": bind \"" + d.path + "\" of the host", err);
        // A node bound in, not made: nothing on it is to be executed or
        // gain privileges (crun binds them nosuid,noexec). The runtime's
        // prepared bind has them already.
        if (prepared < 0 && (err = set_mount_attr(tree.get(), false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0)) != 0)
            throw Error(what + ": nosuid,noexec on the bind of \"" + d.path + "\"", err);
        UniqueFd file(openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!file && errno == EEXIST) {
            replace_existing();
            file.reset(openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        }
        if (!file)
            throw_errno(what);
        file.reset();
        UniqueFd target = open_in_root(c.root_fd, rel, O_PATH | O_NOFOLLOW, err);
        if (!target)
            throw Error(what, err);
        if ((err = attach_tree(tree.get(), target.get())) != 0)
            throw Error(what + ": bind \"" + d.path + "\" of the host", err);
        return;
    }
    dev_t rdev = makedev(unsigned(d.major), unsigned(d.minor));
    int rc = mknodat(dir.get(), name.c_str(), type | perm, rdev);
    if (rc < 0 && errno == EEXIST) {
        replace_existing();
        rc = mknodat(dir.get(), name.c_str(), type | perm, rdev);
    }
    if (rc < 0)
        throw_errno(what);
    // Made under umask 0 (setup_dev): the mode is exact unless it has the
    // setuid, setgid or sticky bit, which mknod may drop. The owner is the
    // creator's unless the directory is setgid.
    if ((perm & 07000) && fchmodat(dir.get(), name.c_str(), perm, 0) < 0)
        throw_errno(what + ": chmod");
    const uid_t uid = d.uid.value_or(0);
    const gid_t gid = d.gid.value_or(0);
    if ((uid != dir_cache.euid || gid != dir_cache.egid || dir_cache.setgid) &&
        fchownat(dir.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        throw_errno(what + ": chown");
}

void symlink_in(int dir_fd, const char *target, const char *name) {
    if (symlinkat(target, dir_fd, name) < 0 && errno != EEXIST)
        throw_errno(std::string("symlink \"/dev/") + name + "\" -> \"" + target + "\"");
}

} // namespace

void setup_dev(MountContext &c) {
    std::vector<spec::Device> devices;
    const auto *config_devices = c.cfg.linux ? &c.cfg.linux->devices : nullptr;
    for (const auto &d : kDefaultDevices) {
        const std::string rel = clean_relative_path(d.path);
        bool listed = false;
        if (config_devices)
            for (const auto &cd : *config_devices)
                listed = listed || clean_relative_path(cd.path) == rel;
        // A config mount on the path (podman binds the host's nodes for a
        // rootless --privileged container) already provides the device.
        for (const auto &m : c.cfg.mounts)
            listed = listed || clean_relative_path(m.destination) == rel;
        if (!listed)
            devices.push_back(d);
    }
    {
        UmaskGuard exact_modes(0);
        DeviceDir dir;
        for (const auto &d : devices)
            create_device(c, d, dir);
        const size_t first = c.cfg.mounts.size();
        for (size_t i = 0; config_devices && i < config_devices->size(); i++)
            create_device(c, (*config_devices)[i], dir,
                          first + i < c.opts.prepared_mounts.size() ? c.opts.prepared_mounts[first + i] : -1);
    }

    int err = 0;
    UniqueFd dev = open_in_root(c.root_fd, "dev", O_PATH | O_DIRECTORY, err);
    if (!dev)
        throw Error("open \"/dev\"", err);
    symlink_in(dev.get(), "/proc/self/fd", "fd");
    symlink_in(dev.get(), "/proc/self/fd/0", "stdin");
    symlink_in(dev.get(), "/proc/self/fd/1", "stdout");
    symlink_in(dev.get(), "/proc/self/fd/2", "stderr");
    if (access("/proc/kcore", F_OK) == 0)
        symlink_in(dev.get(), "/proc/kcore", "core");
    // The ptmx of the container's own devpts instance.
    if (unlinkat(dev.get(), "ptmx", 0) < 0 && errno != ENOENT)
        throw_errno("remove \"/dev/ptmx\"");
    symlink_in(dev.get(), "pts/ptmx", "ptmx");
}

// The stdio an engine gives as the host's /dev/null (podman -d's stdin)
// would stay a file of a mount outside the container: CRIU cannot dump such
// a descriptor. As runc does, they become the container's own /dev/null;
// /dev/null is only opened when one of them is it.
void reopen_dev_null() {
    const dev_t null_dev = makedev(1, 3);
    bool any = false;
    bool is_null[3] = {};
    for (int fd = 0; fd < 3; fd++) {
        struct stat st {};
        is_null[fd] = fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == null_dev;
        any = any || is_null[fd];
    }
    if (!any)
        return;
    UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null)
        throw_errno("open the container's \"/dev/null\" for the stdio");
    for (int fd = 0; fd < 3; fd++)
        if (is_null[fd] && dup3(null.get(), fd, 0) < 0)
            throw_errno("dup3 the container's \"/dev/null\" to fd " + std::to_string(fd));
}

} // namespace crunpp::linux
