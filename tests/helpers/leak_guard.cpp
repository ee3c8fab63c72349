// SPDX-License-Identifier: GPL-2.0-or-later
// leak-guard CMD [ARGS...]: runs CMD as a child subreaper, so that every
// process CMD leaves behind (a container init reparented after `create`, a
// daemonized helper) becomes our child instead of init's. When CMD exits,
// what is still alive after a short grace period is reported on stderr as
// "leak-guard: leaked process PID: CMDLINE", killed and reaped. Exit status:
// CMD's (128+N when killed by signal N), or 1 when CMD succeeded but leaked.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "crunpp/unique_fd.hpp"

namespace {

constexpr int kGraceMilliseconds = 3000;
constexpr int kKillRounds = 50;

std::string read_file(const std::string &path) {
    std::string s;
    crunpp::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return s;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            s.append(buf, static_cast<size_t>(n));
    return s;
}

// Our live children: the kernel lists them per thread; we have one thread.
std::vector<pid_t> children() {
    std::vector<pid_t> pids;
    std::string self = std::to_string(getpid());
    std::string list = read_file("/proc/" + self + "/task/" + self + "/children");
    size_t pos = 0;
    while (pos < list.size()) {
        size_t end = list.find(' ', pos);
        if (end == std::string::npos)
            end = list.size();
        if (end > pos)
            pids.push_back(static_cast<pid_t>(std::stol(list.substr(pos, end - pos))));
        pos = end + 1;
    }
    return pids;
}

// Reaps every child that has exited, without blocking.
void reap_exited() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

std::string cmdline(pid_t pid) {
    std::string s = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    for (char &c : s)
        if (c == '\0')
            c = ' ';
    while (!s.empty() && s.back() == ' ')
        s.pop_back();
    return s.size() > 200 ? s.substr(0, 200) : s;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: leak-guard CMD [ARGS...]\n", stderr);
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        fprintf(stderr, "leak-guard: prctl(PR_SET_CHILD_SUBREAPER): %s\n", strerror(errno));
        return 2;
    }
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "leak-guard: fork: %s\n", strerror(errno));
        return 2;
    }
    if (child == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "leak-guard: exec %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }

    // Reap everything until CMD itself exits: orphans that end while CMD runs
    // are not leaks.
    int status = 0;
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0 && errno == EINTR)
            continue;
        if (p < 0) {
            fprintf(stderr, "leak-guard: waitpid: %s\n", strerror(errno));
            return 2;
        }
        if (p == child) {
            status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
    }

    // Processes still on their way out get a moment.
    for (int waited = 0; waited < kGraceMilliseconds; waited += 100) {
        reap_exited();
        if (children().empty())
            break;
        sleep_ms(100);
    }

    int leaked = 0;
    for (int round = 0; round < kKillRounds; round++) {
        reap_exited();
        std::vector<pid_t> left = children();
        if (left.empty())
            break;
        for (pid_t p : left) {
            fprintf(stderr, "leak-guard: leaked process %d: %s\n", static_cast<int>(p), cmdline(p).c_str());
            kill(p, SIGKILL);
            leaked++;
        }
        // The killed ones' own children are reparented to us: next round.
        for (pid_t p : left)
            while (waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
            }
    }
    if (status == 0 && leaked > 0)
        status = 1;
    return status;
}
