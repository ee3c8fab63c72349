// SPDX-License-Identifier: GPL-2.0-or-later
// seccomp-probe [--catch-sigsys] SYSCALL [ARG...]: makes one raw syscall and
// prints what came back, for the seccomp tests to copy into a container
// (linked statically: the busybox rootfs has no libc).
//   ret=N        the syscall returned N
//   errno=E      it failed with errno E
//   sigsys=NR    (--catch-sigsys) a SIGSYS was delivered for syscall NR
// SYSCALL is a name from the table below or a number. ARGs are integers
// (0x.. allowed) or "str:TEXT" for a pointer to TEXT. A SIGSYS that is not
// caught ends the process (status 159 in a shell).
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

struct Name {
    const char *name;
    long nr;
};

constexpr Name kNames[] = {
    {"getpid", SYS_getpid},       {"getppid", SYS_getppid},     {"mkdir", SYS_mkdir},
    {"mkdirat", SYS_mkdirat},     {"rmdir", SYS_rmdir},         {"personality", SYS_personality},
    {"keyctl", SYS_keyctl},       {"add_key", SYS_add_key},     {"unshare", SYS_unshare},
    {"setns", SYS_setns},         {"chroot", SYS_chroot},       {"mount", SYS_mount},
    {"umask", SYS_umask},         {"getuid", SYS_getuid},       {"sync", SYS_sync},
    {"kcmp", SYS_kcmp},           {"getpriority", SYS_getpriority}, {"dup", SYS_dup},
    {"request_key", SYS_request_key},
};

volatile sig_atomic_t g_sigsys_nr = -1;

void on_sigsys(int, siginfo_t *si, void *) { g_sigsys_nr = si->si_syscall; }

long parse_long(const char *s) {
    char *end = nullptr;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || !end || *end != '\0') {
        fprintf(stderr, "seccomp-probe: bad number \"%s\"\n", s);
        exit(2);
    }
    return static_cast<long>(v);
}

long syscall_number(const char *s) {
    for (const Name &n : kNames)
        if (strcmp(n.name, s) == 0)
            return n.nr;
    return parse_long(s);
}

} // namespace

int main(int argc, char **argv) {
    int i = 1;
    bool catch_sigsys = false;
    if (i < argc && strcmp(argv[i], "--catch-sigsys") == 0) {
        catch_sigsys = true;
        i++;
    }
    if (i >= argc || argc - i > 7) {
        fprintf(stderr, "usage: seccomp-probe [--catch-sigsys] SYSCALL [ARG...] (at most 6 args)\n");
        return 2;
    }
    if (catch_sigsys) {
        struct sigaction sa {};
        sa.sa_sigaction = on_sigsys;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSYS, &sa, nullptr);
    }
    long nr = syscall_number(argv[i++]);
    long a[6] = {};
    for (int k = 0; i < argc; k++, i++)
        a[k] = strncmp(argv[i], "str:", 4) == 0 ? reinterpret_cast<long>(argv[i] + 4) : parse_long(argv[i]);
    errno = 0;
    long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    int err = errno;
    if (g_sigsys_nr >= 0)
        printf("sigsys=%d\n", static_cast<int>(g_sigsys_nr));
    else if (r < 0)
        printf("errno=%d\n", err);
    else
        printf("ret=%ld\n", r);
    return 0;
}
