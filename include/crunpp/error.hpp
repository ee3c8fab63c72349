// SPDX-License-Identifier: GPL-2.0-or-later
// The one error type of crunpp: a message with its context and, when a
// syscall failed, the errno. Thrown anywhere, caught at main and at the top of
// every forked child (which reports it over its sync socket).
#pragma once

#include <string>
#include <string_view>
#include <exception>

namespace crunpp {

class Error : public std::exception {
public:
    // `what` says what was being done, `err` is the errno (0 when none).
    explicit Error(std::string what, int err = 0);

    const char *what() const noexcept override { return full_.c_str(); }
    // The context without the errno text, e.g. "mount /proc".
    const std::string &context() const noexcept { return what_; }
    int errnum() const noexcept { return errno_; }

    // Prefix more context: Error("open x").wrap("load config") says
    // "load config: open x: <strerror>".
    Error &wrap(std::string_view outer);

private:
    void compose();
    std::string what_;
    int errno_;
    std::string full_;
};

// Throws Error(what, errno) using the current errno.
[[noreturn]] void throw_errno(std::string what);
// Same with an explicit errno value.
[[noreturn]] void throw_errno(std::string what, int err);

// Config errors name a JSON path: "config.json: .linux.namespaces[3].type: unknown ...".
class ConfigError : public Error {
public:
    ConfigError(std::string path, std::string problem)
        : Error(path.empty() ? problem : path + ": " + problem), path_(std::move(path)) {}
    const std::string &json_path() const noexcept { return path_; }

private:
    std::string path_;
};

} // namespace crunpp
