// SPDX-License-Identifier: GPL-2.0-or-later
// A minimal rtnetlink client over a raw NETLINK_ROUTE socket: just what
// linux.netDevices needs (find a link, dump its addresses, move, rename and
// set up a link, add an address). The socket works in the network namespace
// it was created in. Kernel errors become crunpp::Error with the errno and,
// when the kernel gives one, its extended ack message.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crunpp/unique_fd.hpp"

namespace crunpp::linux::netlink {

// One request: nlmsghdr, the family header (ifinfomsg, ifaddrmsg), then
// attributes, each padded to 4 bytes as the kernel expects.
class Request {
public:
    // NLM_F_REQUEST is always set; `flags` adds NLM_F_DUMP, NLM_F_ACK...
    Request(uint16_t type, uint16_t flags, const void *family_header, size_t header_size);

    void add(uint16_t attr, const void *data, size_t size);
    void add_u32(uint16_t attr, uint32_t value) { add(attr, &value, sizeof value); }
    void add_string(uint16_t attr, std::string_view s); // NUL-terminated

    void add_flags(uint16_t flags);
    void set_sequence(uint32_t seq);
    uint32_t sequence() const;
    uint16_t flags() const;
    std::span<const uint8_t> bytes() const { return buf_; }

private:
    std::vector<uint8_t> buf_;
};

// A message received from the kernel: its header fields and payload (what
// follows the nlmsghdr).
struct Reply {
    uint16_t type = 0;
    uint16_t flags = 0;
    uint32_t seq = 0;
    std::vector<uint8_t> payload;
};

// The messages of one datagram; a truncated or malformed one is an Error.
std::vector<Reply> split_messages(std::span<const uint8_t> datagram);

struct Attribute {
    uint16_t type = 0; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
    std::span<const uint8_t> data;
};
// The attributes in `data` (after the family header); malformed is an Error.
std::vector<Attribute> parse_attributes(std::span<const uint8_t> data);
// The payload of an NLMSG_ERROR message: errno (0 for an ack) and the
// kernel's extended ack text (NLMSGERR_ATTR_MSG), empty when none.
struct ErrorReply {
    int error = 0;
    std::string message;
};
ErrorReply parse_error(const Reply &reply);
// Attribute data as a string, up to its first NUL.
std::string attribute_string(std::span<const uint8_t> data);

class Socket {
public:
    // In the caller's current network namespace; with extended acks.
    static Socket open();

    // Sends `request` and collects the replies until the ack (NLM_F_ACK is
    // added) or, for a dump, until NLMSG_DONE. A netlink error throws
    // Error(what, errno), the extended ack message added to `what`.
    std::vector<Reply> transact(Request &request, std::string_view what);

private:
    explicit Socket(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
    uint32_t seq_ = 0;
};

// ---- rtnetlink operations ----

struct Link {
    int index = 0;
    std::string name;
    unsigned flags = 0; // IFF_*
};
// An RTM_NEWLINK message.
Link parse_link(const Reply &reply);
// nullopt when there is no link of that name (ENODEV).
std::optional<Link> find_link(Socket &s, std::string_view name, std::string_view what);

struct Address {
    uint8_t family = 0, prefix_length = 0, scope = 0;
    uint32_t flags = 0; // IFA_F_*, from IFA_FLAGS when present
    int index = 0;
    std::vector<uint8_t> local, address, broadcast;
    std::string label;
};
// An RTM_NEWADDR message.
Address parse_address(const Reply &reply);
// Every address of link `index`, of every family.
std::vector<Address> link_addresses(Socket &s, int index, std::string_view what);

// RTM_NEWLINK requests on link `index`, built apart for the tests.
Request move_request(int index, int netns_fd);
// Changes nothing, but needs what a move needs from the caller:
// CAP_NET_ADMIN over the link's network namespace.
Request no_change_request(int index);
Request rename_request(int index, std::string_view name);
Request set_up_request(int index);
// RTM_NEWADDR: `a` added again to link `index`.
Request add_address_request(int index, const Address &a);

} // namespace crunpp::linux::netlink
