// SPDX-License-Identifier: GPL-2.0-or-later
// Writes to /proc through a handle that is known to be procfs, so that a
// container cannot redirect them with a fake /proc, a symlink or a bind
// mount over a /proc file (CVE-2019-16884, CVE-2025-52881).
#pragma once

#include "crunpp/unique_fd.hpp"

#include <string>
#include <string_view>

namespace crunpp::linux::procfs {

// The root of a procfs instance for the caller's pid namespace: a fresh,
// private instance (fsopen) when the kernel allows it, else /proc checked
// to be the root of a procfs mount. Cached for the life of the process
// (O_CLOEXEC).
int root();

// Opens `rel` ("sys/kernel/hostname", "thread-self/attr/exec") beneath
// root() without following symlinks or crossing mount points, and checks
// the result is on procfs. "self/" and "thread-self/" prefixes are resolved
// to the caller's own pid/tid first.
UniqueFd open(std::string_view rel, int flags);

// Writes `data` in one write() (procfs files take a value per write). The
// error names the file: `write /proc/sys/net/ipv4/ip_forward: Permission denied`.
void write_file(std::string_view rel, std::string_view data);
// Reads a small file whole.
std::string read_file(std::string_view rel);

} // namespace crunpp::linux::procfs
