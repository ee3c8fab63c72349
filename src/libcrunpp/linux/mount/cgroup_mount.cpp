// SPDX-License-Identifier: GPL-2.0-or-later
// The "cgroup" mount: on a cgroup v2 host a cgroup2 mount (a bind of the
// container's own cgroup when the kernel refuses it); on a v1 or hybrid host
// a tmpfs holding each hierarchy of the container's own cgroup: mounted
// fresh in a cgroup namespace (which roots them at the container's cgroup),
// else bound from the host's hierarchy at the container's path.
#include "rootfs_internal.hpp"

#include "crunpp/error.hpp"
#include "file_util.hpp"
#include "mountinfo.hpp"
#include "safe_path.hpp"
#include "../../util/strings.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {
namespace {

struct Hierarchy {
    std::string name;        // directory under the cgroup mount: "cpu,cpuacct", "systemd", "unified"
    std::string controllers; // mount data for v1: "cpu,cpuacct", "none,name=systemd"; empty for v2
    std::string host_source; // the container's cgroup in the host's hierarchy
    bool v2 = false;
};

using util::split;

bool has_all(const std::vector<std::string> &have, const std::vector<std::string> &want) {
    for (const auto &w : want) {
        bool found = false;
        for (const auto &h : have)
            found = found || h == w;
        if (!found)
            return false;
    }
    return true;
}

// The host path of `cg_path` in a hierarchy mounted at `mi`.
std::string host_path_in(const MountInfo &mi, const std::string &cg_path) {
    std::string rel = cg_path;
    if (mi.root != "/" && path_is_under(cg_path, mi.root))
        rel = cg_path.substr(mi.root.size());
    return mi.mountpoint + (rel == "/" ? "" : rel);
}

// The hierarchies of a v1/hybrid host this process belongs to.
std::vector<Hierarchy> read_hierarchies() {
    const std::vector<MountInfo> &mounts = cgroup_mounts();
    std::vector<Hierarchy> out;
    for (const auto &line : split(read_file_at(AT_FDCWD, "/proc/self/cgroup"), '\n')) {
        size_t c1 = line.find(':');
        size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string::npos)
            continue;
        std::string ctrls = line.substr(c1 + 1, c2 - c1 - 1);
        std::string path = line.substr(c2 + 1);
        Hierarchy h;
        if (ctrls.empty()) {
            for (const auto &mi : mounts)
                if (mi.fstype == "cgroup2" && path_is_under(mi.mountpoint, kCgroupRoot) && mi.mountpoint != kCgroupRoot) {
                    h.name = mi.mountpoint.substr(mi.mountpoint.rfind('/') + 1);
                    h.host_source = host_path_in(mi, path);
                    h.v2 = true;
                    break;
                }
        } else {
            auto want = split(ctrls, ',');
            for (const auto &mi : mounts) {
                if (mi.fstype != "cgroup" || !path_is_under(mi.mountpoint, kCgroupRoot) ||
                    !has_all(split(mi.super_options, ','), want))
                    continue;
                h.name = mi.mountpoint.substr(mi.mountpoint.rfind('/') + 1);
                h.host_source = host_path_in(mi, path);
                break;
            }
            h.controllers = ctrls.rfind("name=", 0) == 0 ? "none," + ctrls : ctrls;
        }
        if (!h.name.empty())
            out.push_back(std::move(h));
    }
    return out;
}

std::string own_v2_path() {
    for (const auto &line : split(read_file_at(AT_FDCWD, "/proc/self/cgroup"), '\n'))
        if (line.rfind("0::", 0) == 0)
            return line.substr(3);
    throw Error("/proc/self/cgroup: no cgroup v2 entry");
}

void bind_cgroup(MountContext &c, const spec::Mount &m, const MountFlags &f, const std::string &source, int dest_fd) {
    int err = 0;
    UniqueFd tree = clone_tree(AT_FDCWD, source, true, err);
    if (!tree)
        throw Error(mount_context(m) + ": bind \"" + source + "\"", err);
    MountFlags bf = f;
    bf.propagation = 0;
    attach_bind(c, m, bf, std::move(tree), dest_fd);
}

// A fresh cgroup2 mount (of the caller's cgroup namespace) attached onto
// dest_fd through the new mount API. Returns 0 or an errno.
int fsmount_cgroup2(const MountFlags &f, int dest_fd) {
    UniqueFd fs(fsopen("cgroup2", FSOPEN_CLOEXEC));
    if (!fs)
        return errno;
    for (const std::string &opt : split(f.data, ','))
        if (fsconfig(fs.get(), FSCONFIG_SET_FLAG, opt.c_str(), nullptr, 0) < 0)
            return errno;
    if (fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return errno;
    uint64_t attr_set = 0, attr_clr = 0;
    ms_flags_to_attr(f.set, 0, true, attr_set, attr_clr);
    UniqueFd mnt(fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned int>(attr_set)));
    if (!mnt)
        return errno;
    return attach_tree(mnt.get(), dest_fd);
}

void mount_v2(MountContext &c, const spec::Mount &m, const MountFlags &f, int dest_fd, const std::string &rel) {
    // Outside a cgroup namespace a fresh cgroup2 mount shows the host's whole
    // tree: bind the container's own cgroup instead (runc).
    if (!c.opts.cgroup_namespace) {
        bind_cgroup(c, m, f, std::string(kCgroupRoot) + own_v2_path(), dest_fd);
        return;
    }
    int err = c.proc_fd.mount_on("cgroup2", dest_fd, "cgroup2", f.set, f.data.empty() ? nullptr : f.data.c_str());
    // mount(2) refuses a filesystem on top of a mount of the same one (EBUSY):
    // the destination is in the host's /sys, rbound for a rootless
    // container. A detached mount moved into place has no such rule.
    if (err == EBUSY)
        err = fsmount_cgroup2(f, dest_fd);
    if (err == 0) {
        MountFlags after;
        after.attr_set = f.attr_set;
        after.attr_clr = f.attr_clr;
        int e2 = 0;
        UniqueFd fd = open_in_root(c.root_fd, rel, O_PATH, e2);
        if (fd && (after.attr_set | after.attr_clr))
            if ((e2 = set_mount_attr_keep_locked(fd.get(), true, after.attr_set, after.attr_clr)) != 0)
                throw Error(mount_context(m) + ": recursive attributes", e2);
        return;
    }
    // A user namespace without its own cgroup namespace cannot mount
    // cgroup2: bind the container's own cgroup instead (runc).
    if (err != EPERM && err != EBUSY)
        throw Error(mount_context(m), err);
    bind_cgroup(c, m, f, std::string(kCgroupRoot) + own_v2_path(), dest_fd);
}

} // namespace

void mount_cgroup(MountContext &c, const spec::Mount &m, const MountFlags &f, int dest_fd) {
    std::string rel = clean_relative_path(m.destination);
    struct statfs sf {};
    if (statfs(kCgroupRoot, &sf) < 0)
        throw Error(mount_context(m) + ": statfs \"" + kCgroupRoot + "\"", errno);
    if (sf.f_type == CGROUP2_SUPER_MAGIC) {
        mount_v2(c, m, f, dest_fd, rel);
        return;
    }

    // v1 or hybrid: a tmpfs to hold the hierarchies, read-only at the end.
    auto hierarchies = read_hierarchies();
    unsigned long tmpfs_flags = (f.set & (MS_NOSUID | MS_NODEV | MS_NOEXEC)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    int err = c.proc_fd.mount_on("tmpfs", dest_fd, "tmpfs", tmpfs_flags, "mode=755");
    if (err != 0)
        throw Error(mount_context(m) + ": tmpfs", err);
    int e = 0;
    UniqueFd top = open_in_root(c.root_fd, rel, O_PATH | O_DIRECTORY, e);
    if (!top)
        throw Error(mount_context(m) + ": reopen", e);

    for (const auto &h : hierarchies) {
        std::string sub = rel + "/" + h.name;
        // In the tmpfs just mounted, which nothing else can have reached:
        // made and opened from its fd, not resolved again from the root.
        if (mkdirat(top.get(), h.name.c_str(), 0755) < 0 && errno != EEXIST)
            throw Error(mount_context(m) + ": mkdir \"" + display_path(sub) + "\"", errno);
        UniqueFd dir(openat(top.get(), h.name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir)
            throw Error(mount_context(m) + ": open \"" + display_path(sub) + "\"", errno);
        if (c.opts.cgroup_namespace) {
            // Mounted in the cgroup namespace, the hierarchy's root is the
            // container's own cgroup.
            const char *type = h.v2 ? "cgroup2" : "cgroup";
            int merr = c.proc_fd.mount_on("cgroup", dir.get(), type, f.set & ~MS_REMOUNT,
                                          h.v2 ? nullptr : h.controllers.c_str());
            if (merr != 0)
                throw Error(mount_context(m) + ": mount \"" + std::string(type) + "\" on \"" + display_path(sub) + "\"",
                            merr);
        } else {
            if (h.host_source.empty())
                continue;
            bind_cgroup(c, m, f, h.host_source, dir.get());
        }
        // Co-mounted controllers are reachable by each name ("cpu" -> "cpu,cpuacct").
        if (!h.v2 && h.name.find(',') != std::string::npos) {
            for (const auto &ctrl : split(h.name, ','))
                if (symlinkat(h.name.c_str(), top.get(), ctrl.c_str()) < 0 && errno != EEXIST)
                    throw Error(mount_context(m) + ": symlink \"" + display_path(rel + "/" + ctrl) + "\"", errno);
        }
    }
    if (f.set & MS_RDONLY) {
        if ((err = set_mount_attr(top.get(), false, MOUNT_ATTR_RDONLY, 0)) != 0)
            throw Error(mount_context(m) + ": read-only tmpfs", err);
    }
    if (f.attr_set | f.attr_clr)
        if ((err = set_mount_attr_keep_locked(top.get(), true, f.attr_set, f.attr_clr)) != 0)
            throw Error(mount_context(m) + ": recursive attributes", err);
}

} // namespace crunpp::linux
