// SPDX-License-Identifier: GPL-2.0-or-later
// The options checkpoint and restore share (runc's).
#pragma once

#include <vector>

#include "cli.hpp"
#include "crunpp/container.hpp"

namespace crunpp::cli {

inline const std::vector<OptionSpec> kCriuOptions = {
    {"image-path", 0, true, "directory of the CRIU images (default: ./checkpoint)"},
    {"work-path", 0, true, "directory of CRIU's log and work files"},
    {"tcp-established", 0, false, "allow open TCP connections"},
    {"ext-unix-sk", 0, false, "allow external unix sockets"},
    {"shell-job", 0, false, "allow a shell job (a terminal from outside the container)"},
    {"file-locks", 0, false, "handle file locks"},
    {"manage-cgroups-mode", 0, true, "how CRIU handles cgroups: soft, full, strict or ignore"},
    {"empty-ns", 0, true, "create this namespace type, but do not restore its properties (repeatable)", true},
    {"auto-dedup", 0, false, "deduplicate memory pages against the parent images"},
    {"lazy-pages", 0, false, "restore memory pages lazily (userfaultfd)"},
};

inline container::CriuOptions criu_options(const ParsedArgs &a) {
    container::CriuOptions o;
    o.image_path = a.get_or("image-path", "");
    o.work_path = a.get_or("work-path", "");
    o.tcp_established = a.has("tcp-established");
    o.ext_unix_sk = a.has("ext-unix-sk");
    o.shell_job = a.has("shell-job");
    o.file_locks = a.has("file-locks");
    o.manage_cgroups_mode = a.get_or("manage-cgroups-mode", "");
    o.empty_ns = a.all("empty-ns");
    o.auto_dedup = a.has("auto-dedup");
    o.lazy_pages = a.has("lazy-pages");
    return o;
}

} // namespace crunpp::cli
