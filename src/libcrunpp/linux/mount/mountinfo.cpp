// SPDX-License-Identifier: GPL-2.0-or-later
#include "mountinfo.hpp"

#include "crunpp/error.hpp"
#include "file_util.hpp"

#include <fcntl.h>

#include <charconv>
#include <optional>

namespace crunpp::linux {
namespace {

std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' &&
            s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ')
            ++i;
        size_t j = i;
        while (j < line.size() && line[j] != ' ')
            ++j;
        if (j > i)
            fields.push_back(line.substr(i, j - i));
        i = j;
    }
    return fields;
}

int to_int(std::string_view s, std::string_view line) {
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        throw Error("mountinfo: malformed line \"" + std::string(line) + "\"");
    return v;
}

} // namespace

std::vector<MountInfo> parse_mountinfo(std::string_view text) {
    std::vector<MountInfo> out;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty())
            continue;
        auto f = split_spaces(line);
        // id parent maj:min root mountpoint options [optional...] - fstype source super
        size_t sep = 6;
        while (sep < f.size() && f[sep] != "-")
            ++sep;
        if (f.size() < 6 || sep + 2 >= f.size())
            throw Error("mountinfo: malformed line \"" + std::string(line) + "\"");
        MountInfo m;
        m.id = to_int(f[0], line);
        m.parent = to_int(f[1], line);
        m.root = unescape(f[3]);
        m.mountpoint = unescape(f[4]);
        m.options = std::string(f[5]);
        for (size_t i = 6; i < sep; ++i) {
            if (!m.optional.empty())
                m.optional += ' ';
            m.optional += f[i];
        }
        m.fstype = unescape(f[sep + 1]);
        m.source = unescape(f[sep + 2]);
        if (sep + 3 < f.size())
            m.super_options = std::string(f[sep + 3]);
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<MountInfo> read_mountinfo() {
    return parse_mountinfo(read_file_at(AT_FDCWD, "/proc/self/mountinfo"));
}

namespace {
std::optional<std::vector<MountInfo>> cgroup_mounts_read;
}

const std::vector<MountInfo> &cgroup_mounts() {
    if (!cgroup_mounts_read)
        cgroup_mounts_read = scan_cgroup_mounts();
    if (!cgroup_mounts_read) {
        std::vector<MountInfo> out;
        for (MountInfo &m : read_mountinfo())
            if (m.fstype == "cgroup" || m.fstype == "cgroup2")
                out.push_back(std::move(m));
        cgroup_mounts_read = std::move(out);
    }
    return *cgroup_mounts_read;
}

void forget_cgroup_mounts() { cgroup_mounts_read.reset(); }

bool path_is_under(std::string_view path, std::string_view dir) {
    if (dir == "/")
        return !path.empty() && path[0] == '/';
    if (path.substr(0, dir.size()) != dir)
        return false;
    return path.size() == dir.size() || path[dir.size()] == '/';
}

} // namespace crunpp::linux
