// SPDX-License-Identifier: GPL-2.0-or-later
// The systemd cgroup driver's pure parts: the unit and slice names of a
// cgroupsPath, the resources and annotations as unit properties. No D-Bus
// here (systemd_bus.cpp talks to systemd), so that all of it is unit-tested.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "crunpp/cgroup.hpp"
#include "crunpp/spec.hpp"
#include "cgroup_internal.hpp"

namespace crunpp::cgroup::systemd {

// Where the container goes: its unit ("<prefix>-<name>.scope", or the name
// itself when it ends in ".slice") and the slice it is placed in.
struct Unit {
    std::string name;   // crunpp-abc.scope
    std::string slice;  // system.slice
    bool is_slice = false;
};
// cgroupsPath (may be empty) -> the unit, with runc's defaults: slice
// system.slice (user.slice for the user manager), prefix "crunpp", name the
// container id. Errors name .linux.cgroupsPath.
Unit unit_for(const std::string &cgroups_path, const std::string &id, bool user_manager);

// "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" (runc's ExpandSlice);
// "-.slice" -> "/". Throws on a name systemd refuses.
std::string expand_slice(const std::string &slice);

// One value of a unit property, typed as D-Bus wants it.
struct DeviceAllow {
    std::string path, access; // "/dev/char/1:3" or "char-pts", "rwm"
    bool operator==(const DeviceAllow &) const = default;
};
using Value = std::variant<bool, uint64_t, int64_t, uint32_t, int32_t, uint16_t, int16_t, uint8_t, double, std::string,
                           std::vector<uint8_t> /* ay */, std::vector<uint32_t> /* au */,
                           std::vector<std::string> /* as */, std::vector<DeviceAllow> /* a(ss) */>;
struct Property {
    std::string name;
    Value value;
    bool operator==(const Property &) const = default;
};
using Properties = std::vector<Property>;

inline constexpr uint64_t kInfinity = UINT64_MAX;

// cpu.shares -> CPUWeight: the same mapping as cpu.weight's.
using detail::shares_to_weight;
// quota/period (µs) -> CPUQuotaPerSecUSec: µs of CPU per second, rounded up
// to whole percents as systemd stores a percentage; quota < 0: infinity.
uint64_t quota_per_sec(int64_t quota, uint64_t period);
// "0-2,7" -> the little-endian bit mask systemd's AllowedCPUs takes.
std::vector<uint8_t> cpuset_mask(const std::string &list, const std::string &json_path);

// The resources systemd can express, as properties (v2 names on a pure v2
// host or hybrid, v1 names on v1). Everything is written to the cgroup files
// as well afterwards; these keep systemd from undoing it.
Properties resource_properties(const spec::Resources &r, bool v2);

// The device rules (the container's, then the defaults) as DevicePolicy and
// DeviceAllow; deny rules systemd cannot express are left to crunpp's own
// device program. `proc_devices` is /proc/devices' text (for "char-NAME");
// a single device the host does not have (`present` false: no
// /sys/dev/char/M:m) is left out, as runc does, since systemd refuses it.
Properties device_properties(const std::vector<detail::DeviceRule> &rules, const std::string &proc_devices,
                             const std::function<bool(char type, int64_t major, int64_t minor)> &present);

// org.systemd.property.<Name> annotations, values in GVariant text form as
// runc reads them ("uint64 123", "true", "'text'", "1.5"); a *Sec property
// given in seconds becomes *USec in µs. Errors name the annotation.
Properties annotation_properties(const std::map<std::string, std::string> &annotations);
Value parse_variant(const std::string &text, const std::string &json_path);

} // namespace crunpp::cgroup::systemd
