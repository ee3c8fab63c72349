// SPDX-License-Identifier: GPL-2.0-or-later
#include "exec_join.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>

#include "../linux/mount/mountinfo.hpp"
#include "../linux/ns/userns.hpp"
#include "clone3.hpp"
#include "crunpp/error.hpp"

namespace crunpp::container {
namespace {

struct NsFile {
    spec::NamespaceType type;
    const char *name; // in /proc/PID/ns
};

// The user namespace first: the fallback's order of opening does not
// matter, but the list is the order of the CLONE flags' meaning.
constexpr NsFile kNamespaces[] = {
    {spec::NamespaceType::User, "user"},     {spec::NamespaceType::Mount, "mnt"},
    {spec::NamespaceType::Pid, "pid"},       {spec::NamespaceType::Network, "net"},
    {spec::NamespaceType::Uts, "uts"},       {spec::NamespaceType::Ipc, "ipc"},
    {spec::NamespaceType::Cgroup, "cgroup"}, {spec::NamespaceType::Time, "time"},
};

bool stat_ns(const std::string &path, struct stat &st) {
    if (stat(path.c_str(), &st) == 0)
        return true;
    // A kernel without this namespace type has no file for it.
    if (errno == ENOENT)
        return false;
    throw_errno("exec: read the namespace " + path);
}

// "tasks", not cgroup.procs: a thread moving itself skips the kernel's
// global threadgroup lock (an RCU grace period, ~1 ms); the helper is
// single-threaded, so its thread is the whole process.
void write_self_to(const std::string &dir) {
    std::string file = dir + "/tasks";
    UniqueFd fd(open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("exec: join the cgroup " + dir);
    // "0": the writer itself.
    if (write(fd.get(), "0", 1) != 1)
        throw_errno("exec: join the cgroup " + dir);
}

// The first line of a small file, empty when it cannot be read.
std::string first_line(const std::string &path) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return "";
    char buf[256];
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n <= 0)
        return "";
    std::string s(buf, static_cast<size_t>(n));
    return s.substr(0, s.find('\n'));
}

// clone3's refusals of a cgroup2 directory as such: EBUSY, the "no internal
// processes" rule; EOPNOTSUPP, a "domain invalid" cgroup below a threaded one.
bool refuses_processes(int err) { return err == EBUSY || err == EOPNOTSUPP; }

Error cannot_hold_processes(const std::string &dir, int err) {
    std::string why;
    if (err == EBUSY) {
        why = "cgroup v2 allows no process in a cgroup whose cgroup.subtree_control enables controllers "
              "(pick a leaf cgroup with --cgroup)";
    } else {
        std::string type = first_line(dir + "/cgroup.type");
        why = "its cgroup.type is \"" + (type.empty() ? std::string("unknown") : type) + "\"";
    }
    return Error("exec: the cgroup " + dir + " cannot hold processes: " + why);
}

pid_t clone_into(int *pidfd, int dirfd, const std::string &dir) {
    try {
        return clone3_fork(0, pidfd, dirfd);
    } catch (Error &e) {
        if (dirfd < 0)
            throw Error("exec: start the setup process (clone3)", e.errnum());
        if (refuses_processes(e.errnum()))
            throw;
        throw Error("exec: start a process in the cgroup " + dir, e.errnum());
    }
}

} // namespace

pid_t fork_into_cgroup(int *pidfd, const cgroup::Paths &paths, pid_t fallback_init, std::string *outside) {
    auto it = paths.find("unified");
    if (it == paths.end())
        return clone_into(pidfd, -1, "");
    const std::string &dir = it->second;
    UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        throw_errno("exec: open the cgroup " + dir);
    try {
        return clone_into(pidfd, fd.get(), dir);
    } catch (Error &e) {
        if (outside && (e.errnum() == EACCES || e.errnum() == EPERM)) {
            // The permission check comes first: the "no internal processes"
            // rule, with its fallback, is applied here as clone3 would.
            *outside = dir;
            if (!first_line(dir + "/cgroup.subtree_control").empty()) {
                std::string init_dir = fallback_init > 0 ? cgroup::unified_dir_of(fallback_init) : "";
                if (init_dir.empty() || init_dir == dir || !linux::path_is_under(init_dir, dir))
                    throw cannot_hold_processes(dir, EBUSY);
                *outside = init_dir;
            }
            return clone_into(pidfd, -1, "");
        }
        if (!refuses_processes(e.errnum()))
            throw;
        // As runc: the init's own cgroup below the container's, where the
        // container moved its init to make its cgroup an inner node.
        std::string init_dir = fallback_init > 0 ? cgroup::unified_dir_of(fallback_init) : "";
        if (init_dir.empty() || init_dir == dir || !linux::path_is_under(init_dir, dir))
            throw cannot_hold_processes(dir, e.errnum());
        UniqueFd init_fd(open(init_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!init_fd)
            throw cannot_hold_processes(dir, e.errnum());
        try {
            return clone_into(pidfd, init_fd.get(), init_dir);
        } catch (Error &e2) {
            if (!refuses_processes(e2.errnum()))
                throw;
            throw cannot_hold_processes(dir, e.errnum());
        }
    }
}

uint64_t namespaces_to_join(pid_t pid) {
    uint64_t flags = 0;
    const std::string base = "/proc/" + std::to_string(pid) + "/ns/";
    if (access(base.c_str(), F_OK) < 0)
        throw_errno("exec: the container's init (pid " + std::to_string(pid) + ")");
    for (const NsFile &ns : kNamespaces) {
        struct stat theirs, ours;
        if (!stat_ns(base + ns.name, theirs))
            continue;
        if (!stat_ns(std::string("/proc/self/ns/") + ns.name, ours) || theirs.st_ino != ours.st_ino ||
            theirs.st_dev != ours.st_dev)
            flags |= static_cast<uint64_t>(linux::clone_flag_of(ns.type));
    }
    return flags;
}

void join_namespaces_by_files(pid_t pid, uint64_t flags) {
    linux::NamespaceFds fds;
    const std::string base = "/proc/" + std::to_string(pid) + "/ns/";
    for (const NsFile &ns : kNamespaces)
        if (flags & static_cast<uint64_t>(linux::clone_flag_of(ns.type)))
            fds.emplace_back(ns.type, linux::open_namespace(base + ns.name, ns.type));
    linux::join_namespaces(fds);
}

void join_container_namespaces(int pidfd, pid_t pid, uint64_t flags) {
    if (flags == 0)
        return;
    if (setns(pidfd, static_cast<int>(flags)) == 0)
        return;
    // EINVAL: a kernel that takes only namespace fds here.
    if (errno != EINVAL)
        throw_errno("exec: join the container's namespaces (setns)");
    join_namespaces_by_files(pid, flags);
}

void check_cgroup_dirs(const cgroup::Paths &paths) {
    for (const auto &[controller, dir] : paths) {
        struct stat st;
        if (stat(dir.c_str(), &st) < 0)
            throw_errno("exec: cgroup " + dir);
        if (!S_ISDIR(st.st_mode))
            throw_errno("exec: cgroup " + dir, ENOTDIR);
    }
}

void enter_v1_cgroups(const cgroup::Paths &paths) {
    std::set<std::string> done;
    for (const auto &[controller, dir] : paths)
        if (controller != "unified" && done.insert(dir).second)
            write_self_to(dir);
}

} // namespace crunpp::container
