// SPDX-License-Identifier: GPL-2.0-or-later
// passwd files read directly, as runc does: crunpp is linked statically
// against glibc, where getpwuid would load NSS modules with dlopen. A user
// known only to NSS (LDAP, sssd) has no name here: `list` shows "#uid" and
// /etc/subuid entries are matched by uid as well as by name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crunpp::util {

struct PasswdEntry {
    std::string name;
    std::string home;
};

// The first entry of `uid` in a passwd file's text
// (name:password:uid:gid:gecos:home:shell), as getpwuid picks it.
std::optional<PasswdEntry> passwd_entry(std::string_view passwd, uint32_t uid);

// The whole regular file at `path`, or "" (missing, not regular, larger
// than 4 MiB, unreadable). O_NONBLOCK: a FIFO planted in a container's
// /etc must not block the runtime.
std::string read_passwd_file(const char *path);

// The name of `uid` in the host's /etc/passwd, "" when it has none.
std::string user_name(uint32_t uid);

} // namespace crunpp::util
