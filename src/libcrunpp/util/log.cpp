// SPDX-License-Identifier: GPL-2.0-or-later
#include "crunpp/log.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>

#include "crunpp/error.hpp"

namespace crunpp::log {
namespace {

int g_fd = STDERR_FILENO;
bool g_json = false;
bool g_debug = false;

const char *level_name(Level l) {
    switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warning: return "warning";
    case Level::Error: return "error";
    }
    return "error";
}

void append_json_string(std::string &out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}


void write_all(int fd, const std::string &s) {
    const char *p = s.data();
    size_t left = s.size();
    while (left > 0) {
        ssize_t w = ::write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; // logging must never fail the operation
        p += w;
        left -= static_cast<size_t>(w);
    }
}

} // namespace

std::string rfc3339_now() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    // By hand: gmtime_r and strftime load the local time zone (/etc/localtime)
    // on first use, which this UTC time does not need.
    using namespace std::chrono;
    const sys_seconds t{seconds{ts.tv_sec}};
    const sys_days day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{t - day};
    // Room for the widest values g++ assumes (95 bytes), so that -Os's
    // -Wformat-truncation holds.
    char buf[96];
    snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%09ldZ", static_cast<int>(ymd.year()),
             static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
             static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
             static_cast<long>(hms.seconds().count()), ts.tv_nsec);
    return buf;
}

void init(const Options &o) {
    g_json = o.json;
    g_debug = o.debug;
    if (o.path && *o.path) {
        int fd = ::open(o.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            throw_errno(std::string("open log file ") + o.path);
        g_fd = fd;
    }
}

bool debug_enabled() { return g_debug; }
int fd() { return g_fd; }

void write(Level level, std::string_view msg) {
    if (level == Level::Debug && !g_debug)
        return;
    std::string line;
    if (g_json) {
        line = "{\"level\":\"";
        line += level_name(level);
        line += "\",\"msg\":";
        append_json_string(line, msg);
        line += ",\"time\":\"";
        line += rfc3339_now();
        line += "\"}\n";
    } else {
        line = "crunpp: ";
        if (level == Level::Warning)
            line += "warning: ";
        else if (level == Level::Debug)
            line += "debug: ";
        line += msg;
        line += '\n';
    }
    write_all(g_fd, line);
}

} // namespace crunpp::log
