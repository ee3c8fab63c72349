// SPDX-License-Identifier: GPL-2.0-or-later
#include "net_devices.hpp"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <set>
#include <vector>

#include "../../spec/parse_reader.hpp"
#include "crunpp/error.hpp"

namespace crunpp::linux {
namespace {

constexpr const char *kConfig = "config.json: ";

[[noreturn]] void config_error(const std::string &path, const std::string &problem) {
    ConfigError e(path, problem);
    e.wrap("config.json");
    throw e;
}

bool same_file(const struct stat &a, const struct stat &b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// A namespace joined by path may be the runtime's own: moving a device
// "into" it would move nothing and hand the host's device to the container.
bool joins_runtime_netns(const std::string &path) {
    struct stat joined, own;
    if (stat(path.c_str(), &joined) < 0)
        throw_errno(std::string(kConfig) + ".linux.namespaces: network namespace \"" + path + "\"");
    if (stat("/proc/thread-self/ns/net", &own) < 0)
        throw_errno("stat the runtime's network namespace");
    return same_file(joined, own);
}

UniqueFd open_netns(const std::string &path, const std::string &what) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno(what);
    return fd;
}

// A netlink socket bound to the network namespace `netns_fd`: created in it,
// the runtime back in its own before anything else happens (crunpp is
// single-threaded, so nothing else runs meanwhile).
netlink::Socket socket_in_netns(int netns_fd) {
    UniqueFd own = open_netns("/proc/thread-self/ns/net", ".linux.netDevices: open the runtime's network namespace");
    if (setns(netns_fd, CLONE_NEWNET) < 0)
        throw_errno(".linux.netDevices: enter the container's network namespace");
    std::optional<netlink::Socket> s;
    std::optional<Error> failed;
    try {
        s = netlink::Socket::open();
    } catch (const Error &e) {
        failed = e;
    }
    if (setns(own.get(), CLONE_NEWNET) < 0)
        throw_errno(".linux.netDevices: return to the runtime's network namespace");
    if (failed)
        throw *failed;
    return std::move(*s);
}

struct Planned {
    std::string host_name, final_name, path;
    std::vector<netlink::Address> addresses;
    int host_index = 0;
};

void check_free_in_container(netlink::Socket &container, const Planned &p, const std::string &name) {
    if (netlink::find_link(container, name, p.path + ": look up \"" + name + "\" in the container"))
        config_error(p.path, "the container's network namespace already has a device " + spec::detail::quote(name));
}

void move_one(netlink::Socket &host, netlink::Socket &container, int netns_fd, const Planned &p) {
    netlink::Request move = netlink::move_request(p.host_index, netns_fd);
    host.transact(move, p.path + ": move into the container's network namespace");
    // The index may change on the way (when taken there): found again by name.
    std::optional<netlink::Link> moved =
        netlink::find_link(container, p.host_name, p.path + ": find the device in the container");
    if (!moved)
        throw Error(p.path + ": find the device in the container: it is not there after the move");
    // Added before the rename: an IPv4 label ("v0:1") must start with the
    // current name; the rename then relabels them.
    for (const netlink::Address &a : p.addresses) {
        netlink::Request add = netlink::add_address_request(moved->index, a);
        container.transact(add, p.path + ": add its address again");
    }
    if (p.final_name != p.host_name) {
        netlink::Request rename = netlink::rename_request(moved->index, p.final_name);
        container.transact(rename, p.path + ": rename to " + spec::detail::quote(p.final_name));
    }
    netlink::Request up = netlink::set_up_request(moved->index);
    container.transact(up, p.path + ": set up");
}

} // namespace

std::string net_device_path(std::string_view host_name) {
    return ".linux.netDevices" + spec::detail::member_path(host_name);
}

std::string container_name(const std::string &host_name, const spec::NetDevice &dev) {
    return dev.name ? *dev.name : host_name;
}

bool is_name_template(std::string_view name) {
    size_t percent = name.find('%');
    return percent != std::string_view::npos && percent + 1 < name.size() && name[percent + 1] == 'd' &&
           name.find('%', percent + 1) == std::string_view::npos;
}

bool is_preserved_address(const netlink::Address &a) {
    return a.scope == RT_SCOPE_UNIVERSE && (a.flags & IFA_F_PERMANENT) != 0;
}

void check_net_devices(const spec::Linux &linux_cfg) {
    if (linux_cfg.netDevices.empty())
        return;
    const spec::Namespace *net = linux_cfg.find_namespace(spec::NamespaceType::Network);
    if (!net || (net->path && !net->path->empty() && joins_runtime_netns(*net->path)))
        config_error(".linux.netDevices", "needs a network namespace of the container's own");
    std::set<std::string> names;
    for (const auto &[host_name, dev] : linux_cfg.netDevices) {
        std::string name = container_name(host_name, dev);
        if (!is_name_template(name) && !names.insert(name).second)
            config_error(net_device_path(host_name), "another entry also names its device " + spec::detail::quote(name));
    }
}

void move_net_devices(const spec::Linux &linux_cfg, pid_t init_pid) {
    if (linux_cfg.netDevices.empty())
        return;
    netlink::Socket host = netlink::Socket::open();
    std::vector<Planned> planned;
    for (const auto &[host_name, dev] : linux_cfg.netDevices) {
        Planned p;
        p.host_name = host_name;
        p.final_name = container_name(host_name, dev);
        p.path = net_device_path(host_name);
        std::optional<netlink::Link> link = netlink::find_link(host, host_name, p.path + ": look up the device");
        if (!link)
            config_error(p.path, "no such network device");
        p.host_index = link->index;
        // The move's permission, checked first: an unprivileged runtime
        // learns that it cannot move the device, not a later symptom.
        netlink::Request probe = netlink::no_change_request(link->index);
        host.transact(probe, p.path + ": move into the container's network namespace");
        for (netlink::Address &a : netlink::link_addresses(host, link->index, p.path + ": read its addresses"))
            if (is_preserved_address(a))
                p.addresses.push_back(std::move(a));
        planned.push_back(std::move(p));
    }

    UniqueFd netns = open_netns("/proc/" + std::to_string(init_pid) + "/ns/net",
                                ".linux.netDevices: open the container's network namespace");
    netlink::Socket container = socket_in_netns(netns.get());
    // Every check before the first move: a bad entry moves nothing.
    for (const Planned &p : planned) {
        check_free_in_container(container, p, p.host_name);
        if (p.final_name != p.host_name && !is_name_template(p.final_name))
            check_free_in_container(container, p, p.final_name);
    }
    for (const Planned &p : planned)
        move_one(host, container, netns.get(), p);
}

} // namespace crunpp::linux
