// SPDX-License-Identifier: GPL-2.0-or-later
#include "dbus_connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

#include "crunpp/error.hpp"
#include "../util/strings.hpp"

namespace crunpp::cgroup::dbus {
namespace {

constexpr const char *kBusName = "org.freedesktop.DBus";
// An authentication line is a command and a hex GUID: far below this.
constexpr size_t kMaxLine = 1024;
// Signals kept while waiting: JobRemoved of every job systemd runs meanwhile
// arrives; the oldest are dropped beyond this (a job is waited for right
// after its call, so its signal is among the newest).
constexpr size_t kMaxQueued = 4096;

int hex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string unescape(std::string_view v) {
    std::string out;
    for (size_t i = 0; i < v.size(); i++) {
        if (v[i] != '%') {
            out += v[i];
            continue;
        }
        const int hi = i + 2 < v.size() ? hex(v[i + 1]) : -1;
        const int lo = i + 2 < v.size() ? hex(v[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            throw Error("a % not followed by two hex digits in \"" + std::string(v) + "\"");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// sd-bus's bus_address_escape: what is not [A-Za-z0-9_-/.] as %xx.
std::string escape(std::string_view v) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (char c : v) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || std::strchr("_-/.", c))
            out += c;
        else {
            out += '%';
            out += digits[static_cast<uint8_t>(c) >> 4];
            out += digits[static_cast<uint8_t>(c) & 15];
        }
    }
    return out;
}

// Printable, for an error quoting what a bus said.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s)
        out += c >= 0x20 && c < 0x7f ? c : '?';
    return out;
}

std::string getenv_nonempty(const char *name) {
    const char *v = getenv(name);
    return v ? v : "";
}

} // namespace

std::vector<Address> parse_address(const std::string &text) {
    std::vector<Address> out;
    for (const std::string &entry : util::split(text, ';')) {
        if (entry.empty())
            continue;
        const size_t colon = entry.find(':');
        if (colon == std::string::npos)
            throw Error("\"" + entry + "\" has no transport (transport:key=value,...)");
        const std::string transport = entry.substr(0, colon);
        if (transport != "unix")
            throw Error("the transport \"" + transport +
                        "\" is not one crunpp connects to (only unix:path= and unix:abstract=)");
        Address a;
        int sockets = 0;
        for (const std::string &pair : util::split(std::string_view(entry).substr(colon + 1), ',')) {
            const size_t eq = pair.find('=');
            if (eq == std::string::npos || eq == 0)
                throw Error("\"" + pair + "\" in \"" + entry + "\" is not key=value");
            const std::string key = pair.substr(0, eq);
            const std::string value = unescape(std::string_view(pair).substr(eq + 1));
            if (key == "path" || key == "abstract") {
                if (value.empty())
                    throw Error("\"" + entry + "\" has an empty " + key);
                a.path = value;
                a.abstract = key == "abstract";
                sockets++;
            }
            // Other keys (guid, ...) do not change where to connect.
        }
        if (sockets != 1)
            throw Error("\"" + entry + "\" needs exactly one of path= and abstract=");
        out.push_back(std::move(a));
    }
    if (out.empty())
        throw Error("no address in \"" + text + "\"");
    return out;
}

std::string system_bus_address() {
    std::string a = getenv_nonempty("DBUS_SYSTEM_BUS_ADDRESS");
    return a.empty() ? "unix:path=/run/dbus/system_bus_socket" : a;
}

std::string user_bus_address() {
    std::string a = getenv_nonempty("DBUS_SESSION_BUS_ADDRESS");
    if (!a.empty())
        return a;
    std::string dir = getenv_nonempty("XDG_RUNTIME_DIR");
    return dir.empty() ? "" : "unix:path=" + escape(dir) + "/bus";
}

int64_t now_ms() {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Connection Connection::open(const std::string &address, std::string name) {
    const std::string what = "connect to " + name;
    std::vector<Address> list;
    try {
        list = parse_address(address);
    } catch (Error &e) {
        e.wrap(what);
        throw;
    }
    int err = 0;
    for (const Address &a : list) {
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        const size_t offset = a.abstract ? 1 : 0; // abstract: a leading NUL
        if (a.path.size() + offset + (a.abstract ? 0 : 1) > sizeof sa.sun_path) {
            err = ENAMETOOLONG;
            continue;
        }
        std::memcpy(sa.sun_path + offset, a.path.data(), a.path.size());
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + offset + a.path.size() +
                                                (a.abstract ? 0 : 1));
        UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd)
            throw_errno(what);
        // A connect to a listener whose backlog is full blocks up to the
        // send timeout: bound it like a call.
        const timeval tv{kCallTimeoutMs / 1000, 0};
        setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd.get(), reinterpret_cast<const sockaddr *>(&sa), len) < 0) {
            err = errno;
            continue;
        }
        if (fcntl(fd.get(), F_SETFL, O_NONBLOCK) < 0)
            throw_errno(what);
        Connection c(std::move(fd), std::move(name));
        const int64_t deadline = now_ms() + kCallTimeoutMs;
        c.authenticate(deadline);
        c.hello(deadline);
        return c;
    }
    throw Error(what, err);
}

bool Connection::wait_fd(short events, int64_t deadline, const std::string &what) {
    for (;;) {
        const int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        pollfd p{fd_.get(), events, 0};
        const int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            throw_errno(what);
        if (r > 0) // readable, writable or hung up: the next recv/send says
            return true;
    }
}

void Connection::send(std::string_view bytes, int64_t deadline, const std::string &what) {
    size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n >= 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            throw_errno(what);
        if (!wait_fd(POLLOUT, deadline, what))
            throw Error(what, ETIMEDOUT);
    }
}

// Reads what is there (at least one byte); false at the deadline.
bool Connection::fill(int64_t deadline, const std::string &what) {
    char buf[65536];
    for (;;) {
        const ssize_t n = recv(fd_.get(), buf, sizeof buf, 0);
        if (n > 0) {
            in_.append(buf, static_cast<size_t>(n));
            return true;
        }
        if (n == 0)
            throw Error(what + ": the bus closed the connection");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            throw_errno(what);
        if (!wait_fd(POLLIN, deadline, what))
            return false;
    }
}

bool Connection::read_line(std::string &line, int64_t deadline, const std::string &what) {
    size_t end;
    while ((end = in_.find("\r\n")) == std::string::npos) {
        if (in_.size() > kMaxLine)
            throw Error(what + ": the bus sent an authentication line longer than " + std::to_string(kMaxLine) +
                        " bytes");
        if (!fill(deadline, what))
            return false;
    }
    if (end > kMaxLine)
        throw Error(what + ": the bus sent an authentication line longer than " + std::to_string(kMaxLine) +
                    " bytes");
    line = in_.substr(0, end);
    in_.erase(0, end + 2);
    return true;
}

void Connection::authenticate(int64_t deadline) {
    const std::string what = "connect to " + name_;
    // No uid after EXTERNAL and an empty DATA: the daemon takes the
    // credentials from the socket (SO_PEERCRED), which is right for a
    // "root" in a user namespace as well, as sd-bus does.
    static constexpr char kAuth[] = "\0AUTH EXTERNAL\r\nDATA\r\n";
    send(std::string_view(kAuth, sizeof kAuth - 1), deadline, what);
    // The daemon answers AUTH with an empty challenge (DATA), which the
    // DATA line sent already answered, then OK <guid>.
    for (int i = 0; i < 4; i++) {
        std::string line;
        if (!read_line(line, deadline, what))
            throw Error(what + ": no answer to the authentication", ETIMEDOUT);
        if (line == "DATA" || line.rfind("DATA ", 0) == 0)
            continue;
        if (line.rfind("OK ", 0) == 0) {
            send("BEGIN\r\n", deadline, what);
            return;
        }
        throw Error(what + ": the bus refused the authentication (EXTERNAL): \"" + printable(line) + "\"");
    }
    throw Error(what + ": the bus kept asking for authentication data");
}

void Connection::hello(int64_t deadline) {
    Message m;
    m.path = "/org/freedesktop/DBus";
    m.interface = kBusName;
    m.member = "Hello";
    m.destination = kBusName;
    const int left = static_cast<int>(std::max<int64_t>(deadline - now_ms(), 1));
    Message r = call(std::move(m), left, "connect to " + name_ + ": Hello");
    if (r.type == Type::kError)
        throw Error("connect to " + name_ + ": Hello: " + r.error_name);
    try {
        Reader rd(r);
        unique_name_ = rd.s();
    } catch (Error &e) {
        e.wrap("connect to " + name_ + ": the reply to Hello");
        throw;
    }
}

bool Connection::read_message(Message &m, int64_t deadline, const std::string &what) {
    while (in_.size() < kFixedHeader)
        if (!fill(deadline, what))
            return false;
    size_t size;
    try {
        size = wire_size(std::string_view(in_).substr(0, kFixedHeader));
        while (in_.size() < size)
            if (!fill(deadline, what))
                return false;
        m = decode(std::string_view(in_).substr(0, size));
    } catch (Error &e) {
        e.wrap(what);
        throw;
    }
    in_.erase(0, size);
    return true;
}

void Connection::dispatch(Message &&m, int64_t deadline) {
    if (m.type == Type::kSignal) {
        if (keep_ && keep_(m)) {
            signals_.push_back(std::move(m));
            queued_++;
            if (signals_.size() > kMaxQueued)
                signals_.pop_front();
        }
        return;
    }
    if (m.type == Type::kMethodCall && !(m.flags & kNoReplyExpected)) {
        // crunpp serves nothing: say so rather than leave the caller waiting.
        Message e;
        e.type = Type::kError;
        e.flags = kNoReplyExpected;
        e.serial = ++serial_;
        e.reply_serial = m.serial;
        e.destination = m.sender;
        e.error_name = "org.freedesktop.DBus.Error.UnknownMethod";
        e.signature = "s";
        Writer w;
        w.s("crunpp serves no methods");
        e.body = w.take();
        send(encode(e), deadline, "answer " + m.member + " on " + name_);
    }
    // Replies to no call of ours (a timed-out one's) and unknown types: dropped.
}

Message Connection::call(Message m, int timeout_ms) {
    const std::string what = "call " + m.member + " on " + name_;
    return call(std::move(m), timeout_ms, what);
}

Message Connection::call(Message m, int timeout_ms, const std::string &what) {
    m.type = Type::kMethodCall;
    m.serial = ++serial_;
    const int64_t deadline = now_ms() + timeout_ms;
    send(encode(m), deadline, what);
    for (;;) {
        Message r;
        if (!read_message(r, deadline, what))
            throw Error(what, ETIMEDOUT);
        if ((r.type == Type::kMethodReturn || r.type == Type::kError) && r.reply_serial == m.serial)
            return r;
        dispatch(std::move(r), deadline);
    }
}

bool Connection::wait_signal(int64_t deadline_ms) {
    const std::string what = "read from " + name_;
    const uint64_t before = queued_;
    while (queued_ == before) {
        Message r;
        if (!read_message(r, deadline_ms, what))
            return false;
        dispatch(std::move(r), deadline_ms);
    }
    return true;
}

} // namespace crunpp::cgroup::dbus
