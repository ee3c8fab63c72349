// SPDX-License-Identifier: GPL-2.0-or-later
// The container process: kernel settings (hostname, sysctl), per-process
// resources (rlimits, scheduling, affinity, memory policy), the executable
// lookup and the final exec with the user, capabilities and LSM labels.
// All of it runs in the container init after setup_rootfs, except
// apply_final_cpu_affinity, which the runtime calls on the init's pid once
// the process has been exec'd.
#pragma once

#include "crunpp/spec.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crunpp::linux {

struct SeccompFilter; // seccomp.hpp

// hostname, domainname, linux.sysctl (only keys namespaced by a namespace
// the container has of its own; others are an error naming the key).
void apply_kernel_settings(const spec::Config &cfg);

// rlimits, oomScoreAdj, scheduler, ioPriority, personality,
// execCPUAffinity.initial, memoryPolicy.
void apply_process_resources(const spec::Config &cfg);

// process.args[0] as an absolute path inside the current root: used as is
// when it contains '/', else searched in the PATH of process.env (runc's
// default PATH when none). Errors in runc's words, which engines map to
// exit codes 127 and 126: `exec: "foo": executable file not found in
// $PATH`, `exec: "/x": stat /x: no such file or directory`,
// `exec: "/etc": permission denied`.
std::string resolve_executable(const spec::Process &p);

struct ExecOptions {
    int preserve_fds = 0; // fds 3..3+N-1 stay open across the exec
    // linux.seccomp, loaded by finish_exec just before execve (without
    // noNewPrivileges prepare_exec keeps CAP_SYS_ADMIN for it).
    const SeccompFilter *seccomp = nullptr;
    // The PR_SET_PDEATHSIG signal the process already has (exec): set again
    // after the user switch, which clears it, and cleared before execve, so
    // that the exec'd process outlives the runtime (before the filter,
    // which may refuse prctl).
    int parent_death_signal = 0;
    // crun's run.oci.keep_original_groups: no setgroups, the runtime's
    // supplementary groups stay.
    bool keep_groups = false;
};

// In this order: umask, LSM labels, bounding set, every fd >= 3 +
// preserve_fds marked CLOEXEC, groups/gid/uid, capabilities, cwd,
// noNewPrivileges; then default signal dispositions and an empty mask,
// the seccomp filter, execve(exe, args, env). An env without HOME gets the
// user's home from the current root's /etc/passwd ("/" without an entry),
// as in runc. Returns only by throwing.
[[noreturn]] void exec_process(const spec::Process &p, const std::string &exe, const ExecOptions &o);

// exec_process in two halves, so that everything that can fail fails
// `create` (the init calls prepare_exec before it reports "ready") and
// only execve and the filter are left for after `start`. Between them the
// process already runs as the container's user with its capabilities (an
// exec fifo it opens then must be writable by that user: runc makes it
// 0622). After the filter finish_exec makes no syscall but execve (and one
// capset when, without noNewPrivileges, CAP_SYS_ADMIN was kept to load it).
// p with HOME added as exec_process does; nullopt when p's env has HOME.
std::optional<spec::Process> with_default_home(const spec::Process &p);
void prepare_exec(const spec::Process &p, const ExecOptions &o = {}); // ... up to noNewPrivileges
[[noreturn]] void finish_exec(const spec::Process &p, const std::string &exe, const ExecOptions &o); // signals, [seccomp], execve

// The resolved executable (resolve_executable) can be run by the current
// (the container's) user: the error execve would give, in runc's words.
void check_user_can_exec(const std::string &exe);
// An execve failure in runc's words: `exec /bin/x: exec format error`.
[[noreturn]] void exec_failed(const std::string &exe, int err);

// execCPUAffinity.final: applied by the runtime to the exec'd process.
void apply_final_cpu_affinity(pid_t pid, const std::string &cpus);

// ---- helpers, public for the tests and for other parts of the runtime ----

// "0-3,5" -> {0,1,2,3,5} (sorted, unique). Throws Error naming `what` on
// bad syntax or a list bigger than `max_id`.
std::vector<unsigned> parse_id_list(std::string_view list, std::string_view what, unsigned max_id = 65535);

// Capability number of "CAP_SYS_ADMIN" (the CAP_ prefix is required, as
// the spec says); nullopt when the name is unknown to crunpp.
std::optional<int> capability_from_name(std::string_view name);
// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_capability();

// The namespace a sysctl key belongs to; nullopt: the key is not namespaced
// (setting it from a container is refused).
enum class SysctlNamespace { Ipc, Net, Uts };
std::optional<SysctlNamespace> sysctl_namespace(std::string_view key);
// "net.ipv4.ip_forward" -> "sys/net/ipv4/ip_forward" (relative to /proc).
// Throws when the key could name something outside /proc/sys.
std::string sysctl_proc_path(std::string_view key);

// The value of PATH in an environment list (runc's default when absent).
std::string path_from_env(const std::vector<std::string> &env);
// Searches `name` (no '/') in the colon-separated `path_var`, looking at
// files under `root` ("" or "/" for the current root). Returns the path
// inside that root ("/usr/bin/foo") or throws the `exec "foo": ...` error.
std::string find_in_path(const std::string &name, const std::string &path_var, const std::string &root = "");

} // namespace crunpp::linux
