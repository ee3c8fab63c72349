// SPDX-License-Identifier: GPL-2.0-or-later
// state.json (everything later commands need) and the OCI state document.
#include <time.h>

#include <cerrno>
#include <charconv>
#include <limits>
#include <vector>

#include "crunpp/error.hpp"
#include "crunpp/json.hpp"
#include "crunpp/state.hpp"
#include "../util/passwd.hpp"

namespace crunpp::state {

const char *status_name(Status s) {
    switch (s) {
    case Status::Creating: return "creating";
    case Status::Created: return "created";
    case Status::Running: return "running";
    case Status::Stopped: return "stopped";
    case Status::Paused: return "paused";
    }
    return "unknown";
}

std::optional<Status> status_from_name(std::string_view s) {
    for (Status st : {Status::Creating, Status::Created, Status::Running, Status::Stopped, Status::Paused})
        if (s == status_name(st))
            return st;
    return std::nullopt;
}


std::string owner_name(uid_t uid) {
    std::string name = util::user_name(uid);
    if (!name.empty())
        return name;
    // Appended rather than "#" + to_string(): g++ 12 warns falsely (-Wrestrict) on that.
    std::string unknown = "#";
    unknown += std::to_string(uid);
    return unknown;
}

namespace {

void write_map(json::Writer &w, std::string_view key, const std::map<std::string, std::string> &m) {
    w.key(key).begin_object();
    for (const auto &[k, v] : m)
        w.key(k).string(v);
    w.end_object();
}

// Typed readers for from_json; errors name the field.
struct Reader {
    const json::Value &obj;
    std::string origin;

    [[noreturn]] void fail(std::string_view key, const std::string &problem) const {
        throw Error(origin + ": ." + std::string(key) + ": " + problem);
    }
    const json::Value *get(std::string_view key, json::Type type, bool required) const {
        const json::Value *v = obj.find(key);
        if (!v) {
            if (required)
                fail(key, "missing");
            return nullptr;
        }
        if (v->type != type)
            fail(key, std::string("expected ") + json::type_name(type) + ", got " + json::type_name(v->type));
        return v;
    }
    void string(std::string_view key, std::string &out, bool required = false) const {
        if (const json::Value *v = get(key, json::Type::String, required))
            out = v->text;
    }
    void boolean(std::string_view key, bool &out) const {
        if (const json::Value *v = get(key, json::Type::Bool, false))
            out = v->boolean;
    }
    uint64_t unsigned_int(std::string_view key, uint64_t max) const {
        const json::Value *v = get(key, json::Type::Number, false);
        if (!v)
            return 0;
        uint64_t n = 0;
        const char *b = v->text.data(), *e = b + v->text.size();
        auto [p, ec] = std::from_chars(b, e, n);
        if (ec != std::errc() || p != e || n > max)
            fail(key, "expected an integer from 0 to " + std::to_string(max) + ", got " + v->text);
        return n;
    }
    void string_map(std::string_view key, std::map<std::string, std::string> &out) const {
        const json::Value *v = get(key, json::Type::Object, false);
        if (!v)
            return;
        for (const auto &[k, e] : v->object) {
            if (e.type != json::Type::String)
                fail(std::string(key) + "." + k, std::string("expected string, got ") + json::type_name(e.type));
            out[k] = e.text;
        }
    }
};

} // namespace

std::string to_json(const ContainerState &s) {
    json::Writer w;
    w.begin_object();
    w.key("ociVersion").string(s.ociVersion);
    w.key("id").string(s.id);
    w.key("status").string(status_name(s.status));
    w.key("pid").integer(s.pid);
    w.key("pidStartTime").uinteger(s.pid_start_time);
    w.key("bundle").string(s.bundle);
    w.key("rootfs").string(s.rootfs);
    w.key("created").string(s.created);
    w.key("owner").uinteger(s.owner);
    w.key("rootless").boolean(s.rootless);
    w.key("systemdCgroup").boolean(s.systemd_cgroup);
    w.key("cgroupManager").string(s.cgroup_manager);
    w.key("cgroupsPath").string(s.cgroups_path);
    write_map(w, "cgroupPaths", s.cgroup_paths);
    write_map(w, "annotations", s.annotations);
    write_map(w, "extra", s.extra);
    w.end_object();
    return std::string(w.str());
}

ContainerState from_json(std::string_view text, std::string_view origin) {
    json::Value doc = json::parse(text, origin);
    if (doc.type != json::Type::Object)
        throw Error(std::string(origin) + ": expected an object, got " + json::type_name(doc.type));
    Reader r{doc, std::string(origin)};
    ContainerState s;
    r.string("ociVersion", s.ociVersion);
    r.string("id", s.id, true);
    if (!valid_id(s.id))
        r.fail("id", "invalid container id");
    std::string status;
    r.string("status", status, true);
    auto st = status_from_name(status);
    if (!st)
        r.fail("status", "unknown status \"" + status + "\"");
    s.status = *st;
    s.pid = static_cast<pid_t>(r.unsigned_int("pid", static_cast<uint64_t>(std::numeric_limits<pid_t>::max())));
    s.pid_start_time = r.unsigned_int("pidStartTime", std::numeric_limits<uint64_t>::max());
    r.string("bundle", s.bundle);
    r.string("rootfs", s.rootfs);
    r.string("created", s.created);
    s.owner = static_cast<uid_t>(r.unsigned_int("owner", std::numeric_limits<uid_t>::max()));
    r.boolean("rootless", s.rootless);
    r.boolean("systemdCgroup", s.systemd_cgroup);
    r.string("cgroupManager", s.cgroup_manager);
    r.string("cgroupsPath", s.cgroups_path);
    r.string_map("cgroupPaths", s.cgroup_paths);
    r.string_map("annotations", s.annotations);
    r.string_map("extra", s.extra);
    return s;
}

void write_oci_state(json::Writer &w, const ContainerState &s, PidWhenNone none) {
    w.begin_object();
    w.key("ociVersion").string(s.ociVersion);
    w.key("id").string(s.id);
    if (pid_t pid = shown_pid(s); pid > 0 || none == PidWhenNone::Zero)
        w.key("pid").integer(pid);
    w.key("status").string(status_name(s.status));
    w.key("bundle").string(s.bundle);
    w.key("rootfs").string(s.rootfs);
    w.key("created").string(s.created);
    w.key("owner").string(owner_name(s.owner));
    if (!s.annotations.empty())
        write_map(w, "annotations", s.annotations);
    w.end_object();
}

std::string to_oci_json(const ContainerState &s, bool pretty, PidWhenNone none) {
    json::Writer w(pretty);
    write_oci_state(w, s, none);
    std::string out(w.str());
    // yajl's beautifier ends the document with a newline; callers add their own.
    while (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}

} // namespace crunpp::state
