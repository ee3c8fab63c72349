// SPDX-License-Identifier: GPL-2.0-or-later
// `checkpoint`: the container's process tree dumped by CRIU (criu swrk),
// described as runc describes it, then removed unless it keeps running.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "../criu/swrk.hpp"
#include "../linux/mount/safe_path.hpp"
#include "../util/paths.hpp"
#include "criu_common.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "crunpp/state.hpp"
#include "hooks_flow.hpp"
#include "kept_config.hpp"

namespace crunpp::container {
namespace {

// The init's fds 0-2 as /proc shows them ("pipe:[123]", "/dev/pts/0"), as
// a JSON array: restore hands pipes back by these names (runc's file).
void write_descriptors(int image_fd, pid_t pid) {
    json::Writer w;
    w.begin_array();
    for (int fd = 0; fd < 3; fd++) {
        std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
        char buf[PATH_MAX];
        ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
        w.string(n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/dev/null"));
    }
    w.end_array();
    int fd = openat(image_fd, kCriuDescriptors, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw_errno(std::string("checkpoint: write ") + kCriuDescriptors);
    UniqueFd f(fd);
    const std::string_view text = w.str();
    if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw_errno(std::string("checkpoint: write ") + kCriuDescriptors);
}

// The mounts CRIU cannot dump itself: binds from the host, the devices and
// the /dev/null on masked files, named by their mount point (restore maps
// the names to host paths again).
void describe_external_mounts(criu::Opts &opts, const spec::Config &cfg, pid_t pid) {
    for (const spec::Mount &m : cfg.mounts)
        if (is_bind_mount(m))
            opts.ext_mnt.emplace_back(criu_mount_point(m.destination), criu_mount_point(m.destination));
    for (const std::string &d : device_paths(cfg))
        opts.ext_mnt.emplace_back(d, d);
    if (cfg.linux) {
        const std::string root = "/proc/" + std::to_string(pid) + "/root";
        for (const std::string &p : cfg.linux->maskedPaths) {
            struct stat st;
            // Directories are masked with a tmpfs, which CRIU dumps.
            if (stat((root + criu_mount_point(p)).c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
                opts.ext_mnt.emplace_back(criu_mount_point(p), "/dev/null");
        }
    }
}

// Joined network and pid namespaces stay outside the dump: CRIU names them
// by inode (runc's keys), and restore is given them again.
void describe_external_namespaces(criu::Opts &opts, const spec::Config &cfg) {
    if (!cfg.linux)
        return;
    for (auto [type, name, key] : {std::tuple{spec::NamespaceType::Network, "net", "extRootNetNS"},
                                   std::tuple{spec::NamespaceType::Pid, "pid", "extRootPidNS"}}) {
        const spec::Namespace *ns = cfg.linux->find_namespace(type);
        if (!ns || !ns->path)
            continue;
        struct stat st;
        if (stat(ns->path->c_str(), &st) < 0)
            throw_errno("checkpoint: namespace \"" + *ns->path + "\"");
        opts.external.push_back(std::string(name) + "[" + std::to_string(st.st_ino) + "]:" + key);
    }
}

// The cgroup CRIU freezes the tree with (instead of ptrace-stopping it).
std::string freezer_of(const cgroup::Paths &p) {
    if (auto it = p.find("freezer"); it != p.end())
        return it->second;
    if (auto it = p.find("unified"); it != p.end() && cgroup::detect_mode() == cgroup::Mode::V2)
        return it->second;
    return "";
}

// --status-fd: open and writable, checked before CRIU is asked anything
// (runc's checks); only lazy pages have a moment to report.
void check_status_fd(const CheckpointOptions &o) {
    if (o.status_fd < 0)
        return;
    const std::string what = "checkpoint: --status-fd " + std::to_string(o.status_fd);
    if (!o.criu.lazy_pages)
        throw Error(what + ": only with --lazy-pages (it tells when the lazy pages can be fetched)");
    int flags = fcntl(o.status_fd, F_GETFL);
    if (flags < 0)
        throw_errno(what);
    if ((flags & O_ACCMODE) == O_RDONLY)
        throw Error(what + ": not open for writing");
}

} // namespace

void checkpoint(const Context &ctx, const CheckpointOptions &o) {
    const std::string what = "checkpoint";
    state::check_id(o.id);
    if (ctx.rootless)
        throw Error("checkpoint: CRIU needs root: a rootless container cannot be checkpointed");
    state::Store store(ctx.state_root);
    state::Container c = store.open(o.id);
    const state::ContainerState st = c.state();
    state::Status status = state::effective_status(st);
    if (status != state::Status::Running && status != state::Status::Paused)
        throw Error("cannot checkpoint container " + o.id + ": it is " + state::status_name(status) +
                    ", not running");
    const spec::Config cfg = kept_config(c.dir(), st);
    if (!o.parent_path.empty() && o.parent_path[0] == '/')
        throw Error("checkpoint: --parent-path \"" + o.parent_path + "\": must be relative to the image path");
    if (!o.page_server.empty() && o.page_server.rfind(':') == std::string::npos)
        throw Error("checkpoint: --page-server \"" + o.page_server + "\": not ADDRESS:PORT");
    check_status_fd(o);
    int status_fd = o.status_fd;

    const criu::Version version = criu::check_version(ctx.criu_path, criu::kMinimumVersion, what);
    // CRIU tells a swrk client that its lazy page server is ready with the
    // "status-ready" notification since 3.15; older ones only write to a
    // descriptor of their own.
    if (status_fd >= 0 && version.number() < 31500)
        throw Error("checkpoint: --status-fd needs CRIU 3.15 or newer, criu is " + version.text());
    if (o.pre_dump || o.criu.lazy_pages) {
        criu::SpawnOptions so;
        so.binary = ctx.criu_path;
        criu::Swrk s = criu::Swrk::spawn(so);
        criu::Request r;
        r.type = criu::ReqType::FeatureCheck;
        r.feature_mem_track = o.pre_dump;
        r.feature_lazy_pages = o.criu.lazy_pages;
        criu::Response resp = s.call(r);
        s.finish();
        if (o.pre_dump && !resp.feature_mem_track)
            throw Error("checkpoint: --pre-dump: CRIU reports no memory tracking (soft-dirty bits) on this kernel");
        if (o.criu.lazy_pages && !resp.feature_lazy_pages)
            throw Error("checkpoint: --lazy-pages: CRIU reports no lazy pages (userfaultfd) on this kernel");
    }

    const std::string image_path = util::absolute_path(o.criu.image_path.empty() ? "checkpoint" : o.criu.image_path);
    bool image_created = false, work_created = false;
    UniqueFd image_fd = open_or_make_dir(image_path, image_created, what);
    std::string work_path;
    UniqueFd work_fd;
    try {
        if (!o.criu.work_path.empty()) {
            work_path = util::absolute_path(o.criu.work_path);
            work_fd = open_or_make_dir(work_path, work_created, what);
        }
        if (!o.parent_path.empty()) {
            struct stat sb;
            if (fstatat(image_fd.get(), o.parent_path.c_str(), &sb, 0) < 0 || !S_ISDIR(sb.st_mode))
                throw Error("checkpoint: --parent-path \"" + o.parent_path + "\": no such directory in \"" +
                            image_path + "\"");
        }

        criu::Opts opts;
        set_common_criu_opts(opts, o.criu, cfg, what);
        opts.images_dir_fd = image_fd.get();
        opts.work_dir_fd = work_fd ? work_fd.get() : -1;
        opts.log_file = o.pre_dump ? "pre-dump.log" : "dump.log";
        opts.root = st.rootfs;
        opts.pid = st.pid;
        opts.leave_running = o.leave_running || o.pre_dump;
        if (!o.parent_path.empty()) {
            opts.parent_img = o.parent_path;
            opts.track_mem = true;
        }
        if (o.pre_dump)
            opts.track_mem = true;
        if (!o.page_server.empty()) {
            size_t colon = o.page_server.rfind(':');
            opts.page_server_address = o.page_server.substr(0, colon);
            try {
                opts.page_server_port = std::stoi(o.page_server.substr(colon + 1));
            } catch (const std::exception &) {
                throw Error("checkpoint: --page-server \"" + o.page_server + "\": not ADDRESS:PORT");
            }
        }
        opts.freeze_cgroup = freezer_of(st.cgroup_paths);
        describe_external_namespaces(opts, cfg);
        if (!o.pre_dump) {
            describe_external_mounts(opts, cfg, st.pid);
            write_descriptors(image_fd.get(), st.pid);
        }

        criu::Request req;
        req.type = o.pre_dump ? criu::ReqType::PreDump : criu::ReqType::Dump;
        req.opts = &opts;
        criu::SpawnOptions so;
        so.binary = ctx.criu_path;
        criu::Swrk s = criu::Swrk::spawn(so);
        criu::Response resp = s.call(req, [&status_fd](const criu::Response &n, std::vector<UniqueFd> &) {
            if (n.notify_script == "status-ready")
                report_status_ready(status_fd);
            // post-dump, network-lock/unlock: crunpp configures no network
            // of the host, so there is nothing to lock.
        });
        // A pre-dump's criu waits for more requests: closing the socket ends it.
        int criu_status = s.finish();
        // The log stays where the directory was not made by this checkpoint.
        const bool log_kept = work_path.empty() ? !image_created : !work_created;
        const std::string log_path =
            log_kept ? (work_path.empty() ? image_path : work_path) + "/" + opts.log_file : "";
        if (!resp.success)
            throw criu_failure(what, resp, work_fd ? work_fd.get() : image_fd.get(), opts.log_file, log_path);
        if (criu_status != 0 && !o.pre_dump)
            throw Error("checkpoint: criu exited with status " + std::to_string(criu_status) +
                        (log_path.empty() ? "" : "\nlog file: " + log_path));
    } catch (...) {
        // Nothing of a failed checkpoint stays: what it created is removed
        // (the error has the log's lines), the container runs on.
        work_fd.reset();
        image_fd.reset();
        if (work_created)
            remove_tree(work_path);
        if (image_created)
            remove_tree(image_path);
        else
            unlinkat(AT_FDCWD, (image_path + "/" + kCriuDescriptors).c_str(), 0);
        throw;
    }
    if (o.leave_running || o.pre_dump)
        return;
    // CRIU killed the tree: the container is deleted, as runc does.
    cgroup::destroy(c.state().cgroup_paths, cgroup::systemd_scope(c.state().extra));
    run_poststop(c);
    c.remove();
}

} // namespace crunpp::container
