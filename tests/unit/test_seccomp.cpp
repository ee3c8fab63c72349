// SPDX-License-Identifier: GPL-2.0-or-later
// seccomp: compiling linux.seccomp, loading it (in forked children, so the
// test process stays unfiltered), the features claims, the process state
// sent to a notify agent.
#include <catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "crunpp/error.hpp"
#include "crunpp/features.hpp"
#include "crunpp/json.hpp"
#include "crunpp/spec.hpp"
#include "crunpp/state.hpp"
#include "src/libcrunpp/linux/seccomp/seccomp.hpp"

using namespace crunpp;

namespace {

spec::Seccomp seccomp_of(const std::string &section) {
    spec::Config c = spec::parse_config(R"({"ociVersion":"1.3.0","root":{"path":"r"},"linux":{"seccomp":)" + section + "}}");
    REQUIRE(c.linux);
    REQUIRE(c.linux->seccomp);
    return *c.linux->seccomp;
}

// Runs `body` in a child that loads `s` first; the child's exit status (or
// 128 + signal) is returned. The body returns the child's exit code.
int in_filtered_child(const spec::Seccomp &s, const std::function<int()> &body) {
    linux::SeccompFilter f;
    f.program = linux::compile_seccomp(s);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        try {
            linux::load_seccomp(f, true);
        } catch (...) {
            _exit(99);
        }
        _exit(body());
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The errno of a failing raw syscall, 0 on success.
int errno_of(long r) { return r < 0 ? errno : 0; }

bool program_has_constant(const std::vector<sock_filter> &p, uint32_t k) {
    return std::any_of(p.begin(), p.end(), [k](const sock_filter &i) { return i.k == k; });
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/crunpp-seccomp-test.XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path = tmpl;
    }
    ~TempDir() {
        std::string cmd = "rm -rf --one-file-system '" + path + "'";
        if (system(cmd.c_str()) != 0)
            WARN("could not remove " << path);
    }
};

std::vector<std::string> dir_entries(const std::string &dir) {
    std::vector<std::string> out;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d))
            if (e->d_name[0] != '.')
                out.emplace_back(e->d_name);
        closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string read_file(const std::string &path) {
    std::string s;
    if (FILE *f = fopen(path.c_str(), "rb")) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            s.append(buf, n);
        fclose(f);
    }
    return s;
}

void write_file(const std::string &path, const std::string &data) {
    FILE *f = fopen(path.c_str(), "wb");
    REQUIRE(f);
    REQUIRE(fwrite(data.data(), 1, data.size(), f) == data.size());
    fclose(f);
}

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_CASE("seccomp: ERRNO rules with the default and a custom errno", "[seccomp]") {
    spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["getpriority"],"action":"SCMP_ACT_ERRNO"},
        {"names":["kcmp"],"action":"SCMP_ACT_ERRNO","errnoRet":42}]})");
    CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_getpriority, PRIO_PROCESS, 0)); }) == EPERM);
    CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_kcmp, 0, 0, 0, 0, 0)); }) == 42);
    // Everything else goes through.
    CHECK(in_filtered_child(s, [] { return syscall(SYS_getppid) > 0 ? 7 : 8; }) == 7);
}

// What a child needs to end, also under the sanitizers' runtimes.
#define KEEP_ALIVE                                                                                                     \
    R"({"names":["exit_group","exit","write","read","mmap","munmap","mprotect","madvise","sigaltstack",)"            \
    R"("rt_sigaction","rt_sigprocmask","prctl","futex","getpid","gettid","openat","close","fstat","newfstatat",)" \
    R"("readlink","prlimit64","sched_yield","clock_gettime"],"action":"SCMP_ACT_ALLOW"})"

TEST_CASE("seccomp: the default action with defaultErrnoRet", "[seccomp]") {
    spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[)" KEEP_ALIVE
                                 R"(,{"names":["getppid"],"action":"SCMP_ACT_ALLOW"}]})");
    CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_kcmp, 0, 0, 0, 0, 0)); }) == ENOSYS);
    CHECK(in_filtered_child(s, [] { return syscall(SYS_getppid) > 0 ? 7 : 8; }) == 7);
}

TEST_CASE("seccomp: KILL, KILL_PROCESS, KILL_THREAD and TRAP end with SIGSYS", "[seccomp]") {
    for (const char *action : {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"}) {
        INFO(action);
        spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpriority"],"action":")" +
                                     std::string(action) + R"("}]})");
        CHECK(in_filtered_child(s, [] { return static_cast<int>(syscall(SYS_getpriority, PRIO_PROCESS, 0)); }) ==
              128 + SIGSYS);
    }
}

TEST_CASE("seccomp: LOG and ALLOW let the syscall run", "[seccomp]") {
    spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[)" KEEP_ALIVE
                                 R"(,{"names":["getppid"],"action":"SCMP_ACT_LOG"}]})");
    CHECK(in_filtered_child(s, [] { return syscall(SYS_getppid) > 0 ? 7 : 8; }) == 7);
}

TEST_CASE("seccomp: argument filters", "[seccomp]") {
    SECTION("one value allowed, the others denied") {
        spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":13,
             "args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_NE"}]}]})");
        // 0xffffffff queries the persona: allowed; setting one is denied.
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_personality, 0xffffffffUL)); }) == 0);
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_personality, 0x0008UL)); }) == 13);
    }
    SECTION("MASKED_EQ") {
        // umask(m) denied when the 077 bits of m are 022.
        spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["umask"],"action":"SCMP_ACT_ERRNO","errnoRet":21,
             "args":[{"index":0,"value":63,"valueTwo":18,"op":"SCMP_CMP_MASKED_EQ"}]}]})");
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_umask, 0722)); }) == 21);
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_umask, 0027)); }) == 0);
    }
    SECTION("conditions on two arguments are ANDed, on one argument ORed") {
        spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":31,
             "args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":1,"value":1,"op":"SCMP_CMP_EQ"}]},
            {"names":["kcmp"],"action":"SCMP_ACT_ERRNO","errnoRet":32,
             "args":[{"index":0,"value":5,"op":"SCMP_CMP_EQ"},{"index":0,"value":6,"op":"SCMP_CMP_EQ"}]}]})");
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_getpriority, 0, 1)); }) == 31);
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_getpriority, 0, 0)); }) == 0);
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_kcmp, 5, 0, 0, 0, 0)); }) == 32);
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_kcmp, 6, 0, 0, 0, 0)); }) == 32);
        CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_kcmp, 7, 0, 0, 0, 0)); }) != 32);
    }
    SECTION("every operator compiles and filters") {
        struct Case {
            const char *op;
            unsigned long denied, allowed;
        };
        for (Case c : {Case{"SCMP_CMP_NE", 4, 3}, Case{"SCMP_CMP_LT", 2, 3}, Case{"SCMP_CMP_LE", 3, 4},
                       Case{"SCMP_CMP_EQ", 3, 4}, Case{"SCMP_CMP_GE", 3, 2}, Case{"SCMP_CMP_GT", 4, 3}}) {
            INFO(c.op);
            spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {"names":["kcmp"],"action":"SCMP_ACT_ERRNO","errnoRet":33,
                 "args":[{"index":1,"value":3,"op":")" + std::string(c.op) + R"("}]}]})");
            unsigned long denied = c.denied, allowed = c.allowed;
            CHECK(in_filtered_child(s, [denied] { return errno_of(syscall(SYS_kcmp, 0, denied, 0, 0, 0)); }) == 33);
            CHECK(in_filtered_child(s, [allowed] { return errno_of(syscall(SYS_kcmp, 0, allowed, 0, 0, 0)); }) != 33);
        }
    }
}

TEST_CASE("seccomp: architectures are added to the filter", "[seccomp]") {
    spec::Seccomp native = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["getpriority"],"action":"SCMP_ACT_ERRNO"}]})");
    spec::Seccomp multi = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW",
        "architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[
        {"names":["getpriority"],"action":"SCMP_ACT_ERRNO"}]})");
    std::vector<sock_filter> p1 = linux::compile_seccomp(native), p2 = linux::compile_seccomp(multi);
#if defined(__x86_64__)
    CHECK(program_has_constant(p1, AUDIT_ARCH_X86_64));
    CHECK_FALSE(program_has_constant(p1, AUDIT_ARCH_I386));
    CHECK(program_has_constant(p2, AUDIT_ARCH_X86_64));
    CHECK(program_has_constant(p2, AUDIT_ARCH_I386));
#endif
    CHECK(p2.size() > p1.size());
    CHECK(linux::seccomp_cache_key(native) != linux::seccomp_cache_key(multi));
}

TEST_CASE("seccomp: names unknown to libseccomp are skipped, rules equal to the default dropped", "[seccomp]") {
    spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["no_such_syscall_xyz","getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":40},
        {"names":["getppid"],"action":"SCMP_ACT_ALLOW"}]})");
    CHECK(in_filtered_child(s, [] { return errno_of(syscall(SYS_getpriority, PRIO_PROCESS, 0)); }) == 40);
}

TEST_CASE("seccomp: configuration errors name their JSON path", "[seccomp]") {
    CHECK(error_of([] {
              linux::prepare_seccomp(seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW",
                  "flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]})"),
                                     "");
          }) == "config.json: .linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs SCMP_ACT_NOTIFY rules");
    CHECK(error_of([] {
              linux::prepare_seccomp(seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/x","syscalls":[
                  {"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"},{"names":["read","sendmsg"],"action":"SCMP_ACT_NOTIFY"}]})"),
                                     "");
          }) == "config.json: .linux.seccomp.syscalls[1]: SCMP_ACT_NOTIFY on \"sendmsg\" would block the hand-over of "
                "the listener to the agent");
    // An architecture of the spec that this libseccomp may not know.
    spec::Seccomp loong = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW",
        "architectures":["SCMP_ARCH_X86","SCMP_ARCH_LOONGARCH64"]})");
    if (seccomp_arch_resolve_name("loongarch64") == 0)
        CHECK(error_of([&] { linux::compile_seccomp(loong); })
                  .starts_with("config.json: .linux.seccomp.architectures[1]: architecture \"SCMP_ARCH_LOONGARCH64\" is "
                               "not known to libseccomp "));
    else
        CHECK_FALSE(linux::compile_seccomp(loong).empty());
    // The parser catches the rest (unknown action, operator, arch, flag).
    CHECK(error_of([] { seccomp_of(R"({"defaultAction":"SCMP_ACT_NOPE"})"); }) ==
          "config.json: .linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_NOPE\"");
    CHECK(error_of([] {
              seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]})");
          }) == "config.json: .linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
}

TEST_CASE("seccomp: flags and the listener reach seccomp(2)", "[seccomp]") {
    spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/x",
        "flags":["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                 "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "syscalls":[{"names":["getpriority"],"action":"SCMP_ACT_NOTIFY"}]})");
    linux::SeccompFilter f = linux::prepare_seccomp(s, "");
    CHECK(f.notify);
    CHECK(f.flags == (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW | (1u << 5)));
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        try {
            UniqueFd listener = linux::load_seccomp(f, true);
            // A listener fd, and the filter is in place.
            _exit(listener.get() >= 0 && prctl(PR_GET_SECCOMP) == 2 ? 0 : 1);
        } catch (...) {
            _exit(99);
        }
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

namespace {

// A profile shaped like podman's: an allowlist with holes, argument rules
// (EQ, MASKED_EQ, NE, one index repeated), ERRNO rules, three architectures.
std::string big_profile() {
    std::string names;
    for (int nr = 0; nr < 460; nr++) {
        if (nr % 7 == 3 || nr == 135 /* personality */ || nr == 56 /* clone */ || nr == 41 /* socket */ ||
            nr == 83 /* mkdir */ || nr == 258 /* mkdirat */ || nr == 312 /* kcmp */ || nr == 140 /* getpriority */)
            continue;
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
        if (!name)
            continue;
        names += std::string(names.empty() ? "" : ", ") + "\"" + name + "\"";
        free(name);
    }
    return R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": [)" + names + R"(], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]},
        {"names": ["kcmp"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 0, "op": "SCMP_CMP_EQ"},
                                                                {"index": 2, "value": 5, "op": "SCMP_CMP_EQ"}]},
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
        {"names": ["getpriority"], "action": "SCMP_ACT_KILL_PROCESS"}]})";
}

} // namespace

TEST_CASE("seccomp: the compacted program decides every syscall as libseccomp's does", "[seccomp]") {
    spec::Seccomp s = seccomp_of(big_profile());
    std::vector<sock_filter> raw = linux::compile_seccomp(s, false);
    std::vector<sock_filter> compact = linux::compile_seccomp(s);
    INFO("libseccomp " << raw.size() << " instructions, compacted " << compact.size());
    CHECK(compact.size() < raw.size());
    // Every number below 1100 and in the x32 range, for the three
    // architectures and two it does not name, with argument values around
    // those the rules test, and random ones.
    std::vector<uint64_t> values = {0, 1, 4, 5, 6, 7, 8, 9, 39, 40, 41, 4294967295ULL, 4294967296ULL,
                                    2114060288ULL, 0x7e020000ULL, 0xffffffffffffffffULL};
    srand(7);
    for (int i = 0; i < 8; i++)
        values.push_back((static_cast<uint64_t>(rand()) << 33) ^ static_cast<uint64_t>(rand()));
    std::vector<uint32_t> numbers;
    for (uint32_t nr = 0; nr < 1100; nr++) {
        numbers.push_back(nr);
        numbers.push_back(0x40000000u + nr);
    }
    for (uint32_t nr : {0x3fffffffu, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu})
        numbers.push_back(nr);
    size_t mismatches = 0;
    for (uint32_t arch : std::vector<uint32_t>{AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0, 0xffffffff}) {
        for (uint32_t nr : numbers) {
            seccomp_data d{};
            d.arch = arch;
            d.nr = static_cast<int>(nr);
            for (size_t v = 0; v <= values.size(); v++) {
                for (size_t a = 0; a < 6; a++)
                    d.args[a] = v == values.size() ? values[(nr + a) % values.size()] : values[v];
                if (linux::run_seccomp_program(raw, d) != linux::run_seccomp_program(compact, d))
                    mismatches++;
            }
        }
    }
    CHECK(mismatches == 0);
    // Spot checks of the outcome itself.
    seccomp_data d{};
    d.arch = AUDIT_ARCH_X86_64;
    d.nr = 135; // personality
    d.args[0] = 8;
    CHECK(linux::run_seccomp_program(compact, d) == SECCOMP_RET_ALLOW);
    d.args[0] = 9;
    CHECK(linux::run_seccomp_program(compact, d) == (SECCOMP_RET_ERRNO | 38));
    d.nr = 83; // mkdir
    CHECK(linux::run_seccomp_program(compact, d) == (SECCOMP_RET_ERRNO | 13));
}

TEST_CASE("seccomp: a program the compaction does not understand is kept as it is", "[seccomp]") {
    // ldx / tax are not libseccomp's: nothing is rewritten.
    std::vector<sock_filter> odd = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    std::vector<sock_filter> out = linux::compact_seccomp_program(odd);
    REQUIRE(out.size() == odd.size());
    CHECK(memcmp(out.data(), odd.data(), odd.size() * sizeof(sock_filter)) == 0);
    // A bit test on the syscall number would split ranges: kept as well.
    std::vector<sock_filter> bits = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40000000, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    CHECK(linux::compact_seccomp_program(bits).size() == bits.size());
    seccomp_data d{};
    CHECK_THROWS_AS(linux::run_seccomp_program(odd, d), std::invalid_argument);
}

TEST_CASE("seccomp: arithmetic on the syscall number keeps the program as it is", "[seccomp]") {
    // Ranges come from constants compared with the raw number; after an AND
    // they would be wrong (257 & 0xff == 1 is allowed), so nothing is rewritten.
    std::vector<sock_filter> masked = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff),
    };
    for (uint32_t nr = 1; nr <= 40; nr++) {
        masked.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
        masked.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    }
    masked.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    std::vector<sock_filter> out = linux::compact_seccomp_program(masked);
    REQUIRE(out.size() == masked.size());
    CHECK(memcmp(out.data(), masked.data(), masked.size() * sizeof(sock_filter)) == 0);
    seccomp_data d{};
    d.arch = AUDIT_ARCH_X86_64;
    d.nr = 257;
    CHECK(linux::run_seccomp_program(out, d) == SECCOMP_RET_ALLOW);
}

TEST_CASE("seccomp: the cache key covers every field that shapes the program", "[seccomp]") {
    const std::string base = R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[
        {"names":["read","write"],"action":"SCMP_ACT_ERRNO","errnoRet":5,
         "args":[{"index":1,"value":2,"valueTwo":3,"op":"SCMP_CMP_MASKED_EQ"}]}]})";
    std::string k = linux::seccomp_cache_key(seccomp_of(base));
    CHECK(k == linux::seccomp_cache_key(seccomp_of(base)));
    auto variant = [&](const std::string &from, const std::string &to) {
        std::string v = base;
        size_t at = v.find(from);
        REQUIRE(at != std::string::npos);
        v.replace(at, from.size(), to);
        return linux::seccomp_cache_key(seccomp_of(v));
    };
    CHECK(variant("\"defaultErrnoRet\":1", "\"defaultErrnoRet\":2") != k);
    CHECK(variant("\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1", "\"defaultAction\":\"SCMP_ACT_KILL\"") != k);
    CHECK(variant("[\"read\",\"write\"]", "[\"write\",\"read\"]") != k);
    CHECK(variant("[\"read\",\"write\"]", "[\"readwrite\"]") != k);
    CHECK(variant("\"errnoRet\":5", "\"errnoRet\":6") != k);
    CHECK(variant("\"index\":1", "\"index\":2") != k);
    CHECK(variant("\"value\":2", "\"value\":4") != k);
    CHECK(variant("\"valueTwo\":3", "\"valueTwo\":4") != k);
    CHECK(variant("SCMP_CMP_MASKED_EQ", "SCMP_CMP_EQ") != k);
    // listenerPath and flags do not change the program.
    CHECK(linux::seccomp_cache_name(k).size() == 16);
}

TEST_CASE("seccomp: cache entries are verified before use", "[seccomp]") {
    std::vector<sock_filter> prog = linux::compile_seccomp(seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW"})"));
    const std::string key = "some key bytes";
    const std::string good = linux::seccomp_cache_encode(key, prog);
    auto decoded = linux::seccomp_cache_decode(good, key);
    REQUIRE(decoded);
    CHECK(decoded->size() == prog.size());
    CHECK(memcmp(decoded->data(), prog.data(), prog.size() * sizeof(sock_filter)) == 0);

    CHECK_FALSE(linux::seccomp_cache_decode(good, "other key bytes"));
    CHECK_FALSE(linux::seccomp_cache_decode(good.substr(0, good.size() - 1), key));
    CHECK_FALSE(linux::seccomp_cache_decode(good + "x", key));
    CHECK_FALSE(linux::seccomp_cache_decode("", key));
    std::string bad = good;
    bad[0] ^= 1; // magic
    CHECK_FALSE(linux::seccomp_cache_decode(bad, key));
    bad = good;
    bad[bad.size() - 3] ^= 0x40; // program
    CHECK_FALSE(linux::seccomp_cache_decode(bad, key));
    bad = good;
    bad[24] ^= 1; // stored key
    CHECK_FALSE(linux::seccomp_cache_decode(bad, key));
    // Instruction counts of 0 and above the kernel's limit.
    CHECK_FALSE(linux::seccomp_cache_decode(linux::seccomp_cache_encode(key, {}), key));
    std::vector<sock_filter> huge(4097, prog.back());
    CHECK_FALSE(linux::seccomp_cache_decode(linux::seccomp_cache_encode(key, huge), key));
}

TEST_CASE("seccomp: prepare_seccomp fills, uses and repairs the cache", "[seccomp]") {
    TempDir root;
    spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":44}]})");
    std::string dir = root.path + "/cache";
    linux::SeccompFilter first = linux::prepare_seccomp(s, dir);
    CHECK_FALSE(first.from_cache);
    std::vector<std::string> entries = dir_entries(dir);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0] == linux::seccomp_cache_name(linux::seccomp_cache_key(s)));
    struct stat st;
    REQUIRE(stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    linux::SeccompFilter second = linux::prepare_seccomp(s, dir);
    CHECK(second.from_cache);
    CHECK(second.program.size() == first.program.size());
    CHECK(memcmp(second.program.data(), first.program.data(), first.program.size() * sizeof(sock_filter)) == 0);

    SECTION("a damaged entry is ignored, removed and rewritten") {
        std::string file = dir + "/" + entries[0];
        std::string data = read_file(file);
        data[data.size() / 2] ^= 0x10;
        write_file(file, data);
        linux::SeccompFilter again = linux::prepare_seccomp(s, dir);
        CHECK_FALSE(again.from_cache);
        CHECK(memcmp(again.program.data(), first.program.data(), first.program.size() * sizeof(sock_filter)) == 0);
        CHECK(read_file(file) == linux::seccomp_cache_encode(linux::seccomp_cache_key(s), first.program));
        CHECK(linux::prepare_seccomp(s, dir).from_cache);
    }
    SECTION("a truncated entry too") {
        std::string file = dir + "/" + entries[0];
        REQUIRE(truncate(file.c_str(), 30) == 0);
        CHECK_FALSE(linux::prepare_seccomp(s, dir).from_cache);
        CHECK(linux::prepare_seccomp(s, dir).from_cache);
    }
    SECTION("a symlink in place of an entry is not followed") {
        std::string file = dir + "/" + entries[0];
        std::string target = root.path + "/target";
        write_file(target, read_file(file));
        REQUIRE(unlink(file.c_str()) == 0);
        REQUIRE(symlink(target.c_str(), file.c_str()) == 0);
        CHECK_FALSE(linux::prepare_seccomp(s, dir).from_cache);
        struct stat lst;
        REQUIRE(lstat(file.c_str(), &lst) == 0);
        CHECK(S_ISREG(lst.st_mode));
    }
    SECTION("a cache directory others can write is not used") {
        REQUIRE(chmod(dir.c_str(), 0777) == 0);
        CHECK_FALSE(linux::prepare_seccomp(s, dir).from_cache);
        REQUIRE(chmod(dir.c_str(), 0700) == 0);
        CHECK(linux::prepare_seccomp(s, dir).from_cache);
    }
    SECTION("no cache directory: no cache") {
        CHECK_FALSE(linux::prepare_seccomp(s, "").from_cache);
    }
}

TEST_CASE("seccomp: an older crunpp's cache in the state root is removed", "[seccomp]") {
    TempDir root;
    std::string old = root.path + "/.seccomp-cache";
    REQUIRE(mkdir(old.c_str(), 0700) == 0);
    write_file(old + "/0123456789abcdef", "entry");
    write_file(old + "/.tmp-1-2", "half");
    linux::remove_legacy_seccomp_cache(root.path);
    CHECK(access(old.c_str(), F_OK) != 0);
    // What the cache never held stays, and so does the directory then.
    REQUIRE(mkdir(old.c_str(), 0700) == 0);
    REQUIRE(mkdir((old + "/sub").c_str(), 0700) == 0);
    write_file(old + "/0123456789abcdef", "entry");
    linux::remove_legacy_seccomp_cache(root.path);
    CHECK(access((old + "/0123456789abcdef").c_str(), F_OK) != 0);
    CHECK(access((old + "/sub").c_str(), F_OK) == 0);
    linux::remove_legacy_seccomp_cache(""); // no root: nothing
}

TEST_CASE("seccomp: the cache is the user's, beside the default state root, never in one", "[seccomp]") {
    // runc list reads every entry of a --root that engines share with it.
    CHECK(linux::seccomp_cache_dir() == state::default_root() + "-seccomp-cache");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    std::string saved = xdg ? xdg : "";
    if (geteuid() == 0 && !state::in_user_namespace())
        CHECK(linux::seccomp_cache_dir() == "/run/crunpp-seccomp-cache");
    else if (geteuid() != 0) {
        unsetenv("XDG_RUNTIME_DIR");
        CHECK(linux::seccomp_cache_dir().empty()); // rootless without XDG_RUNTIME_DIR: none
        if (xdg)
            setenv("XDG_RUNTIME_DIR", saved.c_str(), 1);
    }
}

TEST_CASE("seccomp: the cache keeps the most recently used entries", "[seccomp]") {
    TempDir root;
    std::string dir = root.path + "/cache";
    std::vector<sock_filter> prog = linux::compile_seccomp(seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW"})"));
    std::vector<std::string> names;
    for (int i = 0; i < 5; i++) {
        std::string key = "key " + std::to_string(i);
        names.push_back(linux::seccomp_cache_name(key));
        REQUIRE(linux::seccomp_cache_store(dir, key, prog, 3));
        // Distinct mtimes even on coarse clocks.
        struct timespec ts[2] = {{1000000 + i, 0}, {1000000 + i, 0}};
        REQUIRE(utimensat(AT_FDCWD, (dir + "/" + names.back()).c_str(), ts, 0) == 0);
        if (i == 1) {
            // key 0 is used again: it becomes the most recent.
            REQUIRE(linux::seccomp_cache_lookup(dir, "key 0"));
        }
    }
    std::vector<std::string> want = {names[0], names[3], names[4]};
    std::sort(want.begin(), want.end());
    CHECK(dir_entries(dir) == want);
    // No temporary file is left behind.
    int all = 0;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d))
            all += e->d_name[0] != '.';
        closedir(d);
    }
    CHECK(all == 3);
}

TEST_CASE("seccomp: a killed writer's temp file is removed once it is old", "[seccomp]") {
    TempDir root;
    std::string dir = root.path + "/cache";
    std::vector<sock_filter> prog = linux::compile_seccomp(seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW"})"));
    REQUIRE(linux::seccomp_cache_store(dir, "first", prog, 8));
    for (const char *name : {"/.tmp-999999-0", "/.tmp-999998-0"}) {
        int fd = open((dir + name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        close(fd);
    }
    struct timespec old[2] = {{1000000, 0}, {1000000, 0}};
    REQUIRE(utimensat(AT_FDCWD, (dir + "/.tmp-999999-0").c_str(), old, 0) == 0);
    REQUIRE(linux::seccomp_cache_store(dir, "second", prog, 8));
    // The old one goes; a fresh one may belong to a live writer and stays.
    CHECK(access((dir + "/.tmp-999999-0").c_str(), F_OK) != 0);
    CHECK(access((dir + "/.tmp-999998-0").c_str(), F_OK) == 0);
}

TEST_CASE("seccomp: features claims actions, operators, archs and the kernel's flags", "[seccomp][features]") {
    json::Value f = json::parse(features_json(false), "features");
    const json::Value *sc = f.find("linux") ? f.find("linux")->find("seccomp") : nullptr;
    REQUIRE(sc);
    REQUIRE(sc->find("enabled"));
    CHECK(sc->find("enabled")->boolean);
    auto list = [&](const char *key) {
        std::vector<std::string> out;
        const json::Value *v = sc->find(key);
        REQUIRE(v);
        for (const auto &e : v->array)
            out.push_back(e.text);
        return out;
    };
    CHECK(list("actions") == std::vector<std::string>{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                                      "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                                      "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"});
    CHECK(list("operators") == std::vector<std::string>{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                                                        "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"});
    std::vector<std::string> archs = list("archs");
    CHECK(std::find(archs.begin(), archs.end(), "SCMP_ARCH_X86_64") != archs.end());
    CHECK(std::find(archs.begin(), archs.end(), "SCMP_ARCH_X86") != archs.end());
    std::vector<std::string> known = list("knownFlags"), supported = list("supportedFlags");
    CHECK(known.size() == 4);
    for (const std::string &s : supported)
        CHECK(std::find(known.begin(), known.end(), s) != known.end());
    // Every kernel since 4.17 has these three.
    for (const char *flag : {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"})
        CHECK(std::find(supported.begin(), supported.end(), flag) != supported.end());
}

TEST_CASE("seccomp: the listener goes to listenerPath with the container process state", "[seccomp]") {
    TempDir dir;
    std::string path = dir.path + "/agent.sock";
    spec::Seccomp s = seccomp_of(R"({"defaultAction":"SCMP_ACT_ALLOW","listenerPath":")" + path +
                                 R"(","listenerMetadata":"meta data","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]})");
    state::ContainerState st;
    st.ociVersion = "1.3.0";
    st.id = "ctr";
    st.status = state::Status::Creating;
    st.pid = 4242;
    st.bundle = "/b";
    st.annotations = {{"a", "b"}};

    SECTION("state and fd in one message") {
        UniqueFd srv(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        strcpy(addr.sun_path, path.c_str());
        REQUIRE(bind(srv.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
        REQUIRE(listen(srv.get(), 1) == 0);
        int pipefd[2];
        REQUIRE(pipe2(pipefd, O_CLOEXEC) == 0);
        UniqueFd rd(pipefd[0]), wr(pipefd[1]);
        linux::send_seccomp_listener(s, wr.get(), st);
        UniqueFd conn(accept4(srv.get(), nullptr, nullptr, SOCK_CLOEXEC));
        REQUIRE(conn);
        char buf[8192];
        iovec iov{buf, sizeof buf};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
        REQUIRE(n > 0);
        cmsghdr *c = CMSG_FIRSTHDR(&msg);
        REQUIRE(c);
        REQUIRE(c->cmsg_type == SCM_RIGHTS);
        int got;
        memcpy(&got, CMSG_DATA(c), sizeof got);
        UniqueFd passed(got);
        // The fd is the pipe's write end: what is written arrives at rd.
        REQUIRE(write(passed.get(), "z", 1) == 1);
        char z = 0;
        REQUIRE(read(rd.get(), &z, 1) == 1);
        CHECK(z == 'z');
        json::Value v = json::parse(std::string_view(buf, static_cast<size_t>(n)), "state");
        CHECK(v.find("ociVersion")->text == spec::kOciVersion);
        REQUIRE(v.find("fds")->array.size() == 1);
        CHECK(v.find("fds")->array[0].text == "seccompFd");
        CHECK(v.find("pid")->text == "4242");
        CHECK(v.find("metadata")->text == "meta data");
        const json::Value *state = v.find("state");
        REQUIRE(state);
        CHECK(state->find("id")->text == "ctr");
        CHECK(state->find("status")->text == "creating");
        CHECK(state->find("pid")->text == "4242");
        CHECK(state->find("bundle")->text == "/b");
        CHECK(state->find("annotations")->find("a")->text == "b");
    }
    SECTION("nobody listening is an error naming the path") {
        CHECK(error_of([&] { linux::send_seccomp_listener(s, 0, st); }) ==
              "send the seccomp listener to linux.seccomp.listenerPath \"" + path +
                  "\": connect: No such file or directory");
    }
    SECTION("a path too long for a unix socket") {
        spec::Seccomp longer = s;
        longer.listenerPath = "/" + std::string(200, 'x');
        CHECK(error_of([&] { linux::send_seccomp_listener(longer, 0, st); })
                  .ends_with(": the path must have 1 to 107 bytes"));
    }
}
