// SPDX-License-Identifier: GPL-2.0-or-later
// The spec's enum names and their kernel/libseccomp meaning. One table per
// enum, indexed by the C++ enum value, so that name and value cannot drift.
#include <sched.h>
#include <sys/resource.h>

#include "crunpp/spec.hpp"

namespace crunpp::spec {
namespace {

struct NamespaceInfo {
    const char *name;
    int clone_flag;
};

// CLONE_NEWTIME is missing from older libc headers.
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

// Order follows NamespaceType.
constexpr NamespaceInfo kNamespaces[kNamespaceTypeCount] = {
    {"mount", CLONE_NEWNS},  {"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET},   {"uts", CLONE_NEWUTS},
    {"ipc", CLONE_NEWIPC},   {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

// Order follows SeccompAction.
constexpr const char *kSeccompActions[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",   "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY",
};

// Order follows SeccompOp.
constexpr const char *kSeccompOps[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

template <typename Enum, size_t N>
std::optional<Enum> lookup(const char *const (&names)[N], std::string_view name) {
    for (size_t i = 0; i < N; i++)
        if (name == names[i])
            return static_cast<Enum>(i);
    return std::nullopt;
}

} // namespace

const char *namespace_type_name(NamespaceType t) {
    auto i = static_cast<size_t>(t);
    return i < std::size(kNamespaces) ? kNamespaces[i].name : "?";
}

std::optional<NamespaceType> namespace_type_from_name(std::string_view name) {
    for (size_t i = 0; i < std::size(kNamespaces); i++)
        if (name == kNamespaces[i].name)
            return static_cast<NamespaceType>(i);
    return std::nullopt;
}

int namespace_clone_flag(NamespaceType t) {
    auto i = static_cast<size_t>(t);
    return i < std::size(kNamespaces) ? kNamespaces[i].clone_flag : 0;
}

const char *seccomp_action_name(SeccompAction a) {
    auto i = static_cast<size_t>(a);
    return i < std::size(kSeccompActions) ? kSeccompActions[i] : "?";
}

std::optional<SeccompAction> seccomp_action_from_name(std::string_view name) {
    return lookup<SeccompAction>(kSeccompActions, name);
}

const char *seccomp_op_name(SeccompOp o) {
    auto i = static_cast<size_t>(o);
    return i < std::size(kSeccompOps) ? kSeccompOps[i] : "?";
}

std::optional<SeccompOp> seccomp_op_from_name(std::string_view name) { return lookup<SeccompOp>(kSeccompOps, name); }

const std::vector<std::string_view> &seccomp_arch_names() {
    // The enum of runtime-spec 1.3 (defs-linux.json SeccompArch).
    static const std::vector<std::string_view> names = {
        "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",     "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64",     "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",  "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",       "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",     "SCMP_ARCH_SH",      "SCMP_ARCH_SHEB",
        "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64",
    };
    return names;
}

const std::vector<std::string_view> &seccomp_flag_names() {
    static const std::vector<std::string_view> names = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    };
    return names;
}

const Namespace *Linux::find_namespace(NamespaceType t) const {
    for (const auto &ns : namespaces)
        if (ns.type == t)
            return &ns;
    return nullptr;
}

namespace {
struct RlimitName {
    const char *name;
    int resource;
};

constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

} // namespace

std::optional<int> rlimit_resource_from_name(std::string_view name) {
    for (const auto &known : kRlimits)
        if (name == known.name)
            return known.resource;
    return std::nullopt;
}

} // namespace crunpp::spec
