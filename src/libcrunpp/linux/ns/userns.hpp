// SPDX-License-Identifier: GPL-2.0-or-later
// Namespaces of the container: which to create, joining existing ones by
// path, user-namespace id maps (direct or through newuidmap/newgidmap, with
// crun's automatic rootless mappings) and the time namespace with offsets.
#pragma once

#include <crunpp/spec.hpp>
#include <crunpp/unique_fd.hpp>

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace crunpp::linux {

// ---- subordinate ids and automatic rootless mappings ----

struct SubIdRange {
    uint32_t start = 0, count = 0;
    bool operator==(const SubIdRange &) const = default;
};

// Ranges of /etc/subuid (or /etc/subgid) for a user name or numeric uid, in
// file order. A missing file gives no ranges; comments, blank and malformed
// lines are skipped.
std::vector<SubIdRange> read_subid_ranges(const std::string &file, const std::string &user, uid_t uid);

struct IdMaps {
    std::vector<spec::IdMapping> uid, gid;
};

// The mappings crun gives a rootless container whose config has no user
// namespace: container 0 -> the caller's id (size 1), then container 1.. ->
// the subordinate ranges, one after the other (only when /usr/bin/newuidmap
// resp. newgidmap exists and the ranges exist), else only the one id.
// Reads the user name (passwd), /etc/subuid and /etc/subgid.
IdMaps auto_rootless_mappings(uid_t uid, gid_t gid);
// The pure part of it, for tests.
std::vector<spec::IdMapping> rootless_mappings(uint32_t host_id, const std::vector<SubIdRange> &ranges,
                                               bool helper_available);

// ---- writing the id maps of a new user namespace ----

// Who writes the maps (the parent of the child with the new user namespace).
struct MapWriterIds {
    uid_t euid = 0;
    gid_t egid = 0;
    bool cap_setuid = false; // effective CAP_SETUID / CAP_SETGID in the current user namespace
    bool cap_setgid = false;
};
MapWriterIds current_map_writer();

// How each map is written. Direct: the kernel accepts a write by the caller
// (privileged, or exactly one mapping of its own id of size 1; for gid_map
// "deny" is written to setgroups first). Otherwise the setuid helpers.
struct MapWritePlan {
    bool uid_direct = false;
    bool gid_direct = false;
    bool deny_setgroups = false;
    bool operator==(const MapWritePlan &) const = default;
};
MapWritePlan plan_id_mapping_writes(const std::vector<spec::IdMapping> &uid,
                                    const std::vector<spec::IdMapping> &gid, const MapWriterIds &writer);

// Writes /proc/PID/{uid_map,setgroups,gid_map} following the plan above;
// helper runs are `/usr/bin/newuidmap PID c h s ...` (empty environment,
// stdio only), their stderr is the error message on failure. /proc/PID is opened once as
// a directory (checked to be procfs) and the files are opened relative to it.
// An empty uid or gid map is an error (the child could not become root).
// Call it from the parent while the child waits (the child's pid is not
// reaped, so it cannot be recycled).
void write_id_mappings(pid_t pid, const std::vector<spec::IdMapping> &uid,
                       const std::vector<spec::IdMapping> &gid);

// "0 1000 1\n1 200000 65536\n": the text of a uid_map/gid_map write.
std::string format_id_map(const std::vector<spec::IdMapping> &m);

// ---- namespace files ----

// The CLONE_NEW* flag of a namespace type.
int clone_flag_of(spec::NamespaceType type);

// The CLONE_NEW* flags of the config's namespaces that have no path (or an
// empty one, as runc reads it), to be created by clone3. CLONE_NEWTIME is
// left out: the child enters the time namespace with enter_time_namespace
// (offsets must be written before a process is in it).
int namespaces_to_create(const spec::Linux &linux_cfg);

// Opens a namespace file (O_RDONLY|O_CLOEXEC, O_NONBLOCK so that a FIFO does
// not hang) and checks its type with NS_GET_NSTYPE; errors name the path and
// the expected type ("open network namespace /x: not a namespace file").
UniqueFd open_namespace(const std::string &path, spec::NamespaceType type);

using NamespaceFds = std::vector<std::pair<spec::NamespaceType, UniqueFd>>;

// Opens every namespace of the config that has a non-empty path (in the
// parent, before clone), in config order. Errors name the JSON path, as
// config errors do: "config.json: .linux.namespaces[2].path: open uts
// namespace /x: wrong namespace type: ipc".
NamespaceFds open_config_namespaces(const spec::Linux &linux_cfg);

// In the child (single-threaded): setns into each namespace. Every namespace
// but user is tried first with the current privileges (root on the host may
// join a network namespace owned by the host's user namespace, which it could
// not do from inside the joined user namespace); the user namespace is joined
// next, then those refused with EPERM are tried again (an unprivileged caller
// needs the user namespace's privileges for them). Mount is joined last in
// each round (it changes root and cwd). Each fd is closed once joined.
// Note: joining a pid namespace only places the process's future children in
// it (setns(2)); the process itself stays where it is.
void join_namespaces(NamespaceFds &fds);

// ---- time namespace ----

// In the child, when the config has a time namespace without a path (with its
// timeOffsets, or none): unshare(CLONE_NEWTIME), write the offsets to
// /proc/self/timens_offsets, setns into /proc/self/ns/time_for_children, so
// that the process itself is in the new time namespace. Needs CAP_SYS_TIME in
// the current user namespace (a new user namespace's creator has it, maps
// written or not) and an accessible /proc/self: call it single-threaded,
// after creating or joining the user namespace but BEFORE any setresuid/
// setresgid (a uid change makes the process non-dumpable, and its /proc/self
// files then belong to a root that is unmapped in the container: EACCES),
// while /proc is still the host's (before pivot_root).
void enter_time_namespace(const spec::TimeOffsets &offsets);

// "monotonic 1000 0\nboottime -5 0\n": the text written to timens_offsets.
std::string format_time_offsets(const spec::TimeOffsets &offsets);

} // namespace crunpp::linux
