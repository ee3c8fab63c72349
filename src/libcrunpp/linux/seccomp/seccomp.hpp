// SPDX-License-Identifier: GPL-2.0-or-later
// linux.seccomp: the filter is compiled by the runtime (libseccomp) in the
// parent before the clone, or taken from a cache of compiled programs, and
// the container init only hands the ready BPF program to seccomp(2).
//
// Where the init loads it (see container/init.cpp and linux/exec.cpp):
// - with SCMP_ACT_NOTIFY rules: before the init reports "ready", because
//   the listener fd must reach the agent during `create` (a failed send is
//   a create error); noNewPrivileges is set first when asked for. The init
//   passes the listener to the runtime (sendmsg on the sync socket: a
//   NOTIFY rule on sendmsg is refused), which forwards it to the agent at
//   once, so the init's later syscalls may be notified too;
// - otherwise in finish_exec, after `start`, just before execve: every fd
//   is marked CLOEXEC, the user, capabilities, cwd and no_new_privs are set
//   before it (before "ready"). Without noNewPrivileges the load needs
//   CAP_SYS_ADMIN: prepare_exec keeps it effective and finish_exec drops
//   it with one capset after the load (a profile must allow capset then,
//   as Docker's do). So a profile needs to allow execve and nothing else
//   the runtime does (runc needs more: its user switch, capset, chdir and
//   the exec fifo run under the filter).
//
// Cache: <default state root>-seccomp-cache/<16 hex digits> (for root
// /run/crunpp-seccomp-cache, rootless $XDG_RUNTIME_DIR/crunpp-seccomp-cache),
// one file per compiled program: never inside a --root, which engines share
// with runc (Docker's .../runtime-runc/moby), whose `list` reads every entry
// of it as a container. Entries are keyed by a canonical encoding of every
// field that shapes the program plus the native architecture and the
// libseccomp version and API level; the whole key is stored in the entry and
// compared byte for byte, so a hash collision is a miss, never a wrong
// filter. Entries are written atomically (temp + rename), checked (magic,
// lengths, checksum, instruction count, owner) before use, and at most
// kSeccompCacheEntries are kept (least recently used by mtime evicted).
// Any problem with the cache falls back to compiling; it never fails a start.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crunpp/spec.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::state {
struct ContainerState;
}

namespace crunpp::linux {

struct SeccompFilter {
    std::vector<sock_filter> program; // classic BPF for seccomp(2)
    unsigned int flags = 0;           // SECCOMP_FILTER_FLAG_* of linux.seccomp.flags
    bool notify = false;              // SCMP_ACT_NOTIFY rules: load with a listener
    bool from_cache = false;
};

inline constexpr size_t kSeccompCacheEntries = 64;
inline constexpr const char *kSeccompCacheSuffix = "-seccomp-cache";
// Where crunpp kept the cache before (inside the state root).
inline constexpr const char *kLegacySeccompCacheDir = ".seccomp-cache";

// Removes <state_root>/.seccomp-cache left by an older crunpp (its files,
// then the directory), so that `runc list` on a shared root works again.
// Best effort; one failing open when there is none.
void remove_legacy_seccomp_cache(const std::string &state_root) noexcept;

// The cache directory of the calling user; empty (no cache) when it has no
// default state root (rootless without XDG_RUNTIME_DIR).
std::string seccomp_cache_dir();

// In the runtime, before the clone. `cache_dir` empty: no cache. Config
// errors name their JSON path ("config.json: .linux.seccomp.syscalls[2]...").
SeccompFilter prepare_seccomp(const spec::Seccomp &s, const std::string &cache_dir);

// crun's run.oci.seccomp_fail_unknown_syscall: a syscall name libseccomp
// does not know is an error naming its JSON path instead of being skipped.
inline constexpr const char *kFailUnknownSyscallAnnotation = "run.oci.seccomp_fail_unknown_syscall";
void check_known_syscalls(const spec::Seccomp &s);

// Loads the filter into the calling process (seccomp(2) directly; the init
// is single-threaded). Sets no_new_privs first when `no_new_privileges`.
// Returns the listener fd when f.notify, else an empty UniqueFd.
UniqueFd load_seccomp(const SeccompFilter &f, bool no_new_privileges);
// What load_seccomp could refuse, checked without loading (the program's
// length, the flags the kernel knows), so that it fails `create` rather
// than the load just before execve.
void check_seccomp_loadable(const SeccompFilter &f);

// Sends the listener fd and the container process state (runtime-spec
// "Seccomp notify": ociVersion, fds ["seccompFd"], pid, metadata, state) in
// one message over a new SOCK_STREAM connection to listenerPath. `pid` is
// the filtered process (an exec'd one: the state keeps the init's pid, as
// in runc); 0: the init, st.pid.
void send_seccomp_listener(const spec::Seccomp &s, int listener_fd, const state::ContainerState &st,
                           pid_t pid = 0);

// The flags of linux.seccomp.flags that the running kernel accepts.
std::vector<std::string> seccomp_supported_flags();

// ---- helpers, public for the tests and the benchmark ----

// libseccomp -> BPF, no cache; `compact`: through compact_seccomp_program.
std::vector<sock_filter> compile_seccomp(const spec::Seccomp &s, bool compact = true);
// libseccomp's program rewritten shorter with the same outcome for every
// input (seccomp_compact.cpp): per architecture, ranges of syscall numbers
// with one fixed outcome in a binary tree, the argument checks kept as
// libseccomp made them. Returns `prog` itself for shapes it does not handle.
std::vector<sock_filter> compact_seccomp_program(const std::vector<sock_filter> &prog);
// Runs a seccomp program on `data` as the kernel would (the instructions
// libseccomp emits); std::invalid_argument for others.
uint32_t run_seccomp_program(const std::vector<sock_filter> &prog, const seccomp_data &data);
// The cache key: every field that shapes the program, native arch,
// libseccomp version and API level, length-prefixed.
std::string seccomp_cache_key(const spec::Seccomp &s);
// The entry's file name for a key (hex of a 64-bit hash).
std::string seccomp_cache_name(std::string_view key);
// nullopt when absent, unreadable or failing any check (the bad entry is
// then removed). `cache_dir` is the cache directory itself.
std::optional<std::vector<sock_filter>> seccomp_cache_lookup(const std::string &cache_dir, std::string_view key);
// Best effort (false when the entry could not be written); evicts down to
// `max_entries`.
bool seccomp_cache_store(const std::string &cache_dir, std::string_view key, const std::vector<sock_filter> &program,
                         size_t max_entries = kSeccompCacheEntries);
// The bytes of an entry (header, key, program), and their verification.
std::string seccomp_cache_encode(std::string_view key, const std::vector<sock_filter> &program);
std::optional<std::vector<sock_filter>> seccomp_cache_decode(std::string_view data, std::string_view key);

// The container process state JSON sent to the listener.
std::string seccomp_process_state_json(const spec::Seccomp &s, const state::ContainerState &st, pid_t pid = 0);

} // namespace crunpp::linux
