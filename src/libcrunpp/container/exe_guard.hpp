// SPDX-License-Identifier: GPL-2.0-or-later
// CVE-2019-5736: the container process must never be crunpp's own binary.
// The init is a clone of crunpp, so a container executable that is (or
// whose "#!" interpreter is) /proc/self/exe, directly or through symlinks,
// would run the host's crunpp with the container's libraries, and the
// container could then reopen that binary for writing.
#pragma once

#include <sys/types.h>

#include <string>

namespace crunpp::container {

struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
};

// crunpp's own binary, taken while the process still sees the host's /proc.
FileId runtime_binary_id();

// Throws Error(`exec "PATH": ...`) when `exe` (a path in the current root)
// or an interpreter of its "#!" chain is the file `runtime`.
void check_not_runtime_binary(const std::string &exe, const FileId &runtime);

} // namespace crunpp::container
