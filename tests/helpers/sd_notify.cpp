// SPDX-License-Identifier: GPL-2.0-or-later
// sd_notify both ways for the integration tests (static: it also runs in
// the busybox containers):
//   sd-notify listen SOCKET [LINE...]
//                            binds a unix datagram socket at SOCKET ("@" =
//                            abstract; a path gets mode 0777, so that any
//                            container user may send), prints each message's
//                            lines followed by a line "--", and exits once
//                            every LINE (default READY=1) has come in some
//                            message, in any order (0), or after 20 s
//                            without a message (1). A LINE ending in "="
//                            stands for any value ("MAINPID=").
//   sd-notify send MESSAGE   sends MESSAGE to $NOTIFY_SOCKET ("@" = abstract)
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

socklen_t address(const char *path, struct sockaddr_un &addr) {
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + strlen(path));
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    else
        len++;
    return len;
}

// Whether `message` has the line `wanted` (any value after a final "=").
bool has_line(const std::string &message, const std::string &wanted) {
    size_t pos = 0;
    while (pos < message.size()) {
        size_t nl = message.find('\n', pos);
        std::string line = message.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (wanted.back() == '=' ? line.rfind(wanted, 0) == 0 : line == wanted)
            return true;
        if (nl == std::string::npos)
            break;
        pos = nl + 1;
    }
    return false;
}

int listen_until(const char *path, std::vector<std::string> wanted) {
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un addr;
    socklen_t len = address(path, addr);
    if (bind(s, reinterpret_cast<struct sockaddr *>(&addr), len) < 0) {
        perror("sd-notify: bind");
        return 1;
    }
    if (path[0] != '@')
        chmod(path, 0777);
    for (int i = 0; i < 100; i++) {
        struct pollfd p = {s, POLLIN, 0};
        if (poll(&p, 1, 20000) <= 0)
            break;
        char buf[4096];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n < 0)
            break;
        std::string message(buf, static_cast<size_t>(n));
        if (message.empty() || message.back() != '\n')
            message += '\n';
        printf("%s--\n", message.c_str());
        fflush(stdout);
        std::erase_if(wanted, [&](const std::string &w) { return has_line(message, w); });
        if (wanted.empty())
            return 0;
    }
    for (const std::string &w : wanted)
        fprintf(stderr, "sd-notify: no %s\n", w.c_str());
    return 1;
}

int send_message(const char *message) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) {
        fprintf(stderr, "sd-notify: NOTIFY_SOCKET is not set\n");
        return 1;
    }
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un addr;
    socklen_t len = address(path, addr);
    if (sendto(s, message, strlen(message), 0, reinterpret_cast<struct sockaddr *>(&addr), len) < 0) {
        perror("sd-notify: send");
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "listen") == 0) {
        std::vector<std::string> wanted(argv + 3, argv + argc);
        if (wanted.empty())
            wanted.emplace_back("READY=1");
        for (const std::string &w : wanted)
            if (w.empty()) {
                fprintf(stderr, "sd-notify: an empty LINE\n");
                return 2;
            }
        return listen_until(argv[2], std::move(wanted));
    }
    if (argc == 3 && strcmp(argv[1], "send") == 0)
        return send_message(argv[2]);
    fprintf(stderr, "usage: sd-notify listen SOCKET [LINE...] | sd-notify send MESSAGE\n");
    return 2;
}
