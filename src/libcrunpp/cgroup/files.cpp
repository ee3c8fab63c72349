// SPDX-License-Identifier: GPL-2.0-or-later
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgroup_internal.hpp"
#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

namespace crunpp::cgroup::detail {

int try_write_file(const std::string &dir, const std::string &file, const std::string &value) {
    std::string path = dir + "/" + file;
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    ssize_t w = write(fd, value.data(), value.size());
    int err = w < 0 ? errno : (static_cast<size_t>(w) != value.size() ? EIO : 0);
    close(fd);
    return err;
}

void write_file(const std::string &dir, const std::string &file, const std::string &value) {
    if (int err = try_write_file(dir, file, value); err != 0)
        throw Error("cgroup: write \"" + value + "\" to " + dir + "/" + file, err);
}

std::optional<std::string> read_file(const std::string &dir, const std::string &file) {
    std::string path = dir + "/" + file;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    close(fd);
    if (n < 0)
        return std::nullopt;
    return out;
}

bool file_exists(const std::string &dir, const std::string &file) {
    return access((dir + "/" + file).c_str(), F_OK) == 0;
}

std::string trim(const std::string &s) {
    size_t b = s.find_first_not_of(" \t\n");
    if (b == std::string::npos)
        return "";
    size_t e = s.find_last_not_of(" \t\n");
    return s.substr(b, e - b + 1);
}

void Writer::remember(const std::string &dir, const std::string &file, std::string old) {
    entries_.push_back({dir, file, std::move(old)});
}

void Writer::write(const std::string &dir, const std::string &file, const std::string &value) {
    if (dry_)
        return;
    if (journal_) {
        // A file that cannot be read (missing: the write says so) has
        // nothing to put back.
        std::optional<std::string> old = read_file(dir, file);
        write_file(dir, file, value);
        if (!old)
            return;
        remember(dir, file, trim(*old));
        return;
    }
    write_file(dir, file, value);
}

void Writer::write_keyed(const std::string &dir, const std::string &file, const std::string &value,
                         const std::string &key, const std::string &reset) {
    if (dry_)
        return;
    if (journal_) {
        std::optional<std::string> content = read_file(dir, file);
        std::string old = reset;
        for (const std::string &line : split(content.value_or(""), '\n'))
            if (line.rfind(key + " ", 0) == 0)
                old = trim(line);
        write_file(dir, file, value);
        remember(dir, file, old);
        return;
    }
    write_file(dir, file, value);
}

void Writer::write_shown_as(const std::string &dir, const std::string &file, const std::string &value,
                            const std::string &key) {
    if (dry_)
        return;
    if (!journal_) {
        write_file(dir, file, value);
        return;
    }
    size_t before = entries_.size();
    write_keyed(dir, file, value, key, key + " 0");
    if (entries_.size() > before)
        entries_.back().old = entries_.back().old.substr(key.size() + 1);
}

void Writer::rollback() noexcept {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
        if (int err = try_write_file(it->dir, it->file, it->old); err != 0)
            log::warn("cgroup: restore \"" + it->old + "\" to " + it->dir + "/" + it->file + ": " +
                      std::string(strerror(err)));
    entries_.clear();
}

} // namespace crunpp::cgroup::detail
