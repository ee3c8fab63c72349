// SPDX-License-Identifier: GPL-2.0-or-later
// Whether this kernel can make an idmapped mount of DIR's filesystem (tmpfs
// only since Linux 6.3), independently of crunpp: the tests that need one
// skip with the reason otherwise.
//   idmap-probe DIR   exit 0: it can; exit 2: the kernel or filesystem
//                     refuses (the reason on stdout); exit 1: the probe
//                     itself failed (needs root)
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

int fail(const char *what) {
    fprintf(stderr, "idmap-probe: %s: %s\n", what, strerror(errno));
    return 1;
}

bool write_file(const std::string &path, const char *text) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == static_cast<ssize_t>(strlen(text));
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: idmap-probe DIR\n");
        return 1;
    }
    // A user namespace to map through: a child that waits in one.
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return fail("pipe");
    pid_t child = fork();
    if (child < 0)
        return fail("fork");
    if (child == 0) {
        close(ready[0]);
        if (unshare(CLONE_NEWUSER) < 0)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char c;
    int rc = 1;
    if (read(ready[0], &c, 1) != 1) {
        fprintf(stderr, "idmap-probe: no user namespace\n");
    } else {
        const std::string proc = "/proc/" + std::to_string(child);
        int userns = -1, tree = -1;
        if (!write_file(proc + "/uid_map", "0 100000 65536") || !write_file(proc + "/gid_map", "0 100000 65536")) {
            rc = fail("write the child's id maps");
        } else if ((userns = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC)) < 0) {
            rc = fail("open the child's user namespace");
        } else if ((tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, argv[1],
                                                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC))) < 0) {
            rc = fail("open_tree");
        } else {
            mount_attr attr{};
            attr.attr_set = MOUNT_ATTR_IDMAP;
            attr.userns_fd = static_cast<__u64>(userns);
            if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) {
                rc = 0;
            } else if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
                printf("the kernel cannot make an idmapped mount of %s (mount_setattr: %s)\n", argv[1],
                       strerror(errno));
                rc = 2;
            } else {
                rc = fail("mount_setattr");
            }
        }
        if (tree >= 0)
            close(tree);
        if (userns >= 0)
            close(userns);
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return rc;
}
