// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the D-Bus unmarshaller (cgroup/dbus_message.cpp):
// whatever a bus sends the systemd driver. decode must accept or throw
// Error, never crash or read out of bounds; what it accepts reads as the
// driver reads it and survives encode -> decode unchanged.
#include <string>
#include <string_view>

#include "crunpp/error.hpp"
#include "fuzz.hpp"
#include "src/libcrunpp/cgroup/dbus_message.hpp"

namespace {

using crunpp::fuzz::check;
namespace dbus = crunpp::cgroup::dbus;

// The driver's reads of a body: each may throw, none may crash.
void read_as_driver(const dbus::Message &m) {
    for (const char *shape : {"o", "s", "v", "uoss", "a(sv)"}) {
        try {
            dbus::Reader r(m);
            for (const char *c = shape; *c; c++) {
                if (*c == 'o')
                    r.o();
                else if (*c == 's')
                    r.s();
                else if (*c == 'v')
                    r.v();
                else if (*c == 'u')
                    r.u();
                else {
                    r.properties();
                    break;
                }
            }
            r.end();
        } catch (const crunpp::Error &) {
        }
    }
}

} // namespace

int crunpp::fuzz::dbus(const uint8_t *data, size_t size) {
    std::string_view wire(reinterpret_cast<const char *>(data), size);
    dbus::Message m;
    try {
        m = dbus::decode(wire);
    } catch (const crunpp::Error &e) {
        check(e.what()[0] != '\0', "dbus: an empty error");
        return 0;
    }
    check(dbus::wire_size(wire) == size, "dbus: decoded a message of another size than its header's");
    read_as_driver(m);
    if (m.big_endian)
        return 0; // encode writes little-endian: the body's bytes would differ
    dbus::Message back = dbus::decode(dbus::encode(m));
    check(back.type == m.type && back.flags == m.flags && back.serial == m.serial &&
              back.reply_serial == m.reply_serial && back.path == m.path && back.interface == m.interface &&
              back.member == m.member && back.error_name == m.error_name && back.destination == m.destination &&
              back.sender == m.sender && back.signature == m.signature && back.body == m.body,
          "dbus: a decoded message changed through encode -> decode");
    return 0;
}

CRUNPP_FUZZ_TARGET(crunpp::fuzz::dbus)
