// SPDX-License-Identifier: GPL-2.0-or-later
#include "systemd_unit.hpp"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <optional>
#include <type_traits>

#include "crunpp/error.hpp"

namespace crunpp::cgroup::systemd {
namespace {

constexpr const char *kPathKey = "config.json: .linux.cgroupsPath";

bool ends_with(const std::string &s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// systemd's unit name alphabet (unit_name_is_valid): ASCII letters, digits,
// ":-_.\" and nothing else; at most 255 bytes.
void check_unit_chars(const std::string &what, const std::string &s, const std::string &path) {
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '\\' || c == '@'))
            throw ConfigError(kPathKey, "\"" + path + "\": " + what + " \"" + s + "\" has a character systemd unit names cannot have ('" +
                                            std::string(1, c) + "')");
}

std::optional<int64_t> to_int(const std::string &s) {
    if (s.empty())
        return std::nullopt;
    errno = 0;
    char *end = nullptr;
    long long v = strtoll(s.c_str(), &end, 0);
    if (errno != 0 || *end != '\0')
        return std::nullopt;
    return v;
}

} // namespace

std::string expand_slice(const std::string &slice) {
    constexpr std::string_view kSuffix = ".slice";
    if (slice.size() <= kSuffix.size() || !ends_with(slice, kSuffix) || slice.find('/') != std::string::npos)
        throw Error("invalid slice name \"" + slice + "\"");
    std::string base = slice.substr(0, slice.size() - kSuffix.size());
    if (base == "-")
        return "/";
    std::string path, prefix;
    size_t pos = 0;
    for (;;) {
        size_t dash = base.find('-', pos);
        std::string component = base.substr(pos, dash == std::string::npos ? std::string::npos : dash - pos);
        // "a--b.slice" and "-a.slice" name no slice.
        if (component.empty())
            throw Error("invalid slice name \"" + slice + "\"");
        path += "/" + prefix + component + std::string(kSuffix);
        prefix += component + "-";
        if (dash == std::string::npos)
            break;
        pos = dash + 1;
    }
    return path;
}

Unit unit_for(const std::string &cgroups_path, const std::string &id, bool user_manager) {
    SystemdPath sp{"", "crunpp", id};
    if (!cgroups_path.empty()) {
        try {
            sp = parse_systemd_path(cgroups_path);
        } catch (const Error &e) {
            throw ConfigError(kPathKey, e.what());
        }
    }
    Unit u;
    u.slice = sp.slice.empty() ? (user_manager ? "user.slice" : "system.slice") : sp.slice;
    try {
        expand_slice(u.slice);
    } catch (const Error &e) {
        throw ConfigError(kPathKey, "\"" + cgroups_path + "\": " + e.what());
    }
    check_unit_chars("slice", u.slice, cgroups_path);
    check_unit_chars("prefix", sp.prefix, cgroups_path);
    check_unit_chars("name", sp.name, cgroups_path);
    // runc: a name ending in ".slice" asks for a slice, else a scope.
    if (ends_with(sp.name, ".slice")) {
        u.name = sp.name;
        u.is_slice = true;
        try {
            expand_slice(u.name);
        } catch (const Error &e) {
            throw ConfigError(kPathKey, "\"" + cgroups_path + "\": " + e.what());
        }
    } else {
        u.name = sp.prefix + "-" + sp.name + ".scope";
    }
    if (u.name.size() > 255)
        throw ConfigError(kPathKey, "\"" + cgroups_path + "\": the unit name \"" + u.name + "\" is longer than 255 bytes");
    return u;
}

uint64_t quota_per_sec(int64_t quota, uint64_t period) {
    if (quota <= 0)
        return kInfinity;
    if (period == 0)
        period = 100000;
    uint64_t v = static_cast<uint64_t>(quota) * 1000000 / period;
    if (v % 10000 != 0)
        v = (v / 10000 + 1) * 10000;
    return v;
}

std::vector<uint8_t> cpuset_mask(const std::string &list, const std::string &json_path) {
    std::vector<uint8_t> mask;
    auto bad = [&](const std::string &why) -> Error {
        return ConfigError(json_path, "\"" + list + "\": " + why);
    };
    std::string trimmed = detail::trim(list);
    if (trimmed.empty())
        return {0};
    for (const std::string &range : util::split(trimmed, ',')) {
        std::string r = detail::trim(range);
        size_t dash = r.find('-');
        std::optional<int64_t> lo = to_int(r.substr(0, dash));
        std::optional<int64_t> hi = dash == std::string::npos ? lo : to_int(r.substr(dash + 1));
        if (!lo || !hi || *lo < 0 || *hi < *lo)
            throw bad("not a list of numbers and ranges (\"0-2,7\")");
        if (*hi >= 8192)
            throw bad("CPU or node " + std::to_string(*hi) + " is out of range");
        for (int64_t i = *lo; i <= *hi; i++) {
            size_t byte = static_cast<size_t>(i / 8);
            if (mask.size() <= byte)
                mask.resize(byte + 1, 0);
            mask[byte] = static_cast<uint8_t>(mask[byte] | (1u << (i % 8)));
        }
    }
    return mask;
}

Properties resource_properties(const spec::Resources &r, bool v2) {
    Properties p;
    if (r.memory) {
        const spec::Memory &m = *r.memory;
        auto bytes = [](int64_t v) { return v < 0 ? kInfinity : static_cast<uint64_t>(v); };
        if (m.limit && *m.limit != 0)
            p.push_back({v2 ? "MemoryMax" : "MemoryLimit", bytes(*m.limit)});
        if (v2 && m.reservation && *m.reservation != 0)
            p.push_back({"MemoryLow", bytes(*m.reservation)});
        // runc's conversion of memory+swap to swap alone; what it refuses
        // is left to the file writer, which says why.
        if (v2) {
            int64_t limit = m.limit.value_or(0);
            int64_t swap = m.swap.value_or(0);
            if ((limit == -1 && swap == 0) || swap == -1)
                p.push_back({"MemorySwapMax", kInfinity});
            else if (swap > 0 && limit > 0 && swap >= limit)
                p.push_back({"MemorySwapMax", static_cast<uint64_t>(swap - limit)});
        }
    }
    if (r.cpu) {
        const spec::Cpu &c = *r.cpu;
        if (c.shares && *c.shares != 0) {
            if (v2)
                p.push_back({"CPUWeight", shares_to_weight(*c.shares)});
            else
                p.push_back({"CPUShares", *c.shares});
        }
        uint64_t period = c.period.value_or(0);
        int64_t quota = c.quota.value_or(0);
        if (period != 0)
            p.push_back({"CPUQuotaPeriodUSec", period});
        if (quota != 0 || period != 0)
            p.push_back({"CPUQuotaPerSecUSec", quota_per_sec(quota, period)});
        if (v2 && c.cpus && !c.cpus->empty())
            p.push_back({"AllowedCPUs", cpuset_mask(*c.cpus, "linux.resources.cpu.cpus")});
        if (v2 && c.mems && !c.mems->empty())
            p.push_back({"AllowedMemoryNodes", cpuset_mask(*c.mems, "linux.resources.cpu.mems")});
    }
    if (r.pids && (r.pids->limit > 0 || r.pids->limit == -1))
        p.push_back({"TasksMax", r.pids->limit > 0 ? static_cast<uint64_t>(r.pids->limit) : kInfinity});
    if (!v2 && r.blockIO && r.blockIO->weight && *r.blockIO->weight != 0)
        p.push_back({"BlockIOWeight", static_cast<uint64_t>(*r.blockIO->weight)});
    return p;
}

namespace {

// "char-pts" for a whole major: systemd takes a /proc/devices name.
std::optional<std::string> major_name(char type, int64_t major, const std::string &proc_devices) {
    bool in_section = false;
    for (const std::string &line : util::split(proc_devices, '\n')) {
        if (line == "Character devices:") {
            in_section = type == 'c';
            continue;
        }
        if (line == "Block devices:") {
            in_section = type == 'b';
            continue;
        }
        if (!in_section)
            continue;
        std::string t = detail::trim(line);
        size_t sp = t.find(' ');
        if (sp == std::string::npos)
            continue;
        if (to_int(t.substr(0, sp)) == major)
            return std::string(type == 'c' ? "char-" : "block-") + detail::trim(t.substr(sp + 1));
    }
    return std::nullopt;
}

} // namespace

Properties device_properties(const std::vector<detail::DeviceRule> &rules, const std::string &proc_devices,
                             const std::function<bool(char type, int64_t major, int64_t minor)> &present) {
    bool allow_all = false;
    std::vector<DeviceAllow> allowed;
    for (const detail::DeviceRule &r : rules) {
        bool everything = r.type == 'a' && r.major < 0 && r.minor < 0;
        if (everything) {
            // Deny or allow of everything starts the list over.
            allow_all = r.allow;
            allowed.clear();
            continue;
        }
        std::optional<std::string> path;
        std::vector<char> types = r.type == 'a' ? std::vector<char>{'c', 'b'} : std::vector<char>{r.type};
        for (char t : types) {
            if (r.major < 0)
                path = std::string(t == 'c' ? "char-*" : "block-*");
            else if (r.minor < 0)
                path = major_name(t, r.major, proc_devices);
            else if (present(t, r.major, r.minor))
                path = std::string(t == 'c' ? "/dev/char/" : "/dev/block/") + std::to_string(r.major) + ":" +
                       std::to_string(r.minor);
            else
                path.reset();
            if (!path)
                continue; // a major the host does not have: nothing to allow
            DeviceAllow d{*path, r.access};
            if (allow_all) // a deny-list: crunpp's own program enforces the denials
                continue;
            if (r.allow) {
                std::erase(allowed, d);
                allowed.push_back(d);
                continue;
            }
            // A later denial takes its accesses from what the same device
            // was allowed (runc's list has what is left, as crunpp's own
            // program); an entry with none left goes.
            for (DeviceAllow &a : allowed)
                if (a.path == d.path)
                    std::erase_if(a.access, [&](char c) { return d.access.find(c) != std::string::npos; });
            std::erase_if(allowed, [](const DeviceAllow &a) { return a.access.empty(); });
        }
    }
    if (allow_all)
        return {{"DevicePolicy", std::string("auto")}, {"DeviceAllow", std::vector<DeviceAllow>{}}};
    return {{"DevicePolicy", std::string("strict")}, {"DeviceAllow", allowed}};
}

namespace {

std::optional<std::string> parse_quoted(const std::string &s) {
    if (s.size() < 2 || (s.front() != '\'' && s.front() != '"') || s.back() != s.front())
        return std::nullopt;
    std::string out;
    for (size_t i = 1; i + 1 < s.size(); i++) {
        char c = s[i];
        if (c == '\\' && i + 2 < s.size()) {
            c = s[++i];
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
        } else if (c == s.front()) {
            return std::nullopt;
        }
        out += c;
    }
    return out;
}

template <typename T> Value checked_int(const std::string &digits, const std::string &json_path) {
    errno = 0;
    char *end = nullptr;
    bool is_unsigned = std::is_unsigned_v<T>;
    if (is_unsigned && !digits.empty() && digits[0] == '-')
        throw ConfigError(json_path, "\"" + digits + "\" is negative for an unsigned type");
    if (is_unsigned) {
        unsigned long long v = strtoull(digits.c_str(), &end, 0);
        if (digits.empty() || errno != 0 || *end != '\0' || v > std::numeric_limits<T>::max())
            throw ConfigError(json_path, "\"" + digits + "\" is not a number of the type given");
        return static_cast<T>(v);
    }
    long long v = strtoll(digits.c_str(), &end, 0);
    if (digits.empty() || errno != 0 || *end != '\0' || v > static_cast<long long>(std::numeric_limits<T>::max()) ||
        v < static_cast<long long>(std::numeric_limits<T>::min()))
        throw ConfigError(json_path, "\"" + digits + "\" is not a number of the type given");
    return static_cast<T>(v);
}

} // namespace

Value parse_variant(const std::string &given, const std::string &json_path) {
    std::string text = detail::trim(given);
    if (text == "true")
        return true;
    if (text == "false")
        return false;
    if (std::optional<std::string> s = parse_quoted(text))
        return *s;
    // An array of strings: ['a', 'b'].
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        std::vector<std::string> out;
        std::string inner = detail::trim(text.substr(1, text.size() - 2));
        if (!inner.empty())
            for (const std::string &item : util::split(inner, ',')) {
                std::optional<std::string> s = parse_quoted(detail::trim(item));
                if (!s)
                    throw ConfigError(json_path, "\"" + given + "\": only arrays of quoted strings are understood");
                out.push_back(*s);
            }
        return out;
    }
    // A type given before the value: "uint64 5" or "@t 5".
    size_t sp = text.find(' ');
    if (sp != std::string::npos) {
        std::string type = text.substr(0, sp);
        std::string v = detail::trim(text.substr(sp + 1));
        if (type == "boolean" || type == "@b") {
            if (v == "true" || v == "false")
                return v == "true";
        } else if (type == "byte" || type == "@y") {
            return checked_int<uint8_t>(v, json_path);
        } else if (type == "int16" || type == "@n") {
            return checked_int<int16_t>(v, json_path);
        } else if (type == "uint16" || type == "@q") {
            return checked_int<uint16_t>(v, json_path);
        } else if (type == "int32" || type == "@i") {
            return checked_int<int32_t>(v, json_path);
        } else if (type == "uint32" || type == "@u") {
            return checked_int<uint32_t>(v, json_path);
        } else if (type == "int64" || type == "@x") {
            return checked_int<int64_t>(v, json_path);
        } else if (type == "uint64" || type == "@t") {
            return checked_int<uint64_t>(v, json_path);
        } else if (type == "double" || type == "@d") {
            char *end = nullptr;
            double d = strtod(v.c_str(), &end);
            if (!v.empty() && *end == '\0')
                return d;
        } else if (type == "string" || type == "@s") {
            if (std::optional<std::string> s = parse_quoted(v))
                return *s;
        }
        throw ConfigError(json_path, "\"" + given + "\": not a GVariant value (\"uint64 5\", \"true\", \"'text'\")");
    }
    // Bare numbers: int32 as GVariant types them, int64 when larger,
    // double with a point or an exponent.
    if (!text.empty() && (isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-')) {
        if (text.find_first_of(".eE") != std::string::npos && text.find("0x") == std::string::npos) {
            char *end = nullptr;
            double d = strtod(text.c_str(), &end);
            if (*end == '\0')
                return d;
        } else if (std::optional<int64_t> v = to_int(text)) {
            if (*v >= INT32_MIN && *v <= INT32_MAX)
                return static_cast<int32_t>(*v);
            return *v;
        }
    }
    throw ConfigError(json_path, "\"" + given + "\": not a GVariant value (\"uint64 5\", \"true\", \"'text'\")");
}

Properties annotation_properties(const std::map<std::string, std::string> &annotations) {
    constexpr std::string_view kPrefix = kSystemdPropertyAnnotationPrefix;
    Properties out;
    for (const auto &[key, text] : annotations) {
        if (key.compare(0, kPrefix.size(), kPrefix) != 0)
            continue;
        std::string json_path = "config.json: .annotations[\"" + key + "\"]";
        std::string name = key.substr(kPrefix.size());
        if (name.size() < 3)
            throw ConfigError(json_path, "the property name \"" + name + "\" is too short");
        for (char c : name)
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                throw ConfigError(json_path, "the property name \"" + name + "\" has a character that is not a letter");
        Value v = parse_variant(text, json_path);
        // runc: "FooSec" (a lowercase letter before "Sec") in seconds
        // becomes "FooUSec" in microseconds.
        if (ends_with(name, "Sec") && name.size() > 3 && name[name.size() - 4] >= 'a' && name[name.size() - 4] <= 'z') {
            name = name.substr(0, name.size() - 3) + "USec";
            uint64_t usec = 0;
            if (const double *d = std::get_if<double>(&v)) {
                if (*d < 0)
                    throw ConfigError(json_path, "\"" + text + "\": a negative number of seconds");
                // Rounded by hand: std::llround would make crunpp need libm.
                double rounded = *d * 1e6 + 0.5;
                if (!(rounded < 18446744073709551615.0))
                    throw ConfigError(json_path, "\"" + text + "\": too many seconds");
                usec = static_cast<uint64_t>(rounded);
            } else {
                int64_t secs = 0;
                bool ok = std::visit(
                    [&secs](const auto &x) {
                        using T = std::decay_t<decltype(x)>;
                        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                            secs = static_cast<int64_t>(x);
                            return true;
                        }
                        return false;
                    },
                    v);
                if (!ok || secs < 0)
                    throw ConfigError(json_path, "\"" + text + "\": a *Sec property takes a number of seconds");
                usec = static_cast<uint64_t>(secs) * 1000000;
            }
            v = usec;
        }
        out.push_back({name, std::move(v)});
    }
    return out;
}

} // namespace crunpp::cgroup::systemd
