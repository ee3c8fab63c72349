// SPDX-License-Identifier: GPL-2.0-or-later
// The per-container state directory: crunpp keeps no daemon, so everything a
// later command (state, start, kill, delete) needs is written here.
//
// Layout: <root>/<id>/state.json   written atomically (temp + rename)
//         <root>/<id>/lock         flock()ed by every command on the id
//         <root>/<id>/...          other files owned by the lifecycle code
//                                  (exec fifo, ...)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crunpp/unique_fd.hpp"

namespace crunpp::state {

// OCI statuses plus "paused" (runc's).
enum class Status { Creating, Created, Running, Stopped, Paused };
const char *status_name(Status s);
std::optional<Status> status_from_name(std::string_view s);

struct ContainerState {
    std::string ociVersion;
    std::string id;
    Status status = Status::Creating;
    pid_t pid = 0;               // host pid of the init, 0 when none
    uint64_t pid_start_time = 0; // field 22 of /proc/PID/stat, to detect pid reuse
    std::string bundle;          // absolute
    std::string created;         // RFC 3339 with nanoseconds, UTC
    uid_t owner = 0;
    bool rootless = false;
    bool systemd_cgroup = false;
    std::string cgroup_manager;                     // "cgroupfs", "systemd", "disabled"
    std::string cgroups_path;                       // as resolved at create time
    std::map<std::string, std::string> cgroup_paths; // controller (or "unified") -> absolute dir
    std::map<std::string, std::string> annotations;
    std::map<std::string, std::string> extra; // forward-compatible extra fields
};

// Container ids: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 1024 bytes.
bool valid_id(std::string_view id);
void check_id(std::string_view id); // throws Error("invalid container id ...")

// The default root: /run/crunpp for euid 0, $XDG_RUNTIME_DIR/crunpp otherwise
// (throws a clear error when XDG_RUNTIME_DIR is unset).
std::string default_root();

// Serialization of the full internal state (state.json) and of the OCI state
// that `crunpp state` prints (valid against state-schema.json).
std::string to_json(const ContainerState &s);
ContainerState from_json(std::string_view text, std::string_view origin);
std::string to_oci_json(const ContainerState &s);

// Process liveness with pid-reuse detection.
uint64_t process_start_time(pid_t pid); // 0 when the process does not exist
bool process_alive(pid_t pid, uint64_t start_time);

// The status a reader should report: a recorded running/created/paused
// container whose init is gone (or was replaced) is `stopped`.
Status effective_status(const ContainerState &s);

// A locked handle on one container directory. The lock is released when the
// handle is destroyed.
class Container {
public:
    const std::string &id() const { return id_; }
    const std::string &dir() const { return dir_; }
    int dir_fd() const { return dirfd_.get(); }
    ContainerState &state() { return state_; }
    const ContainerState &state() const { return state_; }

    void save();   // atomically rewrites state.json from state()
    void remove(); // removes the directory and everything in it; the handle is then dead

private:
    friend class Store;
    Container() = default;
    std::string id_, dir_;
    UniqueFd dirfd_, lockfd_;
    ContainerState state_;
};

class Store {
public:
    explicit Store(std::string root); // created (0700) on first create
    const std::string &root() const { return root_; }

    // Creates <root>/<id> exclusively (error "container ID already exists"),
    // takes its lock, and returns it with status Creating (not yet saved).
    Container create(std::string_view id);
    // Opens and locks an existing container (error "container ID does not exist").
    Container open(std::string_view id);
    // Ids of every container directory, sorted; unreadable entries skipped.
    std::vector<std::string> list_ids() const;
    bool exists(std::string_view id) const;

private:
    std::string root_;
};

} // namespace crunpp::state
