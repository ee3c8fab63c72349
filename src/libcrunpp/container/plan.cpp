// SPDX-License-Identifier: GPL-2.0-or-later
#include "plan.hpp"

#include <sched.h>
#include <unistd.h>

#include <string>

#include "../linux/mount/rootfs.hpp"
#include "crunpp/error.hpp"

namespace crunpp::container {

NamespacePlan plan_namespaces(const spec::Config &cfg, bool rootless) {
    NamespacePlan plan;
    uint64_t new_flags = 0;
    bool has_mount = false, joins_pid = false;
    if (cfg.linux) {
        const auto &nss = cfg.linux->namespaces;
        for (const spec::Namespace &ns : nss) {
            bool join = ns.path.has_value() && !ns.path->empty();
            switch (ns.type) {
            case spec::NamespaceType::Mount: has_mount = true; break;
            case spec::NamespaceType::User:
                plan.user = true;
                plan.new_user = !join;
                break;
            case spec::NamespaceType::Pid:
                plan.new_pid = !join;
                joins_pid = join;
                break;
            case spec::NamespaceType::Network:
                plan.network = true;
                plan.new_network = !join;
                break;
            case spec::NamespaceType::Cgroup: plan.cgroup = true; break;
            case spec::NamespaceType::Time: plan.new_time = !join; break;
            default: break;
            }
            if (!join && ns.type != spec::NamespaceType::Time)
                new_flags |= static_cast<uint64_t>(spec::namespace_clone_flag(ns.type));
        }
        plan.joins = linux::open_config_namespaces(*cfg.linux);
    }
    plan.mount_namespace = has_mount;
    if (!has_mount) {
        linux::check_without_mount_namespace(cfg);
        // The init needs a procfs of its pid namespace, and an unprivileged
        // caller's mount namespace lets it mount none.
        if (rootless && plan.new_pid)
            throw Error("config.json: .linux.namespaces: a new pid namespace without a mount namespace cannot work "
                        "rootless (no procfs of it can be mounted); add {\"type\": \"mount\"} or drop \"pid\"");
    }

    if (plan.new_user && cfg.linux) {
        plan.uid_mappings = cfg.linux->uidMappings;
        plan.gid_mappings = cfg.linux->gidMappings;
    }
    if (rootless && (!plan.user || (plan.new_user && plan.uid_mappings.empty() && plan.gid_mappings.empty()))) {
        if (!plan.user)
            new_flags |= CLONE_NEWUSER;
        plan.user = plan.new_user = true;
        linux::IdMaps maps = linux::auto_rootless_mappings(getuid(), getgid());
        plan.uid_mappings = std::move(maps.uid);
        plan.gid_mappings = std::move(maps.gid);
    }
    // Root without maps: crun's identity map of the ids up to the process's
    // own, so that the process runs as itself (and root is root).
    if (plan.new_user && !rootless && cfg.process) {
        if (plan.uid_mappings.empty())
            plan.uid_mappings = {spec::IdMapping{0, 0, cfg.process->user.uid + 1}};
        if (plan.gid_mappings.empty())
            plan.gid_mappings = {spec::IdMapping{0, 0, cfg.process->user.gid + 1}};
    }
    if (plan.new_user && (plan.uid_mappings.empty() || plan.gid_mappings.empty()))
        throw Error("config.json: .linux.uidMappings/.gidMappings: a new user namespace needs both mappings");

    if (plan.joins.empty()) {
        plan.clone_flags = new_flags;
    } else {
        plan.unshare_flags = new_flags;
        plan.fork_in_child = plan.new_pid || joins_pid;
    }
    return plan;
}

} // namespace crunpp::container
