// SPDX-License-Identifier: GPL-2.0-or-later
// The typed reader under the config parser: a JSON value together with where
// it sits in the document, so that every error names its JSON path
// (".linux.seccomp.syscalls[2].action"). The path text is only built when an
// error is thrown; reading a valid config costs no string work for it.
//
// JSON null is treated as an absent member everywhere: Go encoders (which
// write most configs) emit null for nil slices, maps and pointers.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "crunpp/json.hpp"

namespace crunpp::spec::detail {

// Integer conversion of a JSON number literal, exact (no double rounding).
struct IntegerText {
    bool negative = false;
    bool overflow = false; // magnitude does not fit in uint64
    uint64_t magnitude = 0;
};
// nullopt when the literal has a fraction or an exponent.
std::optional<IntegerText> scan_integer(std::string_view literal);

// A quoted, length-bounded, control-character-escaped copy of `s` for error
// messages: config text must not be able to flood or drive a terminal.
std::string quote(std::string_view s);
// The same without the quotes (for numbers).
std::string bounded(std::string_view s);
// The JSON path step of a member: ".key", or "[\"key\"]" when the key is
// not a plain identifier.
std::string member_path(std::string_view key);

class Node {
public:
    // The document root; `origin` ("config.json") prefixes every error.
    static Node root(json::Value &v, std::string_view origin) { return Node(&v, nullptr, origin, 0, Kind::Root); }

    // Children refer to their parent: only take them from an lvalue Node
    // that outlives them (a temporary parent would dangle).
    Node member(std::string_view key) const & { return Node(v_ ? find(key) : nullptr, this, key, 0, Kind::Member); }
    Node member(std::string_view key) const && = delete;
    Node at(size_t i) const & { return Node(&v_->array[i], this, {}, i, Kind::Index); }
    Node at(size_t i) const && = delete;

    // Present and not null.
    bool present() const { return v_ && v_->type != json::Type::Null; }
    bool has(std::string_view key) const { return member_value(key) != nullptr; }

    std::string path() const;
    [[noreturn]] void fail(std::string_view problem) const;

    // --- this node, which must be present ---
    json::Value &expect(json::Type t) const;
    // The string moved out of the document: read each string once.
    // Strings with a NUL byte are rejected: the kernel would cut them short.
    std::string take_string() const { return std::move(expect_string()); }
    std::string_view string_view() const { return expect_string(); }
    bool boolean() const { return expect(json::Type::Bool).boolean; }
    template <typename T> T integer() const;
    // Absolute path (starts with '/').
    std::string take_absolute_path() const;

    // --- members of this object; a missing required member is an error ---
    Node required(std::string_view key) const &;
    Node required(std::string_view key) const && = delete;
    std::string str(std::string_view key) const;
    std::optional<std::string> opt_str(std::string_view key) const;
    std::optional<bool> opt_bool(std::string_view key) const;
    bool flag(std::string_view key) const { return opt_bool(key).value_or(false); }
    template <typename T> T num(std::string_view key) const;
    template <typename T> std::optional<T> opt_num(std::string_view key) const;
    // Absent: empty vector.
    std::vector<std::string> strings(std::string_view key) const;
    template <typename T> std::vector<T> nums(std::string_view key) const;
    // Absent: empty map. Keys must not be empty.
    std::map<std::string, std::string> string_map(std::string_view key) const;

    // f(const Node &item) for each element of the array member `key` (if present).
    template <typename F> void each(std::string_view key, F &&f) const;
    // f(const std::string &name, const Node &value) for each member of this object.
    template <typename F> void each_member(F &&f) const;

private:
    enum class Kind { Root, Member, Index };
    Node(json::Value *v, const Node *parent, std::string_view key, size_t index, Kind kind)
        : v_(v), parent_(parent), key_(key), index_(index), kind_(kind) {}

    json::Value *find(std::string_view key) const;
    std::string &expect_string() const;
    json::Value *member_value(std::string_view key) const; // present members only
    void append_path(std::string &out) const;
    std::string_view origin() const;
    [[noreturn]] void fail_integer(std::string_view type, std::string_view range) const;

    json::Value *v_;
    const Node *parent_;
    std::string_view key_; // member name, or the origin at the root
    size_t index_;
    Kind kind_;
};

template <typename T> constexpr std::string_view int_type_name() {
    if constexpr (std::is_same_v<T, uint16_t>)
        return "uint16";
    else if constexpr (std::is_same_v<T, uint32_t>)
        return "uint32";
    else if constexpr (std::is_same_v<T, uint64_t>)
        return "uint64";
    else if constexpr (std::is_same_v<T, int32_t>)
        return "int32";
    else
        return "int64";
}

template <typename T> T Node::integer() const {
    static_assert(std::is_integral_v<T> && sizeof(T) >= 2 && !std::is_same_v<T, bool>);
    const json::Value &v = expect(json::Type::Number);
    std::optional<IntegerText> n = scan_integer(v.text);
    if (!n)
        fail("expected integer, got " + quote(v.text));
    constexpr uint64_t max = static_cast<uint64_t>(std::numeric_limits<T>::max());
    if constexpr (std::is_unsigned_v<T>) {
        if (!n->overflow && n->magnitude <= max && (!n->negative || n->magnitude == 0))
            return static_cast<T>(n->magnitude);
        fail_integer(int_type_name<T>(), "0.." + std::to_string(max));
    } else {
        if (!n->overflow && (n->negative ? n->magnitude <= max + 1 : n->magnitude <= max))
        {
            if (!n->negative || n->magnitude == 0)
                return static_cast<T>(n->magnitude);
            // -(m-1)-1 stays in range even for the minimum value.
            return static_cast<T>(-static_cast<T>(n->magnitude - 1) - 1);
        }
        fail_integer(int_type_name<T>(), std::to_string(std::numeric_limits<T>::min()) + ".." + std::to_string(max));
    }
}

template <typename T> T Node::num(std::string_view key) const { return required(key).template integer<T>(); }

template <typename T> std::optional<T> Node::opt_num(std::string_view key) const {
    Node m = member(key);
    if (!m.present())
        return std::nullopt;
    return m.template integer<T>();
}

template <typename T> std::vector<T> Node::nums(std::string_view key) const {
    std::vector<T> out;
    each(key, [&](const Node &item) { out.push_back(item.template integer<T>()); });
    return out;
}

template <typename F> void Node::each(std::string_view key, F &&f) const {
    Node m = member(key);
    if (!m.present())
        return;
    json::Value &arr = m.expect(json::Type::Array);
    for (size_t i = 0; i < arr.array.size(); i++) {
        Node item = m.at(i);
        f(item);
    }
}

template <typename F> void Node::each_member(F &&f) const {
    json::Value &obj = expect(json::Type::Object);
    for (auto &[name, value] : obj.object) {
        Node m(&value, this, name, 0, Kind::Member);
        f(name, m);
    }
}

} // namespace crunpp::spec::detail
