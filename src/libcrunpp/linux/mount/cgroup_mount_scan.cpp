// SPDX-License-Identifier: GPL-2.0-or-later
// The cgroup mounts at and directly below /sys/fs/cgroup, asked of the kernel
// mount by mount: statx(2) names each entry's mount (a unique id, Linux 6.8)
// and statmount(2) describes it. Generating /proc/self/mountinfo costs in
// proportion to every mount of the namespace (0.23 ms for 500 mounts here,
// and an engine's host has hundreds); this costs the same on any host.
#include "mountinfo.hpp"

#include "crunpp/unique_fd.hpp"
#include "../../util/dir_entries.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace crunpp::linux {
namespace {

// struct statx as the kernel lays it out (glibc 2.36's has no stx_mnt_id).
struct KernelStatx {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    uint64_t timestamps[8];
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint64_t spare[13];
};
static_assert(offsetof(KernelStatx, mnt_id) == 0x90 && sizeof(KernelStatx) == 0x100);
constexpr uint32_t kStatxType = 0x1;
constexpr uint32_t kStatxMntIdUnique = 0x4000;

// statmount(2)'s request and answer (include/uapi/linux/mount.h).
struct MountIdRequest {
    uint32_t size, spare;
    uint64_t mnt_id, param;
};
constexpr uint32_t kMountIdRequestSize = 24;
struct StatMount {
    uint32_t size, mnt_opts;
    uint64_t mask;
    uint32_t sb_dev_major, sb_dev_minor;
    uint64_t sb_magic;
    uint32_t sb_flags, fs_type;
    uint64_t mnt_id, mnt_parent_id;
    uint32_t mnt_id_old, mnt_parent_id_old;
    uint64_t mnt_attr, mnt_propagation, mnt_peer_group, mnt_master, propagate_from;
    uint32_t mnt_root, mnt_point;
    uint64_t mnt_ns_id;
    uint32_t fs_subtype, sb_source, opt_num, opt_array, opt_sec_num, opt_sec_array;
    uint64_t spare2[46];
};
static_assert(offsetof(StatMount, mnt_root) == 0x68 && sizeof(StatMount) == 0x200);
constexpr uint64_t kStatMountMntBasic = 0x2, kStatMountMntRoot = 0x8, kStatMountFsType = 0x20,
                   kStatMountMntOpts = 0x80;
#ifndef SYS_statmount
constexpr long kSysStatmount = 457; // the same number on every architecture
#else
constexpr long kSysStatmount = SYS_statmount;
#endif

// The unique id of the mount `name` (in dirfd; "" for dirfd itself) is on;
// nullopt with `err` set when the kernel cannot tell (ENOSYS before 6.8).
std::optional<uint64_t> mount_id_of(int dirfd, const char *name, bool &is_dir, int &err) {
    KernelStatx stx{};
    const int flags = name[0] ? AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT : AT_EMPTY_PATH;
    if (syscall(SYS_statx, dirfd, name, flags, kStatxType | kStatxMntIdUnique, &stx) < 0) {
        err = errno;
        return std::nullopt;
    }
    if (!(stx.mask & kStatxMntIdUnique)) {
        err = ENOSYS;
        return std::nullopt;
    }
    is_dir = (stx.mode & S_IFMT) == S_IFDIR;
    return stx.mnt_id;
}

enum class Described { Cgroup, Other, Unknown };

// Fills `out` (but its mountpoint) from the mount `id`.
Described describe(uint64_t id, MountInfo &out) {
    // The strings (filesystem type, root path, options) follow the struct.
    alignas(StatMount) char buf[sizeof(StatMount) + 4096];
    MountIdRequest req{kMountIdRequestSize, 0, id, kStatMountMntBasic | kStatMountMntRoot | kStatMountFsType |
                                                      kStatMountMntOpts};
    if (syscall(kSysStatmount, &req, buf, sizeof buf, 0) < 0)
        return Described::Unknown;
    StatMount sm;
    std::memcpy(&sm, buf, sizeof sm);
    if (!(sm.mask & kStatMountFsType) || !(sm.mask & kStatMountMntRoot) || !(sm.mask & kStatMountMntBasic) ||
        sm.size > sizeof buf)
        return Described::Unknown;
    const char *strings = buf + sizeof(StatMount);
    const size_t strings_size = sm.size - std::min<size_t>(sm.size, sizeof(StatMount));
    auto string_at = [&](uint32_t off) -> std::optional<std::string> {
        if (off >= strings_size || !std::memchr(strings + off, '\0', strings_size - off))
            return std::nullopt;
        return std::string(strings + off);
    };
    std::optional<std::string> fstype = string_at(sm.fs_type), root = string_at(sm.mnt_root);
    if (!fstype || !root)
        return Described::Unknown;
    if (*fstype != "cgroup" && *fstype != "cgroup2")
        return Described::Other;
    // A v1 hierarchy is known by its controllers, which are mount options
    // (statmount tells them from Linux 6.11); cgroup2 has none to tell.
    std::string options;
    if (sm.mask & kStatMountMntOpts) {
        std::optional<std::string> o = string_at(sm.mnt_opts);
        if (!o)
            return Described::Unknown;
        options = std::move(*o);
    } else if (*fstype == "cgroup") {
        return Described::Unknown;
    }
    out.id = static_cast<int>(sm.mnt_id_old);
    out.parent = static_cast<int>(sm.mnt_parent_id_old);
    out.root = std::move(*root);
    out.fstype = std::move(*fstype);
    out.super_options = std::move(options);
    return Described::Cgroup;
}

} // namespace

std::optional<std::vector<MountInfo>> scan_cgroup_mounts() {
    UniqueFd dir(open(kCgroupRoot, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        return std::nullopt;
    bool is_dir = false;
    int err = 0;
    std::optional<uint64_t> root_id = mount_id_of(dir.get(), "", is_dir, err);
    if (!root_id)
        return std::nullopt;
    MountInfo root;
    switch (describe(*root_id, root)) {
    case Described::Unknown:
        return std::nullopt;
    case Described::Cgroup:
        // The unified hierarchy itself (or a v1 one): the directories below
        // are its cgroups, not mounts.
        root.mountpoint = kCgroupRoot;
        return std::vector<MountInfo>{std::move(root)};
    case Described::Other:
        break;
    }
    // Listed in the order they were mounted, as mountinfo lists them.
    std::vector<std::pair<uint64_t, MountInfo>> found;
    bool failed = false;
    const int read_err = util::for_each_dir_entry(dir.get(), [&](std::string_view name, unsigned char type) {
        if (type != DT_DIR && type != DT_UNKNOWN)
            return true;
        // A mount hides the directory it is on: the entry then names the
        // mount's root, of another mount than /sys/fs/cgroup's.
        std::optional<uint64_t> id = mount_id_of(dir.get(), name.data(), is_dir, err);
        if (!id) {
            failed = err != ENOENT; // ENOENT: removed meanwhile
            return !failed;
        }
        if (!is_dir || *id == *root_id)
            return true;
        MountInfo m;
        Described what = describe(*id, m);
        if (what == Described::Unknown) {
            failed = true;
            return false;
        }
        if (what == Described::Cgroup) {
            m.mountpoint = std::string(kCgroupRoot) + "/" + std::string(name);
            found.emplace_back(*id, std::move(m));
        }
        return true;
    });
    if (failed || read_err != 0)
        return std::nullopt;
    std::sort(found.begin(), found.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    std::vector<MountInfo> out;
    out.reserve(found.size());
    for (auto &[id, m] : found)
        out.push_back(std::move(m));
    return out;
}

} // namespace crunpp::linux
