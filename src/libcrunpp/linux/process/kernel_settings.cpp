// SPDX-License-Identifier: GPL-2.0-or-later
// hostname, domainname and sysctl: kernel settings a container may change
// only for the namespaces it has of its own.
#include "process.hpp"
#include "../procfs.hpp"

#include "crunpp/error.hpp"

#include <unistd.h>

namespace crunpp::linux {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool has_namespace(const spec::Config &cfg, spec::NamespaceType t) {
    if (!cfg.linux)
        return false;
    for (const auto &ns : cfg.linux->namespaces)
        if (ns.type == t)
            return true;
    return false;
}

spec::NamespaceType namespace_type(SysctlNamespace ns) {
    switch (ns) {
    case SysctlNamespace::Ipc:
        return spec::NamespaceType::Ipc;
    case SysctlNamespace::Net:
        return spec::NamespaceType::Network;
    case SysctlNamespace::Uts:
        break;
    }
    return spec::NamespaceType::Uts;
}

const char *namespace_label(SysctlNamespace ns) {
    switch (ns) {
    case SysctlNamespace::Ipc:
        return "an ipc";
    case SysctlNamespace::Net:
        return "a network";
    case SysctlNamespace::Uts:
        break;
    }
    return "a uts";
}

// sysctl(8) syntax: with a '/' in the key, '/' separates and dots stay
// (interface names such as "eth0.100"); otherwise dots separate.
std::string canonical_key(std::string_view key) {
    std::string k(key);
    if (k.find('/') != std::string::npos) {
        for (char &c : k)
            c = c == '/' ? '.' : c == '.' ? '/' : c;
    }
    return k;
}

void set_hostname_like(const std::optional<std::string> &value, const spec::Config &cfg, const char *field,
                       int (*setter)(const char *, size_t)) {
    if (!value || value->empty())
        return;
    if (!has_namespace(cfg, spec::NamespaceType::Uts))
        throw Error(std::string("cannot set ") + field + " \"" + *value +
                    "\": the container has no uts namespace of its own (add {\"type\": \"uts\"} to .linux.namespaces)");
    if (setter(value->c_str(), value->size()) < 0)
        throw_errno(std::string("set ") + field + " \"" + *value + "\"");
}

} // namespace

std::optional<SysctlNamespace> sysctl_namespace(std::string_view raw_key) {
    std::string key = canonical_key(raw_key);
    if (key == "kernel.sem" || starts_with(key, "kernel.msg") || starts_with(key, "kernel.shm") ||
        starts_with(key, "fs.mqueue."))
        return SysctlNamespace::Ipc;
    if (starts_with(key, "net."))
        return SysctlNamespace::Net;
    if (key == "kernel.hostname" || key == "kernel.domainname")
        return SysctlNamespace::Uts;
    return std::nullopt;
}

std::string sysctl_proc_path(std::string_view raw_key) {
    std::string key = canonical_key(raw_key);
    std::string path = "sys";
    size_t start = 0;
    while (true) {
        size_t dot = key.find('.', start);
        // A '/' in a component is a dot kept by the sysctl(8) syntax.
        std::string part = key.substr(start, dot == std::string::npos ? dot : dot - start);
        for (char &c : part)
            c = c == '/' ? '.' : c;
        if (part.empty() || part == ".." || part == "." || part.find('\0') != std::string::npos)
            throw Error("sysctl \"" + std::string(raw_key) + "\": invalid key");
        path += '/';
        path += part;
        if (dot == std::string::npos)
            break;
        start = dot + 1;
    }
    return path;
}

void apply_kernel_settings(const spec::Config &cfg) {
    set_hostname_like(cfg.hostname, cfg, "hostname", sethostname);
    set_hostname_like(cfg.domainname, cfg, "domainname", setdomainname);
    if (!cfg.linux)
        return;
    for (const auto &[key, value] : cfg.linux->sysctl) {
        auto ns = sysctl_namespace(key);
        if (!ns)
            throw Error("sysctl \"" + key + "\" is not namespaced: a container cannot set it");
        if (!has_namespace(cfg, namespace_type(*ns)))
            throw Error("sysctl \"" + key + "\" needs " + namespace_label(*ns) +
                        " namespace of the container's own, and the config has none");
        std::string path = sysctl_proc_path(key);
        try {
            procfs::write_file(path, value);
        } catch (Error &e) {
            e.wrap("sysctl \"" + key + "\" = \"" + value + "\"");
            throw;
        }
    }
}

} // namespace crunpp::linux
