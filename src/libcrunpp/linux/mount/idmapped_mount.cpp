// SPDX-License-Identifier: GPL-2.0-or-later
// The user namespace of an idmapped mount. The kernel needs CAP_SYS_ADMIN
// over the source's superblock, i.e. a process in the initial user
// namespace for host filesystems; then a short-lived helper process gets a
// new user namespace with the mount's mappings and its ns fd is used.
#include "rootfs_internal.hpp"

#include "crunpp/error.hpp"
#include "file_util.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {
namespace {

std::string map_text(const std::vector<spec::IdMapping> &maps) {
    std::string out;
    for (const auto &m : maps)
        out += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " + std::to_string(m.size) + "\n";
    return out;
}

bool same_mappings(const std::vector<spec::IdMapping> &a, const std::vector<spec::IdMapping> &b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].containerID != b[i].containerID || a[i].hostID != b[i].hostID || a[i].size != b[i].size)
            return false;
    return true;
}

// A child process in a new user namespace with the given mappings; returns
// its user namespace fd. The child only waits and is reaped before return.
UniqueFd new_userns(const std::vector<spec::IdMapping> &uid, const std::vector<spec::IdMapping> &gid) {
    int ready[2], done[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        throw_errno("pipe");
    UniqueFd ready_r(ready[0]), ready_w(ready[1]);
    if (pipe2(done, O_CLOEXEC) < 0)
        throw_errno("pipe");
    UniqueFd done_r(done[0]), done_w(done[1]);
    pid_t pid = fork();
    if (pid < 0)
        throw_errno("fork");
    if (pid == 0) {
        // Only the child's own ends: the parent's close of done_w must
        // reach it as end of file.
        ready_r.reset();
        done_w.reset();
        // The pid the host's /proc knows this process by: it differs from
        // the fork() result when the caller is in a new pid namespace.
        char self[32] = {};
        ssize_t n = unshare(CLONE_NEWUSER) == 0 ? readlink("/proc/self", self, sizeof self - 1) : -1;
        if (n <= 0)
            _exit(1);
        if (write(ready_w.get(), self, size_t(n)) != n)
            _exit(1);
        ready_w.reset();
        char c;
        (void)!read(done_r.get(), &c, 1);
        _exit(0);
    }
    ready_w.reset();
    done_r.reset();
    auto reap = [&] {
        done_w.reset();
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    };
    try {
        char buf[32] = {};
        ssize_t n;
        do
            n = read(ready_r.get(), buf, sizeof buf - 1);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            throw Error("idmapped mount: the user namespace helper failed");
        std::string dir = std::string("/proc/") + buf;
        write_file_at(AT_FDCWD, dir + "/uid_map", map_text(uid));
        write_file_at(AT_FDCWD, dir + "/gid_map", map_text(gid));
        UniqueFd ns(open((dir + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns)
            throw_errno("open \"" + dir + "/ns/user\"");
        reap();
        return ns;
    } catch (...) {
        kill(pid, SIGKILL);
        reap();
        throw;
    }
}

} // namespace

bool wants_idmap(const spec::Mount &m, const MountFlags &f) {
    return f.idmap || !m.uidMappings.empty() || !m.gidMappings.empty();
}

namespace {

// The container's own user namespace serves a mount without mappings of its
// own or with the same as the container's.
bool uses_container_mappings(const spec::Config &cfg, const spec::Mount &m, const std::string &at) {
    if (m.uidMappings.empty() != m.gidMappings.empty())
        throw ConfigError(at, "an idmapped mount needs both uidMappings and gidMappings");
    static const std::vector<spec::IdMapping> kNone;
    const auto &ct_uid = cfg.linux ? cfg.linux->uidMappings : kNone;
    const auto &ct_gid = cfg.linux ? cfg.linux->gidMappings : kNone;
    return (m.uidMappings.empty() && m.gidMappings.empty()) ||
           (same_mappings(m.uidMappings, ct_uid) && same_mappings(m.gidMappings, ct_gid));
}

std::string mount_at(size_t index) { return ".mounts[" + std::to_string(index) + "]"; }

} // namespace

UniqueFd idmap_userns(const MountContext &c, const spec::Mount &m, size_t index) {
    const std::string at = mount_at(index);
    bool own = uses_container_mappings(c.cfg, m, at);
    if (c.opts.user_namespace || c.opts.rootless) {
        // Inside a user namespace no process may idmap a host filesystem:
        // the kernel refuses it (EPERM, in the mount error) unless the host
        // side prepared the mount (prepare_idmapped_mounts).
        if (!own)
            throw ConfigError(at + ".uidMappings",
                              "mappings other than the container's need the mount prepared by the host side");
        UniqueFd ns(open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
        if (!ns)
            throw_errno(mount_context(m) + ": open \"/proc/self/ns/user\"");
        return ns;
    }
    if (m.uidMappings.empty())
        throw ConfigError(at + ".options", "\"idmap\" without mappings needs a user namespace");
    try {
        return new_userns(m.uidMappings, m.gidMappings);
    } catch (Error &e) {
        throw e.wrap(mount_context(m));
    }
}

std::vector<UniqueFd> prepare_idmapped_mounts(const spec::Config &cfg, const std::string &bundle,
                                              int container_userns_fd, bool every_bind) {
    std::vector<UniqueFd> trees(cfg.mounts.size());
    UniqueFd bundle_fd;
    for (size_t i = 0; i < cfg.mounts.size(); ++i) {
        const auto &m = cfg.mounts[i];
        MountFlags f = parse_mount_options(m.options);
        const bool bind = f.bind || m.type.value_or("") == "bind";
        const bool idmap = wants_idmap(m, f);
        // A remount changes a mount of the container in place.
        if (!idmap && !(every_bind && bind && !(f.set & MS_REMOUNT)))
            continue;
        if (!bind)
            throw ConfigError(mount_at(i) + ".options", "idmapped mounts need a bind mount");
        if (!m.source || m.source->empty())
            throw ConfigError(mount_at(i) + ".source", "a bind mount needs a source");
        UniqueFd userns;
        if (idmap && !uses_container_mappings(cfg, m, mount_at(i))) {
            try {
                userns = new_userns(m.uidMappings, m.gidMappings);
            } catch (Error &e) {
                throw e.wrap(mount_context(m));
            }
        }
        int dirfd = AT_FDCWD;
        if ((*m.source)[0] != '/' && !bundle.empty()) {
            if (!bundle_fd) {
                bundle_fd.reset(open(bundle.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
                if (!bundle_fd)
                    throw_errno("open the bundle \"" + bundle + "\"");
            }
            dirfd = bundle_fd.get();
        }
        int err = 0;
        UniqueFd tree = clone_tree(dirfd, *m.source, f.recursive, err);
        if (!tree)
            throw Error(mount_context(m), err);
        configure_bind_tree(m, f, tree.get(), userns ? userns.get() : idmap ? container_userns_fd : -1);
        trees[i] = std::move(tree);
    }
    return trees;
}

} // namespace crunpp::linux
