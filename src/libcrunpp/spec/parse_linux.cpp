// SPDX-License-Identifier: GPL-2.0-or-later
// The `linux` object except `resources`.
#include <sys/stat.h>

#include "parse_internal.hpp"

namespace crunpp::spec::detail {
namespace {

constexpr const char *kDeviceTypes[] = {"c", "b", "u", "p"};
// The spec's four, and their recursive forms as runc accepts them (podman
// sends "rslave" for a rootless --privileged container).
constexpr const char *kPropagations[] = {"private",  "shared",  "slave",  "unbindable",
                                         "rprivate", "rshared", "rslave", "runbindable"};
constexpr const char *kPersonalityDomains[] = {"LINUX", "LINUX32"};
constexpr const char *kMemoryPolicyModes[] = {
    "MPOL_DEFAULT",   "MPOL_BIND",           "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL",
};
constexpr const char *kMemoryPolicyFlags[] = {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"};

template <typename Names> bool in_list(const Names &names, std::string_view s) {
    for (std::string_view n : names)
        if (n == s)
            return true;
    return false;
}

// Ranges [a, a+n) and [b, b+m) share an id.
bool overlap(uint64_t a, uint64_t n, uint64_t b, uint64_t m) { return a < b + m && b < a + n; }

std::vector<Namespace> read_namespaces(const Node &linux) {
    std::vector<Namespace> out;
    linux.each("namespaces", [&](const Node &item) {
        item.expect(json::Type::Object);
        Node type = item.required("type");
        std::optional<NamespaceType> t = namespace_type_from_name(type.string_view());
        if (!t)
            type.fail("unknown namespace type " + quote(type.string_view()));
        for (const auto &prev : out)
            if (prev.type == *t)
                type.fail("duplicate namespace " + quote(type.string_view()));
        Namespace ns{*t, std::nullopt};
        // An empty path means "create a new one", as runc reads it.
        if (Node path = item.member("path"); path.present() && !path.string_view().empty())
            ns.path = path.take_absolute_path();
        out.push_back(std::move(ns));
    });
    return out;
}

TimeOffset read_time_offset(const Node &n) {
    n.expect(json::Type::Object);
    TimeOffset t;
    t.secs = n.opt_num<int64_t>("secs").value_or(0);
    t.nanosecs = n.opt_num<uint32_t>("nanosecs").value_or(0);
    if (t.nanosecs >= 1000000000u)
        n.member("nanosecs").fail("must be less than 1000000000");
    return t;
}

// The S_IFMT bits of a device node of type "c", "u", "b" or "p".
uint32_t device_type_bits(const std::string &type) {
    if (type == "b")
        return S_IFBLK;
    if (type == "p")
        return S_IFIFO;
    return S_IFCHR;
}

std::vector<Device> read_devices(const Node &linux) {
    std::vector<Device> out;
    linux.each("devices", [&](const Node &item) {
        item.expect(json::Type::Object);
        Device d;
        d.type = read_enum(item.required("type"), kDeviceTypes, "device type");
        d.path = item.required("path").take_absolute_path();
        // A FIFO has no device number; every other type needs both.
        if (d.type == "p") {
            d.major = item.opt_num<int64_t>("major").value_or(0);
            d.minor = item.opt_num<int64_t>("minor").value_or(0);
        } else {
            d.major = item.num<int64_t>("major");
            d.minor = item.num<int64_t>("minor");
        }
        d.fileMode = item.opt_num<uint32_t>("fileMode");
        if (d.fileMode) {
            // Engines (podman) pass the node's whole st_mode: its type bits are
            // accepted when they agree with .type, and dropped.
            const uint32_t type_bits = *d.fileMode & S_IFMT;
            if (type_bits != 0 && type_bits != device_type_bits(d.type))
                item.member("fileMode").fail("file type bits " + std::to_string(type_bits) +
                                             " do not match device type \"" + d.type + "\"");
            d.fileMode = *d.fileMode & ~static_cast<uint32_t>(S_IFMT);
            if (*d.fileMode > 0777)
                item.member("fileMode").fail("must be at most 0777 (511), got " + std::to_string(*d.fileMode));
        }
        d.uid = item.opt_num<uint32_t>("uid");
        d.gid = item.opt_num<uint32_t>("gid");
        out.push_back(std::move(d));
    });
    return out;
}

// The kernel's rule for interface names (dev_valid_name).
bool valid_interface_name(std::string_view s) {
    if (s.empty() || s.size() >= 16 || s == "." || s == "..")
        return false;
    for (char c : s)
        if (c == '/' || c == ':' || c == ' ' || (c >= '\t' && c <= '\r') || c == '\0')
            return false;
    return true;
}

std::map<std::string, NetDevice> read_net_devices(const Node &linux) {
    std::map<std::string, NetDevice> out;
    Node m = linux.member("netDevices");
    if (!m.present())
        return out;
    m.each_member([&](const std::string &name, const Node &dev) {
        if (!valid_interface_name(name))
            dev.fail("invalid network interface name");
        if (!dev.present())
            return;
        dev.expect(json::Type::Object);
        NetDevice d;
        if (Node n = dev.member("name"); n.present()) {
            d.name = n.take_string();
            if (!valid_interface_name(*d.name))
                n.fail("invalid network interface name " + quote(*d.name));
        }
        out.insert_or_assign(name, std::move(d));
    });
    return out;
}

// One path component: the closID names a directory under /sys/fs/resctrl.
bool valid_dir_name(std::string_view s) {
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos;
}

IntelRdt read_intel_rdt(const Node &n) {
    n.expect(json::Type::Object);
    IntelRdt r;
    if (Node clos = n.member("closID"); clos.present()) {
        r.closID = clos.take_string();
        if (!valid_dir_name(*r.closID))
            clos.fail("invalid closID " + quote(*r.closID) + " (must be a single path component)");
    }
    r.schemata = n.strings("schemata");
    r.l3CacheSchema = n.opt_str("l3CacheSchema");
    if (Node mb = n.member("memBwSchema"); mb.present()) {
        r.memBwSchema = mb.take_string();
        if (r.memBwSchema->compare(0, 3, "MB:") != 0 || r.memBwSchema->find('\n') != std::string::npos)
            mb.fail("must start with \"MB:\" and be a single line");
    }
    r.enableMonitoring = n.opt_bool("enableMonitoring");
    return r;
}

MemoryPolicy read_memory_policy(const Node &n) {
    n.expect(json::Type::Object);
    MemoryPolicy p;
    p.mode = read_enum(n.required("mode"), kMemoryPolicyModes, "memory policy mode");
    p.nodes = n.opt_str("nodes");
    n.each("flags", [&](const Node &item) {
        p.flags.push_back(read_enum(item, kMemoryPolicyFlags, "memory policy flag"));
    });
    // What set_mempolicy(2) would refuse, reported with its field.
    bool has_nodes = p.nodes && !p.nodes->empty();
    if ((p.mode == "MPOL_DEFAULT" || p.mode == "MPOL_LOCAL") && has_nodes)
        n.member("nodes").fail("must be empty for " + p.mode);
    if ((p.mode == "MPOL_BIND" || p.mode == "MPOL_INTERLEAVE" || p.mode == "MPOL_WEIGHTED_INTERLEAVE" ||
         p.mode == "MPOL_PREFERRED_MANY") &&
        !has_nodes)
        n.fail("nodes is required for " + p.mode);
    if (in_list(p.flags, "MPOL_F_STATIC_NODES") && in_list(p.flags, "MPOL_F_RELATIVE_NODES"))
        n.member("flags").fail("MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
    return p;
}

// "net.ipv4.ip_forward" or "net/ipv4/conf/eth0.100/forwarding": no empty
// component, so no way out of /proc/sys.
bool valid_sysctl_name(std::string_view s) {
    if (s.empty())
        return false;
    char prev = '.';
    for (char c : s) {
        bool sep = c == '.' || c == '/';
        if ((sep && (prev == '.' || prev == '/')) || c == '\0')
            return false;
        prev = c;
    }
    return prev != '.' && prev != '/';
}

std::map<std::string, std::string> read_sysctl(const Node &linux) {
    std::map<std::string, std::string> out;
    Node m = linux.member("sysctl");
    if (!m.present())
        return out;
    m.each_member([&](const std::string &name, const Node &value) {
        if (!valid_sysctl_name(name))
            value.fail("invalid sysctl name");
        if (value.present())
            out.insert_or_assign(name, value.take_string());
    });
    return out;
}

bool takes_errno(SeccompAction a) { return a == SeccompAction::Errno || a == SeccompAction::Trace; }

SeccompAction read_action(const Node &n) {
    std::optional<SeccompAction> a = seccomp_action_from_name(n.string_view());
    if (!a)
        n.fail("unknown seccomp action " + quote(n.string_view()));
    return *a;
}

std::optional<uint32_t> read_errno_ret(const Node &parent, std::string_view key, SeccompAction action) {
    std::optional<uint32_t> e = parent.opt_num<uint32_t>(key);
    if (e && !takes_errno(action))
        parent.member(key).fail("only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not " +
                                std::string(seccomp_action_name(action)));
    return e;
}

SyscallArg read_syscall_arg(const Node &n) {
    n.expect(json::Type::Object);
    SyscallArg a;
    a.index = n.num<uint32_t>("index");
    // Syscalls have six arguments.
    if (a.index > 5)
        n.member("index").fail("must be between 0 and 5");
    a.value = n.num<uint64_t>("value");
    a.valueTwo = n.opt_num<uint64_t>("valueTwo").value_or(0);
    Node op = n.required("op");
    std::optional<SeccompOp> o = seccomp_op_from_name(op.string_view());
    if (!o)
        op.fail("unknown seccomp operator " + quote(op.string_view()));
    a.op = *o;
    return a;
}

Syscall read_syscall(const Node &n) {
    n.expect(json::Type::Object);
    Syscall s;
    Node names = n.required("names");
    names.expect(json::Type::Array);
    n.each("names", [&](const Node &item) {
        std::string name = item.take_string();
        if (name.empty())
            item.fail("must not be empty");
        s.names.push_back(std::move(name));
    });
    if (s.names.empty())
        names.fail("must have at least one entry");
    s.action = read_action(n.required("action"));
    s.errnoRet = read_errno_ret(n, "errnoRet", s.action);
    n.each("args", [&](const Node &item) { s.args.push_back(read_syscall_arg(item)); });
    return s;
}

Seccomp read_seccomp(const Node &n) {
    n.expect(json::Type::Object);
    Seccomp s;
    Node def = n.required("defaultAction");
    s.defaultAction = read_action(def);
    // The runtime itself runs under the filter after loading it; a default of
    // NOTIFY would suspend its next syscall with nobody to answer.
    if (s.defaultAction == SeccompAction::Notify)
        def.fail("SCMP_ACT_NOTIFY cannot be the default action");
    s.defaultErrnoRet = read_errno_ret(n, "defaultErrnoRet", s.defaultAction);
    n.each("architectures", [&](const Node &item) {
        std::string_view a = item.string_view();
        if (!in_list(seccomp_arch_names(), a))
            item.fail("unknown seccomp architecture " + quote(a));
        s.architectures.emplace_back(a);
    });
    n.each("flags", [&](const Node &item) {
        std::string_view f = item.string_view();
        if (!in_list(seccomp_flag_names(), f))
            item.fail("unknown seccomp flag " + quote(f));
        s.flags.emplace_back(f);
    });
    s.listenerPath = n.opt_str("listenerPath");
    s.listenerMetadata = n.opt_str("listenerMetadata");
    if (s.listenerMetadata && !s.listenerPath)
        n.member("listenerMetadata").fail("requires listenerPath");
    n.each("syscalls", [&](const Node &item) {
        s.syscalls.push_back(read_syscall(item));
        if (s.syscalls.back().action == SeccompAction::Notify && !s.listenerPath)
            item.member("action").fail("SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
    });
    return s;
}

Personality read_personality(const Node &n) {
    n.expect(json::Type::Object);
    Personality p;
    p.domain = read_enum(n.required("domain"), kPersonalityDomains, "personality domain");
    // runtime-spec 1.3 defines no personality flag.
    n.each("flags", [&](const Node &item) { item.fail("unknown personality flag " + quote(item.string_view())); });
    return p;
}

std::vector<std::string> read_absolute_paths(const Node &linux, std::string_view key) {
    std::vector<std::string> out;
    linux.each(key, [&](const Node &item) { out.push_back(item.take_absolute_path()); });
    return out;
}

} // namespace

std::vector<IdMapping> read_id_mappings(const Node &parent, std::string_view key) {
    std::vector<IdMapping> out;
    parent.each(key, [&](const Node &item) {
        item.expect(json::Type::Object);
        IdMapping m{item.num<uint32_t>("containerID"), item.num<uint32_t>("hostID"), item.num<uint32_t>("size")};
        constexpr uint64_t kIds = uint64_t{1} << 32;
        if (m.size == 0)
            item.member("size").fail("must be greater than 0");
        if (m.containerID + uint64_t{m.size} > kIds || m.hostID + uint64_t{m.size} > kIds)
            item.member("size").fail("range goes beyond id 4294967295");
        for (const auto &prev : out) {
            if (overlap(prev.containerID, prev.size, m.containerID, m.size))
                item.fail("container id range overlaps an earlier mapping");
            if (overlap(prev.hostID, prev.size, m.hostID, m.size))
                item.fail("host id range overlaps an earlier mapping");
        }
        out.push_back(m);
    });
    return out;
}

Linux read_linux(const Node &n) {
    n.expect(json::Type::Object);
    Linux l;
    l.namespaces = read_namespaces(n);
    l.uidMappings = read_id_mappings(n, "uidMappings");
    l.gidMappings = read_id_mappings(n, "gidMappings");
    // Mappings are written for a new user namespace; without one they would
    // be silently ignored.
    if (!l.find_namespace(NamespaceType::User)) {
        if (!l.uidMappings.empty())
            n.member("uidMappings").fail("requires a user namespace in linux.namespaces");
        if (!l.gidMappings.empty())
            n.member("gidMappings").fail("requires a user namespace in linux.namespaces");
    }
    if (Node t = n.member("timeOffsets"); t.present()) {
        t.expect(json::Type::Object);
        TimeOffsets offsets;
        if (Node b = t.member("boottime"); b.present())
            offsets.boottime = read_time_offset(b);
        if (Node m = t.member("monotonic"); m.present())
            offsets.monotonic = read_time_offset(m);
        if (!l.find_namespace(NamespaceType::Time))
            t.fail("requires a time namespace in linux.namespaces");
        l.timeOffsets = offsets;
    }
    l.devices = read_devices(n);
    l.netDevices = read_net_devices(n);
    l.cgroupsPath = n.opt_str("cgroupsPath");
    if (Node r = n.member("resources"); r.present())
        l.resources = read_resources(r);
    if (Node r = n.member("intelRdt"); r.present())
        l.intelRdt = read_intel_rdt(r);
    if (Node p = n.member("memoryPolicy"); p.present())
        l.memoryPolicy = read_memory_policy(p);
    l.sysctl = read_sysctl(n);
    if (Node s = n.member("seccomp"); s.present())
        l.seccomp = read_seccomp(s);
    if (Node p = n.member("rootfsPropagation"); p.present())
        l.rootfsPropagation = read_enum(p, kPropagations, "rootfsPropagation");
    l.maskedPaths = read_absolute_paths(n, "maskedPaths");
    l.readonlyPaths = read_absolute_paths(n, "readonlyPaths");
    l.mountLabel = n.opt_str("mountLabel");
    if (Node p = n.member("personality"); p.present())
        l.personality = read_personality(p);
    return l;
}

} // namespace crunpp::spec::detail
