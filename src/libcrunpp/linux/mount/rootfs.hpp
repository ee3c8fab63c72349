// SPDX-License-Identifier: GPL-2.0-or-later
// The container's root filesystem: propagation, the config's mounts, /dev,
// pivot_root (or MS_MOVE + chroot), masked and read-only paths, readonly root.
#pragma once

#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace crunpp::linux {

struct RootfsOptions {
    bool rootless = false;          // no real root on the host: devices by bind, sysfs by rbind of /sys
    bool user_namespace = false;    // the init is in a new user namespace (mknod not allowed)
    bool network_namespace = true;  // without one, sysfs must be a bind of the host's /sys (runc)
    bool cgroup_namespace = false;  // a "cgroup" mount becomes a real cgroup(2) mount
    bool no_pivot = false;          // --no-pivot: MS_MOVE + chroot
    int exec_fifo_fd = -1;          // kept open across pivot (O_PATH), never closed here
    std::string bundle;             // relative bind sources resolve against it (runc); empty: the cwd
    // Index-aligned with cfg.mounts: detached trees from
    // prepare_idmapped_mounts (-1 or absent: none). Attached, not closed.
    std::vector<int> prepared_mounts;
    // Called once the config's mounts and /dev are made, right before the
    // root change (the createContainer hooks run there, as in runc).
    std::function<void()> before_root_change;
};

// Runs in the container init, in its new mount namespace (after the user
// namespace has its maps and the process is root in it). On return the
// process is in the new root with cwd "/".
void setup_rootfs(const spec::Config &cfg, const std::string &rootfs_abs_path, const RootfsOptions &o);

// A container without a mount namespace shares the caller's: it is only
// chrooted into its rootfs, as the runtime-spec allows (runc and crun run
// it). What would need a mount is refused here, naming the JSON path: it
// would change the caller's mount table and outlive the container.
void check_without_mount_namespace(const spec::Config &cfg);
// In the init of such a container: `before_root_change`, the missing cwd,
// then chroot into the rootfs.
void enter_rootfs_without_mount_namespace(const spec::Config &cfg, const std::string &rootfs_abs_path,
                                          const RootfsOptions &o);

// Host side (the parent, real root) of a container WITH a user namespace
// whose config has idmapped mounts ("idmap"/"ridmap" or uid/gidMappings on
// a bind): the kernel lets only a process in the initial user namespace
// idmap a host filesystem, so the parent makes each such mount as a
// detached tree (idmapped with `container_userns_fd`, the child's
// /proc/PID/ns/user, or a new user namespace for other mappings; flags
// applied) after the child's id maps are written. The fds go to the child
// (SCM_RIGHTS), which passes them in RootfsOptions::prepared_mounts.
// Returns one fd per config mount, invalid where none is needed. Rootless
// callers cannot (the kernel refuses; setup_rootfs reports it).
// `every_bind`: the other bind mounts too (flags applied, not idmapped), so
// that their sources are resolved and opened with the runtime's host
// credentials, as runc and crun do: a source under a directory that the
// container's root cannot search (root's 0700) still works.
std::vector<UniqueFd> prepare_idmapped_mounts(const spec::Config &cfg, const std::string &bundle,
                                              int container_userns_fd, bool every_bind = false);

// The host side of linux.devices that the host lacks at their path, for a
// new user namespace (host_device.cpp): a node made by the runtime (real
// root) on a private tmpfs, owned by the mapped ids, as a detached bind,
// index-aligned with linux.devices (invalid where the host has the path).
// The init gets them after the config's mounts in
// RootfsOptions::prepared_mounts (index cfg.mounts.size() + i).
std::vector<UniqueFd> prepare_missing_devices(const spec::Config &cfg, const std::vector<spec::IdMapping> &uid_maps,
                                              const std::vector<spec::IdMapping> &gid_maps);
bool has_missing_devices(const spec::Config &cfg);

// Issue 4: after setup_rootfs, bind the terminal's pty slave onto
// /dev/console (created as an empty file when missing) of the new root.
void setup_console(int pty_slave_fd);

// The mount options of one config mount, parsed.
struct MountFlags {
    unsigned long set = 0;          // MS_* flags for mount(2) (MS_RDONLY, MS_NOSUID, MS_BIND ...)
    unsigned long clear = 0;        // MS_* flags an option turned off (rw, suid, dev ...)
    unsigned long propagation = 0;  // MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE, with MS_REC for r*
    uint64_t attr_set = 0;          // MOUNT_ATTR_* of the recursive options (rro, rnosuid ...),
    uint64_t attr_clr = 0;          //   applied with mount_setattr(AT_RECURSIVE)
    bool bind = false;              // bind or rbind
    bool recursive = false;         // rbind
    bool idmap = false;             // "idmap" or "ridmap"
    bool idmap_recursive = false;   // "ridmap"
    bool tmpcopyup = false;         // "tmpcopyup": a tmpfs gets a copy of what it covers
    bool explicit_atime = false;    // an atime option was given (relatime, noatime, strictatime...)
    std::string data;               // options unknown as flags, comma-joined: "size=65536k,mode=755"
};

// Parses an OCI mount's options like runc: known flags set bits, anything
// else is data for the filesystem.
MountFlags parse_mount_options(const std::vector<std::string> &options);

// "private", "rslave", "shared"... (rootfsPropagation and mount options) to
// MS_* propagation bits; throws ConfigError on an unknown name.
unsigned long parse_propagation(std::string_view name);

} // namespace crunpp::linux
