// SPDX-License-Identifier: GPL-2.0-or-later
// spec::Config back to JSON. Keys come in the order runc (Go's specs-go
// structs) writes them, so that `crunpp spec` output diffs cleanly against
// runc's. Unset optionals and empty lists/maps are omitted, as Go's
// `omitempty` does; fields the spec requires are always written.
#include <string>

#include "crunpp/json.hpp"
#include "crunpp/spec.hpp"

namespace crunpp::spec {
namespace {

using json::Writer;

void strings(Writer &w, std::string_view key, const std::vector<std::string> &v) {
    if (v.empty())
        return;
    w.key(key).begin_array();
    for (const auto &s : v)
        w.string(s);
    w.end_array();
}

void string_map(Writer &w, std::string_view key, const std::map<std::string, std::string> &m) {
    if (m.empty())
        return;
    w.key(key).begin_object();
    for (const auto &[k, v] : m)
        w.key(k).string(v);
    w.end_object();
}

void opt_string(Writer &w, std::string_view key, const std::optional<std::string> &v) {
    if (v)
        w.key(key).string(*v);
}

template <typename T> void opt_int(Writer &w, std::string_view key, const std::optional<T> &v) {
    if (v)
        w.key(key).integer(*v);
}

template <typename T> void opt_uint(Writer &w, std::string_view key, const std::optional<T> &v) {
    if (v)
        w.key(key).uinteger(*v);
}

void opt_bool(Writer &w, std::string_view key, const std::optional<bool> &v) {
    if (v)
        w.key(key).boolean(*v);
}

void id_mappings(Writer &w, std::string_view key, const std::vector<IdMapping> &v) {
    if (v.empty())
        return;
    w.key(key).begin_array();
    for (const auto &m : v) {
        w.begin_object();
        w.key("containerID").uinteger(m.containerID);
        w.key("hostID").uinteger(m.hostID);
        w.key("size").uinteger(m.size);
        w.end_object();
    }
    w.end_array();
}

void write_user(Writer &w, const User &u) {
    w.key("user").begin_object();
    w.key("uid").uinteger(u.uid);
    w.key("gid").uinteger(u.gid);
    opt_uint(w, "umask", u.umask);
    if (!u.additionalGids.empty()) {
        w.key("additionalGids").begin_array();
        for (uint32_t g : u.additionalGids)
            w.uinteger(g);
        w.end_array();
    }
    opt_string(w, "username", u.username);
    w.end_object();
}

void write_capabilities(Writer &w, const Capabilities &c) {
    // A given but empty set is kept ("inheritable": []): it differs from an
    // absent one for readers that apply defaults.
    auto set = [&](std::string_view key, const std::optional<std::vector<std::string>> &v) {
        if (!v)
            return;
        w.key(key).begin_array();
        for (const auto &s : *v)
            w.string(s);
        w.end_array();
    };
    w.key("capabilities").begin_object();
    set("bounding", c.bounding);
    set("effective", c.effective);
    set("inheritable", c.inheritable);
    set("permitted", c.permitted);
    set("ambient", c.ambient);
    w.end_object();
}

void write_scheduler(Writer &w, const Scheduler &s) {
    w.key("scheduler").begin_object();
    w.key("policy").string(s.policy);
    opt_int(w, "nice", s.nice);
    opt_int(w, "priority", s.priority);
    strings(w, "flags", s.flags);
    opt_uint(w, "runtime", s.runtime);
    opt_uint(w, "deadline", s.deadline);
    opt_uint(w, "period", s.period);
    w.end_object();
}

void write_process(Writer &w, const Process &p) {
    w.begin_object();
    if (p.terminal)
        w.key("terminal").boolean(true);
    if (p.consoleSize) {
        w.key("consoleSize").begin_object();
        w.key("height").uinteger(p.consoleSize->height);
        w.key("width").uinteger(p.consoleSize->width);
        w.end_object();
    }
    write_user(w, p.user);
    strings(w, "args", p.args);
    opt_string(w, "commandLine", p.commandLine);
    strings(w, "env", p.env);
    w.key("cwd").string(p.cwd);
    if (p.capabilities)
        write_capabilities(w, *p.capabilities);
    if (!p.rlimits.empty()) {
        w.key("rlimits").begin_array();
        for (const auto &r : p.rlimits) {
            w.begin_object();
            w.key("type").string(r.type);
            w.key("hard").uinteger(r.hard);
            w.key("soft").uinteger(r.soft);
            w.end_object();
        }
        w.end_array();
    }
    if (p.noNewPrivileges)
        w.key("noNewPrivileges").boolean(true);
    opt_string(w, "apparmorProfile", p.apparmorProfile);
    opt_int(w, "oomScoreAdj", p.oomScoreAdj);
    if (p.scheduler)
        write_scheduler(w, *p.scheduler);
    opt_string(w, "selinuxLabel", p.selinuxLabel);
    if (p.ioPriority) {
        w.key("ioPriority").begin_object();
        w.key("class").string(p.ioPriority->ioClass);
        w.key("priority").integer(p.ioPriority->priority);
        w.end_object();
    }
    if (p.execCPUAffinity) {
        w.key("execCPUAffinity").begin_object();
        opt_string(w, "initial", p.execCPUAffinity->initial);
        opt_string(w, "final", p.execCPUAffinity->final);
        w.end_object();
    }
    w.end_object();
}

void write_mount(Writer &w, const Mount &m) {
    w.begin_object();
    w.key("destination").string(m.destination);
    opt_string(w, "type", m.type);
    opt_string(w, "source", m.source);
    strings(w, "options", m.options);
    id_mappings(w, "uidMappings", m.uidMappings);
    id_mappings(w, "gidMappings", m.gidMappings);
    w.end_object();
}

void write_hooks(Writer &w, const Hooks &h) {
    auto phase = [&](std::string_view key, const std::vector<Hook> &hooks) {
        if (hooks.empty())
            return;
        w.key(key).begin_array();
        for (const auto &hook : hooks) {
            w.begin_object();
            w.key("path").string(hook.path);
            strings(w, "args", hook.args);
            // An empty list stays: it differs from an absent one.
            if (hook.env) {
                w.key("env").begin_array();
                for (const auto &s : *hook.env)
                    w.string(s);
                w.end_array();
            }
            opt_int(w, "timeout", hook.timeout);
            w.end_object();
        }
        w.end_array();
    };
    w.key("hooks").begin_object();
    phase("prestart", h.prestart);
    phase("createRuntime", h.createRuntime);
    phase("createContainer", h.createContainer);
    phase("startContainer", h.startContainer);
    phase("poststart", h.poststart);
    phase("poststop", h.poststop);
    w.end_object();
}

void write_memory(Writer &w, const Memory &m) {
    w.key("memory").begin_object();
    opt_int(w, "limit", m.limit);
    opt_int(w, "reservation", m.reservation);
    opt_int(w, "swap", m.swap);
    opt_int(w, "kernel", m.kernel);
    opt_int(w, "kernelTCP", m.kernelTCP);
    opt_uint(w, "swappiness", m.swappiness);
    opt_bool(w, "disableOOMKiller", m.disableOOMKiller);
    opt_bool(w, "useHierarchy", m.useHierarchy);
    opt_bool(w, "checkBeforeUpdate", m.checkBeforeUpdate);
    w.end_object();
}

void write_cpu(Writer &w, const Cpu &c) {
    w.key("cpu").begin_object();
    opt_uint(w, "shares", c.shares);
    opt_int(w, "quota", c.quota);
    opt_uint(w, "burst", c.burst);
    opt_uint(w, "period", c.period);
    opt_int(w, "realtimeRuntime", c.realtimeRuntime);
    opt_uint(w, "realtimePeriod", c.realtimePeriod);
    opt_string(w, "cpus", c.cpus);
    opt_string(w, "mems", c.mems);
    opt_int(w, "idle", c.idle);
    w.end_object();
}

void throttle_devices(Writer &w, std::string_view key, const std::vector<ThrottleDevice> &v) {
    if (v.empty())
        return;
    w.key(key).begin_array();
    for (const auto &d : v) {
        w.begin_object();
        w.key("major").integer(d.major);
        w.key("minor").integer(d.minor);
        w.key("rate").uinteger(d.rate);
        w.end_object();
    }
    w.end_array();
}

void write_block_io(Writer &w, const BlockIO &b) {
    w.key("blockIO").begin_object();
    opt_uint(w, "weight", b.weight);
    opt_uint(w, "leafWeight", b.leafWeight);
    if (!b.weightDevice.empty()) {
        w.key("weightDevice").begin_array();
        for (const auto &d : b.weightDevice) {
            w.begin_object();
            w.key("major").integer(d.major);
            w.key("minor").integer(d.minor);
            opt_uint(w, "weight", d.weight);
            opt_uint(w, "leafWeight", d.leafWeight);
            w.end_object();
        }
        w.end_array();
    }
    throttle_devices(w, "throttleReadBpsDevice", b.throttleReadBpsDevice);
    throttle_devices(w, "throttleWriteBpsDevice", b.throttleWriteBpsDevice);
    throttle_devices(w, "throttleReadIOPSDevice", b.throttleReadIOPSDevice);
    throttle_devices(w, "throttleWriteIOPSDevice", b.throttleWriteIOPSDevice);
    w.end_object();
}

void write_resources(Writer &w, const Resources &r) {
    w.key("resources").begin_object();
    if (!r.devices.empty()) {
        w.key("devices").begin_array();
        for (const auto &d : r.devices) {
            w.begin_object();
            w.key("allow").boolean(d.allow);
            opt_string(w, "type", d.type);
            opt_int(w, "major", d.major);
            opt_int(w, "minor", d.minor);
            opt_string(w, "access", d.access);
            w.end_object();
        }
        w.end_array();
    }
    if (r.memory)
        write_memory(w, *r.memory);
    if (r.cpu)
        write_cpu(w, *r.cpu);
    if (r.pids) {
        w.key("pids").begin_object();
        w.key("limit").integer(r.pids->limit);
        w.end_object();
    }
    if (r.blockIO)
        write_block_io(w, *r.blockIO);
    if (!r.hugepageLimits.empty()) {
        w.key("hugepageLimits").begin_array();
        for (const auto &h : r.hugepageLimits) {
            w.begin_object();
            w.key("pageSize").string(h.pageSize);
            w.key("limit").uinteger(h.limit);
            w.end_object();
        }
        w.end_array();
    }
    if (r.network) {
        w.key("network").begin_object();
        opt_uint(w, "classID", r.network->classID);
        if (!r.network->priorities.empty()) {
            w.key("priorities").begin_array();
            for (const auto &p : r.network->priorities) {
                w.begin_object();
                w.key("name").string(p.name);
                w.key("priority").uinteger(p.priority);
                w.end_object();
            }
            w.end_array();
        }
        w.end_object();
    }
    if (!r.rdma.empty()) {
        w.key("rdma").begin_object();
        for (const auto &[device, limits] : r.rdma) {
            w.key(device).begin_object();
            opt_uint(w, "hcaHandles", limits.hcaHandles);
            opt_uint(w, "hcaObjects", limits.hcaObjects);
            w.end_object();
        }
        w.end_object();
    }
    string_map(w, "unified", r.unified);
    w.end_object();
}

void write_seccomp(Writer &w, const Seccomp &s) {
    w.key("seccomp").begin_object();
    w.key("defaultAction").string(seccomp_action_name(s.defaultAction));
    opt_uint(w, "defaultErrnoRet", s.defaultErrnoRet);
    strings(w, "architectures", s.architectures);
    strings(w, "flags", s.flags);
    opt_string(w, "listenerPath", s.listenerPath);
    opt_string(w, "listenerMetadata", s.listenerMetadata);
    if (!s.syscalls.empty()) {
        w.key("syscalls").begin_array();
        for (const auto &sc : s.syscalls) {
            w.begin_object();
            strings(w, "names", sc.names);
            w.key("action").string(seccomp_action_name(sc.action));
            opt_uint(w, "errnoRet", sc.errnoRet);
            if (!sc.args.empty()) {
                w.key("args").begin_array();
                for (const auto &a : sc.args) {
                    w.begin_object();
                    w.key("index").uinteger(a.index);
                    w.key("value").uinteger(a.value);
                    w.key("valueTwo").uinteger(a.valueTwo);
                    w.key("op").string(seccomp_op_name(a.op));
                    w.end_object();
                }
                w.end_array();
            }
            w.end_object();
        }
        w.end_array();
    }
    w.end_object();
}

void write_time_offsets(Writer &w, const TimeOffsets &t) {
    auto clock = [&](std::string_view key, const std::optional<TimeOffset> &o) {
        if (!o)
            return;
        w.key(key).begin_object();
        w.key("secs").integer(o->secs);
        w.key("nanosecs").uinteger(o->nanosecs);
        w.end_object();
    };
    w.key("timeOffsets").begin_object();
    clock("boottime", t.boottime);
    clock("monotonic", t.monotonic);
    w.end_object();
}

void write_linux(Writer &w, const Linux &l) {
    w.key("linux").begin_object();
    id_mappings(w, "uidMappings", l.uidMappings);
    id_mappings(w, "gidMappings", l.gidMappings);
    string_map(w, "sysctl", l.sysctl);
    if (l.resources)
        write_resources(w, *l.resources);
    opt_string(w, "cgroupsPath", l.cgroupsPath);
    if (!l.namespaces.empty()) {
        w.key("namespaces").begin_array();
        for (const auto &ns : l.namespaces) {
            w.begin_object();
            w.key("type").string(namespace_type_name(ns.type));
            opt_string(w, "path", ns.path);
            w.end_object();
        }
        w.end_array();
    }
    if (!l.devices.empty()) {
        w.key("devices").begin_array();
        for (const auto &d : l.devices) {
            w.begin_object();
            w.key("path").string(d.path);
            w.key("type").string(d.type);
            w.key("major").integer(d.major);
            w.key("minor").integer(d.minor);
            opt_uint(w, "fileMode", d.fileMode);
            opt_uint(w, "uid", d.uid);
            opt_uint(w, "gid", d.gid);
            w.end_object();
        }
        w.end_array();
    }
    if (!l.netDevices.empty()) {
        w.key("netDevices").begin_object();
        for (const auto &[host_name, dev] : l.netDevices) {
            w.key(host_name).begin_object();
            opt_string(w, "name", dev.name);
            w.end_object();
        }
        w.end_object();
    }
    if (l.seccomp)
        write_seccomp(w, *l.seccomp);
    opt_string(w, "rootfsPropagation", l.rootfsPropagation);
    strings(w, "maskedPaths", l.maskedPaths);
    strings(w, "readonlyPaths", l.readonlyPaths);
    opt_string(w, "mountLabel", l.mountLabel);
    if (l.intelRdt) {
        const IntelRdt &r = *l.intelRdt;
        w.key("intelRdt").begin_object();
        opt_string(w, "closID", r.closID);
        strings(w, "schemata", r.schemata);
        opt_string(w, "l3CacheSchema", r.l3CacheSchema);
        opt_string(w, "memBwSchema", r.memBwSchema);
        opt_bool(w, "enableMonitoring", r.enableMonitoring);
        w.end_object();
    }
    if (l.memoryPolicy) {
        w.key("memoryPolicy").begin_object();
        w.key("mode").string(l.memoryPolicy->mode);
        opt_string(w, "nodes", l.memoryPolicy->nodes);
        strings(w, "flags", l.memoryPolicy->flags);
        w.end_object();
    }
    if (l.personality) {
        w.key("personality").begin_object();
        w.key("domain").string(l.personality->domain);
        strings(w, "flags", l.personality->flags);
        w.end_object();
    }
    if (l.timeOffsets)
        write_time_offsets(w, *l.timeOffsets);
    w.end_object();
}

// yajl's beautifier ends the document without a newline; a file people cat
// should have one.
std::string finish(const Writer &w, bool pretty) {
    std::string s(w.str());
    if (pretty && (s.empty() || s.back() != '\n'))
        s += '\n';
    return s;
}

} // namespace

std::string to_json(const Config &c, bool pretty) {
    Writer w(pretty);
    w.begin_object();
    w.key("ociVersion").string(c.ociVersion);
    if (c.process) {
        w.key("process");
        write_process(w, *c.process);
    }
    if (c.root) {
        w.key("root").begin_object();
        w.key("path").string(c.root->path);
        if (c.root->readonly)
            w.key("readonly").boolean(true);
        w.end_object();
    }
    opt_string(w, "hostname", c.hostname);
    opt_string(w, "domainname", c.domainname);
    if (!c.mounts.empty()) {
        w.key("mounts").begin_array();
        for (const auto &m : c.mounts)
            write_mount(w, m);
        w.end_array();
    }
    if (c.hooks)
        write_hooks(w, *c.hooks);
    string_map(w, "annotations", c.annotations);
    if (c.linux)
        write_linux(w, *c.linux);
    w.end_object();
    return finish(w, pretty);
}

std::string to_json(const Process &p, bool pretty) {
    Writer w(pretty);
    write_process(w, p);
    return finish(w, pretty);
}

} // namespace crunpp::spec
