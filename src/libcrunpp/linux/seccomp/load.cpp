// SPDX-License-Identifier: GPL-2.0-or-later
// Preparing the filter in the runtime (cache or compile) and loading it in
// the container init with seccomp(2).
#include "seccomp.hpp"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "crunpp/state.hpp"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace crunpp::linux {
namespace {

struct FlagName {
    std::string_view name;
    unsigned int value;
};
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

int seccomp_syscall(unsigned int op, unsigned int flags, void *args) {
    return static_cast<int>(syscall(SYS_seccomp, op, flags, args));
}

unsigned int flag_bits(const spec::Seccomp &s, bool notify) {
    unsigned int bits = 0;
    for (size_t i = 0; i < s.flags.size(); i++) {
        unsigned int v = 0;
        for (const FlagName &f : kFlags)
            if (f.name == s.flags[i])
                v = f.value;
        std::string path = "config.json: .linux.seccomp.flags[" + std::to_string(i) + "]";
        if (v == 0)
            throw Error(path + ": unknown seccomp flag \"" + s.flags[i] + "\"");
        // The kernel accepts it only together with a listener.
        if (v == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !notify)
            throw Error(path + ": SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs SCMP_ACT_NOTIFY rules");
        bits |= v;
    }
    return bits;
}

// The init hands the listener over with sendmsg right after the load: a
// NOTIFY rule on sendmsg would make it wait for an agent that cannot have
// the listener yet.
bool has_notify(const spec::Seccomp &s) {
    bool notify = false;
    for (size_t i = 0; i < s.syscalls.size(); i++) {
        const spec::Syscall &sc = s.syscalls[i];
        if (sc.action != spec::SeccompAction::Notify)
            continue;
        notify = true;
        for (const std::string &name : sc.names)
            if (name == "sendmsg")
                throw Error("config.json: .linux.seccomp.syscalls[" + std::to_string(i) +
                            "]: SCMP_ACT_NOTIFY on \"sendmsg\" would block the hand-over of the listener to the agent");
    }
    return notify;
}

} // namespace

std::string seccomp_cache_dir() {
    try {
        return state::default_root() + kSeccompCacheSuffix;
    } catch (const Error &) {
        return "";
    }
}

SeccompFilter prepare_seccomp(const spec::Seccomp &s, const std::string &dir) {
    SeccompFilter f;
    f.notify = has_notify(s);
    f.flags = flag_bits(s, f.notify);
    std::string key = seccomp_cache_key(s);
    if (!dir.empty()) {
        if (std::optional<std::vector<sock_filter>> cached = seccomp_cache_lookup(dir, key)) {
            f.program = std::move(*cached);
            f.from_cache = true;
            return f;
        }
    }
    f.program = compile_seccomp(s);
    if (!dir.empty())
        seccomp_cache_store(dir, key, f.program);
    return f;
}

UniqueFd load_seccomp(const SeccompFilter &f, bool no_new_privileges) {
    if (no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        throw_errno("prctl PR_SET_NO_NEW_PRIVS");
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(f.program.size());
    prog.filter = const_cast<sock_filter *>(f.program.data());
    unsigned int flags = f.flags;
    if (f.notify) {
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // TSYNC reports a failing thread by its id, which is also what a
        // listener fd looks like: the kernel wants TSYNC_ESRCH with both.
        if (flags & SECCOMP_FILTER_FLAG_TSYNC)
            flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
    int rc = seccomp_syscall(SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (rc < 0) {
        int err = errno;
        if (err == EACCES)
            throw_errno("load the seccomp filter (without noNewPrivileges it needs CAP_SYS_ADMIN)", err);
        if (err == EINVAL && flags != 0)
            throw_errno("load the seccomp filter (are linux.seccomp.flags supported by this kernel?)", err);
        throw_errno("load the seccomp filter", err);
    }
    return UniqueFd(f.notify ? rc : -1);
}

void check_seccomp_loadable(const SeccompFilter &f) {
    if (f.program.empty() || f.program.size() > BPF_MAXINSNS)
        throw Error("load the seccomp filter: " + std::to_string(f.program.size()) +
                    " instructions (the kernel takes 1 to " + std::to_string(BPF_MAXINSNS) + ")");
    // A known flag gets as far as reading the (null) program: EFAULT.
    if (f.flags != 0 && seccomp_syscall(SECCOMP_SET_MODE_FILTER, f.flags, nullptr) < 0 && errno != EFAULT)
        throw_errno("load the seccomp filter (are linux.seccomp.flags supported by this kernel?)");
}

std::vector<std::string> seccomp_supported_flags() {
    std::vector<std::string> out;
    for (const FlagName &f : kFlags) {
        unsigned int flags = f.value;
        if (flags == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
            flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // A known flag gets as far as reading the (null) program: EFAULT.
        if (seccomp_syscall(SECCOMP_SET_MODE_FILTER, flags, nullptr) < 0 && errno == EFAULT)
            out.emplace_back(f.name);
    }
    return out;
}

} // namespace crunpp::linux
