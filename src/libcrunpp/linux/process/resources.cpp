// SPDX-License-Identifier: GPL-2.0-or-later
// apply_process_resources: the per-process settings the container process
// inherits through execve.
#include "process.hpp"
#include "process_internal.hpp"
#include "../procfs.hpp"

#include "crunpp/error.hpp"

#include <sys/personality.h>

namespace crunpp::linux {

namespace {

void apply_personality(const spec::Personality &p) {
    unsigned long domain = 0;
    if (p.domain == "LINUX")
        domain = PER_LINUX;
    else if (p.domain == "LINUX32")
        domain = PER_LINUX32;
    else
        throw Error(".linux.personality.domain: unknown domain \"" + p.domain + "\"");
    // The spec defines no flag values yet: any given one is refused rather than ignored.
    if (!p.flags.empty())
        throw Error(".linux.personality.flags[0]: unsupported flag \"" + p.flags[0] +
                    "\" (the runtime spec defines no personality flags)");
    if (personality(domain) < 0)
        throw_errno("personality " + p.domain);
}

void apply_oom_score_adj(int adj) {
    try {
        procfs::write_file("self/oom_score_adj", std::to_string(adj));
    } catch (Error &e) {
        e.wrap("set oomScoreAdj to " + std::to_string(adj));
        throw;
    }
}

} // namespace

void apply_process_resources(const spec::Config &cfg) {
    if (cfg.process) {
        const spec::Process &p = *cfg.process;
        detail::apply_rlimits(p.rlimits);
        if (p.oomScoreAdj)
            apply_oom_score_adj(*p.oomScoreAdj);
        if (p.scheduler)
            detail::apply_scheduler(*p.scheduler);
        if (p.ioPriority)
            detail::apply_io_priority(*p.ioPriority);
        if (p.execCPUAffinity && p.execCPUAffinity->initial)
            detail::apply_cpu_affinity(0, *p.execCPUAffinity->initial, ".process.execCPUAffinity.initial");
    }
    if (cfg.linux) {
        if (cfg.linux->personality)
            apply_personality(*cfg.linux->personality);
        if (cfg.linux->memoryPolicy)
            detail::apply_memory_policy(*cfg.linux->memoryPolicy);
    }
}

} // namespace crunpp::linux
