// SPDX-License-Identifier: GPL-2.0-or-later
// linux.devices of a user-namespaced container that the host does not have
// at their path: the init may only bind nodes (mknod is refused in a user
// namespace), so the runtime, real root, makes the node on a private tmpfs
// of its own and hands over a bind of it, as crun does.
#include "rootfs_internal.hpp"

#include "crunpp/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {
namespace {

uint32_t host_id(const std::vector<spec::IdMapping> &maps, uint32_t id) {
    for (const auto &m : maps)
        if (id >= m.containerID && id - m.containerID < m.size)
            return m.hostID + (id - m.containerID);
    throw Error("id " + std::to_string(id) + " is not mapped in the container's user namespace");
}

UniqueFd make_node_tree(const spec::Device &d, const std::vector<spec::IdMapping> &uid_maps,
                        const std::vector<spec::IdMapping> &gid_maps) {
    const std::string what = "create device \"" + d.path + "\" (missing on the host)";
    UniqueFd fs(fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!fs)
        throw_errno(what + ": fsopen tmpfs");
    if (fsconfig(fs.get(), FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
        fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        throw_errno(what + ": tmpfs");
    UniqueFd mnt(fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
    if (!mnt)
        throw_errno(what + ": fsmount");
    const mode_t type = d.type == "b" ? S_IFBLK : S_IFCHR;
    const mode_t perm = d.fileMode.value_or(0666) & 07777;
    if (mknodat(mnt.get(), "node", type | perm, makedev(unsigned(d.major), unsigned(d.minor))) < 0 ||
        fchmodat(mnt.get(), "node", perm, 0) < 0)
        throw_errno(what);
    if (fchownat(mnt.get(), "node", host_id(uid_maps, d.uid.value_or(0)), host_id(gid_maps, d.gid.value_or(0)),
                 AT_SYMLINK_NOFOLLOW) < 0)
        throw_errno(what + ": chown");
    int err = 0;
    UniqueFd tree = clone_tree(mnt.get(), "node", false, err);
    if (!tree)
        throw Error(what + ": bind", err);
    return tree;
}

} // namespace

std::vector<UniqueFd> prepare_missing_devices(const spec::Config &cfg, const std::vector<spec::IdMapping> &uid_maps,
                                              const std::vector<spec::IdMapping> &gid_maps) {
    std::vector<UniqueFd> trees;
    if (!cfg.linux)
        return trees;
    trees.resize(cfg.linux->devices.size());
    for (size_t i = 0; i < cfg.linux->devices.size(); i++) {
        const spec::Device &d = cfg.linux->devices[i];
        struct stat st;
        if (d.type == "p" || lstat(d.path.c_str(), &st) == 0 || errno != ENOENT)
            continue;
        trees[i] = make_node_tree(d, uid_maps, gid_maps);
    }
    return trees;
}

bool has_missing_devices(const spec::Config &cfg) {
    if (!cfg.linux)
        return false;
    struct stat st;
    for (const spec::Device &d : cfg.linux->devices)
        if (d.type != "p" && lstat(d.path.c_str(), &st) < 0 && errno == ENOENT)
            return true;
    return false;
}

} // namespace crunpp::linux
