// SPDX-License-Identifier: GPL-2.0-or-later
// The per-container state directory: crunpp keeps no daemon, so everything a
// later command (state, start, kill, delete) needs is written here.
//
// Layout: <root>/<id>/              flock()ed by every command that changes
//                                  the container (the directory itself)
//         <root>/<id>/state.json   replaced atomically on every save
//         <root>/<id>/...          other files owned by the lifecycle code
//                                  (exec fifo, the kept config.json, ...)
//
// A container directory appears and disappears atomically: create() builds
// it, locked, under a hidden name, and the first save() renames it into
// place with its state.json; remove() renames it to a hidden name before
// emptying it. Names starting with '.' are never valid ids, so list_ids()
// does not see them. Few metadata changes a container: where the root is
// not a tmpfs each one is a journalled write.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crunpp/unique_fd.hpp"

namespace crunpp::json {
class Writer;
}

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
    std::string rootfs;          // absolute path of the root filesystem on the host
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
constexpr size_t kMaxIdLength = 1024;
bool valid_id(std::string_view id);
void check_id(std::string_view id); // throws Error("invalid container id ...")

// Whether this process runs in a user namespace other than the initial one
// (its uid_map does not map every id to itself), e.g. rootless podman's.
bool in_user_namespace();
// The default root: /run/crunpp for euid 0, $XDG_RUNTIME_DIR/crunpp otherwise
// and for euid 0 in another user namespace unless USER is root (runc's rule;
// throws a clear error when XDG_RUNTIME_DIR is unset).
std::string default_root();

// A user name for `list` and `state`: the passwd name, else "#UID" (as runc).
std::string owner_name(uid_t uid);

// Serialization of the full internal state (state.json) and of the OCI state
// (valid against state-schema.json, plus runc's rootfs, created and owner).
// to_oci_json prints s.status as given: callers pass a state whose status is
// effective_status(). No trailing newline.
std::string to_json(const ContainerState &s);
ContainerState from_json(std::string_view text, std::string_view origin);
// Where the pid of a container without a live init goes. `state` and `list`
// print runc's object, whose pid is always there (0 when stopped; crun
// prints the same); hooks and seccomp agents get the runtime-spec's State,
// whose pid is omitted when there is none.
enum class PidWhenNone { Zero, Omitted };
// The pid a container shows: 0 once stopped, when the last init's pid may
// be another process's by now.
inline pid_t shown_pid(const ContainerState &s) { return s.status == Status::Stopped ? 0 : s.pid; }
std::string to_oci_json(const ContainerState &s, bool pretty, PidWhenNone none);
// The same object written into a larger document (`list --format json`).
void write_oci_state(json::Writer &w, const ContainerState &s, PidWhenNone none);

// Process liveness with pid-reuse detection.
uint64_t process_start_time(pid_t pid); // 0 when the process does not exist
// True when pid exists, is not a zombie and started at start_time (a
// start_time of 0 never matches: without it a recycled pid cannot be told
// apart).
bool process_alive(pid_t pid, uint64_t start_time);

// The status a reader should report: a recorded running/created/paused
// container whose init is gone (or was replaced, or is a zombie) is `stopped`.
Status effective_status(const ContainerState &s);

// A locked handle on one container directory. The lock is released when the
// handle is destroyed.
class Container {
public:
    Container(Container &&other) noexcept;
    Container &operator=(Container &&other) noexcept;
    ~Container(); // an unpublished container's directory goes with it

    const std::string &id() const { return id_; }
    const std::string &dir() const { return dir_; } // absolute (or as the root was given) path
    int dir_fd() const { return dirfd_.get(); }
    ContainerState &state() { return state_; }
    const ContainerState &state() const { return state_; }

    // Atomically rewrites state.json from state(). The first save of a
    // created container also publishes it under its id (error "container
    // "ID" already exists" when another create took the id meanwhile).
    void save();
    void remove(); // removes the directory and everything in it; the handle is then dead

    // In a child forked (or cloned without CLONE_FILES) while this handle is
    // alive: close the inherited lock fd WITHOUT unlocking. flock locks
    // belong to the open file, which parent and child now share, so the lock
    // is held until BOTH have closed it. A child that outlives the command or
    // blocks (the init waiting on the exec fifo) must call this, or every
    // later command on the id (`start`) waits for the lock forever.
    void close_inherited_lock() noexcept {
        lockfd_.reset();
        legacy_lockfd_.reset();
    }

private:
    friend class Store;
    Container() = default;
    void publish();
    void discard_unpublished() noexcept;
    std::string root_path() const { return dir_.substr(0, dir_.size() - id_.size() - 1); }
    std::string id_, dir_;
    // lockfd_: the directory opened a second time, its own open file (see
    // close_inherited_lock); legacy_lockfd_: the "lock" file of a directory
    // made by an older crunpp, which those binaries lock.
    UniqueFd rootfd_, dirfd_, lockfd_, legacy_lockfd_;
    ContainerState state_;
    std::string unpublished_; // the hidden name until the first save publishes it
    pid_t creator_ = 0;       // who may remove it unpublished (not a forked child)
    bool has_state_file_ = true; // false until the first save of a new container
};

class Store {
public:
    explicit Store(std::string root); // created (0700) on first create
    const std::string &root() const { return root_; }

    // Makes the directory of a new container under a hidden name, locked,
    // and returns it with status Creating, id, ociVersion, owner (euid) and
    // created (now) filled in. Files go in through dir_fd(); dir() is its
    // path from the first save(), which publishes it under its id with its
    // state.json. Error "container "ID" already exists" here when the id is
    // taken, and at that first save when another create took it meanwhile.
    // Dropped unsaved, it leaves nothing.
    Container create(std::string_view id);
    // Opens and locks an existing container, waiting for the lock (error
    // "container "ID" does not exist", also when it was removed while
    // waiting). A directory without state.json (one made by hand, or by an
    // older crunpp that crashed in create) yields the state {id, status
    // Creating}.
    Container open(std::string_view id);
    // The same, nullopt where open() says "does not exist": for `delete
    // --force`, which succeeds on a missing container as in runc.
    std::optional<Container> try_open(std::string_view id);
    // A snapshot of the state without locking (state.json is replaced
    // atomically, so it is always whole); nullopt when the container does not
    // exist. For readers: `state`, `list`.
    std::optional<ContainerState> read(std::string_view id) const;
    // Ids of every container directory, sorted; other entries skipped.
    std::vector<std::string> list_ids() const;
    bool exists(std::string_view id) const;
    // Removes what a crunpp killed inside create() or Container::remove()
    // left: the hidden directory it was building or tearing down. Best
    // effort, never throws; `delete` calls it.
    void collect_garbage() const;

private:
    UniqueFd open_root(bool create) const;
    std::string root_;
};

} // namespace crunpp::state
