// SPDX-License-Identifier: GPL-2.0-or-later
// setup_rootfs for real, as pid 1 of fresh namespaces in a forked child:
// as root and as nobody in a user namespace (rootless).
#include <catch.hpp>

#include "crunpp/error.hpp"
#include "rootfs_test_util.hpp"
#include "src/libcrunpp/linux/mount/mountinfo.hpp"
#include "crunpp/unique_fd.hpp"
#include "src/libcrunpp/linux/mount/rootfs.hpp"
#include "src/libcrunpp/util/strings.hpp"

#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <sched.h>
#include <cstring>
#include <climits>
#include <filesystem>

namespace fs = std::filesystem;
using namespace rootfs_test;
using crunpp::linux::MountInfo;
using crunpp::linux::RootfsOptions;
using crunpp::linux::setup_rootfs;

namespace {

bool is_root() { return geteuid() == 0; }
const bool kcore = access("/proc/kcore", F_OK) == 0;

const MountInfo *find_mount(const std::vector<MountInfo> &ms, const std::string &mp) {
    const MountInfo *found = nullptr;
    for (const auto &m : ms)
        if (m.mountpoint == mp)
            found = &m; // the last one is the top of a stack
    return found;
}

// A pointer into a temporary would dangle.
const MountInfo *find_mount(std::vector<MountInfo> &&, const std::string &) = delete;

bool has_option(const std::string &opts, const std::string &o) {
    return ("," + opts + ",").find("," + o + ",") != std::string::npos;
}

std::string link_of(const std::string &p) {
    char buf[PATH_MAX] = {};
    ssize_t n = readlink(p.c_str(), buf, sizeof buf - 1);
    return n < 0 ? std::string() : std::string(buf, size_t(n));
}

std::vector<std::string> open_fds() {
    std::vector<std::string> out;
    DIR *d = opendir("/proc/self/fd");
    expect(d != nullptr, "opendir /proc/self/fd");
    const std::string own = std::to_string(dirfd(d));
    while (dirent *e = readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != ".." && name != own)
            out.push_back(name);
    }
    closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

void expect_errno(int rc, int err, const std::string &what) {
    expect(rc < 0 && errno == err, what + ": expected " + strerror(err) + ", got " + (rc < 0 ? strerror(errno) : "success"));
}

void expect_char_device(const std::string &p, unsigned maj, unsigned min) {
    struct stat st {};
    expect(stat(p.c_str(), &st) == 0, "stat " + p);
    expect(S_ISCHR(st.st_mode) && major(st.st_rdev) == maj && minor(st.st_rdev) == min,
           p + " is not char " + std::to_string(maj) + ":" + std::to_string(min));
}

// What every default-config container must look like from inside.
void check_default_container(bool rootless, bool host_has_kcore) {
    auto ms = crunpp::linux::read_mountinfo();
    char cwd[PATH_MAX] = {};
    expect(getcwd(cwd, sizeof cwd) && std::string(cwd) == "/", "cwd is not /");
    expect(read_file("/etc/hostname") == "test\n", "/ is not the rootfs");
    expect(access("/bin/busybox", X_OK) == 0, "no /bin/busybox");
    for (const auto &m : ms)
        expect(m.mountpoint.find("crunpp-rootfs-test") == std::string::npos,
               "a host path is still mounted: " + m.mountpoint);
    const MountInfo *proc = find_mount(ms, "/proc");
    expect(proc && proc->fstype == "proc", "no proc on /proc");
    const MountInfo *dev = find_mount(ms, "/dev");
    expect(dev && dev->fstype == "tmpfs" && has_option(dev->options, "nosuid"), "no nosuid tmpfs on /dev");
    const MountInfo *pts = find_mount(ms, "/dev/pts");
    expect(pts && pts->fstype == "devpts", "no devpts on /dev/pts");
    expect(has_option(pts->super_options, "gid=5") == !rootless, "devpts gid=5: " + pts->super_options);
    const MountInfo *shm = find_mount(ms, "/dev/shm");
    expect(shm && shm->fstype == "tmpfs" && has_option(shm->options, "noexec"), "no noexec tmpfs on /dev/shm");
    const MountInfo *mq = find_mount(ms, "/dev/mqueue");
    expect(mq && mq->fstype == "mqueue", "no mqueue on /dev/mqueue");
    const MountInfo *sys = find_mount(ms, "/sys");
    expect(sys && sys->fstype == "sysfs" && has_option(sys->options, "ro"), "no read-only sysfs on /sys");

    for (const char *d : {"null", "zero", "full", "random", "urandom", "tty"})
        expect(access((std::string("/dev/") + d).c_str(), F_OK) == 0, std::string("no /dev/") + d);
    expect_char_device("/dev/null", 1, 3);
    expect_char_device("/dev/zero", 1, 5);
    expect_char_device("/dev/tty", 5, 0);
    expect(link_of("/dev/ptmx") == "pts/ptmx", "/dev/ptmx -> " + link_of("/dev/ptmx"));
    expect(link_of("/dev/fd") == "/proc/self/fd", "/dev/fd");
    expect(link_of("/dev/stdin") == "/proc/self/fd/0", "/dev/stdin");
    expect(link_of("/dev/stdout") == "/proc/self/fd/1", "/dev/stdout");
    expect(link_of("/dev/stderr") == "/proc/self/fd/2", "/dev/stderr");
    // Only where the host kernel has /proc/kcore (runc's rule).
    expect(link_of("/dev/core") == (host_has_kcore ? "/proc/kcore" : ""), "/dev/core");
    int null = open("/dev/null", O_WRONLY);
    expect(null >= 0 && write(null, "x", 1) == 1, "/dev/null is not writable");
    close(null);

    // maskedPaths: a file reads empty, a directory is an empty read-only tmpfs.
    expect(read_file("/proc/keys").empty(), "/proc/keys is not masked");
    const MountInfo *acpi = find_mount(ms, "/proc/acpi");
    expect(acpi && acpi->fstype == "tmpfs" && has_option(acpi->options, "ro"), "/proc/acpi is not masked");
    const MountInfo *fw = find_mount(ms, "/sys/firmware");
    expect(fw && fw->fstype == "tmpfs" && has_option(fw->options, "ro"), "/sys/firmware is not masked");
    expect(fs::is_empty("/sys/firmware"), "/sys/firmware is not empty");
    expect_errno(mkdir("/sys/firmware/x", 0755), EROFS, "mkdir in the masked /sys/firmware");
    // All masked directories show one tmpfs (its superblock made once).
    struct stat acpi_st {}, fw_st {};
    expect(stat("/proc/acpi", &acpi_st) == 0 && stat("/sys/firmware", &fw_st) == 0 && acpi_st.st_dev == fw_st.st_dev,
           "the masked directories do not share one tmpfs");
    // readonlyPaths
    struct statvfs sv {};
    expect(statvfs("/proc/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY), "/proc/sys is not read-only");
    if (!rootless)
        expect_errno(open("/proc/sys/kernel/hostname", O_WRONLY), EROFS, "write /proc/sys/kernel/hostname");
    // root.readonly
    expect_errno(open("/newfile", O_WRONLY | O_CREAT, 0644), EROFS, "create /newfile");
}

RootfsOptions rootless_options() {
    RootfsOptions o;
    o.rootless = true;
    o.user_namespace = true;
    o.network_namespace = false;
    return o;
}

} // namespace

TEST_CASE("setup_rootfs: default config as root", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    auto cfg = default_config(false);
    auto r = run_isolated({false, true, true}, [&] {
        RootfsOptions o;
        o.cgroup_namespace = true;
        auto fds_before = open_fds();
        setup_rootfs(cfg, t.rootfs(), o);
        // No fd of the setup is left open (not even CLOEXEC ones).
        expect(open_fds() == fds_before, "fds leaked by setup_rootfs");
        check_default_container(false, kcore);
        // The cgroup mount on this v1/hybrid host: a read-only tmpfs with
        // the container's own hierarchies.
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *cg = find_mount(ms, "/sys/fs/cgroup");
        expect(cg && cg->fstype == "tmpfs" && has_option(cg->options, "ro"), "no read-only tmpfs on /sys/fs/cgroup");
        bool cpu = false;
        for (const auto &m : ms)
            if ((m.fstype == "cgroup" || m.fstype == "cgroup2") && crunpp::linux::path_is_under(m.mountpoint, "/sys/fs/cgroup")) {
                cpu = cpu || has_option(m.super_options, "cpu");
                expect(has_option(m.options, "ro") && has_option(m.options, "nosuid"), "cgroup flags: " + m.options);
                expect(m.root == "/", "hierarchy not rooted at the container's cgroup: " + m.root);
            }
        expect(cpu, "no cpu hierarchy");
        expect(access("/sys/fs/cgroup/cpu/cgroup.procs", F_OK) == 0, "no /sys/fs/cgroup/cpu/cgroup.procs");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: default rootless config as nobody in a user namespace", "[rootfs][rootless]") {
    if (!is_root()) {
        WARN("skipped: needs root to become nobody");
        return;
    }
    TempRootfs t;
    t.chown_all(65534);
    auto cfg = default_config(true);
    auto r = run_isolated({true, false, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), rootless_options());
        check_default_container(true, kcore);
        // Devices are the host's, bound: mknod is not allowed here.
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *null = find_mount(ms, "/dev/null");
        expect(null != nullptr, "/dev/null is not a bind mount of the host's");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: sysfs without a network namespace is the host's /sys", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    auto cfg = default_config(false);
    cfg.mounts.pop_back(); // no cgroup mount
    auto r = run_isolated({false, false, false}, [&] {
        RootfsOptions o;
        o.network_namespace = false;
        setup_rootfs(cfg, t.rootfs(), o);
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *sys = find_mount(ms, "/sys");
        expect(sys && sys->fstype == "sysfs" && has_option(sys->options, "ro"), "no read-only /sys");
        // An rbind: the host's submounts come along, read-only too.
        const MountInfo *cg = find_mount(ms, "/sys/fs/cgroup");
        expect(cg && has_option(cg->options, "ro"), "/sys/fs/cgroup of the host missing or writable");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: bind mounts with flags, files, relative sources and propagation", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    fs::create_directories(t.dir() + "/src/sub");
    write_file(t.dir() + "/src/data", "data\n");
    write_file(t.dir() + "/file", "file\n");
    crunpp::spec::Config cfg;
    cfg.root = crunpp::spec::Root{"rootfs", false};
    auto add = [&](std::string dest, std::string type, std::string src, std::vector<std::string> opts) {
        crunpp::spec::Mount m;
        m.destination = std::move(dest);
        m.type = std::move(type);
        m.source = std::move(src);
        m.options = std::move(opts);
        cfg.mounts.push_back(std::move(m));
    };
    add("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"});
    add("/mnt/ro", "bind", t.dir() + "/src", {"bind", "ro", "nosuid", "nodev", "noexec"});
    // A recursive bind made recursively read-only.
    add("/mnt/rro", "none", "src", {"rbind", "rro", "rprivate"});
    add("/etc/new/file", "bind", "file", {"bind"});
    add("/mnt/shared", "tmpfs", "tmpfs", {"shared", "mode=700"});
    auto r = run_isolated({false, true, false}, [&] {
        // A submount in the source (in this private namespace) for rbind/rro.
        expect(mount("tmpfs", (t.dir() + "/src/sub").c_str(), "tmpfs", 0, "size=1m") == 0, "mount the source's submount");
        RootfsOptions o;
        o.bundle = t.dir();
        setup_rootfs(cfg, t.rootfs(), o);
        struct statvfs sv {};
        expect(statvfs("/mnt/ro", &sv) == 0, "statvfs /mnt/ro");
        expect((sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC)) == (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC),
               "/mnt/ro flags");
        expect(read_file("/mnt/ro/data") == "data\n", "/mnt/ro/data");
        expect(read_file("/mnt/rro/data") == "data\n", "/mnt/rro/data");
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *sub = find_mount(ms, "/mnt/rro/sub");
        expect(sub && sub->fstype == "tmpfs" && has_option(sub->options, "ro"), "rro did not reach /mnt/rro/sub");
        const MountInfo *rro = find_mount(ms, "/mnt/rro");
        expect(rro && rro->optional.find("shared") == std::string::npos, "rprivate: " + rro->optional);
        const MountInfo *shared = find_mount(ms, "/mnt/shared");
        expect(shared && shared->optional.find("shared:") != std::string::npos, "not shared: " + shared->optional);
        struct stat st {};
        expect(stat("/mnt/shared", &st) == 0 && (st.st_mode & 0777) == 0700, "tmpfs data mode=700 not applied");
        expect(read_file("/etc/new/file") == "file\n", "bind of a file onto a created file");
        // root.readonly false: / stays writable.
        write_file("/tmp/x", "x");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
    // Nothing was created on the host side.
    CHECK_FALSE(fs::exists(t.dir() + "/src/sub/size"));
}

TEST_CASE("setup_rootfs: symlinks in the rootfs never lead outside it", "[rootfs][root][security]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    const std::string host = t.dir() + "/host-dir";
    const std::string host_dev = t.dir() + "/host-dev";
    fs::create_directory(host);
    fs::create_directory(host_dev);
    std::string r_ = t.rootfs();
    fs::remove(r_ + "/etc/hostname");
    fs::remove(r_ + "/etc");
    fs::create_symlink(host, r_ + "/etc");                         // absolute
    fs::create_symlink("../../../../../../../" + host, r_ + "/mnt/up"); // climbing relative
    fs::remove(r_ + "/dev");
    fs::create_symlink(host_dev, r_ + "/dev");
    write_file(host + "/secret", "host\n");

    auto cfg = default_config(false);
    cfg.mounts.pop_back(); // no cgroup mount
    cfg.root->readonly = false;
    crunpp::spec::Mount m;
    m.destination = "/etc/sub/deeper";
    m.type = "tmpfs";
    m.source = "tmpfs";
    cfg.mounts.push_back(m);
    m.destination = "/mnt/up/file";
    m.type = "bind";
    m.source = "/etc/os-release";
    m.options = {"bind", "ro"};
    cfg.mounts.push_back(m);
    cfg.linux->maskedPaths.push_back("/etc/secret");
    auto r = run_isolated({false, true, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
        auto ms = crunpp::linux::read_mountinfo();
        // Inside the container the symlinks resolve inside the root.
        expect(find_mount(ms, host + "/sub/deeper") != nullptr, "tmpfs not at <root>" + host + "/sub/deeper");
        expect(find_mount(ms, host + "/file") != nullptr, "bind not at <root>" + host + "/file");
        expect(find_mount(ms, host_dev) != nullptr, "/dev tmpfs not at <root>" + host_dev);
        expect_char_device("/dev/null", 1, 3);
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
    // The host directories are untouched: nothing created, nothing masked.
    CHECK(fs::is_empty(host_dev));
    CHECK_FALSE(fs::exists(host + "/sub"));
    CHECK_FALSE(fs::exists(host + "/file"));
    CHECK(read_file(host + "/secret") == "host\n");
    // ... and what was created went inside the rootfs.
    CHECK(fs::is_directory(r_ + host + "/sub/deeper"));
    CHECK(fs::is_regular_file(r_ + host + "/file"));
    CHECK(fs::is_directory(r_ + host_dev));
}

TEST_CASE("setup_rootfs: masked paths refuse a planted symlink and a fake /dev/null", "[rootfs][root][security]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    std::string r_ = t.rootfs();
    write_file(r_ + "/etc/secret", "secret\n");
    fs::create_symlink("/etc/secret", r_ + "/etc/link");
    write_file(r_ + "/dev/null", ""); // a regular file, not the null device
    crunpp::spec::Config cfg;
    cfg.root = crunpp::spec::Root{"rootfs", false};
    cfg.linux = crunpp::spec::Linux{};

    cfg.linux->maskedPaths = {"/etc/link"};
    auto r = run_isolated({false, true, false}, [&] { setup_rootfs(cfg, t.rootfs(), RootfsOptions{}); });
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.message, Catch::Contains("\"/etc/link\": is a symlink"));

    cfg.linux->maskedPaths = {"/etc/secret"};
    r = run_isolated({false, true, false}, [&] { setup_rootfs(cfg, t.rootfs(), RootfsOptions{}); });
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.message, Catch::Contains("\"/dev/null\" is not the null device (char 1:3)"));

    // A missing path is skipped; a readonly path that is a symlink is refused.
    cfg.linux->maskedPaths = {"/no/such/path"};
    cfg.linux->readonlyPaths = {"/etc/link"};
    r = run_isolated({false, true, false}, [&] { setup_rootfs(cfg, t.rootfs(), RootfsOptions{}); });
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.message, Catch::Contains("readonlyPaths: \"/etc/link\": is a symlink"));
}

TEST_CASE("setup_rootfs: errors name the mount that failed", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    auto run_with = [&](crunpp::spec::Mount m) {
        crunpp::spec::Config cfg;
        cfg.root = crunpp::spec::Root{"rootfs", false};
        cfg.mounts.push_back(std::move(m));
        return run_isolated({false, true, false}, [&] { setup_rootfs(cfg, t.rootfs(), RootfsOptions{}); });
    };
    crunpp::spec::Mount m;
    m.destination = "/mnt";
    m.type = "nosuchfs";
    m.source = "nosuchfs";
    auto r = run_with(m);
    CHECK(r.exit_code == 1);
    CHECK(r.message == "mount \"nosuchfs\" on \"/mnt\": No such device");

    m.type = "bind";
    m.source = "/nonexistent-crunpp-source";
    m.options = {"bind"};
    r = run_with(m);
    CHECK(r.message == "mount \"/nonexistent-crunpp-source\" on \"/mnt\": No such file or directory");

    m.type = "proc";
    m.source = "proc";
    m.options = {"tmpcopyup"};
    r = run_with(m);
    CHECK(r.message == ".mounts[0].options: \"tmpcopyup\" needs a tmpfs mount");

    // A rootfs symlink leading a bind onto the container's procfs.
    fs::create_symlink("/proc/self", t.rootfs() + "/data");
    crunpp::spec::Config pc;
    pc.root = crunpp::spec::Root{"rootfs", false};
    crunpp::spec::Mount p;
    p.destination = "/proc";
    p.type = "proc";
    p.source = "proc";
    pc.mounts.push_back(p);
    p.destination = "/data/attr";
    p.type = "bind";
    p.source = "/tmp";
    p.options = {"bind"};
    pc.mounts.push_back(p);
    r = run_isolated({false, true, false}, [&] { setup_rootfs(pc, t.rootfs(), RootfsOptions{}); });
    CHECK(r.message == "mount \"/tmp\" on \"/data/attr\": the destination is inside procfs");
    pc.mounts[1].destination = "/proc/uptime"; // lxcfs' files are allowed
    pc.mounts[1].source = "/proc/uptime";
    r = run_isolated({false, true, false}, [&] { setup_rootfs(pc, t.rootfs(), RootfsOptions{}); });
    INFO(r.message);
    CHECK(r.exit_code == 0);

    // In the mount namespace of pid 1 (here: this test's own pid namespace
    // and private mount namespace, with a proc of that pid namespace).
    r = run_isolated({false, true, false}, [&] {
        expect(mount("proc", "/proc", "proc", 0, nullptr) == 0, "mount proc");
        setup_rootfs(pc, t.rootfs(), RootfsOptions{});
    });
    CHECK(r.message == "setup_rootfs: the process is in the mount namespace of pid 1, not in one of its own");

    m.options = {};
    m.destination = "/..";
    r = run_with(m);
    CHECK(r.message == ".mounts[0].destination: cannot mount over the container's root \"/\"");
}

TEST_CASE("setup_rootfs: --no-pivot moves the rootfs and chroots", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    auto cfg = default_config(false);
    cfg.mounts.pop_back();
    auto r = run_isolated({false, true, false}, [&] {
        RootfsOptions o;
        o.no_pivot = true;
        setup_rootfs(cfg, t.rootfs(), o);
        expect(read_file("/etc/hostname") == "test\n", "/ is not the rootfs");
        expect(read_file("/proc/keys").empty(), "/proc/keys not masked");
        expect_errno(open("/newfile", O_WRONLY | O_CREAT, 0644), EROFS, "create /newfile");
        // The root is the moved rootfs; what the container sees of proc
        // is its own /proc and the read-only binds of its subpaths.
        auto ms = crunpp::linux::read_mountinfo();
        for (const auto &m : ms)
            if (m.fstype == "proc")
                expect(crunpp::linux::path_is_under(m.mountpoint, "/proc"), "a proc mount at " + m.mountpoint);
        const MountInfo *root = find_mount(ms, "/");
        expect(root != nullptr && root->root.find("crunpp-rootfs-test") != std::string::npos,
               "/ is not the rootfs: " + (root ? root->root : std::string("none")));
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: linux.devices and the console", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    auto cfg = default_config(false);
    cfg.mounts.pop_back();
    crunpp::spec::Device d;
    d.type = "c";
    d.path = "/dev/net/tun";
    d.major = 10;
    d.minor = 200;
    d.fileMode = 0600;
    cfg.linux->devices.push_back(d);
    // Listed again: the later entry replaces the node.
    d.fileMode = 0620;
    d.uid = 7;
    d.gid = 8;
    cfg.linux->devices.push_back(d);
    d = {};
    d.type = "p";
    d.path = "/dev/myfifo";
    cfg.linux->devices.push_back(d);
    auto r = run_isolated({false, true, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
        struct stat st {};
        expect(stat("/dev/net/tun", &st) == 0, "no /dev/net/tun");
        expect(S_ISCHR(st.st_mode) && major(st.st_rdev) == 10 && minor(st.st_rdev) == 200, "/dev/net/tun type");
        expect((st.st_mode & 07777) == 0620 && st.st_uid == 7 && st.st_gid == 8, "/dev/net/tun mode/owner");
        expect(stat("/dev/myfifo", &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0666, "/dev/myfifo");
        // The defaults, made under umask 0 without chmod or chown: exact.
        expect(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0666 &&
                   st.st_uid == 0 && st.st_gid == 0,
               "/dev/null mode/owner");
        expect(stat("/dev/net", &st) == 0 && (st.st_mode & 07777) == 0755, "/dev/net mode");
        // The console: the pty slave bound onto /dev/console.
        int master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
        expect(master >= 0, "open /dev/ptmx");
        int unlock = 0;
        expect(ioctl(master, TIOCSPTLCK, &unlock) == 0, "unlockpt");
        int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
        expect(slave >= 0, "TIOCGPTPEER");
        crunpp::linux::setup_console(slave);
        struct stat ss {}, cs {};
        expect(fstat(slave, &ss) == 0 && stat("/dev/console", &cs) == 0, "stat console");
        expect(S_ISCHR(cs.st_mode) && cs.st_rdev == ss.st_rdev, "/dev/console is not the pty");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: a device in a setgid directory gets the owner the config gives", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    const std::string sgid = t.rootfs() + "/sgid";
    REQUIRE(mkdir(sgid.c_str(), 0775) == 0);
    REQUIRE(chown(sgid.c_str(), 0, 5) == 0);
    REQUIRE(chmod(sgid.c_str(), 02775) == 0);
    auto cfg = default_config(false);
    cfg.mounts.pop_back();
    crunpp::spec::Device d;
    d.type = "c";
    d.path = "/sgid/null";
    d.major = 1;
    d.minor = 3;
    d.fileMode = 0640;
    cfg.linux->devices.push_back(d);
    auto r = run_isolated({false, true, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
        struct stat st {};
        // mknod in a setgid directory takes the directory's group (5): the
        // config's gid 0 needs the chown.
        expect(stat("/sgid/null", &st) == 0 && S_ISCHR(st.st_mode), "no /sgid/null");
        expect((st.st_mode & 07777) == 0640 && st.st_uid == 0 && st.st_gid == 0, "/sgid/null mode/owner");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: rootfsPropagation", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    crunpp::spec::Config cfg;
    cfg.root = crunpp::spec::Root{"rootfs", false};
    cfg.linux = crunpp::spec::Linux{};
    cfg.linux->rootfsPropagation = "rshared";
    crunpp::spec::Mount proc;
    proc.destination = "/proc";
    proc.type = "proc";
    cfg.mounts.push_back(proc);
    auto r = run_isolated({false, true, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *root = find_mount(ms, "/");
        expect(root && root->optional.find("shared:") != std::string::npos, "/ is not shared");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);

    // Non-recursive "private" with a shared host mount holding the rootfs:
    // nothing the container mounts may reach that shared mount's peers.
    fs::create_directory(t.dir() + "/peer");
    cfg.linux->rootfsPropagation = "private";
    cfg.mounts.push_back(crunpp::spec::Mount{"/mnt/x", "tmpfs", "tmpfs", {}, {}, {}});
    r = run_isolated({false, true, false}, [&] {
        // In the test's namespace: the rootfs' dir made a shared mount with
        // a peer at <dir>/peer, standing for the host.
        expect(mount(t.dir().c_str(), t.dir().c_str(), nullptr, MS_BIND, nullptr) == 0, "bind dir");
        expect(mount(nullptr, t.dir().c_str(), nullptr, MS_SHARED, nullptr) == 0, "make dir shared");
        expect(mount(t.dir().c_str(), (t.dir() + "/peer").c_str(), nullptr, MS_BIND, nullptr) == 0, "peer");
        pid_t pid = fork();
        if (pid == 0) {
            // A child in its own mount namespace runs the setup; the peer
            // stays in this one.
            try {
                expect(unshare(CLONE_NEWNS) == 0, "unshare");
                setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
            } catch (...) {
                _exit(1);
            }
            _exit(0);
        }
        int st = 0;
        expect(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "setup in the child failed");
        for (const auto &m : crunpp::linux::read_mountinfo())
            expect(m.mountpoint.find("/rootfs/") == std::string::npos, "propagated to the peer: " + m.mountpoint);
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);

    cfg.linux->rootfsPropagation = "bogus";
    r = run_isolated({false, true, false}, [&] { setup_rootfs(cfg, t.rootfs(), RootfsOptions{}); });
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.message, Catch::Contains("unknown propagation \"bogus\""));
}

TEST_CASE("setup_rootfs: idmapped bind mount as root", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    fs::create_directory(t.dir() + "/owned");
    write_file(t.dir() + "/owned/f", "x");
    REQUIRE(chown((t.dir() + "/owned/f").c_str(), 1000, 1000) == 0);
    crunpp::spec::Config cfg;
    cfg.root = crunpp::spec::Root{"rootfs", false};
    crunpp::spec::Mount m;
    m.destination = "/mnt/idmapped";
    m.type = "bind";
    m.source = t.dir() + "/owned";
    m.options = {"bind", "idmap"};
    m.uidMappings = {{1000, 2000, 1}};
    m.gidMappings = {{1000, 3000, 1}};
    cfg.mounts.push_back(m);
    auto r = run_isolated({false, true, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
        struct stat st {};
        expect(stat("/mnt/idmapped/f", &st) == 0, "stat /mnt/idmapped/f");
        expect(st.st_uid == 2000 && st.st_gid == 3000,
               "owner " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid));
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
    struct stat st {};
    REQUIRE(stat((t.dir() + "/owned/f").c_str(), &st) == 0);
    CHECK(st.st_uid == 1000);

    // "idmap" without mappings and without a user namespace: a config error.
    cfg.mounts[0].uidMappings.clear();
    cfg.mounts[0].gidMappings.clear();
    r = run_isolated({false, true, false}, [&] { setup_rootfs(cfg, t.rootfs(), RootfsOptions{}); });
    CHECK(r.message == ".mounts[0].options: \"idmap\" without mappings needs a user namespace");
}

TEST_CASE("setup_rootfs: rootless bind keeps the source's locked flags", "[rootfs][rootless]") {
    if (!is_root()) {
        WARN("skipped: needs root to become nobody");
        return;
    }
    TempRootfs t;
    fs::create_directory(t.dir() + "/locked");
    t.chown_all(65534);
    crunpp::spec::Config cfg;
    cfg.root = crunpp::spec::Root{"rootfs", false};
    crunpp::spec::Mount m;
    m.destination = "/mnt/locked";
    m.type = "bind";
    m.source = t.dir() + "/locked";
    // Asks to clear what the more privileged namespace set: the kernel
    // refuses, the locked flags are kept, the rest applies.
    m.options = {"bind", "rw", "suid", "dev", "noexec"};
    cfg.mounts.push_back(m);
    Isolation iso{true, false, false};
    iso.prepare = [&] {
        expect(mount("tmpfs", (t.dir() + "/locked").c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=755") == 0,
               "mount the locked tmpfs");
    };
    auto r = run_isolated(iso, [&] {
        setup_rootfs(cfg, t.rootfs(), rootless_options());
        struct statvfs sv {};
        expect(statvfs("/mnt/locked", &sv) == 0, "statvfs /mnt/locked");
        expect((sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC)) == (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC),
               "flags " + std::to_string(sv.f_flag));
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: rootless cgroup mount in a cgroup namespace", "[rootfs][rootless]") {
    if (!is_root()) {
        WARN("skipped: needs root to become nobody");
        return;
    }
    TempRootfs t;
    t.chown_all(65534);
    auto cfg = default_config(true);
    crunpp::spec::Mount m;
    m.destination = "/sys/fs/cgroup";
    m.type = "cgroup";
    m.source = "cgroup";
    m.options = {"nosuid", "noexec", "nodev", "relatime", "ro"};
    cfg.mounts.push_back(m);
    auto r = run_isolated({true, false, true}, [&] {
        auto o = rootless_options();
        o.cgroup_namespace = true;
        setup_rootfs(cfg, t.rootfs(), o);
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *cg = find_mount(ms, "/sys/fs/cgroup");
        expect(cg && cg->fstype == "tmpfs" && has_option(cg->options, "ro"), "no read-only tmpfs on /sys/fs/cgroup");
        const MountInfo *cpu = find_mount(ms, "/sys/fs/cgroup/cpu");
        expect(cpu && cpu->fstype == "cgroup" && cpu->root == "/", "no cpu hierarchy rooted at the container's cgroup");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: cgroup mount without a cgroup namespace binds the own cgroups", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    auto cfg = default_config(false);
    auto r = run_isolated({false, true, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
        auto ms = crunpp::linux::read_mountinfo();
        int hierarchies = 0;
        for (const auto &m : ms)
            if (m.fstype == "cgroup" && crunpp::linux::path_is_under(m.mountpoint, "/sys/fs/cgroup")) {
                ++hierarchies;
                expect(has_option(m.options, "ro"), m.mountpoint + " is writable");
            }
        expect(hierarchies > 0, "no cgroup hierarchy bound");
        expect(access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) == 0, "no memory hierarchy");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("setup_rootfs: remount and mqueue without an ipc namespace", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    crunpp::spec::Config cfg;
    cfg.root = crunpp::spec::Root{"rootfs", false};
    crunpp::spec::Mount m;
    m.destination = "/mnt/t";
    m.type = "tmpfs";
    m.source = "tmpfs";
    cfg.mounts.push_back(m);
    m.options = {"remount", "ro", "nosuid"};
    cfg.mounts.push_back(m);
    m.destination = "/proc";
    m.type = "proc";
    m.options = {};
    cfg.mounts.push_back(m);
    auto r = run_isolated({false, true, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
        struct statvfs sv {};
        expect(statvfs("/mnt/t", &sv) == 0 && (sv.f_flag & ST_RDONLY) && (sv.f_flag & ST_NOSUID), "not remounted");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);

    // As nobody without an ipc namespace the mqueue mount is refused; the
    // host's /dev/mqueue is bound instead (an error naming it when the host
    // has none).
    TempRootfs t2;
    t2.chown_all(65534);
    cfg = {};
    cfg.root = crunpp::spec::Root{"rootfs", false};
    m.destination = "/dev/mqueue";
    m.type = "mqueue";
    m.source = "mqueue";
    m.options = {"nosuid", "noexec", "nodev"};
    cfg.mounts.push_back(m);
    Isolation iso{true, false, false};
    iso.ipc = false;
    r = run_isolated(iso, [&] { setup_rootfs(cfg, t2.rootfs(), rootless_options()); });
    if (access("/dev/mqueue", F_OK) == 0) {
        INFO(r.message);
        CHECK(r.exit_code == 0);
    } else {
        CHECK(r.message == "mount \"mqueue\" on \"/dev/mqueue\": bind \"/dev/mqueue\": No such file or directory");
    }
}

TEST_CASE("setup_rootfs: idmapped mounts prepared by the host for a user namespace", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    fs::create_directory(t.dir() + "/owned");
    write_file(t.dir() + "/owned/f", "x");
    REQUIRE(chown((t.dir() + "/owned/f").c_str(), 5, 6) == 0);
    t.chown_all(100000);
    REQUIRE(chown((t.dir() + "/owned/f").c_str(), 5, 6) == 0);
    crunpp::UniqueFd userns(make_userns(100000, 65536));
    crunpp::spec::Config cfg;
    cfg.root = crunpp::spec::Root{"rootfs", false};
    cfg.linux = crunpp::spec::Linux{};
    cfg.linux->uidMappings = {{0, 100000, 65536}};
    cfg.linux->gidMappings = {{0, 100000, 65536}};
    crunpp::spec::Mount m;
    m.destination = "/mnt/idmapped";
    m.type = "bind";
    m.source = "owned";
    m.options = {"bind", "idmap", "ro"};
    cfg.mounts.push_back(m);
    m.destination = "/mnt/plain";
    m.options = {"bind"};
    cfg.mounts.push_back(m);

    auto trees = crunpp::linux::prepare_idmapped_mounts(cfg, t.dir(), userns.get());
    REQUIRE(trees.size() == 2);
    CHECK(trees[0]);
    CHECK_FALSE(trees[1]);
    Isolation iso(false, true, false);
    iso.join_userns = userns.get();
    auto r = run_isolated(iso, [&] {
        RootfsOptions o;
        o.user_namespace = true;
        o.bundle = t.dir();
        o.prepared_mounts = {trees[0].get(), -1};
        setup_rootfs(cfg, t.rootfs(), o);
        struct stat st {};
        // Host 5:6 shows as 5:6 in the container through the idmapping,
        // as the overflow id without it.
        expect(stat("/mnt/idmapped/f", &st) == 0 && st.st_uid == 5 && st.st_gid == 6,
               "idmapped owner " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid));
        expect(stat("/mnt/plain/f", &st) == 0 && st.st_uid == 65534, "plain owner " + std::to_string(st.st_uid));
        struct statvfs sv {};
        expect(statvfs("/mnt/idmapped", &sv) == 0 && (sv.f_flag & ST_RDONLY), "idmapped mount is not read-only");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);

    // Without the host's preparation the kernel refuses, and says so.
    r = run_isolated(iso, [&] {
        RootfsOptions o;
        o.user_namespace = true;
        o.bundle = t.dir();
        setup_rootfs(cfg, t.rootfs(), o);
    });
    CHECK(r.message == "mount \"owned\" on \"/mnt/idmapped\": idmapped mount: Operation not permitted");
}

TEST_CASE("setup_rootfs: tmpcopyup copies the destination's content into the tmpfs", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    TempRootfs t;
    std::string r_ = t.rootfs();
    fs::create_directories(r_ + "/etc/sub/deep");
    write_file(r_ + "/etc/sub/deep/file", "deep\n");
    REQUIRE(chown((r_ + "/etc/sub/deep/file").c_str(), 7, 8) == 0);
    REQUIRE(chmod((r_ + "/etc/sub/deep/file").c_str(), 0640) == 0);
    fs::create_symlink(t.dir() + "/outside", r_ + "/etc/link");
    write_file(t.dir() + "/outside", "outside\n");
    REQUIRE(mkfifo((r_ + "/etc/fifo").c_str(), 0600) == 0);
    fs::create_directories(r_ + "/srv/data");
    write_file(r_ + "/srv/data/x", "x\n");
    crunpp::spec::Config cfg;
    cfg.root = crunpp::spec::Root{"rootfs", false};
    crunpp::spec::Mount m;
    m.destination = "/etc";
    m.type = "tmpfs";
    m.source = "tmpfs";
    m.options = {"tmpcopyup", "mode=755", "nosuid"};
    cfg.mounts.push_back(m);
    m.destination = "/srv/data";
    m.options = {"tmpcopyup", "ro"};
    cfg.mounts.push_back(m);
    m.destination = "/proc";
    m.type = "proc";
    m.source = "proc";
    m.options = {};
    cfg.mounts.push_back(m);
    auto r = run_isolated({false, true, false}, [&] {
        setup_rootfs(cfg, t.rootfs(), RootfsOptions{});
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *etc = find_mount(ms, "/etc");
        expect(etc && etc->fstype == "tmpfs", "/etc is not a tmpfs");
        expect(read_file("/etc/hostname") == "test\n", "/etc/hostname not copied");
        expect(read_file("/etc/sub/deep/file") == "deep\n", "/etc/sub/deep/file not copied");
        struct stat st {};
        expect(lstat("/etc/sub/deep/file", &st) == 0 && st.st_uid == 7 && st.st_gid == 8 && (st.st_mode & 07777) == 0640,
               "owner/mode not copied");
        expect(link_of("/etc/link") == t.dir() + "/outside", "symlink not copied as a symlink");
        expect(lstat("/etc/fifo", &st) == 0 && S_ISFIFO(st.st_mode), "fifo not copied");
        write_file("/etc/new", "new");
        expect(read_file("/srv/data/x") == "x\n", "/srv/data/x not copied");
        expect_errno(open("/srv/data/y", O_WRONLY | O_CREAT, 0644), EROFS, "create /srv/data/y");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
    // The rootfs itself is unchanged.
    CHECK_FALSE(fs::exists(r_ + "/etc/new"));
    CHECK(read_file(t.dir() + "/outside") == "outside\n");
}

TEST_CASE("setup_rootfs: cgroup mount on a cgroup v2 host", "[rootfs][root][rootless]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    // This host is hybrid: a private mount namespace where /sys/fs/cgroup
    // is the cgroup2 hierarchy stands for a v2 host.
    auto as_v2_host = [] {
        expect(mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, nullptr) == 0, "mount cgroup2 on /sys/fs/cgroup");
    };
    crunpp::spec::Mount m;
    m.destination = "/sys/fs/cgroup";
    m.type = "cgroup";
    m.source = "cgroup";
    m.options = {"nosuid", "noexec", "nodev", "relatime", "ro"};

    TempRootfs t;
    auto cfg = default_config(false);
    cfg.mounts.pop_back();
    cfg.mounts.push_back(m);
    Isolation iso(false, true, true);
    iso.prepare = as_v2_host;
    auto r = run_isolated(iso, [&] {
        RootfsOptions o;
        o.cgroup_namespace = true;
        setup_rootfs(cfg, t.rootfs(), o);
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *cg = find_mount(ms, "/sys/fs/cgroup");
        expect(cg && cg->fstype == "cgroup2" && has_option(cg->options, "ro") && cg->root == "/",
               "no read-only cgroup2 rooted at the container's cgroup: " + (cg ? cg->fstype + " " + cg->options + " " + cg->root : std::string("none")));
        expect(access("/sys/fs/cgroup/cgroup.procs", F_OK) == 0, "no cgroup.procs");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);

    // Rootless without a cgroup namespace: the kernel refuses cgroup2, the
    // container's own cgroup is bound instead.
    TempRootfs t2;
    t2.chown_all(65534);
    auto rcfg = default_config(true);
    rcfg.mounts.push_back(m);
    Isolation riso(true, false, false);
    riso.prepare = as_v2_host;
    r = run_isolated(riso, [&] {
        setup_rootfs(rcfg, t2.rootfs(), rootless_options());
        auto ms = crunpp::linux::read_mountinfo();
        const MountInfo *cg = find_mount(ms, "/sys/fs/cgroup");
        expect(cg && cg->fstype == "cgroup2" && has_option(cg->options, "ro"), "no read-only cgroup2 bind");
        expect(access("/sys/fs/cgroup/cgroup.procs", F_OK) == 0, "no cgroup.procs");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("cgroup_mounts: read once per process, read again after forget_cgroup_mounts", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    auto r = run_isolated({false, true, false}, [&] {
        using crunpp::linux::cgroup_mounts;
        auto has = [](const std::vector<MountInfo> &ms, const std::string &mp) {
            return std::any_of(ms.begin(), ms.end(), [&](const MountInfo &m) { return m.mountpoint == mp; });
        };
        const std::vector<MountInfo> first = cgroup_mounts();
        expect(!first.empty(), "no cgroup mount on this host");
        const std::string gone = first.back().mountpoint;
        // A mount namespace whose cgroup mounts differ (as one joined by
        // path may): the kept list still has the mount until forgotten.
        expect(umount2(gone.c_str(), MNT_DETACH) == 0, "umount " + gone);
        expect(has(cgroup_mounts(), gone), "cgroup_mounts read mountinfo again");
        crunpp::linux::forget_cgroup_mounts();
        expect(!has(cgroup_mounts(), gone), "forget_cgroup_mounts kept the old list");
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

namespace {

// What mountinfo shows at /sys/fs/cgroup and directly below it: the top
// mount of each point (pure v2: the root alone, its cgroups are no mounts).
std::vector<MountInfo> cgroup_mounts_in_mountinfo() {
    const std::string root = "/sys/fs/cgroup";
    std::vector<MountInfo> out;
    for (MountInfo &m : crunpp::linux::read_mountinfo()) {
        if (m.fstype != "cgroup" && m.fstype != "cgroup2")
            continue;
        if (m.mountpoint != root &&
            (!crunpp::linux::path_is_under(m.mountpoint, root) || m.mountpoint.find('/', root.size() + 1) != std::string::npos))
            continue;
        std::erase_if(out, [&](const MountInfo &o) { return o.mountpoint == m.mountpoint; });
        out.push_back(std::move(m));
    }
    for (const MountInfo &m : out)
        if (m.mountpoint == root)
            return {m};
    return out;
}

// The super options but rw/ro (mountinfo's only), sorted.
std::string controllers_of(const std::string &super_options) {
    std::vector<std::string> options;
    for (const std::string &o : crunpp::util::split(super_options, ','))
        if (!o.empty() && o != "rw" && o != "ro")
            options.push_back(o);
    std::sort(options.begin(), options.end());
    std::string out;
    for (const std::string &o : options)
        out += (out.empty() ? "" : ",") + o;
    return out;
}

// "mountpoint root fstype controllers", a line of what the hierarchy code uses.
std::string mount_line(const MountInfo &m) {
    return m.mountpoint + " " + m.root + " " + m.fstype + " " + controllers_of(m.super_options) + "\n";
}

void expect_same_cgroup_mounts(const std::string &layout) {
    const std::optional<std::vector<MountInfo>> scanned = crunpp::linux::scan_cgroup_mounts();
    expect(scanned.has_value(), layout + ": the scan gave up");
    std::string seen, want;
    for (const MountInfo &m : *scanned)
        seen += std::to_string(m.id) + " " + mount_line(m);
    for (const MountInfo &m : cgroup_mounts_in_mountinfo())
        want += std::to_string(m.id) + " " + mount_line(m);
    expect(seen == want, layout + ": scanned\n" + seen + "mountinfo\n" + want);
}

} // namespace

TEST_CASE("scan_cgroup_mounts: the cgroup mounts mountinfo shows, without reading it", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    if (!crunpp::linux::scan_cgroup_mounts()) {
        WARN("skipped: this kernel tells no cgroup mount by statmount (Linux 6.11 and later do); mountinfo is read");
        return;
    }
    const std::string sub = "crunpp-scan-" + std::to_string(getpid());
    std::string sub_dir;
    auto r = run_isolated({false, true, false}, [&] {
        expect_same_cgroup_mounts("the host's layout");
        // Another layout: a hierarchy gone, one shown from a subtree (as in
        // a container), one mount stacked on another's point.
        std::vector<MountInfo> v1;
        for (const MountInfo &m : cgroup_mounts_in_mountinfo())
            if (m.fstype == "cgroup")
                v1.push_back(m);
        if (v1.size() < 3)
            return; // a pure v2 host: its one mount was compared above
        expect(umount2(v1[0].mountpoint.c_str(), MNT_DETACH) == 0, "umount " + v1[0].mountpoint);
        const std::string subtree = v1[1].mountpoint + "/" + sub;
        expect(mkdir(subtree.c_str(), 0755) == 0, "mkdir " + subtree);
        expect(mount(subtree.c_str(), v1[1].mountpoint.c_str(), nullptr, MS_BIND, nullptr) == 0,
               "bind " + subtree);
        expect(mount(v1[1].mountpoint.c_str(), v1[2].mountpoint.c_str(), nullptr, MS_BIND, nullptr) == 0,
               "stack on " + v1[2].mountpoint);
        expect_same_cgroup_mounts("a changed layout");
        // The unified hierarchy at /sys/fs/cgroup itself (a pure v2 host's).
        expect(mount("none", "/sys/fs/cgroup", "cgroup2", 0, nullptr) == 0, "mount cgroup2 on /sys/fs/cgroup");
        expect_same_cgroup_mounts("cgroup2 at /sys/fs/cgroup");
    });
    // The cgroup made in the host's hierarchy (the body's mounts are gone).
    for (const MountInfo &m : cgroup_mounts_in_mountinfo())
        rmdir((m.mountpoint + "/" + sub).c_str());
    INFO(r.message);
    CHECK(r.exit_code == 0);
}

TEST_CASE("cgroup_mounts: read from mountinfo when statmount fails (older kernels, a seccomp profile)", "[rootfs][root]") {
    if (!is_root()) {
        WARN("skipped: needs root");
        return;
    }
    auto r = run_isolated({false, true, false}, [&] {
        std::string want;
        for (const MountInfo &m : cgroup_mounts_in_mountinfo())
            want += mount_line(m);
        // statmount (457 on every architecture) fails with ENOSYS.
        sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 457, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
        expect(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0,
               "install the seccomp filter");
        expect(!crunpp::linux::scan_cgroup_mounts(), "the scan did not give up without statmount");
        crunpp::linux::forget_cgroup_mounts();
        std::string got;
        for (const MountInfo &m : crunpp::linux::cgroup_mounts())
            if (want.find(m.mountpoint + " ") != std::string::npos)
                got += mount_line(m);
        expect(!want.empty() && got == want, "from mountinfo\n" + got + "expected\n" + want);
    });
    INFO(r.message);
    CHECK(r.exit_code == 0);
}
