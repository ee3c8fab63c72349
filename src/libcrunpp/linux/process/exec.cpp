// SPDX-License-Identifier: GPL-2.0-or-later
// The last steps of the container init, in the order the kernel needs:
// labels and the bounding set while still privileged, then the user, then
// the capabilities the process keeps, then execve with no crunpp fd left.
#include "process.hpp"
#include "process_internal.hpp"
#include "../procfs.hpp"
#include "../seccomp/seccomp.hpp"

#include "crunpp/error.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cerrno>
#include <climits>
#include <charconv>
#include <cstring>
#include <optional>

namespace crunpp::linux {

namespace {

constexpr mode_t kDefaultUmask = 022;

// Every fd from `first` up gets CLOEXEC, so that none of crunpp's (state
// dir, procfs handle, sync socket...) reaches the container (CVE-2024-21626).
void mark_cloexec_from(unsigned first) {
    if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    if (errno != ENOSYS && errno != EINVAL)
        throw_errno("close_range");
    // Kernels before 5.11: walk the fd table.
    UniqueFd dirfd = procfs::open("self/fd", O_RDONLY | O_DIRECTORY);
    DIR *dir = fdopendir(dirfd.get());
    if (!dir)
        throw_errno("open /proc/self/fd");
    dirfd.release();
    int own = ::dirfd(dir);
    while (struct dirent *e = readdir(dir)) {
        unsigned fd = 0;
        auto [end, ec] = std::from_chars(e->d_name, e->d_name + strlen(e->d_name), fd);
        if (ec != std::errc() || *end != '\0' || fd < first || static_cast<int>(fd) == own)
            continue;
        int flags = fcntl(static_cast<int>(fd), F_GETFD);
        if (flags >= 0)
            fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(dir);
}

// The process starts as after a fresh fork of init: default dispositions
// (SIG_IGN survives execve: a caller under nohup would pass SIGHUP's on)
// and no blocked signal.
void reset_signals() noexcept {
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
}

void set_parent_death_signal(int sig) {
    if (prctl(PR_SET_PDEATHSIG, sig) < 0)
        throw_errno("prctl PR_SET_PDEATHSIG");
}

std::vector<char *> c_strings(const std::vector<std::string> &v) {
    std::vector<char *> out;
    out.reserve(v.size() + 1);
    for (const auto &s : v)
        out.push_back(const_cast<char *>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

} // namespace

void prepare_exec(const spec::Process &p, const ExecOptions &o) {
    if (o.preserve_fds < 0)
        throw Error("preserve-fds: " + std::to_string(o.preserve_fds) + " is negative");
    umask(static_cast<mode_t>(p.user.umask.value_or(kDefaultUmask) & 0777));
    detail::apply_lsm_labels(p);

    const spec::Capabilities no_capabilities;
    const spec::Capabilities &caps = p.capabilities ? *p.capabilities : no_capabilities;
    detail::drop_bounding_set(caps);
    // Before any filter: a profile need not allow close_range (Docker's
    // before 2020 do not), and the fds are closed by execve itself.
    mark_cloexec_from(3u + static_cast<unsigned>(o.preserve_fds));
    detail::switch_user(p.user, o.keep_groups);
    if (o.parent_death_signal)
        set_parent_death_signal(o.parent_death_signal);
    // Without no_new_privs, loading the filter needs CAP_SYS_ADMIN: kept
    // until finish_exec has loaded it.
    detail::apply_capability_sets(caps, o.seccomp && !p.noNewPrivileges);

    // After the user switch: the cwd must be reachable by the process's user.
    if (chdir(p.cwd.c_str()) < 0)
        throw_errno("chdir to cwd (\"" + p.cwd + "\") set in config.json failed");
    // A cwd reached through an fd of the runtime (/proc/self/fd/N) would be
    // outside the root, where getcwd finds no path (CVE-2024-21626).
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
        throw Error("cwd (\"" + p.cwd + "\") set in config.json is outside the container's root");
    if (p.noNewPrivileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        throw_errno("prctl PR_SET_NO_NEW_PRIVS");
}

void finish_exec(const spec::Process &p, const std::string &exe, const ExecOptions &o) {
    // Everything execve needs is made first: after the filter is loaded the
    // process makes no other syscall (not even malloc's), but one capset
    // when CAP_SYS_ADMIN was kept only to load it.
    std::vector<char *> argv = c_strings(p.args);
    std::vector<char *> envp = c_strings(p.env);
    std::optional<detail::CapsetData> final_caps;
    if (o.seccomp && !p.noNewPrivileges && p.capabilities) {
        detail::CapsetData d = detail::capset_data(*p.capabilities);
        constexpr uint32_t admin = 1u << (CAP_SYS_ADMIN % 32);
        const detail::CapsetData::Data &word = d.data[CAP_SYS_ADMIN / 32];
        if ((word.effective & admin) == 0 || (word.permitted & admin) == 0)
            final_caps = d;
    } else if (o.seccomp && !p.noNewPrivileges) {
        final_caps = detail::CapsetData{}; // no capabilities at all
    }
    reset_signals();
    if (o.parent_death_signal)
        set_parent_death_signal(0);
    if (o.seccomp) {
        load_seccomp(*o.seccomp, false);
        if (final_caps)
            detail::apply_capset(*final_caps);
    }
    execve(exe.c_str(), argv.data(), envp.data());
    exec_failed(exe, errno);
}

std::optional<spec::Process> with_default_home(const spec::Process &p) {
    auto is_home = [](const std::string &e) { return e.rfind("HOME=", 0) == 0; };
    if (std::any_of(p.env.begin(), p.env.end(), is_home))
        return std::nullopt;
    // Read before the user switch and any filter, in the container's root.
    spec::Process out = p;
    out.env.push_back("HOME=" + detail::default_home(p.user.uid));
    return out;
}

void exec_process(const spec::Process &p, const std::string &exe, const ExecOptions &o) {
    std::optional<spec::Process> home = with_default_home(p);
    const spec::Process &process = home ? *home : p;
    prepare_exec(process, o);
    finish_exec(process, exe, o);
}

} // namespace crunpp::linux
