// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers of the rootfs tests: a busybox rootfs in a temp dir, and a body
// run as pid 1 of fresh namespaces in a forked child (as root, or as the
// unprivileged user nobody in a new user namespace), whose failure message
// comes back to the test.
#pragma once

#include "crunpp/spec.hpp"

#include <functional>
#include <string>

namespace rootfs_test {

// A temp dir (mode 0755, removed by the destructor) with a busybox rootfs
// under "rootfs" (bin/busybox, bin/sh, proc, sys, dev, etc, tmp, mnt).
class TempRootfs {
public:
    TempRootfs();
    ~TempRootfs();
    TempRootfs(const TempRootfs &) = delete;
    TempRootfs &operator=(const TempRootfs &) = delete;
    const std::string &dir() const { return dir_; }
    std::string rootfs() const { return dir_ + "/rootfs"; }
    // Gives the whole tree to `uid` (a rootless user owns its rootfs).
    void chown_all(unsigned uid) const;

private:
    std::string dir_;
};

struct Isolation {
    bool rootless = false; // nobody in a new user namespace (0 -> 65534)
    bool net = true;       // a network namespace
    bool cgroup = false;   // a cgroup namespace
};

struct ChildResult {
    int exit_code = -1;     // 0: the body returned
    std::string message;    // what the body threw, or what it reported
};

// Runs `body` as pid 1 of new mount, pid and ipc namespaces (plus the
// others of `iso`), with "/" made rprivate first so nothing reaches the
// host. A body that throws makes exit_code 1 with the message. Bounded by
// a 30 s alarm.
ChildResult run_isolated(const Isolation &iso, const std::function<void()> &body);

// Throws std::runtime_error(msg) when !cond (bodies run in the child).
void expect(bool cond, const std::string &msg);

// runc's default mounts / masked / read-only paths (rootless: sysfs as an
// rbind of /sys, devpts without gid=5, no cgroup mount).
crunpp::spec::Config default_config(bool rootless);

std::string read_file(const std::string &path);
void write_file(const std::string &path, const std::string &data);

} // namespace rootfs_test
