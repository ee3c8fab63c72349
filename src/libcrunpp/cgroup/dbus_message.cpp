// SPDX-License-Identifier: GPL-2.0-or-later
#include "dbus_message.hpp"

#include <cstring>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "crunpp/error.hpp"

namespace crunpp::cgroup::dbus {
namespace {

[[noreturn]] void bad(const std::string &why) { throw Error("malformed D-Bus message: " + why); }

// How many nested containers the specification allows (32 arrays and 32
// structs; dbus-daemon counts variants towards the same 64).
constexpr int kMaxDepth = 64;

size_t align_up(size_t pos, size_t a) { return (pos + a - 1) & ~(a - 1); }

size_t alignment(char code) {
    switch (code) {
    case 'y':
    case 'g':
    case 'v':
        return 1;
    case 'n':
    case 'q':
        return 2;
    case 'x':
    case 't':
    case 'd':
    case '(':
    case '{':
        return 8;
    default: // b i u h s o a
        return 4;
    }
}

bool is_basic(char code) { return code != '\0' && std::strchr("ybnqiuxtdsogh", code) != nullptr; }

// The index after the complete type starting at `i`.
size_t type_end(std::string_view s, size_t i, int arrays, int structs) {
    if (i >= s.size())
        bad("signature \"" + std::string(s) + "\" ends inside a type");
    const char c = s[i];
    if (is_basic(c) || c == 'v')
        return i + 1;
    if (c == 'a') {
        if (++arrays > 32)
            bad("signature \"" + std::string(s) + "\" nests arrays too deeply");
        if (i + 1 < s.size() && s[i + 1] == '{') {
            if (++structs > 32)
                bad("signature \"" + std::string(s) + "\" nests structs too deeply");
            if (i + 2 >= s.size() || !is_basic(s[i + 2]))
                bad("signature \"" + std::string(s) + "\" has a dict entry whose key is not a basic type");
            size_t k = type_end(s, i + 3, arrays, structs);
            if (k >= s.size() || s[k] != '}')
                bad("signature \"" + std::string(s) + "\" has a dict entry not of two types");
            return k + 1;
        }
        return type_end(s, i + 1, arrays, structs);
    }
    if (c == '(') {
        if (++structs > 32)
            bad("signature \"" + std::string(s) + "\" nests structs too deeply");
        size_t k = i + 1;
        if (k < s.size() && s[k] == ')')
            bad("signature \"" + std::string(s) + "\" has an empty struct");
        while (k < s.size() && s[k] != ')')
            k = type_end(s, k, arrays, structs);
        if (k >= s.size())
            bad("signature \"" + std::string(s) + "\" has a struct not closed");
        return k + 1;
    }
    bad("signature \"" + std::string(s) + "\" has an unexpected '" + std::string(1, c) + "'");
}

void check_object_path(std::string_view p) {
    bool ok = !p.empty() && p[0] == '/' && (p.size() == 1 || p.back() != '/');
    for (size_t i = 1; ok && i < p.size(); i++) {
        const char c = p[i];
        if (c == '/')
            ok = p[i - 1] != '/';
        else
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
    if (!ok)
        bad("\"" + std::string(p) + "\" is not an object path");
}

// Validates and skips one value of the complete type `t`.
void walk(Reader::Cursor &c, std::string_view t, int depth) {
    if (depth > kMaxDepth)
        bad("values nested too deeply");
    switch (t[0]) {
    case 'y':
        c.u8();
        return;
    case 'b':
        if (c.u32() > 1)
            bad("a boolean neither 0 nor 1");
        return;
    case 'n':
    case 'q':
        c.u16();
        return;
    case 'i':
    case 'u':
        c.u32();
        return;
    case 'h':
        bad("a unix fd (crunpp passes none)");
    case 'x':
    case 't':
    case 'd':
        c.u64();
        return;
    case 's':
        c.str();
        return;
    case 'o':
        check_object_path(c.str());
        return;
    case 'g':
        validate_signature(c.sig());
        return;
    case 'v': {
        std::string_view inner = c.sig();
        validate_signature(inner, true);
        walk(c, inner, depth + 1);
        return;
    }
    case 'a': {
        const uint32_t len = c.u32();
        if (len > kMaxArray)
            bad("an array of " + std::to_string(len) + " bytes");
        std::string_view element = t.substr(1);
        c.align(alignment(element[0]));
        c.need(len);
        const size_t end = c.pos + len;
        // Every element takes at least one byte: the loop ends.
        while (c.pos < end)
            walk(c, element, depth + 1);
        if (c.pos != end)
            bad("an array's elements overrun its length");
        return;
    }
    default: { // ( or {
        c.align(8);
        size_t k = 1;
        while (t[k] != ')' && t[k] != '}') {
            const size_t e = type_end(t, k, 0, 0);
            walk(c, t.substr(k, e - k), depth + 1);
            k = e;
        }
        return;
    }
    }
}

std::string read_string(Reader::Cursor &c) { return std::string(c.str()); }

// The array's data (after its length and the padding to its elements);
// returns where it ends.
size_t open_array(Reader::Cursor &c, size_t element_align) {
    const uint32_t len = c.u32();
    if (len > kMaxArray)
        bad("an array of " + std::to_string(len) + " bytes");
    c.align(element_align);
    c.need(len);
    return c.pos + len;
}

void close_array(const Reader::Cursor &c, size_t end) {
    if (c.pos != end)
        bad("an array's elements overrun its length");
}

Value read_variant(Reader::Cursor &c) {
    std::string_view sig = c.sig();
    validate_signature(sig, true);
    if (sig.size() == 1) {
        switch (sig[0]) {
        case 'b': {
            const uint32_t v = c.u32();
            if (v > 1)
                bad("a boolean neither 0 nor 1");
            return v == 1;
        }
        case 't':
            return c.u64();
        case 'x':
            return static_cast<int64_t>(c.u64());
        case 'u':
            return c.u32();
        case 'i':
            return static_cast<int32_t>(c.u32());
        case 'q':
            return c.u16();
        case 'n':
            return static_cast<int16_t>(c.u16());
        case 'y':
            return c.u8();
        case 'd': {
            const uint64_t bits = c.u64();
            double d;
            std::memcpy(&d, &bits, sizeof d);
            return d;
        }
        case 's':
            return read_string(c);
        default:
            break;
        }
    } else if (sig == "ay") {
        const size_t end = open_array(c, 1);
        std::vector<uint8_t> v(c.data.begin() + static_cast<std::ptrdiff_t>(c.pos),
                               c.data.begin() + static_cast<std::ptrdiff_t>(end));
        c.pos = end;
        return v;
    } else if (sig == "au") {
        const size_t end = open_array(c, 4);
        std::vector<uint32_t> v;
        while (c.pos < end)
            v.push_back(c.u32());
        close_array(c, end);
        return v;
    } else if (sig == "as") {
        const size_t end = open_array(c, 4);
        std::vector<std::string> v;
        while (c.pos < end)
            v.push_back(read_string(c));
        close_array(c, end);
        return v;
    } else if (sig == "a(ss)") {
        const size_t end = open_array(c, 8);
        std::vector<systemd::DeviceAllow> v;
        while (c.pos < end) {
            c.align(8);
            systemd::DeviceAllow d;
            d.path = read_string(c);
            d.access = read_string(c);
            v.push_back(std::move(d));
        }
        close_array(c, end);
        return v;
    }
    bad("a variant of type \"" + std::string(sig) + "\", which crunpp does not read");
}

} // namespace

// ---- Writer ----

void Writer::align(size_t a) { buf_.resize(align_up(buf_.size(), a), '\0'); }

void Writer::q(uint16_t v) {
    align(2);
    const uint8_t b[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
    put(b, 2);
}

void Writer::u(uint32_t v) {
    align(4);
    uint8_t b[4];
    for (int k = 0; k < 4; k++)
        b[k] = static_cast<uint8_t>(v >> (8 * k));
    put(b, 4);
}

void Writer::t(uint64_t v) {
    align(8);
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = static_cast<uint8_t>(v >> (8 * k));
    put(b, 8);
}

void Writer::d(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    t(bits);
}

void Writer::s(std::string_view v) {
    if (v.find('\0') != std::string_view::npos)
        throw Error("D-Bus: a string with a NUL byte cannot be sent");
    if (v.size() > kMaxArray)
        throw Error("D-Bus: a string of " + std::to_string(v.size()) + " bytes is too long to send");
    u(static_cast<uint32_t>(v.size()));
    put(v.data(), v.size());
    y(0);
}

void Writer::o(std::string_view v) {
    check_object_path(v);
    s(v);
}

void Writer::g(std::string_view v) {
    if (v.size() > 255)
        throw Error("D-Bus: signature \"" + std::string(v) + "\" is too long");
    y(static_cast<uint8_t>(v.size()));
    put(v.data(), v.size());
    y(0);
}

size_t Writer::open_array(size_t element_align) {
    u(0); // the length, filled in by close_array
    const size_t mark = buf_.size() - 4;
    align(element_align);
    // The length excludes the padding before the first element: remember
    // where the elements start, in the placeholder itself.
    const uint32_t start = static_cast<uint32_t>(buf_.size() - mark);
    std::memcpy(&buf_[mark], &start, 4);
    return mark;
}

void Writer::close_array(size_t mark) {
    uint32_t start;
    std::memcpy(&start, &buf_[mark], 4);
    const size_t len = buf_.size() - mark - start;
    if (len > kMaxArray)
        throw Error("D-Bus: an array of " + std::to_string(len) + " bytes is too long to send");
    for (int k = 0; k < 4; k++)
        buf_[mark + static_cast<size_t>(k)] = static_cast<char>(static_cast<uint8_t>(len >> (8 * k)));
}

std::string signature_of(const Value &v) {
    static const char *const sigs[] = {"b", "t", "x", "u", "i", "q", "n", "y", "d", "s", "ay", "au", "as", "a(ss)"};
    static_assert(std::variant_size_v<Value> == std::size(sigs));
    return sigs[v.index()];
}

void write_variant(Writer &w, const Value &v) {
    w.g(signature_of(v));
    std::visit(
        [&](const auto &x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, bool>)
                w.b(x);
            else if constexpr (std::is_same_v<T, uint64_t>)
                w.t(x);
            else if constexpr (std::is_same_v<T, int64_t>)
                w.x(x);
            else if constexpr (std::is_same_v<T, uint32_t>)
                w.u(x);
            else if constexpr (std::is_same_v<T, int32_t>)
                w.i(x);
            else if constexpr (std::is_same_v<T, uint16_t>)
                w.q(x);
            else if constexpr (std::is_same_v<T, int16_t>)
                w.n(x);
            else if constexpr (std::is_same_v<T, uint8_t>)
                w.y(x);
            else if constexpr (std::is_same_v<T, double>)
                w.d(x);
            else if constexpr (std::is_same_v<T, std::string>)
                w.s(x);
            else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
                const size_t a = w.open_array(1);
                for (uint8_t b : x)
                    w.y(b);
                w.close_array(a);
            } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
                const size_t a = w.open_array(4);
                for (uint32_t u : x)
                    w.u(u);
                w.close_array(a);
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                const size_t a = w.open_array(4);
                for (const std::string &s : x)
                    w.s(s);
                w.close_array(a);
            } else {
                static_assert(std::is_same_v<T, std::vector<systemd::DeviceAllow>>);
                const size_t a = w.open_array(8);
                for (const systemd::DeviceAllow &d : x) {
                    w.open_struct();
                    w.s(d.path);
                    w.s(d.access);
                }
                w.close_array(a);
            }
        },
        v);
}

void write_properties(Writer &w, const Properties &props) {
    const size_t a = w.open_array(8);
    for (const systemd::Property &p : props) {
        w.open_struct();
        w.s(p.name);
        write_variant(w, p.value);
    }
    w.close_array(a);
}

// ---- messages ----

std::string encode(const Message &m) {
    if (m.serial == 0)
        throw Error("D-Bus: a message needs a serial other than 0");
    validate_signature(m.signature);
    if ((m.signature.empty()) != (m.body.empty()))
        throw Error("D-Bus: a body and its signature go together");
    Writer h;
    h.y('l');
    h.y(static_cast<uint8_t>(m.type));
    h.y(m.flags);
    h.y(1); // protocol version
    if (m.body.size() > kMaxMessage)
        throw Error("D-Bus: a body of " + std::to_string(m.body.size()) + " bytes is too large to send");
    h.u(static_cast<uint32_t>(m.body.size()));
    h.u(m.serial);
    const size_t fields = h.open_array(8);
    auto field = [&](uint8_t code, char type, std::string_view value) {
        if (value.empty())
            return;
        h.open_struct();
        h.y(code);
        h.g(std::string_view(&type, 1));
        if (type == 'o')
            h.o(value);
        else if (type == 'g')
            h.g(value);
        else
            h.s(value);
    };
    field(1, 'o', m.path);
    field(2, 's', m.interface);
    field(3, 's', m.member);
    field(4, 's', m.error_name);
    if (m.reply_serial != 0) {
        h.open_struct();
        h.y(5);
        h.g("u");
        h.u(m.reply_serial);
    }
    field(6, 's', m.destination);
    field(7, 's', m.sender);
    field(8, 'g', m.signature);
    h.close_array(fields);
    h.align(8);
    std::string out = h.take();
    if (out.size() + m.body.size() > kMaxMessage)
        throw Error("D-Bus: a message of " + std::to_string(out.size() + m.body.size()) +
                    " bytes is too large to send");
    out += m.body;
    return out;
}

size_t wire_size(std::string_view head) {
    if (head.size() < kFixedHeader)
        bad("shorter than its fixed header");
    if (head[0] != 'l' && head[0] != 'B')
        bad("byte order '" + std::string(1, head[0]) + "'");
    if (head[3] != 1)
        bad("protocol version " + std::to_string(static_cast<uint8_t>(head[3])));
    Reader::Cursor c{head.substr(0, kFixedHeader), 4, head[0] == 'B'};
    const uint32_t body = c.u32();
    c.u32(); // serial
    const uint32_t fields = c.u32();
    if (fields > kMaxArray)
        bad("header fields of " + std::to_string(fields) + " bytes");
    const size_t total = align_up(kFixedHeader + fields, 8) + body;
    if (total > kMaxMessage)
        bad(std::to_string(total) + " bytes, more than the limit of " + std::to_string(kMaxMessage));
    return total;
}

Message decode(std::string_view wire) {
    const size_t total = wire_size(wire);
    if (total != wire.size())
        bad("its header says " + std::to_string(total) + " bytes, it has " + std::to_string(wire.size()));
    Message m;
    m.big_endian = wire[0] == 'B';
    const uint8_t type = static_cast<uint8_t>(wire[1]);
    if (type == 0)
        bad("message type 0");
    m.type = static_cast<Type>(type);
    m.flags = static_cast<uint8_t>(wire[2]);
    Reader::Cursor c{wire, 4, m.big_endian};
    const uint32_t body_len = c.u32();
    m.serial = c.u32();
    if (m.serial == 0)
        bad("serial 0");
    const size_t end = kFixedHeader + c.u32();
    c.pos = kFixedHeader;
    // The fields' types: PATH o, INTERFACE s, MEMBER s, ERROR_NAME s,
    // REPLY_SERIAL u, DESTINATION s, SENDER s, SIGNATURE g, UNIX_FDS u.
    static const char *const kFieldType[] = {"", "o", "s", "s", "s", "u", "s", "s", "g", "u"};
    unsigned seen = 0;
    uint32_t fds = 0;
    while (c.pos < end) {
        c.align(8);
        if (c.pos >= end)
            bad("header field padding past the fields");
        const uint8_t code = c.u8();
        std::string_view sig = c.sig();
        validate_signature(sig, true);
        if (code == 0 || code > 9) { // unknown: ignored, as the specification says
            walk(c, sig, 1);
            continue;
        }
        if (seen & (1u << code))
            bad("header field " + std::to_string(code) + " twice");
        seen |= 1u << code;
        if (sig != kFieldType[code])
            bad("header field " + std::to_string(code) + " of type \"" + std::string(sig) + "\"");
        switch (code) {
        case 1:
            m.path = read_string(c);
            check_object_path(m.path);
            break;
        case 2:
            m.interface = read_string(c);
            break;
        case 3:
            m.member = read_string(c);
            break;
        case 4:
            m.error_name = read_string(c);
            break;
        case 5:
            m.reply_serial = c.u32();
            if (m.reply_serial == 0)
                bad("reply serial 0");
            break;
        case 6:
            m.destination = read_string(c);
            break;
        case 7:
            m.sender = read_string(c);
            break;
        case 8:
            m.signature = std::string(c.sig());
            validate_signature(m.signature);
            break;
        default:
            fds = c.u32();
            break;
        }
    }
    if (c.pos != end)
        bad("header fields overrun their length");
    c.align(8);
    if (fds != 0)
        bad("unix fds (crunpp accepts none)");
    auto require = [&](unsigned code, const char *name) {
        if (!(seen & (1u << code)))
            bad("no " + std::string(name) + " header field");
    };
    switch (m.type) {
    case Type::kMethodCall:
        require(1, "PATH");
        require(3, "MEMBER");
        break;
    case Type::kMethodReturn:
        require(5, "REPLY_SERIAL");
        break;
    case Type::kError:
        require(4, "ERROR_NAME");
        require(5, "REPLY_SERIAL");
        break;
    case Type::kSignal:
        require(1, "PATH");
        require(2, "INTERFACE");
        require(3, "MEMBER");
        break;
    default: // unknown types are ignored by the caller
        break;
    }
    if (body_len != 0 && m.signature.empty())
        bad("a body without a signature");
    m.body = std::string(wire.substr(c.pos));
    Reader r(m);
    while (!r.at_end())
        r.skip();
    r.end();
    return m;
}

// ---- Reader ----

void Reader::Cursor::need(size_t n) const {
    if (n > data.size() - pos)
        bad("truncated");
}

void Reader::Cursor::align(size_t a) {
    const size_t to = align_up(pos, a);
    need(to - pos);
    for (; pos < to; pos++)
        if (data[pos] != '\0')
            bad("nonzero alignment padding");
}

uint8_t Reader::Cursor::u8() {
    need(1);
    return static_cast<uint8_t>(data[pos++]);
}

uint16_t Reader::Cursor::u16() {
    align(2);
    need(2);
    const auto *p = reinterpret_cast<const uint8_t *>(data.data() + pos);
    pos += 2;
    return big ? static_cast<uint16_t>(p[0] << 8 | p[1]) : static_cast<uint16_t>(p[1] << 8 | p[0]);
}

uint32_t Reader::Cursor::u32() {
    align(4);
    need(4);
    const auto *p = reinterpret_cast<const uint8_t *>(data.data() + pos);
    pos += 4;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v |= static_cast<uint32_t>(p[big ? k : 3 - k]) << (8 * (3 - k));
    return v;
}

uint64_t Reader::Cursor::u64() {
    align(8);
    need(8);
    const auto *p = reinterpret_cast<const uint8_t *>(data.data() + pos);
    pos += 8;
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v |= static_cast<uint64_t>(p[big ? k : 7 - k]) << (8 * (7 - k));
    return v;
}

std::string_view Reader::Cursor::str() {
    const uint32_t len = u32();
    need(size_t{len} + 1);
    std::string_view s = data.substr(pos, len);
    if (data[pos + len] != '\0')
        bad("a string not terminated by NUL");
    if (s.find('\0') != std::string_view::npos)
        bad("a string with a NUL inside");
    pos += size_t{len} + 1;
    return s;
}

std::string_view Reader::Cursor::sig() {
    const uint8_t len = u8();
    need(size_t{len} + 1);
    std::string_view s = data.substr(pos, len);
    if (data[pos + len] != '\0')
        bad("a signature not terminated by NUL");
    pos += size_t{len} + 1;
    return s;
}

Reader::Reader(const Message &m) : Reader(m.body, m.signature, m.big_endian) {}

Reader::Reader(std::string_view data, std::string_view signature, bool big_endian)
    : c_{data, 0, big_endian}, sig_(signature) {}

void Reader::next(char want) {
    if (si_ >= sig_.size() || sig_[si_] != want)
        throw Error("D-Bus: expected a value of type '" + std::string(1, want) + "' at " + std::to_string(si_) +
                    " in the signature \"" + sig_ + "\"");
    si_++;
}

std::string Reader::s() {
    next('s');
    return read_string(c_);
}

std::string Reader::o() {
    next('o');
    std::string p = read_string(c_);
    check_object_path(p);
    return p;
}

uint32_t Reader::u() {
    next('u');
    return c_.u32();
}

Value Reader::v() {
    next('v');
    return read_variant(c_);
}

Properties Reader::properties() {
    if (sig_.compare(si_, 5, "a(sv)") != 0)
        throw Error("D-Bus: expected a(sv) at " + std::to_string(si_) + " in the signature \"" + sig_ + "\"");
    si_ += 5;
    const size_t end = open_array(c_, 8);
    Properties out;
    while (c_.pos < end) {
        c_.align(8);
        systemd::Property p;
        p.name = read_string(c_);
        p.value = read_variant(c_);
        out.push_back(std::move(p));
    }
    close_array(c_, end);
    return out;
}

void Reader::skip() {
    const size_t e = type_end(sig_, si_, 0, 0);
    walk(c_, std::string_view(sig_).substr(si_, e - si_), 1);
    si_ = e;
}

void Reader::end() const {
    if (si_ != sig_.size())
        throw Error("D-Bus: values of the signature \"" + sig_ + "\" left unread");
    if (c_.pos != c_.data.size())
        bad(std::to_string(c_.data.size() - c_.pos) + " bytes after the values of its signature \"" + sig_ + "\"");
}

void validate_signature(std::string_view sig, bool single) {
    if (sig.size() > 255)
        bad("a signature longer than 255");
    if (single && sig.empty())
        bad("an empty variant signature");
    size_t i = 0;
    while (i < sig.size()) {
        i = type_end(sig, i, 0, 0);
        if (single && i != sig.size())
            bad("variant signature \"" + std::string(sig) + "\" of more than one type");
    }
}

} // namespace crunpp::cgroup::dbus
