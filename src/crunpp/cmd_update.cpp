// SPDX-License-Identifier: GPL-2.0-or-later
// `update [--resources FILE|-] [--memory N] ... ID`: new limits written to a
// live container's cgroup and recorded in its state (extra "resources", the
// limits as last applied).
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <climits>

#include "cgroup_commands.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/json.hpp"
#include "crunpp/spec.hpp"

namespace crunpp::cli {
namespace {

constexpr const char *kRecordKey = "resources";

std::string read_all(int fd, const std::string &what) {
    std::string s;
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            s.append(buf, static_cast<size_t>(n));
    if (n < 0)
        throw_errno("update: read " + what);
    return s;
}

spec::Resources load_resources(const std::string &path) {
    if (path == "-")
        return cgroup::parse_resources(read_all(STDIN_FILENO, "stdin"), "resources (stdin)");
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("update: open \"" + path + "\"");
    return cgroup::parse_resources(read_all(fd.get(), path), path);
}

// "512m", "1G", "100000", "-1" (no limit), as runc's units.RAMInBytes.
int64_t parse_bytes(const std::string &flag, const std::string &text) {
    if (text == "-1")
        return -1;
    size_t i = 0;
    while (i < text.size() && isdigit(static_cast<unsigned char>(text[i])))
        i++;
    std::string unit = text.substr(i);
    for (char &c : unit)
        c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    if (unit.size() == 2 && unit[1] == 'b')
        unit.pop_back();
    int shift = unit.empty() || unit == "b" ? 0 : unit == "k" ? 10 : unit == "m" ? 20 : unit == "g" ? 30 : unit == "t" ? 40 : -1;
    if (i == 0 || shift < 0 || i > 18)
        throw Error("update: --" + flag + ": invalid size \"" + text + "\" (a number with an optional k, m, g or t)");
    int64_t v = std::stoll(text.substr(0, i));
    if (v > (INT64_MAX >> shift))
        throw Error("update: --" + flag + ": \"" + text + "\" is too large");
    return v << shift;
}

int64_t parse_int(const std::string &flag, const std::string &text) {
    char *end;
    errno = 0;
    long long v = strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE)
        throw Error("update: --" + flag + ": \"" + text + "\" is not an integer");
    return v;
}

uint64_t parse_uint(const std::string &flag, const std::string &text) {
    int64_t v = parse_int(flag, text);
    if (v < 0)
        throw Error("update: --" + flag + ": \"" + text + "\" must not be negative");
    return static_cast<uint64_t>(v);
}

spec::Resources from_flags(const ParsedArgs &a) {
    spec::Resources r = a.has("resources") ? load_resources(*a.get("resources")) : spec::Resources{};
    auto mem = [&]() -> spec::Memory & { if (!r.memory) r.memory.emplace(); return *r.memory; };
    auto cpu = [&]() -> spec::Cpu & { if (!r.cpu) r.cpu.emplace(); return *r.cpu; };
    if (auto v = a.get("memory"))
        mem().limit = parse_bytes("memory", *v);
    if (auto v = a.get("memory-reservation"))
        mem().reservation = parse_bytes("memory-reservation", *v);
    if (auto v = a.get("memory-swap"))
        mem().swap = parse_bytes("memory-swap", *v);
    if (auto v = a.get("cpu-shares"))
        cpu().shares = parse_uint("cpu-shares", *v);
    if (auto v = a.get("cpu-quota"))
        cpu().quota = parse_int("cpu-quota", *v);
    if (auto v = a.get("cpu-period"))
        cpu().period = parse_uint("cpu-period", *v);
    if (auto v = a.get("cpu-burst"))
        cpu().burst = parse_uint("cpu-burst", *v);
    if (auto v = a.get("cpu-idle"))
        cpu().idle = parse_int("cpu-idle", *v);
    if (auto v = a.get("cpu-rt-period"))
        cpu().realtimePeriod = parse_uint("cpu-rt-period", *v);
    if (auto v = a.get("cpu-rt-runtime"))
        cpu().realtimeRuntime = parse_int("cpu-rt-runtime", *v);
    if (auto v = a.get("cpuset-cpus"))
        cpu().cpus = *v;
    if (auto v = a.get("cpuset-mems"))
        cpu().mems = *v;
    if (auto v = a.get("pids-limit")) {
        r.pids.emplace();
        r.pids->limit = parse_int("pids-limit", *v);
    }
    if (auto v = a.get("blkio-weight")) {
        uint64_t w = parse_uint("blkio-weight", *v);
        if (w > 1000 || (w != 0 && w < 10))
            throw Error("update: --blkio-weight: \"" + *v + "\" is not in 10..1000");
        if (!r.blockIO)
            r.blockIO.emplace();
        r.blockIO->weight = static_cast<uint16_t>(w);
    }
    if (auto v = a.get("kernel-memory"))
        mem().kernel = parse_bytes("kernel-memory", *v);
    if (auto v = a.get("kernel-memory-tcp"))
        mem().kernelTCP = parse_bytes("kernel-memory-tcp", *v);
    for (const char *rdt : {"l3-cache-schema", "mem-bw-schema"})
        if (a.has(rdt))
            throw Error(std::string("update: --") + rdt + ": Intel RDT (resctrl) is not implemented by crunpp");
    return r;
}

template <typename T> void take(std::optional<T> &into, const std::optional<T> &from) {
    if (from)
        into = from;
}

// The recorded limits with the new ones laid over them, field by field.
spec::Resources merge(spec::Resources base, const spec::Resources &n) {
    if (n.memory) {
        spec::Memory &m = base.memory ? *base.memory : base.memory.emplace();
        take(m.limit, n.memory->limit);
        take(m.reservation, n.memory->reservation);
        take(m.swap, n.memory->swap);
        take(m.kernel, n.memory->kernel);
        take(m.kernelTCP, n.memory->kernelTCP);
        take(m.swappiness, n.memory->swappiness);
        take(m.disableOOMKiller, n.memory->disableOOMKiller);
        take(m.useHierarchy, n.memory->useHierarchy);
        take(m.checkBeforeUpdate, n.memory->checkBeforeUpdate);
    }
    if (n.cpu) {
        spec::Cpu &c = base.cpu ? *base.cpu : base.cpu.emplace();
        take(c.shares, n.cpu->shares);
        take(c.quota, n.cpu->quota);
        take(c.burst, n.cpu->burst);
        take(c.period, n.cpu->period);
        take(c.realtimeRuntime, n.cpu->realtimeRuntime);
        take(c.realtimePeriod, n.cpu->realtimePeriod);
        take(c.cpus, n.cpu->cpus);
        take(c.mems, n.cpu->mems);
        take(c.idle, n.cpu->idle);
    }
    take(base.pids, n.pids);
    if (n.blockIO) {
        spec::BlockIO &b = base.blockIO ? *base.blockIO : base.blockIO.emplace();
        take(b.weight, n.blockIO->weight);
        take(b.leafWeight, n.blockIO->leafWeight);
        for (auto [to, from] : {std::pair{&b.weightDevice, &n.blockIO->weightDevice}})
            if (!from->empty())
                *to = *from;
        for (auto [to, from] : {std::pair{&b.throttleReadBpsDevice, &n.blockIO->throttleReadBpsDevice},
                                {&b.throttleWriteBpsDevice, &n.blockIO->throttleWriteBpsDevice},
                                {&b.throttleReadIOPSDevice, &n.blockIO->throttleReadIOPSDevice},
                                {&b.throttleWriteIOPSDevice, &n.blockIO->throttleWriteIOPSDevice}})
            if (!from->empty())
                *to = *from;
    }
    if (!n.devices.empty())
        base.devices = n.devices;
    if (!n.hugepageLimits.empty())
        base.hugepageLimits = n.hugepageLimits;
    take(base.network, n.network);
    for (const auto &[k, v] : n.rdma)
        base.rdma[k] = v;
    for (const auto &[k, v] : n.unified)
        base.unified[k] = v;
    return base;
}

// The resources object as JSON, through the config serializer.
std::string resources_json(const spec::Resources &r) {
    spec::Config cfg;
    cfg.linux.emplace();
    cfg.linux->resources = r;
    json::Value doc = json::parse(spec::to_json(cfg, false), "resources");
    const json::Value *linux = doc.find("linux");
    const json::Value *res = linux ? linux->find("resources") : nullptr;
    return res ? json::to_string(*res) : "{}";
}

int run_update(const GlobalOptions &g, const ParsedArgs &a) {
    require_positional("update", a, 1, 1, "container ID");
    spec::Resources req = from_flags(a);
    state::Container c = open_container(g, "update", a.positional[0],
                                        {state::Status::Created, state::Status::Running, state::Status::Paused});
    state::ContainerState &st = c.state();
    if (st.cgroup_paths.empty())
        throw Error("update container " + st.id + ": it has no cgroup");
    // Device rules need the container's linux.devices to keep them allowed.
    std::vector<spec::Device> devices;
    if (!req.devices.empty()) {
        spec::Config cfg = spec::load_config(st.bundle + "/config.json");
        if (cfg.linux)
            devices = cfg.linux->devices;
    }
    cgroup::apply(st.cgroup_paths, req, devices, st.rootless, true, cgroup::systemd_scope(st.extra));
    spec::Resources recorded;
    if (auto it = st.extra.find(kRecordKey); it != st.extra.end())
        recorded = cgroup::parse_resources(it->second, "state.json: extra.resources");
    // Zeros are "not set" (docker update sends them for every field not
    // given): they keep the recorded value.
    st.extra[kRecordKey] = resources_json(merge(std::move(recorded), cgroup::without_unset(req)));
    c.save();
    return 0;
}

} // namespace

extern const Command kUpdateCommand;
const Command kUpdateCommand = {
    "update",
    "ID",
    "change the resource limits of a running container",
    {
        {"resources", 'r', true, "a linux.resources JSON file (- for stdin); the flags below override it"},
        {"memory", 0, true, "memory limit (bytes, or with k/m/g/t; -1: none)"},
        {"memory-reservation", 0, true, "memory soft limit"},
        {"memory-swap", 0, true, "memory plus swap limit (-1: none)"},
        {"cpu-shares", 0, true, "relative CPU weight (v2: converted to cpu.weight)"},
        {"cpu-share", 0, true, "the same (runc's and crun's spelling)", false, "cpu-shares"},
        {"cpu-quota", 0, true, "CPU time per period in microseconds (-1: none)"},
        {"cpu-period", 0, true, "CPU period in microseconds"},
        {"cpu-burst", 0, true, "CPU burst in microseconds"},
        {"cpu-idle", 0, true, "1: SCHED_IDLE-like cgroup"},
        {"cpu-rt-period", 0, true, "realtime period in microseconds (v1)"},
        {"cpu-rt-runtime", 0, true, "realtime runtime in microseconds (v1)"},
        {"cpuset-cpus", 0, true, "CPUs allowed (e.g. 0-3,5)"},
        {"cpuset-mems", 0, true, "memory nodes allowed"},
        {"pids-limit", 0, true, "maximum number of processes (-1: none; 0 leaves it, as in runc)"},
        {"blkio-weight", 0, true, "block IO weight 10..1000"},
        {"kernel-memory", 0, true, "kernel memory limit (v1; crun)"},
        {"kernel-memory-tcp", 0, true, "kernel TCP buffer memory limit (v1; crun)"},
        {"l3-cache-schema", 0, true, "Intel RDT L3 schema (runc): refused, RDT is not implemented"},
        {"mem-bw-schema", 0, true, "Intel RDT memory bandwidth schema (runc): refused, RDT is not implemented"},
    },
    run_update};

} // namespace crunpp::cli
