// SPDX-License-Identifier: GPL-2.0-or-later
// Pieces of setup_rootfs shared between its files (not a public interface).
#pragma once

#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"
#include "mount_api.hpp"
#include "mountinfo.hpp"
#include "rootfs.hpp"

#include <sys/stat.h>

#include <string>

namespace crunpp::linux {

// The umask for a scope, restored at its end.
class UmaskGuard {
public:
    explicit UmaskGuard(mode_t m) : old_(umask(m)) {}
    ~UmaskGuard() { umask(old_); }
    UmaskGuard(const UmaskGuard &) = delete;
    UmaskGuard &operator=(const UmaskGuard &) = delete;

private:
    mode_t old_;
};

// Everything a config mount needs, before pivot_root.
struct MountContext {
    MountContext(const spec::Config &c, const RootfsOptions &o) : cfg(c), opts(o) {}
    const spec::Config &cfg;
    const RootfsOptions &opts;
    int root_fd = -1;    // O_PATH of the new root (the rootfs bind on itself)
    int bundle_fd = -1;  // relative bind sources resolve against it (runc)
    ProcFdDir proc_fd;   // the host's /proc/self/fd, for mount(2) onto an fd
    std::string mount_label; // linux.mountLabel when SELinux is active, else empty
};

// `mount "<source>" on "<destination>"`, the context of every mount error.
std::string mount_context(const spec::Mount &m);

// One entry of config.mounts (index for error paths).
void mount_config_entry(MountContext &c, const spec::Mount &m, size_t index);

// A "cgroup"/"cgroup2" entry: cgroup2 on a v2 host, else a tmpfs with the
// hierarchies of the container's own cgroup. `dest` is the verified target.
void mount_cgroup(MountContext &c, const spec::Mount &m, const MountFlags &f, int dest_fd);

// Mounts with mount(2) onto `dest_fd`, then applies the recursive attributes
// and the propagation of `f`; errors name `m`.
void mount_filesystem(MountContext &c, const spec::Mount &m, const MountFlags &f, int dest_fd, const std::string &type,
                      const std::string &source, unsigned long flags, const std::string &data);

// Gives a detached bind tree its idmapping (userns_fd >= 0) and the flags
// of `f`; errors name `m`.
void configure_bind_tree(const spec::Mount &m, const MountFlags &f, int tree, int userns_fd);

// Attaches a configured tree onto dest_fd, then sets the propagation of `f`.
void attach_configured_tree(MountContext &c, const spec::Mount &m, const MountFlags &f, int tree, int dest_fd);

// A bind of the detached `tree` onto dest_fd with the flags of `f`
// (non-recursive ones on the top mount, r* ones on all); `userns_fd` >= 0
// makes it an idmapped mount.
void attach_bind(MountContext &c, const spec::Mount &m, const MountFlags &f, UniqueFd tree, int dest_fd,
                 int userns_fd = -1);

// The user namespace an idmapped mount uses: the container's own when the
// mount has no mappings of its own or the same as the container's, else a
// new one with the mount's mappings (only possible outside a user namespace).
UniqueFd idmap_userns(const MountContext &c, const spec::Mount &m, size_t index);

// Whether a config mount asks for an idmapping ("idmap", "ridmap" or mappings).
bool wants_idmap(const spec::Mount &m, const MountFlags &f);

// "tmpcopyup": copies the content of src_dir into dst_dir (display: the
// destination's path, for errors). Never follows a symlink.
void copy_up(int src_dir, int dst_dir, const std::string &display);

// /dev: default devices, linux.devices, the standard symlinks.
void setup_dev(MountContext &c);

// After the root change into a /dev crunpp made: stdio fds that are the
// host's /dev/null become the container's /dev/null (as runc's).
void reopen_dev_null();

// Enters the new root: pivot_root (old root detached) or, for --no-pivot and
// a ramfs host root, MS_MOVE + chroot. Cwd is "/" afterwards.
void enter_root(int root_fd, const std::string &rootfs, bool no_pivot);

// Whether a host root of this filesystem type (statfs magic) cannot be
// pivoted away from: a ramfs, or the initial rootfs on tmpfs (per mountinfo).
bool root_cannot_pivot(unsigned long fs_magic, const std::vector<MountInfo> &mounts);

// After the root change: readonlyPaths then maskedPaths.
void apply_readonly_paths(const std::vector<std::string> &paths);
void apply_masked_paths(const std::vector<std::string> &paths, const std::string &mount_label);

} // namespace crunpp::linux
