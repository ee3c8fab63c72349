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
    Isolation(bool rootless_ = false, bool net_ = true, bool cgroup_ = false)
        : rootless(rootless_), net(net_), cgroup(cgroup_) {}
    bool rootless;         // nobody in a new user namespace (0 -> 65534)
    bool net;              // a network namespace
    bool cgroup;           // a cgroup namespace
    bool ipc = true;       // an ipc namespace
    int join_userns = -1;  // join this user namespace (as its root) instead
    // Run as root in a private mount namespace before the user namespace
    // is made (mounts made here are locked for the rootless body).
    std::function<void()> prepare;
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
// rbind of /sys, no cgroup mount).
crunpp::spec::Config default_config(bool rootless);

// A user namespace with "0 <host> <count>" uid and gid maps (written by
// this root process), as an fd; its helper process is gone on return.
int make_userns(unsigned host, unsigned count);

std::string read_file(const std::string &path);
void write_file(const std::string &path, const std::string &data);

} // namespace rootfs_test
