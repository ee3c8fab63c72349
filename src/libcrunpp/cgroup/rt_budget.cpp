// SPDX-License-Identifier: GPL-2.0-or-later
// Real-time group scheduling on cgroup v1: a cgroup's cpu.rt_runtime_us
// may not exceed what its parent has, and the children's sum may not exceed
// the parent's. A new cgroup starts with 0, so a parent made on the way
// (a cgroupsPath's intermediate levels) would refuse every container that
// asks for a budget. As runc does, the ancestors get what the child needs;
// crun's inheritance of the parent's budget (what is left of it) serves a
// real-time scheduler without an explicit budget.
#include "cgroup_internal.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <vector>

#include "crunpp/error.hpp"

namespace crunpp::cgroup::detail {
namespace {

constexpr const char *kRuntime = "cpu.rt_runtime_us";

int64_t runtime_of(const std::string &dir) {
    std::optional<std::string> v = read_file(dir, kRuntime);
    if (!v)
        return -1;
    try {
        return std::stoll(trim(*v));
    } catch (...) {
        return -1;
    }
}

std::string parent_of(const std::string &dir) { return dir.substr(0, dir.rfind('/')); }

// The ancestors of `dir` below the hierarchy's root (its mount point: the
// topmost directory on the same filesystem), nearest first.
std::vector<std::string> ancestors(const std::string &dir) {
    std::vector<std::string> out;
    struct stat self;
    if (stat(dir.c_str(), &self) < 0)
        return out;
    for (std::string p = parent_of(dir); !p.empty(); p = parent_of(p)) {
        struct stat st, up;
        std::string above = parent_of(p);
        if (stat(p.c_str(), &st) < 0 || st.st_dev != self.st_dev || above.empty() || stat(above.c_str(), &up) < 0 ||
            up.st_dev != self.st_dev)
            break; // p is the root: its budget is the kernel's to give
        out.push_back(p);
    }
    return out;
}

// The budget the children of `dir` hold, `except` aside.
int64_t children_runtime(const std::string &dir, const std::string &except) {
    int64_t sum = 0;
    DIR *d = opendir(dir.c_str());
    if (!d)
        return 0;
    while (struct dirent *e = readdir(d)) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        std::string child = dir + "/" + e->d_name;
        if (child != except)
            if (int64_t r = runtime_of(child); r > 0)
                sum += r;
    }
    closedir(d);
    return sum;
}

// The budget of a removed cgroup is released asynchronously (with its css):
// until then the kernel still counts it (EINVAL). Retried for up to ~0.5 s.
int write_budget(const std::string &dir, int64_t value) {
    int err = 0;
    for (int i = 0; i < 50; i++) {
        if ((err = try_write_file(dir, kRuntime, std::to_string(value))) != EINVAL)
            return err;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, nullptr);
    }
    return err;
}

} // namespace

void ensure_rt_budget(const std::string &dir, int64_t runtime) {
    if (runtime <= 0)
        return;
    // What each ancestor needs, nearest first: its other children's budget
    // plus what the path below it needs.
    std::vector<std::string> up = ancestors(dir);
    std::vector<int64_t> need(up.size());
    std::string below = dir;
    int64_t below_need = runtime;
    for (size_t i = 0; i < up.size(); i++) {
        int64_t have = runtime_of(up[i]);
        int64_t want = children_runtime(up[i], below) + below_need;
        need[i] = have >= want ? -1 : want;
        below = up[i];
        below_need = std::max(have, want);
    }
    // Top-down: a parent's budget must be there before its child's.
    for (size_t i = up.size(); i-- > 0;) {
        if (need[i] < 0)
            continue;
        if (int err = write_budget(up[i], need[i]); err != 0)
            throw Error("cgroup: give the parent " + up[i] + " the real-time budget " + std::to_string(need[i]) +
                            " us (" + kRuntime + ") that linux.resources.cpu.realtimeRuntime " +
                            std::to_string(runtime) + " needs",
                        err);
    }
}

void inherit_rt_budget(const std::string &dir) {
    // What the parent has left beside the siblings' budgets (crun copies
    // the parent's whole budget, which fails once a sibling holds some).
    if (runtime_of(dir) != 0)
        return;
    const std::string parent = parent_of(dir);
    // A removed sibling's budget may still count for a while: halve what is
    // asked until the kernel grants it (any budget lets the scheduler in).
    for (int64_t left = runtime_of(parent) - children_runtime(parent, dir); left >= 1000; left /= 2)
        if (try_write_file(dir, kRuntime, std::to_string(left)) != EINVAL)
            return;
}

} // namespace crunpp::cgroup::detail
