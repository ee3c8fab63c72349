// SPDX-License-Identifier: GPL-2.0-or-later
// process.user: supplementary groups, gid and uid.
#include "process_internal.hpp"
#include "../procfs.hpp"

#include "crunpp/error.hpp"

#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace crunpp::linux::detail {

namespace {

// In a user namespace whose setgroups file says "deny" (rootless with a
// single mapping), setgroups(2) always fails.
bool setgroups_denied() {
    try {
        std::string s = procfs::read_file("self/setgroups");
        return s.rfind("deny", 0) == 0;
    } catch (const Error &) {
        return false;
    }
}

bool current_groups_are(std::vector<gid_t> wanted) {
    int n = getgroups(0, nullptr);
    if (n < 0)
        return false;
    std::vector<gid_t> current(static_cast<size_t>(n));
    n = getgroups(n, current.data());
    if (n < 0)
        return false;
    current.resize(static_cast<size_t>(n));
    std::sort(current.begin(), current.end());
    std::sort(wanted.begin(), wanted.end());
    current.erase(std::unique(current.begin(), current.end()), current.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    return current == wanted;
}

std::string id_hint(int err, const char *kind) {
    return err == EINVAL ? std::string(" (is the ") + kind + " mapped in the user namespace?)" : std::string();
}

void set_groups(const std::vector<uint32_t> &gids) {
    std::vector<gid_t> list(gids.begin(), gids.end());
    if (setgroups(list.size(), list.data()) == 0)
        return;
    int err = errno;
    // Without CAP_SETGID: nothing to do if the groups are already the wanted ones.
    if (err == EPERM && current_groups_are(list))
        return;
    if (err == EPERM && setgroups_denied()) {
        if (list.empty())
            return;
        throw Error(".process.user.additionalGids: supplementary groups cannot be set: setgroups is denied in "
                    "this user namespace (rootless with a single id mapping)");
    }
    std::string text;
    for (gid_t g : list) {
        if (!text.empty())
            text.push_back(',');
        text.append(std::to_string(g));
    }
    throw Error("setgroups [" + text + "]" + id_hint(err, "group"), err);
}

} // namespace

void switch_user(const spec::User &u, bool keep_groups) {
    // Keep the permitted capabilities across the uid change; the wanted
    // sets are applied right after.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        throw_errno("prctl PR_SET_KEEPCAPS");
    if (!keep_groups)
        set_groups(u.additionalGids);
    if (setresgid(u.gid, u.gid, u.gid) < 0) {
        int err = errno;
        throw Error("setresgid " + std::to_string(u.gid) + id_hint(err, "gid"), err);
    }
    if (setresuid(u.uid, u.uid, u.uid) < 0) {
        int err = errno;
        throw Error("setresuid " + std::to_string(u.uid) + id_hint(err, "uid"), err);
    }
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        throw_errno("prctl PR_SET_KEEPCAPS");
}

} // namespace crunpp::linux::detail
