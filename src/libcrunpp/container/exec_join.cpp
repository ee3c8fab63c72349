// SPDX-License-Identifier: GPL-2.0-or-later
#include "exec_join.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>

#include "../linux/userns.hpp"
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

void write_self_to(const std::string &dir) {
    std::string file = dir + "/cgroup.procs";
    UniqueFd fd(open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("exec: join the cgroup " + dir);
    // "0": the writer itself.
    if (write(fd.get(), "0", 1) != 1)
        throw_errno("exec: join the cgroup " + dir);
}

} // namespace

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

UniqueFd open_unified_cgroup(const cgroup::Paths &paths) {
    auto it = paths.find("unified");
    if (it == paths.end())
        return UniqueFd();
    UniqueFd fd(open(it->second.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        throw_errno("exec: open the cgroup " + it->second);
    return fd;
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
