// SPDX-License-Identifier: GPL-2.0-or-later
// The five capability sets of process.capabilities.
#include "process.hpp"
#include "process_internal.hpp"

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>

namespace crunpp::linux {

namespace {

// Index = capability number (linux/capability.h). Our own table so that the
// names crunpp accepts do not depend on the libcap version it was built with.
constexpr std::array<std::string_view, 41> kCapNames = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",    "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",            "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",         "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",       "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",        "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",     "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",       "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",      "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

std::string cap_name(int cap) {
    return cap >= 0 && cap < static_cast<int>(kCapNames.size()) ? std::string(kCapNames[static_cast<size_t>(cap)])
                                                                  : std::to_string(cap);
}

using CapSet = std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void *)>;

// The capabilities of one set, as numbers the running kernel knows. Unknown
// names are an error; names the kernel is too old for are skipped, as runc does.
std::vector<cap_value_t> resolve(const std::optional<std::vector<std::string>> &names, const char *set) {
    std::vector<cap_value_t> out;
    if (!names)
        return out;
    int last = last_capability();
    for (size_t i = 0; i < names->size(); ++i) {
        const std::string &name = (*names)[i];
        auto cap = capability_from_name(name);
        if (!cap)
            throw Error(std::string(".process.capabilities.") + set + "[" + std::to_string(i) +
                        "]: unknown capability \"" + name + "\"");
        if (*cap > last) {
            if (log::debug_enabled())
                log::debug("capability " + name + " is unknown to the running kernel: skipped");
            continue;
        }
        out.push_back(*cap);
    }
    return out;
}

} // namespace

std::optional<int> capability_from_name(std::string_view name) {
    for (size_t i = 0; i < kCapNames.size(); ++i)
        if (kCapNames[i] == name)
            return static_cast<int>(i);
    return std::nullopt;
}

int last_capability() {
    // PR_CAPBSET_READ fails with EINVAL past the last capability: no /proc
    // read needed (/proc/sys/kernel/cap_last_cap holds the same number).
    static int last = -1;
    if (last >= 0)
        return last;
    int n = static_cast<int>(kCapNames.size()) - 1;
    if (prctl(PR_CAPBSET_READ, n, 0, 0, 0) >= 0) {
        while (n < 255 && prctl(PR_CAPBSET_READ, n + 1, 0, 0, 0) >= 0)
            ++n;
    } else {
        while (n > 0 && prctl(PR_CAPBSET_READ, n, 0, 0, 0) < 0)
            --n;
    }
    last = n;
    return last;
}

namespace detail {

void drop_bounding_set(const spec::Capabilities &c) {
    std::vector<cap_value_t> keep = resolve(c.bounding, "bounding");
    std::array<bool, 256> kept{};
    for (cap_value_t v : keep)
        kept[static_cast<size_t>(v)] = true;
    int last = last_capability();
    for (int cap = 0; cap <= last; ++cap) {
        if (kept[static_cast<size_t>(cap)])
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 || errno == EINVAL)
            continue;
        int err = errno;
        // Without CAP_SETPCAP even dropping an absent capability fails: only
        // a capability still in the set is an error.
        if (err == EPERM && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)
            continue;
        throw_errno("drop " + cap_name(cap) + " from the bounding set", err);
    }
}

CapsetData capset_data(const spec::Capabilities &c) {
    static_assert(sizeof(CapsetData::Header) == sizeof(__user_cap_header_struct));
    static_assert(sizeof(CapsetData::Data) == sizeof(__user_cap_data_struct));
    CapsetData d;
    struct Set {
        const std::optional<std::vector<std::string>> &names;
        const char *name;
        uint32_t CapsetData::Data::*field;
    };
    for (const Set &s : {Set{c.effective, "effective", &CapsetData::Data::effective},
                         Set{c.permitted, "permitted", &CapsetData::Data::permitted},
                         Set{c.inheritable, "inheritable", &CapsetData::Data::inheritable}})
        for (cap_value_t v : resolve(s.names, s.name))
            d.data[v / 32].*s.field |= 1u << (v % 32);
    return d;
}

void apply_capset(const CapsetData &d) {
    CapsetData copy = d; // capset(2) takes non-const pointers
    if (syscall(SYS_capset, &copy.header, copy.data) < 0)
        throw_errno("apply the capabilities (effective, permitted, inheritable)");
}

void apply_capability_sets(const spec::Capabilities &c, bool keep_sys_admin) {
    CapsetData d = capset_data(c);
    if (keep_sys_admin) {
        d.data[CAP_SYS_ADMIN / 32].effective |= 1u << (CAP_SYS_ADMIN % 32);
        d.data[CAP_SYS_ADMIN / 32].permitted |= 1u << (CAP_SYS_ADMIN % 32);
    }
    apply_capset(d);
    // Ambient capabilities need to be permitted and inheritable already.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        throw_errno("clear the ambient capabilities");
    // An ambient capability the config does not also make permitted and
    // inheritable cannot be raised (EPERM): runc and crun leave it out, and
    // engines rely on that (buildah's RUN steps ask for ambient capabilities
    // without any inheritable ones), so it is left out here too.
    std::vector<cap_value_t> ambient = resolve(c.ambient, "ambient");
    for (cap_value_t v : ambient)
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, v, 0, 0) < 0 && errno != EPERM)
            throw_errno("raise the ambient capability " + cap_name(v));
}

} // namespace detail
} // namespace crunpp::linux
