// SPDX-License-Identifier: GPL-2.0-or-later
// /proc/self/mountinfo, parsed (the rootfs code needs the parent mount of
// the rootfs, the host's proc/sysfs mounts and the cgroup hierarchies).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crunpp::linux {

// Where the host's cgroup hierarchies are mounted.
inline constexpr const char *kCgroupRoot = "/sys/fs/cgroup";

struct MountInfo {
    int id = 0, parent = 0;
    std::string root;           // path of the mount's root inside its filesystem
    std::string mountpoint;
    std::string options;        // per-mount options: "rw,nosuid,relatime"
    std::string optional;       // optional fields: "shared:1 master:2"
    std::string fstype;
    std::string source;
    std::string super_options;  // per-superblock options: "rw,cpu,cpuacct"
};

// Parses mountinfo text (octal escapes such as \040 decoded). Throws on a
// malformed line.
std::vector<MountInfo> parse_mountinfo(std::string_view text);
// Reads and parses /proc/self/mountinfo.
std::vector<MountInfo> read_mountinfo();
// The cgroup and cgroup2 mounts at /sys/fs/cgroup and directly below it, as
// this process first found them, kept for the process and its forks: the
// host's cgroup hierarchies do not change during one command, and the init
// (a fork made in a copy of the mount namespace) then mounts them without
// looking again. Found by scan_cgroup_mounts, or, when the kernel cannot
// tell that way, read from /proc/self/mountinfo (then every cgroup mount of
// it, wherever it is).
const std::vector<MountInfo> &cgroup_mounts();
// The cgroup mounts at /sys/fs/cgroup (when it is one) or on its
// subdirectories, in mount order, with their id, parent, root, fstype and
// super_options ("cpu,cpuacct"; other fields empty), from statx and
// statmount(2): nullopt when the kernel cannot tell them (before Linux 6.8,
// or 6.11 for a v1 hierarchy's controllers) or anything is unexpected.
std::optional<std::vector<MountInfo>> scan_cgroup_mounts();
// Drops what cgroup_mounts() kept: the process is joining another mount
// namespace (linux.namespaces' path), whose mounts may differ.
void forget_cgroup_mounts();

// Whether `path` is `dir` or below it (both absolute, clean).
bool path_is_under(std::string_view path, std::string_view dir);

} // namespace crunpp::linux
