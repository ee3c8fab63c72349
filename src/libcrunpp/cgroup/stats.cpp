// SPDX-License-Identifier: GPL-2.0-or-later
// runc's `events --stats` data (its types.Stats: the names and the
// omitted zeros of runc's JSON) read from the cgroup files (v1 or v2), and
// the OOM event source.
#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

#include "../linux/process/process.hpp"
#include "../spec/parse_internal.hpp"
#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"
#include "crunpp/json.hpp"

namespace crunpp::cgroup {
namespace {

using detail::read_file;
using detail::split;
using detail::Target;
using detail::trim;

uint64_t to_u64(const std::string &s) {
    std::string t = trim(s);
    if (t == "max" || t.empty())
        return t == "max" ? UINT64_MAX : 0;
    try {
        long long v = std::stoll(t);
        return v < 0 ? UINT64_MAX : static_cast<uint64_t>(v);
    } catch (...) {
        return 0;
    }
}

uint64_t value(const std::string &dir, const std::string &file) {
    std::optional<std::string> v = read_file(dir, file);
    return v ? to_u64(*v) : 0;
}

// "key value" lines (memory.stat, cpu.stat, memory.events).
std::map<std::string, uint64_t> keyed(const std::string &dir, const std::string &file) {
    std::map<std::string, uint64_t> out;
    if (std::optional<std::string> text = read_file(dir, file))
        for (const std::string &line : split(*text, '\n')) {
            std::vector<std::string> f = split(line, ' ');
            if (f.size() == 2)
                out[f[0]] = to_u64(f[1]);
        }
    return out;
}

uint64_t get(const std::map<std::string, uint64_t> &m, const char *k) {
    auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
}

// Go's `omitempty`: runc leaves out a zero number or an empty list.
void opt_uint(json::Writer &w, const char *name, uint64_t v) {
    if (v)
        w.key(name).uinteger(v);
}

void opt_list(json::Writer &w, const char *name, const std::vector<uint64_t> &list) {
    if (list.empty())
        return;
    w.key(name).begin_array();
    for (uint64_t v : list)
        w.uinteger(v);
    w.end_array();
}

// cpuacct.usage_all: "cpu user system" then a line per CPU, in ns.
void percpu_modes(const std::string &dir, std::vector<uint64_t> &kernel, std::vector<uint64_t> &user) {
    std::optional<std::string> text = read_file(dir, "cpuacct.usage_all");
    if (!text)
        return;
    for (const std::string &line : split(*text, '\n')) {
        std::vector<std::string> f = split(line, ' ');
        if (f.size() != 3 || f[0] == "cpu")
            continue;
        user.push_back(to_u64(f[1]));
        kernel.push_back(to_u64(f[2]));
    }
}

void cpu(json::Writer &w, const Paths &p) {
    std::optional<Target> acct = detail::find_controller(p, "cpuacct", "");
    std::optional<Target> c = detail::find_controller(p, "cpu", "");
    uint64_t total = 0, user = 0, kernel = 0, periods = 0, throttled = 0, throttled_time = 0;
    std::vector<uint64_t> percpu, percpu_kernel, percpu_user;
    if (acct && !acct->v2) {
        total = value(acct->dir, "cpuacct.usage");
        if (std::optional<std::string> pc = read_file(acct->dir, "cpuacct.usage_percpu"))
            for (const std::string &v : split(trim(*pc), ' '))
                percpu.push_back(to_u64(v));
        percpu_modes(acct->dir, percpu_kernel, percpu_user);
        auto st = keyed(acct->dir, "cpuacct.stat");
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / static_cast<uint64_t>(hz) : 10000000ULL;
        user = get(st, "user") * ns_per_tick;
        kernel = get(st, "system") * ns_per_tick;
    } else if (acct) {
        auto st = keyed(acct->dir, "cpu.stat");
        total = get(st, "usage_usec") * 1000;
        user = get(st, "user_usec") * 1000;
        kernel = get(st, "system_usec") * 1000;
    }
    if (c) {
        auto st = keyed(c->dir, "cpu.stat");
        periods = get(st, "nr_periods");
        throttled = get(st, "nr_throttled");
        throttled_time = c->v2 ? get(st, "throttled_usec") * 1000 : get(st, "throttled_time");
    }
    w.key("cpu").begin_object();
    w.key("usage").begin_object();
    opt_uint(w, "total", total);
    opt_list(w, "percpu", percpu);
    opt_list(w, "percpu_kernel", percpu_kernel);
    opt_list(w, "percpu_user", percpu_user);
    w.key("kernel").uinteger(kernel).key("user").uinteger(user).end_object();
    w.key("throttling").begin_object();
    opt_uint(w, "periods", periods);
    opt_uint(w, "throttledPeriods", throttled);
    opt_uint(w, "throttledTime", throttled_time);
    w.end_object();
    w.end_object();
}

// runc reports the v1 cpuset's settings; there are none on v2 (its
// effective CPUs and nodes are given instead).
void cpuset(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "cpuset", "cpuset");
    auto list = [&](const char *name, const char *file) {
        std::optional<std::string> text = t ? read_file(t->dir, file) : std::nullopt;
        if (!text || trim(*text).empty())
            return;
        std::vector<unsigned> ids;
        try {
            ids = linux::parse_id_list(*text, file);
        } catch (const Error &) {
            return;
        }
        w.key(name).begin_array();
        for (unsigned id : ids)
            w.uinteger(id);
        w.end_array();
    };
    const bool v1 = t && !t->v2, v2 = t && t->v2;
    auto flag = [&](const char *name, const char *file) { w.key(name).uinteger(v1 ? value(t->dir, file) : 0); };
    w.key("cpuset").begin_object();
    list("cpus", v2 ? "cpuset.cpus.effective" : "cpuset.cpus");
    flag("cpu_exclusive", "cpuset.cpu_exclusive");
    list("mems", v2 ? "cpuset.mems.effective" : "cpuset.mems");
    flag("mem_hardwall", "cpuset.mem_hardwall");
    flag("mem_exclusive", "cpuset.mem_exclusive");
    flag("memory_migrate", "cpuset.memory_migrate");
    flag("memory_spread_page", "cpuset.memory_spread_page");
    flag("memory_spread_slab", "cpuset.memory_spread_slab");
    flag("memory_pressure", "cpuset.memory_pressure");
    flag("sched_load_balance", "cpuset.sched_load_balance");
    int64_t relax = 0;
    if (std::optional<std::string> v = v1 ? read_file(t->dir, "cpuset.sched_relax_domain_level") : std::nullopt)
        relax = std::strtoll(v->c_str(), nullptr, 10);
    w.key("sched_relax_domain_level").integer(relax);
    w.end_object();
}

struct MemoryEntry {
    uint64_t limit = 0, usage = 0, max = 0, failcnt = 0;
};

// runc's MemoryEntry: limit and failcnt always, usage and max when not 0.
void memory_entry(json::Writer &w, const char *name, const MemoryEntry &e) {
    w.key(name).begin_object().key("limit").uinteger(e.limit);
    opt_uint(w, "usage", e.usage);
    opt_uint(w, "max", e.max);
    w.key("failcnt").uinteger(e.failcnt).end_object();
}

// The v1 counters of `prefix` ("memory", "memory.memsw", ...); zero when
// the kernel has none (no swap accounting, no kmem).
MemoryEntry v1_entry(const std::string &dir, const std::string &prefix) {
    return {value(dir, prefix + ".limit_in_bytes"), value(dir, prefix + ".usage_in_bytes"),
            value(dir, prefix + ".max_usage_in_bytes"), value(dir, prefix + ".failcnt")};
}

uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

void memory(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "memory", "memory");
    std::map<std::string, uint64_t> st;
    if (t)
        st = keyed(t->dir, "memory.stat");
    MemoryEntry usage, swap, kernel, kernel_tcp;
    uint64_t cache = 0;
    if (t && !t->v2) {
        cache = get(st, "cache");
        usage = v1_entry(t->dir, "memory");
        swap = v1_entry(t->dir, "memory.memsw");
        kernel = v1_entry(t->dir, "memory.kmem");
        kernel_tcp = v1_entry(t->dir, "memory.kmem.tcp");
    } else if (t) {
        cache = get(st, "file");
        usage = {value(t->dir, "memory.max"), value(t->dir, "memory.current"), value(t->dir, "memory.peak"),
                 get(keyed(t->dir, "memory.events"), "max")};
        // v1's swap counters count memory and swap together; runc adds
        // memory to v2's swap-only ones to report the same.
        uint64_t swap_max = value(t->dir, "memory.swap.max"); // 0 without swap accounting
        swap.usage = saturating_add(value(t->dir, "memory.swap.current"), usage.usage);
        swap.limit = swap_max == UINT64_MAX ? UINT64_MAX : saturating_add(swap_max, usage.limit);
    }
    w.key("memory").begin_object();
    opt_uint(w, "cache", cache);
    memory_entry(w, "usage", usage);
    memory_entry(w, "swap", swap);
    memory_entry(w, "kernel", kernel);
    memory_entry(w, "kernelTCP", kernel_tcp);
    if (!st.empty()) {
        w.key("raw").begin_object();
        for (const auto &[k, v] : st)
            w.key(k).uinteger(v);
        w.end_object();
    }
    w.end_object();
}

void pids(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "pids", "pids");
    w.key("pids").begin_object();
    if (t) {
        uint64_t limit = value(t->dir, "pids.max");
        opt_uint(w, "current", value(t->dir, "pids.current"));
        opt_uint(w, "limit", limit == UINT64_MAX ? 0 : limit);
    }
    w.end_object();
}

struct BlkEntry {
    uint64_t major, minor;
    std::string op;
    uint64_t value;
};

// runc's blkio lists, in its order, and the v1 file each is read from
// (CFQ's names; BFQ's have "bfq." after "blkio.").
struct BlkList {
    const char *key;
    const char *file;
};
constexpr BlkList kBlkLists[] = {
    {"ioServiceBytesRecursive", "io_service_bytes_recursive"},
    {"ioServicedRecursive", "io_serviced_recursive"},
    {"ioQueueRecursive", "io_queued_recursive"},
    {"ioServiceTimeRecursive", "io_service_time_recursive"},
    {"ioWaitTimeRecursive", "io_wait_time_recursive"},
    {"ioMergedRecursive", "io_merged_recursive"},
    {"ioTimeRecursive", "time_recursive"},
    {"sectorsRecursive", "sectors_recursive"},
};
constexpr size_t kBlkCount = sizeof kBlkLists / sizeof kBlkLists[0];
using BlkStats = std::vector<BlkEntry>[kBlkCount];

// "8:0 Read 4096" (or "8:0 4096" in sectors and time) lines of a v1 blkio
// file; "Total N" lines are left out, as runc does.
std::vector<BlkEntry> blk_v1(const std::string &dir, const std::string &file) {
    std::vector<BlkEntry> out;
    if (std::optional<std::string> text = read_file(dir, file))
        for (const std::string &line : split(*text, '\n')) {
            std::vector<std::string> f = split(line, ' ');
            if (f.size() < 2 || f.size() > 3)
                continue;
            size_t c = f[0].find(':');
            if (c == std::string::npos)
                continue;
            out.push_back({to_u64(f[0].substr(0, c)), to_u64(f[0].substr(c + 1)), f.size() == 3 ? f[1] : "",
                           to_u64(f.back())});
        }
    return out;
}

// runc's order of sources: BFQ's debug files, BFQ's, CFQ's, then the
// throttle policy's recursive and plain counters. The first source whose
// first file has an entry is the one read.
void blk_v1_stats(const std::string &dir, BlkStats &out) {
    struct Source {
        std::string prefix; // of kBlkLists' file names
        bool all;           // all of kBlkLists, or the first two
        bool plain;         // without "_recursive"
    };
    const Source sources[] = {{"blkio.bfq.", true, false},
                              {"blkio.bfq.", false, false},
                              {"blkio.", true, false},
                              {"blkio.throttle.", false, false},
                              {"blkio.throttle.", false, true}};
    for (const Source &s : sources) {
        auto file = [&](size_t i) {
            std::string f = s.prefix + kBlkLists[i].file;
            return s.plain ? f.substr(0, f.size() - std::strlen("_recursive")) : f;
        };
        // runc looks at sectors first where there are all, else at io_serviced.
        const size_t first = s.all ? kBlkCount - 1 : 1;
        std::vector<BlkEntry> entries = blk_v1(dir, file(first));
        if (entries.empty())
            continue;
        out[first] = std::move(entries);
        for (size_t i = 0; i < (s.all ? kBlkCount : 2); i++)
            if (i != first)
                out[i] = blk_v1(dir, file(i));
        return;
    }
}

void blkio(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "blkio", "io");
    BlkStats stats;
    if (t && !t->v2) {
        blk_v1_stats(t->dir, stats);
    } else if (std::optional<std::string> text = t ? read_file(t->dir, "io.stat") : std::nullopt) {
        // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
        for (const std::string &line : split(*text, '\n')) {
            std::vector<std::string> f = split(line, ' ');
            size_t c = f.empty() ? std::string::npos : f[0].find(':');
            if (c == std::string::npos)
                continue;
            uint64_t major = to_u64(f[0].substr(0, c)), minor = to_u64(f[0].substr(c + 1));
            for (size_t i = 1; i < f.size(); i++) {
                size_t eq = f[i].find('=');
                if (eq == std::string::npos)
                    continue;
                std::string k = f[i].substr(0, eq);
                uint64_t v = to_u64(f[i].substr(eq + 1));
                if (k == "rbytes" || k == "wbytes")
                    stats[0].push_back({major, minor, k[0] == 'r' ? "Read" : "Write", v});
                else if (k == "rios" || k == "wios")
                    stats[1].push_back({major, minor, k[0] == 'r' ? "Read" : "Write", v});
            }
        }
    }
    w.key("blkio").begin_object();
    for (size_t i = 0; i < kBlkCount; i++) {
        if (stats[i].empty())
            continue;
        w.key(kBlkLists[i].key).begin_array();
        for (const BlkEntry &e : stats[i]) {
            w.begin_object();
            opt_uint(w, "major", e.major);
            opt_uint(w, "minor", e.minor);
            if (!e.op.empty())
                w.key("op").string(e.op);
            opt_uint(w, "value", e.value);
            w.end_object();
        }
        w.end_array();
    }
    w.end_object();
}

void hugetlb(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "hugetlb", "hugetlb");
    std::set<std::string> sizes;
    if (t) {
        std::unique_ptr<DIR, int (*)(DIR *)> d(opendir(t->dir.c_str()), closedir);
        while (struct dirent *e = d ? readdir(d.get()) : nullptr) {
            std::string n = e->d_name;
            if (n.rfind("hugetlb.", 0) == 0) {
                size_t dot = n.find('.', 8);
                if (dot != std::string::npos)
                    sizes.insert(n.substr(8, dot - 8));
            }
        }
    }
    w.key("hugetlb").begin_object();
    for (const std::string &s : sizes) {
        std::string f = "hugetlb." + s;
        w.key(s).begin_object();
        if (!t->v2) {
            opt_uint(w, "usage", value(t->dir, f + ".usage_in_bytes"));
            opt_uint(w, "max", value(t->dir, f + ".max_usage_in_bytes"));
            w.key("failcnt").uinteger(value(t->dir, f + ".failcnt"));
        } else {
            opt_uint(w, "usage", value(t->dir, f + ".current"));
            w.key("failcnt").uinteger(get(keyed(t->dir, f + ".events"), "max"));
        }
        w.end_object();
    }
    w.end_object();
}

} // namespace

std::string stats_json(const Paths &p) {
    json::Writer w;
    w.begin_object();
    if (!p.empty()) {
        // runc's Stats, in its order: crunpp has no Intel RDT and reads
        // no network interface (runc's null).
        cpu(w, p);
        cpuset(w, p);
        memory(w, p);
        pids(w, p);
        blkio(w, p);
        hugetlb(w, p);
        w.key("intel_rdt").begin_object().end_object();
        w.key("network_interfaces").null();
    }
    w.end_object();
    return std::string(w.str());
}

UniqueFd oom_event_fd(const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "memory", "memory");
    if (!t)
        return UniqueFd();
    if (t->v2) {
        UniqueFd in(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
        if (!in)
            throw_errno("cgroup: inotify_init1");
        std::string path = t->dir + "/memory.events";
        if (inotify_add_watch(in.get(), path.c_str(), IN_MODIFY) < 0)
            throw_errno("cgroup: watch " + path);
        return in;
    }
    UniqueFd ev(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!ev)
        throw_errno("cgroup: eventfd");
    std::string path = t->dir + "/memory.oom_control";
    UniqueFd ctl(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ctl)
        throw_errno("cgroup: open " + path);
    detail::write_file(t->dir, "cgroup.event_control", std::to_string(ev.get()) + " " + std::to_string(ctl.get()));
    // The registration lives as long as the eventfd; the control file may go.
    return ev;
}

uint64_t oom_kills(const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "memory", "memory");
    if (!t)
        return 0;
    if (t->v2)
        return get(keyed(t->dir, "memory.events"), "oom_kill");
    return get(keyed(t->dir, "memory.oom_control"), "oom_kill");
}

spec::Resources parse_resources(const std::string &text, const std::string &origin) {
    json::Value doc = json::parse(text, origin);
    return spec::detail::read_resources(spec::detail::Node::root(doc, origin));
}

} // namespace crunpp::cgroup
