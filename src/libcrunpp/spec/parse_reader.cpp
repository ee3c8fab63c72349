// SPDX-License-Identifier: GPL-2.0-or-later
#include "parse_reader.hpp"

#include "crunpp/error.hpp"

namespace crunpp::spec::detail {

std::optional<IntegerText> scan_integer(std::string_view s) {
    IntegerText n;
    size_t i = 0;
    if (i < s.size() && s[i] == '-') {
        n.negative = true;
        i++;
    }
    if (i == s.size())
        return std::nullopt;
    for (; i < s.size(); i++) {
        char c = s[i];
        if (c < '0' || c > '9')
            return std::nullopt; // '.', 'e', 'E': not an integer
        auto digit = static_cast<uint64_t>(c - '0');
        if (n.magnitude > (UINT64_MAX - digit) / 10)
            n.overflow = true;
        else
            n.magnitude = n.magnitude * 10 + digit;
    }
    return n;
}

namespace {

constexpr size_t kShownBytes = 64;

// Escapes control characters, quotes and backslashes of the first
// kShownBytes bytes of s.
std::string escape_head(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < s.size() && i < kShownBytes; i++) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            if (c == '"' || c == '\\')
                out += '\\';
            out += static_cast<char>(c);
        }
    }
    return out;
}

const char *ellipsis(std::string_view s) { return s.size() > kShownBytes ? "..." : ""; }

} // namespace

std::string bounded(std::string_view s) { return escape_head(s) + ellipsis(s); }

std::string quote(std::string_view s) {
    std::string out = "\"";
    out += escape_head(s);
    out += '"';
    out += ellipsis(s);
    return out;
}

json::Value *Node::find(std::string_view key) const {
    if (v_->type != json::Type::Object)
        return nullptr;
    // Last duplicate wins, as json::Value::find.
    for (auto it = v_->object.rbegin(); it != v_->object.rend(); ++it)
        if (it->first == key)
            return &it->second;
    return nullptr;
}

json::Value *Node::member_value(std::string_view key) const {
    json::Value *m = v_ ? find(key) : nullptr;
    return m && m->type != json::Type::Null ? m : nullptr;
}

std::string_view Node::origin() const {
    const Node *n = this;
    while (n->parent_)
        n = n->parent_;
    return n->key_;
}

namespace {
bool plain_key(std::string_view k) {
    if (k.empty())
        return false;
    for (char c : k)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}
} // namespace

std::string member_path(std::string_view key) {
    // Map keys such as "com.example.key" or "io.max" are bracketed so that
    // the path stays unambiguous.
    std::string out;
    if (plain_key(key)) {
        out += '.';
        out += key;
    } else {
        out += '[';
        out += quote(key);
        out += ']';
    }
    return out;
}

void Node::append_path(std::string &out) const {
    if (parent_)
        parent_->append_path(out);
    switch (kind_) {
    case Kind::Root: break;
    case Kind::Member: out += member_path(key_); break;
    case Kind::Index:
        out += '[';
        out += std::to_string(index_);
        out += ']';
        break;
    }
}

std::string Node::path() const {
    std::string out;
    append_path(out);
    return out;
}

void Node::fail(std::string_view problem) const {
    ConfigError e(path(), std::string(problem));
    e.wrap(origin());
    throw e;
}

void Node::fail_integer(std::string_view type, std::string_view range) const {
    fail(bounded(v_->text) + " is out of range for " + std::string(type) + " (" + std::string(range) + ")");
}

json::Value &Node::expect(json::Type t) const {
    if (!present())
        fail("missing required field");
    if (v_->type != t) {
        std::string want = t == json::Type::Number ? "integer" : json::type_name(t);
        fail("expected " + want + ", got " + json::type_name(v_->type));
    }
    return *v_;
}

std::string &Node::expect_string() const {
    std::string &s = expect(json::Type::String).text;
    if (s.find('\0') != std::string::npos)
        fail("must not contain a NUL byte");
    return s;
}

std::string Node::take_absolute_path() const {
    std::string s = take_string();
    if (s.empty() || s[0] != '/')
        fail("must be an absolute path");
    return s;
}

Node Node::required(std::string_view key) const & {
    Node m = member(key);
    if (!m.present())
        m.fail("missing required field");
    return m;
}

std::string Node::str(std::string_view key) const { return required(key).take_string(); }

std::optional<std::string> Node::opt_str(std::string_view key) const {
    Node m = member(key);
    if (!m.present())
        return std::nullopt;
    return m.take_string();
}

std::optional<bool> Node::opt_bool(std::string_view key) const {
    Node m = member(key);
    if (!m.present())
        return std::nullopt;
    return m.boolean();
}

std::vector<std::string> Node::strings(std::string_view key) const {
    std::vector<std::string> out;
    Node m = member(key);
    if (!m.present())
        return out;
    json::Value &arr = m.expect(json::Type::Array);
    out.reserve(arr.array.size());
    for (size_t i = 0; i < arr.array.size(); i++)
        out.push_back(m.at(i).take_string());
    return out;
}

std::map<std::string, std::string> Node::string_map(std::string_view key) const {
    std::map<std::string, std::string> out;
    Node m = member(key);
    if (!m.present())
        return out;
    m.each_member([&](const std::string &name, const Node &value) {
        if (name.empty())
            value.fail("key must not be empty");
        if (value.present())
            out.insert_or_assign(name, value.take_string());
    });
    return out;
}

} // namespace crunpp::spec::detail
