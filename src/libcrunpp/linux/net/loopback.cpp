// SPDX-License-Identifier: GPL-2.0-or-later
#include "loopback.hpp"

#include "netlink.hpp"

namespace crunpp::linux {

void bring_loopback_up() {
    // The kernel registers lo first in every network namespace: its index
    // is always LOOPBACK_IFINDEX (1), no lookup needed.
    constexpr int kLoopbackIndex = 1;
    netlink::Socket s = netlink::Socket::open();
    netlink::Request up = netlink::set_up_request(kLoopbackIndex);
    s.transact(up, "set the loopback interface up");
}

} // namespace crunpp::linux
