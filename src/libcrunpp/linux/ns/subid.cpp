// SPDX-License-Identifier: GPL-2.0-or-later
// /etc/subuid and /etc/subgid, and the user-namespace mappings a rootless
// container gets when its config has none (crun's behaviour).
#include "userns.hpp"

#include <crunpp/error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string_view>

#include "../../util/passwd.hpp"

namespace crunpp::linux {

namespace {

// The kernel accepts at most this many lines in a uid_map/gid_map.
constexpr size_t kMaxMapExtents = 340;
// /etc/subuid files are small; a larger one is not a subuid file.
constexpr size_t kMaxSubidFileSize = 4 << 20;

// Returns false when the file does not exist.
bool read_small_file(const std::string &path, std::string &out) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR)
            return false;
        throw_errno("open " + path);
    }
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read " + path);
        }
        if (n == 0)
            return true;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > kMaxSubidFileSize)
            throw Error("read " + path + ": larger than " + std::to_string(kMaxSubidFileSize) + " bytes");
    }
}

bool parse_u32(std::string_view s, uint32_t &v) {
    if (s.empty())
        return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && end == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// One "owner:start:count" line, or false when it is not one.
bool parse_subid_line(std::string_view line, std::string_view &owner, SubIdRange &r) {
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos)
        return false;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos || line.find(':', c2 + 1) != std::string_view::npos)
        return false;
    owner = line.substr(0, c1);
    if (owner.empty())
        return false;
    if (!parse_u32(line.substr(c1 + 1, c2 - c1 - 1), r.start) || !parse_u32(line.substr(c2 + 1), r.count))
        return false;
    // A range must be non-empty and stay within the 32-bit id space.
    return r.count > 0 && uint64_t(r.start) + r.count <= (uint64_t(1) << 32);
}

} // namespace

std::vector<SubIdRange> read_subid_ranges(const std::string &file, const std::string &user, uid_t uid) {
    std::string text;
    if (!read_small_file(file, text))
        return {};
    const std::string uid_text = std::to_string(uid);
    std::vector<SubIdRange> ranges;
    std::string_view rest(text);
    while (!rest.empty()) {
        size_t nl = rest.find('\n');
        std::string_view line = trim(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        if (line.empty() || line.front() == '#')
            continue;
        std::string_view owner;
        SubIdRange r;
        if (!parse_subid_line(line, owner, r))
            continue;
        if ((!user.empty() && owner == user) || owner == uid_text)
            ranges.push_back(r);
    }
    return ranges;
}

std::vector<spec::IdMapping> rootless_mappings(uint32_t host_id, const std::vector<SubIdRange> &ranges,
                                               bool helper_available) {
    std::vector<spec::IdMapping> maps{{0, host_id, 1}};
    if (!helper_available)
        return maps;
    uint64_t next = 1;
    for (const SubIdRange &r : ranges) {
        if (maps.size() == kMaxMapExtents || next + r.count > (uint64_t(1) << 32))
            break;
        maps.push_back({static_cast<uint32_t>(next), r.start, r.count});
        next += r.count;
    }
    return maps;
}

IdMaps auto_rootless_mappings(uid_t uid, gid_t gid) {
    const std::string user = util::user_name(uid);
    // Both files are keyed by the user (name or uid), not by the group.
    IdMaps m;
    m.uid = rootless_mappings(uid, read_subid_ranges("/etc/subuid", user, uid),
                              ::access("/usr/bin/newuidmap", X_OK) == 0);
    m.gid = rootless_mappings(gid, read_subid_ranges("/etc/subgid", user, uid),
                              ::access("/usr/bin/newgidmap", X_OK) == 0);
    return m;
}

} // namespace crunpp::linux
