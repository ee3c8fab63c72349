// SPDX-License-Identifier: GPL-2.0-or-later
// yajl callbacks build a Value tree. The depth limit is enforced in the
// callbacks (yajl itself allows 128 levels only for generation), the size
// limit before parsing, so hostile input cannot exhaust the stack or memory.
#include "crunpp/json.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include <cerrno>
#include <cstring>

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"

namespace crunpp::json {

const char *type_name(Type t) {
    switch (t) {
    case Type::Null: return "null";
    case Type::Bool: return "boolean";
    case Type::Number: return "number";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
    }
    return "?";
}

Value::Value() = default;
Value::~Value() = default;
Value::Value(const Value &) = default;
Value::Value(Value &&) noexcept = default;
Value &Value::operator=(const Value &) = default;
Value &Value::operator=(Value &&) noexcept = default;

const Value *Value::find(std::string_view key) const {
    for (auto it = object.rbegin(); it != object.rend(); ++it)
        if (it->first == key)
            return &it->second;
    return nullptr;
}

namespace {

struct Builder {
    Value root;
    std::vector<Value *> stack; // open arrays/objects
    std::string pending_key;
    bool have_root = false;
    unsigned max_depth = 0;
    bool too_deep = false;

    Value *add(Value v) {
        if (stack.empty()) {
            root = std::move(v);
            have_root = true;
            return &root;
        }
        Value *top = stack.back();
        if (top->type == Type::Array) {
            top->array.push_back(std::move(v));
            return &top->array.back();
        }
        top->object.emplace_back(std::move(pending_key), std::move(v));
        pending_key.clear();
        return &top->object.back().second;
    }
    int open(Type t) {
        if (stack.size() >= max_depth) {
            too_deep = true;
            return 0;
        }
        Value v;
        v.type = t;
        stack.push_back(add(std::move(v)));
        return 1;
    }
};

Builder &B(void *ctx) { return *static_cast<Builder *>(ctx); }

int on_null(void *ctx) {
    B(ctx).add(Value{});
    return 1;
}
int on_bool(void *ctx, int b) {
    Value v;
    v.type = Type::Bool;
    v.boolean = b != 0;
    B(ctx).add(std::move(v));
    return 1;
}
int on_number(void *ctx, const char *s, size_t n) {
    Value v;
    v.type = Type::Number;
    v.text.assign(s, n);
    B(ctx).add(std::move(v));
    return 1;
}
int on_string(void *ctx, const unsigned char *s, size_t n) {
    Value v;
    v.type = Type::String;
    v.text.assign(reinterpret_cast<const char *>(s), n);
    B(ctx).add(std::move(v));
    return 1;
}
int on_start_map(void *ctx) { return B(ctx).open(Type::Object); }
int on_map_key(void *ctx, const unsigned char *s, size_t n) {
    B(ctx).pending_key.assign(reinterpret_cast<const char *>(s), n);
    return 1;
}
int on_end(void *ctx) {
    B(ctx).stack.pop_back();
    return 1;
}
int on_start_array(void *ctx) { return B(ctx).open(Type::Array); }

const yajl_callbacks kCallbacks = {
    on_null, on_bool, nullptr, nullptr, on_number, on_string, on_start_map, on_map_key, on_end, on_start_array, on_end,
};

struct YajlHandle {
    yajl_handle h;
    explicit YajlHandle(void *ctx) : h(yajl_alloc(&kCallbacks, nullptr, ctx)) {
        if (!h)
            throw std::bad_alloc();
    }
    ~YajlHandle() { yajl_free(h); }
};

// yajl's verbose error text spans lines; keep its first line only.
std::string yajl_message(yajl_handle h, std::string_view text) {
    unsigned char *msg = yajl_get_error(h, 0, reinterpret_cast<const unsigned char *>(text.data()), text.size());
    std::string s = msg ? reinterpret_cast<char *>(msg) : "parse error";
    if (msg)
        yajl_free_error(h, msg);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    if (auto nl = s.find('\n'); nl != std::string::npos)
        s.resize(nl);
    return s;
}

} // namespace

Value parse(std::string_view text, std::string_view what, ParseLimits limits) {
    std::string w(what);
    if (text.size() > limits.max_bytes)
        throw Error(w + ": too large (" + std::to_string(text.size()) + " bytes, limit " +
                    std::to_string(limits.max_bytes) + ")");
    Builder b;
    b.max_depth = limits.max_depth;
    YajlHandle y(&b);
    auto data = reinterpret_cast<const unsigned char *>(text.data());
    yajl_status st = yajl_parse(y.h, data, text.size());
    // An error found by yajl_complete_parse (a truncated document) is at the
    // end; yajl_get_bytes_consumed only counts the last call's bytes.
    bool at_end = false;
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(y.h);
        at_end = true;
    }
    if (b.too_deep)
        throw Error(w + ": nested deeper than " + std::to_string(limits.max_depth) + " levels");
    if (st != yajl_status_ok) {
        size_t off = at_end ? text.size() : yajl_get_bytes_consumed(y.h);
        throw Error(w + ": invalid JSON at byte " + std::to_string(off) + ": " + yajl_message(y.h, text));
    }
    if (!b.have_root)
        throw Error(w + ": empty document");
    return std::move(b.root);
}

std::string read_file(const std::string &path, std::string_view what, ParseLimits limits) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno(std::string(what) + ": open " + path);
    struct stat st;
    if (fstat(fd.get(), &st) < 0)
        throw_errno(std::string(what) + ": stat " + path);
    if (!S_ISREG(st.st_mode))
        throw Error(std::string(what) + ": " + path + " is not a regular file");
    if (static_cast<uint64_t>(st.st_size) > limits.max_bytes)
        throw Error(std::string(what) + ": too large (" + std::to_string(st.st_size) + " bytes, limit " +
                    std::to_string(limits.max_bytes) + ")");
    std::string buf;
    buf.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < buf.size()) {
        ssize_t r = ::read(fd.get(), buf.data() + got, buf.size() - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            throw_errno(std::string(what) + ": read " + path);
        if (r == 0)
            break;
        got += static_cast<size_t>(r);
    }
    buf.resize(got);
    return buf;
}

Value parse_file(const std::string &path, std::string_view what, ParseLimits limits) {
    return parse(read_file(path, what, limits), what, limits);
}

struct Writer::Impl {
    yajl_gen g = nullptr;
};

namespace {
void check(yajl_gen_status s) {
    if (s != yajl_gen_status_ok)
        throw Error("JSON generation failed (yajl status " + std::to_string(static_cast<int>(s)) + ")");
}
} // namespace

Writer::Writer(bool pretty) : impl_(std::make_unique<Impl>()) {
    impl_->g = yajl_gen_alloc(nullptr);
    if (!impl_->g)
        throw std::bad_alloc();
    if (pretty) {
        yajl_gen_config(impl_->g, yajl_gen_beautify, 1);
        yajl_gen_config(impl_->g, yajl_gen_indent_string, "\t");
    }
}

Writer::~Writer() { yajl_gen_free(impl_->g); }

Writer &Writer::begin_object() {
    check(yajl_gen_map_open(impl_->g));
    return *this;
}
Writer &Writer::end_object() {
    check(yajl_gen_map_close(impl_->g));
    return *this;
}
Writer &Writer::begin_array() {
    check(yajl_gen_array_open(impl_->g));
    return *this;
}
Writer &Writer::end_array() {
    check(yajl_gen_array_close(impl_->g));
    return *this;
}
Writer &Writer::key(std::string_view k) { return string(k); }
Writer &Writer::string(std::string_view s) {
    check(yajl_gen_string(impl_->g, reinterpret_cast<const unsigned char *>(s.data()), s.size()));
    return *this;
}
Writer &Writer::integer(int64_t v) {
    check(yajl_gen_integer(impl_->g, static_cast<long long>(v)));
    return *this;
}
Writer &Writer::uinteger(uint64_t v) {
    // yajl_gen_integer is signed; write large unsigned values as literals.
    std::string s = std::to_string(v);
    check(yajl_gen_number(impl_->g, s.data(), s.size()));
    return *this;
}
Writer &Writer::boolean(bool b) {
    check(yajl_gen_bool(impl_->g, b ? 1 : 0));
    return *this;
}
Writer &Writer::null() {
    check(yajl_gen_null(impl_->g));
    return *this;
}
Writer &Writer::value(const Value &v) {
    switch (v.type) {
    case Type::Null: return null();
    case Type::Bool: return boolean(v.boolean);
    case Type::Number: check(yajl_gen_number(impl_->g, v.text.data(), v.text.size())); return *this;
    case Type::String: return string(v.text);
    case Type::Array:
        begin_array();
        for (const auto &e : v.array)
            value(e);
        return end_array();
    case Type::Object:
        begin_object();
        for (const auto &[k, e] : v.object) {
            key(k);
            value(e);
        }
        return end_object();
    }
    return *this;
}

std::string_view Writer::str() const {
    const unsigned char *buf = nullptr;
    size_t len = 0;
    yajl_gen_get_buf(impl_->g, &buf, &len);
    return {reinterpret_cast<const char *>(buf), len};
}

std::string to_string(const Value &v, bool pretty) {
    Writer w(pretty);
    w.value(v);
    return std::string(w.str());
}

} // namespace crunpp::json
