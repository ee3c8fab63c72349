// SPDX-License-Identifier: GPL-2.0-or-later
// Runs a piece of a test in a forked child, so that process-wide changes
// (uid, capabilities, limits, namespaces) never touch the test process.
#pragma once

#include "crunpp/error.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>

namespace process_test {

struct ChildResult {
    int exit_code = -1; // -1: killed by a signal (or timed out)
    std::string output; // stdout and stderr together
};

// The child runs `body` with stdout and stderr on a pipe; a thrown
// crunpp::Error is printed and exits 127; returning exits 0. Bounded by
// `timeout_ms`: the child is killed after it.
inline ChildResult run_in_child(const std::function<void()> &body, int timeout_ms = 10000) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        throw crunpp::Error("pipe", errno);
    pid_t pid = fork();
    if (pid < 0)
        throw crunpp::Error("fork", errno);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        int code = 0;
        try {
            body();
        } catch (const std::exception &e) {
            std::string msg = std::string(e.what()) + "\n";
            (void)!write(2, msg.data(), msg.size());
            code = 127;
        }
        _exit(code);
    }
    close(fds[1]);
    ChildResult r;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms) {
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(timeout_ms - elapsed)) <= 0)
            continue;
        char buf[4096];
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0)
            break;
        r.output.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

// Writes a string to stdout in the child.
inline void out(const std::string &s) { (void)!write(1, s.data(), s.size()); }

// An unprivileged process, as a rootless runtime runs (dumpable, so that it
// may write its own /proc/self files).
inline void become_nobody() {
    if (setgroups(0, nullptr) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0 ||
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
        throw crunpp::Error("become nobody", errno);
}

// A new user namespace mapping only the caller's uid and gid to 0, with
// setgroups denied: what an unprivileged user gets without newuidmap.
inline void enter_single_mapping_userns() {
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER) < 0)
        throw crunpp::Error("unshare CLONE_NEWUSER", errno);
    auto write_file = [](const char *path, const std::string &s) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, s.data(), s.size()) != static_cast<ssize_t>(s.size()))
            throw crunpp::Error(std::string("write ") + path, errno);
        close(fd);
    };
    write_file("/proc/self/setgroups", "deny");
    write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
    write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
}

// The value of a "Key:\tvalue" line of /proc/PID/status output.
inline std::string status_field(const std::string &status, const std::string &key) {
    size_t pos = status.find("\n" + key + ":");
    if (pos == std::string::npos)
        return "<missing " + key + ">";
    pos += key.size() + 2;
    while (pos < status.size() && (status[pos] == '\t' || status[pos] == ' '))
        ++pos;
    return status.substr(pos, status.find('\n', pos) - pos);
}

} // namespace process_test
