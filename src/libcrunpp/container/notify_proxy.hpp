// SPDX-License-Identifier: GPL-2.0-or-later
// The sd_notify proxy (runc's and crun's behaviour). With NOTIFY_SOCKET set,
// create makes a datagram socket of crunpp's own in the state directory and
// binds its directory into the container; start and `run` read the
// container's messages there and send them on to the host socket, READY=1
// with MAINPID=<host pid>. So the host socket may be abstract (unreachable
// from the container's network namespace), any container user may notify,
// and systemd learns the container's real main pid.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "crunpp/spec.hpp"
#include "crunpp/state.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::container {

// Where the proxy socket appears in the container (runc's paths).
inline constexpr const char *kContainerNotifyDir = "/run/notify";
inline constexpr const char *kContainerNotifySocket = "/run/notify/notify.sock";
// The state extra key holding the host's NOTIFY_SOCKET, for `start`.
inline constexpr const char *kStateNotifySocket = "notifySocket";

// The caller's NOTIFY_SOCKET: nullopt when unset or empty (as runc), the
// value when an absolute path or "@abstract" that fits a socket address;
// anything else is an Error naming the value.
std::optional<std::string> host_notify_socket();

// What one datagram from the container becomes on the host: MAINPID lines
// dropped (container pids mean nothing there), BARRIER=1 dropped (its fd is
// not passed on); with a READY=1 line the message is "READY=1\nMAINPID=
// <main_pid>\n" followed by the other lines. Empty when nothing is left.
struct NotifyForward {
    bool ready = false;
    std::string message;
};
NotifyForward translate_notify(std::string_view datagram, pid_t main_pid);

class NotifyProxy {
public:
    NotifyProxy(NotifyProxy &&) noexcept = default;
    NotifyProxy &operator=(NotifyProxy &&) noexcept = default;

    // create/run: makes <state dir>/notify (0755) with notify.sock (0777)
    // bound, records the host socket in the state's extra, and adds the
    // read-only bind of the directory at kContainerNotifyDir and
    // NOTIFY_SOCKET=kContainerNotifySocket to the config.
    static NotifyProxy create(state::Container &c, const std::string &host, spec::Config &cfg);
    // For an init that may not reach the state dir (its root is another host
    // id than ours): the bind as a detached tree with its flags set, to be
    // inherited and attached at mount_index() instead of the path. Empty
    // when this process may not make it (unprivileged: then the init runs
    // as our own id and reaches the path).
    UniqueFd mount_tree() const;
    size_t mount_index() const { return mount_index_; }

    // start: binds the socket again (create's socket died with create),
    // before the container process may send.
    static NotifyProxy rebind(int state_dir_fd, const std::string &host);

    int fd() const { return sock_.get(); }
    // The pid sent as MAINPID with READY=1.
    void set_main_pid(pid_t pid) { main_pid_ = pid; }
    bool ready_sent() const { return ready_sent_; }

    // Reads every queued datagram and forwards each to the host; waits for
    // room at the host socket only with may_block (the foreground loop never
    // does). Throws when the host socket cannot be reached.
    void forward_pending(bool may_block = false);
    // The foreground loop's variant: never blocks nor throws; the first
    // failure is a warning (the container runs on regardless), later ones
    // only debug lines (a watchdog would repeat it every few seconds).
    void forward_pending_or_warn() noexcept;

    // start and `run -d`: forwards messages until one with READY=1 went out
    // or the process (pidfd) exited; no timeout (systemd has its own).
    void wait_ready(int pidfd);

private:
    NotifyProxy(UniqueFd sock, std::string host) : sock_(std::move(sock)), host_(std::move(host)) {}
    void send_host(const std::string &message, bool may_block);

    UniqueFd sock_, host_sock_, dir_;
    std::string host_;
    size_t mount_index_ = 0;
    pid_t main_pid_ = 0;
    bool ready_sent_ = false;
    bool warned_ = false;
};

} // namespace crunpp::container
