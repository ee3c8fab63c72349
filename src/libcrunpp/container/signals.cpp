// SPDX-License-Identifier: GPL-2.0-or-later
// Signal names for `kill`, and exit statuses as a shell reports them.
#include <sys/wait.h>

#include <cctype>
#include <charconv>
#include <csignal>
#include <string>

#include "crunpp/container.hpp"
#include "crunpp/error.hpp"

namespace crunpp::container {
namespace {

struct SignalName {
    const char *name;
    int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},       {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},     {"IOT", SIGIOT},       {"BUS", SIGBUS},     {"FPE", SIGFPE},       {"KILL", SIGKILL},
    {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},
    {"TERM", SIGTERM},     {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},      {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
    {"IO", SIGIO},         {"POLL", SIGPOLL},     {"PWR", SIGPWR},     {"SYS", SIGSYS},
};

bool parse_int(std::string_view s, int &out) {
    if (s.empty())
        return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

} // namespace

int parse_signal(std::string_view text) {
    auto bad = [&]() -> Error { return Error("invalid signal \"" + std::string(text) + "\""); };
    int n = 0;
    if (parse_int(text, n)) {
        if (n < 0 || n > SIGRTMAX)
            throw bad();
        return n;
    }
    std::string name;
    for (char c : text)
        name += static_cast<char>(toupper(static_cast<unsigned char>(c)));
    std::string_view s(name);
    if (s.starts_with("SIG"))
        s.remove_prefix(3);
    for (const SignalName &sig : kSignals)
        if (s == sig.name)
            return sig.number;
    // RTMIN, RTMIN+N, RTMAX, RTMAX-N as kill(1) spells them.
    if (s.starts_with("RTMIN") || s.starts_with("RTMAX")) {
        bool min = s.starts_with("RTMIN");
        std::string_view rest = s.substr(5);
        int offset = 0;
        if (!rest.empty()) {
            if (rest[0] != (min ? '+' : '-') || !parse_int(rest.substr(1), offset))
                throw bad();
        }
        int sig = min ? SIGRTMIN + offset : SIGRTMAX - offset;
        if (offset < 0 || sig < SIGRTMIN || sig > SIGRTMAX)
            throw bad();
        return sig;
    }
    throw bad();
}

int exit_status(int code, int status) {
    if (code == CLD_EXITED)
        return status;
    return 128 + status;
}

} // namespace crunpp::container
