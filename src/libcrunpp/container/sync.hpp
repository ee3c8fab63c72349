// SPDX-License-Identifier: GPL-2.0-or-later
// The parent <-> container init sync protocol over a SOCK_SEQPACKET
// socketpair: one datagram per message, a small header and a text payload.
// Errors travel as (errno, context) so the parent rethrows the child's
// crunpp::Error with the same text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

enum class SyncType : uint32_t {
    Go = 1,      // parent -> init: id maps written (or init pid recorded), carry on
    Start,       // parent -> init (run): execve now
    MapsRequest, // init -> parent: user namespace unshared, write its maps
    InitPid,     // middle process -> parent: host pid of the real init (value)
    Ready,       // init -> parent: set up, about to wait for start
    Failed,      // init -> parent: value = errno, text = Error context
    Mounts,      // parent -> init: idmapped mount trees (fds), text = their
                 // config mount indices as uint32_t
    SeccompListener, // init -> parent: the seccomp notify listener (one fd)
    Hooks,       // init -> parent: mounts done, run prestart/createRuntime
    HooksDone,   // parent -> init: done; fds = the state for createContainer
                 // and for startContainer (memfds)
    Console,     // init -> parent: fds = the pty master, text = its peer's name
    NetDevices,  // init -> parent: in its network namespace, move the
                 // linux.netDevices in; Go answers
};

struct SyncMessage {
    SyncType type = SyncType::Go;
    int32_t value = 0;
    std::string text;
    std::vector<UniqueFd> fds; // passed with SCM_RIGHTS, close-on-exec
};

// At most this many fds travel in one message.
inline constexpr size_t kMaxSyncFds = 64;

class SyncSocket {
public:
    SyncSocket() = default;
    explicit SyncSocket(UniqueFd fd) : fd_(std::move(fd)) {}

    // A connected pair (CLOEXEC): [0] for the parent, [1] for the init.
    static void make_pair(SyncSocket &parent, SyncSocket &child);

    void send(SyncType type, int32_t value = 0, std::string_view text = {});
    // The same with up to kMaxSyncFds file descriptors attached.
    void send_fds(SyncType type, const std::vector<int> &fds, std::string_view text);
    // Best effort: false when the peer is gone (never throws).
    bool try_send(SyncType type, int32_t value = 0, std::string_view text = {}) noexcept;
    // nullopt when the peer closed its end (exited or execve'd).
    std::optional<SyncMessage> receive();
    // Waits for one message of `type`; anything else (or EOF) is an Error
    // naming `waiting_for`; a Failed message is rethrown as the peer's Error.
    SyncMessage expect(SyncType type, std::string_view waiting_for);

    int fd() const { return fd_.get(); }
    explicit operator bool() const { return static_cast<bool>(fd_); }
    void close() { fd_.reset(); }

private:
    UniqueFd fd_;
};

// For a forked child (the init, exec's helper and process): sends the
// failure to the parent, or, with no parent listening any more, writes
// `crunpp: <context>: <errno text>` to stderr (the container's); then
// _exit(status). `start_fd` >= 0: the exec fifo `start` reads, which gets
// the message too.
[[noreturn]] void report_failure_and_exit(SyncSocket &sync, std::string_view context, int err, int status,
                                          int start_fd = -1) noexcept;
// The same for the exception being handled; call it only inside a catch
// block. An Error keeps its errno and context; anything else is prefixed
// with `who` ("container init", "exec").
[[noreturn]] void report_exception_and_exit(SyncSocket &sync, std::string_view who, int status,
                                            int start_fd = -1) noexcept;

} // namespace crunpp::container
