// SPDX-License-Identifier: GPL-2.0-or-later
// The `process` object (config.json's, and the whole of `exec --process`).
#include <sys/capability.h>
#include <sys/resource.h>

#include "parse_internal.hpp"

namespace crunpp::spec::detail {
namespace {

constexpr const char *kSchedPolicies[] = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE",
};

constexpr const char *kSchedFlags[] = {
    "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
    "SCHED_FLAG_KEEP_PARAMS",   "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
};

constexpr const char *kIoPrioClasses[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};

// 4294967295 is (uid_t)-1, which setresuid/setgroups read as "leave this id
// unchanged": the process would keep running as root.
uint32_t read_id(const Node &n) {
    uint32_t id = n.integer<uint32_t>();
    if (id == UINT32_MAX)
        n.fail("4294967295 is not a valid id (the kernel reads it as \"unchanged\")");
    return id;
}

User read_user(const Node &n) {
    n.expect(json::Type::Object);
    User u;
    if (Node uid = n.member("uid"); uid.present())
        u.uid = read_id(uid);
    if (Node gid = n.member("gid"); gid.present())
        u.gid = read_id(gid);
    u.umask = n.opt_num<uint32_t>("umask");
    n.each("additionalGids", [&](const Node &item) { u.additionalGids.push_back(read_id(item)); });
    u.username = n.opt_str("username");
    return u;
}

// Capability names as capabilities(7) spells them: "CAP_" and a name libcap
// knows. The strings are kept; the capability code resolves them again.
std::optional<std::vector<std::string>> read_cap_set(const Node &caps, std::string_view key) {
    if (!caps.has(key))
        return std::nullopt;
    std::vector<std::string> set;
    caps.each(key, [&](const Node &item) {
        std::string name = item.take_string();
        cap_value_t value;
        if (name.compare(0, 4, "CAP_") != 0 || cap_from_name(name.c_str(), &value) != 0)
            item.fail("unknown capability " + quote(name));
        set.push_back(std::move(name));
    });
    return set;
}

Capabilities read_capabilities(const Node &n) {
    n.expect(json::Type::Object);
    Capabilities c;
    c.bounding = read_cap_set(n, "bounding");
    c.effective = read_cap_set(n, "effective");
    c.inheritable = read_cap_set(n, "inheritable");
    c.permitted = read_cap_set(n, "permitted");
    c.ambient = read_cap_set(n, "ambient");
    return c;
}

std::vector<Rlimit> read_rlimits(const Node &process) {
    std::vector<Rlimit> out;
    process.each("rlimits", [&](const Node &item) {
        item.expect(json::Type::Object);
        Rlimit r;
        Node type = item.required("type");
        std::string_view name = type.string_view();
        r.resource = rlimit_resource_from_name(name).value_or(-1);
        if (r.resource < 0)
            type.fail("unknown rlimit type " + quote(name));
        for (const auto &prev : out)
            if (prev.resource == r.resource)
                type.fail("duplicate rlimit type " + quote(name));
        r.type = std::string(name);
        r.soft = item.num<uint64_t>("soft");
        r.hard = item.num<uint64_t>("hard");
        if (r.soft > r.hard)
            item.fail("soft limit " + std::to_string(r.soft) + " is greater than hard limit " + std::to_string(r.hard));
        out.push_back(std::move(r));
    });
    return out;
}

Scheduler read_scheduler(const Node &n) {
    n.expect(json::Type::Object);
    Scheduler s;
    s.policy = read_enum(n.required("policy"), kSchedPolicies, "scheduler policy");
    s.nice = n.opt_num<int32_t>("nice");
    s.priority = n.opt_num<int32_t>("priority");
    n.each("flags", [&](const Node &item) { s.flags.push_back(read_enum(item, kSchedFlags, "scheduler flag")); });
    s.runtime = n.opt_num<uint64_t>("runtime");
    s.deadline = n.opt_num<uint64_t>("deadline");
    s.period = n.opt_num<uint64_t>("period");
    // The checks sched_setattr(2) would make, reported with their field.
    if (s.nice && (*s.nice < -20 || *s.nice > 19))
        n.member("nice").fail("must be between -20 and 19");
    bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
    if (s.priority && realtime && (*s.priority < 1 || *s.priority > 99))
        n.member("priority").fail("must be between 1 and 99 for " + s.policy);
    if (s.priority && !realtime && *s.priority != 0)
        n.member("priority").fail("can only be set for SCHED_FIFO and SCHED_RR");
    if (s.policy != "SCHED_DEADLINE")
        for (const char *k : {"runtime", "deadline", "period"})
            if (n.has(k))
                n.member(k).fail("can only be set for SCHED_DEADLINE");
    return s;
}

IoPriority read_io_priority(const Node &n) {
    n.expect(json::Type::Object);
    IoPriority p;
    p.ioClass = read_enum(n.required("class"), kIoPrioClasses, "I/O priority class");
    p.priority = n.opt_num<int32_t>("priority").value_or(0);
    if (p.priority < 0 || p.priority > 7)
        n.member("priority").fail("must be between 0 and 7");
    return p;
}

// A CPU list as taskset takes it: digits, ',', '-' and spaces.
std::optional<std::string> read_cpu_list(const Node &parent, std::string_view key) {
    Node m = parent.member(key);
    if (!m.present())
        return std::nullopt;
    std::string s = m.take_string();
    for (char c : s)
        if (!((c >= '0' && c <= '9') || c == ',' || c == '-' || c == ' '))
            m.fail("invalid CPU list " + quote(s));
    return s;
}

} // namespace

std::vector<std::string> read_env(const Node &parent, std::string_view key) {
    std::vector<std::string> env;
    Node m = parent.member(key);
    if (!m.present())
        return env;
    json::Value &arr = m.expect(json::Type::Array);
    env.reserve(arr.array.size());
    for (size_t i = 0; i < arr.array.size(); i++) {
        Node item = m.at(i);
        std::string s = item.take_string();
        size_t eq = s.find('=');
        if (eq == std::string::npos || eq == 0)
            item.fail("invalid environment entry " + quote(s) + " (want NAME=value)");
        env.push_back(std::move(s));
    }
    return env;
}

Process read_process(const Node &n) {
    n.expect(json::Type::Object);
    Process p;
    p.terminal = n.flag("terminal");
    if (Node cs = n.member("consoleSize"); cs.present()) {
        cs.expect(json::Type::Object);
        p.consoleSize = ConsoleSize{cs.num<uint64_t>("height"), cs.num<uint64_t>("width")};
    }
    if (Node user = n.member("user"); user.present())
        p.user = read_user(user);
    Node args = n.required("args");
    p.args = n.strings("args");
    if (p.args.empty())
        args.fail("must have at least one entry");
    p.commandLine = n.opt_str("commandLine");
    p.env = read_env(n, "env");
    p.cwd = n.required("cwd").take_absolute_path();
    if (Node caps = n.member("capabilities"); caps.present())
        p.capabilities = read_capabilities(caps);
    p.rlimits = read_rlimits(n);
    p.noNewPrivileges = n.flag("noNewPrivileges");
    p.apparmorProfile = n.opt_str("apparmorProfile");
    p.oomScoreAdj = n.opt_num<int32_t>("oomScoreAdj");
    if (p.oomScoreAdj && (*p.oomScoreAdj < -1000 || *p.oomScoreAdj > 1000))
        n.member("oomScoreAdj").fail("must be between -1000 and 1000");
    if (Node sched = n.member("scheduler"); sched.present())
        p.scheduler = read_scheduler(sched);
    p.selinuxLabel = n.opt_str("selinuxLabel");
    if (Node io = n.member("ioPriority"); io.present())
        p.ioPriority = read_io_priority(io);
    if (Node aff = n.member("execCPUAffinity"); aff.present()) {
        aff.expect(json::Type::Object);
        p.execCPUAffinity = ExecCpuAffinity{read_cpu_list(aff, "initial"), read_cpu_list(aff, "final")};
    }
    return p;
}

} // namespace crunpp::spec::detail
