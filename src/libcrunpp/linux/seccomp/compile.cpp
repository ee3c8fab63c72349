// SPDX-License-Identifier: GPL-2.0-or-later
// linux.seccomp -> classic BPF with libseccomp, and the canonical cache key
// of everything that shapes that program.
#include "seccomp.hpp"

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

namespace crunpp::linux {
namespace {

constexpr const char *kPath = "config.json: .linux.seccomp";
// The kernel's limit on a filter's length (BPF_MAXINSNS).
constexpr size_t kMaxInstructions = 4096;

std::string syscall_path(size_t i) { return std::string(kPath) + ".syscalls[" + std::to_string(i) + "]"; }

uint32_t errno_or_eperm(const std::optional<uint32_t> &e) { return e ? *e : static_cast<uint32_t>(EPERM); }

// The libseccomp action value; errnoRet defaults to EPERM (runc, crun).
uint32_t action_value(spec::SeccompAction a, const std::optional<uint32_t> &errno_ret) {
    using A = spec::SeccompAction;
    switch (a) {
    case A::Kill: return SCMP_ACT_KILL_THREAD;
    case A::KillThread: return SCMP_ACT_KILL_THREAD;
    case A::KillProcess: return SCMP_ACT_KILL_PROCESS;
    case A::Trap: return SCMP_ACT_TRAP;
    case A::Errno: return SCMP_ACT_ERRNO(errno_or_eperm(errno_ret));
    case A::Trace: return SCMP_ACT_TRACE(errno_or_eperm(errno_ret));
    case A::Allow: return SCMP_ACT_ALLOW;
    case A::Log: return SCMP_ACT_LOG;
    case A::Notify: return SCMP_ACT_NOTIFY;
    }
    return SCMP_ACT_KILL_PROCESS;
}

scmp_compare compare_op(spec::SeccompOp o) {
    using O = spec::SeccompOp;
    switch (o) {
    case O::NotEqual: return SCMP_CMP_NE;
    case O::LessThan: return SCMP_CMP_LT;
    case O::LessEqual: return SCMP_CMP_LE;
    case O::Equal: return SCMP_CMP_EQ;
    case O::GreaterEqual: return SCMP_CMP_GE;
    case O::GreaterThan: return SCMP_CMP_GT;
    case O::MaskedEqual: return SCMP_CMP_MASKED_EQ;
    }
    return SCMP_CMP_EQ;
}

// "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64"; 0 when this
// libseccomp does not know the architecture.
uint32_t arch_token(std::string_view spec_name) {
    std::string name(spec_name.substr(std::string_view("SCMP_ARCH_").size()));
    for (char &c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return seccomp_arch_resolve_name(name.c_str());
}

struct CtxDeleter {
    void operator()(void *ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

std::string rc_text(int rc) { return strerror(-rc); }

void add_architectures(scmp_filter_ctx ctx, const spec::Seccomp &s) {
    for (size_t i = 0; i < s.architectures.size(); i++) {
        const std::string &name = s.architectures[i];
        std::string path = std::string(kPath) + ".architectures[" + std::to_string(i) + "]";
        uint32_t token = arch_token(name);
        if (token == 0)
            throw Error(path + ": architecture \"" + name + "\" is not known to libseccomp " +
                        std::to_string(seccomp_version()->major) + "." + std::to_string(seccomp_version()->minor) +
                        "." + std::to_string(seccomp_version()->micro));
        int rc = seccomp_arch_add(ctx, token);
        if (rc < 0 && rc != -EEXIST)
            throw Error(path + ": add architecture \"" + name + "\": " + rc_text(rc));
    }
}

// Several conditions on one argument index cannot be ANDed by libseccomp;
// as in runc they then mean "any of them": one rule per condition.
bool repeats_an_index(const std::vector<spec::SyscallArg> &args) {
    unsigned seen = 0;
    for (const auto &a : args) {
        if (seen & (1u << a.index))
            return true;
        seen |= 1u << a.index;
    }
    return false;
}

scmp_arg_cmp arg_compare(const spec::SyscallArg &a) {
    scmp_arg_cmp c{};
    c.arg = a.index;
    c.op = compare_op(a.op);
    c.datum_a = a.value;
    c.datum_b = a.valueTwo;
    return c;
}

void add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const spec::Syscall &sc, size_t i,
              const std::string &name) {
    std::vector<scmp_arg_cmp> cmps;
    for (const auto &a : sc.args)
        cmps.push_back(arg_compare(a));
    auto fail = [&](int rc) {
        throw Error(syscall_path(i) + ": rule for \"" + name + "\" (" + spec::seccomp_action_name(sc.action) +
                    "): " + rc_text(rc));
    };
    if (repeats_an_index(sc.args)) {
        for (const scmp_arg_cmp &c : cmps)
            if (int rc = seccomp_rule_add_array(ctx, action, nr, 1, &c); rc < 0)
                fail(rc);
        return;
    }
    if (int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()), cmps.data()); rc < 0)
        fail(rc);
}

void add_rules(scmp_filter_ctx ctx, const spec::Seccomp &s, uint32_t default_action) {
    for (size_t i = 0; i < s.syscalls.size(); i++) {
        const spec::Syscall &sc = s.syscalls[i];
        uint32_t action = action_value(sc.action, sc.errnoRet);
        // libseccomp refuses a rule that does what the default does; it
        // changes nothing, so it is dropped (as runc and crun do).
        if (action == default_action)
            continue;
        for (const std::string &name : sc.names) {
            int nr = seccomp_syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) {
                log::debug("seccomp: syscall \"" + name + "\" unknown to libseccomp, skipped");
                continue;
            }
            add_rule(ctx, action, nr, sc, i, name);
        }
    }
}

} // namespace

void check_known_syscalls(const spec::Seccomp &s) {
    for (size_t i = 0; i < s.syscalls.size(); i++)
        for (size_t j = 0; j < s.syscalls[i].names.size(); j++)
            if (seccomp_syscall_resolve_name(s.syscalls[i].names[j].c_str()) == __NR_SCMP_ERROR)
                throw Error("config.json: .linux.seccomp.syscalls[" + std::to_string(i) + "].names[" +
                            std::to_string(j) + "]: unknown syscall \"" + s.syscalls[i].names[j] + "\" (" +
                            kFailUnknownSyscallAnnotation + ")");
}

namespace {

std::vector<sock_filter> export_program(scmp_filter_ctx ctx) {
    UniqueFd mem(memfd_create("crunpp-seccomp", MFD_CLOEXEC));
    if (!mem)
        throw_errno("seccomp: memfd_create for the compiled filter");
    if (int rc = seccomp_export_bpf(ctx, mem.get()); rc < 0)
        throw Error(std::string("seccomp: export the compiled filter: ") + rc_text(rc));
    struct stat st;
    if (fstat(mem.get(), &st) < 0)
        throw_errno("seccomp: stat the compiled filter");
    size_t size = static_cast<size_t>(st.st_size);
    if (size == 0 || size % sizeof(sock_filter) != 0)
        throw Error("seccomp: the compiled filter has an odd size (" + std::to_string(size) + " bytes)");
    size_t count = size / sizeof(sock_filter);
    if (count > kMaxInstructions)
        throw Error(std::string(kPath) + ": the compiled filter has " + std::to_string(count) +
                    " instructions, more than the kernel's limit of " + std::to_string(kMaxInstructions));
    std::vector<sock_filter> prog(count);
    char *p = reinterpret_cast<char *>(prog.data());
    for (size_t done = 0; done < size;) {
        ssize_t r = pread(mem.get(), p + done, size - done, static_cast<off_t>(done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            throw_errno("seccomp: read the compiled filter", r == 0 ? EIO : errno);
        done += static_cast<size_t>(r);
    }
    return prog;
}

// Key encoding: fixed-size integers and length-prefixed strings, so that
// two different sections can never encode to the same bytes.
void put_u32(std::string &out, uint32_t v) { out.append(reinterpret_cast<const char *>(&v), sizeof v); }
void put_u64(std::string &out, uint64_t v) { out.append(reinterpret_cast<const char *>(&v), sizeof v); }
void put_str(std::string &out, std::string_view s) {
    put_u32(out, static_cast<uint32_t>(s.size()));
    out.append(s);
}

} // namespace

std::vector<sock_filter> compile_seccomp(const spec::Seccomp &s, bool compact) {
    uint32_t default_action = action_value(s.defaultAction, s.defaultErrnoRet);
    Ctx ctx(seccomp_init(default_action));
    if (!ctx)
        throw Error(std::string(kPath) + ".defaultAction: " + spec::seccomp_action_name(s.defaultAction) +
                    " is not supported by this kernel or libseccomp");
    // no_new_privs is the config's business (process.noNewPrivileges); a
    // binary tree keeps the per-syscall cost low for 400-rule profiles.
    seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
    seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
    add_architectures(ctx.get(), s);
    add_rules(ctx.get(), s, default_action);
    std::vector<sock_filter> program = export_program(ctx.get());
    return compact ? compact_seccomp_program(program) : program;
}

std::string seccomp_cache_key(const spec::Seccomp &s) {
    std::string k;
    k.reserve(64 + s.syscalls.size() * 64);
    // Bump when the way crunpp drives libseccomp changes.
    put_str(k, "crunpp-seccomp-2"); // 2: compact_seccomp_program
    const scmp_version *v = seccomp_version();
    put_u32(k, v->major);
    put_u32(k, v->minor);
    put_u32(k, v->micro);
    put_u32(k, seccomp_api_get());
    put_u32(k, seccomp_arch_native());
    put_u32(k, action_value(s.defaultAction, s.defaultErrnoRet));
    put_u32(k, static_cast<uint32_t>(s.architectures.size()));
    for (const auto &a : s.architectures)
        put_str(k, a);
    put_u32(k, static_cast<uint32_t>(s.syscalls.size()));
    for (const auto &sc : s.syscalls) {
        put_u32(k, action_value(sc.action, sc.errnoRet));
        put_u32(k, static_cast<uint32_t>(sc.names.size()));
        for (const auto &n : sc.names)
            put_str(k, n);
        put_u32(k, static_cast<uint32_t>(sc.args.size()));
        for (const auto &a : sc.args) {
            put_u32(k, a.index);
            put_u32(k, static_cast<uint32_t>(a.op));
            put_u64(k, a.value);
            put_u64(k, a.valueTwo);
        }
    }
    return k;
}

} // namespace crunpp::linux
