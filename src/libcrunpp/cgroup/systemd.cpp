// SPDX-License-Identifier: GPL-2.0-or-later
// The systemd cgroup driver: the container's cgroup is a transient scope of
// systemd, started with the init's pid (runc's and crun's way). Its
// directories then work as the cgroupfs driver's do.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "systemd_bus.hpp"
#include "systemd_unit.hpp"

namespace crunpp::cgroup {
namespace {

using systemd::Properties;
using systemd::Property;

bool v2_names() { return detect_mode() == Mode::V2; }

std::string proc_devices() { return detail::read_file("/proc", "devices").value_or(""); }

bool device_present(char type, int64_t major, int64_t minor) {
    std::string path = std::string(type == 'c' ? "/sys/dev/char/" : "/sys/dev/block/") + std::to_string(major) + ":" +
                       std::to_string(minor);
    return access(path.c_str(), F_OK) == 0;
}

Properties unit_properties(const std::string &id, bool is_slice, const std::string &slice,
                           const std::optional<spec::Resources> &res, const std::vector<spec::Device> &devices,
                           bool rootless, const std::map<std::string, std::string> &annotations, pid_t pid) {
    const bool v2 = v2_names();
    Properties p;
    p.push_back({"Description", std::string("crunpp container ") + id});
    if (is_slice) {
        // A slice holds no processes: its parent is wanted, the init joins
        // its directories afterwards (runc does the same).
        p.push_back({"Wants", std::vector<std::string>{slice}});
    } else {
        p.push_back({"Slice", slice});
        p.push_back({"Delegate", true});
        if (pid > 0)
            p.push_back({"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}});
    }
    p.push_back({"DefaultDependencies", false});
    p.push_back({"MemoryAccounting", true});
    p.push_back({"CPUAccounting", true});
    p.push_back({v2 ? "IOAccounting" : "BlockIOAccounting", true});
    p.push_back({"TasksAccounting", true});
    if (res) {
        spec::Resources r = without_unset(*res);
        for (Property &x : systemd::resource_properties(r, v2))
            p.push_back(std::move(x));
    }
    // runc's rule: a rootful scope always gets the device policy (the
    // config's rules, then the default devices), the default policy being
    // to deny.
    if (!rootless) {
        std::vector<spec::DeviceCgroup> none;
        const std::vector<spec::DeviceCgroup> &rules = res ? res->devices : none;
        for (Property &x : systemd::device_properties(detail::device_rules(rules, devices), proc_devices(), device_present))
            p.push_back(std::move(x));
    }
    for (Property &x : systemd::annotation_properties(annotations))
        p.push_back(std::move(x));
    return p;
}

// mkdir -p of `dir` below `mountpoint`, recording what was made.
void make_below(const std::string &mountpoint, const std::string &path, std::vector<std::string> &created,
                bool cpuset) {
    std::string dir = mountpoint;
    for (const std::string &part : detail::split(path, '/')) {
        std::string parent = dir;
        dir += "/" + part;
        if (mkdir(dir.c_str(), 0755) == 0)
            created.push_back(dir);
        else if (errno != EEXIST)
            throw_errno("cgroup: mkdir " + dir);
        // v1 cpuset: a new cgroup takes no task until it has cpus and mems.
        if (cpuset)
            for (const char *f : {"cpuset.cpus", "cpuset.mems"}) {
                std::optional<std::string> v = detail::read_file(dir, f);
                if (v && !detail::trim(*v).empty())
                    continue;
                if (std::optional<std::string> pv = detail::read_file(parent, f))
                    detail::write_file(dir, f, detail::trim(*pv));
            }
    }
}

} // namespace

Setup create_systemd(const Request &r) {
    Setup s;
    s.scope_.user = r.rootless;
    systemd::Unit u = systemd::unit_for(r.cgroups_path, r.id, r.rootless);
    s.scope_.unit = u.name;
    s.scope_is_slice_ = u.is_slice;
    s.slice_ = u.slice;
    if (r.resources)
        s.resources_ = *r.resources;
    s.devices_ = r.devices;
    if (r.annotations)
        s.annotations_ = *r.annotations;
    s.rootless_ = r.rootless;
    s.id_ = r.id;
    // The config's values checked now, before any process exists.
    unit_properties(r.id, u.is_slice, u.slice, s.resources_, s.devices_, s.rootless_, s.annotations_, 0);
    // And the bus: without one, the error comes before anything is made.
    s.bus_ = std::make_shared<systemd::Bus>(systemd::Bus::open(r.rootless));
    return s;
}

void Setup::place(pid_t pid) {
    Properties props =
        unit_properties(id_, scope_is_slice_, slice_, resources_, devices_, rootless_, annotations_, pid);
    // A start whose job fails leaves a unit to stop; a call refused made
    // none (nothing to stop, no warning that stopping failed). One that
    // exists already is another container's, never stopped here.
    bool unit_made = false;
    bool in_use = false;
    try {
        in_use = !bus_->start_unit(scope_.unit, props, unit_made);
    } catch (...) {
        started_ = unit_made;
        throw;
    }
    if (in_use)
        throw Error("systemd cgroup driver: unit " + scope_.unit + " is in use (another container with this id or " +
                    "cgroupsPath?)");
    started_ = true;
    const std::string cg = bus_->control_group(scope_.unit);
    // Every hierarchy: the unit's directory, joined here where systemd did
    // not put the process (v1 controllers systemd does not manage, or a
    // slice unit).
    const std::string self = std::to_string(pid);
    for (const detail::Hierarchy &h : detail::hierarchies()) {
        if (rootless_ && !h.v2)
            continue;
        std::string path = cg;
        if (h.root != "/") {
            if (path.compare(0, h.root.size(), h.root) != 0 || (path.size() > h.root.size() && path[h.root.size()] != '/'))
                continue; // not visible from this mount
            path = path.substr(h.root.size());
        }
        std::string dir = h.mountpoint + (path == "/" ? "" : path);
        if (detail::process_path(h, self) != (path.empty() ? "/" : path)) {
            bool cpuset = false;
            for (const std::string &c : h.controllers)
                cpuset = cpuset || c == "cpuset";
            make_below(h.mountpoint, path, created_, cpuset);
            detail::write_file(dir, "cgroup.procs", self);
        }
        if (h.v2)
            paths_[detail::kUnified] = dir;
        for (const std::string &c : h.controllers)
            paths_[c] = dir;
    }
    if (paths_.empty())
        throw Error("systemd cgroup driver: unit " + scope_.unit + ": its cgroup " + cg + " is on no hierarchy mounted here");
    placed_ = true;
    // Everything, including what systemd cannot express (the files are the
    // same values for what it can).
    static const spec::Resources kNone;
    apply(paths_, resources_ ? *resources_ : kNone, devices_, rootless_, false);
}

void Setup::stop_unit() noexcept {
    if (!started_ || !bus_)
        return;
    try {
        bus_->stop_unit(scope_.unit);
    } catch (const Error &e) {
        log::warn(e.what());
    }
    bus_->reset_failed(scope_.unit);
}

namespace detail {

void systemd_stop(const SystemdScope &scope) noexcept {
    try {
        systemd::Bus bus = systemd::Bus::open(scope.user);
        bus.stop_unit(scope.unit);
        bus.reset_failed(scope.unit);
    } catch (const Error &e) {
        log::warn(e.what());
    }
}

void systemd_update(const SystemdScope &scope, const spec::Resources &res, const std::vector<spec::Device> &devices,
                    bool rootless) {
    Properties p = systemd::resource_properties(res, v2_names());
    if (!rootless && !res.devices.empty())
        for (Property &x : systemd::device_properties(device_rules(res.devices, devices), proc_devices(), device_present))
            p.push_back(std::move(x));
    if (p.empty())
        return;
    systemd::Bus::open(scope.user).set_properties(scope.unit, p);
}

} // namespace detail

void systemd_attach(const SystemdScope &scope, pid_t pid, const std::string &sub) {
    systemd::Bus::open(scope.user).attach(scope.unit, pid, sub);
}

} // namespace crunpp::cgroup
