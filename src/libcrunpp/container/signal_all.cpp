// SPDX-License-Identifier: GPL-2.0-or-later
#include "signal_all.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <vector>
#include <string>

#include "crunpp/error.hpp"
#include "pidfd.hpp"

namespace crunpp::container {
namespace {

bool pid_namespace_of(const std::string &proc_dir, struct stat &st) {
    return stat((proc_dir + "/ns/pid").c_str(), &st) == 0;
}

bool same_file(const struct stat &a, const struct stat &b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// Whether the process is pid 1 of its innermost pid namespace (the last
// NSpid field of /proc/PID/status).
bool is_namespace_init(pid_t pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/status";
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return false;
    char buf[4096];
    ssize_t n = read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *line = strstr(buf, "\nNSpid:");
    if (!line)
        return false;
    line += 7;
    const char *end = strchr(line, '\n');
    std::string fields(line, end ? static_cast<size_t>(end - line) : strlen(line));
    size_t last = fields.find_last_of(" \t");
    return last != std::string::npos && fields.substr(last + 1) == "1";
}

// The pid a pidfd refers to (its fdinfo "Pid:" line); -1 once it is gone.
pid_t pidfd_pid(int pidfd) {
    std::string path = "/proc/self/fdinfo/" + std::to_string(pidfd);
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return -1;
    char buf[1024];
    ssize_t n = read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *line = strstr(buf, "Pid:");
    return line ? static_cast<pid_t>(strtol(line + 4, nullptr, 10)) : -1;
}

} // namespace

void signal_all(pid_t pid, int init_pidfd, int sig) {
    std::string init_dir = "/proc/" + std::to_string(pid);
    struct stat init_ns, own_ns;
    bool own_namespace = pid_namespace_of(init_dir, init_ns) && pid_namespace_of("/proc/self", own_ns) &&
                         !same_file(init_ns, own_ns) && is_namespace_init(pid);
    if (own_namespace) {
        std::unique_ptr<DIR, int (*)(DIR *)> proc(opendir("/proc"), closedir);
        if (!proc)
            throw_errno("list /proc");
        while (struct dirent *e = readdir(proc.get())) {
            char *end;
            long other = strtol(e->d_name, &end, 10);
            if (*end != '\0' || other <= 0 || other == pid)
                continue;
            std::string dir = std::string("/proc/") + e->d_name;
            struct stat ns;
            if (!pid_namespace_of(dir, ns) || !same_file(ns, init_ns))
                continue;
            UniqueFd fd;
            try {
                fd = pidfd_open(static_cast<pid_t>(other));
            } catch (const Error &) {
                continue;
            }
            if (fd && pid_namespace_of(dir, ns) && same_file(ns, init_ns))
                send_signal(fd.get(), sig);
        }
    }
    send_signal(init_pidfd, sig);
}

void signal_cgroup(const cgroup::Paths &paths, int init_pidfd, int sig) {
    std::vector<UniqueFd> targets;
    for (pid_t p : cgroup::pids(paths)) {
        try {
            if (UniqueFd fd = pidfd_open(p))
                targets.push_back(std::move(fd));
        } catch (const Error &) {
            // Gone meanwhile.
        }
    }
    // A pid listed, then recycled before pidfd_open, would be outside the
    // cgroup now: list again and keep only what is still there.
    std::vector<pid_t> still = cgroup::pids(paths);
    for (UniqueFd &fd : targets) {
        pid_t p = pidfd_pid(fd.get());
        if (p > 0 && std::binary_search(still.begin(), still.end(), p))
            send_signal(fd.get(), sig);
    }
    if (init_pidfd >= 0)
        send_signal(init_pidfd, sig);
}

} // namespace crunpp::container
