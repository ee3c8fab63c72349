// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <string>

namespace crunpp::container {

// Writes the pid (decimal, no newline, as runc) atomically: a temporary
// file next to `path`, then rename, so a reader never sees a partial file.
void write_pid_file(const std::string &path, pid_t pid);

} // namespace crunpp::container
