// SPDX-License-Identifier: GPL-2.0-or-later
#include "rootfs_test_util.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace rootfs_test {

TempRootfs::TempRootfs() {
    char tmpl[] = "/tmp/crunpp-rootfs-test.XXXXXX";
    if (!mkdtemp(tmpl))
        throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    fs::permissions(dir_, fs::perms(0755));
    std::string r = rootfs();
    for (const char *d : {"", "/bin", "/proc", "/sys", "/dev", "/etc", "/tmp", "/mnt"})
        fs::create_directory(r + d);
    fs::copy_file("/bin/busybox", r + "/bin/busybox");
    fs::create_symlink("busybox", r + "/bin/sh");
    write_file(r + "/etc/hostname", "test\n");
}

void TempRootfs::chown_all(unsigned uid) const {
    if (lchown(dir_.c_str(), uid, uid) < 0)
        throw std::runtime_error("chown " + dir_);
    for (const auto &e : fs::recursive_directory_iterator(dir_))
        if (lchown(e.path().c_str(), uid, uid) < 0)
            throw std::runtime_error("chown " + e.path().string());
}

TempRootfs::~TempRootfs() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void expect(bool cond, const std::string &msg) {
    if (!cond)
        throw std::runtime_error(msg);
}

std::string read_file(const std::string &path) {
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string &path, const std::string &data) {
    std::ofstream out(path);
    if (!out)
        throw std::runtime_error("cannot write " + path);
    out << data;
}

namespace {

void write_all(int fd, const std::string &s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = write(fd, s.data() + off, s.size() - off);
        if (n <= 0)
            return;
        off += size_t(n);
    }
}

[[noreturn]] void child_fail(int fd, const std::string &what) {
    write_all(fd, what + ": " + strerror(errno));
    _exit(2);
}

void map_self(int fd) {
    char buf[64];
    snprintf(buf, sizeof buf, "0 %u 1\n", 65534u);
    for (const char *f : {"/proc/self/setgroups", "/proc/self/uid_map", "/proc/self/gid_map"}) {
        int o = open(f, O_WRONLY | O_CLOEXEC);
        const char *data = strcmp(f, "/proc/self/setgroups") == 0 ? "deny" : buf;
        if (o < 0 || write(o, data, strlen(data)) < 0)
            child_fail(fd, std::string("write ") + f);
        close(o);
    }
}

} // namespace

ChildResult run_isolated(const Isolation &iso, const std::function<void()> &body) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        throw std::runtime_error("pipe");
    pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error("fork");
    if (pid == 0) {
        close(p[0]);
        alarm(30);
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS;
        if (iso.ipc)
            flags |= CLONE_NEWIPC;
        if (iso.prepare) {
            if (unshare(CLONE_NEWNS) < 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
                child_fail(p[1], "private mount namespace for prepare");
            try {
                iso.prepare();
            } catch (const std::exception &e) {
                write_all(p[1], std::string("prepare: ") + e.what());
                _exit(2);
            }
        }
        if (iso.net)
            flags |= CLONE_NEWNET;
        if (iso.cgroup)
            flags |= CLONE_NEWCGROUP;
        if (iso.rootless) {
            if (setgroups(0, nullptr) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                child_fail(p[1], "drop to nobody");
            // A changed uid makes the process undumpable and its /proc
            // files root's: the id maps could not be written.
            prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
            flags |= CLONE_NEWUSER;
        }
        if (iso.join_userns >= 0) {
            if (setns(iso.join_userns, CLONE_NEWUSER) < 0)
                child_fail(p[1], "setns user");
            if (setgroups(0, nullptr) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                child_fail(p[1], "become root in the user namespace");
        }
        if (unshare(flags) < 0)
            child_fail(p[1], "unshare");
        if (iso.rootless)
            map_self(p[1]);
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
            child_fail(p[1], "make / rprivate");
        pid_t init = fork();
        if (init < 0)
            child_fail(p[1], "fork init");
        if (init == 0) {
            try {
                body();
            } catch (const std::exception &e) {
                write_all(p[1], e.what());
                _exit(1);
            }
            _exit(0);
        }
        int st = 0;
        while (waitpid(init, &st, 0) < 0 && errno == EINTR) {
        }
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    close(p[1]);
    ChildResult r;
    char buf[4096];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        r.message.append(buf, size_t(n));
    }
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
}

int make_userns(unsigned host, unsigned count) {
    int ready[2], done[2];
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
        throw std::runtime_error("pipe");
    pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error("fork");
    if (pid == 0) {
        close(ready[0]);
        close(done[1]);
        alarm(30);
        if (unshare(CLONE_NEWUSER) < 0)
            _exit(1);
        close(ready[1]);
        char c;
        (void)!read(done[0], &c, 1);
        _exit(0);
    }
    close(ready[1]);
    close(done[0]);
    char c;
    (void)!read(ready[0], &c, 1);
    close(ready[0]);
    std::string dir = "/proc/" + std::to_string(pid);
    std::string map = "0 " + std::to_string(host) + " " + std::to_string(count) + "\n";
    int ns = -1;
    try {
        write_file(dir + "/uid_map", map);
        write_file(dir + "/gid_map", map);
        ns = open((dir + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    } catch (...) {
    }
    close(done[1]);
    int st;
    waitpid(pid, &st, 0);
    if (ns < 0)
        throw std::runtime_error("make_userns failed");
    return ns;
}

crunpp::spec::Config default_config(bool rootless) {
    using crunpp::spec::Mount;
    crunpp::spec::Config c;
    c.ociVersion = "1.3.0";
    c.root = crunpp::spec::Root{"rootfs", true};
    auto add = [&](std::string dest, std::string type, std::string src, std::vector<std::string> opts) {
        Mount m;
        m.destination = std::move(dest);
        m.type = std::move(type);
        m.source = std::move(src);
        m.options = std::move(opts);
        c.mounts.push_back(std::move(m));
    };
    add("/proc", "proc", "proc", {});
    add("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"});
    // gid=5 also for rootless, where it is unmapped: crunpp drops it.
    add("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
    add("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
    add("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"});
    if (rootless) {
        add("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
    } else {
        add("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"});
        add("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"});
    }
    crunpp::spec::Linux lx;
    lx.maskedPaths = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                      "/proc/scsi", "/sys/devices/virtual/powercap"};
    lx.readonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    c.linux = lx;
    return c;
}

} // namespace rootfs_test
