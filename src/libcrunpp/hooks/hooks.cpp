// SPDX-License-Identifier: GPL-2.0-or-later
#include "hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::hooks {
namespace {

// How much of a failed hook's output the error message keeps.
constexpr size_t kOutputTail = 4096;

int64_t now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The state as a file the hook reads from offset 0: a memfd never blocks
// the writer and gives no SIGPIPE when the hook ignores its stdin.
} // namespace

UniqueFd state_memfd(const std::string &json) {
    UniqueFd fd(static_cast<int>(syscall(SYS_memfd_create, "oci-state", MFD_CLOEXEC)));
    if (!fd)
        throw_errno("hook: memfd_create");
    for (size_t off = 0; off < json.size();) {
        ssize_t w = write(fd.get(), json.data() + off, json.size() - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            throw_errno("hook: write the state");
        off += static_cast<size_t>(w);
    }
    if (lseek(fd.get(), 0, SEEK_SET) < 0)
        throw_errno("hook: rewind the state");
    return fd;
}

std::string read_state_memfd(int fd) {
    std::string out;
    char buf[4096];
    for (off_t off = 0;;) {
        ssize_t r = pread(fd, buf, sizeof buf, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            throw_errno("hook: read the state");
        if (r == 0)
            return out;
        out.append(buf, static_cast<size_t>(r));
        off += r;
    }
}

namespace {

std::vector<char *> c_strings(const std::vector<std::string> &v) {
    std::vector<char *> out;
    for (const std::string &s : v)
        out.push_back(const_cast<char *>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// In the forked child: stdin the state, stdout/stderr the capture pipe or
// the annotation's files, nothing else of the runtime's fds, default signal
// dispositions and mask.
[[noreturn]] void exec_hook(const spec::Hook &h, int state_fd, int out_fd, const RunOptions &o) noexcept {
    // A process group of its own: a timeout kills what the hook started too.
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    if (dup2(state_fd, 0) < 0 || dup2(o.stdout_fd >= 0 ? o.stdout_fd : out_fd, 1) < 0 ||
        dup2(o.stderr_fd >= 0 ? o.stderr_fd : out_fd, 2) < 0)
        _exit(126);
    syscall(SYS_close_range, 3u, ~0u, 0u);
    std::string msg;
    if (!o.cwd.empty() && chdir(o.cwd.c_str()) < 0) {
        msg = "chdir \"" + o.cwd + "\": " + strerror(errno) + "\n";
    } else {
        std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
        std::vector<char *> argv = c_strings(args);
        std::vector<char *> envp;
        if (h.env)
            envp = c_strings(*h.env);
        execve(h.path.c_str(), argv.data(), h.env ? envp.data() : ::environ);
        msg = "exec: " + std::string(strerror(errno)) + "\n";
    }
    ssize_t ignored = write(2, msg.data(), msg.size());
    (void)ignored;
    _exit(127);
}

void append_tail(std::string &out, const char *buf, size_t n) {
    out.append(buf, n);
    if (out.size() > 2 * kOutputTail)
        out.erase(0, out.size() - kOutputTail);
}

// Reads what is available without blocking; false at EOF.
bool drain(int fd, std::string &out) {
    char buf[4096];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) {
            append_tail(out, buf, static_cast<size_t>(r));
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 && errno == EAGAIN;
    }
}

std::string describe_output(std::string out) {
    if (out.size() > kOutputTail)
        out.erase(0, out.size() - kOutputTail);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
        out.pop_back();
    return out.empty() ? std::string() : ": " + out;
}

void run_one(const std::string &name, const spec::Hook &h, const std::string &state_json, const RunOptions &o) {
    UniqueFd state = state_memfd(state_json);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
        throw_errno(name + ": pipe");
    UniqueFd out_r(pipe_fds[0]), out_w(pipe_fds[1]);
    // The child's end blocks as any stdout would.
    fcntl(out_w.get(), F_SETFL, 0);

    pid_t pid = fork();
    if (pid < 0)
        throw_errno(name + ": fork");
    if (pid == 0)
        exec_hook(h, state.get(), out_w.get(), o);
    setpgid(pid, pid); // also here: the group must exist before any kill below
    out_w.reset();
    UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
        int err = errno;
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        throw_errno(name + ": pidfd_open", err);
    }

    std::string output;
    const int64_t deadline = h.timeout ? now_ms() + int64_t{*h.timeout} * 1000 : -1;
    bool timed_out = false, output_open = true;
    for (;;) {
        struct pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {out_r.get(), POLLIN, 0}};
        int wait_ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            wait_ms = left > 0 ? static_cast<int>(left) : 0;
        }
        int r = poll(fds, output_open ? 2 : 1, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
            throw_errno(name + ": poll", err);
        }
        if (r == 0) {
            // The hook and whatever it started and left in its group (a
            // shell script's children): nothing of it outlives the timeout.
            timed_out = true;
            kill(-pid, SIGKILL);
            break;
        }
        if (output_open && (fds[1].revents & (POLLIN | POLLHUP)))
            output_open = drain(out_r.get(), output);
        if (fds[0].revents & POLLIN)
            break;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    // What the hook wrote before it exited; a child it left behind may keep
    // the pipe open, so no waiting for EOF.
    drain(out_r.get(), output);
    if (timed_out)
        throw Error(name + ": timed out after " + std::to_string(*h.timeout) + " s (killed)" +
                    describe_output(std::move(output)));
    if (WIFSIGNALED(status))
        throw Error(name + ": killed by signal " + std::to_string(WTERMSIG(status)) +
                    describe_output(std::move(output)));
    if (WEXITSTATUS(status) != 0)
        throw Error(name + ": exited with status " + std::to_string(WEXITSTATUS(status)) +
                    describe_output(std::move(output)));
}

} // namespace

void run(std::string_view phase, const std::vector<spec::Hook> &hooks, const std::string &state_json,
         const RunOptions &o) {
    for (size_t i = 0; i < hooks.size(); i++) {
        std::string name = std::string(phase) + " hook[" + std::to_string(i) + "] \"" + hooks[i].path + "\"";
        run_one(name, hooks[i], state_json, o);
    }
}

void run_warn_only(std::string_view phase, const std::vector<spec::Hook> &hooks, const std::string &state_json,
                   const RunOptions &o) noexcept {
    for (size_t i = 0; i < hooks.size(); i++) {
        std::string name = std::string(phase) + " hook[" + std::to_string(i) + "] \"" + hooks[i].path + "\"";
        try {
            run_one(name, hooks[i], state_json, o);
        } catch (const std::exception &e) {
            log::warn(e.what());
        }
    }
}

} // namespace crunpp::hooks
