// SPDX-License-Identifier: GPL-2.0-or-later
// Paths inside the container's root resolved without ever leaving it:
// openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) treats the root fd as "/"
// for ".." and absolute symlinks, and every directory or file is created
// with *at calls relative to an fd that was resolved that way, so a symlink
// planted in the rootfs ("/etc -> /host-dir") cannot make crunpp create or
// mount anything outside (CVE-2021-30465, CVE-2024-45310, CVE-2026-41579).
#pragma once

#include "crunpp/unique_fd.hpp"

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace crunpp::linux {

// Lexically cleaned path relative to the root: "/a/./b/../c/" -> "a/c",
// "/", "/.." -> "" (the root itself). ".." never climbs above the root.
std::string clean_relative_path(std::string_view path);
// The components of a cleaned relative path.
std::vector<std::string> path_components(const std::string &rel);

// openat2(root_fd, rel, flags, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS|extra).
// On failure the fd is invalid and `err` holds the errno.
UniqueFd open_in_root(int root_fd, const std::string &rel, int flags, int &err, unsigned long long extra_resolve = 0);

// Directory `rel` (made with its missing parents, mode 0755), as an O_PATH fd.
// Throws Error(context "mkdir \"/rel\"", errno).
UniqueFd mkdir_all_in_root(int root_fd, const std::string &rel);

// The O_PATH fd of `rel`; a missing one is created: a directory when
// `directory`, else an empty file (mode 0644 or `file_mode`), with missing
// parent directories. A dangling symlink is an error, never followed out.
UniqueFd ensure_in_root(int root_fd, const std::string &rel, bool directory, mode_t file_mode = 0644);

// "/" + rel, for messages.
inline std::string display_path(const std::string &rel) { return "/" + rel; }

} // namespace crunpp::linux
