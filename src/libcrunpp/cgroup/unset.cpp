// SPDX-License-Identifier: GPL-2.0-or-later
// The zero values runc reads as "not set": engines send them for every
// field the user did not give (Docker: blockIO.weight 0, cpu.shares 0 on
// every run; zeros for every other field on `docker update`).
#include "crunpp/cgroup.hpp"

namespace crunpp::cgroup {
namespace {

template <typename T> void drop_zero(std::optional<T> &v) {
    if (v && *v == T{})
        v.reset();
}

} // namespace

spec::Resources without_unset(spec::Resources r) {
    if (r.memory) {
        spec::Memory &m = *r.memory;
        drop_zero(m.limit);
        drop_zero(m.reservation);
        drop_zero(m.swap);
        drop_zero(m.kernel);
        drop_zero(m.kernelTCP);
        // runc writes memory.oom_control only to disable the OOM killer.
        if (m.disableOOMKiller && !*m.disableOOMKiller)
            m.disableOOMKiller.reset();
        if (!m.limit && !m.reservation && !m.swap && !m.kernel && !m.kernelTCP && !m.swappiness &&
            !m.disableOOMKiller && !m.useHierarchy)
            r.memory.reset();
    }
    if (r.cpu) {
        spec::Cpu &c = *r.cpu;
        drop_zero(c.shares);
        drop_zero(c.quota);
        drop_zero(c.period);
        drop_zero(c.realtimeRuntime);
        drop_zero(c.realtimePeriod);
        drop_zero(c.cpus);
        drop_zero(c.mems);
        // burst and idle are pointers in runc: an explicit 0 is written.
        if (!c.shares && !c.quota && !c.period && !c.burst && !c.realtimeRuntime && !c.realtimePeriod && !c.cpus &&
            !c.mems && !c.idle)
            r.cpu.reset();
    }
    if (r.pids && r.pids->limit == 0)
        r.pids.reset();
    if (r.blockIO) {
        spec::BlockIO &b = *r.blockIO;
        drop_zero(b.weight);
        drop_zero(b.leafWeight);
        std::erase_if(b.weightDevice, [](spec::WeightDevice &d) {
            drop_zero(d.weight);
            drop_zero(d.leafWeight);
            return !d.weight && !d.leafWeight;
        });
        // A throttle rate of 0 is a value: it removes the device's limit.
        if (!b.weight && !b.leafWeight && b.weightDevice.empty() && b.throttleReadBpsDevice.empty() &&
            b.throttleWriteBpsDevice.empty() && b.throttleReadIOPSDevice.empty() && b.throttleWriteIOPSDevice.empty())
            r.blockIO.reset();
    }
    if (r.network) {
        drop_zero(r.network->classID);
        if (!r.network->classID && r.network->priorities.empty())
            r.network.reset();
    }
    return r;
}

} // namespace crunpp::cgroup
