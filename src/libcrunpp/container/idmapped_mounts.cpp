// SPDX-License-Identifier: GPL-2.0-or-later
#include "idmapped_mounts.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>

#include "../linux/mount/rootfs.hpp"
#include "crunpp/error.hpp"

namespace crunpp::container {

bool prepares_idmapped_mounts(const Context &ctx, const NamespacePlan &plan, const spec::Config &cfg) {
    if (!plan.user || ctx.rootless || geteuid() != 0)
        return false;
    for (const spec::Mount &m : cfg.mounts) {
        linux::MountFlags f = linux::parse_mount_options(m.options);
        if (!m.uidMappings.empty() || !m.gidMappings.empty() || f.idmap || f.bind || m.type.value_or("") == "bind")
            return true;
    }
    return plan.new_user && linux::has_missing_devices(cfg);
}

void send_idmapped_mounts(SyncSocket &sync, const spec::Config &cfg, const std::string &bundle, pid_t pid,
                          const NamespacePlan &plan) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/user";
    UniqueFd userns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!userns)
        throw_errno("open " + path);
    std::vector<UniqueFd> trees = linux::prepare_idmapped_mounts(cfg, bundle, userns.get(), true);
    for (UniqueFd &dev : linux::prepare_missing_devices(cfg, plan.uid_mappings, plan.gid_mappings))
        trees.push_back(std::move(dev));
    std::vector<int> fds;
    std::string indices;
    for (size_t i = 0; i < trees.size(); i++) {
        if (!trees[i])
            continue;
        fds.push_back(trees[i].get());
        uint32_t index = static_cast<uint32_t>(i);
        indices.append(reinterpret_cast<const char *>(&index), sizeof index);
        if (fds.size() == kMaxSyncFds) {
            sync.send_fds(SyncType::Mounts, fds, indices);
            fds.clear();
            indices.clear();
        }
    }
    if (!fds.empty())
        sync.send_fds(SyncType::Mounts, fds, indices);
}

std::vector<UniqueFd> prepare_for_joined_userns(const spec::Config &cfg, const std::string &bundle,
                                                const NamespacePlan &plan) {
    for (const auto &[type, fd] : plan.joins)
        if (type == spec::NamespaceType::User)
            return linux::prepare_idmapped_mounts(cfg, bundle, fd.get(), true);
    return {};
}

} // namespace crunpp::container
