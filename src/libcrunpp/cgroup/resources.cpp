// SPDX-License-Identifier: GPL-2.0-or-later
// linux.resources (devices aside) written to the cgroup files: the v1 file
// of each field, or its v2 conversion (as runc and crun convert).
#include <cerrno>
#include <charconv>
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

// v1 memory.limit_in_bytes, with runc's message when the kernel refuses a
// limit below the usage.
void set_limit_v1(Writer &w, const std::string &dir, int64_t limit) {
    try {
        w.write(dir, "memory.limit_in_bytes", num(limit));
    } catch (const Error &e) {
        if (e.errnum() != EBUSY)
            throw;
        std::string usage = trim(read_file(dir, "memory.usage_in_bytes").value_or("?"));
        std::string peak = trim(read_file(dir, "memory.max_usage_in_bytes").value_or("?"));
        throw Error("cgroup: linux.resources.memory.limit: unable to set memory limit to " + num(limit) +
                        " (current usage: " + usage + ", peak usage: " + peak + ")",
                    EBUSY);
    }
}

// v1 memory limit and memsw (memory + swap): the kernel keeps memsw >=
// limit, so, as runc does, swap goes first when it is raised above the
// current limit (or lifted), the limit first otherwise.
void limit_and_swap_v1(Writer &w, const std::string &dir, const spec::Memory &m) {
    // Plain values, not std::optional: g++ 12 at -Os warns that an optional
    // copy may be used uninitialized (a false positive, an error with -Werror).
    const std::optional<int64_t> &limit = m.limit;
    bool has_swap = m.swap.has_value();
    int64_t swap = m.swap.value_or(0);
    bool memsw = file_exists(dir, "memory.memsw.limit_in_bytes");
    // No memory limit and no swap value: no swap limit either (runc).
    if (limit == -1 && !has_swap && memsw) {
        has_swap = true;
        swap = -1;
    }
    if (has_swap && !memsw) {
        if (swap != -1)
            throw Error("cgroup: linux.resources.memory.swap: swap accounting is not enabled (no "
                        "memory.memsw.limit_in_bytes)");
        has_swap = false; // without swap accounting swap is not limited
    }
    if (limit && has_swap) {
        std::string cur = trim(read_file(dir, "memory.limit_in_bytes").value_or(""));
        uint64_t now = 0;
        bool known = std::from_chars(cur.data(), cur.data() + cur.size(), now).ec == std::errc();
        if (swap == -1 || (known && now < static_cast<uint64_t>(swap))) {
            w.write(dir, "memory.memsw.limit_in_bytes", num(swap));
            set_limit_v1(w, dir, *limit);
            return;
        }
    }
    if (limit)
        set_limit_v1(w, dir, *limit);
    if (has_swap)
        w.write(dir, "memory.memsw.limit_in_bytes", num(swap));
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

// v1's swap is memory+swap, v2's memory.swap.max the swap alone (runc's
// conversion); nullopt: leave memory.swap.max as it is.
std::optional<std::string> v2_swap(const spec::Memory &m) {
    if (m.limit == -1 && !m.swap)
        return "max";
    if (!m.swap)
        return std::nullopt;
    if (*m.swap == -1)
        return "max";
    if (!m.limit || *m.limit == -1)
        throw Error("cgroup: linux.resources.memory.swap: a swap limit needs a memory limit on cgroup v2");
    if (*m.swap < *m.limit)
        throw Error("cgroup: linux.resources.memory.swap: " + num(*m.swap) + " is below the memory limit " +
                    num(*m.limit));
    return num(*m.swap - *m.limit);
}

void memory(const Paths &p, const spec::Memory &m, bool update, Writer &w) {
    Target t = need(p, "memory", "memory", "memory");
    if (update && m.checkBeforeUpdate.value_or(false))
        check_before_update(t, m);
    if (!t.v2) {
        if (m.swappiness && *m.swappiness > 100)
            throw Error("cgroup: linux.resources.memory.swappiness: " + num(*m.swappiness) + " is not in 0..100");
        limit_and_swap_v1(w, t.dir, m);
        if (m.reservation)
            w.write(t.dir, "memory.soft_limit_in_bytes", num(*m.reservation));
        // Deprecated in the spec; kernels since 5.16 refuse it (EOPNOTSUPP).
        if (m.kernel && !w.dry() && try_write_file(t.dir, "memory.kmem.limit_in_bytes", num(*m.kernel)) != 0)
            log::debug("cgroup: memory.kernel: not supported by this kernel, ignored");
        if (m.kernelTCP)
            w.write(t.dir, "memory.kmem.tcp.limit_in_bytes", num(*m.kernelTCP));
        if (m.swappiness)
            w.write(t.dir, "memory.swappiness", num(*m.swappiness));
        if (m.disableOOMKiller)
            w.write_shown_as(t.dir, "memory.oom_control", "1", "oom_kill_disable");
        if (m.useHierarchy) {
            std::optional<std::string> cur = read_file(t.dir, "memory.use_hierarchy");
            std::string want = *m.useHierarchy ? "1" : "0";
            if (!cur || trim(*cur) != want)
                w.write(t.dir, "memory.use_hierarchy", want);
        }
        return;
    }
    if (m.swappiness)
        not_on_v2("memory.swappiness");
    if (m.disableOOMKiller)
        not_on_v2("memory.disableOOMKiller");
    if (m.kernel || m.kernelTCP)
        log::debug("cgroup: memory.kernel and memory.kernelTCP have no cgroup v2 file: ignored");
    if (std::optional<std::string> swap = v2_swap(m)) {
        // Without a swap controller (swapaccount=0) an unlimited swap is
        // what there is already.
        if (*swap != "max" || file_exists(t.dir, "memory.swap.max"))
            w.write(t.dir, "memory.swap.max", *swap);
    }
    if (m.limit)
        w.write(t.dir, "memory.max", v2_max(*m.limit));
    if (m.reservation)
        w.write(t.dir, "memory.low", v2_max(*m.reservation));
}

void cpuset(const Paths &p, const spec::Cpu &c, Writer &w) {
    if (!c.cpus && !c.mems)
        return;
    Target t = need(p, "cpu.cpus", "cpuset", "cpuset");
    // mems first: the kernel wants both non-empty before anything runs.
    if (c.mems)
        w.write(t.dir, "cpuset.mems", *c.mems);
    if (c.cpus)
        w.write(t.dir, "cpuset.cpus", *c.cpus);
}

// v1 period and quota. A period below the current one can be refused
// (EINVAL: old quota / new period above the parent's) until the quota is
// written: runc then writes the period again after the quota.
void cfs_v1(Writer &w, const std::string &dir, const spec::Cpu &c) {
    bool period_pending = false;
    if (c.period) {
        try {
            w.write(dir, "cpu.cfs_period_us", num(*c.period));
        } catch (const Error &e) {
            if (e.errnum() != EINVAL || !c.quota)
                throw;
            period_pending = true;
        }
    }
    if (c.quota)
        w.write(dir, "cpu.cfs_quota_us", num(*c.quota));
    if (period_pending)
        w.write(dir, "cpu.cfs_period_us", num(*c.period));
}

// The kernel clamps cpu.shares to [2, 262144] without an error: say so, as
// runc does, instead of running with another value than asked.
void shares_v1(Writer &w, const std::string &dir, uint64_t shares) {
    w.write(dir, "cpu.shares", num(shares));
    if (w.dry())
        return;
    std::optional<std::string> got = read_file(dir, "cpu.shares");
    if (!got || trim(*got).empty())
        return;
    uint64_t now = 0;
    std::string text = trim(*got);
    if (std::from_chars(text.data(), text.data() + text.size(), now).ec != std::errc())
        return;
    if (now < shares)
        throw Error("cgroup: linux.resources.cpu.shares: " + num(shares) + " is above the maximum allowed cpu-shares " +
                    num(now));
    if (now > shares)
        throw Error("cgroup: linux.resources.cpu.shares: " + num(shares) + " is below the minimum allowed cpu-shares " +
                    num(now));
}

void cpu(const Paths &p, const spec::Cpu &c, Writer &w) {
    cpuset(p, c, w);
    if (!c.shares && !c.quota && !c.period && !c.burst && !c.realtimeRuntime && !c.realtimePeriod && !c.idle)
        return;
    Target t = need(p, "cpu", "cpu", "cpu");
    if (!t.v2) {
        if (c.shares)
            shares_v1(w, t.dir, *c.shares);
        cfs_v1(w, t.dir, c);
        if (c.burst)
            w.write(t.dir, "cpu.cfs_burst_us", num(*c.burst));
        if (c.realtimePeriod)
            w.write(t.dir, "cpu.rt_period_us", num(*c.realtimePeriod));
        if (c.realtimeRuntime) {
            ensure_rt_budget(t.dir, *c.realtimeRuntime);
            w.write(t.dir, "cpu.rt_runtime_us", num(*c.realtimeRuntime));
        }
        if (c.idle)
            w.write(t.dir, "cpu.idle", num(*c.idle));
        return;
    }
    if (c.realtimeRuntime || c.realtimePeriod)
        not_on_v2("cpu.realtimeRuntime/realtimePeriod");
    // cpu.idle before cpu.weight: setting idle resets the weight (runc).
    if (c.idle)
        w.write(t.dir, "cpu.idle", num(*c.idle));
    if (c.shares)
        w.write(t.dir, "cpu.weight", num(shares_to_weight(*c.shares)));
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
        if (c.period)
            period = num(*c.period);
        w.write(t.dir, "cpu.max", quota + " " + period);
    }
    if (c.burst)
        w.write(t.dir, "cpu.max.burst", num(*c.burst));
}

void pids(const Paths &p, const spec::Pids &pl, Writer &w) {
    Target t = need(p, "pids", "pids", "pids");
    // 0 is "not set" (without_unset); a negative limit is none.
    w.write(t.dir, "pids.max", pl.limit > 0 ? num(pl.limit) : "max");
}

// blkio weight [10, 1000] onto io.weight [1, 10000] (runc).
uint64_t blkio_to_io_weight(uint64_t w) { return w == 0 ? 0 : 1 + (w - 10) * 9999 / 990; }

void block_io(const Paths &p, const spec::BlockIO &b, Writer &w) {
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
        // Kernels with BFQ only have the bfq files; without BFQ there is no
        // weight file at all, which matters only when a weight is asked for.
        const char *weight = file_exists(t.dir, "blkio.weight") || !file_exists(t.dir, "blkio.bfq.weight")
                                 ? "blkio.weight"
                                 : "blkio.bfq.weight";
        if (b.weight)
            w.write(t.dir, weight, num(uint64_t(*b.weight)));
        if (b.leafWeight)
            w.write(t.dir, "blkio.leaf_weight", num(uint64_t(*b.leafWeight)));
        for (const spec::WeightDevice &d : b.weightDevice) {
            std::string key = dev(d.major, d.minor);
            if (d.weight)
                w.write_keyed(t.dir, std::string(weight) + "_device", key + " " + num(uint64_t(*d.weight)), key,
                              key + " 0");
            if (d.leafWeight)
                w.write_keyed(t.dir, "blkio.leaf_weight_device", key + " " + num(uint64_t(*d.leafWeight)), key,
                              key + " 0");
        }
        for (const Throttle &th : throttles)
            for (const spec::ThrottleDevice &d : *th.list) {
                std::string key = dev(d.major, d.minor);
                w.write_keyed(t.dir, th.v1, key + " " + num(d.rate), key, key + " 0");
            }
        return;
    }
    bool bfq = file_exists(t.dir, "io.bfq.weight");
    if (b.weight) {
        if (bfq)
            w.write_keyed(t.dir, "io.bfq.weight", num(uint64_t(*b.weight)), "default", "default 100");
        else
            w.write_keyed(t.dir, "io.weight", num(blkio_to_io_weight(*b.weight)), "default", "default 100");
    }
    for (const spec::WeightDevice &d : b.weightDevice)
        if (d.weight) {
            std::string key = dev(d.major, d.minor);
            if (bfq)
                w.write_keyed(t.dir, "io.bfq.weight", key + " " + num(uint64_t(*d.weight)), key, key + " default");
            else
                w.write_keyed(t.dir, "io.weight", key + " " + num(blkio_to_io_weight(*d.weight)), key,
                              key + " default");
        }
    for (const Throttle &th : throttles)
        for (const spec::ThrottleDevice &d : *th.list) {
            std::string key = dev(d.major, d.minor);
            w.write_keyed(t.dir, "io.max", key + " " + th.v2 + "=" + (d.rate == 0 ? "max" : num(d.rate)), key,
                          key + " rbps=max wbps=max riops=max wiops=max");
        }
}

void hugepages(const Paths &p, const std::vector<spec::HugepageLimit> &limits, Writer &w) {
    Target t = need(p, "hugepageLimits", "hugetlb", "hugetlb");
    for (const spec::HugepageLimit &h : limits) {
        std::string file = "hugetlb." + h.pageSize + (t.v2 ? ".max" : ".limit_in_bytes");
        if (!file_exists(t.dir, file))
            throw Error("cgroup: linux.resources.hugepageLimits: page size \"" + h.pageSize + "\" is not supported (no " +
                        t.dir + "/" + file + ")");
        w.write(t.dir, file, num(h.limit));
    }
}

void network(const Paths &p, const spec::Network &n, Writer &w) {
    if (n.classID) {
        std::optional<Target> t = find_controller(p, "net_cls", "");
        if (!t || t->v2)
            throw Error("cgroup: linux.resources.network.classID: no net_cls hierarchy (not available on cgroup v2)");
        w.write(t->dir, "net_cls.classid", num(uint64_t(*n.classID)));
    }
    if (!n.priorities.empty()) {
        std::optional<Target> t = find_controller(p, "net_prio", "");
        if (!t || t->v2)
            throw Error("cgroup: linux.resources.network.priorities: no net_prio hierarchy (not available on cgroup v2)");
        for (const spec::InterfacePriority &ip : n.priorities)
            w.write_keyed(t->dir, "net_prio.ifpriomap", ip.name + " " + num(uint64_t(ip.priority)), ip.name,
                          ip.name + " 0");
    }
}

void rdma(const Paths &p, const std::map<std::string, spec::Rdma> &limits, Writer &w) {
    Target t = need(p, "rdma", "rdma", "rdma");
    for (const auto &[device, l] : limits) {
        std::string v = device;
        if (l.hcaHandles)
            v += " hca_handle=" + num(uint64_t(*l.hcaHandles));
        if (l.hcaObjects)
            v += " hca_object=" + num(uint64_t(*l.hcaObjects));
        w.write_keyed(t.dir, "rdma.max", v, device, device + " hca_handle=max hca_object=max");
    }
}

void unified(const Paths &p, const std::map<std::string, std::string> &files, Writer &w) {
    auto u = p.find(kUnified);
    if (u == p.end())
        throw Error("cgroup: linux.resources.unified: needs cgroup v2 (this host's hierarchy is v1)");
    for (const auto &[key, value] : files) {
        if (key.empty() || key.find('/') != std::string::npos || key[0] == '.')
            throw Error("cgroup: linux.resources.unified: invalid file name \"" + key + "\"");
        if (!file_exists(u->second, key))
            throw Error("cgroup: linux.resources.unified: " + u->second + "/" + key +
                        " does not exist (controller not enabled?)");
    }
    for (const auto &[key, value] : files)
        w.write(u->second, key, value);
}

} // namespace

uint64_t shares_to_weight(uint64_t shares) {
    if (shares == 0)
        return 0;
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

void apply_resources(const Paths &p, const spec::Resources &r, bool update, Writer &w) {
    if (r.memory)
        memory(p, *r.memory, update, w);
    if (r.cpu)
        cpu(p, *r.cpu, w);
    if (r.pids)
        pids(p, *r.pids, w);
    if (r.blockIO)
        block_io(p, *r.blockIO, w);
    if (!r.hugepageLimits.empty())
        hugepages(p, r.hugepageLimits, w);
    if (r.network)
        network(p, *r.network, w);
    if (!r.rdma.empty())
        rdma(p, r.rdma, w);
    if (!r.unified.empty())
        unified(p, r.unified, w);
}

} // namespace crunpp::cgroup::detail
