// SPDX-License-Identifier: GPL-2.0-or-later
// Scheduler policy (sched_setattr), I/O priority and CPU affinity.
#include "process.hpp"
#include "process_internal.hpp"

#include "crunpp/error.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <utility>

namespace crunpp::linux {

namespace {

// struct sched_attr of linux/sched/types.h (that header clashes with glibc's <sched.h>).
struct SchedAttr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};

constexpr int kSchedIso = 4; // reserved by the kernel, named by the spec

constexpr std::array<std::pair<std::string_view, int>, 7> kPolicies = {{
    {"SCHED_OTHER", SCHED_OTHER},
    {"SCHED_FIFO", SCHED_FIFO},
    {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH},
    {"SCHED_ISO", kSchedIso},
    {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", SCHED_DEADLINE},
}};

constexpr std::array<std::pair<std::string_view, uint64_t>, 7> kSchedFlags = {{
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},
    {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
}};

constexpr std::array<std::pair<std::string_view, int>, 3> kIoClasses = {{
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
}};
constexpr int kIoprioClassShift = 13;
constexpr int kIoprioWhoProcess = 1;

template <typename Table> auto lookup(const Table &t, std::string_view name) -> std::optional<decltype(t[0].second)> {
    for (const auto &[n, v] : t)
        if (n == name)
            return v;
    return std::nullopt;
}

// The kernel's largest CONFIG_NR_CPUS: bounds the mask a config can make us allocate.
constexpr unsigned kMaxCpuId = 8191;

} // namespace

void apply_final_cpu_affinity(pid_t pid, const std::string &cpus) {
    detail::apply_cpu_affinity(pid, cpus, ".process.execCPUAffinity.final");
}

namespace detail {

void apply_scheduler(const spec::Scheduler &s) {
    auto policy = lookup(kPolicies, s.policy);
    if (!policy)
        throw Error(".process.scheduler.policy: unknown policy \"" + s.policy + "\"");
    SchedAttr attr = {};
    attr.size = sizeof attr;
    attr.sched_policy = static_cast<uint32_t>(*policy);
    attr.sched_nice = s.nice.value_or(0);
    attr.sched_priority = static_cast<uint32_t>(s.priority.value_or(0));
    attr.sched_runtime = s.runtime.value_or(0);
    attr.sched_deadline = s.deadline.value_or(0);
    attr.sched_period = s.period.value_or(0);
    for (size_t i = 0; i < s.flags.size(); ++i) {
        auto flag = lookup(kSchedFlags, s.flags[i]);
        if (!flag)
            throw Error(".process.scheduler.flags[" + std::to_string(i) + "]: unknown flag \"" + s.flags[i] + "\"");
        attr.sched_flags |= *flag;
    }
    if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
        throw_errno("sched_setattr (policy " + s.policy + ", nice " + std::to_string(attr.sched_nice) +
                    ", priority " + std::to_string(attr.sched_priority) + ")");
}

void apply_io_priority(const spec::IoPriority &p) {
    auto cls = lookup(kIoClasses, p.ioClass);
    if (!cls)
        throw Error(".process.ioPriority.class: unknown class \"" + p.ioClass + "\"");
    if (p.priority < 0 || p.priority > 7)
        throw Error(".process.ioPriority.priority: " + std::to_string(p.priority) + " is not in 0..7");
    int value = (*cls << kIoprioClassShift) | p.priority;
    if (syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, value) < 0)
        throw_errno("ioprio_set (" + p.ioClass + ", priority " + std::to_string(p.priority) + ")");
}

void apply_cpu_affinity(pid_t pid, const std::string &cpus, const char *what) {
    std::vector<unsigned> ids = parse_id_list(cpus, what, kMaxCpuId);
    unsigned count = ids.back() + 1;
    std::unique_ptr<cpu_set_t, void (*)(cpu_set_t *)> set(CPU_ALLOC(count), [](cpu_set_t *s) { CPU_FREE(s); });
    if (!set)
        throw Error(std::string(what) + ": out of memory");
    size_t size = CPU_ALLOC_SIZE(count);
    CPU_ZERO_S(size, set.get());
    for (unsigned id : ids)
        CPU_SET_S(id, size, set.get());
    if (sched_setaffinity(pid, size, set.get()) < 0)
        throw_errno(std::string("sched_setaffinity to CPUs \"") + cpus + "\" (" + what + ")");
}

} // namespace detail
} // namespace crunpp::linux
