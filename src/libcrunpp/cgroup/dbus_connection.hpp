// SPDX-License-Identifier: GPL-2.0-or-later
// A D-Bus client connection, as small as the systemd driver needs: the
// bus addresses as sd-bus finds them, a unix socket, EXTERNAL
// authentication (the daemon takes the credentials from the socket), Hello,
// method calls with a timeout, and a queue of the signals the caller wants.
// No unix fd passing. Every read is bounded in size and time.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "crunpp/unique_fd.hpp"
#include "dbus_message.hpp"

namespace crunpp::cgroup::dbus {

// How long a method call waits for its reply (sd-bus's default).
inline constexpr int kCallTimeoutMs = 25000;

// One address of a D-Bus address list: a unix socket by path or in the
// abstract namespace.
struct Address {
    std::string path;
    bool abstract = false;
    bool operator==(const Address &) const = default;
};

// "unix:path=/run/bus;unix:abstract=x" -> the addresses to try in order
// (key=value pairs, %xx escapes decoded). Throws, saying why, on a
// malformed address or a transport other than unix:path= and
// unix:abstract= (the caller names the address).
std::vector<Address> parse_address(const std::string &text);
// The addresses sd-bus uses: $DBUS_SYSTEM_BUS_ADDRESS or
// unix:path=/run/dbus/system_bus_socket; $DBUS_SESSION_BUS_ADDRESS or
// unix:path=$XDG_RUNTIME_DIR/bus ("" when neither is set).
std::string system_bus_address();
std::string user_bus_address();

// Monotonic milliseconds, for deadlines.
int64_t now_ms();

class Connection {
public:
    Connection() = default;
    // Connects to the first address of the list that accepts, then
    // authenticates and says Hello. `name` names the bus in errors ("the
    // system bus unix:path=..."); they read "connect to NAME: ...".
    static Connection open(const std::string &address, std::string name);

    // Sends a method call (with the next serial) and returns its reply, a
    // method return or an error message, within timeout_ms. Signals read
    // meanwhile that keep_signals wants are queued; a method call to us is
    // answered with an error. Transport failures throw "call MEMBER on
    // NAME: ...".
    Message call(Message m, int timeout_ms = kCallTimeoutMs);
    // Reads messages until a signal is queued (true) or the deadline
    // (now_ms() clock) passes (false).
    bool wait_signal(int64_t deadline_ms);
    std::deque<Message> &signals() { return signals_; }
    void keep_signals(std::function<bool(const Message &)> keep) { keep_ = std::move(keep); }
    const std::string &unique_name() const { return unique_name_; }

private:
    Connection(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
    Message call(Message m, int timeout_ms, const std::string &what);
    void authenticate(int64_t deadline);
    void hello(int64_t deadline);
    void send(std::string_view bytes, int64_t deadline, const std::string &what);
    bool wait_fd(short events, int64_t deadline, const std::string &what);
    bool fill(int64_t deadline, const std::string &what);
    bool read_line(std::string &line, int64_t deadline, const std::string &what);
    bool read_message(Message &m, int64_t deadline, const std::string &what);
    void dispatch(Message &&m, int64_t deadline);

    UniqueFd fd_;
    std::string name_;
    std::string in_; // bytes read, not yet parsed
    uint32_t serial_ = 0;
    std::string unique_name_;
    std::deque<Message> signals_;
    uint64_t queued_ = 0; // signals ever queued
    std::function<bool(const Message &)> keep_;
};

} // namespace crunpp::cgroup::dbus
