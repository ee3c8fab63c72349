// SPDX-License-Identifier: GPL-2.0-or-later
// systemd's manager over D-Bus, spoken by crunpp's own client
// (dbus_connection.hpp, dbus_message.hpp) rather than libsystemd's sd-bus: a
// static binary cannot load a shared library, and the driver then needs
// nothing at run time but systemd's bus.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "systemd_unit.hpp"

namespace crunpp::cgroup::systemd {

class Bus {
public:
    // The system bus (root) or the user's bus (rootless: the user manager).
    // Throws naming the bus address tried and the way out
    // (--cgroup-manager=cgroupfs).
    static Bus open(bool user);
    Bus(Bus &&) noexcept;
    Bus &operator=(Bus &&) = delete;
    ~Bus();

    // StartTransientUnit(unit, "replace", properties) and waits for its job
    // (JobRemoved, bounded); a unit left by an earlier run of the same name
    // is reset first and the start tried once more, as runc does.
    // false: a unit of that name is loaded and not failed (another
    // container's), nothing was started. `unit_made` is false when the
    // manager refused the call (an error answer: no unit was made), true
    // when a unit may exist, even if this throws (a failed job, a call
    // left unanswered).
    bool start_unit(const std::string &unit, const Properties &props, bool &unit_made);
    // StopUnit and its job; a unit that is not loaded is fine.
    void stop_unit(const std::string &unit);
    // ResetFailedUnit, errors ignored (nothing failed: nothing to reset).
    void reset_failed(const std::string &unit) noexcept;
    // SetUnitProperties(unit, runtime, properties).
    void set_properties(const std::string &unit, const Properties &props);
    // AttachProcessesToUnit(unit, "/", [pid]): the manager moves a process
    // the caller may not move itself (a user manager asks the system one).
    void attach(const std::string &unit, pid_t pid, const std::string &sub);
    // The unit's cgroup ("ControlGroup"), relative to the manager's root
    // cgroup as a path of the whole hierarchy: "/system.slice/x.scope".
    std::string control_group(const std::string &unit);

    struct Impl;

private:
    explicit Bus(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace crunpp::cgroup::systemd
