// SPDX-License-Identifier: GPL-2.0-or-later
// A small JSON document model on top of yajl: parse (with size and depth
// limits, UTF-8 validated) and write. Numbers keep their source text so that
// integers are converted exactly (uint64 limits, negative values) by the
// typed model readers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crunpp::json {

enum class Type { Null, Bool, Number, String, Array, Object };

const char *type_name(Type t);

struct Value {
    // Declared here, defaulted in json.cpp: clang 14 with libstdc++ 12 cannot
    // instantiate the implicit ones while Value is still incomplete (the
    // fuzz build uses clang).
    Value();
    ~Value();
    Value(const Value &);
    Value(Value &&) noexcept;
    Value &operator=(const Value &);
    Value &operator=(Value &&) noexcept;

    Type type = Type::Null;
    bool boolean = false;
    std::string text; // String: the string; Number: the literal as written
    std::vector<Value> array;
    std::vector<std::pair<std::string, Value>> object; // in document order

    // Object member lookup (last duplicate wins, as most JSON readers do).
    const Value *find(std::string_view key) const;
};

struct ParseLimits {
    size_t max_bytes = 64u << 20; // 64 MiB
    unsigned max_depth = 256;
};

// Parses a whole document. Throws crunpp::Error("<what>: <why>") naming
// `what` (e.g. "config.json") and the byte offset of a syntax error.
Value parse(std::string_view text, std::string_view what, ParseLimits limits = {});

// The bytes of a regular file, bounded by limits.max_bytes; errors name `what`.
std::string read_file(const std::string &path, std::string_view what, ParseLimits limits = {});

// Reads a file (bounded by limits.max_bytes) and parses it.
Value parse_file(const std::string &path, std::string_view what, ParseLimits limits = {});

// Streaming writer over yajl_gen. Keys and values are written in call order.
class Writer {
public:
    explicit Writer(bool pretty = false);
    ~Writer();
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;

    Writer &begin_object();
    Writer &end_object();
    Writer &begin_array();
    Writer &end_array();
    Writer &key(std::string_view k);
    Writer &string(std::string_view s);
    Writer &integer(int64_t v);
    Writer &uinteger(uint64_t v);
    Writer &boolean(bool b);
    Writer &null();
    Writer &value(const Value &v); // a whole DOM subtree

    // The document so far (complete once every begin_* is closed).
    std::string_view str() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string to_string(const Value &v, bool pretty = false);

} // namespace crunpp::json
