// SPDX-License-Identifier: GPL-2.0-or-later
// Logging as runc does it: text lines on stderr by default; with --log FILE
// the lines go to FILE, as JSON objects ({"level","msg","time"}) with
// --log-format json, which is what containerd's shim reads errors from.
#pragma once

#include <string>
#include <string_view>

namespace crunpp::log {

enum class Level { Debug, Info, Warning, Error };

struct Options {
    const char *path = nullptr; // nullptr: stderr
    bool json = false;
    bool debug = false;
};

// Opens the log destination (O_APPEND|O_CLOEXEC). Throws on failure.
void init(const Options &o);

void write(Level level, std::string_view msg);
inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warning, m); }
inline void error(std::string_view m) { write(Level::Error, m); }
bool debug_enabled();

// The current UTC time as RFC 3339 with nanoseconds ("2026-11-29T08:00:00.123456789Z"),
// as runc writes it in logs and state.
std::string rfc3339_now();

// The fd log lines go to (stderr unless --log), e.g. for a child to inherit.
int fd();

} // namespace crunpp::log
