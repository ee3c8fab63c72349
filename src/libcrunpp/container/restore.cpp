// SPDX-License-Identifier: GPL-2.0-or-later
// `restore`: a checkpoint brought back by CRIU (criu swrk) as a container
// of the bundle, with the state, cgroup and hooks create gives one.
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>

#include "../criu/swrk.hpp"
#include "../hooks/hooks.hpp"
#include "../linux/mount/safe_path.hpp"
#include "../util/paths.hpp"
#include "criu_common.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/container.hpp"
#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "crunpp/state.hpp"
#include "foreground.hpp"
#include "hooks_flow.hpp"
#include "kept_config.hpp"
#include "launch.hpp"
#include "pid_file.hpp"
#include "pidfd.hpp"
#include "terminal.hpp"

namespace crunpp::container {
namespace {

constexpr const char *kCriuRoot = "criu-root";
constexpr const char *kCriuWork = "criu.work";
constexpr const char *kRestoreLog = "restore.log";

bool below(const std::string &path, const std::string &dir) {
    return dir != "/" && path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

std::string bind_source(const spec::Mount &m, const std::string &bundle) {
    const std::string src = m.source.value_or("");
    return !src.empty() && src[0] == '/' ? src : bundle + "/" + src;
}

// CRIU's root: the rootfs bound on criu-root (CRIU wants a mount point
// whose parent is not overmounted), and the mount points of the config made
// in the rootfs as create made them (binds mounted meanwhile, so that nested
// mount points are made inside them). Done in restore's own mount namespace
// (private_mount_namespace), so nothing of it reaches the host's.
void prepare_criu_root(const Loaded &l, const std::string &criu_root) {
    if (mount(l.rootfs.c_str(), criu_root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        throw_errno("restore: bind the rootfs on \"" + criu_root + "\"");
    int fd = open(l.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throw_errno("restore: open the rootfs \"" + l.rootfs + "\"");
    UniqueFd root(fd);
    std::vector<std::string> filesystems; // mounts whose content CRIU restores or the kernel provides
    for (const spec::Mount &m : l.config.mounts)
        if (!is_bind_mount(m))
            filesystems.push_back(criu_mount_point(m.destination));
    for (const spec::Mount &m : l.config.mounts) {
        const std::string dest = criu_mount_point(m.destination);
        bool skip = false;
        for (const std::string &fs : filesystems)
            skip = skip || below(dest, fs);
        if (skip || dest == "/")
            continue;
        bool directory = true;
        std::string source;
        if (is_bind_mount(m)) {
            source = bind_source(m, l.bundle);
            struct stat st;
            if (stat(source.c_str(), &st) < 0)
                throw_errno("restore: bind source \"" + source + "\"");
            directory = S_ISDIR(st.st_mode);
        }
        UniqueFd target = linux::ensure_in_root(root.get(), linux::clean_relative_path(m.destination), directory);
        if (!source.empty()) {
            std::string proc = "/proc/self/fd/" + std::to_string(target.get());
            if (mount(source.c_str(), proc.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
                throw_errno("restore: bind \"" + source + "\" on \"" + dest + "\"");
        }
    }
}

// restore runs in a mount namespace of its own, a slave of the host's:
// criu-root and the binds above vanish with it, whatever happens. CRIU
// must share it: it opens the image and work directories through
// /proc/<crunpp>/fd and mounts below them.
void private_mount_namespace() {
    if (unshare(CLONE_NEWNS) < 0)
        throw_errno("restore: unshare the mount namespace");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0)
        throw_errno("restore: make the mounts slaves of the host's");
}

// CRIU's names of the config's external mounts, mapped to host paths.
void describe_external_mounts(criu::Opts &opts, const Loaded &l) {
    for (const spec::Mount &m : l.config.mounts)
        if (is_bind_mount(m))
            opts.ext_mnt.emplace_back(criu_mount_point(m.destination), bind_source(m, l.bundle));
    for (const std::string &d : device_paths(l.config))
        opts.ext_mnt.emplace_back(d, d);
    if (l.config.linux && !l.config.linux->maskedPaths.empty())
        opts.ext_mnt.emplace_back("/dev/null", "/dev/null");
}

// Joined namespaces: net and pid by the fd of the path (the key the dump
// named them by), the others joined by CRIU itself.
void describe_namespaces(criu::Opts &opts, const spec::Config &cfg, std::vector<UniqueFd> &fds) {
    if (!cfg.linux)
        return;
    for (const spec::Namespace &ns : cfg.linux->namespaces) {
        if (!ns.path)
            continue;
        switch (ns.type) {
        case spec::NamespaceType::Network:
        case spec::NamespaceType::Pid: {
            int fd = open(ns.path->c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                throw_errno("restore: namespace \"" + *ns.path + "\"");
            fds.emplace_back(fd);
            opts.inherit_fd.emplace_back(ns.type == spec::NamespaceType::Network ? "extRootNetNS" : "extRootPidNS",
                                         3 + static_cast<int>(fds.size()));
            break;
        }
        case spec::NamespaceType::Cgroup:
            throw Error("restore: config.json: .linux.namespaces: CRIU cannot join a cgroup namespace (path \"" +
                        *ns.path + "\")");
        default: {
            const char *name = ns.type == spec::NamespaceType::Mount ? "mnt" : spec::namespace_type_name(ns.type);
            opts.join_ns.emplace_back(name, *ns.path);
        }
        }
    }
}

// The pipes the init had as stdio at checkpoint are the caller's now.
void inherit_stdio(criu::Opts &opts, const std::string &image_path) {
    json::Value v = json::parse_file(image_path + "/" + kCriuDescriptors, kCriuDescriptors);
    for (size_t i = 0; i < v.array.size() && i < 3; i++) {
        const std::string &name = v.array[i].text;
        if (name.find("pipe:") == std::string::npos)
            continue;
        // One pipe as stdout and stderr: handed back once, as the first fd.
        bool seen = false;
        for (const auto &[key, fd] : opts.inherit_fd)
            seen = seen || key == name;
        if (!seen)
            opts.inherit_fd.emplace_back(name, static_cast<int>(i));
    }
}

// The cgroups criu was started in (the container's): where CRIU puts the
// restored tree, whatever cgroup it was dumped from.
void set_cgroup_roots(criu::Opts &opts, pid_t criu_pid) {
    std::string text = json::read_file("/proc/" + std::to_string(criu_pid) + "/cgroup", "cgroup");
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos)
            continue;
        std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        if (controllers.empty()) {
            opts.cg_root.emplace_back("", path);
            continue;
        }
        size_t s = 0;
        while (s <= controllers.size()) {
            size_t e = controllers.find(',', s);
            if (e == std::string::npos)
                e = controllers.size();
            opts.cg_root.emplace_back(controllers.substr(s, e - s), path);
            s = e + 1;
        }
    }
}

// Removes the container a foreground restore waited for, unless a delete
// from elsewhere did already.
void finish(const Context &ctx, const std::string &id, pid_t pid, uint64_t start_time) {
    try {
        state::Store store(ctx.state_root);
        state::Container c = store.open(id);
        if (c.state().pid != pid || c.state().pid_start_time != start_time)
            return;
        cgroup::destroy(c.state().cgroup_paths, cgroup::systemd_scope(c.state().extra));
        run_poststop(c);
        c.remove();
    } catch (const Error &) {
        // Deleted meanwhile.
    }
}

} // namespace

int restore(const Context &ctx, const RestoreOptions &o) {
    const std::string what = "restore";
    state::check_id(o.create.id);
    if (ctx.rootless)
        throw Error("restore: CRIU needs root: a rootless container cannot be restored");
    // Said first, as runc does, not after the images were read and criu
    // started; store.create below still makes the id exclusively.
    if (state::Store(ctx.state_root).exists(o.create.id))
        throw Error("container \"" + o.create.id + "\" already exists");
    // Our caller's ignored SIGCHLD would have the kernel reap the restored init.
    signal(SIGCHLD, SIG_DFL);
    Loaded l = load(o.create);
    const bool terminal = l.config.process->terminal;
    if (terminal && o.create.console_socket.empty() && o.detach)
        throw Error("cannot allocate tty if crunpp will detach without setting console socket");
    if (!terminal && !o.create.console_socket.empty())
        throw Error("cannot use console socket if crunpp will not allocate tty (process.terminal is false)");
    const std::string image_path = util::absolute_path(o.criu.image_path.empty() ? "checkpoint" : o.criu.image_path);
    private_mount_namespace();
    int ifd = open(image_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ifd < 0)
        throw_errno("restore: image path \"" + image_path + "\"");
    UniqueFd image_fd(ifd);
    criu::Opts opts;
    set_common_criu_opts(opts, o.criu, l.config, what);
    inherit_stdio(opts, image_path);
    const criu::Version version = criu::check_version(ctx.criu_path, criu::kMinimumVersion, what);
    if (!o.lsm_profile.empty() && version.number() < 31600)
        throw Error("restore: --lsm-profile needs CRIU 3.16 or newer, criu is " + version.text());
    if (!o.lsm_mount_context.empty() && version.number() < 31700)
        throw Error("restore: --lsm-mount-context needs CRIU 3.17 or newer, criu is " + version.text());

    state::Store store(ctx.state_root);
    state::Container c = store.create(o.create.id);
    std::optional<criu::Swrk> swrk;
    cgroup::Setup cg;
    pid_t pid = 0;
    bool hooks_ran = false;
    UniqueFd pidfd, console, work_fd;
    std::string work_path;
    bool work_created = false;
    const std::string criu_root = c.dir() + "/" + kCriuRoot;
    try {
        fill_state(c.state(), ctx, l);
        c.state().extra[kStateConfigPath] = l.config_path;
        keep_config(c, l.config_text);
        cg = make_cgroup(ctx, o.create, l.config, c);
        save_cgroup_state(c, cg);
        work_path = o.criu.work_path.empty() ? c.dir() + "/" + kCriuWork : util::absolute_path(o.criu.work_path);
        work_fd = open_or_make_dir(work_path, work_created, what);
        if (mkdirat(c.dir_fd(), kCriuRoot, 0755) < 0)
            throw_errno("restore: create \"" + criu_root + "\"");

        opts.images_dir_fd = image_fd.get();
        opts.work_dir_fd = work_fd.get();
        opts.log_file = kRestoreLog;
        // CRIU 3.17 puts a cgroup v2 tree back where it was dumped from,
        // whatever the cgroup root it is given: unless a mode is asked for,
        // it leaves the cgroups alone and the tree stays in criu's, the
        // container's (made above with the config's limits).
        if (!opts.manage_cgroups_mode)
            opts.manage_cgroups_mode = criu::CgMode::Ignore;
        opts.evasive_devices = true;
        opts.rst_sibling = true; // the restored init is crunpp's child
        opts.root = criu_root;
        opts.lsm_profile = o.lsm_profile;
        opts.lsm_mount_context = o.lsm_mount_context;
        describe_external_mounts(opts, l);
        std::vector<UniqueFd> ns_fds;
        describe_namespaces(opts, l.config, ns_fds);

        prepare_criu_root(l, criu_root);
        std::vector<UniqueFd> v1_tasks = cgroup::open_v1_tasks(cg.paths());
        criu::SpawnOptions so;
        so.binary = ctx.criu_path;
        for (const UniqueFd &fd : ns_fds)
            so.extra_fds.push_back(fd.get());
        so.cgroup_fd = cg.unified_fd();
        so.child_setup = [&]() {
            std::vector<int> tasks;
            for (const UniqueFd &fd : v1_tasks)
                tasks.push_back(fd.get());
            cgroup::enter_v1(tasks);
        };
        swrk.emplace(criu::Swrk::spawn(so));
        v1_tasks.clear();
        ns_fds.clear();
        // The systemd driver's unit starts with criu in it (criu waits for
        // the request): the restored tree, criu's children, is born there.
        if (cg.awaits_placement()) {
            cg.place(swrk->pid());
            save_cgroup_state(c, cg);
        }
        set_cgroup_roots(opts, swrk->pid());

        criu::Request req;
        req.type = criu::ReqType::Restore;
        req.opts = &opts;
        const HookOutput hook_output = open_hook_output(l.config.annotations, l.config.hooks.has_value());
        criu::Response resp;
        try {
            resp = swrk->call(req, [&](const criu::Response &n, std::vector<UniqueFd> &fds) {
            if (n.notify_script == "setup-namespaces") {
                // The namespaces exist, the process does not run yet: where
                // create runs these hooks (runc does the same on restore).
                hooks_ran = true;
                if (l.config.hooks) {
                    std::string creating = hook_state_json(c.state(), state::Status::Creating, n.notify_pid);
                    hooks::run("prestart", l.config.hooks->prestart, creating, hook_output.options(l.bundle));
                    hooks::run("createRuntime", l.config.hooks->createRuntime, creating,
                               hook_output.options(l.bundle));
                }
            } else if (n.notify_script == "post-restore") {
                pid = n.notify_pid;
            } else if (n.notify_script == "orphan-pts-master") {
                if (fds.empty())
                    throw Error("restore: criu sent no terminal with orphan-pts-master");
                if (!o.create.console_socket.empty())
                    send_fd_to_socket(o.create.console_socket, fds[0].get(), "/dev/ptmx", "console socket");
                else
                    console = std::move(fds[0]);
            }
        });
        } catch (const Error &e) {
            // criu died (or a hook failed): its log says why.
            std::string msg = std::string("restore: ") + e.what();
            if (std::string errors = criu::log_errors(work_fd.get(), kRestoreLog); !errors.empty())
                msg += "\n" + errors;
            throw Error(msg);
        }
        if (!resp.success)
            throw criu_failure(what, resp, work_fd.get(), kRestoreLog,
                               o.criu.work_path.empty() ? "" : work_path + "/" + kRestoreLog);
        if (resp.restore_pid)
            pid = *resp.restore_pid;
        if (int s = swrk->finish(); s != 0)
            throw Error("restore: criu exited with status " + std::to_string(s));
        swrk.reset();
        umount2(criu_root.c_str(), MNT_DETACH);
        unlinkat(c.dir_fd(), kCriuRoot, AT_REMOVEDIR);
        if (pid <= 0)
            throw Error("restore: criu reported no restored process");
        pidfd = pidfd_open(pid);
        if (!pidfd)
            throw Error("restore: the restored process exited at once");
        if (terminal && o.create.console_socket.empty() && !console)
            throw Error("restore: the container has a terminal but criu sent none (was it checkpointed without one?)");
        state::ContainerState &st = c.state();
        st.pid = pid;
        st.pid_start_time = state::process_start_time(pid);
        st.status = state::Status::Running;
        c.save();
        if (!o.create.pid_file.empty())
            write_pid_file(o.create.pid_file, pid);
        cg.commit();
    } catch (...) {
        // Nothing of a failed restore stays: the restored tree (our child),
        // criu, the cgroup, the state and the work directory made here.
        if (pid > 0 && !pidfd)
            pidfd = pidfd_open(pid);
        kill_and_reap(pidfd.get());
        swrk.reset();
        if (hooks_ran)
            run_poststop(c);
        try {
            cgroup::destroy(c.state().cgroup_paths, cgroup::systemd_scope(c.state().extra));
        } catch (...) {
            // Best effort: the original error is reported.
        }
        // The rootfs is bound there: removing the state dir must not go
        // through it.
        umount2(criu_root.c_str(), MNT_DETACH);
        work_fd.reset();
        if (work_created && !o.criu.work_path.empty())
            remove_tree(work_path);
        try {
            c.remove();
        } catch (...) {
        }
        throw;
    }

    const std::string id = o.create.id;
    const uint64_t start_time = c.state().pid_start_time;
    const state::ContainerState running = c.state();
    {
        // Released: a poststart hook may run `crunpp state`.
        state::Container released = std::move(c);
    }
    if (l.config.hooks && !l.config.hooks->poststart.empty()) {
        try {
            HookOutput out = open_hook_output(running.annotations, true);
            hooks::run("poststart", l.config.hooks->poststart, hook_state_json(running, state::Status::Running, pid),
                       out.options());
        } catch (...) {
            kill_and_reap(pidfd.get());
            finish(ctx, id, pid, start_time);
            throw;
        }
    }
    if (o.detach)
        return 0;
    ForwardedSignals signals;
    int status = console ? proxy_terminal(console.get(), pidfd.get(), signals.fd(), false)
                         : wait_forwarding(pidfd.get(), signals.fd());
    finish(ctx, id, pid, start_time);
    return status;
}

} // namespace crunpp::container
