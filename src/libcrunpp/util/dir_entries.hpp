// SPDX-License-Identifier: GPL-2.0-or-later
// Reading a directory's entries with getdents64 into a buffer on the stack.
// opendir() mallocs 32 KiB for its buffer: for the dozen entries of a state
// or cgroup directory that grows the heap (brk, then page faults, then brk
// again to give it back) on the path of every container's start and delete.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace crunpp::util {

// Calls f(name, d_type) for every entry of the directory open as `fd` but
// "." and "..", from the fd's current offset (a fresh fd: the start), while
// f returns true. Returns 0 when all were seen, ECANCELED when f stopped,
// or the errno of the failed read (EIO for a malformed record). The name's
// data() is NUL-terminated (the kernel's record), fit for *at() calls.
template <typename F> int for_each_dir_entry(int fd, F &&f) {
    struct Entry {
        uint64_t ino;
        int64_t off;
        uint16_t reclen;
        uint8_t type;
        char name[];
    };
    alignas(8) char buf[4096];
    for (;;) {
        const long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return 0;
        for (long off = 0; off < n;) {
            const auto *e = reinterpret_cast<const Entry *>(buf + off);
            if (e->reclen <= offsetof(Entry, name) || off + e->reclen > n)
                return EIO;
            off += e->reclen;
            const std::string_view name(e->name, strnlen(e->name, e->reclen - offsetof(Entry, name)));
            if (name == "." || name == "..")
                continue;
            if (!f(name, e->type))
                return ECANCELED;
        }
    }
}

} // namespace crunpp::util
