// SPDX-License-Identifier: GPL-2.0-or-later
// D-Bus messages in the wire format of the D-Bus 1 specification
// ("Message Protocol"): marshalling (always little-endian) and the strict
// unmarshalling of what a bus sends (either byte order). Pure: no I/O, so
// that every byte is unit-tested and fuzzed (tests/fuzz/fuzz_dbus.cpp).
// The systemd driver speaks D-Bus itself rather than through libsystemd's
// sd-bus: a static binary cannot load a shared library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "systemd_unit.hpp"

namespace crunpp::cgroup::dbus {

using systemd::Properties;
using systemd::Value;

// The specification's limits: a whole message, an array's data.
inline constexpr size_t kMaxMessage = size_t{128} << 20;
inline constexpr size_t kMaxArray = size_t{64} << 20;
// The fixed part of the header, with the header fields array's length:
// enough to know the whole message's size.
inline constexpr size_t kFixedHeader = 16;

enum class Type : uint8_t { kMethodCall = 1, kMethodReturn = 2, kError = 3, kSignal = 4 };
inline constexpr uint8_t kNoReplyExpected = 0x1;

// Appends values with the alignment of the specification, relative to the
// start of the buffer (a body starts 8-aligned in its message, so a body's
// own offsets are the message's modulo 8). The caller writes the signature.
class Writer {
public:
    void y(uint8_t v) { put(&v, 1); }
    void b(bool v) { u(v ? 1 : 0); }
    void n(int16_t v) { q(static_cast<uint16_t>(v)); }
    void q(uint16_t v);
    void i(int32_t v) { u(static_cast<uint32_t>(v)); }
    void u(uint32_t v);
    void x(int64_t v) { t(static_cast<uint64_t>(v)); }
    void t(uint64_t v);
    void d(double v);
    void s(std::string_view v); // string (no NUL inside)
    void o(std::string_view v); // object path
    void g(std::string_view v); // signature
    // An array: open with its elements' alignment, write them, close with
    // the mark open returned (the length is filled in then).
    size_t open_array(size_t element_align);
    void close_array(size_t mark);
    void open_struct() { align(8); }
    void align(size_t a);

    const std::string &bytes() const { return buf_; }
    std::string take() { return std::move(buf_); }

private:
    void put(const void *p, size_t n) { buf_.append(static_cast<const char *>(p), n); }
    std::string buf_;
};

// The signature of a Value ("t", "a(ss)", ...).
std::string signature_of(const Value &v);
// A variant ("v") holding the value.
void write_variant(Writer &w, const Value &v);
// Unit properties as systemd takes them: a(sv).
void write_properties(Writer &w, const Properties &props);

struct Message {
    Type type = Type::kMethodCall;
    uint8_t flags = 0;
    uint32_t serial = 0;
    uint32_t reply_serial = 0; // 0: no REPLY_SERIAL field
    std::string path, interface, member, error_name, destination, sender;
    std::string signature; // of the body
    std::string body;      // marshalled in the message's byte order
    bool big_endian = false;
};

// The whole message (header, padding, body), little-endian. Throws on a
// message the specification does not allow (no serial, too large, ...).
std::string encode(const Message &m);
// The size of the whole message from its first kFixedHeader bytes; throws
// on a header that cannot start a valid message (byte order, version,
// sizes over the limits).
size_t wire_size(std::string_view head);
// Parses and validates exactly one whole message: every length against
// the data, every padding byte zero, every string NUL-terminated without a
// NUL inside, every signature well-formed and the data agreeing with it,
// the required header fields of its type. Throws Error, never reads out of
// bounds.
Message decode(std::string_view wire);

// Reads a body's values in the order of its signature; each read checks
// the next type of the signature. Values are validated as they are read.
class Reader {
public:
    explicit Reader(const Message &m);
    Reader(std::string_view data, std::string_view signature, bool big_endian);

    std::string s();
    std::string o();
    uint32_t u();
    // A variant holding one of Value's types.
    Value v();
    // a(sv), as write_properties writes it.
    Properties properties();
    // Any one complete type, validated and skipped.
    void skip();
    bool at_end() const { return si_ == sig_.size(); }
    // Throws unless the whole signature and all of the data were read.
    void end() const;

    // Internal, for the value readers: the data cursor.
    struct Cursor {
        std::string_view data;
        size_t pos = 0;
        bool big = false;
        void need(size_t n) const;
        void align(size_t a);
        uint8_t u8();
        uint16_t u16();
        uint32_t u32();
        uint64_t u64();
        std::string_view str();
        std::string_view sig();
    };

private:
    void next(char want);
    Cursor c_;
    std::string sig_;
    size_t si_ = 0;
};

// Throws unless `sig` is a well-formed signature (any number of complete
// types); `single`: exactly one complete type (a variant's).
void validate_signature(std::string_view sig, bool single = false);

} // namespace crunpp::cgroup::dbus
