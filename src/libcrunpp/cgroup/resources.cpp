// SPDX-License-Identifier: GPL-2.0-or-later
// linux.resources (devices aside) written to the cgroup files: the v1 file
// of each field, or its v2 conversion (as runc and crun convert).
#include <cerrno>
#include <string>

#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

namespace crunpp::cgroup::detail {
namespace {

std::string num(int64_t v) { return std::to_string(v); }
std::string num(uint64_t v) { return std::to_string(v); }
std::string dev(int64_t major, int64_t minor) { return num(major) + ":" + num(minor); }

Target need(const Paths &p, const char *resource, const char *v1, const char *v2) {
    std::optional<Target> t = find_controller(p, v1, v2);
    if (!t)
        throw Error(std::string("cgroup: linux.resources.") + resource + ": the " + v1 +
                    " controller is not available in the container's cgroup");
    return *t;
}

[[noreturn]] void not_on_v2(const char *field) {
    throw Error(std::string("cgroup: linux.resources.") + field + ": not available on cgroup v2");
}

// v1 memory limit and memsw: the kernel keeps memsw >= limit, so the
// order depends on whether the limits go up or down.
void write_limit_and_swap(const std::string &dir, const spec::Memory &m) {
    std::optional<std::string> limit = m.limit ? std::optional(num(*m.limit)) : std::nullopt;
    std::optional<std::string> swap = m.swap ? std::optional(num(*m.swap)) : std::nullopt;
    if (swap && !file_exists(dir, "memory.memsw.limit_in_bytes"))
        throw Error("cgroup: linux.resources.memory.swap: swap accounting is not enabled (no memory.memsw.limit_in_bytes)");
    if (limit && swap) {
        if (try_write_file(dir, "memory.limit_in_bytes", *limit) == 0) {
            write_file(dir, "memory.memsw.limit_in_bytes", *swap);
        } else {
            write_file(dir, "memory.memsw.limit_in_bytes", *swap);
            write_file(dir, "memory.limit_in_bytes", *limit);
        }
    } else if (limit) {
        // Without a swap value runc sets memsw to the same "no limit".
        if (*m.limit == -1 && file_exists(dir, "memory.memsw.limit_in_bytes"))
            try_write_file(dir, "memory.memsw.limit_in_bytes", "-1");
        write_file(dir, "memory.limit_in_bytes", *limit);
    } else if (swap) {
        write_file(dir, "memory.memsw.limit_in_bytes", *swap);
    }
}

void check_before_update(const Target &t, const spec::Memory &m) {
    if (!m.limit || *m.limit <= 0)
        return;
    std::optional<std::string> usage = read_file(t.dir, t.v2 ? "memory.current" : "memory.usage_in_bytes");
    if (usage && std::stoll(trim(*usage)) > *m.limit)
        throw Error("cgroup: linux.resources.memory.limit: " + num(*m.limit) + " is below the current usage " + trim(*usage) +
                    " (checkBeforeUpdate)");
}

std::string v2_max(int64_t v) { return v < 0 ? "max" : num(v); }

void memory(const Paths &p, const spec::Memory &m, bool update) {
    Target t = need(p, "memory", "memory", "memory");
    if (update && m.checkBeforeUpdate.value_or(false))
        check_before_update(t, m);
    if (!t.v2) {
        write_limit_and_swap(t.dir, m);
        if (m.reservation)
            write_file(t.dir, "memory.soft_limit_in_bytes", num(*m.reservation));
        // Deprecated in the spec; kernels since 5.16 refuse it (EOPNOTSUPP).
        if (m.kernel && try_write_file(t.dir, "memory.kmem.limit_in_bytes", num(*m.kernel)) != 0)
            log::debug("cgroup: memory.kernel: not supported by this kernel, ignored");
        if (m.kernelTCP)
            write_file(t.dir, "memory.kmem.tcp.limit_in_bytes", num(*m.kernelTCP));
        if (m.swappiness && *m.swappiness <= 100)
            write_file(t.dir, "memory.swappiness", num(*m.swappiness));
        else if (m.swappiness)
            throw Error("cgroup: linux.resources.memory.swappiness: " + num(*m.swappiness) + " is not in 0..100");
        if (m.disableOOMKiller)
            write_file(t.dir, "memory.oom_control", *m.disableOOMKiller ? "1" : "0");
        if (m.useHierarchy) {
            std::optional<std::string> cur = read_file(t.dir, "memory.use_hierarchy");
            std::string want = *m.useHierarchy ? "1" : "0";
            if (!cur || trim(*cur) != want)
                write_file(t.dir, "memory.use_hierarchy", want);
        }
        return;
    }
    if (m.swappiness)
        not_on_v2("memory.swappiness");
    if (m.disableOOMKiller.value_or(false))
        not_on_v2("memory.disableOOMKiller");
    if (m.kernel || m.kernelTCP)
        log::debug("cgroup: memory.kernel and memory.kernelTCP have no cgroup v2 file: ignored");
    if (m.swap && *m.swap != 0) {
        // v1's swap is memory+swap; v2's memory.swap.max is the swap alone.
        std::string value;
        if (*m.swap == -1) {
            value = "max";
        } else {
            if (!m.limit || *m.limit <= 0)
                throw Error("cgroup: linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2");
            if (*m.swap < *m.limit)
                throw Error("cgroup: linux.resources.memory.swap: " + num(*m.swap) + " is below the memory limit " +
                            num(*m.limit));
            value = num(*m.swap - *m.limit);
        }
        if (m.limit)
            write_file(t.dir, "memory.max", v2_max(*m.limit));
        write_file(t.dir, "memory.swap.max", value);
    } else if (m.limit) {
        write_file(t.dir, "memory.max", v2_max(*m.limit));
    }
    if (m.reservation)
        write_file(t.dir, "memory.low", v2_max(*m.reservation));
}

// runc's mapping of cpu.shares [2, 262144] onto cpu.weight [1, 10000].
uint64_t shares_to_weight(uint64_t shares) {
    if (shares == 0)
        return 0;
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

void cpuset(const Paths &p, const spec::Cpu &c) {
    if (!c.cpus && !c.mems)
        return;
    Target t = need(p, "cpu.cpus", "cpuset", "cpuset");
    // mems first: the kernel wants both non-empty before anything runs.
    if (c.mems)
        write_file(t.dir, "cpuset.mems", *c.mems);
    if (c.cpus)
        write_file(t.dir, "cpuset.cpus", *c.cpus);
}

void cpu(const Paths &p, const spec::Cpu &c) {
    cpuset(p, c);
    if (!c.shares && !c.quota && !c.period && !c.burst && !c.realtimeRuntime && !c.realtimePeriod && !c.idle)
        return;
    Target t = need(p, "cpu", "cpu", "cpu");
    if (!t.v2) {
        if (c.shares)
            write_file(t.dir, "cpu.shares", num(*c.shares));
        if (c.period)
            write_file(t.dir, "cpu.cfs_period_us", num(*c.period));
        if (c.quota)
            write_file(t.dir, "cpu.cfs_quota_us", num(*c.quota));
        if (c.burst)
            write_file(t.dir, "cpu.cfs_burst_us", num(*c.burst));
        if (c.realtimePeriod)
            write_file(t.dir, "cpu.rt_period_us", num(*c.realtimePeriod));
        if (c.realtimeRuntime) {
            ensure_rt_budget(t.dir, *c.realtimeRuntime);
            write_file(t.dir, "cpu.rt_runtime_us", num(*c.realtimeRuntime));
        }
        if (c.idle)
            write_file(t.dir, "cpu.idle", num(*c.idle));
        return;
    }
    if (c.realtimeRuntime || c.realtimePeriod)
        not_on_v2("cpu.realtimeRuntime/realtimePeriod");
    if (c.shares && *c.shares != 0)
        write_file(t.dir, "cpu.weight", num(shares_to_weight(*c.shares)));
    if (c.quota || c.period) {
        std::string quota = "max", period = "100000";
        // Keep what is set for the half not given.
        if (std::optional<std::string> cur = read_file(t.dir, "cpu.max")) {
            std::vector<std::string> f = split(trim(*cur), ' ');
            if (f.size() == 2) {
                quota = f[0];
                period = f[1];
            }
        }
        if (c.quota)
            quota = *c.quota > 0 ? num(*c.quota) : "max";
        if (c.period && *c.period != 0)
            period = num(*c.period);
        write_file(t.dir, "cpu.max", quota + " " + period);
    }
    if (c.burst)
        write_file(t.dir, "cpu.max.burst", num(*c.burst));
    if (c.idle)
        write_file(t.dir, "cpu.idle", num(*c.idle));
}

void pids(const Paths &p, const spec::Pids &pl) {
    Target t = need(p, "pids", "pids", "pids");
    write_file(t.dir, "pids.max", pl.limit > 0 ? num(pl.limit) : "max");
}

// blkio weight [10, 1000] onto io.weight [1, 10000] (runc).
uint64_t blkio_to_io_weight(uint64_t w) { return w == 0 ? 0 : 1 + (w - 10) * 9999 / 990; }

void block_io(const Paths &p, const spec::BlockIO &b) {
    Target t = need(p, "blockIO", "blkio", "io");
    struct Throttle {
        const std::vector<spec::ThrottleDevice> *list;
        const char *v1, *v2;
    } throttles[] = {
        {&b.throttleReadBpsDevice, "blkio.throttle.read_bps_device", "rbps"},
        {&b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device", "wbps"},
        {&b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device", "riops"},
        {&b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device", "wiops"},
    };
    if (!t.v2) {
        // Kernels with BFQ only have the bfq files.
        const char *weight = file_exists(t.dir, "blkio.weight") || !file_exists(t.dir, "blkio.bfq.weight")
                                 ? "blkio.weight"
                                 : "blkio.bfq.weight";
        if (b.weight)
            write_file(t.dir, weight, num(uint64_t(*b.weight)));
        if (b.leafWeight)
            write_file(t.dir, "blkio.leaf_weight", num(uint64_t(*b.leafWeight)));
        for (const spec::WeightDevice &d : b.weightDevice) {
            if (d.weight)
                write_file(t.dir, std::string(weight) + "_device", dev(d.major, d.minor) + " " + num(uint64_t(*d.weight)));
            if (d.leafWeight)
                write_file(t.dir, "blkio.leaf_weight_device", dev(d.major, d.minor) + " " + num(uint64_t(*d.leafWeight)));
        }
        for (const Throttle &th : throttles)
            for (const spec::ThrottleDevice &d : *th.list)
                write_file(t.dir, th.v1, dev(d.major, d.minor) + " " + num(d.rate));
        return;
    }
    bool bfq = file_exists(t.dir, "io.bfq.weight");
    if (b.weight) {
        if (bfq)
            write_file(t.dir, "io.bfq.weight", num(uint64_t(*b.weight)));
        else
            write_file(t.dir, "io.weight", num(blkio_to_io_weight(*b.weight)));
    }
    for (const spec::WeightDevice &d : b.weightDevice)
        if (d.weight) {
            if (bfq)
                write_file(t.dir, "io.bfq.weight", dev(d.major, d.minor) + " " + num(uint64_t(*d.weight)));
            else
                write_file(t.dir, "io.weight", dev(d.major, d.minor) + " " + num(blkio_to_io_weight(*d.weight)));
        }
    for (const Throttle &th : throttles)
        for (const spec::ThrottleDevice &d : *th.list)
            write_file(t.dir, "io.max", dev(d.major, d.minor) + " " + th.v2 + "=" + (d.rate == 0 ? "max" : num(d.rate)));
}

void hugepages(const Paths &p, const std::vector<spec::HugepageLimit> &limits) {
    Target t = need(p, "hugepageLimits", "hugetlb", "hugetlb");
    for (const spec::HugepageLimit &h : limits) {
        std::string file = "hugetlb." + h.pageSize + (t.v2 ? ".max" : ".limit_in_bytes");
        if (!file_exists(t.dir, file))
            throw Error("cgroup: linux.resources.hugepageLimits: page size \"" + h.pageSize + "\" is not supported (no " +
                        t.dir + "/" + file + ")");
        write_file(t.dir, file, num(h.limit));
    }
}

void network(const Paths &p, const spec::Network &n) {
    if (n.classID) {
        std::optional<Target> t = find_controller(p, "net_cls", "");
        if (!t || t->v2)
            throw Error("cgroup: linux.resources.network.classID: no net_cls hierarchy (not available on cgroup v2)");
        write_file(t->dir, "net_cls.classid", num(uint64_t(*n.classID)));
    }
    if (!n.priorities.empty()) {
        std::optional<Target> t = find_controller(p, "net_prio", "");
        if (!t || t->v2)
            throw Error("cgroup: linux.resources.network.priorities: no net_prio hierarchy (not available on cgroup v2)");
        for (const spec::InterfacePriority &ip : n.priorities)
            write_file(t->dir, "net_prio.ifpriomap", ip.name + " " + num(uint64_t(ip.priority)));
    }
}

void rdma(const Paths &p, const std::map<std::string, spec::Rdma> &limits) {
    Target t = need(p, "rdma", "rdma", "rdma");
    for (const auto &[device, l] : limits) {
        std::string v = device;
        if (l.hcaHandles)
            v += " hca_handle=" + num(uint64_t(*l.hcaHandles));
        if (l.hcaObjects)
            v += " hca_object=" + num(uint64_t(*l.hcaObjects));
        write_file(t.dir, "rdma.max", v);
    }
}

void unified(const Paths &p, const std::map<std::string, std::string> &files) {
    auto u = p.find(kUnified);
    if (u == p.end())
        throw Error("cgroup: linux.resources.unified: needs cgroup v2 (this host's hierarchy is v1)");
    for (const auto &[key, value] : files) {
        if (key.empty() || key.find('/') != std::string::npos || key[0] == '.')
            throw Error("cgroup: linux.resources.unified: invalid file name \"" + key + "\"");
        if (!file_exists(u->second, key))
            throw Error("cgroup: linux.resources.unified: " + u->second + "/" + key +
                        " does not exist (controller not enabled?)");
        write_file(u->second, key, value);
    }
}

} // namespace

void apply_resources(const Paths &p, const spec::Resources &r, bool update) {
    if (r.memory)
        memory(p, *r.memory, update);
    if (r.cpu)
        cpu(p, *r.cpu);
    if (r.pids)
        pids(p, *r.pids);
    if (r.blockIO)
        block_io(p, *r.blockIO);
    if (!r.hugepageLimits.empty())
        hugepages(p, r.hugepageLimits);
    if (r.network)
        network(p, *r.network);
    if (!r.rdma.empty())
        rdma(p, r.rdma);
    if (!r.unified.empty())
        unified(p, r.unified);
}

} // namespace crunpp::cgroup::detail
