// SPDX-License-Identifier: GPL-2.0-or-later
// Mount option parsing, mountinfo parsing and in-root path cleaning.
#include <catch.hpp>

#include "crunpp/error.hpp"
#include "src/libcrunpp/linux/mount/mountinfo.hpp"
#include "src/libcrunpp/linux/mount/rootfs.hpp"
#include "src/libcrunpp/linux/mount/rootfs_internal.hpp"
#include "src/libcrunpp/linux/mount/safe_path.hpp"

#include <linux/magic.h>
#include <sys/mount.h>

using namespace crunpp;
using namespace crunpp::linux;

TEST_CASE("mount options: flags set and cleared, last one wins", "[mount]") {
    auto f = parse_mount_options({"nosuid", "noexec", "nodev", "ro"});
    CHECK(f.set == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
    CHECK(f.clear == 0);
    CHECK(f.data.empty());
    CHECK_FALSE(f.bind);

    f = parse_mount_options({"ro", "rw"});
    CHECK((f.set & MS_RDONLY) == 0);
    CHECK((f.clear & MS_RDONLY) != 0);
    f = parse_mount_options({"rw", "ro"});
    CHECK((f.set & MS_RDONLY) != 0);
    CHECK((f.clear & MS_RDONLY) == 0);

    f = parse_mount_options({"suid", "dev", "exec", "async", "atime", "diratime", "nomand", "loud", "noiversion",
                             "nolazytime", "norelatime", "nostrictatime", "symfollow"});
    CHECK(f.set == 0);
    CHECK(f.clear == (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_NOATIME | MS_NODIRATIME | MS_MANDLOCK |
                      MS_SILENT | MS_I_VERSION | MS_LAZYTIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW));

    f = parse_mount_options({"sync", "dirsync", "remount", "mand", "noatime", "nodiratime", "lazytime", "silent",
                             "iversion", "nosymfollow", "defaults"});
    CHECK(f.set == (MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME |
                    MS_LAZYTIME | MS_SILENT | MS_I_VERSION | MS_NOSYMFOLLOW));
    CHECK(f.explicit_atime);
}

TEST_CASE("mount options: atime modes replace each other", "[mount]") {
    auto f = parse_mount_options({"noatime", "relatime"});
    CHECK((f.set & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) == MS_RELATIME);
    f = parse_mount_options({"relatime", "strictatime"});
    CHECK((f.set & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) == MS_STRICTATIME);
    f = parse_mount_options({"nosuid"});
    CHECK_FALSE(f.explicit_atime);
}

TEST_CASE("mount options: bind, rbind, idmap, tmpcopyup", "[mount]") {
    auto f = parse_mount_options({"bind"});
    CHECK(f.bind);
    CHECK_FALSE(f.recursive);
    f = parse_mount_options({"rbind", "ro"});
    CHECK(f.bind);
    CHECK(f.recursive);
    CHECK(f.set == MS_RDONLY);
    f = parse_mount_options({"idmap"});
    CHECK(f.idmap);
    CHECK_FALSE(f.idmap_recursive);
    f = parse_mount_options({"ridmap"});
    CHECK(f.idmap);
    CHECK(f.idmap_recursive);
    CHECK(parse_mount_options({"tmpcopyup"}).tmpcopyup);
}

TEST_CASE("mount options: propagation", "[mount]") {
    CHECK(parse_mount_options({"private"}).propagation == MS_PRIVATE);
    CHECK(parse_mount_options({"rprivate"}).propagation == (MS_PRIVATE | MS_REC));
    CHECK(parse_mount_options({"shared"}).propagation == MS_SHARED);
    CHECK(parse_mount_options({"rshared"}).propagation == (MS_SHARED | MS_REC));
    CHECK(parse_mount_options({"slave"}).propagation == MS_SLAVE);
    CHECK(parse_mount_options({"rslave"}).propagation == (MS_SLAVE | MS_REC));
    CHECK(parse_mount_options({"unbindable"}).propagation == MS_UNBINDABLE);
    CHECK(parse_mount_options({"runbindable"}).propagation == (MS_UNBINDABLE | MS_REC));
    CHECK(parse_mount_options({"shared", "rslave"}).propagation == (MS_SLAVE | MS_REC));
    CHECK(parse_propagation("rslave") == (MS_SLAVE | MS_REC));
    CHECK_THROWS_WITH(parse_propagation("sharde"),
                      Catch::Contains(".linux.rootfsPropagation") && Catch::Contains("\"sharde\""));
}

TEST_CASE("mount options: recursive attributes for mount_setattr", "[mount]") {
    auto f = parse_mount_options({"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"});
    CHECK(f.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                         MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));
    CHECK(f.attr_clr == 0);
    CHECK(f.set == 0);

    f = parse_mount_options({"rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"});
    CHECK(f.attr_set == 0);
    CHECK(f.attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                         MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW));

    f = parse_mount_options({"rro", "rrw"});
    CHECK(f.attr_set == 0);
    CHECK(f.attr_clr == MOUNT_ATTR_RDONLY);

    // atime modes: the whole mask is cleared, the mode set.
    f = parse_mount_options({"rnoatime"});
    CHECK(f.attr_clr == MOUNT_ATTR__ATIME);
    CHECK(f.attr_set == MOUNT_ATTR_NOATIME);
    f = parse_mount_options({"rnoatime", "rstrictatime"});
    CHECK(f.attr_set == MOUNT_ATTR_STRICTATIME);
    for (const char *o : {"rrelatime", "ratime", "rnorelatime", "rnostrictatime"}) {
        f = parse_mount_options({"rstrictatime", o});
        CHECK(f.attr_clr == MOUNT_ATTR__ATIME);
        CHECK(f.attr_set == MOUNT_ATTR_RELATIME);
    }
}

TEST_CASE("mount options: unknown options are filesystem data", "[mount]") {
    auto f = parse_mount_options({"nosuid", "mode=755", "size=65536k", "strictatime", "newinstance"});
    CHECK(f.data == "mode=755,size=65536k,newinstance");
    CHECK(f.set == (MS_NOSUID | MS_STRICTATIME));
    CHECK(parse_mount_options({}).data.empty());
}

TEST_CASE("in-root paths are cleaned lexically and never climb above the root", "[mount]") {
    CHECK(clean_relative_path("/") == "");
    CHECK(clean_relative_path("/..") == "");
    CHECK(clean_relative_path("/../../etc") == "etc");
    CHECK(clean_relative_path("/a/./b/../c/") == "a/c");
    CHECK(clean_relative_path("//dev//pts") == "dev/pts");
    CHECK(clean_relative_path("a/b") == "a/b");
    CHECK(path_components("dev/pts/x") == std::vector<std::string>{"dev", "pts", "x"});
    CHECK(path_components("").empty());
}

TEST_CASE("mountinfo lines are parsed, escapes decoded", "[mount]") {
    const char *text =
        "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "30 22 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 master:3 - cgroup cgroup rw,cpu,cpuacct\n"
        "31 1 8:1 /dir /mnt/with\\040space rw - ext4 /dev/sda1 rw\n";
    auto m = parse_mountinfo(text);
    REQUIRE(m.size() == 3);
    CHECK(m[0].id == 22);
    CHECK(m[0].parent == 1);
    CHECK(m[0].mountpoint == "/proc");
    CHECK(m[0].fstype == "proc");
    CHECK(m[0].optional == "shared:12");
    CHECK(m[1].optional == "shared:9 master:3");
    CHECK(m[1].super_options == "rw,cpu,cpuacct");
    CHECK(m[2].root == "/dir");
    CHECK(m[2].mountpoint == "/mnt/with space");
    CHECK(m[2].optional.empty());
    CHECK(m[2].source == "/dev/sda1");
    CHECK_THROWS_AS(parse_mountinfo("garbage line\n"), Error);
    CHECK_THROWS_AS(parse_mountinfo("x 1 0:1 / /a rw - proc proc rw\n"), Error);

    CHECK(path_is_under("/sys/fs/cgroup/cpu", "/sys/fs/cgroup"));
    CHECK(path_is_under("/sys/fs/cgroup", "/sys/fs/cgroup"));
    CHECK_FALSE(path_is_under("/sys/fs/cgroupx", "/sys/fs/cgroup"));
    CHECK(path_is_under("/anything", "/"));
}

TEST_CASE("a ramfs or initial-rootfs host root is not pivoted away from", "[mount]") {
    auto initial = parse_mountinfo("1 1 0:2 / / rw - rootfs rootfs rw\n");
    auto tmpfs_root = parse_mountinfo("20 1 0:20 / / rw - tmpfs tmpfs rw\n");
    CHECK(root_cannot_pivot(RAMFS_MAGIC, {}));
    CHECK(root_cannot_pivot(TMPFS_MAGIC, initial));
    CHECK_FALSE(root_cannot_pivot(TMPFS_MAGIC, tmpfs_root));
    CHECK_FALSE(root_cannot_pivot(EXT4_SUPER_MAGIC, initial));
}
