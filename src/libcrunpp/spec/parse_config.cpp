// SPDX-License-Identifier: GPL-2.0-or-later
// config.json into spec::Config: the top level (version, root, mounts,
// hooks, annotations) and the checks that span several parts.
#include "crunpp/json.hpp"
#include "parse_internal.hpp"

namespace crunpp::spec {
namespace detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// SemVer 2.0.0: MAJOR.MINOR.PATCH[-prerelease][+build].
bool valid_semver(std::string_view s) {
    size_t i = 0;
    for (int part = 0; part < 3; part++) {
        size_t start = i;
        while (i < s.size() && is_digit(s[i]))
            i++;
        if (i == start || (s[start] == '0' && i - start > 1))
            return false;
        if (part < 2) {
            if (i == s.size() || s[i] != '.')
                return false;
            i++;
        }
    }
    // Dot-separated non-empty identifiers of [0-9A-Za-z-].
    auto identifiers = [&](size_t from, size_t to) {
        if (from >= to)
            return false;
        char prev = '.';
        for (size_t j = from; j < to; j++) {
            char c = s[j];
            if (c == '.') {
                if (prev == '.')
                    return false;
            } else if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) {
                return false;
            }
            prev = c;
        }
        return prev != '.';
    };
    size_t plus = s.find('+', i);
    size_t end = plus == std::string_view::npos ? s.size() : plus;
    if (i < end && (s[i] != '-' || !identifiers(i + 1, end)))
        return false;
    return plus == std::string_view::npos || identifiers(plus + 1, s.size());
}

Root read_root(const Node &n) {
    n.expect(json::Type::Object);
    Root r;
    Node path = n.required("path");
    r.path = path.take_string();
    if (r.path.empty())
        path.fail("must not be empty");
    r.readonly = n.flag("readonly");
    return r;
}

Mount read_mount(const Node &n) {
    n.expect(json::Type::Object);
    Mount m;
    {
        Node dest = n.required("destination");
        m.destination = dest.take_string();
        if (m.destination.empty())
            dest.fail("must not be empty");
        // runtime-spec 1.1: a relative destination is deprecated but valid,
        // relative to "/" (runc and crun accept it too).
        if (m.destination[0] != '/')
            m.destination = "/" + m.destination;
    }
    m.type = n.opt_str("type");
    m.source = n.opt_str("source");
    m.options = n.strings("options");
    m.uidMappings = read_id_mappings(n, "uidMappings");
    m.gidMappings = read_id_mappings(n, "gidMappings");
    // An idmapped mount needs a whole user namespace: both maps.
    if (m.uidMappings.empty() != m.gidMappings.empty())
        n.fail("an idmapped mount needs both uidMappings and gidMappings");
    return m;
}

std::vector<Hook> read_hooks(const Node &hooks, std::string_view phase) {
    std::vector<Hook> out;
    hooks.each(phase, [&](const Node &item) {
        item.expect(json::Type::Object);
        Hook h;
        h.path = item.required("path").take_absolute_path();
        h.args = item.strings("args");
        if (item.has("env"))
            h.env = read_env(item, "env");
        h.timeout = item.opt_num<int32_t>("timeout");
        if (h.timeout && *h.timeout < 1)
            item.member("timeout").fail("must be at least 1 second");
        out.push_back(std::move(h));
    });
    return out;
}

Hooks read_all_hooks(const Node &n) {
    n.expect(json::Type::Object);
    Hooks h;
    h.prestart = read_hooks(n, "prestart");
    h.createRuntime = read_hooks(n, "createRuntime");
    h.createContainer = read_hooks(n, "createContainer");
    h.startContainer = read_hooks(n, "startContainer");
    h.poststart = read_hooks(n, "poststart");
    h.poststop = read_hooks(n, "poststop");
    return h;
}

Config read_config(const Node &n) {
    n.expect(json::Type::Object);
    Config c;
    Node version = n.required("ociVersion");
    c.ociVersion = version.take_string();
    if (!valid_semver(c.ociVersion))
        version.fail(quote(c.ociVersion) + " is not a SemVer 2.0.0 version");
    // Optional in the schema, but REQUIRED on every platform but Windows.
    c.root = read_root(n.required("root"));
    n.each("mounts", [&](const Node &item) { c.mounts.push_back(read_mount(item)); });
    if (Node p = n.member("process"); p.present())
        c.process = read_process(p);
    c.hostname = n.opt_str("hostname");
    c.domainname = n.opt_str("domainname");
    if (Node h = n.member("hooks"); h.present())
        c.hooks = read_all_hooks(h);
    c.annotations = n.string_map("annotations");
    if (Node l = n.member("linux"); l.present())
        c.linux = read_linux(l);

    // Setting a name in the runtime's own UTS namespace would rename the host.
    bool uts = c.linux && c.linux->find_namespace(NamespaceType::Uts);
    for (const char *key : {"hostname", "domainname"}) {
        const auto &name = key[0] == 'h' ? c.hostname : c.domainname;
        if (name && !name->empty() && !uts)
            n.member(key).fail("requires a UTS namespace in linux.namespaces");
    }
    // crun's rules: the host name has its own field, and a domain name set
    // twice must agree.
    if (c.linux) {
        Node linux = n.member("linux");
        Node sysctl = linux.member("sysctl");
        for (const auto &[key, value] : c.linux->sysctl) {
            if (key == "kernel.hostname" || key == "kernel/hostname")
                sysctl.member(key).fail("not allowed: the host name is set with .hostname");
            if ((key == "kernel.domainname" || key == "kernel/domainname") && c.domainname &&
                *c.domainname != value)
                sysctl.member(key).fail(quote(value) + " conflicts with .domainname " + quote(*c.domainname));
        }
    }
    return c;
}

} // namespace
} // namespace detail

Config parse_config(std::string_view text, std::string_view origin) {
    json::Value doc = json::parse(text, origin);
    return detail::read_config(detail::Node::root(doc, origin));
}

Config load_config(const std::string &path) {
    constexpr std::string_view origin = "config.json";
    json::Value doc = json::parse_file(path, origin);
    return detail::read_config(detail::Node::root(doc, origin));
}

Process parse_process(std::string_view text, std::string_view origin) {
    json::Value doc = json::parse(text, origin);
    return detail::read_process(detail::Node::root(doc, origin));
}

} // namespace crunpp::spec
