// SPDX-License-Identifier: GPL-2.0-or-later
// Small file helpers of the rootfs code.
#pragma once

#include <string>

namespace crunpp::linux {

// Whole content of a (small, e.g. procfs) file; throws Error naming the path.
std::string read_file_at(int dirfd, const std::string &path);
// Writes `data` to an existing file (O_WRONLY|O_CLOEXEC, no O_CREAT).
void write_file_at(int dirfd, const std::string &path, const std::string &data);

} // namespace crunpp::linux
