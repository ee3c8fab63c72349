// SPDX-License-Identifier: GPL-2.0-or-later
// The config `crunpp spec` writes: the same content as `runc spec` (and
// `runc spec --rootless`), so that bundles and tutorials made for runc work
// unchanged. Only ociVersion differs: it is the version crunpp implements.
#include <sys/resource.h>

#include <string>
#include <vector>

#include "crunpp/spec.hpp"

namespace crunpp::spec {
namespace {

Mount make_mount(std::string destination, std::string type, std::string source, std::vector<std::string> options) {
    Mount m;
    m.destination = std::move(destination);
    m.type = std::move(type);
    m.source = std::move(source);
    m.options = std::move(options);
    return m;
}

std::vector<Mount> default_mounts() {
    return {
        make_mount("/proc", "proc", "proc", {}),
        make_mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        make_mount("/dev/pts", "devpts", "devpts",
                   {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
        make_mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
        make_mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        make_mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
        make_mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
    };
}

Process default_process() {
    Process p;
    p.terminal = true;
    p.args = {"sh"}; // cwd: "/" by default
    p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
    // runc's set: no ambient or inheritable capabilities, so an exec'd
    // non-root program gains nothing.
    const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    Capabilities c;
    c.bounding = caps;
    c.effective = caps;
    c.permitted = caps;
    p.capabilities = std::move(c);
    Rlimit nofile;
    nofile.type = "RLIMIT_NOFILE";
    nofile.resource = RLIMIT_NOFILE;
    nofile.soft = 1024;
    nofile.hard = 1024;
    p.rlimits = {nofile};
    p.noNewPrivileges = true;
    return p;
}

Linux default_linux() {
    Linux l;
    l.maskedPaths = {
        "/proc/acpi",        "/proc/asound",      "/proc/kcore",
        "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
        "/proc/scsi",        "/sys/devices/virtual/tpm",
    };
    l.readonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    // Deny every device; the runtime adds the default ones (null, zero...).
    Resources r;
    DeviceCgroup deny_all;
    deny_all.allow = false;
    deny_all.access = "rwm";
    r.devices = {deny_all};
    l.resources = std::move(r);
    for (NamespaceType t : {NamespaceType::Pid, NamespaceType::Network, NamespaceType::Ipc, NamespaceType::Uts,
                            NamespaceType::Mount}) {
        Namespace ns;
        ns.type = t;
        l.namespaces.push_back(ns);
    }
    return l;
}

// runc's ToRootless: what an unprivileged user cannot do is replaced or
// dropped. No network namespace (nothing could configure it), a user
// namespace mapping the caller to root, sysfs as an rbind of the host's
// /sys (a new sysfs needs a network namespace owned by the user namespace),
// no uid=/gid= mount options (those ids are not mapped), no cgroup settings
// (an unprivileged user cannot write to the cgroup tree).
void make_rootless(Config &c, uint32_t host_uid, uint32_t host_gid) {
    Linux &l = *c.linux;
    std::vector<Namespace> kept;
    for (const auto &ns : l.namespaces)
        if (ns.type != NamespaceType::Network && ns.type != NamespaceType::User)
            kept.push_back(ns);
    Namespace user;
    user.type = NamespaceType::User;
    kept.push_back(user);
    l.namespaces = std::move(kept);
    l.uidMappings = {IdMapping{0, host_uid, 1}};
    l.gidMappings = {IdMapping{0, host_gid, 1}};

    for (auto &m : c.mounts) {
        if (m.destination == "/sys") {
            m = make_mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"});
            continue;
        }
        std::vector<std::string> options;
        for (auto &o : m.options)
            if (!o.starts_with("uid=") && !o.starts_with("gid="))
                options.push_back(std::move(o));
        m.options = std::move(options);
    }
    l.resources.reset();
}

} // namespace

Config default_config(bool rootless, uint32_t host_uid, uint32_t host_gid) {
    Config c;
    c.ociVersion = kOciVersion;
    c.process = default_process();
    c.root = Root{"rootfs", true};
    c.hostname = "crunpp";
    c.mounts = default_mounts();
    c.linux = default_linux();
    if (rootless)
        make_rootless(c, host_uid, host_gid);
    return c;
}

} // namespace crunpp::spec
