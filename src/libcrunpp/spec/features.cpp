// SPDX-License-Identifier: GPL-2.0-or-later
// The `crunpp features` document. It must be honest: engines (containerd,
// podman, CRI-O) read it to decide which config fields they may use, so it
// lists only what crunpp really applies. Everything it claims comes from the
// one table below (kImplemented); whoever makes a feature work flips its
// entry in the same change.
#include "crunpp/features.hpp"

#include <sys/capability.h>

#include <array>
#include <cctype>
#include <string_view>

#include "../linux/seccomp/seccomp.hpp"
#include "crunpp/cgroup.hpp"
#include "crunpp/json.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/version.hpp"

namespace crunpp {
namespace {

struct Implemented {
    // Lifecycle phases whose hooks are run. Parsed since the foundation;
    // run from issue 4 ("Terminals, hooks, fd passing...").
    bool hooks;
    // linux.cgroup.*: cgroup drivers and hierarchies; issue 5 ("cgroups"),
    // the systemd driver (system and user managers) issue 15: crunpp speaks
    // D-Bus itself, so at run time it needs only systemd's bus.
    bool cgroup_v1, cgroup_v2, cgroup_systemd, cgroup_systemd_user, cgroup_rdma;
    // linux.seccomp: filters installed; issue 6 ("seccomp"). While false
    // the document says only "enabled": false.
    bool seccomp;
    // process.apparmorProfile / selinuxLabel written to /proc/self/attr
    // (issue 3, the lifecycle).
    bool apparmor, selinux;
    // linux.intelRdt: resctrl; not planned in any open issue.
    bool intel_rdt;
    // Mounts with uidMappings/gidMappings or "idmap" (issue 3).
    bool idmap_mounts;
    // linux.netDevices: host interfaces moved in during create.
    bool net_devices;
    // Every namespace type of the spec, created or joined (issue 3).
    bool namespaces;
    // Capability sets applied with libcap (issue 3).
    bool capabilities;
};

constexpr Implemented kImplemented = {
    .hooks = true,
    .cgroup_v1 = true,
    .cgroup_v2 = true,
    .cgroup_systemd = true,
    .cgroup_systemd_user = true,
    .cgroup_rdma = true,
    .seccomp = true,
    .apparmor = true,
    .selinux = true,
    .intel_rdt = false,
    .idmap_mounts = true,
    .net_devices = true,
    .namespaces = true,
    .capabilities = true,
};

// The mount options the rootfs code understands (issue 3; keep in step with
// linux/mount_options.cpp), sorted as runc prints them. Anything else in a
// mount's options is passed to the filesystem as data (size=65536k,
// mode=755...), so it is not listed; "tmpcopyup" is refused, so neither.
constexpr std::array kMountOptions = {
    "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap", "iversion",
    "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime",
    "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev",
    "rdiratime", "relatime", "remount", "rexec", "ridmap", "rnoatime", "rnodev", "rnodiratime", "rnoexec",
    "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw",
    "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent",
    "slave", "strictatime", "suid", "symfollow", "sync", "unbindable",
};

constexpr std::array kHookPhases = {"prestart",       "createRuntime", "createContainer",
                                    "startContainer", "poststart",     "poststop"};

// OCI uses the kernel's upper-case names; libcap knows every capability of
// the headers it was built with and answers a bare number for the others.
void write_capability_names(json::Writer &w) {
    w.begin_array();
    for (int cap = 0; cap < 64; cap++) {
        char *name = cap_to_name(static_cast<cap_value_t>(cap));
        if (!name)
            break;
        std::string s(name);
        cap_free(name);
        if (!s.starts_with("cap_"))
            break;
        for (char &c : s)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        w.string(s);
    }
    w.end_array();
}

// crun's annotations that change how a container runs, honoured as crun
// does (README, "Compatibility").
constexpr std::array kCrunAnnotations = {"run.oci.hooks.stdout", "run.oci.hooks.stderr",
                                         "run.oci.seccomp_fail_unknown_syscall", "run.oci.keep_original_groups"};

void write_seccomp(json::Writer &w) {
    w.key("seccomp").begin_object();
    w.key("enabled").boolean(kImplemented.seccomp);
    if (kImplemented.seccomp) {
        w.key("actions").begin_array();
        for (auto a : {spec::SeccompAction::Allow, spec::SeccompAction::Errno, spec::SeccompAction::Kill,
                       spec::SeccompAction::KillProcess, spec::SeccompAction::KillThread, spec::SeccompAction::Log,
                       spec::SeccompAction::Notify, spec::SeccompAction::Trace, spec::SeccompAction::Trap})
            w.string(spec::seccomp_action_name(a));
        w.end_array();
        w.key("operators").begin_array();
        for (auto o : {spec::SeccompOp::Equal, spec::SeccompOp::GreaterEqual, spec::SeccompOp::GreaterThan,
                       spec::SeccompOp::LessEqual, spec::SeccompOp::LessThan, spec::SeccompOp::MaskedEqual,
                       spec::SeccompOp::NotEqual})
            w.string(spec::seccomp_op_name(o));
        w.end_array();
        w.key("archs").begin_array();
        for (auto a : spec::seccomp_arch_names())
            w.string(a);
        w.end_array();
        w.key("knownFlags").begin_array();
        for (auto f : spec::seccomp_flag_names())
            w.string(f);
        w.end_array();
        // Those the running kernel accepts (probed with seccomp(2)).
        w.key("supportedFlags").begin_array();
        for (const std::string &f : linux::seccomp_supported_flags())
            w.string(f);
        w.end_array();
    }
    w.end_object();
}

void write_linux(json::Writer &w) {
    w.key("linux").begin_object();
    w.key("namespaces").begin_array();
    if (kImplemented.namespaces)
        for (int i = 0; i < spec::kNamespaceTypeCount; i++)
            w.string(spec::namespace_type_name(static_cast<spec::NamespaceType>(i)));
    w.end_array();
    w.key("capabilities");
    if (kImplemented.capabilities)
        write_capability_names(w);
    else
        w.begin_array().end_array();
    w.key("cgroup").begin_object();
    w.key("v1").boolean(kImplemented.cgroup_v1);
    w.key("v2").boolean(kImplemented.cgroup_v2);
    w.key("systemd").boolean(kImplemented.cgroup_systemd);
    w.key("systemdUser").boolean(kImplemented.cgroup_systemd_user);
    w.key("rdma").boolean(kImplemented.cgroup_rdma);
    w.end_object();
    write_seccomp(w);
    w.key("apparmor").begin_object().key("enabled").boolean(kImplemented.apparmor).end_object();
    w.key("selinux").begin_object().key("enabled").boolean(kImplemented.selinux).end_object();
    w.key("intelRdt").begin_object().key("enabled").boolean(kImplemented.intel_rdt).end_object();
    w.key("mountExtensions").begin_object();
    w.key("idmap").begin_object().key("enabled").boolean(kImplemented.idmap_mounts).end_object();
    w.end_object();
    w.key("netDevices").begin_object().key("enabled").boolean(kImplemented.net_devices).end_object();
    w.end_object();
}

} // namespace

std::string features_json(bool pretty) {
    json::Writer w(pretty);
    w.begin_object();
    w.key("ociVersionMin").string("1.0.0");
    w.key("ociVersionMax").string(spec::kOciVersion);
    w.key("hooks").begin_array();
    if (kImplemented.hooks)
        for (const char *h : kHookPhases)
            w.string(h);
    w.end_array();
    w.key("mountOptions").begin_array();
    for (const char *o : kMountOptions)
        w.string(o);
    w.end_array();
    write_linux(w);
    w.key("annotations").begin_object();
    w.key("run.oci.crunpp.version").string(CRUNPP_VERSION);
    // checkpoint and restore, through criu swrk (runc says the same with
    // org.opencontainers.runc.checkpoint.enabled); criu is looked up only
    // when they run.
    w.key("run.oci.crunpp.checkpoint.enabled").string("true");
    for (const char *a : kCrunAnnotations)
        w.key(a).string("supported");
    w.end_object();
    // The annotations that change what crunpp does to the host or the
    // process, for an engine that passes its users' annotations through
    // (runtime-spec 1.2): crun's run.oci.* above (hook output files opened
    // as the runtime, supplementary groups kept) and the systemd driver's
    // unit properties. A trailing dot makes a prefix.
    w.key("potentiallyUnsafeConfigAnnotations").begin_array();
    w.string(cgroup::kSystemdPropertyAnnotationPrefix).string("run.oci.");
    w.end_array();
    w.end_object();
    std::string s(w.str());
    if (pretty && (s.empty() || s.back() != '\n'))
        s += '\n';
    return s;
}

} // namespace crunpp
