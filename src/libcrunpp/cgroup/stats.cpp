// SPDX-License-Identifier: GPL-2.0-or-later
// runc's `events --stats` data read from the cgroup files (v1 or v2), and
// the OOM event source.
#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <climits>
#include <memory>
#include <set>

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

void cpu(json::Writer &w, const Paths &p) {
    w.key("cpu").begin_object();
    std::optional<Target> acct = detail::find_controller(p, "cpuacct", "");
    std::optional<Target> c = detail::find_controller(p, "cpu", "");
    uint64_t total = 0, user = 0, kernel = 0, periods = 0, throttled = 0, throttled_time = 0;
    std::vector<uint64_t> percpu;
    if (acct && !acct->v2) {
        total = value(acct->dir, "cpuacct.usage");
        if (std::optional<std::string> pc = read_file(acct->dir, "cpuacct.usage_percpu"))
            for (const std::string &v : split(trim(*pc), ' '))
                percpu.push_back(to_u64(v));
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
    w.key("usage").begin_object().key("total").uinteger(total);
    if (!percpu.empty()) {
        w.key("percpu").begin_array();
        for (uint64_t v : percpu)
            w.uinteger(v);
        w.end_array();
    }
    w.key("kernel").uinteger(kernel).key("user").uinteger(user).end_object();
    w.key("throttling")
        .begin_object()
        .key("periods")
        .uinteger(periods)
        .key("throttled_periods")
        .uinteger(throttled)
        .key("throttled_time")
        .uinteger(throttled_time)
        .end_object();
    w.end_object();
}

void usage_entry(json::Writer &w, const char *name, uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt) {
    w.key(name).begin_object();
    w.key("limit").uinteger(limit).key("usage").uinteger(usage);
    if (max)
        w.key("max").uinteger(max);
    if (failcnt)
        w.key("failcnt").uinteger(failcnt);
    w.end_object();
}

void memory(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "memory", "memory");
    if (!t)
        return;
    auto st = keyed(t->dir, "memory.stat");
    w.key("memory").begin_object();
    if (!t->v2) {
        w.key("cache").uinteger(get(st, "cache"));
        usage_entry(w, "usage", value(t->dir, "memory.limit_in_bytes"), value(t->dir, "memory.usage_in_bytes"),
                    value(t->dir, "memory.max_usage_in_bytes"), value(t->dir, "memory.failcnt"));
        if (detail::file_exists(t->dir, "memory.memsw.usage_in_bytes"))
            usage_entry(w, "swap_usage", value(t->dir, "memory.memsw.limit_in_bytes"),
                        value(t->dir, "memory.memsw.usage_in_bytes"), value(t->dir, "memory.memsw.max_usage_in_bytes"),
                        value(t->dir, "memory.memsw.failcnt"));
        if (detail::file_exists(t->dir, "memory.kmem.usage_in_bytes"))
            usage_entry(w, "kernel_usage", value(t->dir, "memory.kmem.limit_in_bytes"),
                        value(t->dir, "memory.kmem.usage_in_bytes"), value(t->dir, "memory.kmem.max_usage_in_bytes"),
                        value(t->dir, "memory.kmem.failcnt"));
        if (detail::file_exists(t->dir, "memory.kmem.tcp.usage_in_bytes"))
            usage_entry(w, "kernel_tcp_usage", value(t->dir, "memory.kmem.tcp.limit_in_bytes"),
                        value(t->dir, "memory.kmem.tcp.usage_in_bytes"),
                        value(t->dir, "memory.kmem.tcp.max_usage_in_bytes"), value(t->dir, "memory.kmem.tcp.failcnt"));
        w.key("use_hierarchy").boolean(value(t->dir, "memory.use_hierarchy") == 1);
    } else {
        auto events = keyed(t->dir, "memory.events");
        w.key("cache").uinteger(get(st, "file"));
        usage_entry(w, "usage", value(t->dir, "memory.max"), value(t->dir, "memory.current"),
                    value(t->dir, "memory.peak"), get(events, "max"));
        if (detail::file_exists(t->dir, "memory.swap.current"))
            usage_entry(w, "swap_usage", value(t->dir, "memory.swap.max"), value(t->dir, "memory.swap.current"),
                        value(t->dir, "memory.swap.peak"), 0);
    }
    w.key("raw").begin_object();
    for (const auto &[k, v] : st)
        w.key(k).uinteger(v);
    w.end_object();
    w.end_object();
}

void pids(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "pids", "pids");
    if (!t)
        return;
    uint64_t limit = value(t->dir, "pids.max");
    w.key("pids").begin_object().key("current").uinteger(value(t->dir, "pids.current"));
    w.key("limit").uinteger(limit == UINT64_MAX ? 0 : limit).end_object();
}

struct BlkEntry {
    uint64_t major, minor;
    std::string op;
    uint64_t value;
};

void blk_list(json::Writer &w, const char *name, const std::vector<BlkEntry> &list) {
    w.key(name).begin_array();
    for (const BlkEntry &e : list)
        w.begin_object()
            .key("major")
            .uinteger(e.major)
            .key("minor")
            .uinteger(e.minor)
            .key("op")
            .string(e.op)
            .key("value")
            .uinteger(e.value)
            .end_object();
    w.end_array();
}

// "8:0 Read 4096" lines of v1 blkio.
std::vector<BlkEntry> blk_v1(const std::string &dir, const std::string &file) {
    std::vector<BlkEntry> out;
    if (std::optional<std::string> text = read_file(dir, file))
        for (const std::string &line : split(*text, '\n')) {
            std::vector<std::string> f = split(line, ' ');
            if (f.size() != 3)
                continue;
            size_t c = f[0].find(':');
            if (c == std::string::npos)
                continue;
            out.push_back({to_u64(f[0].substr(0, c)), to_u64(f[0].substr(c + 1)), f[1], to_u64(f[2])});
        }
    return out;
}

void blkio(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "blkio", "io");
    if (!t)
        return;
    std::vector<BlkEntry> bytes, ios;
    if (!t->v2) {
        bytes = blk_v1(t->dir, "blkio.throttle.io_service_bytes_recursive");
        ios = blk_v1(t->dir, "blkio.throttle.io_serviced_recursive");
    } else if (std::optional<std::string> text = read_file(t->dir, "io.stat")) {
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
                if (k == "rbytes")
                    bytes.push_back({major, minor, "Read", v});
                else if (k == "wbytes")
                    bytes.push_back({major, minor, "Write", v});
                else if (k == "rios")
                    ios.push_back({major, minor, "Read", v});
                else if (k == "wios")
                    ios.push_back({major, minor, "Write", v});
            }
        }
    }
    w.key("blkio").begin_object();
    blk_list(w, "ioServiceBytesRecursive", bytes);
    blk_list(w, "ioServicedRecursive", ios);
    w.end_object();
}

void hugetlb(json::Writer &w, const Paths &p) {
    std::optional<Target> t = detail::find_controller(p, "hugetlb", "hugetlb");
    if (!t)
        return;
    std::set<std::string> sizes;
    std::unique_ptr<DIR, int (*)(DIR *)> d(opendir(t->dir.c_str()), closedir);
    if (!d)
        return;
    while (struct dirent *e = readdir(d.get())) {
        std::string n = e->d_name;
        if (n.rfind("hugetlb.", 0) == 0) {
            size_t dot = n.find('.', 8);
            if (dot != std::string::npos)
                sizes.insert(n.substr(8, dot - 8));
        }
    }
    w.key("hugetlb").begin_object();
    for (const std::string &s : sizes) {
        std::string f = "hugetlb." + s;
        w.key(s).begin_object();
        if (!t->v2) {
            w.key("usage").uinteger(value(t->dir, f + ".usage_in_bytes"));
            w.key("max").uinteger(value(t->dir, f + ".max_usage_in_bytes"));
            w.key("failcnt").uinteger(value(t->dir, f + ".failcnt"));
        } else {
            w.key("usage").uinteger(value(t->dir, f + ".current"));
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
        cpu(w, p);
        memory(w, p);
        pids(w, p);
        blkio(w, p);
        hugetlb(w, p);
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
