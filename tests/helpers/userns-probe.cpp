// SPDX-License-Identifier: GPL-2.0-or-later
// userns-probe UIDMAP GIDMAP: forks a child that creates a user namespace;
// the probe writes the child's maps with crunpp's write_id_mappings (as
// whoever runs it: root, or an unprivileged user through newuidmap); the
// child then prints what it sees:
//   uid_map 0 1000 1,1 100000 65536
//   gid_map ...
//   setgroups allow|deny
// A map is "C:H:S[,C:H:S...]". Errors go to stderr with exit status 1.
#include "src/libcrunpp/linux/ns/userns.hpp"

#include <crunpp/error.hpp>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::vector<crunpp::spec::IdMapping> parse_map(const char *text) {
    std::vector<crunpp::spec::IdMapping> m;
    std::string s(text);
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t end = s.find(',', pos);
        if (end == std::string::npos)
            end = s.size();
        unsigned long c, h, n;
        if (std::sscanf(s.substr(pos, end - pos).c_str(), "%lu:%lu:%lu", &c, &h, &n) != 3)
            throw crunpp::Error(std::string("bad map \"") + text + "\" (want C:H:S[,C:H:S...])");
        m.push_back({static_cast<uint32_t>(c), static_cast<uint32_t>(h), static_cast<uint32_t>(n)});
        pos = end + 1;
    }
    return m;
}

// The file's lines with runs of blanks squeezed, joined by ','.
std::string read_squeezed(const char *path) {
    std::string out;
    FILE *f = std::fopen(path, "re");
    if (!f)
        return std::string("<") + std::strerror(errno) + ">";
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
        std::string l;
        for (char *p = line; *p; ++p) {
            if (*p == ' ' || *p == '\t' || *p == '\n') {
                if (!l.empty() && l.back() != ' ')
                    l += ' ';
            } else {
                l += *p;
            }
        }
        while (!l.empty() && l.back() == ' ')
            l.pop_back();
        if (!out.empty())
            out += ',';
        out += l;
    }
    std::fclose(f);
    return out;
}

void write_all(int fd, const std::string &s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        off += static_cast<size_t>(n);
    }
}

[[noreturn]] void child(int ready_fd, int go_fd) {
    if (::unshare(CLONE_NEWUSER) < 0) {
        write_all(2, std::string("unshare(CLONE_NEWUSER): ") + std::strerror(errno) + "\n");
        _exit(2);
    }
    char c = 'r';
    if (::write(ready_fd, &c, 1) != 1)
        _exit(2);
    // EOF without a byte: the parent failed to write the maps.
    if (::read(go_fd, &c, 1) != 1)
        _exit(3);
    write_all(1, "uid_map " + read_squeezed("/proc/self/uid_map") + "\ngid_map " +
                     read_squeezed("/proc/self/gid_map") + "\nsetgroups " +
                     read_squeezed("/proc/self/setgroups") + "\n");
    _exit(0);
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: userns-probe UIDMAP GIDMAP\n");
        return 2;
    }
    alarm(30); // never hang a test run
    int ready[2], go[2];
    if (::pipe2(ready, O_CLOEXEC) < 0 || ::pipe2(go, O_CLOEXEC) < 0) {
        std::perror("pipe2");
        return 2;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("fork");
        return 2;
    }
    if (pid == 0) {
        ::close(ready[0]);
        ::close(go[1]);
        child(ready[1], go[0]);
    }
    ::close(ready[1]);
    ::close(go[0]);

    int status = 0;
    char c;
    if (::read(ready[0], &c, 1) == 1) {
        try {
            crunpp::linux::write_id_mappings(pid, parse_map(argv[1]), parse_map(argv[2]));
            if (::write(go[1], "g", 1) != 1)
                std::perror("write");
        } catch (const crunpp::Error &e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            ::close(go[1]);
            ::waitpid(pid, &status, 0);
            return 1;
        }
    }
    ::close(go[1]);
    if (::waitpid(pid, &status, 0) < 0) {
        std::perror("waitpid");
        return 2;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
