// SPDX-License-Identifier: GPL-2.0-or-later
// The time namespace: its clock offsets can only be set before a process is
// in it, so it is created with unshare (for children only), given its
// offsets, and then entered by the process itself with setns.
#include "userns.hpp"

#include <crunpp/error.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

namespace crunpp::linux {

namespace {

void append_offset(std::string &s, const char *clock, const std::optional<spec::TimeOffset> &o) {
    if (!o)
        return;
    s += clock;
    s += ' ';
    s += std::to_string(o->secs);
    s += ' ';
    s += std::to_string(o->nanosecs);
    s += '\n';
}

} // namespace

std::string format_time_offsets(const spec::TimeOffsets &offsets) {
    std::string s;
    append_offset(s, "monotonic", offsets.monotonic);
    append_offset(s, "boottime", offsets.boottime);
    return s;
}

void enter_time_namespace(const spec::TimeOffsets &offsets) {
    if (::unshare(CLONE_NEWTIME) < 0)
        throw_errno("create a time namespace (unshare)");

    const std::string text = format_time_offsets(offsets);
    if (!text.empty()) {
        std::string shown = text;
        shown.pop_back();
        for (char &c : shown)
            if (c == '\n')
                c = ',';
        const std::string what = "write /proc/self/timens_offsets \"" + shown + "\"";
        UniqueFd fd(::open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC));
        if (!fd) {
            // After a uid/gid change the process is not dumpable and its /proc
            // files belong to a root that may be unmapped here.
            if (errno == EACCES && ::prctl(PR_GET_DUMPABLE) == 0)
                throw_errno(what + " (not dumpable: enter the time namespace before changing uid/gid)", EACCES);
            throw_errno(what);
        }
        ssize_t n;
        do
            n = ::write(fd.get(), text.data(), text.size());
        while (n < 0 && errno == EINTR);
        if (n < 0)
            throw_errno(what);
        if (static_cast<size_t>(n) != text.size())
            throw Error(what + ": short write");
    }

    UniqueFd ns(::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
    if (!ns)
        throw_errno("open /proc/self/ns/time_for_children");
    if (::setns(ns.get(), CLONE_NEWTIME) < 0)
        throw_errno("enter the new time namespace (setns)");
}

} // namespace crunpp::linux
