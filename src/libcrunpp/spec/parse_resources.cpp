// SPDX-License-Identifier: GPL-2.0-or-later
// `linux.resources`: the cgroup settings.
#include "parse_internal.hpp"

namespace crunpp::spec::detail {
namespace {

constexpr const char *kDeviceCgroupTypes[] = {"a", "c", "b"};

std::vector<DeviceCgroup> read_device_rules(const Node &res) {
    std::vector<DeviceCgroup> out;
    res.each("devices", [&](const Node &item) {
        item.expect(json::Type::Object);
        DeviceCgroup d;
        d.allow = item.required("allow").boolean();
        if (Node t = item.member("type"); t.present())
            d.type = read_enum(t, kDeviceCgroupTypes, "device type");
        d.major = item.opt_num<int64_t>("major");
        d.minor = item.opt_num<int64_t>("minor");
        if (Node a = item.member("access"); a.present()) {
            d.access = a.take_string();
            for (char c : *d.access)
                if (c != 'r' && c != 'w' && c != 'm')
                    a.fail("invalid device access " + quote(*d.access) + " (letters r, w, m)");
        }
        out.push_back(std::move(d));
    });
    return out;
}

Memory read_memory(const Node &n) {
    n.expect(json::Type::Object);
    Memory m;
    m.limit = n.opt_num<int64_t>("limit");
    m.reservation = n.opt_num<int64_t>("reservation");
    m.swap = n.opt_num<int64_t>("swap");
    m.kernel = n.opt_num<int64_t>("kernel");
    m.kernelTCP = n.opt_num<int64_t>("kernelTCP");
    m.swappiness = n.opt_num<uint64_t>("swappiness");
    if (m.swappiness && *m.swappiness > 100)
        n.member("swappiness").fail("must be between 0 and 100");
    m.disableOOMKiller = n.opt_bool("disableOOMKiller");
    m.useHierarchy = n.opt_bool("useHierarchy");
    m.checkBeforeUpdate = n.opt_bool("checkBeforeUpdate");
    return m;
}

Cpu read_cpu(const Node &n) {
    n.expect(json::Type::Object);
    Cpu c;
    c.shares = n.opt_num<uint64_t>("shares");
    c.quota = n.opt_num<int64_t>("quota");
    c.burst = n.opt_num<uint64_t>("burst");
    c.period = n.opt_num<uint64_t>("period");
    c.realtimeRuntime = n.opt_num<int64_t>("realtimeRuntime");
    c.realtimePeriod = n.opt_num<uint64_t>("realtimePeriod");
    c.cpus = n.opt_str("cpus");
    c.mems = n.opt_str("mems");
    c.idle = n.opt_num<int64_t>("idle");
    if (c.burst && c.quota && *c.quota > 0 && *c.burst > static_cast<uint64_t>(*c.quota))
        n.member("burst").fail("must not be larger than quota");
    return c;
}

// major and minor of blockIO device entries.
void read_major_minor(const Node &n, int64_t &major, int64_t &minor) {
    major = n.num<int64_t>("major");
    minor = n.num<int64_t>("minor");
}

std::vector<ThrottleDevice> read_throttle(const Node &blkio, std::string_view key) {
    std::vector<ThrottleDevice> out;
    blkio.each(key, [&](const Node &item) {
        item.expect(json::Type::Object);
        ThrottleDevice t;
        read_major_minor(item, t.major, t.minor);
        t.rate = item.num<uint64_t>("rate");
        out.push_back(t);
    });
    return out;
}

BlockIO read_block_io(const Node &n) {
    n.expect(json::Type::Object);
    BlockIO b;
    b.weight = n.opt_num<uint16_t>("weight");
    b.leafWeight = n.opt_num<uint16_t>("leafWeight");
    n.each("weightDevice", [&](const Node &item) {
        item.expect(json::Type::Object);
        WeightDevice w;
        read_major_minor(item, w.major, w.minor);
        w.weight = item.opt_num<uint16_t>("weight");
        w.leafWeight = item.opt_num<uint16_t>("leafWeight");
        if (!w.weight && !w.leafWeight)
            item.fail("needs weight or leafWeight");
        b.weightDevice.push_back(w);
    });
    b.throttleReadBpsDevice = read_throttle(n, "throttleReadBpsDevice");
    b.throttleWriteBpsDevice = read_throttle(n, "throttleWriteBpsDevice");
    b.throttleReadIOPSDevice = read_throttle(n, "throttleReadIOPSDevice");
    b.throttleWriteIOPSDevice = read_throttle(n, "throttleWriteIOPSDevice");
    return b;
}

// "<digits><K|M|G>B" without a leading zero ("2MB", "64KB", "1GB").
bool valid_page_size(std::string_view s) {
    if (s.size() < 3 || s[0] < '1' || s[0] > '9' || s.back() != 'B')
        return false;
    char unit = s[s.size() - 2];
    if (unit != 'K' && unit != 'M' && unit != 'G')
        return false;
    for (size_t i = 1; i + 2 < s.size(); i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

std::vector<HugepageLimit> read_hugepage_limits(const Node &res) {
    std::vector<HugepageLimit> out;
    res.each("hugepageLimits", [&](const Node &item) {
        item.expect(json::Type::Object);
        HugepageLimit h;
        Node size = item.required("pageSize");
        h.pageSize = size.take_string();
        if (!valid_page_size(h.pageSize))
            size.fail("invalid page size " + quote(h.pageSize) + " (want a number and KB, MB or GB, as \"2MB\")");
        h.limit = item.num<uint64_t>("limit");
        out.push_back(std::move(h));
    });
    return out;
}

Network read_network(const Node &n) {
    n.expect(json::Type::Object);
    Network net;
    net.classID = n.opt_num<uint32_t>("classID");
    n.each("priorities", [&](const Node &item) {
        item.expect(json::Type::Object);
        InterfacePriority p;
        p.name = item.str("name");
        p.priority = item.num<uint32_t>("priority");
        net.priorities.push_back(std::move(p));
    });
    return net;
}

std::map<std::string, Rdma> read_rdma(const Node &res) {
    std::map<std::string, Rdma> out;
    Node m = res.member("rdma");
    if (!m.present())
        return out;
    m.each_member([&](const std::string &device, const Node &item) {
        if (device.empty())
            item.fail("device name must not be empty");
        if (!item.present())
            return;
        item.expect(json::Type::Object);
        Rdma r{item.opt_num<uint32_t>("hcaHandles"), item.opt_num<uint32_t>("hcaObjects")};
        if (!r.hcaHandles && !r.hcaObjects)
            item.fail("needs hcaHandles or hcaObjects");
        out.insert_or_assign(device, r);
    });
    return out;
}

// Keys name files in the container's cgroup directory: one component only.
std::map<std::string, std::string> read_unified(const Node &res) {
    std::map<std::string, std::string> out;
    Node m = res.member("unified");
    if (!m.present())
        return out;
    m.each_member([&](const std::string &file, const Node &value) {
        if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos ||
            file.find('\0') != std::string::npos)
            value.fail("invalid cgroup file name");
        if (value.present())
            out.insert_or_assign(file, value.take_string());
    });
    return out;
}

} // namespace

Resources read_resources(const Node &n) {
    n.expect(json::Type::Object);
    Resources r;
    r.devices = read_device_rules(n);
    if (Node m = n.member("memory"); m.present())
        r.memory = read_memory(m);
    if (Node c = n.member("cpu"); c.present())
        r.cpu = read_cpu(c);
    if (Node p = n.member("pids"); p.present()) {
        p.expect(json::Type::Object);
        r.pids = Pids{p.num<int64_t>("limit")};
    }
    if (Node b = n.member("blockIO"); b.present())
        r.blockIO = read_block_io(b);
    r.hugepageLimits = read_hugepage_limits(n);
    if (Node net = n.member("network"); net.present())
        r.network = read_network(net);
    r.rdma = read_rdma(n);
    r.unified = read_unified(n);
    return r;
}

} // namespace crunpp::spec::detail
