// SPDX-License-Identifier: GPL-2.0-or-later
// crunpp's D-Bus client (the systemd driver's): the wire format byte for
// byte, every unit property type there and back, the replies and signals
// systemd sends, malformed input rejected, bus addresses, authentication
// against a fake bus. The whole conversation with a real dbus-daemon is in
// tests/integration/systemd_cgroup.bats, with systemd in the systemd lane.
#include <catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"
#include "src/libcrunpp/cgroup/dbus_connection.hpp"
#include "src/libcrunpp/cgroup/dbus_message.hpp"
#include "test_util.hpp"

using namespace crunpp;
using test_util::error_of;
namespace dbus = crunpp::cgroup::dbus;
namespace sd = crunpp::cgroup::systemd;

namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string out;
    for (int x : b)
        out += static_cast<char>(x);
    return out;
}

// A method return as systemd sends one: reply to serial 7 from ":1.2",
// body "o" /j/1 (laid out by hand from the specification).
std::string job_reply() {
    return bytes({'l', 2, 1, 1, 9, 0, 0, 0, 0x2a, 0, 0, 0, 31, 0, 0, 0,
                  // 16: REPLY_SERIAL u 7
                  5, 1, 'u', 0, 7, 0, 0, 0,
                  // 24: SENDER s ":1.2"
                  7, 1, 's', 0, 4, 0, 0, 0, ':', '1', '.', '2', 0, 0, 0, 0,
                  // 40: SIGNATURE g "o", then the header's padding to 48
                  8, 1, 'g', 0, 1, 'o', 0, 0,
                  // 48: the body
                  4, 0, 0, 0, '/', 'j', '/', '1', 0});
}

} // namespace

TEST_CASE("dbus: a method call's bytes are the specification's, header fields and body aligned", "[dbus]") {
    dbus::Message m;
    m.serial = 7;
    m.path = "/a";
    m.interface = "b.c";
    m.member = "M";
    m.destination = "d.e";
    m.signature = "syqt";
    dbus::Writer w;
    w.s("ab");
    w.y(0x11);
    w.q(0x2233);
    w.t(0x0102030405060708);
    m.body = w.take();
    const std::string expected = bytes({
        'l', 1, 0, 1, 24, 0, 0, 0, 7, 0, 0, 0, 74, 0, 0, 0,
        // 16: PATH o "/a", padded to 32
        1, 1, 'o', 0, 2, 0, 0, 0, '/', 'a', 0, 0, 0, 0, 0, 0,
        // 32: INTERFACE s "b.c", padded to 48
        2, 1, 's', 0, 3, 0, 0, 0, 'b', '.', 'c', 0, 0, 0, 0, 0,
        // 48: MEMBER s "M", padded to 64
        3, 1, 's', 0, 1, 0, 0, 0, 'M', 0, 0, 0, 0, 0, 0, 0,
        // 64: DESTINATION s "d.e", padded to 80
        6, 1, 's', 0, 3, 0, 0, 0, 'd', '.', 'e', 0, 0, 0, 0, 0,
        // 80: SIGNATURE g "syqt" (ends at 90: fields are 74 bytes), header padded to 96
        8, 1, 'g', 0, 4, 's', 'y', 'q', 't', 0, 0, 0, 0, 0, 0, 0,
        // 96: body: s "ab", y, q (2-aligned), 6 bytes of padding, t (8-aligned)
        2, 0, 0, 0, 'a', 'b', 0, 0x11, 0x33, 0x22, 0, 0, 0, 0, 0, 0,
        8, 7, 6, 5, 4, 3, 2, 1});
    const std::string wire = dbus::encode(m);
    CHECK(wire == expected);
    CHECK(dbus::wire_size(wire.substr(0, dbus::kFixedHeader)) == expected.size());
    dbus::Message back = dbus::decode(wire);
    CHECK(back.path == "/a");
    CHECK(back.interface == "b.c");
    CHECK(back.member == "M");
    CHECK(back.destination == "d.e");
    CHECK(back.signature == "syqt");
    CHECK(back.body == m.body);
}

TEST_CASE("dbus: unit properties, a(sv), have their exact bytes and every value type comes back", "[dbus]") {
    dbus::Writer w;
    dbus::write_properties(w, {{"A", uint32_t{5}}});
    CHECK(w.bytes() == bytes({16, 0, 0, 0, 0, 0, 0, 0,         // length, padding to the struct
                              1, 0, 0, 0, 'A', 0, 1, 'u', 0, // name, the variant's signature
                              0, 0, 0, 5, 0, 0, 0}));        // padding to 4, the value

    const sd::Properties all = {
        {"B", true},
        {"T", uint64_t{0xfedcba9876543210}},
        {"X", int64_t{-2}},
        {"U", uint32_t{0xdeadbeef}},
        {"I", int32_t{-3}},
        {"Q", uint16_t{0xbeef}},
        {"N", int16_t{-4}},
        {"Y", uint8_t{0xab}},
        {"D", 1.5},
        {"S", std::string("crunpp-x.scope")},
        {"AY", std::vector<uint8_t>{1, 2, 3}},
        {"AU", std::vector<uint32_t>{7, 8}},
        {"AS", std::vector<std::string>{"a", "", "bc"}},
        {"ASS", std::vector<sd::DeviceAllow>{{"/dev/null", "rwm"}, {"char-pts", "rw"}}},
        {"EmptyAS", std::vector<std::string>{}},
        {"EmptyASS", std::vector<sd::DeviceAllow>{}},
        {"F", false},
    };
    dbus::Writer all_w;
    dbus::write_properties(all_w, all);
    dbus::Reader r(all_w.bytes(), "a(sv)", false);
    CHECK(r.properties() == all);
    r.end();
    // The same through a whole message, validated on decode.
    dbus::Message m;
    m.serial = 1;
    m.path = "/p";
    m.member = "SetUnitProperties";
    m.signature = "sba(sv)";
    dbus::Writer body;
    body.s("u.scope");
    body.b(true);
    dbus::write_properties(body, all);
    m.body = body.take();
    dbus::Message back = dbus::decode(dbus::encode(m));
    dbus::Reader rb(back);
    CHECK(rb.s() == "u.scope");
    rb.skip();
    CHECK(rb.properties() == all);
    rb.end();
    CHECK(dbus::signature_of(sd::Value{std::vector<sd::DeviceAllow>{}}) == "a(ss)");
}

TEST_CASE("dbus: a method return, an error and JobRemoved are read as systemd sends them", "[dbus]") {
    dbus::Message ret = dbus::decode(job_reply());
    CHECK(ret.type == dbus::Type::kMethodReturn);
    CHECK(ret.serial == 0x2a);
    CHECK(ret.reply_serial == 7);
    CHECK(ret.sender == ":1.2");
    CHECK(ret.flags == dbus::kNoReplyExpected);
    dbus::Reader r(ret);
    CHECK(r.o() == "/j/1");
    r.end();
    // Read as another type: refused.
    CHECK(error_of([&] { dbus::Reader(ret).s(); }) ==
          "D-Bus: expected a value of type 's' at 0 in the signature \"o\"");

    dbus::Message err;
    err.type = dbus::Type::kError;
    err.serial = 3;
    err.reply_serial = 9;
    err.error_name = "org.freedesktop.DBus.Error.ServiceUnknown";
    err.destination = ":1.9";
    err.signature = "s";
    dbus::Writer w;
    w.s("The name org.freedesktop.systemd1 was not provided by any .service files");
    err.body = w.take();
    dbus::Message e = dbus::decode(dbus::encode(err));
    CHECK(e.type == dbus::Type::kError);
    CHECK(e.reply_serial == 9);
    CHECK(e.error_name == "org.freedesktop.DBus.Error.ServiceUnknown");
    CHECK(dbus::Reader(e).s() == "The name org.freedesktop.systemd1 was not provided by any .service files");

    dbus::Message sig;
    sig.type = dbus::Type::kSignal;
    sig.serial = 11;
    sig.sender = ":1.2";
    sig.path = "/org/freedesktop/systemd1";
    sig.interface = "org.freedesktop.systemd1.Manager";
    sig.member = "JobRemoved";
    sig.signature = "uoss";
    dbus::Writer sw;
    sw.u(12);
    sw.o("/org/freedesktop/systemd1/job/12");
    sw.s("crunpp-x.scope");
    sw.s("done");
    sig.body = sw.take();
    dbus::Message s = dbus::decode(dbus::encode(sig));
    CHECK(s.type == dbus::Type::kSignal);
    CHECK(s.member == "JobRemoved");
    CHECK(s.sender == ":1.2");
    dbus::Reader sr(s);
    CHECK(sr.u() == 12);
    CHECK(sr.o() == "/org/freedesktop/systemd1/job/12");
    CHECK(sr.s() == "crunpp-x.scope");
    CHECK(sr.s() == "done");
    sr.end();

    // Big-endian, as a peer on another machine may send: a return with u.
    dbus::Message be = dbus::decode(bytes({'B', 2, 0, 1, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 15,  //
                                           5, 1, 'u', 0, 0, 0, 0, 1, 8, 1, 'g', 0, 1, 'u', 0, 0, //
                                           1, 2, 3, 4}));
    CHECK(be.reply_serial == 1);
    CHECK(dbus::Reader(be).u() == 0x01020304);
}

TEST_CASE("dbus: malformed messages are errors, never a crash or a read past the data", "[dbus]") {
    const std::string good = job_reply();
    REQUIRE_NOTHROW(dbus::decode(good));
    auto bad = [&](size_t at, int value) {
        std::string m = good;
        m[at] = static_cast<char>(value);
        return error_of([&] { dbus::decode(m); });
    };
    // Truncated anywhere, or with a byte more.
    for (size_t n = 0; n < good.size(); n++) {
        INFO(n);
        CHECK(error_of([&] { dbus::decode(good.substr(0, n)); }).rfind("malformed D-Bus message: ", 0) == 0);
    }
    CHECK(error_of([&] { dbus::decode(good + '\0'); }) ==
          "malformed D-Bus message: its header says 57 bytes, it has 58");
    CHECK(bad(0, 'x') == "malformed D-Bus message: byte order 'x'");
    CHECK(bad(3, 2) == "malformed D-Bus message: protocol version 2");
    CHECK(bad(8, 0) == "malformed D-Bus message: serial 0");
    CHECK(bad(1, 0) == "malformed D-Bus message: message type 0");
    // The header fields' length one more: the last field's padding would
    // run past the fields.
    CHECK(bad(12, 32) == "malformed D-Bus message: header field padding past the fields");
    CHECK(bad(12, 30) == "malformed D-Bus message: header fields overrun their length");
    // Padding that is not zero: after SENDER, and the header's.
    CHECK(bad(38, 1) == "malformed D-Bus message: nonzero alignment padding");
    CHECK(bad(47, 1) == "malformed D-Bus message: nonzero alignment padding");
    // A string without its NUL; a NUL inside one.
    CHECK(bad(56, 'x') == "malformed D-Bus message: a string not terminated by NUL");
    CHECK(bad(34, 0) == "malformed D-Bus message: a string with a NUL inside");
    // A string length past the data.
    CHECK(bad(48, 200) == "malformed D-Bus message: truncated");
    // The body's signature not its data: u leaves bytes over; ( is no signature.
    CHECK(bad(45, 'u') == "malformed D-Bus message: 5 bytes after the values of its signature \"u\"");
    CHECK(bad(45, '(') == "malformed D-Bus message: signature \"(\" has a struct not closed");
    CHECK(bad(45, 'z') == "malformed D-Bus message: signature \"z\" has an unexpected 'z'");
    // An object path that is not one.
    CHECK(bad(53, '-') == "malformed D-Bus message: \"/-/1\" is not an object path");
    CHECK(bad(55, '/') == "malformed D-Bus message: \"/j//\" is not an object path");
    // A header field of the wrong type; REPLY_SERIAL missing (an unknown
    // field code is skipped).
    CHECK(bad(18, 'i') == "malformed D-Bus message: header field 5 of type \"i\"");
    CHECK(bad(16, 10) == "malformed D-Bus message: no REPLY_SERIAL header field");
    CHECK(bad(20, 0) == "malformed D-Bus message: reply serial 0");
    // Over the 128 MiB limit (body length 128 MiB).
    CHECK(bad(7, 8) == "malformed D-Bus message: 134217785 bytes, more than the limit of 134217728");
    // Header fields longer than an array may be.
    CHECK(bad(15, 5) == "malformed D-Bus message: header fields of 83886111 bytes");

    // Bodies: a boolean 2; an array overrunning its length; an array
    // longer than the data; a variant of two types; nesting too deep.
    auto body_error = [](const std::string &sig, const std::string &data) {
        return error_of([&] {
            dbus::Reader r(data, sig, false);
            while (!r.at_end())
                r.skip();
            r.end();
        });
    };
    CHECK(body_error("b", bytes({2, 0, 0, 0})) == "malformed D-Bus message: a boolean neither 0 nor 1");
    CHECK(body_error("au", bytes({2, 0, 0, 0, 1, 0, 0, 0})) ==
          "malformed D-Bus message: an array's elements overrun its length");
    CHECK(body_error("ay", bytes({9, 0, 0, 0, 1})) == "malformed D-Bus message: truncated");
    CHECK(body_error("v", bytes({2, 'u', 'u', 0})) ==
          "malformed D-Bus message: variant signature \"uu\" of more than one type");
    CHECK(body_error("h", bytes({0, 0, 0, 0})) == "malformed D-Bus message: a unix fd (crunpp passes none)");
    CHECK(body_error("a{vs}", bytes({0, 0, 0, 0, 0, 0, 0, 0})) ==
          "malformed D-Bus message: signature \"a{vs}\" has a dict entry whose key is not a basic type");
    CHECK(body_error(std::string(33, 'a') + "y", bytes({0, 0, 0, 0})).find("nests arrays too deeply") !=
          std::string::npos);
    // A variant in a variant ... 65 deep: refused, not a deep recursion.
    std::string nested;
    for (int i = 0; i < 70; i++)
        nested += bytes({1, 'v', 0});
    nested += bytes({1, 'y', 0, 1});
    CHECK(body_error("v", nested) == "malformed D-Bus message: values nested too deeply");
    // A struct's padding must be zero, as any.
    CHECK(body_error("y(y)", bytes({1, 0, 0, 0, 0, 0, 1, 0, 2})) ==
          "malformed D-Bus message: nonzero alignment padding");
    CHECK(body_error("y(y)", bytes({1, 0, 0, 0, 0, 0, 0, 0, 2})) == "<no error>");
}

TEST_CASE("dbus: nothing malformed is sent", "[dbus]") {
    dbus::Writer w;
    CHECK(error_of([&] { w.s(std::string("a\0b", 3)); }) == "D-Bus: a string with a NUL byte cannot be sent");
    CHECK(error_of([&] { w.o("/a/"); }) == "malformed D-Bus message: \"/a/\" is not an object path");
    dbus::Message m;
    m.path = "/";
    m.member = "M";
    CHECK(error_of([&] { dbus::encode(m); }) == "D-Bus: a message needs a serial other than 0");
    m.serial = 1;
    m.body = "x";
    CHECK(error_of([&] { dbus::encode(m); }) == "D-Bus: a body and its signature go together");
}

TEST_CASE("dbus: bus addresses are parsed as sd-bus does; others are errors saying why", "[dbus]") {
    using A = dbus::Address;
    CHECK(dbus::parse_address("unix:path=/run/dbus/system_bus_socket") ==
          std::vector<A>{{"/run/dbus/system_bus_socket", false}});
    CHECK(dbus::parse_address("unix:abstract=/tmp/dbus-x,guid=0123") == std::vector<A>{{"/tmp/dbus-x", true}});
    CHECK(dbus::parse_address("unix:path=/a%20b%2C;;unix:abstract=z;") ==
          std::vector<A>{{"/a b,", false}, {"z", true}});
    auto err = [](const std::string &a) { return error_of([&] { dbus::parse_address(a); }); };
    CHECK(err("tcp:host=localhost,port=1") ==
          "the transport \"tcp\" is not one crunpp connects to (only unix:path= and unix:abstract=)");
    CHECK(err("unix:path=/x;unixexec:path=/bin/sh") ==
          "the transport \"unixexec\" is not one crunpp connects to (only unix:path= and unix:abstract=)");
    CHECK(err("unix:path=/a,abstract=b") == "\"unix:path=/a,abstract=b\" needs exactly one of path= and abstract=");
    CHECK(err("unix:tmpdir=/tmp") == "\"unix:tmpdir=/tmp\" needs exactly one of path= and abstract=");
    CHECK(err("unix:path") == "\"path\" in \"unix:path\" is not key=value");
    CHECK(err("unix:path=") == "\"unix:path=\" has an empty path");
    CHECK(err("unix:path=/a%2") == "a % not followed by two hex digits in \"/a%2\"");
    CHECK(err("unix:path=/a%zz") == "a % not followed by two hex digits in \"/a%zz\"");
    CHECK(err("/run/bus") == "\"/run/bus\" has no transport (transport:key=value,...)");
    CHECK(err("") == "no address in \"\"");
    CHECK(err(";") == "no address in \";\"");
}

TEST_CASE("dbus: the user bus is $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus escaped", "[dbus]") {
    struct Restore {
        std::string name, value;
        bool set;
        explicit Restore(const char *n) : name(n), set(getenv(n) != nullptr) {
            if (set)
                value = getenv(n);
        }
        ~Restore() {
            if (set)
                setenv(name.c_str(), value.c_str(), 1);
            else
                unsetenv(name.c_str());
        }
    } r1("DBUS_SESSION_BUS_ADDRESS"), r2("XDG_RUNTIME_DIR"), r3("DBUS_SYSTEM_BUS_ADDRESS");
    unsetenv("DBUS_SESSION_BUS_ADDRESS");
    setenv("XDG_RUNTIME_DIR", "/run/user/1000 x", 1);
    CHECK(dbus::user_bus_address() == "unix:path=/run/user/1000%20x/bus");
    CHECK(dbus::parse_address(dbus::user_bus_address()).at(0).path == "/run/user/1000 x/bus");
    unsetenv("XDG_RUNTIME_DIR");
    CHECK(dbus::user_bus_address().empty());
    setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/s", 1);
    CHECK(dbus::user_bus_address() == "unix:path=/s");
    unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    CHECK(dbus::system_bus_address() == "unix:path=/run/dbus/system_bus_socket");
    setenv("DBUS_SYSTEM_BUS_ADDRESS", "", 1);
    CHECK(dbus::system_bus_address() == "unix:path=/run/dbus/system_bus_socket");
    setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:abstract=x", 1);
    CHECK(dbus::system_bus_address() == "unix:abstract=x");
}

TEST_CASE("dbus: a bus that refuses the authentication or closes is an error naming it", "[dbus]") {
    test_util::TempDir dir;
    const std::string path = dir.path + "/bus";
    UniqueFd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(listener);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    REQUIRE(bind(listener.get(), reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0);
    REQUIRE(listen(listener.get(), 4) == 0);
    // The fake bus: reads what the client sends first, answers `reply`
    // and reads all the client sends until it closes (or, with no reply,
    // closes at once); `got` is what it read.
    auto serve = [&](const std::string &reply, std::string &got) {
        got.clear();
        return std::thread([&, reply] {
            UniqueFd c(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!c)
                return;
            char buf[256];
            ssize_t n = read(c.get(), buf, sizeof buf);
            if (n > 0)
                got.assign(buf, static_cast<size_t>(n));
            if (reply.empty() || write(c.get(), reply.data(), reply.size()) < 0)
                return;
            while ((n = read(c.get(), buf, sizeof buf)) > 0)
                got.append(buf, static_cast<size_t>(n));
        });
    };
    const std::string address = "unix:path=" + path;
    std::string got;
    std::thread t = serve("DATA\r\nREJECTED EXTERNAL\r\n", got);
    CHECK(error_of([&] { dbus::Connection::open(address, "the test bus"); }) ==
          "connect to the test bus: the bus refused the authentication (EXTERNAL): \"REJECTED EXTERNAL\"");
    t.join();
    CHECK(got == std::string("\0AUTH EXTERNAL\r\nDATA\r\n", 22)); // no uid: the socket's
    t = serve("ERROR \x01 bad\r\n", got);
    CHECK(error_of([&] { dbus::Connection::open(address, "the test bus"); }) ==
          "connect to the test bus: the bus refused the authentication (EXTERNAL): \"ERROR ? bad\"");
    t.join();
    t = serve("", got);
    CHECK(error_of([&] { dbus::Connection::open(address, "the test bus"); }) ==
          "connect to the test bus: the bus closed the connection");
    t.join();
    t = serve(std::string(2000, 'A'), got);
    CHECK(error_of([&] { dbus::Connection::open(address, "the test bus"); }) ==
          "connect to the test bus: the bus sent an authentication line longer than 1024 bytes");
    t.join();
    // A first address that does not exist: the next is tried.
    t = serve("OK 0123\r\n" + std::string(16, '\xff'), got);
    CHECK(error_of([&] { dbus::Connection::open("unix:path=" + dir.path + "/none;" + address, "the test bus"); }) ==
          "connect to the test bus: Hello: malformed D-Bus message: byte order '\xff'");
    t.join();
    // BEGIN, then Hello: a method call to the bus driver.
    const std::string begin = std::string("\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n", 29);
    REQUIRE(got.size() > begin.size() + dbus::kFixedHeader);
    CHECK(got.substr(0, begin.size()) == begin);
    dbus::Message hello = dbus::decode(got.substr(begin.size()));
    CHECK(hello.member == "Hello");
    CHECK(hello.destination == "org.freedesktop.DBus");
    CHECK(hello.serial == 1);
    CHECK(error_of([&] { dbus::Connection::open("unix:path=" + dir.path + "/none", "the test bus"); }) ==
          "connect to the test bus: No such file or directory");
}
