// SPDX-License-Identifier: GPL-2.0-or-later
// A process with state CRIU must carry over (checkpoint.bats; static: it
// runs in busybox containers):
//   criu-holder FILE   keeps FILE open (fd 3) and a unix socket pair (fds 4
//                      and 5); every 100 ms sends a counter through the
//                      pair, reads it back and rewrites FILE through the
//                      open fd with "TOKEN COUNT ok" (TOKEN: chosen at
//                      start), or "TOKEN COUNT bad" when the pair lost it
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: criu-holder FILE\n");
        return 2;
    }
    int file = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    int pair[2];
    if (file != 3 || socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0) {
        perror("criu-holder: open or socketpair");
        return 1;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const long token = now.tv_nsec ^ (static_cast<long>(getpid()) << 20);
    for (unsigned long count = 1;; count++) {
        char sent[32], got[32] = {};
        int n = snprintf(sent, sizeof sent, "%lu", count);
        bool ok = write(pair[0], sent, static_cast<size_t>(n)) == n && read(pair[1], got, sizeof got - 1) == n &&
                  strcmp(sent, got) == 0;
        char line[96];
        int len = snprintf(line, sizeof line, "%ld %lu %s\n", token, count, ok ? "ok" : "bad");
        if (ftruncate(file, 0) < 0 || pwrite(file, line, static_cast<size_t>(len), 0) != len)
            return 1;
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, nullptr);
    }
}
