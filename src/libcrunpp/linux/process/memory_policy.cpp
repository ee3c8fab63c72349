// SPDX-License-Identifier: GPL-2.0-or-later
// linux.memoryPolicy: the NUMA policy the container process starts with.
#include "process_internal.hpp"
#include "process.hpp"

#include "crunpp/error.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <utility>

namespace crunpp::linux::detail {

namespace {

// Kernel ABI values (linux/mempolicy.h; older headers lack the newer modes).
constexpr std::array<std::pair<std::string_view, int>, 7> kModes = {{
    {"MPOL_DEFAULT", 0},
    {"MPOL_PREFERRED", 1},
    {"MPOL_BIND", 2},
    {"MPOL_INTERLEAVE", 3},
    {"MPOL_LOCAL", 4},
    {"MPOL_PREFERRED_MANY", 5},
    {"MPOL_WEIGHTED_INTERLEAVE", 6},
}};
constexpr std::array<std::pair<std::string_view, int>, 3> kFlags = {{
    {"MPOL_F_STATIC_NODES", 1 << 15},
    {"MPOL_F_RELATIVE_NODES", 1 << 14},
    {"MPOL_F_NUMA_BALANCING", 1 << 13},
}};
constexpr unsigned kMaxNode = 1023; // the kernel's MAX_NUMNODES is at most 1024

std::optional<int> find(const auto &table, std::string_view name) {
    for (const auto &[n, v] : table)
        if (n == name)
            return v;
    return std::nullopt;
}

} // namespace

void apply_memory_policy(const spec::MemoryPolicy &m) {
    auto mode = find(kModes, m.mode);
    if (!mode)
        throw Error(".linux.memoryPolicy.mode: unknown mode \"" + m.mode + "\"");
    int value = *mode;
    for (size_t i = 0; i < m.flags.size(); ++i) {
        auto flag = find(kFlags, m.flags[i]);
        if (!flag)
            throw Error(".linux.memoryPolicy.flags[" + std::to_string(i) + "]: unknown flag \"" + m.flags[i] + "\"");
        value |= *flag;
    }
    constexpr unsigned kBitsPerWord = sizeof(unsigned long) * CHAR_BIT;
    std::vector<unsigned long> mask;
    unsigned long maxnode = 0;
    if (m.nodes && !m.nodes->empty()) {
        for (unsigned node : parse_id_list(*m.nodes, ".linux.memoryPolicy.nodes", kMaxNode)) {
            mask.resize(node / kBitsPerWord + 1);
            mask[node / kBitsPerWord] |= 1UL << (node % kBitsPerWord);
        }
        // The kernel reads maxnode - 1 bits.
        maxnode = mask.size() * kBitsPerWord + 1;
    }
    if (syscall(SYS_set_mempolicy, value, mask.empty() ? nullptr : mask.data(), maxnode) < 0)
        throw_errno("set_mempolicy (mode " + m.mode + (m.nodes ? ", nodes \"" + *m.nodes + "\"" : std::string()) + ")");
}

} // namespace crunpp::linux::detail
