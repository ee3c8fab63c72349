// SPDX-License-Identifier: GPL-2.0-or-later
// Which cgroup hierarchies the host mounts, and where a controller lives.
#include <linux/magic.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "../linux/mount/mountinfo.hpp"
#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cgroup {

Mode detect_mode() {
    struct statfs sf {};
    if (statfs(detail::kCgroupRoot, &sf) < 0)
        throw_errno(std::string("cgroup: statfs ") + detail::kCgroupRoot);
    if (sf.f_type == CGROUP2_SUPER_MAGIC)
        return Mode::V2;
    std::string unified = std::string(detail::kCgroupRoot) + "/" + detail::kUnified;
    if (statfs(unified.c_str(), &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
        return Mode::Hybrid;
    return Mode::V1;
}

const char *mode_name(Mode m) {
    switch (m) {
    case Mode::V1: return "v1";
    case Mode::V2: return "v2";
    case Mode::Hybrid: return "hybrid";
    }
    return "?";
}

SystemdPath parse_systemd_path(const std::string &path) {
    std::vector<std::string> parts;
    size_t pos = 0;
    for (int i = 0; i < 2; i++) {
        size_t c = path.find(':', pos);
        if (c == std::string::npos)
            break;
        parts.push_back(path.substr(pos, c - pos));
        pos = c + 1;
    }
    parts.push_back(path.substr(pos));
    if (parts.size() != 3)
        throw Error("cgroupsPath \"" + path + "\": the systemd driver expects \"slice:prefix:name\"");
    SystemdPath sp{parts[0], parts[1], parts[2]};
    if (!sp.slice.empty() && (sp.slice.size() < 7 || sp.slice.compare(sp.slice.size() - 6, 6, ".slice") != 0))
        throw Error("cgroupsPath \"" + path + "\": slice \"" + sp.slice + "\" must end in .slice");
    if (sp.name.empty())
        throw Error("cgroupsPath \"" + path + "\": the name part is empty");
    for (const std::string *s : {&sp.slice, &sp.prefix, &sp.name})
        if (s->find('/') != std::string::npos)
            throw Error("cgroupsPath \"" + path + "\": systemd unit names contain no '/'");
    return sp;
}

namespace detail {

std::vector<std::string> mount_controllers(const std::string &super_options) {
    // Split at the commas outside quotes: an SELinux label's categories
    // ("context=\"...:s0:c1,c2\"") hold commas of their own.
    std::vector<std::string> options(1);
    bool quoted = false;
    for (char c : super_options) {
        if (c == '"')
            quoted = !quoted;
        if (c == ',' && !quoted)
            options.emplace_back();
        else
            options.back() += c;
    }
    std::vector<std::string> out;
    for (const std::string &o : options) {
        // A named hierarchy is known by its name; any other option with a
        // value is a setting (release_agent=) or a security label
        // (context=, on SELinux hosts, beside "seclabel").
        if (o.rfind("name=", 0) == 0) {
            out.push_back(o);
            continue;
        }
        if (o.empty() || o.find('=') != std::string::npos)
            continue;
        static constexpr std::string_view kFlags[] = {"rw", "ro", "noprefix", "clone_children", "xattr",
                                                      "cpuset_v2_mode", "favordynmods", "none", "seclabel"};
        if (std::find(std::begin(kFlags), std::end(kFlags), o) == std::end(kFlags))
            out.push_back(o);
    }
    return out;
}

std::vector<Hierarchy> hierarchies() { return hierarchies(detect_mode()); }

std::vector<Hierarchy> hierarchies(Mode mode) {
    // Pure v2: only the tree at /sys/fs/cgroup (mounts below it would be
    // hidden ones); v1/hybrid: the hierarchies directly below it.
    std::string unified = std::string(kCgroupRoot) + "/" + kUnified;
    std::vector<Hierarchy> out;
    for (const linux::MountInfo &mi : linux::cgroup_mounts()) {
        if (mode == Mode::V2 ? mi.mountpoint != kCgroupRoot
                             : (!linux::path_is_under(mi.mountpoint, kCgroupRoot) || mi.mountpoint == kCgroupRoot ||
                                mi.mountpoint.find('/', std::string_view(kCgroupRoot).size() + 1) != std::string::npos))
            continue;
        if (mi.fstype == "cgroup2" && mode != Mode::V2 && (mode == Mode::V1 || mi.mountpoint != unified))
            continue;
        Hierarchy h;
        h.mountpoint = mi.mountpoint;
        h.root = mi.root;
        if (mi.fstype == "cgroup2") {
            h.v2 = true;
        } else if (mi.fstype == "cgroup") {
            h.controllers = mount_controllers(mi.super_options);
        } else {
            continue;
        }
        // A later mount on the same point hides an earlier one.
        for (auto it = out.begin(); it != out.end(); ++it)
            if (it->mountpoint == h.mountpoint) {
                out.erase(it);
                break;
            }
        out.push_back(std::move(h));
    }
    return out;
}

std::string own_path(const Hierarchy &h) { return process_path(h, "self"); }

std::string process_path(const Hierarchy &h, const std::string &pid) {
    std::optional<std::string> text = read_file("/proc/" + pid, "cgroup");
    if (!text)
        throw_errno("cgroup: read /proc/" + pid + "/cgroup");
    return path_in_proc_cgroup(h, *text);
}

std::string path_in_proc_cgroup(const Hierarchy &h, const std::string &text) {
    for (const std::string &line : split(text, '\n')) {
        size_t c1 = line.find(':');
        size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string::npos)
            continue;
        std::vector<std::string> ctrls = split(line.substr(c1 + 1, c2 - c1 - 1), ',');
        bool match = h.v2 ? ctrls.empty() : (!ctrls.empty() && ctrls == h.controllers);
        if (!match && !h.v2 && !ctrls.empty()) {
            match = true;
            for (const std::string &c : h.controllers) {
                bool found = false;
                for (const std::string &o : ctrls)
                    found = found || o == c;
                match = match && found;
            }
        }
        if (match) {
            std::string path = line.substr(c2 + 1);
            // Relative to the mount's root when the mount is a subtree.
            if (h.root != "/" && linux::path_is_under(path, h.root))
                path = path.substr(h.root.size());
            return path.empty() ? "/" : path;
        }
    }
    return "/";
}

std::optional<Target> find_controller(const Paths &p, const std::string &v1_name, const std::string &v2_name) {
    if (auto it = p.find(v1_name); it != p.end() && v1_name != kUnified)
        return Target{it->second, false};
    auto u = p.find(kUnified);
    if (u == p.end())
        return std::nullopt;
    if (v2_name.empty())
        return Target{u->second, true};
    std::optional<std::string> enabled = read_file(u->second, "cgroup.controllers");
    if (enabled)
        for (const std::string &c : split(trim(*enabled), ' '))
            if (c == v2_name)
                return Target{u->second, true};
    return std::nullopt;
}

} // namespace detail

std::string unified_dir_of(pid_t pid) {
    for (const detail::Hierarchy &h : detail::hierarchies())
        if (h.v2) {
            std::string path = detail::process_path(h, std::to_string(pid));
            // Outside the mount's subtree (another cgroup namespace): no
            // directory here shows it.
            if (path.rfind("/..", 0) == 0)
                return "";
            return path == "/" ? h.mountpoint : h.mountpoint + path;
        }
    return "";
}

} // namespace crunpp::cgroup
