// SPDX-License-Identifier: GPL-2.0-or-later
// Operations on an existing container cgroup: resources, processes,
// freezing, removal.
#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <memory>
#include <set>

#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"

namespace crunpp::cgroup {
namespace {

void sleep_ms(long ms) {
    struct timespec ts {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, nullptr);
}

std::vector<std::string> distinct_dirs(const Paths &p) {
    std::set<std::string> seen;
    std::vector<std::string> out;
    // The unified dir first: it holds every process on v2 and hybrid.
    if (auto u = p.find(detail::kUnified); u != p.end()) {
        out.push_back(u->second);
        seen.insert(u->second);
    }
    for (const auto &[ctrl, dir] : p)
        if (seen.insert(dir).second)
            out.push_back(dir);
    return out;
}

// Processes of a cgroup and its descendants (the container may make its own).
void collect_pids(const std::string &dir, std::vector<pid_t> &out, int depth) {
    if (std::optional<std::string> procs = detail::read_file(dir, "cgroup.procs"))
        for (const std::string &line : detail::split(*procs, '\n'))
            out.push_back(static_cast<pid_t>(std::stol(line)));
    if (depth > 32)
        return;
    std::unique_ptr<DIR, int (*)(DIR *)> d(opendir(dir.c_str()), closedir);
    if (!d)
        return;
    while (struct dirent *e = readdir(d.get()))
        if (e->d_type == DT_DIR && e->d_name[0] != '.')
            collect_pids(dir + "/" + e->d_name, out, depth + 1);
}

// Sub-cgroups the container made, deepest first.
void collect_subdirs(const std::string &dir, std::vector<std::string> &out, int depth) {
    if (depth > 32)
        return;
    std::unique_ptr<DIR, int (*)(DIR *)> d(opendir(dir.c_str()), closedir);
    if (!d)
        return;
    while (struct dirent *e = readdir(d.get()))
        if (e->d_type == DT_DIR && e->d_name[0] != '.') {
            std::string sub = dir + "/" + e->d_name;
            collect_subdirs(sub, out, depth + 1);
            out.push_back(sub);
        }
}

} // namespace

void detail::kill_all_in(const std::string &dir) {
    // v2 (5.14+): one write kills the whole subtree, frozen or not.
    if (detail::try_write_file(dir, "cgroup.kill", "1") == 0)
        return;
    std::vector<pid_t> ps;
    collect_pids(dir, ps, 0);
    for (pid_t pid : ps) {
        int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
        if (fd < 0)
            continue;
        syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
        close(fd);
    }
}

namespace {

using detail::kill_all_in;

std::optional<detail::Target> freezer(const Paths &p) { return detail::find_controller(p, "freezer", ""); }

bool frozen_now(const detail::Target &t) {
    if (t.v2) {
        std::optional<std::string> ev = detail::read_file(t.dir, "cgroup.events");
        return ev && ev->find("frozen 1") != std::string::npos;
    }
    std::optional<std::string> st = detail::read_file(t.dir, "freezer.state");
    return st && detail::trim(*st) == "FROZEN";
}

bool thawed_now(const detail::Target &t) {
    if (t.v2) {
        std::optional<std::string> ev = detail::read_file(t.dir, "cgroup.events");
        return ev && ev->find("frozen 0") != std::string::npos;
    }
    std::optional<std::string> st = detail::read_file(t.dir, "freezer.state");
    return st && detail::trim(*st) == "THAWED";
}

} // namespace

namespace detail {

int remove_dirs(const std::vector<std::string> &dirs) noexcept {
    int last = 0;
    for (const std::string &dir : dirs) {
        // The common case, an empty cgroup (the container has exited): one
        // rmdir, without the thaw/kill/scan below.
        if (rmdir(dir.c_str()) == 0 || errno == ENOENT)
            continue;
        try {
            try_write_file(dir, "freezer.state", "THAWED");
            try_write_file(dir, "cgroup.freeze", "0");
            kill_all_in(dir);
            std::vector<std::string> subs;
            collect_subdirs(dir, subs, 0);
            subs.push_back(dir);
            for (const std::string &d : subs) {
                // Dying processes leave the cgroup a little after SIGKILL:
                // about 5 s in all, in growing steps.
                long wait = 5;
                int err = 0;
                for (int i = 0; i < 30; i++) {
                    if (rmdir(d.c_str()) == 0 || errno == ENOENT) {
                        err = 0;
                        break;
                    }
                    err = errno;
                    if (err != EBUSY)
                        break;
                    kill_all_in(d);
                    sleep_ms(wait);
                    wait = std::min(wait * 2, 250L);
                }
                if (err != 0)
                    last = err;
            }
        } catch (...) {
            last = EIO;
        }
    }
    return last;
}

std::vector<std::string> requested_resources(const spec::Resources &r) {
    std::vector<std::string> out;
    if (r.memory)
        out.push_back("memory");
    if (r.cpu)
        out.push_back("cpu");
    if (r.pids)
        out.push_back("pids");
    if (r.blockIO)
        out.push_back("blockIO");
    if (!r.hugepageLimits.empty())
        out.push_back("hugepageLimits");
    if (r.network)
        out.push_back("network");
    if (!r.rdma.empty())
        out.push_back("rdma");
    if (!r.unified.empty())
        out.push_back("unified");
    return out;
}

} // namespace detail

void apply(const Paths &p, const spec::Resources &given, const std::vector<spec::Device> &devices, bool rootless,
           bool update, const SystemdScope &scope) {
    spec::Resources res = without_unset(given);
    if (p.empty()) {
        std::vector<std::string> req = detail::requested_resources(res);
        if (!req.empty())
            throw Error("cgroup: linux.resources." + req.front() + " cannot be applied: the container has no cgroup");
        return;
    }
    // An update checks everything first: most errors then change nothing,
    // and the journal puts back what a refused write had left.
    if (update) {
        detail::Writer check = detail::Writer::dry_run();
        detail::apply_resources(p, res, update, check);
    }
    detail::Writer w(update);
    try {
        detail::apply_resources(p, res, update, w);
        // Device rules need real privileges; a rootless container has only
        // the host devices its user may open anyway (runc skips them too).
        if (!rootless && !res.devices.empty()) {
            std::vector<detail::DeviceRule> rules = detail::device_rules(res.devices, devices);
            if (auto it = p.find("devices"); it != p.end())
                detail::apply_devices_v1(it->second, rules);
            else if (auto u = p.find(detail::kUnified); u != p.end())
                detail::apply_devices_bpf(u->second, rules);
        }
        // Last: systemd would write the same values, and would put them back
        // from its own record later (daemon-reload) if it did not know them.
        if (update && !scope.unit.empty())
            detail::systemd_update(scope, res, devices, rootless);
    } catch (...) {
        w.rollback();
        throw;
    }
}

void remove_empty(const Paths &p) {
    for (const std::string &d : distinct_dirs(p))
        rmdir(d.c_str()); // fails on a cgroup in use: then it is not ours
}

void destroy(const Paths &p, const SystemdScope &scope) {
    std::vector<std::string> dirs = distinct_dirs(p);
    if (!scope.unit.empty()) {
        // Killed first: a scope stopped with processes in it has them sent
        // SIGTERM and waits up to its stop timeout (90 s by default).
        for (const std::string &d : dirs)
            detail::kill_all_in(d);
        detail::systemd_stop(scope);
    }
    if (int err = detail::remove_dirs(dirs); err != 0) {
        for (const std::string &d : dirs)
            if (access(d.c_str(), F_OK) == 0)
                throw Error("cgroup: remove " + d, err);
    }
}

std::vector<pid_t> pids(const Paths &p) {
    std::vector<pid_t> out;
    std::vector<std::string> dirs = distinct_dirs(p);
    if (dirs.empty())
        return out;
    // v1 without pids/freezer: any hierarchy holds every process.
    std::string dir = dirs.front();
    if (p.find(detail::kUnified) == p.end()) {
        for (const char *c : {"pids", "freezer", "memory", "cpu"})
            if (auto it = p.find(c); it != p.end()) {
                dir = it->second;
                break;
            }
    }
    collect_pids(dir, out, 0);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool is_frozen(const Paths &p) {
    std::optional<detail::Target> t = freezer(p);
    return t && frozen_now(*t);
}

void freeze(const Paths &p, bool frozen) {
    std::optional<detail::Target> t = freezer(p);
    if (!t)
        throw Error(std::string("cgroup: ") + (frozen ? "pause" : "resume") + ": the container has no freezer cgroup");
    const char *file = t->v2 ? "cgroup.freeze" : "freezer.state";
    std::string value = t->v2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
    // v1 may stay FREEZING while tasks fork: write again until it settles.
    long wait = 1;
    for (int i = 0; i < 60; i++) {
        if (i == 0 || !t->v2)
            detail::write_file(t->dir, file, value);
        if (frozen ? frozen_now(*t) : thawed_now(*t))
            return;
        sleep_ms(wait);
        wait = std::min(wait * 2, 100L);
    }
    if (frozen)
        detail::try_write_file(t->dir, file, t->v2 ? "0" : "THAWED");
    throw Error(std::string("cgroup: ") + (frozen ? "freeze " : "thaw ") + t->dir + ": timed out", ETIMEDOUT);
}

} // namespace crunpp::cgroup
