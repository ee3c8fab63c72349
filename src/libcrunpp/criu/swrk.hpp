// SPDX-License-Identifier: GPL-2.0-or-later
// A `criu swrk 3` process and its SOCK_SEQPACKET socket, as runc talks to
// CRIU: one request, then NOTIFY messages answered until the final
// response. criu is only looked up and started by checkpoint and restore.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "crunpp/unique_fd.hpp"
#include "rpc.hpp"

namespace crunpp::criu {

// The oldest CRIU crunpp talks to: 3.0 brought the VERSION request.
inline constexpr int kMinimumVersion = 30000;

struct SpawnOptions {
    std::string binary; // empty: criu in $PATH
    // The criu process's fds 0, 1, 2 (-1: crunpp's own) and its fds from 4 on.
    int stdio[3] = {-1, -1, -1};
    std::vector<int> extra_fds;
    // A cgroup2 directory criu starts in (CLONE_INTO_CGROUP), -1: none.
    int cgroup_fd = -1;
    // Run in the child before the exec (mount namespace set-up, v1 cgroup
    // placement); throws Error, which the parent reports.
    std::function<void()> child_setup;
};

class Swrk {
public:
    // `binary` (--criu) when given, else criu in $PATH; Error naming the
    // package when missing.
    static std::string find_binary(const std::string &binary);
    // Starts `criu swrk 3`. Throws when it cannot be started.
    static Swrk spawn(const SpawnOptions &o);

    Swrk(Swrk &&) noexcept = default;
    Swrk &operator=(Swrk &&) noexcept = delete;
    ~Swrk(); // kills and reaps a criu still running

    pid_t pid() const { return pid_; }
    const std::string &binary() const { return binary_; }

    // Sends `request` and reads responses; each NOTIFY goes to on_notify
    // with the fds it carried (orphan-pts-master) and is answered with its
    // success (an Error thrown by on_notify fails the request: criu then
    // rolls back). Returns the final response (success or not).
    using NotifyHandler = std::function<void(const Response &, std::vector<UniqueFd> &)>;
    Response call(const Request &request, const NotifyHandler &on_notify = {});
    // Closes the socket and reaps criu; returns its shell-style status.
    int finish();

private:
    Swrk() = default;
    UniqueFd sock_, pidfd_;
    pid_t pid_ = 0;
    std::string binary_;
    bool reaped_ = false;
};

// criu's version by the VERSION request (`criu --version` when criu is too
// old to answer it). Throws Error naming what was found when criu is
// missing or older than `minimum` (Version::number()); `what` prefixes errors.
Version check_version(const std::string &binary, int minimum, const std::string &what);

// The lines of a CRIU log that say why it failed ("Error (...)"), at most the
// last ten, for the error message; "" when the log cannot be read.
std::string log_errors(int dir_fd, const std::string &name);

} // namespace crunpp::criu
