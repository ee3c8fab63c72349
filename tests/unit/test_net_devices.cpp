// SPDX-License-Identifier: GPL-2.0-or-later
// linux.netDevices without privileges: rtnetlink message building and
// parsing, the name and address rules, the config checks, and a few real
// read-only exchanges with the kernel (looking up "lo" needs no privilege).
#include <catch.hpp>

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "../../src/libcrunpp/linux/net/net_devices.hpp"
#include "../../src/libcrunpp/linux/net/netlink.hpp"
#include "crunpp/error.hpp"
#include "crunpp/spec.hpp"

using namespace crunpp;
using namespace crunpp::linux;

namespace {

netlink::Reply only_message(const netlink::Request &r) {
    std::vector<netlink::Reply> m = netlink::split_messages(r.bytes());
    REQUIRE(m.size() == 1);
    return m[0];
}

// The attributes after a family header of `header_size` bytes.
std::vector<netlink::Attribute> attributes_of(const netlink::Reply &r, size_t header_size) {
    std::span<const uint8_t> p(r.payload);
    return netlink::parse_attributes(p.subspan(NLMSG_ALIGN(header_size)));
}

const netlink::Attribute *find(const std::vector<netlink::Attribute> &attrs, uint16_t type) {
    for (const netlink::Attribute &a : attrs)
        if (a.type == type)
            return &a;
    return nullptr;
}

uint32_t u32_of(const netlink::Attribute &a) {
    REQUIRE(a.data.size() == 4);
    uint32_t v;
    memcpy(&v, a.data.data(), 4);
    return v;
}

ifinfomsg ifinfo_of(const netlink::Reply &r) {
    REQUIRE(r.payload.size() >= sizeof(ifinfomsg));
    ifinfomsg ifi;
    memcpy(&ifi, r.payload.data(), sizeof ifi);
    return ifi;
}

std::string config_error(const std::string &linux_json) {
    std::string text = R"({"ociVersion": "1.3.0", "root": {"path": "rootfs"}, "linux": )" + linux_json + "}";
    spec::Config cfg = spec::parse_config(text);
    try {
        check_net_devices(*cfg.linux);
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

std::string parse_error_of(const std::string &linux_json) {
    try {
        spec::parse_config(R"({"ociVersion": "1.3.0", "root": {"path": "rootfs"}, "linux": )" + linux_json + "}");
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("netlink: a request is header, padded family header, padded attributes", "[netdev]") {
    ifinfomsg ifi{};
    ifi.ifi_index = 7;
    netlink::Request r(RTM_NEWLINK, NLM_F_CREATE, &ifi, sizeof ifi);
    r.add_u32(IFLA_NET_NS_FD, 42);
    r.add_string(IFLA_IFNAME, "eth0"); // 5 bytes with the NUL, padded to 8
    r.set_sequence(9);

    std::span<const uint8_t> b = r.bytes();
    REQUIRE(b.size() == NLMSG_HDRLEN + NLMSG_ALIGN(sizeof ifi) + RTA_SPACE(4) + RTA_SPACE(5));
    CHECK(b.size() % 4 == 0);
    nlmsghdr h;
    memcpy(&h, b.data(), sizeof h);
    CHECK(h.nlmsg_len == b.size());
    CHECK(h.nlmsg_type == RTM_NEWLINK);
    CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_CREATE));
    CHECK(h.nlmsg_seq == 9);
    CHECK(r.sequence() == 9);
    r.add_flags(NLM_F_ACK);
    CHECK(r.flags() == (NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK));

    netlink::Reply m = only_message(r);
    CHECK(m.type == RTM_NEWLINK);
    CHECK(ifinfo_of(m).ifi_index == 7);
    auto attrs = attributes_of(m, sizeof ifi);
    REQUIRE(attrs.size() == 2);
    CHECK(attrs[0].type == IFLA_NET_NS_FD);
    CHECK(u32_of(attrs[0]) == 42);
    CHECK(attrs[1].type == IFLA_IFNAME);
    CHECK(attrs[1].data.size() == 5);
    CHECK(netlink::attribute_string(attrs[1].data) == "eth0");
}

TEST_CASE("netlink: malformed replies are errors, not reads past the end", "[netdev]") {
    ifinfomsg ifi{};
    netlink::Request r(RTM_NEWLINK, 0, &ifi, sizeof ifi);
    r.add_string(IFLA_IFNAME, "v0");
    std::vector<uint8_t> bytes(r.bytes().begin(), r.bytes().end());

    // nlmsg_len beyond the datagram
    std::vector<uint8_t> truncated(bytes.begin(), bytes.end() - 4);
    CHECK_THROWS_WITH(netlink::split_messages(truncated), "netlink: malformed message");
    // nlmsg_len below the header size
    std::vector<uint8_t> tiny = bytes;
    uint32_t len = 4;
    memcpy(tiny.data(), &len, sizeof len);
    CHECK_THROWS_WITH(netlink::split_messages(tiny), "netlink: malformed message");
    // trailing bytes that are no message
    std::vector<uint8_t> trailing = bytes;
    trailing.push_back(0);
    CHECK_THROWS_WITH(netlink::split_messages(trailing), "netlink: malformed message");
    CHECK(netlink::split_messages({}).empty());

    // attributes: rta_len below its header, or beyond the data
    uint8_t short_attr[4] = {2, 0, 1, 0};
    CHECK_THROWS_WITH(netlink::parse_attributes(short_attr), "netlink: malformed attribute");
    uint8_t long_attr[8] = {12, 0, 1, 0, 'a', 'b', 'c', 0};
    CHECK_THROWS_WITH(netlink::parse_attributes(long_attr), "netlink: malformed attribute");
    // the nested flag is not part of the type
    uint8_t nested[8] = {8, 0, 3, NLA_F_NESTED >> 8, 1, 2, 3, 4};
    auto attrs = netlink::parse_attributes(nested);
    REQUIRE(attrs.size() == 1);
    CHECK(attrs[0].type == 3);

    // a family header shorter than its struct
    netlink::Reply empty;
    empty.type = RTM_NEWLINK;
    CHECK_THROWS_WITH(netlink::parse_link(empty), "netlink: truncated message");
}

TEST_CASE("netlink: acks, errors and extended ack messages", "[netdev]") {
    SECTION("an ack") {
        nlmsgerr e{};
        netlink::Request r(NLMSG_ERROR, 0, &e, sizeof e);
        netlink::ErrorReply er = netlink::parse_error(only_message(r));
        CHECK(er.error == 0);
        CHECK(er.message.empty());
    }
    SECTION("an error without a message") {
        nlmsgerr e{};
        e.error = -EPERM;
        netlink::Request r(NLMSG_ERROR, 0, &e, sizeof e);
        netlink::ErrorReply er = netlink::parse_error(only_message(r));
        CHECK(er.error == EPERM);
        CHECK(er.message.empty());
    }
    SECTION("a capped error with its message") {
        nlmsgerr e{};
        e.error = -EEXIST;
        e.msg.nlmsg_len = 64; // the request's length; not echoed when capped
        netlink::Request r(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, &e, sizeof e);
        r.add_string(NLMSGERR_ATTR_OFFS, "x"); // other attributes are skipped
        r.add_string(NLMSGERR_ATTR_MSG, "Interface name in use");
        netlink::ErrorReply er = netlink::parse_error(only_message(r));
        CHECK(er.error == EEXIST);
        CHECK(er.message == "Interface name in use");
    }
    SECTION("an uncapped error: the request comes back before the message") {
        struct {
            nlmsgerr e;
            uint8_t request_payload[12];
        } body{};
        body.e.error = -EINVAL;
        body.e.msg.nlmsg_len = NLMSG_HDRLEN + sizeof body.request_payload;
        memset(body.request_payload, 0xff, sizeof body.request_payload);
        netlink::Request r(NLMSG_ERROR, NLM_F_ACK_TLVS, &body, sizeof body);
        r.add_string(NLMSGERR_ATTR_MSG, "Invalid prefix");
        netlink::ErrorReply er = netlink::parse_error(only_message(r));
        CHECK(er.error == EINVAL);
        CHECK(er.message == "Invalid prefix");
    }
    SECTION("an echoed request longer than the message is an error") {
        nlmsgerr e{};
        e.error = -EINVAL;
        e.msg.nlmsg_len = 4096;
        netlink::Request r(NLMSG_ERROR, NLM_F_ACK_TLVS, &e, sizeof e);
        CHECK_THROWS_WITH(netlink::parse_error(only_message(r)), "netlink: malformed error message");
    }
}

TEST_CASE("netlink: links and addresses are read from their messages", "[netdev]") {
    ifinfomsg ifi{};
    ifi.ifi_index = 12;
    ifi.ifi_flags = IFF_UP | IFF_BROADCAST;
    netlink::Request link(RTM_NEWLINK, 0, &ifi, sizeof ifi);
    uint32_t mtu = 1500;
    link.add(IFLA_MTU, &mtu, sizeof mtu);
    link.add_string(IFLA_IFNAME, "v0");
    netlink::Link l = netlink::parse_link(only_message(link));
    CHECK(l.index == 12);
    CHECK(l.name == "v0");
    CHECK(l.flags == (IFF_UP | IFF_BROADCAST));

    ifaddrmsg ifa{};
    ifa.ifa_family = AF_INET;
    ifa.ifa_prefixlen = 24;
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_flags = 0;
    ifa.ifa_index = 12;
    netlink::Request addr(RTM_NEWADDR, 0, &ifa, sizeof ifa);
    in_addr ip{};
    inet_pton(AF_INET, "192.0.2.1", &ip);
    addr.add(IFA_LOCAL, &ip, sizeof ip);
    addr.add(IFA_ADDRESS, &ip, sizeof ip);
    addr.add_string(IFA_LABEL, "v0");
    addr.add_u32(IFA_FLAGS, IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE); // above the 8 bits of ifa_flags
    netlink::Address a = netlink::parse_address(only_message(addr));
    CHECK(a.family == AF_INET);
    CHECK(a.prefix_length == 24);
    CHECK(a.index == 12);
    CHECK(a.label == "v0");
    CHECK(a.flags == (IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE));
    REQUIRE(a.local.size() == 4);
    CHECK(memcmp(a.local.data(), &ip, 4) == 0);
    CHECK(a.address == a.local);
    CHECK(a.broadcast.empty());
    CHECK(is_preserved_address(a));
}

TEST_CASE("netlink: the link and address requests", "[netdev]") {
    SECTION("move: IFLA_NET_NS_FD on the link's index") {
        netlink::Reply m = only_message(netlink::move_request(5, 17));
        CHECK(m.type == RTM_NEWLINK);
        CHECK(ifinfo_of(m).ifi_index == 5);
        auto attrs = attributes_of(m, sizeof(ifinfomsg));
        REQUIRE(attrs.size() == 1);
        CHECK(attrs[0].type == IFLA_NET_NS_FD);
        CHECK(u32_of(attrs[0]) == 17);
    }
    SECTION("no change: the link's index, no flag, no attribute") {
        netlink::Reply m = only_message(netlink::no_change_request(5));
        CHECK(m.type == RTM_NEWLINK);
        ifinfomsg ifi = ifinfo_of(m);
        CHECK(ifi.ifi_index == 5);
        CHECK(ifi.ifi_flags == 0);
        CHECK(ifi.ifi_change == 0);
        CHECK(attributes_of(m, sizeof ifi).empty());
    }
    SECTION("rename: IFLA_IFNAME, templates passed as they are") {
        netlink::Reply m = only_message(netlink::rename_request(5, "eth%d"));
        auto attrs = attributes_of(m, sizeof(ifinfomsg));
        REQUIRE(attrs.size() == 1);
        CHECK(attrs[0].type == IFLA_IFNAME);
        CHECK(netlink::attribute_string(attrs[0].data) == "eth%d");
    }
    SECTION("up: IFF_UP changed and set, nothing else") {
        netlink::Reply m = only_message(netlink::set_up_request(5));
        ifinfomsg ifi = ifinfo_of(m);
        CHECK(ifi.ifi_index == 5);
        CHECK(ifi.ifi_flags == IFF_UP);
        CHECK(ifi.ifi_change == IFF_UP);
        CHECK(attributes_of(m, sizeof ifi).empty());
    }
    SECTION("add address: same address on the new index, settable flags only") {
        netlink::Address a;
        a.family = AF_INET6;
        a.prefix_length = 64;
        a.scope = RT_SCOPE_UNIVERSE;
        a.index = 3;
        a.flags = IFA_F_PERMANENT | IFA_F_NODAD | IFA_F_TENTATIVE;
        a.address.assign(16, 0x20);
        netlink::Request r = netlink::add_address_request(9, a);
        CHECK((r.flags() & (NLM_F_CREATE | NLM_F_EXCL)) == (NLM_F_CREATE | NLM_F_EXCL));
        netlink::Reply m = only_message(r);
        CHECK(m.type == RTM_NEWADDR);
        ifaddrmsg ifa;
        memcpy(&ifa, m.payload.data(), sizeof ifa);
        CHECK(ifa.ifa_family == AF_INET6);
        CHECK(ifa.ifa_prefixlen == 64);
        CHECK(ifa.ifa_index == 9);
        CHECK(ifa.ifa_flags == 0);
        auto attrs = attributes_of(m, sizeof ifa);
        CHECK(find(attrs, IFA_LOCAL) == nullptr);
        CHECK(find(attrs, IFA_LABEL) == nullptr);
        const netlink::Attribute *address = find(attrs, IFA_ADDRESS);
        REQUIRE(address);
        CHECK(address->data.size() == 16);
        const netlink::Attribute *flags = find(attrs, IFA_FLAGS);
        REQUIRE(flags);
        CHECK(u32_of(*flags) == IFA_F_NODAD);
    }
}

TEST_CASE("net devices: names, templates and preserved addresses", "[netdev]") {
    CHECK(net_device_path("v0") == ".linux.netDevices.v0");
    CHECK(net_device_path("eth0.1") == ".linux.netDevices[\"eth0.1\"]");
    CHECK(container_name("v0", spec::NetDevice{}) == "v0");
    CHECK(container_name("v0", spec::NetDevice{"ctr0"}) == "ctr0");

    CHECK(is_name_template("eth%d"));
    CHECK(is_name_template("%d-net"));
    CHECK_FALSE(is_name_template("eth0"));
    CHECK_FALSE(is_name_template("eth%"));
    CHECK_FALSE(is_name_template("eth%s"));
    CHECK_FALSE(is_name_template("e%d%d"));

    netlink::Address a;
    a.scope = RT_SCOPE_UNIVERSE;
    a.flags = IFA_F_PERMANENT;
    CHECK(is_preserved_address(a));
    a.scope = RT_SCOPE_LINK; // fe80::/64, kept by nobody: the kernel makes it again
    CHECK_FALSE(is_preserved_address(a));
    a.scope = RT_SCOPE_HOST;
    CHECK_FALSE(is_preserved_address(a));
    a.scope = RT_SCOPE_UNIVERSE;
    a.flags = 0; // from DHCP or SLAAC: it has a lifetime
    CHECK_FALSE(is_preserved_address(a));
}

TEST_CASE("net devices: config checks before anything exists", "[netdev]") {
    const std::string netns = R"("namespaces": [{"type": "mount"}, {"type": "network"}])";
    CHECK(config_error(R"({"namespaces": [{"type": "mount"}]})") == "");
    CHECK(config_error("{" + netns + R"(, "netDevices": {"v0": {}, "v1": {"name": "ctr1"}}})") == "");
    CHECK(config_error(R"({"namespaces": [{"type": "mount"}], "netDevices": {"v0": {}}})") ==
          "config.json: .linux.netDevices: needs a network namespace of the container's own");
    // Joining the runtime's own namespace is no namespace of its own.
    CHECK(config_error(R"({"namespaces": [{"type": "network", "path": "/proc/self/ns/net"}],)"
                       R"( "netDevices": {"v0": {}}})") ==
          "config.json: .linux.netDevices: needs a network namespace of the container's own");
    CHECK(config_error("{" + netns + R"(, "netDevices": {"v0": {"name": "v1"}, "v1": {}}})") ==
          "config.json: .linux.netDevices.v1: another entry also names its device \"v1\"");
    // Templates get distinct names from the kernel.
    CHECK(config_error("{" + netns + R"(, "netDevices": {"v0": {"name": "eth%d"}, "v1": {"name": "eth%d"}}})") ==
          "");
}

TEST_CASE("net devices: invalid interface names are parse errors with their path", "[netdev]") {
    for (const char *bad : {"", ".", "..", "a/b", "a:b", "a b", "a\\tb", "abcdefghijklmnop"}) {
        INFO(bad);
        std::string host = parse_error_of(std::string(R"({"netDevices": {")") + bad + R"(": {}}})");
        CHECK(host.find("config.json: .linux.netDevices") == 0);
        CHECK(host.find("invalid network interface name") != std::string::npos);
        std::string renamed = parse_error_of(std::string(R"({"netDevices": {"v0": {"name": ")") + bad + R"("}}})");
        CHECK(renamed.find("config.json: .linux.netDevices.v0.name: invalid network interface name") == 0);
    }
    CHECK(parse_error_of(R"({"netDevices": {"v0": {"name": "abcdefghijklmno"}}})") == "");
}

TEST_CASE("netlink: read-only exchanges with the kernel", "[netdev]") {
    netlink::Socket s = netlink::Socket::open();
    std::optional<netlink::Link> lo = netlink::find_link(s, "lo", "look up lo");
    REQUIRE(lo);
    CHECK(lo->name == "lo");
    CHECK(lo->index > 0);
    CHECK_FALSE(netlink::find_link(s, "crunpp-none0", "look up crunpp-none0"));
    // lo's addresses are host-scoped: none of them would be carried over.
    for (const netlink::Address &a : netlink::link_addresses(s, lo->index, "lo's addresses")) {
        CHECK(a.index == lo->index);
        CHECK_FALSE(is_preserved_address(a));
    }
    // A kernel error keeps its errno and says what was being done.
    netlink::Request up = netlink::set_up_request(0x7ffffff0);
    try {
        s.transact(up, "set up a link that is not there");
        FAIL("no error");
    } catch (const Error &e) {
        CHECK((e.errnum() == ENODEV || e.errnum() == EPERM));
        CHECK(std::string(e.what()).starts_with("set up a link that is not there"));
    }
}
