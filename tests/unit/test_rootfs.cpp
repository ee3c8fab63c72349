// SPDX-License-Identifier: GPL-2.0-or-later
// setup_rootfs for real, as pid 1 of fresh namespaces in a forked child:
// as root and as nobody in a user namespace (rootless).
#include <catch.hpp>

#include "crunpp/error.hpp"
#include "rootfs_test_util.hpp"
#include "src/libcrunpp/linux/mountinfo.hpp"
#include "src/libcrunpp/linux/rootfs.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
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

bool has_option(const std::string &opts, const std::string &o) {
    return ("," + opts + ",").find("," + o + ",") != std::string::npos;
}

std::string link_of(const std::string &p) {
    char buf[PATH_MAX] = {};
    ssize_t n = readlink(p.c_str(), buf, sizeof buf - 1);
    return n < 0 ? std::string() : std::string(buf, size_t(n));
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
        setup_rootfs(cfg, t.rootfs(), o);
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

    m.type = "tmpfs";
    m.source = "tmpfs";
    m.options = {"tmpcopyup"};
    r = run_with(m);
    CHECK(r.message == ".mounts[0].options: \"tmpcopyup\" is not supported");

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
