// SPDX-License-Identifier: GPL-2.0-or-later
// The entries of config.mounts: binds through detached trees (open_tree +
// mount_setattr + move_mount), filesystems through mount(2) onto the
// verified destination fd, with runc's rootless fallbacks.
#include "rootfs_internal.hpp"

#include "crunpp/error.hpp"
#include "file_util.hpp"
#include "safe_path.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>

namespace crunpp::linux {
namespace {

std::string mount_path(size_t index, const char *field) {
    return ".mounts[" + std::to_string(index) + "]." + field;
}

[[noreturn]] void fail(const spec::Mount &m, int err, const std::string &step = {}) {
    std::string what = mount_context(m);
    if (!step.empty())
        what += ": " + step;
    throw Error(std::move(what), err);
}

// Whether `gid` is mapped in this process's user namespace.
bool gid_is_mapped(uint32_t gid) {
    std::string map = read_file_at(AT_FDCWD, "/proc/self/gid_map");
    size_t pos = 0;
    while (pos < map.size()) {
        size_t nl = map.find('\n', pos);
        if (nl == std::string::npos)
            nl = map.size();
        unsigned long long inner = 0, outer = 0, count = 0;
        if (sscanf(map.substr(pos, nl - pos).c_str(), "%llu %llu %llu", &inner, &outer, &count) == 3 &&
            gid >= inner && gid - inner < count)
            return true;
        pos = nl + 1;
    }
    return false;
}

// devpts data without a "gid=N" whose N is not mapped in the user namespace
// (the kernel refuses the mount otherwise, and the tty group does not exist).
std::string devpts_data(const MountContext &c, const std::string &data) {
    if (!c.opts.user_namespace && !c.opts.rootless)
        return data;
    std::string out;
    size_t pos = 0;
    while (pos <= data.size()) {
        size_t comma = data.find(',', pos);
        if (comma == std::string::npos)
            comma = data.size();
        std::string opt = data.substr(pos, comma - pos);
        bool drop = false;
        if (opt.rfind("gid=", 0) == 0) {
            uint32_t gid = 0;
            auto [p, ec] = std::from_chars(opt.data() + 4, opt.data() + opt.size(), gid);
            drop = ec == std::errc() && p == opt.data() + opt.size() && !gid_is_mapped(gid);
        }
        if (!drop && !opt.empty())
            out += (out.empty() ? "" : ",") + opt;
        pos = comma + 1;
    }
    return out;
}

std::string with_label(const MountContext &c, const std::string &data) {
    if (c.mount_label.empty())
        return data;
    return data + (data.empty() ? "" : ",") + "context=\"" + c.mount_label + "\"";
}

// Recursive attributes and propagation of `f` on the mount now at `rel`.
void apply_after_attach(MountContext &c, const spec::Mount &m, const MountFlags &f, const std::string &rel) {
    if (f.attr_set == 0 && f.attr_clr == 0 && f.propagation == 0)
        return;
    int err = 0;
    UniqueFd fd = open_in_root(c.root_fd, rel, O_PATH, err);
    if (!fd)
        fail(m, err, "reopen");
    if ((f.attr_set | f.attr_clr) != 0) {
        if ((err = set_mount_attr_keep_locked(fd.get(), true, f.attr_set, f.attr_clr)) != 0)
            fail(m, err, "recursive attributes");
    }
    if (f.propagation != 0) {
        if ((err = set_mount_attr(fd.get(), (f.propagation & MS_REC) != 0, 0, 0, f.propagation & ~MS_REC)) != 0)
            fail(m, err, "propagation");
    }
}

UniqueFd open_bind_source(MountContext &c, const spec::Mount &m, bool recursive) {
    const std::string &src = *m.source;
    int dirfd = src.size() > 0 && src[0] == '/' ? AT_FDCWD : c.bundle_fd;
    int err = 0;
    UniqueFd tree = clone_tree(dirfd, src, recursive, err);
    if (!tree)
        fail(m, err);
    return tree;
}

// A bind of a host path (sysfs and mqueue fallbacks) with the mount's flags.
void bind_host_path(MountContext &c, const spec::Mount &m, const MountFlags &f, const std::string &host_path,
                    int dest_fd, bool recursive_flags) {
    int err = 0;
    UniqueFd tree = clone_tree(AT_FDCWD, host_path, true, err);
    if (!tree)
        fail(m, err, "bind \"" + host_path + "\"");
    MountFlags bf = f;
    if (recursive_flags) {
        // Read-only and friends cover the submounts too (/sys/fs/cgroup...).
        uint64_t s = 0, cl = 0;
        ms_flags_to_attr(f.set, f.clear, false, s, cl);
        bf.attr_set |= s;
        bf.attr_clr = (bf.attr_clr | cl) & ~bf.attr_set;
    }
    attach_bind(c, m, bf, std::move(tree), dest_fd);
}

// A destination that resolved onto procfs (a rootfs symlink such as
// "/data -> /proc", or a path under the container's /proc) could hide the
// kernel's files (/proc/self/attr...) behind the mount: refused but for the
// files lxcfs provides and a proc mount on a proc (CVE-2019-19921, runc's
// rule).
void check_procfs_destination(const spec::Mount &m, const std::string &rel, int dest_fd, const std::string &type) {
    struct statfs sf {};
    if (fstatfs(dest_fd, &sf) < 0)
        fail(m, errno, "statfs the destination");
    if (sf.f_type != PROC_SUPER_MAGIC)
        return;
    static const char *const kAllowed[] = {
        "proc/cpuinfo", "proc/diskstats", "proc/meminfo", "proc/stat",    "proc/swaps",
        "proc/uptime",  "proc/loadavg",   "proc/slabinfo", "proc/net/dev", "proc/sys/kernel/ns_last_pid",
    };
    if (rel == "proc" && type == "proc")
        return;
    for (const char *a : kAllowed)
        if (rel == a)
            return;
    throw Error(mount_context(m) + ": the destination is inside procfs");
}

} // namespace

std::string mount_context(const spec::Mount &m) {
    std::string src = m.source ? *m.source : m.type ? *m.type : std::string("none");
    return "mount \"" + src + "\" on \"" + m.destination + "\"";
}

void configure_bind_tree(const spec::Mount &m, const MountFlags &f, int tree, int userns_fd) {
    int err;
    if (userns_fd >= 0) {
        err = set_mount_attr(tree, f.idmap_recursive || (f.recursive && !f.idmap), MOUNT_ATTR_IDMAP, 0, 0, userns_fd);
        if (err != 0)
            fail(m, err, "idmapped mount");
    }
    uint64_t attr_set = 0, attr_clr = 0;
    ms_flags_to_attr(f.set, f.clear, f.explicit_atime, attr_set, attr_clr);
    if ((err = set_mount_attr_keep_locked(tree, false, attr_set, attr_clr)) != 0)
        fail(m, err, "mount attributes");
    if ((err = set_mount_attr_keep_locked(tree, true, f.attr_set, f.attr_clr)) != 0)
        fail(m, err, "recursive attributes");
}

void attach_configured_tree(MountContext &c, const spec::Mount &m, const MountFlags &f, int tree, int dest_fd) {
    int err = attach_tree(tree, dest_fd);
    if (err != 0)
        fail(m, err);
    if (f.propagation != 0) {
        // The destination fd still names the covered directory: reopen it.
        UniqueFd top = open_in_root(c.root_fd, clean_relative_path(m.destination), O_PATH, err);
        if (!top)
            fail(m, err, "reopen");
        if ((err = set_mount_attr(top.get(), (f.propagation & MS_REC) != 0, 0, 0, f.propagation & ~MS_REC)) != 0)
            fail(m, err, "propagation");
    }
}

void attach_bind(MountContext &c, const spec::Mount &m, const MountFlags &f, UniqueFd tree, int dest_fd,
                 int userns_fd) {
    configure_bind_tree(m, f, tree.get(), userns_fd);
    attach_configured_tree(c, m, f, tree.get(), dest_fd);
}

void mount_filesystem(MountContext &c, const spec::Mount &m, const MountFlags &f, int dest_fd, const std::string &type,
                      const std::string &source, unsigned long flags, const std::string &data) {
    // proc and sysfs take no SELinux context option.
    std::string full = type == "proc" || type == "sysfs" ? data : with_label(c, data);
    int err = c.proc_fd.mount_on(source.c_str(), dest_fd, type.c_str(), flags, full.empty() ? nullptr : full.c_str());
    if (err != 0)
        fail(m, err);
    MountFlags after;
    after.attr_set = f.attr_set;
    after.attr_clr = f.attr_clr;
    after.propagation = f.propagation;
    apply_after_attach(c, m, after, clean_relative_path(m.destination));
}

void mount_config_entry(MountContext &c, const spec::Mount &m, size_t index) {
    MountFlags f = parse_mount_options(m.options);
    std::string type = m.type.value_or("");
    bool bind = f.bind || type == "bind";
    std::string rel = clean_relative_path(m.destination);
    if (rel.empty())
        throw ConfigError(mount_path(index, "destination"), "cannot mount over the container's root \"/\"");
    if (f.tmpcopyup && type != "tmpfs")
        throw ConfigError(mount_path(index, "options"), "\"tmpcopyup\" needs a tmpfs mount");
    bool idmapped = wants_idmap(m, f);
    if (idmapped && !bind)
        throw ConfigError(mount_path(index, "options"), "idmapped mounts need a bind mount");

    if (f.set & MS_REMOUNT) {
        // Changes an existing mount in place: the destination must exist.
        int err = 0;
        UniqueFd dest = open_in_root(c.root_fd, rel, O_PATH, err);
        if (!dest)
            fail(m, err);
        unsigned long flags = f.set | (bind ? MS_BIND : 0);
        std::string data = with_label(c, f.data);
        if ((err = c.proc_fd.mount_on(m.source ? m.source->c_str() : nullptr, dest.get(),
                                      type.empty() ? nullptr : type.c_str(), flags,
                                      data.empty() ? nullptr : data.c_str())) != 0)
            fail(m, err);
        apply_after_attach(c, m, f, rel);
        return;
    }

    if (bind) {
        if (!m.source || m.source->empty())
            throw ConfigError(mount_path(index, "source"), "a bind mount needs a source");
        // A tree the host side prepared (idmapped, flags set): attach it.
        int prepared = index < c.opts.prepared_mounts.size() ? c.opts.prepared_mounts[index] : -1;
        UniqueFd tree;
        if (prepared < 0)
            tree = open_bind_source(c, m, f.recursive);
        struct stat st {};
        if (fstat(prepared >= 0 ? prepared : tree.get(), &st) < 0)
            fail(m, errno, "stat source");
        UniqueFd dest;
        try {
            dest = ensure_in_root(c.root_fd, rel, S_ISDIR(st.st_mode));
        } catch (Error &e) {
            throw e.wrap(mount_context(m));
        }
        check_procfs_destination(m, rel, dest.get(), type);
        if (prepared >= 0) {
            attach_configured_tree(c, m, f, prepared, dest.get());
            return;
        }
        UniqueFd userns;
        if (idmapped)
            userns = idmap_userns(c, m, index);
        attach_bind(c, m, f, std::move(tree), dest.get(), userns ? userns.get() : -1);
        return;
    }

    if (type.empty())
        throw ConfigError(mount_path(index, "type"), "missing (and the mount is not a bind mount)");
    UniqueFd dest;
    try {
        dest = ensure_in_root(c.root_fd, rel, true);
    } catch (Error &e) {
        throw e.wrap(mount_context(m));
    }
    check_procfs_destination(m, rel, dest.get(), type);
    std::string source = m.source.value_or(type);
    unsigned long flags = f.set;

    if (type == "cgroup" || type == "cgroup2") {
        mount_cgroup(c, m, f, dest.get());
        return;
    }
    if (type == "sysfs") {
        // Without its own network namespace a container may not mount
        // sysfs (it shows the host's network devices): bind the host's.
        if (!c.opts.network_namespace) {
            bind_host_path(c, m, f, "/sys", dest.get(), true);
            return;
        }
        int err = c.proc_fd.mount_on(source.c_str(), dest.get(), "sysfs", flags,
                                     f.data.empty() ? nullptr : f.data.c_str());
        if (err == EPERM && (c.opts.user_namespace || c.opts.rootless)) {
            bind_host_path(c, m, f, "/sys", dest.get(), true);
            return;
        }
        if (err != 0)
            fail(m, err);
        apply_after_attach(c, m, f, rel);
        return;
    }
    if (type == "mqueue") {
        int err = c.proc_fd.mount_on(source.c_str(), dest.get(), "mqueue", flags,
                                     f.data.empty() ? nullptr : f.data.c_str());
        // No ipc namespace of its own (or one not owned by the user
        // namespace): bind the host's /dev/mqueue, as runc does.
        if (err == EPERM) {
            bind_host_path(c, m, f, "/dev/mqueue", dest.get(), false);
            return;
        }
        if (err != 0)
            fail(m, err);
        apply_after_attach(c, m, f, rel);
        return;
    }
    if (f.tmpcopyup) {
        // The directory under the tmpfs stays reachable through `dest`.
        int err = 0;
        MountFlags writable = f;
        writable.set &= ~MS_RDONLY;
        writable.attr_set = writable.attr_clr = 0;
        writable.propagation = 0;
        mount_filesystem(c, m, writable, dest.get(), type, source, flags & ~MS_RDONLY, f.data);
        UniqueFd tmpfs = open_in_root(c.root_fd, rel, O_PATH | O_DIRECTORY, err);
        if (!tmpfs)
            fail(m, err, "reopen");
        try {
            copy_up(dest.get(), tmpfs.get(), m.destination);
        } catch (Error &e) {
            throw e.wrap(mount_context(m));
        }
        if ((flags & MS_RDONLY) && (err = set_mount_attr(tmpfs.get(), false, MOUNT_ATTR_RDONLY, 0)) != 0)
            fail(m, err, "read-only");
        apply_after_attach(c, m, f, rel);
        return;
    }
    std::string data = f.data;
    if (type == "devpts")
        data = devpts_data(c, data);
    mount_filesystem(c, m, f, dest.get(), type, source, flags, data);
}

} // namespace crunpp::linux
