// SPDX-License-Identifier: GPL-2.0-or-later
// setup_rootfs: the order of runc's rootfs preparation. "/" is made rslave
// (or the configured propagation) so nothing below leaks to the host, the
// rootfs is bound onto itself (pivot_root needs a mount), the config's
// mounts and /dev are made under it, the root is changed, then the read-only
// and masked paths and the read-only root.
#include "rootfs.hpp"

#include "crunpp/error.hpp"
#include "mountinfo.hpp"
#include "../procfs.hpp"
#include "rootfs_internal.hpp"
#include "safe_path.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace crunpp::linux {
namespace {

bool selinux_enabled() {
    struct statfs sf {};
    return statfs("/sys/fs/selinux", &sf) == 0 && sf.f_type == SELINUX_MAGIC;
}

// pivot_root and MS_MOVE refuse a shared parent mount: make the mount that
// holds the rootfs private when it is shared.
void make_parent_private(const std::string &rootfs) {
    const MountInfo *best = nullptr;
    auto mounts = read_mountinfo();
    for (const auto &m : mounts)
        if (path_is_under(rootfs, m.mountpoint) && (!best || m.mountpoint.size() >= best->mountpoint.size()))
            best = &m;
    if (!best || best->optional.find("shared:") == std::string::npos)
        return;
    if (mount(nullptr, best->mountpoint.c_str(), nullptr, MS_PRIVATE, nullptr) < 0)
        throw_errno("make \"" + best->mountpoint + "\" private");
}

// Everything below changes mounts: in the mount namespace of the host's
// init it would change the host's. The caller must have unshared one.
void require_own_mount_namespace() {
    struct stat self {}, init {};
    if (stat("/proc/self/ns/mnt", &self) < 0)
        throw_errno("stat \"/proc/self/ns/mnt\"");
    if (stat("/proc/1/ns/mnt", &init) == 0 && self.st_ino == init.st_ino && self.st_dev == init.st_dev)
        throw Error("setup_rootfs: the process is in the mount namespace of pid 1, not in one of its own");
}

bool needs_dev_setup(const spec::Config &cfg) {
    for (const auto &m : cfg.mounts) {
        if (clean_relative_path(m.destination) != "dev")
            continue;
        MountFlags f = parse_mount_options(m.options);
        return !(f.bind || m.type.value_or("") == "bind");
    }
    return false;
}

// A missing process.cwd is made as runc makes it: by the container's root,
// mode 0755, in the new root before it may become read-only. Only a missing
// one: what exists is for the final chdir to judge.
void create_missing_cwd(const spec::Config &cfg) {
    struct stat st;
    const std::string cwd = cfg.process ? clean_relative_path(cfg.process->cwd) : "";
    if (cwd.empty() || stat(cfg.process->cwd.c_str(), &st) == 0 || errno != ENOENT)
        return;
    UniqueFd new_root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!new_root)
        throw_errno("open the new \"/\"");
    try {
        mkdir_all_in_root(new_root.get(), cwd);
    } catch (Error &e) {
        throw e.wrap("create cwd (\"" + cfg.process->cwd + "\") set in config.json");
    }
}

} // namespace

void check_without_mount_namespace(const spec::Config &cfg) {
    auto refuse = [](const std::string &path, const char *what) {
        throw Error("config.json: " + path + ": " + what +
                    " needs a mount namespace (add {\"type\": \"mount\"} to .linux.namespaces): without one it "
                    "would change the caller's mounts");
    };
    if (!cfg.mounts.empty())
        refuse(".mounts", "mounting");
    if (cfg.root && cfg.root->readonly)
        refuse(".root.readonly", "a read-only root");
    if (!cfg.linux)
        return;
    if (!cfg.linux->maskedPaths.empty())
        refuse(".linux.maskedPaths", "masking paths");
    if (!cfg.linux->readonlyPaths.empty())
        refuse(".linux.readonlyPaths", "read-only paths");
    if (cfg.linux->rootfsPropagation)
        refuse(".linux.rootfsPropagation", "a root propagation");
}

void enter_rootfs_without_mount_namespace(const spec::Config &cfg, const std::string &rootfs_abs_path,
                                          const RootfsOptions &o) {
    if (o.before_root_change)
        o.before_root_change();
    // The rootfs may have no /proc: the handle every later /proc access
    // uses is opened (and cached) while the caller's is in reach.
    procfs::root();
    if (chdir(rootfs_abs_path.c_str()) < 0)
        throw_errno("chdir to the rootfs \"" + rootfs_abs_path + "\"");
    if (chroot(".") < 0)
        throw_errno("chroot to the rootfs \"" + rootfs_abs_path + "\"");
    UmaskGuard umask_guard(022);
    create_missing_cwd(cfg);
}

void setup_rootfs(const spec::Config &cfg, const std::string &rootfs_abs_path, const RootfsOptions &o) {
    if (rootfs_abs_path.empty() || rootfs_abs_path[0] != '/')
        throw Error("rootfs \"" + rootfs_abs_path + "\": not an absolute path");
    char real[PATH_MAX];
    if (!realpath(rootfs_abs_path.c_str(), real))
        throw_errno("rootfs \"" + rootfs_abs_path + "\"");
    const std::string rootfs = real;
    require_own_mount_namespace();
    UmaskGuard umask_guard(022);
    const spec::Linux empty_linux;
    const spec::Linux &lx = cfg.linux ? *cfg.linux : empty_linux;

    unsigned long propagation = MS_SLAVE | MS_REC;
    if (lx.rootfsPropagation)
        propagation = parse_propagation(*lx.rootfsPropagation);
    // An unbindable "/" could not give the rootfs bind below: private until
    // the root has changed (unbindable implies private), unbindable after.
    unsigned long host_propagation = propagation;
    if (propagation & MS_UNBINDABLE)
        host_propagation = (propagation & ~MS_UNBINDABLE) | MS_PRIVATE;
    if (mount(nullptr, "/", nullptr, host_propagation, nullptr) < 0)
        throw_errno("make \"/\" " + lx.rootfsPropagation.value_or("rslave"));
    // A recursive slave/private "/" leaves no shared mount; otherwise the
    // rootfs' parent may be shared and the rootfs bind (and every mount
    // under it) would propagate to the host.
    if ((propagation & MS_SHARED) || !(propagation & MS_REC))
        make_parent_private(rootfs);
    if (mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        throw_errno("bind the rootfs \"" + rootfs + "\" onto itself");

    UniqueFd root(open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        throw_errno("open the rootfs \"" + rootfs + "\"");
    const bool own_dev = needs_dev_setup(cfg);
    {
        MountContext ctx(cfg, o);
        ctx.root_fd = root.get();
        ctx.proc_fd = ProcFdDir("/proc");
        UniqueFd bundle;
        if (!o.bundle.empty()) {
            bundle.reset(open(o.bundle.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (!bundle)
                throw_errno("open the bundle \"" + o.bundle + "\"");
        }
        ctx.bundle_fd = bundle ? bundle.get() : AT_FDCWD;
        if (lx.mountLabel && selinux_enabled())
            ctx.mount_label = *lx.mountLabel;
        for (size_t i = 0; i < cfg.mounts.size(); ++i)
            mount_config_entry(ctx, cfg.mounts[i], i);
        if (own_dev)
            setup_dev(ctx);
    }

    if (o.before_root_change)
        o.before_root_change();
    enter_root(root.get(), rootfs, o.no_pivot);
    root.reset();
    if (own_dev)
        reopen_dev_null();

    create_missing_cwd(cfg);
    apply_readonly_paths(lx.readonlyPaths);
    apply_masked_paths(lx.maskedPaths, lx.mountLabel && selinux_enabled() ? *lx.mountLabel : std::string());

    // The root's own propagation: "/" after the change is the rootfs bind,
    // private so far. After the binds above, which an unbindable "/" refuses.
    if (lx.rootfsPropagation && mount(nullptr, "/", nullptr, propagation, nullptr) < 0)
        throw_errno("make the new \"/\" " + *lx.rootfsPropagation);

    if (cfg.root && cfg.root->readonly) {
        UniqueFd new_root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        int err = new_root ? set_mount_attr(new_root.get(), false, MOUNT_ATTR_RDONLY, 0) : errno;
        if (err != 0)
            throw Error("make the root read-only", err);
    }
    if (chdir("/") < 0)
        throw_errno("chdir \"/\"");
}

void setup_console(int pty_slave_fd) {
    UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        throw_errno("console: open \"/\"");
    UniqueFd target;
    try {
        // /dev/console must be a file of /dev itself: a symlink the rootfs
        // planted there would aim the bind elsewhere, e.g. at a procfs file
        // (CVE-2025-52565), so it is replaced.
        UniqueFd dev = ensure_in_root(root.get(), "dev", true);
        struct stat st;
        if (fstatat(dev.get(), "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
            !S_ISCHR(st.st_mode) && unlinkat(dev.get(), "console", 0) < 0)
            throw_errno("remove \"/dev/console\"");
        // Never opened for I/O: an existing node may be a real device.
        int fd = openat(dev.get(), "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            throw_errno("create \"/dev/console\"");
        if (fd >= 0)
            close(fd);
        fd = openat(dev.get(), "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            throw_errno("open \"/dev/console\"");
        target.reset(fd);
    } catch (Error &e) {
        throw e.wrap("console");
    }
    int err = 0;
    UniqueFd tree = clone_tree(pty_slave_fd, "", false, err);
    if (!tree)
        throw Error("console: bind the pty", err);
    if ((err = attach_tree(tree.get(), target.get())) != 0)
        throw Error("console: bind the pty on \"/dev/console\"", err);
}

} // namespace crunpp::linux
