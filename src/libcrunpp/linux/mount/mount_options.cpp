// SPDX-License-Identifier: GPL-2.0-or-later
// OCI mount options to mount(2) flags, mount_setattr(2) attributes and data,
// with runc's vocabulary: what is not a known flag is filesystem data.
#include "rootfs.hpp"

#include "crunpp/error.hpp"

#include <sys/mount.h>

#include <array>
#include <string_view>

namespace crunpp::linux {
namespace {

struct FlagOption {
    std::string_view name;
    bool clear; // the option turns the flag off ("rw" clears MS_RDONLY)
    unsigned long flag;
};

constexpr std::array kFlagOptions{
    FlagOption{"defaults", false, 0},
    FlagOption{"ro", false, MS_RDONLY},
    FlagOption{"rw", true, MS_RDONLY},
    FlagOption{"nosuid", false, MS_NOSUID},
    FlagOption{"suid", true, MS_NOSUID},
    FlagOption{"nodev", false, MS_NODEV},
    FlagOption{"dev", true, MS_NODEV},
    FlagOption{"noexec", false, MS_NOEXEC},
    FlagOption{"exec", true, MS_NOEXEC},
    FlagOption{"sync", false, MS_SYNCHRONOUS},
    FlagOption{"async", true, MS_SYNCHRONOUS},
    FlagOption{"dirsync", false, MS_DIRSYNC},
    FlagOption{"remount", false, MS_REMOUNT},
    FlagOption{"mand", false, MS_MANDLOCK},
    FlagOption{"nomand", true, MS_MANDLOCK},
    FlagOption{"noatime", false, MS_NOATIME},
    FlagOption{"atime", true, MS_NOATIME},
    FlagOption{"nodiratime", false, MS_NODIRATIME},
    FlagOption{"diratime", true, MS_NODIRATIME},
    FlagOption{"relatime", false, MS_RELATIME},
    FlagOption{"norelatime", true, MS_RELATIME},
    FlagOption{"strictatime", false, MS_STRICTATIME},
    FlagOption{"nostrictatime", true, MS_STRICTATIME},
    FlagOption{"lazytime", false, MS_LAZYTIME},
    FlagOption{"nolazytime", true, MS_LAZYTIME},
    FlagOption{"silent", false, MS_SILENT},
    FlagOption{"loud", true, MS_SILENT},
    FlagOption{"iversion", false, MS_I_VERSION},
    FlagOption{"noiversion", true, MS_I_VERSION},
    FlagOption{"nosymfollow", false, MS_NOSYMFOLLOW},
    FlagOption{"symfollow", true, MS_NOSYMFOLLOW},
};

constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;

// Recursive options (applied with mount_setattr + AT_RECURSIVE). The atime
// ones carry the whole atime mode: the kernel wants MOUNT_ATTR__ATIME in
// attr_clr and the new mode in attr_set.
struct AttrOption {
    std::string_view name;
    bool clear;
    uint64_t attr;
    bool atime; // attr is an atime mode
};

constexpr std::array kAttrOptions{
    AttrOption{"rro", false, MOUNT_ATTR_RDONLY, false},
    AttrOption{"rrw", true, MOUNT_ATTR_RDONLY, false},
    AttrOption{"rnosuid", false, MOUNT_ATTR_NOSUID, false},
    AttrOption{"rsuid", true, MOUNT_ATTR_NOSUID, false},
    AttrOption{"rnodev", false, MOUNT_ATTR_NODEV, false},
    AttrOption{"rdev", true, MOUNT_ATTR_NODEV, false},
    AttrOption{"rnoexec", false, MOUNT_ATTR_NOEXEC, false},
    AttrOption{"rexec", true, MOUNT_ATTR_NOEXEC, false},
    AttrOption{"rnodiratime", false, MOUNT_ATTR_NODIRATIME, false},
    AttrOption{"rdiratime", true, MOUNT_ATTR_NODIRATIME, false},
    AttrOption{"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW, false},
    AttrOption{"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW, false},
    AttrOption{"rnoatime", false, MOUNT_ATTR_NOATIME, true},
    AttrOption{"rstrictatime", false, MOUNT_ATTR_STRICTATIME, true},
    // Without noatime or strictatime the kernel's mode is relatime, so
    // "atime", "norelatime" and "nostrictatime" all mean relatime.
    AttrOption{"rrelatime", false, MOUNT_ATTR_RELATIME, true},
    AttrOption{"ratime", false, MOUNT_ATTR_RELATIME, true},
    AttrOption{"rnorelatime", false, MOUNT_ATTR_RELATIME, true},
    AttrOption{"rnostrictatime", false, MOUNT_ATTR_RELATIME, true},
};

struct PropagationOption {
    std::string_view name;
    unsigned long flags;
};

constexpr std::array kPropagationOptions{
    PropagationOption{"private", MS_PRIVATE},
    PropagationOption{"rprivate", MS_PRIVATE | MS_REC},
    PropagationOption{"shared", MS_SHARED},
    PropagationOption{"rshared", MS_SHARED | MS_REC},
    PropagationOption{"slave", MS_SLAVE},
    PropagationOption{"rslave", MS_SLAVE | MS_REC},
    PropagationOption{"unbindable", MS_UNBINDABLE},
    PropagationOption{"runbindable", MS_UNBINDABLE | MS_REC},
};

const PropagationOption *find_propagation(std::string_view name) {
    for (const auto &p : kPropagationOptions)
        if (p.name == name)
            return &p;
    return nullptr;
}

} // namespace

unsigned long parse_propagation(std::string_view name) {
    if (const auto *p = find_propagation(name))
        return p->flags;
    throw ConfigError(".linux.rootfsPropagation", "unknown propagation \"" + std::string(name) + "\"");
}

MountFlags parse_mount_options(const std::vector<std::string> &options) {
    MountFlags f;
    for (const auto &opt : options) {
        bool known = false;
        for (const auto &o : kFlagOptions) {
            if (o.name != opt)
                continue;
            known = true;
            // The last of two contradicting options wins ("ro,rw" is rw).
            if (o.clear) {
                f.set &= ~o.flag;
                f.clear |= o.flag;
            } else {
                if (o.flag & kAtimeFlags) {
                    f.set &= ~kAtimeFlags;
                    f.clear &= ~kAtimeFlags;
                }
                f.set |= o.flag;
                f.clear &= ~o.flag;
            }
            if (o.flag & kAtimeFlags)
                f.explicit_atime = true;
            break;
        }
        if (known)
            continue;
        for (const auto &o : kAttrOptions) {
            if (o.name != opt)
                continue;
            known = true;
            if (o.atime) {
                f.attr_clr |= MOUNT_ATTR__ATIME;
                f.attr_set = (f.attr_set & ~uint64_t(MOUNT_ATTR__ATIME)) | o.attr;
            } else if (o.clear) {
                f.attr_set &= ~o.attr;
                f.attr_clr |= o.attr;
            } else {
                f.attr_set |= o.attr;
                f.attr_clr &= ~o.attr;
            }
            break;
        }
        if (known)
            continue;
        if (const auto *p = find_propagation(opt)) {
            // One propagation type per mount: the last one given counts.
            f.propagation = p->flags;
            continue;
        }
        if (opt == "bind" || opt == "rbind") {
            f.bind = true;
            f.recursive = f.recursive || opt == "rbind";
        } else if (opt == "idmap" || opt == "ridmap") {
            f.idmap = true;
            f.idmap_recursive = f.idmap_recursive || opt == "ridmap";
        } else if (opt == "tmpcopyup") {
            f.tmpcopyup = true;
        } else if (!opt.empty()) {
            if (!f.data.empty())
                f.data += ',';
            f.data += opt;
        }
    }
    return f;
}

} // namespace crunpp::linux
