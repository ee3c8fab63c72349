// SPDX-License-Identifier: GPL-2.0-or-later
// apparmorProfile and selinuxLabel: written to /proc/thread-self/attr so the
// kernel applies them at execve. Asking for a label whose LSM is not active
// is an error, not a silent run without confinement.
#include "process_internal.hpp"
#include "../procfs.hpp"

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace crunpp::linux::detail {

namespace {

// lsm_list_modules(2) (Linux 6.8) and the LSM ids of linux/lsm.h.
constexpr long kSysLsmListModules = 461;
constexpr uint64_t kLsmIdSelinux = 101;
constexpr uint64_t kLsmIdApparmor = 104;

enum class Known { Yes, No, Unknown };

Known lsm_active(uint64_t id) {
    uint64_t ids[64];
    uint32_t size = sizeof ids;
    long n = syscall(kSysLsmListModules, ids, &size, 0);
    if (n < 0)
        return Known::Unknown;
    for (long i = 0; i < n; ++i)
        if (ids[i] == id)
            return Known::Yes;
    return Known::No;
}

bool apparmor_enabled() {
    Known k = lsm_active(kLsmIdApparmor);
    if (k != Known::Unknown)
        return k == Known::Yes;
    UniqueFd fd(::open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC));
    char c = 0;
    return fd && ::read(fd.get(), &c, 1) == 1 && c == 'Y';
}

bool selinux_enabled() {
    Known k = lsm_active(kLsmIdSelinux);
    if (k != Known::Unknown)
        return k == Known::Yes;
    struct statfs sfs;
    return statfs("/sys/fs/selinux", &sfs) == 0 && sfs.f_type == SELINUX_MAGIC;
}

void write_attr(const char *file, const char *fallback, const std::string &value) {
    try {
        procfs::write_file(file, value);
    } catch (const Error &e) {
        if (e.errnum() != ENOENT || !fallback)
            throw;
        procfs::write_file(fallback, value);
    }
}

} // namespace

void apply_lsm_labels(const spec::Process &p) {
    if (p.apparmorProfile && !p.apparmorProfile->empty()) {
        const std::string &profile = *p.apparmorProfile;
        if (!apparmor_enabled())
            throw Error("apparmor profile \"" + profile + "\" requested but AppArmor is not enabled on this host");
        try {
            // The AppArmor-specific file exists since Linux 5.8; older kernels only have the shared one.
            write_attr("thread-self/attr/apparmor/exec", "thread-self/attr/exec", "exec " + profile);
        } catch (Error &e) {
            e.wrap("apply apparmor profile \"" + profile + "\"");
            throw;
        }
    }
    if (p.selinuxLabel && !p.selinuxLabel->empty()) {
        const std::string &label = *p.selinuxLabel;
        if (!selinux_enabled())
            throw Error("selinux label \"" + label + "\" requested but SELinux is not enabled on this host");
        try {
            write_attr("thread-self/attr/exec", nullptr, label);
        } catch (Error &e) {
            e.wrap("apply selinux label \"" + label + "\"");
            throw;
        }
    }
}

} // namespace crunpp::linux::detail
