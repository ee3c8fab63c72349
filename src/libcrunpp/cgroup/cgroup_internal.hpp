// SPDX-License-Identifier: GPL-2.0-or-later
// Shared pieces of the cgroup code: file access, the host's hierarchies and
// which directory a controller's files are in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crunpp/cgroup.hpp"
#include "../util/strings.hpp"

namespace crunpp::cgroup {
// The systemd driver's create (systemd.cpp).
Setup create_systemd(const Request &r);
} // namespace crunpp::cgroup

namespace crunpp::cgroup::detail {

// The systemd driver's parts of destroy and update (systemd.cpp): stop the
// unit and reset its failed state (best effort, logged); set the resources
// systemd can express as runtime properties.
void systemd_stop(const SystemdScope &scope) noexcept;
void systemd_update(const SystemdScope &scope, const spec::Resources &res, const std::vector<spec::Device> &devices,
                    bool rootless);
// Kills every process in `dir` and below (cgroup.kill, else SIGKILL each).
void kill_all_in(const std::string &dir);

inline constexpr const char *kCgroupRoot = "/sys/fs/cgroup";
inline constexpr const char *kUnified = "unified";

// A file of a cgroup directory. write_file reports a rejected value with the
// file and the value: `cgroup: write "5" to /sys/fs/cgroup/x/pids.max: ...`.
void write_file(const std::string &dir, const std::string &file, const std::string &value);
// Errno of the write, 0 on success (for best-effort writes).
int try_write_file(const std::string &dir, const std::string &file, const std::string &value);
std::optional<std::string> read_file(const std::string &dir, const std::string &file);
bool file_exists(const std::string &dir, const std::string &file);
using util::split;
std::string trim(const std::string &s);

// v1 real-time budgets (rt_budget.cpp): the ancestors of `dir` raised so
// that `dir` can get cpu.rt_runtime_us `runtime` (throws naming the parent
// that cannot); and the parent's budget copied to a new `dir`, best effort.
void ensure_rt_budget(const std::string &dir, int64_t runtime);
void inherit_rt_budget(const std::string &dir);

struct Hierarchy {
    std::string mountpoint;               // /sys/fs/cgroup/memory
    std::string root;                     // the mount's root in the hierarchy ("/" usually)
    std::vector<std::string> controllers; // {"cpu","cpuacct"}, {"name=systemd"}; empty for cgroup2
    bool v2 = false;
};
// The controllers (or "name=x") of a v1 hierarchy from its mount's super
// options ("rw,seclabel,cpu,cpuacct" -> cpu, cpuacct): flags, settings and
// security labels are none.
std::vector<std::string> mount_controllers(const std::string &super_options);
// The cgroup mounts below /sys/fs/cgroup (or at it, for pure v2).
std::vector<Hierarchy> hierarchies();
// The same, for a mode the caller has detected already.
std::vector<Hierarchy> hierarchies(Mode mode);
// This process's cgroup path in the hierarchy (from /proc/self/cgroup).
std::string own_path(const Hierarchy &h);
// The same for a process: `pid` is a number or "self".
std::string process_path(const Hierarchy &h, const std::string &pid);
// The same from the text of a /proc/PID/cgroup file; "/" when no line matches.
std::string path_in_proc_cgroup(const Hierarchy &h, const std::string &text);

// The directory holding a controller's files and whether it is a v2 one;
// nullopt when the controller is neither a v1 hierarchy nor enabled in the
// unified directory. `v2_name` is the controller's v2 name ("io" for blkio).
struct Target {
    std::string dir;
    bool v2 = false;
};
std::optional<Target> find_controller(const Paths &p, const std::string &v1_name, const std::string &v2_name);

// Writes cgroup files. For an update it reads each file before writing it,
// so that a failed update puts back what it had changed: an update applies
// fully or not at all (Docker sends partial updates; a half-applied one
// leaves limits nobody asked for).
class Writer {
public:
    explicit Writer(bool journal) : journal_(journal) {}
    // A dry run: every check of the values and the controllers, no write
    // (update validates everything before it changes anything).
    static Writer dry_run() {
        Writer w(false);
        w.dry_ = true;
        return w;
    }
    bool dry() const { return dry_; }
    Writer(Writer &&) = default;
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;
    void write(const std::string &dir, const std::string &file, const std::string &value);
    // A file of one line per key ("8:0 1000" in blkio.throttle.*): `reset`
    // undoes a key that had no line before.
    void write_keyed(const std::string &dir, const std::string &file, const std::string &value, const std::string &key,
                     const std::string &reset);
    // A file that reads back as lines "key N" (memory.oom_control): N is
    // what undoes the write.
    void write_shown_as(const std::string &dir, const std::string &file, const std::string &value,
                        const std::string &key);
    // Writes back the previous values, newest first; failures are logged.
    void rollback() noexcept;

private:
    struct Entry {
        std::string dir, file, old;
    };
    void remember(const std::string &dir, const std::string &file, std::string old);
    bool journal_;
    bool dry_ = false;
    std::vector<Entry> entries_;
};

// Writes every resource but the devices, each to its controller's v1
// directory or converted to the v2 files (resources.cpp). `r` has no unset
// zeros (without_unset).
void apply_resources(const Paths &p, const spec::Resources &r, bool update, Writer &w);
struct DeviceRule {
    char type = 'a'; // 'a', 'c', 'b'
    int64_t major = -1, minor = -1; // -1: any
    std::string access = "rwm";
    bool allow = false;
};
// The config's rules followed by the default devices and linux.devices.
std::vector<DeviceRule> device_rules(const std::vector<spec::DeviceCgroup> &rules,
                                     const std::vector<spec::Device> &devices);
void apply_devices_v1(const std::string &dir, const std::vector<DeviceRule> &rules);
// Loads the rules as a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it
// to the cgroup, replacing one we attached before.
void apply_devices_bpf(const std::string &dir, const std::vector<DeviceRule> &rules);

// Kills the processes in each dir, then removes it (EBUSY retried with a
// bounded backoff); errors are ignored but the last one is returned.
int remove_dirs(const std::vector<std::string> &dirs) noexcept;

// The names of the resources requested ("memory", "cpu"...), devices aside.
std::vector<std::string> requested_resources(const spec::Resources &r);

// runc's mapping of cpu.shares [2, 262144] onto cpu.weight [1, 10000]; 0:
// not set.
uint64_t shares_to_weight(uint64_t shares);

} // namespace crunpp::cgroup::detail
