// SPDX-License-Identifier: GPL-2.0-or-later
#include "exec_process.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "../linux/process/process.hpp"
#include "crunpp/error.hpp"
#include "../util/env.hpp"

namespace crunpp::container {
namespace {

bool parse_u32(std::string_view s, uint32_t &out) {
    if (s.empty())
        return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

void add_unique(std::optional<std::vector<std::string>> &set, const std::string &cap) {
    if (!set)
        set.emplace();
    if (std::find(set->begin(), set->end(), cap) == set->end())
        set->push_back(cap);
}

bool contains(const std::optional<std::vector<std::string>> &set, const std::string &cap) {
    return set && std::find(set->begin(), set->end(), cap) != set->end();
}

// KEY=VALUE replaces an entry for KEY: the process sees the value given last.
void set_env(std::vector<std::string> &env, const std::string &entry) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0)
        throw Error("exec: --env \"" + entry + "\": expected KEY=VALUE");
    util::set_env(env, std::string_view(entry).substr(0, eq), std::string_view(entry).substr(eq + 1));
}

void check_sub_path(const std::string &value, std::string_view path) {
    auto bad = [&](const char *why) { return Error("exec: --cgroup \"" + value + "\": " + why); };
    // "/" alone is the container's own cgroup (runc: no fallback to the
    // init's cgroup then).
    if (path.empty())
        throw bad("empty sub-cgroup path (\"/\" is the container's own cgroup)");
    while (path.starts_with('/'))
        path.remove_prefix(1);
    for (size_t pos = 0; pos <= path.size();) {
        size_t slash = path.find('/', pos);
        if (slash == std::string_view::npos)
            slash = path.size();
        if (path.substr(pos, slash - pos) == "..")
            throw bad("\"..\" is not allowed in a sub-cgroup path");
        pos = slash + 1;
    }
}

std::string strip_slashes(const std::string &p) {
    size_t b = p.find_first_not_of('/');
    size_t e = p.find_last_not_of('/');
    return b == std::string::npos ? std::string() : p.substr(b, e - b + 1);
}

} // namespace

UserSpec parse_user_spec(std::string_view text) {
    UserSpec u;
    size_t colon = text.find(':');
    std::string_view uid = text.substr(0, colon);
    bool ok = parse_u32(uid, u.uid);
    if (ok && colon != std::string_view::npos)
        ok = parse_u32(text.substr(colon + 1), u.gid);
    if (!ok)
        throw Error("exec: --user \"" + std::string(text) + "\": expected UID or UID:GID (numbers)");
    // (uid_t)-1 tells setresuid to leave the id unchanged: root would stay.
    if (u.uid == UINT32_MAX || u.gid == UINT32_MAX)
        throw Error("exec: --user \"" + std::string(text) + "\": 4294967295 is not a valid id");
    return u;
}

spec::Process build_exec_process(const spec::Process &base, bool from_process_file, const ProcessOverrides &o) {
    spec::Process p = base;
    if (!from_process_file)
        p.terminal = o.tty;
    else if (o.tty)
        p.terminal = true;
    if (!o.args.empty()) {
        p.args = o.args;
        p.commandLine.reset();
    } else if (!from_process_file) {
        // The config's own args are the init's, not a command to exec.
        throw Error("exec: no command given (COMMAND [ARG...] or --process FILE)");
    }
    for (const std::string &e : o.env)
        set_env(p.env, e);
    if (!o.cwd.empty()) {
        if (o.cwd[0] != '/')
            throw Error("exec: --cwd \"" + o.cwd + "\": must be an absolute path");
        p.cwd = o.cwd;
    }
    if (!o.user.empty()) {
        UserSpec u = parse_user_spec(o.user);
        p.user.uid = u.uid;
        p.user.gid = u.gid;
    }
    for (const std::string &g : o.additional_gids) {
        uint32_t gid = 0;
        if (!parse_u32(g, gid))
            throw Error("exec: --additional-gids \"" + g + "\": not a group id");
        p.user.additionalGids.push_back(gid);
    }
    if (!o.caps.empty()) {
        if (!p.capabilities)
            p.capabilities.emplace();
        spec::Capabilities &c = *p.capabilities;
        for (const std::string &cap : o.caps) {
            if (!linux::capability_from_name(cap))
                throw Error("exec: --cap \"" + cap + "\": unknown capability");
            add_unique(c.bounding, cap);
            add_unique(c.effective, cap);
            add_unique(c.permitted, cap);
            if (contains(c.inheritable, cap))
                add_unique(c.ambient, cap);
        }
    }
    if (o.no_new_privs)
        p.noNewPrivileges = true;
    if (!o.apparmor.empty())
        p.apparmorProfile = o.apparmor;
    if (!o.process_label.empty())
        p.selinuxLabel = o.process_label;

    if (p.args.empty())
        throw Error("exec: process.json: .args: must not be empty");
    if (p.cwd.empty() || p.cwd[0] != '/')
        throw Error("exec: process cwd \"" + p.cwd + "\": must be an absolute path");
    return p;
}

SubCgroups parse_sub_cgroups(const std::vector<std::string> &values) {
    SubCgroups sub;
    for (const std::string &v : values) {
        size_t colon = v.find(':');
        if (colon == std::string::npos) {
            if (values.size() != 1)
                throw Error("exec: --cgroup \"" + v + "\": missing CONTROLLER: prefix (needed with several --cgroup)");
            check_sub_path(v, v);
            sub[""] = strip_slashes(v);
            continue;
        }
        std::string path = v.substr(colon + 1);
        check_sub_path(v, path);
        std::string_view controllers(v.data(), colon);
        for (size_t pos = 0; pos <= controllers.size();) {
            size_t comma = controllers.find(',', pos);
            if (comma == std::string_view::npos)
                comma = controllers.size();
            std::string name(controllers.substr(pos, comma - pos));
            if (name.empty())
                throw Error("exec: --cgroup \"" + v + "\": empty controller name");
            if (!sub.emplace(name, strip_slashes(path)).second)
                throw Error("exec: --cgroup: controller \"" + name + "\" given more than once");
            pos = comma + 1;
        }
    }
    return sub;
}

cgroup::Paths exec_cgroup_paths(const cgroup::Paths &container, const SubCgroups &sub) {
    // Pure v2: one directory for every controller, so no per-controller
    // sub-cgroup (runc refuses a controller there too).
    const bool v2_only = container.size() == 1 && container.count("unified");
    for (const auto &[controller, path] : sub) {
        if (controller.empty())
            continue;
        if (v2_only)
            throw Error("exec: --cgroup \"" + controller + ":" + path +
                        "\": the container's cgroup is a cgroup v2 one, whose controllers share one directory: give "
                        "the sub-cgroup without a CONTROLLER: prefix");
        if (!container.count(controller))
            throw Error("exec: --cgroup: the container has no \"" + controller + "\" cgroup");
    }
    auto all = sub.find("");
    // One sub-path per directory: co-mounted controllers share it.
    std::map<std::string, std::string> per_dir;
    std::set<std::string> explicit_dir;
    for (const auto &[controller, dir] : container) {
        auto s = sub.find(controller);
        if (s == sub.end())
            continue;
        auto [it, inserted] = per_dir.emplace(dir, s->second);
        if (!inserted && it->second != s->second)
            throw Error("exec: --cgroup: co-mounted controllers of " + dir + " given different sub-cgroups");
        explicit_dir.insert(dir);
    }
    cgroup::Paths out;
    for (const auto &[controller, dir] : container) {
        std::string target = dir;
        const std::string *rel = nullptr;
        if (explicit_dir.count(dir))
            rel = &per_dir[dir];
        else if (all != sub.end())
            rel = &all->second;
        if (rel && !rel->empty())
            target += "/" + *rel;
        out[controller] = target;
    }
    return out;
}

std::string sub_cgroup(const cgroup::Paths &container, const std::string &dir) {
    auto c = container.find("unified");
    if (c == container.end() || dir.size() <= c->second.size() || dir.compare(0, c->second.size(), c->second) != 0 ||
        dir[c->second.size()] != '/')
        return "";
    return dir.substr(c->second.size() + 1);
}

} // namespace crunpp::container
