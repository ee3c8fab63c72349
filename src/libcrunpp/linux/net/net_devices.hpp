// SPDX-License-Identifier: GPL-2.0-or-later
// linux.netDevices: host network devices moved into the container's network
// namespace by the runtime during create, before the createRuntime hooks,
// while the init waits. Each keeps its permanent global addresses and is set
// up there. Nothing is moved back at delete: the kernel returns physical
// devices to the host and destroys virtual ones with the namespace.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "crunpp/spec.hpp"
#include "netlink.hpp"

namespace crunpp::linux {

// Before the container exists: it has a network namespace of its own (a new
// one, or one joined by path that is not the runtime's) and no two entries
// end with the same name. Throws ConfigError.
void check_net_devices(const spec::Linux &linux_cfg);

// In the runtime, once the init `init_pid` is in the container's network
// namespace. First every check (each host device exists, no name is taken
// in the container's namespace), then for each device: move it, add its
// preserved addresses, rename it, set it up. Errors name the entry:
// `.linux.netDevices.v0: move into the container's network namespace:
// Operation not permitted`.
void move_net_devices(const spec::Linux &linux_cfg, pid_t init_pid);

// ---- helpers, public for the tests ----

// ".linux.netDevices.v0", `.linux.netDevices["eth0.1"]`.
std::string net_device_path(std::string_view host_name);
// The name in the container: `name`, else the host name.
std::string container_name(const std::string &host_name, const spec::NetDevice &dev);
// A name the kernel completes ("eth%d": one '%', followed by 'd').
bool is_name_template(std::string_view name);
// What the spec keeps across the move: permanent, global-scope addresses.
bool is_preserved_address(const netlink::Address &a);

} // namespace crunpp::linux
