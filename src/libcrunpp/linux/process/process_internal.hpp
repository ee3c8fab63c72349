// SPDX-License-Identifier: GPL-2.0-or-later
// The steps of process.hpp's functions, one file each, private to linux/.
#pragma once

#include "crunpp/spec.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace crunpp::linux::detail {

// rlimits.cpp
void apply_rlimits(const std::vector<spec::Rlimit> &rlimits);

// scheduling.cpp
void apply_scheduler(const spec::Scheduler &s);
void apply_io_priority(const spec::IoPriority &p);
void apply_cpu_affinity(pid_t pid, const std::string &cpus, const char *what);

// memory_policy.cpp
void apply_memory_policy(const spec::MemoryPolicy &m);

// capabilities.cpp: the bounding set is dropped while the process still
// has CAP_SETPCAP (before the user switch); the other four after it.
// keep_sys_admin: CAP_SYS_ADMIN stays effective and permitted on top of
// the sets, for a seccomp filter loaded later without no_new_privs; then
// apply_capset(capset_data(c)) sets the exact sets (one syscall).
void drop_bounding_set(const spec::Capabilities &c);
void apply_capability_sets(const spec::Capabilities &c, bool keep_sys_admin = false);
// capset(2)'s arguments, version 3 (linux/capability.h's layout).
struct CapsetData {
    struct Header {
        uint32_t version = 0x20080522; // _LINUX_CAPABILITY_VERSION_3
        int pid = 0;
    } header;
    struct Data {
        uint32_t effective = 0, permitted = 0, inheritable = 0;
    } data[2];
};
CapsetData capset_data(const spec::Capabilities &c);
void apply_capset(const CapsetData &d);

// user.cpp: groups, gid, uid, keeping the permitted capabilities across
// the switch so that apply_capability_sets can set them.
void switch_user(const spec::User &u, bool keep_groups = false);

// home.cpp: the home directory of `uid` in a passwd file's text ("/" when
// the uid has no entry), and in /etc/passwd of the current root.
std::string home_in_passwd(std::string_view passwd, uint32_t uid);
std::string default_home(uint32_t uid);

// lsm.cpp: labels the kernel applies at the next execve.
void apply_lsm_labels(const spec::Process &p);

} // namespace crunpp::linux::detail
