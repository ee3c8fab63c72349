// SPDX-License-Identifier: GPL-2.0-or-later
// spec::default_config: the content of `runc spec` and `runc spec --rootless`.
#include <catch.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crunpp/spec.hpp"

using namespace crunpp::spec;

namespace {

const Mount *find_mount(const Config &c, std::string_view destination) {
    for (const auto &m : c.mounts)
        if (m.destination == destination)
            return &m;
    return nullptr;
}

std::vector<std::string> namespace_names(const Config &c) {
    std::vector<std::string> names;
    for (const auto &ns : c.linux->namespaces)
        names.emplace_back(namespace_type_name(ns.type));
    return names;
}

std::vector<std::string> destinations(const Config &c) {
    std::vector<std::string> d;
    for (const auto &m : c.mounts)
        d.push_back(m.destination);
    return d;
}

bool has_option_prefix(const Mount &m, std::string_view prefix) {
    return std::any_of(m.options.begin(), m.options.end(), [&](const std::string &o) { return o.starts_with(prefix); });
}

const std::vector<std::string> kDefaultCaps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

} // namespace

TEST_CASE("default config: the process is sh in a terminal with runc's capabilities", "[default_config]") {
    const Config c = default_config(false);
    CHECK(c.ociVersion == kOciVersion);
    REQUIRE(c.root);
    CHECK(c.root->path == "rootfs");
    CHECK(c.root->readonly);
    CHECK(c.hostname == "crunpp");
    CHECK_FALSE(c.domainname);
    CHECK_FALSE(c.hooks);
    CHECK(c.annotations.empty());

    REQUIRE(c.process);
    const Process &p = *c.process;
    CHECK(p.terminal);
    CHECK(p.args == std::vector<std::string>{"sh"});
    CHECK(p.env ==
          std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"});
    CHECK(p.cwd == "/");
    CHECK(p.user.uid == 0);
    CHECK(p.user.gid == 0);
    CHECK_FALSE(p.user.umask);
    CHECK(p.user.additionalGids.empty());
    CHECK(p.noNewPrivileges);
    REQUIRE(p.capabilities);
    CHECK(p.capabilities->bounding == kDefaultCaps);
    CHECK(p.capabilities->effective == kDefaultCaps);
    CHECK(p.capabilities->permitted == kDefaultCaps);
    // As current runc: nothing inheritable or ambient, so a non-root exec
    // gains no capability.
    CHECK_FALSE(p.capabilities->inheritable);
    CHECK_FALSE(p.capabilities->ambient);
    REQUIRE(p.rlimits.size() == 1);
    CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
    CHECK(p.rlimits[0].resource == RLIMIT_NOFILE);
    CHECK(p.rlimits[0].soft == 1024);
    CHECK(p.rlimits[0].hard == 1024);
}

TEST_CASE("default config: the standard mounts, masked and read-only paths, namespaces", "[default_config]") {
    const Config c = default_config(false);
    CHECK(destinations(c) ==
          std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"});
    const Mount *proc = find_mount(c, "/proc");
    REQUIRE(proc);
    CHECK(proc->type == "proc");
    CHECK(proc->source == "proc");
    CHECK(proc->options.empty());
    const Mount *dev = find_mount(c, "/dev");
    REQUIRE(dev);
    CHECK(dev->type == "tmpfs");
    CHECK(dev->options == std::vector<std::string>{"nosuid", "strictatime", "mode=755", "size=65536k"});
    const Mount *pts = find_mount(c, "/dev/pts");
    REQUIRE(pts);
    CHECK(pts->type == "devpts");
    CHECK(pts->options ==
          std::vector<std::string>{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
    const Mount *shm = find_mount(c, "/dev/shm");
    REQUIRE(shm);
    CHECK(shm->source == "shm");
    CHECK(shm->options == std::vector<std::string>{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
    const Mount *mqueue = find_mount(c, "/dev/mqueue");
    REQUIRE(mqueue);
    CHECK(mqueue->type == "mqueue");
    const Mount *sys = find_mount(c, "/sys");
    REQUIRE(sys);
    CHECK(sys->type == "sysfs");
    CHECK(sys->source == "sysfs");
    CHECK(sys->options == std::vector<std::string>{"nosuid", "noexec", "nodev", "ro"});
    const Mount *cgroup = find_mount(c, "/sys/fs/cgroup");
    REQUIRE(cgroup);
    CHECK(cgroup->type == "cgroup");
    CHECK(cgroup->options == std::vector<std::string>{"nosuid", "noexec", "nodev", "relatime", "ro"});
    for (const auto &m : c.mounts) {
        CHECK(m.uidMappings.empty());
        CHECK(m.gidMappings.empty());
    }

    REQUIRE(c.linux);
    const Linux &l = *c.linux;
    CHECK(namespace_names(c) == std::vector<std::string>{"pid", "network", "ipc", "uts", "mount"});
    for (const auto &ns : l.namespaces)
        CHECK_FALSE(ns.path);
    CHECK(l.uidMappings.empty());
    CHECK(l.gidMappings.empty());
    CHECK(l.maskedPaths == std::vector<std::string>{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
                                                    "/sys/devices/virtual/tpm"});
    CHECK(l.readonlyPaths ==
          std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
    REQUIRE(l.resources);
    REQUIRE(l.resources->devices.size() == 1);
    CHECK_FALSE(l.resources->devices[0].allow);
    CHECK(l.resources->devices[0].access == "rwm");
    CHECK_FALSE(l.resources->devices[0].type);
    CHECK_FALSE(l.resources->devices[0].major);
    CHECK_FALSE(l.seccomp);
    CHECK_FALSE(l.cgroupsPath);
    CHECK(l.devices.empty());
    CHECK(l.sysctl.empty());
}

TEST_CASE("default config: --rootless follows runc's conversion", "[default_config]") {
    const Config root = default_config(false);
    const Config c = default_config(true, 1234, 5678);
    REQUIRE(c.linux);
    const Linux &l = *c.linux;
    // No network namespace (an unprivileged user could not configure it),
    // a user namespace, last, mapping the caller to root.
    CHECK(namespace_names(c) == std::vector<std::string>{"pid", "ipc", "uts", "mount", "user"});
    REQUIRE(l.uidMappings.size() == 1);
    CHECK(l.uidMappings[0].containerID == 0);
    CHECK(l.uidMappings[0].hostID == 1234);
    CHECK(l.uidMappings[0].size == 1);
    REQUIRE(l.gidMappings.size() == 1);
    CHECK(l.gidMappings[0].containerID == 0);
    CHECK(l.gidMappings[0].hostID == 5678);
    CHECK(l.gidMappings[0].size == 1);
    // No cgroup settings: the user cannot write the cgroup tree.
    CHECK_FALSE(l.resources);

    // Same mounts in the same order; sysfs becomes an rbind of /sys and no
    // mount keeps a uid=/gid= option (those ids are unmapped).
    CHECK(destinations(c) == destinations(root));
    const Mount *sys = find_mount(c, "/sys");
    REQUIRE(sys);
    CHECK(sys->type == "none");
    CHECK(sys->source == "/sys");
    CHECK(sys->options == std::vector<std::string>{"rbind", "nosuid", "noexec", "nodev", "ro"});
    const Mount *pts = find_mount(c, "/dev/pts");
    REQUIRE(pts);
    CHECK(pts->options == std::vector<std::string>{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"});
    for (const auto &m : c.mounts) {
        CHECK_FALSE(has_option_prefix(m, "uid="));
        CHECK_FALSE(has_option_prefix(m, "gid="));
    }
    const Mount *cgroup = find_mount(c, "/sys/fs/cgroup");
    REQUIRE(cgroup);
    CHECK(cgroup->type == "cgroup");

    // The rest is the rootful config unchanged.
    CHECK(to_json(*c.process, false) == to_json(*root.process, false));
    CHECK(l.maskedPaths == root.linux->maskedPaths);
    CHECK(l.readonlyPaths == root.linux->readonlyPaths);
    CHECK(c.hostname == root.hostname);
}

TEST_CASE("default config: rootful ignores the ids it is given", "[default_config]") {
    CHECK(to_json(default_config(false, 1000, 1000), false) == to_json(default_config(false), false));
}

TEST_CASE("default config: written in runc's layout", "[default_config]") {
    // The first keys as `runc spec` writes them, so the files diff cleanly.
    const std::string text = to_json(default_config(false), true);
    CHECK(text.starts_with("{\n\t\"ociVersion\": \"1.3.0\",\n\t\"process\": {\n\t\t\"terminal\": true,\n\t\t\"user\": {\n"
                           "\t\t\t\"uid\": 0,\n\t\t\t\"gid\": 0\n\t\t},\n\t\t\"args\": [\n\t\t\t\"sh\"\n\t\t],\n"));
    CHECK(text.find("\"root\": {\n\t\t\"path\": \"rootfs\",\n\t\t\"readonly\": true\n\t},\n\t\"hostname\": \"crunpp\",\n"
                    "\t\"mounts\": [\n") != std::string::npos);
    CHECK(text.ends_with("\t\t]\n\t}\n}\n"));
}

TEST_CASE("default config parses back to itself", "[default_config]") {
    for (bool rootless : {false, true}) {
        const std::string text = to_json(default_config(rootless, 1000, 1000), true);
        INFO("rootless " << rootless);
        CHECK(to_json(parse_config(text), true) == text);
    }
}
