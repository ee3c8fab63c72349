// SPDX-License-Identifier: GPL-2.0-or-later
// HOME for a process whose env has none: the home directory of its uid in
// the container's /etc/passwd, else "/" (what runc and crun do).
#include "process_internal.hpp"

#include <optional>
#include <string_view>

#include "../../util/passwd.hpp"

namespace crunpp::linux::detail {

std::string home_in_passwd(std::string_view passwd, uint32_t uid) {
    std::optional<util::PasswdEntry> e = util::passwd_entry(passwd, uid);
    return !e || e->home.empty() ? "/" : e->home;
}

std::string default_home(uint32_t uid) {
    return home_in_passwd(util::read_passwd_file("/etc/passwd"), uid);
}

} // namespace crunpp::linux::detail
