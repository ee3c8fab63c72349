// SPDX-License-Identifier: GPL-2.0-or-later
// seccomp-agent SOCKET OUT [SYSCALL=ACTION...]: a minimal seccomp notify
// agent for the tests. It listens on the unix socket SOCKET, accepts one
// connection from the runtime, writes the container process state it
// received to OUT, then answers the notifications of the listener fd that
// came with it until every process of the container has exited:
//   SYSCALL=errno:N   the syscall fails with errno N
//   SYSCALL=ret:V     the syscall "succeeds" with return value V (not run)
//   anything else     is let through (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
// SYSCALL is a name from the table below or a number. Each notification is
// logged as "NAME ACTION" in OUT.log. Everything is bounded by a 60 s alarm.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Name {
    const char *name;
    int nr;
};
constexpr Name kNames[] = {
    {"mkdir", SYS_mkdir}, {"mkdirat", SYS_mkdirat}, {"getppid", SYS_getppid}, {"getpid", SYS_getpid},
    {"rmdir", SYS_rmdir}, {"chmod", SYS_chmod},     {"fchmodat", SYS_fchmodat}, {"uname", SYS_uname},
};

[[noreturn]] void die(const char *what) {
    fprintf(stderr, "seccomp-agent: %s: %s\n", what, strerror(errno));
    exit(1);
}

int syscall_number(const std::string &s) {
    for (const Name &n : kNames)
        if (s == n.name)
            return n.nr;
    return atoi(s.c_str());
}

std::string syscall_name(int nr) {
    for (const Name &n : kNames)
        if (n.nr == nr)
            return n.name;
    return std::to_string(nr);
}

struct Rule {
    int nr;
    bool is_errno;
    long long value;
    std::string text;
};

std::vector<Rule> parse_rules(int argc, char **argv) {
    std::vector<Rule> rules;
    for (int i = 3; i < argc; i++) {
        std::string a = argv[i];
        size_t eq = a.find('='), colon = a.find(':');
        if (eq == std::string::npos || colon == std::string::npos || colon < eq) {
            fprintf(stderr, "seccomp-agent: bad rule \"%s\"\n", argv[i]);
            exit(2);
        }
        std::string kind = a.substr(eq + 1, colon - eq - 1);
        if (kind != "errno" && kind != "ret") {
            fprintf(stderr, "seccomp-agent: bad action in \"%s\"\n", argv[i]);
            exit(2);
        }
        rules.push_back({syscall_number(a.substr(0, eq)), kind == "errno", atoll(a.c_str() + colon + 1),
                         a.substr(eq + 1)});
    }
    return rules;
}

// The state JSON and the listener fd: the fd comes with the first bytes,
// the runtime closes the connection after the last.
int receive_listener(int conn, const char *out_path) {
    std::string json;
    int listener = -1;
    for (;;) {
        char buf[4096];
        iovec iov{buf, sizeof buf};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t r = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("recvmsg");
        if (r == 0)
            break;
        for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                memcpy(&listener, CMSG_DATA(c), sizeof listener);
        json.append(buf, static_cast<size_t>(r));
    }
    FILE *f = fopen(out_path, "w");
    if (!f)
        die("open OUT");
    fwrite(json.data(), 1, json.size(), f);
    fclose(f);
    if (listener < 0) {
        fprintf(stderr, "seccomp-agent: no fd received\n");
        exit(1);
    }
    return listener;
}

void serve(int listener, const std::vector<Rule> &rules, const std::string &log_path) {
    seccomp_notif_sizes sizes{};
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
        die("SECCOMP_GET_NOTIF_SIZES");
    std::vector<char> req_buf(sizes.seccomp_notif > sizeof(seccomp_notif) ? sizes.seccomp_notif : sizeof(seccomp_notif));
    std::vector<char> resp_buf(sizes.seccomp_notif_resp > sizeof(seccomp_notif_resp) ? sizes.seccomp_notif_resp
                                                                                      : sizeof(seccomp_notif_resp));
    FILE *log = fopen(log_path.c_str(), "w");
    if (!log)
        die("open OUT.log");
    setvbuf(log, nullptr, _IOLBF, 0);
    for (;;) {
        pollfd p{listener, POLLIN, 0};
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (p.revents & POLLIN) {
            auto *req = reinterpret_cast<seccomp_notif *>(req_buf.data());
            memset(req_buf.data(), 0, req_buf.size());
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
                if (errno == EINTR || errno == ENOENT)
                    continue;
                die("SECCOMP_IOCTL_NOTIF_RECV");
            }
            auto *resp = reinterpret_cast<seccomp_notif_resp *>(resp_buf.data());
            memset(resp_buf.data(), 0, resp_buf.size());
            resp->id = req->id;
            resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
            std::string decided = "continue";
            for (const Rule &r : rules)
                if (r.nr == req->data.nr) {
                    resp->flags = 0;
                    resp->error = r.is_errno ? -static_cast<int>(r.value) : 0;
                    resp->val = r.is_errno ? 0 : r.value;
                    decided = r.text;
                }
            fprintf(log, "%s %s\n", syscall_name(req->data.nr).c_str(), decided.c_str());
            // ENOENT: the caller was killed meanwhile; nothing to answer.
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
                die("SECCOMP_IOCTL_NOTIF_SEND");
            continue;
        }
        if (p.revents & (POLLHUP | POLLERR))
            break; // every process using the filter is gone
    }
    fclose(log);
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: seccomp-agent SOCKET OUT [SYSCALL=errno:N|SYSCALL=ret:V...]\n");
        return 2;
    }
    alarm(60);
    std::vector<Rule> rules = parse_rules(argc, argv);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        die("socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "seccomp-agent: socket path too long\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    // Bound under a temporary name and renamed: the tests wait for SOCKET
    // to appear, and it must then already accept connections.
    std::string tmp = std::string(argv[1]) + ".tmp";
    strcpy(addr.sun_path, tmp.c_str());
    unlink(tmp.c_str());
    if (bind(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0)
        die("bind");
    if (listen(sock, 4) < 0)
        die("listen");
    if (rename(tmp.c_str(), argv[1]) < 0)
        die("rename");
    int conn;
    do
        conn = accept4(sock, nullptr, nullptr, SOCK_CLOEXEC);
    while (conn < 0 && errno == EINTR);
    if (conn < 0)
        die("accept");
    int listener = receive_listener(conn, argv[2]);
    close(conn);
    close(sock);
    unlink(argv[1]);
    serve(listener, rules, std::string(argv[2]) + ".log");
    return 0;
}
