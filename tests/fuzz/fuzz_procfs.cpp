// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the parsers of kernel files: /proc/self/mountinfo
// (mountinfo.cpp), /proc/PID/stat (state/process.cpp: is the init still
// the same process) and /proc/PID/cgroup (cgroup/hierarchy.cpp: which
// cgroup the caller is in). The kernel writes these, but a parser must not
// crash, hang or read out of bounds on any text; each input goes to all.
#include <string>
#include <string_view>

#include "crunpp/error.hpp"
#include "fuzz.hpp"
#include "src/libcrunpp/cgroup/cgroup_internal.hpp"
#include "src/libcrunpp/linux/mount/mountinfo.hpp"
#include "src/libcrunpp/state/proc_stat.hpp"

namespace {

using crunpp::fuzz::check;
namespace detail = crunpp::cgroup::detail;

void mountinfo(std::string_view text) {
    try {
        for (const auto &m : crunpp::linux::parse_mountinfo(text)) {
            // Octal escapes only ever shorten a field; the kernel escapes
            // spaces, so a decoded field holds what no raw field can.
            check(m.mountpoint.size() <= text.size() && m.root.size() <= text.size(),
                  "mountinfo: a field longer than the text");
            check(!m.mountpoint.empty() && !m.fstype.empty() && !m.source.empty(),
                  "mountinfo: an empty mount point, type or source");
        }
    } catch (const crunpp::Error &e) {
        check(e.what()[0] != '\0', "mountinfo: an empty error");
    }
}

// g++ 12 at -O3 warns falsely (-Wrestrict, GCC bug 105329) on the literals
// assigned below once this is inlined into the target.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
void cgroup_path(const std::string &text) {
    detail::Hierarchy v2;
    v2.mountpoint = "/sys/fs/cgroup/unified";
    v2.root = "/";
    v2.v2 = true;
    detail::Hierarchy cpu;
    cpu.mountpoint = "/sys/fs/cgroup/cpu,cpuacct";
    cpu.root = "/";
    cpu.controllers = {"cpu", "cpuacct"};
    detail::Hierarchy sub = cpu; // a hierarchy mounted from a subtree
    sub.root = "/docker";
    for (const detail::Hierarchy *h : {&v2, &cpu, &sub})
        check(!detail::path_in_proc_cgroup(*h, text).empty(), "cgroup: an empty cgroup path");
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

} // namespace

int crunpp::fuzz::procfs(const uint8_t *data, size_t size) {
    std::string text(reinterpret_cast<const char *>(data), size);
    mountinfo(text);
    if (auto st = state::detail::parse_proc_stat(text))
        check(text.find(')') != std::string::npos, "stat: parsed without the comm field");
    cgroup_path(text);
    return 0;
}

CRUNPP_FUZZ_TARGET(crunpp::fuzz::procfs)
