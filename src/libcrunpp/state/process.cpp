// SPDX-License-Identifier: GPL-2.0-or-later
// Is the recorded init still the same process? A pid alone is not enough:
// pids are recycled, so the start time (in clock ticks since boot, field 22
// of /proc/PID/stat) recorded at create must match too.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <string>

#include "crunpp/error.hpp"
#include "crunpp/state.hpp"
#include "crunpp/unique_fd.hpp"
#include "proc_stat.hpp"

namespace crunpp::state {

std::optional<detail::ProcStat> detail::parse_proc_stat(std::string_view line) {
    // Field 2 (comm) is in parentheses and may itself contain spaces and
    // ')': the fields we want follow the LAST ')'.
    size_t close = line.rfind(')');
    if (close == std::string_view::npos)
        return std::nullopt;
    line.remove_prefix(close + 1);
    // Fields 3.. are single-space separated; field 3 is the state, 22 the start time.
    ProcStat ps{};
    for (int field = 3; field <= 22; field++) {
        while (!line.empty() && line.front() == ' ')
            line.remove_prefix(1);
        size_t end = line.find(' ');
        std::string_view tok = line.substr(0, end);
        if (tok.empty())
            return std::nullopt;
        if (field == 3)
            ps.state = tok[0];
        if (field == 22) {
            auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), ps.start_time);
            if (ec != std::errc() || p != tok.data() + tok.size())
                return std::nullopt;
        }
        line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    return ps;
}

namespace {

using detail::ProcStat;

// nullopt when the process does not exist (or /proc says nothing usable).
std::optional<ProcStat> read_proc_stat(pid_t pid) {
    if (pid <= 0)
        return std::nullopt;
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ESRCH)
            return std::nullopt;
        throw_errno("read " + path);
    }
    char buf[4096];
    size_t len = 0;
    while (len < sizeof buf) {
        ssize_t r = ::read(fd.get(), buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (errno == ESRCH) // exited between open and read
                return std::nullopt;
            throw_errno("read " + path);
        }
        if (r == 0)
            break;
        len += static_cast<size_t>(r);
    }
    return detail::parse_proc_stat(std::string_view(buf, len));
}

} // namespace

uint64_t process_start_time(pid_t pid) {
    auto ps = read_proc_stat(pid);
    return ps ? ps->start_time : 0;
}

bool process_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0 || start_time == 0)
        return false;
    auto ps = read_proc_stat(pid);
    // A zombie ('Z') or dead ('X') init has exited; only its reaping is pending.
    return ps && ps->start_time == start_time && ps->state != 'Z' && ps->state != 'X';
}

Status effective_status(const ContainerState &s) {
    switch (s.status) {
    case Status::Created:
    case Status::Running:
    case Status::Paused: return process_alive(s.pid, s.pid_start_time) ? s.status : Status::Stopped;
    case Status::Creating:
    case Status::Stopped: break;
    }
    return s.status;
}

} // namespace crunpp::state
