// SPDX-License-Identifier: GPL-2.0-or-later
// Creating the container's cgroup: resolve the path per hierarchy, make the
// directories (enabling controllers on the way down on v2), write the limits.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

namespace crunpp::cgroup {
namespace {

using detail::Hierarchy;

// The highest cgroup at or above `own` (v2) that this user owns: the subtree
// delegated to it (systemd's user@.service, or a chown by the admin). Empty
// when the user owns not even its own cgroup.
std::string delegated_base(const Hierarchy &h) {
    std::string own = detail::own_path(h);
    std::string base;
    for (std::string p = own;;) {
        struct stat st;
        std::string dir = h.mountpoint + (p == "/" ? "" : p);
        if (stat(dir.c_str(), &st) < 0 || st.st_uid != geteuid() || access((dir + "/cgroup.procs").c_str(), W_OK) < 0)
            break;
        base = p;
        if (p == "/")
            break;
        size_t slash = p.rfind('/');
        p = slash == 0 ? "/" : p.substr(0, slash);
    }
    return base;
}

std::string join(const std::string &a, const std::string &b) {
    if (a.empty() || a == "/")
        return b[0] == '/' ? b : "/" + b;
    return a + (b[0] == '/' ? "" : "/") + b;
}

// The container's path in hierarchy h. Without a cgroupsPath, /<id> (below
// the delegated subtree rootless), as runc and crun place it: no shared
// parent to make, copy the cpuset into, and remove with the last container.
std::string path_in(const Hierarchy &h, const Request &r, const std::string &rootless_base) {
    const std::string &cp = r.cgroups_path;
    if (!cp.empty() && cp[0] == '/')
        return cp;
    std::string parent =
        r.rootless ? rootless_base : (cp.empty() ? "/" : relative_cgroup_parent(detail::own_path(h), h.v2));
    return join(parent, cp.empty() ? r.id : cp);
}

} // namespace

std::string relative_cgroup_parent(const std::string &own, bool v2) {
    constexpr std::string_view kScope = ".scope";
    if (!v2 || own.size() <= kScope.size() || own.compare(own.size() - kScope.size(), kScope.size(), kScope) != 0)
        return own;
    size_t slash = own.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : own.substr(0, slash);
}

namespace {

void check_path(const std::string &p) {
    for (const std::string &part : detail::split(p, '/'))
        if (part == "." || part == "..")
            throw Error("cgroupsPath \"" + p + "\": no \".\" or \"..\" components");
}

// v1 cpuset: a new cgroup has empty cpus/mems and takes no task until they
// are set; copy them from the parent. A cgroup made just now (`fresh`) is
// not read first: it is empty, or has the parent's values already (the
// parent's cgroup.clone_children), which the copy writes again.
void init_cpuset(const std::string &dir, bool fresh) {
    std::string parent = dir.substr(0, dir.rfind('/'));
    for (const char *f : {"cpuset.cpus", "cpuset.mems"}) {
        if (!fresh) {
            std::optional<std::string> v = detail::read_file(dir, f);
            if (v && !detail::trim(*v).empty())
                continue;
        }
        std::optional<std::string> pv = detail::read_file(parent, f);
        if (pv)
            detail::write_file(dir, f, detail::trim(*pv));
    }
}

// v2: every controller the parent has, enabled for its children (best
// effort; a resource needing a missing controller is then reported by name).
// A cgroup holding processes is left alone: the kernel refuses domain
// controllers there ("no internal processes") but accepts threaded ones (cpu,
// pids, cpuset) one by one, which would make it a thread root and every new
// child an invalid domain (clone3 into it: EOPNOTSUPP).
void enable_controllers(const std::string &parent) {
    std::optional<std::string> avail = detail::read_file(parent, "cgroup.controllers");
    if (!avail)
        return;
    std::optional<std::string> procs = detail::read_file(parent, "cgroup.procs");
    if (procs && !detail::trim(*procs).empty())
        return;
    std::optional<std::string> on = detail::read_file(parent, "cgroup.subtree_control");
    std::set<std::string> enabled;
    if (on)
        for (const std::string &c : detail::split(detail::trim(*on), ' '))
            enabled.insert(c);
    std::vector<std::string> missing;
    std::string all;
    for (const std::string &c : detail::split(detail::trim(*avail), ' '))
        if (!enabled.count(c)) {
            missing.push_back(c);
            all += (all.empty() ? "+" : " +") + c;
        }
    if (missing.empty() || detail::try_write_file(parent, "cgroup.subtree_control", all) == 0)
        return;
    for (const std::string &c : missing)
        detail::try_write_file(parent, "cgroup.subtree_control", "+" + c);
}

// Each restart needs another remover to empty and drop the parent again.
constexpr int kMaxParentRestarts = 64;

// mkdir -p below `mountpoint`, recording what was made. Containers whose
// cgroupsPaths share a parent: a create that fails removes the parents it
// made once they are empty (Setup), as may a tool or an admin, between
// another create's mkdir of the parent and its mkdir below it or its write
// of the parent's cpuset; the walk then starts again from the top.
void make_dirs(const Hierarchy &h, const std::string &path, std::vector<std::string> &created, bool realtime) {
    std::vector<std::string> parts = detail::split(path, '/');
    for (int restarts = 0;; restarts++) {
        std::string dir = h.mountpoint;
        try {
            for (size_t i = 0; i < parts.size(); i++) {
                if (h.v2)
                    enable_controllers(dir);
                dir += "/" + parts[i];
                const bool fresh = mkdir(dir.c_str(), 0755) == 0;
                if (fresh)
                    created.push_back(dir);
                else if (errno != EEXIST)
                    throw_errno("cgroup: mkdir " + dir);
                if (!h.v2)
                    for (const std::string &c : h.controllers) {
                        if (c == "cpuset")
                            init_cpuset(dir, fresh);
                        if (c == "cpu" && realtime)
                            detail::inherit_rt_budget(dir);
                    }
            }
            return;
        } catch (const Error &e) {
            // Gone under us: the parent of the one we make (ENOENT), the
            // directory we write into (ENOENT at the open, ENODEV at the
            // write). A persistent error is reported all the same, after the
            // bounded restarts.
            if ((e.errnum() != ENOENT && e.errnum() != ENODEV) || restarts >= kMaxParentRestarts)
                throw;
        }
    }
}

bool wants_cgroup_warning(const Request &r) { return !r.cgroups_path.empty() || !r.manager.empty(); }

} // namespace

Setup &Setup::operator=(Setup &&o) noexcept {
    if (this != &o) {
        this->~Setup();
        new (this) Setup(std::move(o));
    }
    return *this;
}

Setup::~Setup() {
    if (committed_)
        return;
    // A unit started for a create that failed: its processes are gone
    // (killed by the caller); systemd removes its cgroup.
    stop_unit();
    if (created_.empty())
        return;
    // Only what this create made: a cgroup that existed before is not ours.
    // The container's own cgroups are emptied and removed; a parent made on
    // the way only if it is empty, as another container may be in it by now
    // (emptying it would kill that one's processes).
    std::set<std::string> own;
    for (const auto &[controller, dir] : paths_)
        own.insert(dir);
    std::vector<std::string> leaves, parents;
    for (auto it = created_.rbegin(); it != created_.rend(); ++it)
        (own.count(*it) ? leaves : parents).push_back(*it);
    detail::remove_dirs(leaves);
    for (const std::string &dir : parents)
        rmdir(dir.c_str());
}

std::vector<UniqueFd> open_v1_tasks(const Paths &p) {
    std::set<std::string> dirs;
    for (const auto &[controller, dir] : p)
        if (controller != detail::kUnified)
            dirs.insert(dir);
    std::vector<UniqueFd> fds;
    for (const std::string &dir : dirs) {
        std::string file = dir + "/tasks";
        int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            throw_errno("cgroup: open " + file);
        fds.emplace_back(fd);
    }
    return fds;
}

void enter_v1(std::vector<int> &tasks_fds) {
    for (int &fd : tasks_fds) {
        ssize_t w;
        do
            w = write(fd, "0", 1);
        while (w < 0 && errno == EINTR);
        int saved = errno;
        close(fd);
        fd = -1;
        if (w != 1)
            throw_errno("cgroup: join the container's v1 cgroups", saved);
    }
}

Setup create(const Request &r) {
    Setup s;
    if (r.manager == "disabled")
        return s;
    if (r.systemd || r.manager == "systemd")
        return create_systemd(r);
    if (!r.manager.empty() && r.manager != "cgroupfs")
        throw Error("unknown cgroup manager \"" + r.manager + "\" (cgroupfs, systemd or disabled)");
    check_path(r.cgroups_path);

    Mode mode = detect_mode();
    std::vector<Hierarchy> hs = detail::hierarchies(mode);
    std::string base;
    if (r.rootless) {
        for (const Hierarchy &h : hs)
            if (h.v2 && mode == Mode::V2)
                base = delegated_base(h);
        if (base.empty()) {
            std::string why = mode == Mode::V2 ? "the caller's cgroup is not delegated to it"
                                               : std::string("the host's cgroup hierarchy is ") + mode_name(mode);
            if (r.resources) {
                std::vector<std::string> req = detail::requested_resources(without_unset(*r.resources));
                if (!req.empty())
                    throw Error("cgroup: linux.resources." + req.front() + " cannot be applied: rootless without a cgroup (" +
                                why + ")");
            }
            std::string msg = "cgroup: running without a cgroup: rootless and " + why;
            if (wants_cgroup_warning(r))
                log::warn(msg);
            else
                log::debug(msg);
            return s;
        }
    }

    // Where it goes, told before anything is made: a runtime killed while
    // making it leaves a note of what to remove (Request::planned).
    std::vector<std::pair<const Hierarchy *, std::string>> where;
    for (const Hierarchy &h : hs) {
        if (r.rootless && !h.v2)
            continue;
        where.emplace_back(&h, path_in(h, r, base));
    }
    if (r.planned && !where.empty()) {
        Paths planned;
        for (const auto &[h, path] : where) {
            if (h->v2)
                planned[detail::kUnified] = h->mountpoint + path;
            for (const std::string &c : h->controllers)
                planned[c] = h->mountpoint + path;
        }
        r.planned(planned);
    }
    for (const auto &[hp, path] : where) {
        const Hierarchy &h = *hp;
        size_t made = s.created_.size();
        make_dirs(h, path, s.created_, r.realtime_scheduler);
        std::string dir = h.mountpoint + path;
        // Another container's cgroup (same id under another --root, or the
        // same cgroupsPath): joining it would mix them and our delete would
        // kill its processes.
        if (s.created_.size() == made || s.created_.back() != dir) {
            std::optional<std::string> procs = detail::read_file(dir, "cgroup.procs");
            if (procs && !detail::trim(*procs).empty())
                throw Error("cgroup: " + dir + " is in use by other processes (another container with this id or cgroupsPath?)");
        }
        if (h.v2) {
            s.paths_[detail::kUnified] = dir;
        } else {
            for (const std::string &c : h.controllers)
                s.paths_[c] = dir;
        }
    }
    if (auto it = s.paths_.find(detail::kUnified); it != s.paths_.end()) {
        int fd = open(it->second.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            throw_errno("cgroup: open " + it->second);
        s.unified_fd_.reset(fd);
    }
    static const spec::Resources kNone;
    apply(s.paths_, r.resources ? *r.resources : kNone, r.devices, r.rootless, false);
    return s;
}

} // namespace crunpp::cgroup
