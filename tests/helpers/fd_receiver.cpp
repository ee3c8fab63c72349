// SPDX-License-Identifier: GPL-2.0-or-later
// Receiver for --console-socket and --pidfd-socket in the integration tests.
//   fd-receiver pty SOCKET     receives a pty master, writes its own stdin
//                              to it and the pty's output to stdout until
//                              every peer is closed; the message payload
//                              goes to stderr
//   fd-receiver pidfd SOCKET   receives a pidfd, prints "pid N" (from its
//                              fdinfo), waits until that process exits and
//                              prints "exited"
// Gives up after 20 s. Exit status 0 on success.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace {

constexpr int kTimeoutMs = 20000;

int die(const char *what) {
    fprintf(stderr, "fd-receiver: %s: %s\n", what, strerror(errno));
    return 1;
}

bool wait_in(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) > 0;
}

int receive_fd(int listener, std::string &payload) {
    if (!wait_in(listener, kTimeoutMs))
        return -1;
    int conn = accept(listener, nullptr, nullptr);
    if (conn < 0)
        return -1;
    char data[256];
    struct iovec iov = {data, sizeof data - 1};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(conn, &msg, 0);
    close(conn);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (n < 0 || !c || c->cmsg_type != SCM_RIGHTS)
        return -1;
    payload.assign(data, static_cast<size_t>(n));
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

int relay_pty(int master) {
    bool in_open = true;
    for (;;) {
        struct pollfd p[2] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
        if (poll(p, 2, kTimeoutMs) <= 0)
            return die("pty: no activity");
        char buf[4096];
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(master, buf, sizeof buf);
            if (r <= 0)
                return 0; // EIO: the container side is closed
            if (write(1, buf, static_cast<size_t>(r)) != r)
                return die("write stdout");
        }
        if (in_open && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t r = read(0, buf, sizeof buf);
            if (r <= 0)
                in_open = false;
            else if (write(master, buf, static_cast<size_t>(r)) != r)
                return die("write pty");
        }
    }
}

int watch_pidfd(int pidfd) {
    std::string path = "/proc/self/fdinfo/" + std::to_string(pidfd);
    FILE *f = fopen(path.c_str(), "r");
    if (!f)
        return die("fdinfo");
    char line[256];
    long pid = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Pid: %ld", &pid) == 1)
            break;
    fclose(f);
    printf("pid %ld\n", pid);
    fflush(stdout);
    if (!wait_in(pidfd, kTimeoutMs))
        return die("pidfd: the process did not exit");
    printf("exited\n");
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fd-receiver pty|pidfd SOCKET\n");
        return 2;
    }
    std::string mode = argv[1];
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[2]);
    if (bind(listener, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) < 0 || listen(listener, 1) < 0)
        return die("listen");
    std::string payload;
    int fd = receive_fd(listener, payload);
    close(listener);
    unlink(argv[2]);
    if (fd < 0)
        return die("receive an fd");
    fprintf(stderr, "payload %s\n", payload.c_str());
    return mode == "pty" ? relay_pty(fd) : watch_pidfd(fd);
}
