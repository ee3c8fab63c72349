// SPDX-License-Identifier: GPL-2.0-or-later
// Writing the uid/gid maps of a child's new user namespace: directly when the
// kernel lets the caller, otherwise through the setuid helpers of shadow's
// uidmap package, which check /etc/subuid and /etc/subgid.
#include "userns.hpp"

#include <crunpp/error.hpp>

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <spawn.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace crunpp::linux {

namespace {

constexpr const char *kNewUidMap = "/usr/bin/newuidmap";
constexpr const char *kNewGidMap = "/usr/bin/newgidmap";
// What is kept of a helper's output for the error message.
constexpr size_t kMaxHelperOutput = 4096;

bool is_own_id_only(const std::vector<spec::IdMapping> &m, uint32_t id) {
    return m.size() == 1 && m[0].hostID == id && m[0].size == 1;
}

// "0 1000 1, 1 100000 65536" for error messages.
std::string one_line(std::string text) {
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    std::string out;
    for (char c : text) {
        if (c == '\n')
            out += ", ";
        else
            out += c;
    }
    return out;
}

UniqueFd open_proc_pid_dir(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid);
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        throw_errno("open " + path);
    struct statfs sfs;
    if (::fstatfs(dir.get(), &sfs) < 0)
        throw_errno("statfs " + path);
    if (sfs.f_type != PROC_SUPER_MAGIC)
        throw Error("open " + path + ": not on a procfs (is /proc mounted?)");
    return dir;
}

void write_proc_file(int proc_dir, pid_t pid, const char *name, const std::string &text) {
    const std::string what = "write /proc/" + std::to_string(pid) + "/" + name + " \"" + one_line(text) + "\"";
    UniqueFd fd(::openat(proc_dir, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
        throw_errno(what);
    // The kernel takes a map in one write() only.
    ssize_t n;
    do
        n = ::write(fd.get(), text.data(), text.size());
    while (n < 0 && errno == EINTR);
    if (n < 0)
        throw_errno(what);
    if (static_cast<size_t>(n) != text.size())
        throw Error(what + ": short write");
}

// Reaps `pid`, the spawned helper, retrying on EINTR.
int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw_errno("wait for pid " + std::to_string(pid));
    }
    return status;
}

// Runs `helper PID c h s c h s ...` with an empty environment, stdin from
// /dev/null, stdout and stderr into a pipe that becomes the error text.
void run_map_helper(const char *helper, const char *kind, pid_t pid, const std::vector<spec::IdMapping> &m) {
    const std::string what = "write " + std::string(kind) + " mappings of pid " + std::to_string(pid) + " with " + helper;
    if (::access(helper, X_OK) < 0)
        throw Error(what + ": " + helper + " (package uidmap) is needed to map more than the caller's own id", errno);

    std::vector<std::string> args{helper, std::to_string(pid)};
    for (const spec::IdMapping &e : m) {
        args.push_back(std::to_string(e.containerID));
        args.push_back(std::to_string(e.hostID));
        args.push_back(std::to_string(e.size));
    }
    std::vector<char *> argv;
    for (std::string &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    char *envp[] = {nullptr};

    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
        throw_errno(what + ": pipe");
    UniqueFd rd(p[0]), wr(p[1]);

    posix_spawn_file_actions_t fa;
    if (int e = posix_spawn_file_actions_init(&fa); e != 0)
        throw_errno(what, e);
    int e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (e == 0)
        e = posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
    if (e == 0)
        e = posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
    // A setuid helper gets nothing of ours beyond stdio.
    if (e == 0)
        e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t child = -1;
    if (e == 0)
        e = posix_spawn(&child, helper, &fa, nullptr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0)
        throw_errno(what + ": spawn", e);
    wr.reset();

    std::string output;
    char buf[1024];
    for (;;) {
        ssize_t n = ::read(rd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (output.size() < kMaxHelperOutput)
            output.append(buf, std::min(static_cast<size_t>(n), kMaxHelperOutput - output.size()));
    }
    const int status = wait_for(child);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;

    while (!output.empty() && (output.back() == '\n' || output.back() == ' '))
        output.pop_back();
    if (output.empty())
        output = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                   : "killed by signal " + std::to_string(WTERMSIG(status));
    throw Error(what + ": " + one_line(output));
}

} // namespace

MapWriterIds current_map_writer() {
    MapWriterIds w;
    w.euid = ::geteuid();
    w.egid = ::getegid();
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &hdr, data) < 0)
        throw_errno("capget");
    w.cap_setuid = data[CAP_TO_INDEX(CAP_SETUID)].effective & CAP_TO_MASK(CAP_SETUID);
    w.cap_setgid = data[CAP_TO_INDEX(CAP_SETGID)].effective & CAP_TO_MASK(CAP_SETGID);
    return w;
}

MapWritePlan plan_id_mapping_writes(const std::vector<spec::IdMapping> &uid,
                                    const std::vector<spec::IdMapping> &gid, const MapWriterIds &writer) {
    // The kernel (user_namespaces(7)): a writer with CAP_SETUID (CAP_SETGID) in
    // the parent namespace may write any map; any other writer exactly one line
    // mapping its own effective id, and for gid_map only once setgroups is
    // "deny" (else it could drop supplementary groups that restrict it).
    MapWritePlan p;
    p.uid_direct = writer.cap_setuid || is_own_id_only(uid, writer.euid);
    p.gid_direct = writer.cap_setgid || is_own_id_only(gid, writer.egid);
    p.deny_setgroups = p.gid_direct && !writer.cap_setgid;
    return p;
}

std::string format_id_map(const std::vector<spec::IdMapping> &m) {
    std::string s;
    for (const spec::IdMapping &e : m) {
        s += std::to_string(e.containerID);
        s += ' ';
        s += std::to_string(e.hostID);
        s += ' ';
        s += std::to_string(e.size);
        s += '\n';
    }
    return s;
}

void write_id_mappings(pid_t pid, const std::vector<spec::IdMapping> &uid,
                       const std::vector<spec::IdMapping> &gid) {
    if (uid.empty())
        throw Error("user namespace of pid " + std::to_string(pid) + ": no uid mappings (.linux.uidMappings is empty)");
    if (gid.empty())
        throw Error("user namespace of pid " + std::to_string(pid) + ": no gid mappings (.linux.gidMappings is empty)");

    const MapWritePlan plan = plan_id_mapping_writes(uid, gid, current_map_writer());
    UniqueFd proc_dir;
    if (plan.uid_direct || plan.gid_direct)
        proc_dir = open_proc_pid_dir(pid);

    if (plan.uid_direct)
        write_proc_file(proc_dir.get(), pid, "uid_map", format_id_map(uid));
    else
        run_map_helper(kNewUidMap, "uid", pid, uid);

    if (plan.gid_direct) {
        if (plan.deny_setgroups)
            write_proc_file(proc_dir.get(), pid, "setgroups", "deny");
        write_proc_file(proc_dir.get(), pid, "gid_map", format_id_map(gid));
    } else {
        run_map_helper(kNewGidMap, "gid", pid, gid);
    }
}

} // namespace crunpp::linux
