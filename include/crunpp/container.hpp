// SPDX-License-Identifier: GPL-2.0-or-later
// The container lifecycle as library calls: create, start, run, kill, delete.
// The CLI commands are thin wrappers around these; every failure throws
// crunpp::Error and leaves nothing behind (no state dir, process or mount).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crunpp::container {

// Where the state lives and how the caller runs: shared by every call.
struct Context {
    std::string state_root;     // e.g. /run/crunpp
    bool rootless = false;      // no real root on the host
    std::string cgroup_manager; // recorded in the state ("cgroupfs" when empty)
    bool systemd_cgroup = false;
    std::string criu_path; // --criu: checkpoint and restore's criu (empty: "criu" in $PATH)
};

struct CreateOptions {
    std::string id;
    std::string bundle;      // empty: the current directory
    std::string config_path; // empty: <bundle>/config.json
    std::string pid_file;    // empty: none
    bool no_pivot = false;   // MS_MOVE + chroot instead of pivot_root
    // process.terminal: the pty master goes to this AF_UNIX socket
    // (SCM_RIGHTS, as runc). Empty: only `run` in the foreground may use a
    // terminal (crunpp then proxies it itself).
    std::string console_socket;
    // The init's pidfd goes to this AF_UNIX socket (SCM_RIGHTS).
    std::string pidfd_socket;
    // fds 3..3+N-1 (after the LISTEN_FDS ones) reach the container process.
    int preserve_fds = 0;
    bool no_new_keyring = false; // keep the caller's session keyring
};

struct RunOptions {
    CreateOptions create;
    bool detach = false; // return once the process runs
    bool keep = false;   // foreground: keep the state dir after the exit
};

// Sets the container up and leaves its init blocked before execve on the
// exec fifo; status `created`. No crunpp process stays behind.
void create(const Context &ctx, const CreateOptions &o);

// Releases a `created` container's init to execve; status `running`.
void start(const Context &ctx, std::string_view id);

// create + start in one process. Foreground: forwards SIGINT, SIGTERM,
// SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the process, waits, deletes
// the container (unless keep) and returns the exit status (128+N for signal
// N). Detached: returns 0 once the process runs.
int run(const Context &ctx, const RunOptions &o);

struct KillOptions {
    int signal = 15; // SIGTERM
    // Every process of the container: all of its own pid namespace, or only
    // the init when it has none.
    bool all = false;
};
void kill(const Context &ctx, std::string_view id, const KillOptions &o);

// Removes a stopped (or created: its init is killed) container. force: a
// running one is killed first (SIGKILL to all its processes, bounded wait).
void remove(const Context &ctx, std::string_view id, bool force);

// What `exec`'s flags change in the process (runc's rules): applied on top
// of the container's process.args-less config.process, or of --process FILE.
struct ProcessOverrides {
    std::vector<std::string> args;            // COMMAND [ARG...]; empty: keep
    std::vector<std::string> env;             // KEY=VALUE, replacing KEY
    std::string cwd;                          // empty: keep
    std::string user;                         // "UID[:GID]" (GID 0 when absent); empty: keep
    std::vector<std::string> additional_gids; // appended
    std::vector<std::string> caps;            // CAP_X: bounding, effective, permitted
    bool tty = false;                         // process.terminal (config: false unless set)
    bool no_new_privs = false;
    std::string apparmor;                     // empty: keep
    std::string process_label;                // empty: keep
};

struct ExecOptions {
    std::string id;
    std::string process_file; // --process: a process.json; empty: the config's process
    ProcessOverrides overrides;
    bool detach = false;        // return once the process runs
    std::string pid_file;       // written (atomically) before returning
    std::string console_socket; // terminal: the pty master goes there
    std::string pidfd_socket;   // the process's pidfd goes there
    int preserve_fds = 0;       // fds 3..3+N-1 reach the process
    // --cgroup [CONTROLLER[,CONTROLLER]:]SUBPATH: an existing sub-cgroup of
    // the container's (runc's syntax; no controller: every hierarchy).
    std::vector<std::string> cgroups;
    bool ignore_paused = false; // a paused container: the process starts frozen
};

// Runs a new process in a running (or created) container: its namespaces
// (the user namespace first), its cgroup, the process's user, groups,
// capabilities, rlimits, labels, noNewPrivileges and the container's
// seccomp filter. The process is crunpp's child. Foreground: forwards
// signals (and proxies a terminal without console socket), returns the
// process's status (128+N on signal N). Detached: returns 0 once it runs.
int exec(const Context &ctx, const ExecOptions &o);

// What checkpoint and restore share (runc's flags of both).
struct CriuOptions {
    std::string image_path; // empty: ./checkpoint
    // CRIU's log and work files. Empty: checkpoint: the image directory;
    // restore: criu.work in the container's state directory.
    std::string work_path;
    bool tcp_established = false;
    bool ext_unix_sk = false;
    bool shell_job = false;
    bool file_locks = false;
    std::string manage_cgroups_mode;   // "", "soft", "full", "strict", "ignore"
    std::vector<std::string> empty_ns; // namespace names, e.g. "network"
    bool auto_dedup = false;
    bool lazy_pages = false;
};

struct CheckpointOptions {
    std::string id;
    CriuOptions criu;
    std::string parent_path; // relative to image_path: a previous (pre-)dump
    bool leave_running = false;
    bool pre_dump = false;
    std::string page_server; // ADDRESS:PORT
    // With lazy pages: gets a \0 once CRIU's page server is ready to serve
    // the memory, and is closed then (runc's --status-fd); -1: none.
    int status_fd = -1;
};

// Dumps a running container with CRIU into o.criu.image_path; the
// container is then removed (as by `delete`) unless leave_running or
// pre_dump. A failed checkpoint leaves the container running and removes
// the directories it created.
void checkpoint(const Context &ctx, const CheckpointOptions &o);

struct RestoreOptions {
    CreateOptions create; // id, bundle, pid file, console socket, no_pivot
    CriuOptions criu;
    bool detach = false;
    std::string lsm_profile;       // TYPE:NAME, e.g. apparmor:profile
    std::string lsm_mount_context; // SELinux context of the restored mounts
};

// Restores a checkpoint as container o.create.id of the bundle: a state as
// create writes it, its cgroup, prestart/createRuntime hooks when CRIU
// sets up the namespaces and poststart after. Foreground: waits for the
// process as `run` does (signals forwarded, the container deleted after)
// and returns its status; detached: 0 once it runs.
int restore(const Context &ctx, const RestoreOptions &o);

// "TERM", "SIGTERM", "term", "15", "RTMIN+2" -> number; throws on anything else.
int parse_signal(std::string_view text);

// Status of a finished process as a shell reports it: the exit code, or
// 128+N when killed by signal N. `code` and `status` as in siginfo_t.
int exit_status(int code, int status);

} // namespace crunpp::container
