// SPDX-License-Identifier: GPL-2.0-or-later
#include "netlink.hpp"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "crunpp/error.hpp"

namespace crunpp::linux::netlink {
namespace {

// Headers are copied in and out with memcpy: the buffers are byte vectors.
template <class T> T read_as(std::span<const uint8_t> bytes, size_t offset = 0) {
    T value{};
    if (offset > bytes.size() || bytes.size() - offset < sizeof value)
        throw Error("netlink: truncated message");
    memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

nlmsghdr header_of(const std::vector<uint8_t> &buf) { return read_as<nlmsghdr>(buf); }

void store_header(std::vector<uint8_t> &buf, const nlmsghdr &h) { memcpy(buf.data(), &h, sizeof h); }

// Every piece starts aligned: the zero padding goes after it.
void append_padded(std::vector<uint8_t> &buf, const void *data, size_t size) {
    const size_t start = buf.size();
    buf.resize(start + NLMSG_ALIGN(size), 0);
    if (size > 0)
        memcpy(buf.data() + start, data, size);
}

// Replies are bounded by the kernel's NLMSG_GOODSIZE (a page or 8 KiB).
constexpr size_t kReceiveBuffer = 64 * 1024;
// The kernel answers at once; this only bounds a wait that should not happen.
constexpr time_t kReceiveTimeoutSeconds = 10;

std::string with_kernel_message(std::string_view what, const std::string &message) {
    std::string s(what);
    if (!message.empty())
        s += " (" + message + ")";
    return s;
}

} // namespace

Request::Request(uint16_t type, uint16_t flags, const void *family_header, size_t header_size) {
    buf_.reserve(NLMSG_HDRLEN + NLMSG_ALIGN(header_size) + 64);
    buf_.resize(NLMSG_HDRLEN, 0);
    append_padded(buf_, family_header, header_size);
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(buf_.size());
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    store_header(buf_, h);
}

void Request::add(uint16_t attr, const void *data, size_t size) {
    if (size > 0xffff - RTA_LENGTH(0))
        throw Error("netlink: attribute too large");
    rtattr a{};
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    a.rta_type = attr;
    append_padded(buf_, &a, sizeof a);
    append_padded(buf_, data, size);
    nlmsghdr h = header_of(buf_);
    h.nlmsg_len = static_cast<uint32_t>(buf_.size());
    store_header(buf_, h);
}

void Request::add_string(uint16_t attr, std::string_view s) {
    std::string z(s);
    add(attr, z.c_str(), z.size() + 1);
}

void Request::set_sequence(uint32_t seq) {
    nlmsghdr h = header_of(buf_);
    h.nlmsg_seq = seq;
    store_header(buf_, h);
}

void Request::add_flags(uint16_t flags) {
    nlmsghdr h = header_of(buf_);
    h.nlmsg_flags = static_cast<uint16_t>(h.nlmsg_flags | flags);
    store_header(buf_, h);
}

uint32_t Request::sequence() const { return header_of(buf_).nlmsg_seq; }
uint16_t Request::flags() const { return header_of(buf_).nlmsg_flags; }

std::vector<Reply> split_messages(std::span<const uint8_t> datagram) {
    std::vector<Reply> out;
    size_t offset = 0;
    while (datagram.size() - offset >= NLMSG_HDRLEN) {
        nlmsghdr h = read_as<nlmsghdr>(datagram, offset);
        if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > datagram.size() - offset)
            throw Error("netlink: malformed message");
        Reply r;
        r.type = h.nlmsg_type;
        r.flags = h.nlmsg_flags;
        r.seq = h.nlmsg_seq;
        r.payload.assign(datagram.begin() + static_cast<ptrdiff_t>(offset + NLMSG_HDRLEN),
                         datagram.begin() + static_cast<ptrdiff_t>(offset + h.nlmsg_len));
        out.push_back(std::move(r));
        offset += NLMSG_ALIGN(h.nlmsg_len);
        if (offset > datagram.size())
            break;
    }
    if (offset < datagram.size())
        throw Error("netlink: malformed message");
    return out;
}

std::vector<Attribute> parse_attributes(std::span<const uint8_t> data) {
    std::vector<Attribute> out;
    size_t offset = 0;
    while (data.size() - offset >= RTA_LENGTH(0)) {
        rtattr a = read_as<rtattr>(data, offset);
        if (a.rta_len < RTA_LENGTH(0) || a.rta_len > data.size() - offset)
            throw Error("netlink: malformed attribute");
        out.push_back({static_cast<uint16_t>(a.rta_type & NLA_TYPE_MASK),
                       data.subspan(offset + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0))});
        offset += RTA_ALIGN(a.rta_len);
        if (offset > data.size())
            break;
    }
    if (offset < data.size())
        throw Error("netlink: malformed attribute");
    return out;
}

std::string attribute_string(std::span<const uint8_t> data) {
    const char *p = reinterpret_cast<const char *>(data.data());
    return std::string(p, strnlen(p, data.size()));
}

ErrorReply parse_error(const Reply &reply) {
    std::span<const uint8_t> p(reply.payload);
    nlmsgerr e = read_as<nlmsgerr>(p);
    ErrorReply out;
    out.error = -e.error;
    if (!(reply.flags & NLM_F_ACK_TLVS))
        return out;
    // The request comes back after the error unless capped (headers only).
    size_t offset = sizeof e;
    if (!(reply.flags & NLM_F_CAPPED)) {
        if (e.msg.nlmsg_len < NLMSG_HDRLEN)
            throw Error("netlink: malformed error message");
        offset += NLMSG_ALIGN(e.msg.nlmsg_len - NLMSG_HDRLEN);
    }
    if (offset > p.size())
        throw Error("netlink: malformed error message");
    for (const Attribute &a : parse_attributes(p.subspan(offset)))
        if (a.type == NLMSGERR_ATTR_MSG)
            out.message = attribute_string(a.data);
    return out;
}

Socket Socket::open() {
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd)
        throw_errno("open a netlink socket");
    int one = 1;
    // Both are optional refinements: older kernels simply lack them.
    setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    timeval tv{kReceiveTimeoutSeconds, 0};
    if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        throw_errno("set the netlink socket's timeout");
    return Socket(std::move(fd));
}

std::vector<Reply> Socket::transact(Request &request, std::string_view what) {
    const bool dump = (request.flags() & NLM_F_DUMP) == NLM_F_DUMP;
    if (!dump)
        request.add_flags(NLM_F_ACK); // the ack ends the exchange of a plain request
    request.set_sequence(++seq_);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    std::span<const uint8_t> bytes = request.bytes();
    ssize_t sent;
    do
        sent = sendto(fd_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr *>(&kernel), sizeof kernel);
    while (sent < 0 && errno == EINTR);
    if (sent < 0)
        throw_errno(std::string(what) + ": send the netlink request");
    if (static_cast<size_t>(sent) != bytes.size())
        throw Error(std::string(what) + ": short netlink send");

    std::vector<Reply> replies;
    // On the stack, not zeroed: only what the kernel writes is read. From the
    // heap, 64 KiB grew the heap and trimmed it back (two brk, a TLB flush)
    // in every container's init (lo up); zeroed, it faulted in 16 pages.
    alignas(nlmsghdr) uint8_t buf[kReceiveBuffer];
    for (;;) {
        sockaddr_nl from{};
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(fd_.get(), buf, sizeof buf, MSG_TRUNC, reinterpret_cast<sockaddr *>(&from),
                             &from_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno(std::string(what) + ": receive the netlink reply");
        if (static_cast<size_t>(n) > sizeof buf)
            throw Error(std::string(what) + ": netlink reply too large");
        if (from.nl_pid != 0)
            continue; // only the kernel answers
        for (Reply &r : split_messages(std::span<const uint8_t>(buf, static_cast<size_t>(n)))) {
            if (r.seq != request.sequence())
                continue; // a stale answer to an earlier request
            if (r.type == NLMSG_ERROR) {
                ErrorReply e = parse_error(r);
                if (e.error != 0)
                    throw Error(with_kernel_message(what, e.message), e.error);
                return replies;
            }
            if (r.type == NLMSG_DONE) {
                int status = r.payload.size() >= sizeof(int) ? read_as<int>(r.payload) : 0;
                if (status < 0)
                    throw Error(std::string(what), -status);
                return replies;
            }
            if (r.type == NLMSG_NOOP || r.type == NLMSG_OVERRUN)
                continue;
            replies.push_back(std::move(r));
        }
    }
}

Link parse_link(const Reply &reply) {
    ifinfomsg ifi = read_as<ifinfomsg>(reply.payload);
    Link l;
    l.index = ifi.ifi_index;
    l.flags = ifi.ifi_flags;
    std::span<const uint8_t> p(reply.payload);
    for (const Attribute &a : parse_attributes(p.subspan(NLMSG_ALIGN(sizeof ifi))))
        if (a.type == IFLA_IFNAME)
            l.name = attribute_string(a.data);
    return l;
}

std::optional<Link> find_link(Socket &s, std::string_view name, std::string_view what) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    Request r(RTM_GETLINK, 0, &ifi, sizeof ifi);
    r.add_string(IFLA_IFNAME, name);
    std::vector<Reply> replies;
    try {
        replies = s.transact(r, what);
    } catch (const Error &e) {
        if (e.errnum() == ENODEV)
            return std::nullopt;
        throw;
    }
    for (const Reply &reply : replies)
        if (reply.type == RTM_NEWLINK)
            return parse_link(reply);
    throw Error(std::string(what) + ": no link in the netlink reply");
}

Address parse_address(const Reply &reply) {
    ifaddrmsg ifa = read_as<ifaddrmsg>(reply.payload);
    Address a;
    a.family = ifa.ifa_family;
    a.prefix_length = ifa.ifa_prefixlen;
    a.scope = ifa.ifa_scope;
    a.flags = ifa.ifa_flags;
    a.index = static_cast<int>(ifa.ifa_index);
    std::span<const uint8_t> p(reply.payload);
    for (const Attribute &attr : parse_attributes(p.subspan(NLMSG_ALIGN(sizeof ifa)))) {
        std::vector<uint8_t> bytes(attr.data.begin(), attr.data.end());
        switch (attr.type) {
        case IFA_LOCAL: a.local = std::move(bytes); break;
        case IFA_ADDRESS: a.address = std::move(bytes); break;
        case IFA_BROADCAST: a.broadcast = std::move(bytes); break;
        case IFA_LABEL: a.label = attribute_string(attr.data); break;
        case IFA_FLAGS:
            // The full 32 bits; ifa_flags only holds the low 8.
            a.flags = read_as<uint32_t>(attr.data);
            break;
        default: break;
        }
    }
    return a;
}

std::vector<Address> link_addresses(Socket &s, int index, std::string_view what) {
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_UNSPEC;
    Request r(RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
    std::vector<Address> out;
    // The dump has every link's addresses: filtered here, which needs no
    // strict-checking support from the kernel.
    for (const Reply &reply : s.transact(r, what)) {
        if (reply.type != RTM_NEWADDR)
            continue;
        Address a = parse_address(reply);
        if (a.index == index)
            out.push_back(std::move(a));
    }
    return out;
}

namespace {
Request link_change(int index) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    return Request(RTM_NEWLINK, 0, &ifi, sizeof ifi);
}
} // namespace

Request move_request(int index, int netns_fd) {
    Request r = link_change(index);
    r.add_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd));
    return r;
}

Request no_change_request(int index) { return link_change(index); }

Request rename_request(int index, std::string_view name) {
    Request r = link_change(index);
    r.add_string(IFLA_IFNAME, name);
    return r;
}

Request set_up_request(int index) {
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
    return Request(RTM_NEWLINK, 0, &ifi, sizeof ifi);
}

Request add_address_request(int index, const Address &a) {
    ifaddrmsg ifa{};
    ifa.ifa_family = a.family;
    ifa.ifa_prefixlen = a.prefix_length;
    ifa.ifa_scope = a.scope;
    ifa.ifa_index = static_cast<uint32_t>(index);
    // NLM_F_EXCL: an address already there is an error, not silently kept.
    Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
    if (!a.local.empty())
        r.add(IFA_LOCAL, a.local.data(), a.local.size());
    if (!a.address.empty())
        r.add(IFA_ADDRESS, a.address.data(), a.address.size());
    if (!a.broadcast.empty())
        r.add(IFA_BROADCAST, a.broadcast.data(), a.broadcast.size());
    if (!a.label.empty())
        r.add_string(IFA_LABEL, a.label);
    // Only the flags one may set on a new address; the others (tentative,
    // deprecated...) are states the kernel computes.
    constexpr uint32_t kSettable =
        IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE | IFA_F_MCAUTOJOIN;
    if (uint32_t flags = a.flags & kSettable)
        r.add_u32(IFA_FLAGS, flags);
    return r;
}

} // namespace crunpp::linux::netlink
