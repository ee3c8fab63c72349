// SPDX-License-Identifier: GPL-2.0-or-later
// The container's cgroup on a v1, v2 (unified) or hybrid host.
//
// A container's cgroup is a map, as recorded in the state
// (ContainerState::cgroup_paths): controller name -> absolute directory for
// every v1 hierarchy ("cpu", "cpuacct", "memory", ..., "name=systemd";
// co-mounted controllers share one directory), and "unified" -> the cgroup2
// directory (pure v2, or the unified tree of a hybrid host). An empty map: the
// container runs without a cgroup (rootless without delegation, or
// --cgroup-manager disabled).
//
// Where a resource goes: to the v1 hierarchy of its controller when one is
// mounted, else to the unified directory when the controller is enabled
// there (a hybrid host may have e.g. hugetlb only on v2), else it is an error
// naming the resource.
//
// cgroupsPath: absolute -> as given (below each hierarchy's mount); relative
// -> below the runtime's own cgroup (rootless: below the delegated subtree);
// empty -> "/crunpp/<id>" for root, "crunpp/<id>" below the delegated
// subtree for rootless.
//
// The systemd driver (--systemd-cgroup, --cgroup-manager=systemd): cgroupsPath
// is "slice:prefix:name" and the container's cgroup a transient unit
// "<prefix>-<name>.scope" of systemd (the system manager for root, the
// user's manager rootless), started with the init's pid; the paths map then
// holds the unit's directories, so that every operation on files (ps,
// pause, kill --all, stats, exec) is the same for both drivers. Only
// create, update and delete talk to systemd, over crunpp's own D-Bus
// client (no libsystemd: cgroup/dbus_connection.hpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::cgroup {

namespace systemd {
class Bus;
}

using Paths = std::map<std::string, std::string>;

enum class Mode { V1, V2, Hybrid };
// statfs of /sys/fs/cgroup: cgroup2 -> V2; tmpfs with a cgroup2 "unified"
// below -> Hybrid; else V1.
Mode detect_mode();
const char *mode_name(Mode m);

// Annotations under this prefix set properties of the systemd unit (runc's
// "org.systemd.property.NAME": "GVariant text").
inline constexpr const char *kSystemdPropertyAnnotationPrefix = "org.systemd.property.";

// A systemd cgroupsPath "slice:prefix:name", checked for its form.
struct SystemdPath {
    std::string slice, prefix, name;
};
SystemdPath parse_systemd_path(const std::string &path);

// Where a relative cgroupsPath goes, given crunpp's own cgroup `own`: below
// it, except that on v2 a systemd scope (".scope", e.g. a login session)
// holds processes and so can have no child with controllers; its parent is
// used instead (runc does the same).
std::string relative_cgroup_parent(const std::string &own, bool v2);

// A container's systemd unit, as recorded in its state; empty unit: the
// cgroupfs driver.
struct SystemdScope {
    std::string unit;  // "crunpp-abc.scope"
    bool user = false; // the user's manager, else the system's
};
// Its keys in the state's "extra" map, and the scope read back from it.
inline constexpr const char *kStateSystemdUnit = "systemdUnit";
inline constexpr const char *kStateSystemdUser = "systemdUser";
inline SystemdScope systemd_scope(const std::map<std::string, std::string> &extra) {
    SystemdScope s;
    if (auto it = extra.find(kStateSystemdUnit); it != extra.end())
        s.unit = it->second;
    if (auto it = extra.find(kStateSystemdUser); it != extra.end())
        s.user = it->second == "true";
    return s;
}

struct Request {
    std::string id;
    std::string cgroups_path;      // from the config, may be empty
    std::string manager;           // "", "cgroupfs", "systemd", "disabled"
    bool systemd = false;          // --systemd-cgroup
    bool rootless = false;
    const spec::Resources *resources = nullptr; // may be null
    std::vector<spec::Device> devices;          // linux.devices: allowed in the device rules
    // process.scheduler asks for SCHED_FIFO or SCHED_RR: on v1 each level
    // without a real-time budget gets its parent's, where the host allows.
    bool realtime_scheduler = false;
    // Called with the directories (one per hierarchy) before any is made.
    std::function<void(const Paths &)> planned;
    // systemd driver: the config's annotations (org.systemd.property.*).
    const std::map<std::string, std::string> *annotations = nullptr;
};

// Removes the empty directories of `p` that exist (never kills: for a
// create that was killed before its cgroup held any process).
void remove_empty(const Paths &p);

// The container's cgroup while it is being created: its directories exist
// and hold the limits; place() puts the init in it. Destroyed without
// commit(), everything created is removed again.
class Setup {
public:
    Setup() = default;
    Setup(Setup &&) noexcept = default;
    Setup &operator=(Setup &&) noexcept;
    ~Setup();

    const Paths &paths() const { return paths_; }
    // The unified directory for clone3's CLONE_INTO_CGROUP, -1 when none.
    int unified_fd() const { return unified_fd_.get(); }
    // The container owns its cgroup now: no removal on destruction.
    void commit() { committed_ = true; }

    // systemd driver: the unit is started with the pid of the new process,
    // which waits for it (the clone cannot go into a cgroup that does not
    // exist yet); place() starts it, learns its directories and writes what
    // systemd cannot express to the files.
    const SystemdScope &systemd() const { return scope_; }
    bool awaits_placement() const { return !scope_.unit.empty() && !placed_; }
    void place(pid_t pid);

private:
    friend Setup create(const Request &r);
    friend Setup create_systemd(const Request &r);
    Paths paths_;
    SystemdScope scope_;
    bool placed_ = false;
    bool scope_is_slice_ = false;
    std::string slice_; // the scope's slice
    std::optional<spec::Resources> resources_;
    std::vector<spec::Device> devices_;
    std::map<std::string, std::string> annotations_;
    bool rootless_ = false;
    std::string id_;
    std::shared_ptr<systemd::Bus> bus_; // open from create on
    bool started_ = false;
    void stop_unit() noexcept;
    std::vector<std::string> created_; // directories made, deepest last
    UniqueFd unified_fd_;
    bool committed_ = false;
};

// v1 placement, in two halves. The runtime opens the "tasks" file of each v1
// directory of `p` (co-mounted controllers counted once; none on pure v2);
// the new process, still single-threaded, writes "0" to each (enter_v1) and
// so moves itself. A thread moving itself skips the kernel's global
// threadgroup lock, whose first writer waits for an RCU grace period (about
// 1 ms per cgroup.procs write of a pid, more on a busy host). The files are
// opened by the runtime so that its credentials are the ones checked: the
// process may be in a new user namespace already.
std::vector<UniqueFd> open_v1_tasks(const Paths &p);
// Moves the calling thread (a single-threaded process: the process) into the
// cgroup of each fd and closes them.
void enter_v1(std::vector<int> &tasks_fds);

// Creates the cgroup and writes every resource (device rules included).
// Rootless without a delegated subtree: empty paths (a warning is logged),
// or an error naming a requested resource.
Setup create(const Request &r);

// Writes resources to an existing cgroup (update); rootless may be true for
// the device rules being skipped. With a systemd unit, an update also sets
// the unit's properties (runtime), after the files: when systemd refuses,
// the files are put back.
void apply(const Paths &p, const spec::Resources &res, const std::vector<spec::Device> &devices, bool rootless,
           bool update, const SystemdScope &scope = {});

// Kills what is left in the cgroup (SIGKILL, bounded wait) and removes its
// directories, retrying EBUSY with a bounded backoff. Missing ones are fine.
// With a systemd unit: the unit is stopped and its failed state reset
// first, so that nothing of it is left.
void destroy(const Paths &p, const SystemdScope &scope = {});

// Has the container's manager move `pid` into its unit (exec, when cgroup
// v2 does not let the caller move it: a rootless user outside its manager's
// subtree). `sub` is a cgroup below the unit's ("" or "/" for its own: exec
// --cgroup); systemd needs the unit delegated for one.
void systemd_attach(const SystemdScope &scope, pid_t pid, const std::string &sub = "");

// The cgroup2 directory process `pid` is in (its "0::" line of
// /proc/PID/cgroup below the unified mount); empty without a cgroup2 mount
// or when the process is outside this cgroup namespace's view.
std::string unified_dir_of(pid_t pid);

// Every pid in the cgroup (the unified dir, else the first v1 dir), sorted.
std::vector<pid_t> pids(const Paths &p);

// Freezes / thaws and waits (bounded) until the kernel reports it done.
void freeze(const Paths &p, bool frozen);
bool is_frozen(const Paths &p);

// runc's `events --stats` "data" object as JSON.
std::string stats_json(const Paths &p);

// An OOM event source: a readable fd that becomes readable on an OOM kill
// (v1: memory.oom_control eventfd; v2: inotify on memory.events); an empty
// fd when the container has no memory controller;
// oom_kills() reads the counter (v2 oom_kill, v1 under_oom/oom_kill).
UniqueFd oom_event_fd(const Paths &p);
uint64_t oom_kills(const Paths &p);

// The resources without the zero values runc treats as "not set" (memory
// limit/reservation/swap, cpu shares/quota/period/realtime, cpuset "",
// pids limit, blockIO weights, classID; disableOOMKiller false): create and
// update leave those files as they are.
spec::Resources without_unset(spec::Resources r);

// `update --resources FILE`: a linux.resources object.
spec::Resources parse_resources(const std::string &text, const std::string &origin);

} // namespace crunpp::cgroup
