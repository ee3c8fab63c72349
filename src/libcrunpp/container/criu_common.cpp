// SPDX-License-Identifier: GPL-2.0-or-later
#include "criu_common.hpp"

#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "../criu/swrk.hpp"
#include "../linux/mount/safe_path.hpp"
#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

namespace crunpp::container {
namespace {

criu::CgMode cgroups_mode(const std::string &mode, const std::string &what) {
    if (mode == "soft")
        return criu::CgMode::Soft;
    if (mode == "full")
        return criu::CgMode::Full;
    if (mode == "strict")
        return criu::CgMode::Strict;
    if (mode == "ignore")
        return criu::CgMode::Ignore;
    throw Error(what + ": --manage-cgroups-mode \"" + mode + "\": not one of soft, full, strict, ignore");
}

int remove_entry(const char *path, const struct stat *, int type, struct FTW *) {
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

} // namespace

void set_common_criu_opts(criu::Opts &opts, const CriuOptions &o, const spec::Config &cfg, const std::string &what) {
    opts.log_level = 4;
    opts.manage_cgroups = true;
    opts.notify_scripts = true;
    opts.orphan_pts_master = true;
    opts.shell_job = o.shell_job;
    opts.tcp_established = o.tcp_established;
    opts.ext_unix_sk = o.ext_unix_sk;
    opts.file_locks = o.file_locks;
    opts.auto_dedup = o.auto_dedup;
    opts.lazy_pages = o.lazy_pages;
    if (!o.manage_cgroups_mode.empty())
        opts.manage_cgroups_mode = cgroups_mode(o.manage_cgroups_mode, what);
    // The network namespace is always left empty, as runc leaves it: the
    // runtime configures no network device, the engine does (podman's
    // restore sets up the container's network again), so CRIU neither dumps
    // nor restores its devices, addresses, routes and tables.
    opts.empty_ns = CLONE_NEWNET;
    for (const std::string &name : o.empty_ns) {
        std::optional<spec::NamespaceType> t = spec::namespace_type_from_name(name);
        if (!t)
            throw Error(what + ": --empty-ns \"" + name + "\": not a namespace type");
        const spec::Namespace *ns = cfg.linux ? cfg.linux->find_namespace(*t) : nullptr;
        if (!ns || ns->path)
            throw Error(what + ": --empty-ns \"" + name + "\": the container has no " + name +
                        " namespace of its own (config.json: .linux.namespaces)");
        opts.empty_ns |= static_cast<uint32_t>(spec::namespace_clone_flag(*t));
    }
}

bool is_bind_mount(const spec::Mount &m) {
    if (m.type && *m.type == "bind")
        return true;
    return std::any_of(m.options.begin(), m.options.end(),
                       [](const std::string &opt) { return opt == "bind" || opt == "rbind"; });
}

std::string criu_mount_point(const std::string &destination) {
    return linux::display_path(linux::clean_relative_path(destination));
}

std::vector<std::string> device_paths(const spec::Config &cfg) {
    std::vector<std::string> r = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"};
    if (cfg.linux)
        for (const spec::Device &d : cfg.linux->devices)
            if (std::find(r.begin(), r.end(), criu_mount_point(d.path)) == r.end())
                r.push_back(criu_mount_point(d.path));
    return r;
}

UniqueFd open_or_make_dir(const std::string &path, bool &created, const std::string &what) {
    created = false;
    if (mkdir(path.c_str(), 0700) == 0)
        created = true;
    else if (errno != EEXIST)
        throw_errno(what + ": create \"" + path + "\"");
    int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (created)
            rmdir(path.c_str());
        throw_errno(what + ": open \"" + path + "\"", err);
    }
    return UniqueFd(fd);
}

void remove_tree(const std::string &path) noexcept {
    nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

Error criu_failure(const std::string &what, const criu::Response &r, int work_fd, const std::string &log_name,
                   const std::string &log_path) {
    std::string msg = what + ": criu " + criu::req_type_name(r.type) + " failed";
    std::string first = r.cr_errmsg;
    while (!first.empty() && (first.back() == '\n' || first.back() == ' '))
        first.pop_back();
    if (!first.empty())
        msg += ": " + first;
    std::string errors = criu::log_errors(work_fd, log_name);
    if (!errors.empty())
        msg += "\n" + errors;
    if (!log_path.empty())
        msg += "\nlog file: " + log_path;
    return Error(msg, r.cr_errno);
}

void report_status_ready(int &fd) noexcept {
    if (fd < 0)
        return;
    const char zero = 0;
    ssize_t n;
    do
        n = write(fd, &zero, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) {
        const int err = n < 0 ? errno : EIO;
        try {
            log::warn("checkpoint: --status-fd " + std::to_string(fd) + ": cannot write: " + strerror(err));
        } catch (...) {
            // Only a warning: the dump goes on.
        }
    }
    if (fd > STDERR_FILENO) {
        close(fd);
    } else if (int null = open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
        dup2(null, fd);
        close(null);
    }
    fd = -1;
}

} // namespace crunpp::container
