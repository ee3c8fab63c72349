// SPDX-License-Identifier: GPL-2.0-or-later
// Namespace files: which namespaces clone3 creates, opening and checking the
// ones to join by path, and joining them in an order the kernel accepts.
#include "userns.hpp"
#include "../mount/mountinfo.hpp"

#include <crunpp/error.hpp>

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace crunpp::linux {

namespace {

// The kernel's names (NS_GET_NSTYPE answers with CLONE_NEW*), in the words
// of the spec's "type" field.
const char *type_name(spec::NamespaceType t) {
    switch (t) {
    case spec::NamespaceType::Mount: return "mount";
    case spec::NamespaceType::Pid: return "pid";
    case spec::NamespaceType::Network: return "network";
    case spec::NamespaceType::Uts: return "uts";
    case spec::NamespaceType::Ipc: return "ipc";
    case spec::NamespaceType::User: return "user";
    case spec::NamespaceType::Cgroup: return "cgroup";
    case spec::NamespaceType::Time: return "time";
    }
    return "unknown";
}

const char *flag_name(int flag) {
    switch (flag) {
    case CLONE_NEWNS: return "mount";
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWNET: return "network";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWTIME: return "time";
    }
    return nullptr;
}

// An empty "path" means a new namespace, as in runc.
bool joins_existing(const spec::Namespace &ns) { return ns.path && !ns.path->empty(); }

void join_one(spec::NamespaceType type, UniqueFd &fd) {
    if (::setns(fd.get(), clone_flag_of(type)) < 0)
        throw_errno(std::string("join the ") + type_name(type) + " namespace (setns)");
    fd.reset();
}

} // namespace

int clone_flag_of(spec::NamespaceType type) {
    switch (type) {
    case spec::NamespaceType::Mount: return CLONE_NEWNS;
    case spec::NamespaceType::Pid: return CLONE_NEWPID;
    case spec::NamespaceType::Network: return CLONE_NEWNET;
    case spec::NamespaceType::Uts: return CLONE_NEWUTS;
    case spec::NamespaceType::Ipc: return CLONE_NEWIPC;
    case spec::NamespaceType::User: return CLONE_NEWUSER;
    case spec::NamespaceType::Cgroup: return CLONE_NEWCGROUP;
    case spec::NamespaceType::Time: return CLONE_NEWTIME;
    }
    throw Error("unknown namespace type " + std::to_string(static_cast<int>(type)));
}

int namespaces_to_create(const spec::Linux &linux_cfg) {
    int flags = 0;
    for (const spec::Namespace &ns : linux_cfg.namespaces) {
        if (!joins_existing(ns) && ns.type != spec::NamespaceType::Time)
            flags |= clone_flag_of(ns.type);
    }
    return flags;
}

UniqueFd open_namespace(const std::string &path, spec::NamespaceType type) {
    const std::string what = std::string("open ") + type_name(type) + " namespace " + path;
    // O_NONBLOCK: a FIFO planted at the path must not hang us.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd)
        throw_errno(what);
    const int actual = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (actual < 0) {
        if (errno == ENOTTY || errno == EINVAL)
            throw Error(what + ": not a namespace file");
        throw_errno(what + ": NS_GET_NSTYPE");
    }
    if (actual != clone_flag_of(type)) {
        const char *name = flag_name(actual);
        throw Error(what + ": wrong namespace type: " + (name ? std::string(name) : std::to_string(actual)));
    }
    return fd;
}

NamespaceFds open_config_namespaces(const spec::Linux &linux_cfg) {
    NamespaceFds fds;
    for (size_t i = 0; i < linux_cfg.namespaces.size(); ++i) {
        const spec::Namespace &ns = linux_cfg.namespaces[i];
        if (!joins_existing(ns))
            continue;
        try {
            fds.emplace_back(ns.type, open_namespace(*ns.path, ns.type));
        } catch (Error &e) {
            e.wrap("config.json: .linux.namespaces[" + std::to_string(i) + "].path");
            throw;
        }
    }
    return fds;
}

void join_namespaces(NamespaceFds &fds) {
    // Privileges for setns come from the current user namespace and the one
    // owning the target. Joining the user namespace first gives them for
    // namespaces it owns but loses them for the host's: so every other
    // namespace is tried before it, those refused (EPERM) once more after it.
    // Mount goes last in each round: it changes root and cwd.
    auto is_mount = [](const auto &e) { return e.first == spec::NamespaceType::Mount; };
    if (std::any_of(fds.begin(), fds.end(), is_mount))
        forget_cgroup_mounts();
    std::vector<size_t> order;
    size_t user = fds.size();
    for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].first == spec::NamespaceType::User)
            user = i;
        else if (!is_mount(fds[i]))
            order.push_back(i);
    }
    for (size_t i = 0; i < fds.size(); ++i) {
        if (is_mount(fds[i]))
            order.push_back(i);
    }

    if (user == fds.size()) {
        for (size_t i : order)
            join_one(fds[i].first, fds[i].second);
        return;
    }

    std::vector<size_t> refused;
    for (size_t i : order) {
        if (::setns(fds[i].second.get(), clone_flag_of(fds[i].first)) == 0)
            fds[i].second.reset();
        else if (errno == EPERM)
            refused.push_back(i);
        else
            throw_errno(std::string("join the ") + type_name(fds[i].first) + " namespace (setns)");
    }
    join_one(fds[user].first, fds[user].second);
    for (size_t i : refused)
        join_one(fds[i].first, fds[i].second);
}

} // namespace crunpp::linux
