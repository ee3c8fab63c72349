// SPDX-License-Identifier: GPL-2.0-or-later
// seccomp-bench CONFIG STATE_ROOT [N]: the cost of each step of the seccomp
// setup for CONFIG's linux.seccomp, median over N (default 200) rounds, in
// microseconds, as contrib/bench-seccomp.sh prints them:
//   parse     reading linux.seccomp from config.json is part of every start
//             anyway: not counted
//   compile   libseccomp build + export (the path without a cache)
//   miss      prepare_seccomp with an empty cache (compile + atomic write)
//   hit       prepare_seccomp with the entry cached (read + verify)
//   load      seccomp(2) of the program in a forked child (fork excluded)
//   instructions  the program's length
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"
#include "src/libcrunpp/linux/seccomp/seccomp.hpp"

using namespace crunpp;

namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void remove_cache(const std::string &root) {
    std::string cmd = "rm -rf '" + root + "/seccomp-cache'";
    if (system(cmd.c_str()) != 0)
        throw Error("could not remove the cache in " + root);
}

// The child loads the filter and writes how long seccomp(2) took to a pipe.
double timed_load(const linux::SeccompFilter &f) {
    int p[2];
    if (pipe(p) < 0)
        throw_errno("pipe");
    pid_t pid = fork();
    if (pid < 0)
        throw_errno("fork");
    if (pid == 0) {
        close(p[0]);
        auto t0 = Clock::now();
        try {
            linux::load_seccomp(f, true);
        } catch (...) {
            _exit(1);
        }
        double us = us_since(t0);
        ssize_t w = write(p[1], &us, sizeof us);
        _exit(w == sizeof us ? 0 : 1);
    }
    close(p[1]);
    double us = -1;
    ssize_t r = read(p[0], &us, sizeof us);
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (r != sizeof us || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error("the filter could not be loaded in a child");
    return us;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: seccomp-bench CONFIG STATE_ROOT [N]\n");
        return 2;
    }
    try {
        int n = argc > 3 ? atoi(argv[3]) : 200;
        if (n <= 0)
            throw Error("N must be positive");
        std::string root = argv[2];
        spec::Config cfg = spec::load_config(argv[1]);
        if (!cfg.linux || !cfg.linux->seccomp)
            throw Error(std::string(argv[1]) + ": no linux.seccomp");
        const spec::Seccomp &s = *cfg.linux->seccomp;
        std::vector<double> compile, miss, hit, load;
        size_t instructions = 0;
        for (int i = 0; i < n; i++) {
            auto t0 = Clock::now();
            instructions = linux::compile_seccomp(s).size();
            compile.push_back(us_since(t0));

            remove_cache(root);
            t0 = Clock::now();
            linux::SeccompFilter f = linux::prepare_seccomp(s, root + "/seccomp-cache");
            miss.push_back(us_since(t0));
            if (f.from_cache)
                throw Error("expected a cache miss");

            t0 = Clock::now();
            linux::SeccompFilter g = linux::prepare_seccomp(s, root + "/seccomp-cache");
            hit.push_back(us_since(t0));
            if (!g.from_cache)
                throw Error("expected a cache hit");
            load.push_back(timed_load(g));
        }
        remove_cache(root);
        printf("rules %zu, instructions %zu, rounds %d (median us)\n", s.syscalls.size(), instructions, n);
        printf("compile %.1f\nmiss %.1f\nhit %.1f\nload %.1f\n", median(compile), median(miss), median(hit),
               median(load));
    } catch (const Error &e) {
        fprintf(stderr, "seccomp-bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
