// SPDX-License-Identifier: GPL-2.0-or-later
// The compiled-filter cache (layout and guarantees: seccomp.hpp).
//
// Entry: Header, then the key bytes, then the BPF instructions. The checksum
// covers key and program; it catches torn or damaged files. It is not a
// defence against someone who can write the cache: the directory is the
// runtime user's own (0700, checked), like the state next to it.
#include "seccomp.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"

namespace crunpp::linux {
namespace {

constexpr char kMagic[8] = {'C', 'R', 'N', 'P', 'S', 'C', 'C', '2'};
constexpr size_t kMaxInstructions = 4096;
// A key is a few bytes per syscall name; anything bigger is not ours.
constexpr size_t kMaxKey = 1 << 20;

struct Header {
    char magic[8];
    uint32_t key_size;
    uint32_t instructions;
    uint64_t checksum;
};
static_assert(sizeof(Header) == 24);

// FNV-1a over 64-bit words (bytes for the tail): on the start path, so
// eight times fewer rounds than the byte-wise hash for the ~20 KB of a
// 400-rule entry. Detects damage; the key comparison handles collisions.
uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    constexpr uint64_t kPrime = 0x100000001b3ULL;
    const auto *p = static_cast<const unsigned char *>(data);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        h = (h ^ w) * kPrime;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * kPrime;
    return h;
}
constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ULL;

uint64_t checksum(std::string_view key, const void *prog, size_t prog_bytes) {
    return fnv1a(fnv1a(kFnvBasis, key.data(), key.size()), prog, prog_bytes);
}

bool read_all(int fd, std::string &out, size_t size) {
    out.resize(size);
    for (size_t done = 0; done < size;) {
        ssize_t r = read(fd, out.data() + done, size - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        done += static_cast<size_t>(r);
    }
    return true;
}

bool write_all(int fd, std::string_view data) {
    for (size_t done = 0; done < data.size();) {
        ssize_t w = write(fd, data.data() + done, data.size() - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        done += static_cast<size_t>(w);
    }
    return true;
}

// The cache directory, created 0700 when missing; refused (empty fd) when
// it is not a directory of ours that only we can write.
UniqueFd open_cache_dir(const std::string &dir, bool create) {
    UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd && errno == ENOENT && create) {
        if (mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST)
            return UniqueFd();
        fd.reset(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!fd)
        return UniqueFd();
    struct stat st;
    if (fstat(fd.get(), &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
        log::debug("seccomp cache: " + dir + " is not owned by us or writable by others, not used");
        return UniqueFd();
    }
    return fd;
}

struct Entry {
    std::string name;
    struct timespec mtime;
};

// Keeps the `keep` most recently used entries (mtime is refreshed on use).
void evict(int dirfd, size_t keep) {
    int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return;
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        close(dup_fd);
        return;
    }
    std::vector<Entry> entries;
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    while (struct dirent *e = readdir(d)) {
        struct stat st;
        // A writer killed between create and rename leaves its temp file;
        // one a minute old has no live writer (a write takes microseconds).
        if (strncmp(e->d_name, ".tmp-", 5) == 0) {
            if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && now.tv_sec - st.st_mtim.tv_sec > 60)
                unlinkat(dirfd, e->d_name, 0);
            continue;
        }
        if (e->d_name[0] == '.')
            continue;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            entries.push_back({e->d_name, st.st_mtim});
    }
    closedir(d);
    if (entries.size() <= keep)
        return;
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        return a.mtime.tv_sec != b.mtime.tv_sec ? a.mtime.tv_sec > b.mtime.tv_sec : a.mtime.tv_nsec > b.mtime.tv_nsec;
    });
    for (size_t i = keep; i < entries.size(); i++)
        unlinkat(dirfd, entries[i].name.c_str(), 0);
}

} // namespace

void remove_legacy_seccomp_cache(const std::string &state_root) noexcept {
    if (state_root.empty())
        return;
    UniqueFd root(open(state_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        return;
    int fd = openat(root.get(), kLegacySeccompCacheDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    DIR *d = fstat(fd, &st) == 0 && st.st_uid == geteuid() ? fdopendir(fd) : nullptr;
    if (!d) {
        close(fd);
        return;
    }
    // Only the regular files the cache held: nothing else is ours to remove.
    while (struct dirent *e = readdir(d)) {
        struct stat est;
        if (e->d_name[0] != '.' || strncmp(e->d_name, ".tmp-", 5) == 0)
            if (fstatat(dirfd(d), e->d_name, &est, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(est.st_mode))
                unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    if (unlinkat(root.get(), kLegacySeccompCacheDir, AT_REMOVEDIR) == 0)
        log::debug(std::string("seccomp cache: removed the old ") + state_root + "/" + kLegacySeccompCacheDir);
}

std::string seccomp_cache_name(std::string_view key) {
    uint64_t h = fnv1a(kFnvBasis, key.data(), key.size());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name(16, '0');
    for (int i = 15; i >= 0; i--, h >>= 4)
        name[static_cast<size_t>(i)] = kHex[h & 0xf];
    return name;
}

std::string seccomp_cache_encode(std::string_view key, const std::vector<sock_filter> &program) {
    size_t prog_bytes = program.size() * sizeof(sock_filter);
    Header h{};
    memcpy(h.magic, kMagic, sizeof kMagic);
    h.key_size = static_cast<uint32_t>(key.size());
    h.instructions = static_cast<uint32_t>(program.size());
    h.checksum = checksum(key, program.data(), prog_bytes);
    std::string out;
    out.reserve(sizeof h + key.size() + prog_bytes);
    out.append(reinterpret_cast<const char *>(&h), sizeof h);
    out.append(key);
    out.append(reinterpret_cast<const char *>(program.data()), prog_bytes);
    return out;
}

std::optional<std::vector<sock_filter>> seccomp_cache_decode(std::string_view data, std::string_view key) {
    Header h;
    if (data.size() < sizeof h)
        return std::nullopt;
    memcpy(&h, data.data(), sizeof h);
    if (memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.key_size != key.size() || h.key_size > kMaxKey ||
        h.instructions == 0 || h.instructions > kMaxInstructions)
        return std::nullopt;
    size_t prog_bytes = size_t{h.instructions} * sizeof(sock_filter);
    if (data.size() != sizeof h + key.size() + prog_bytes)
        return std::nullopt;
    std::string_view stored_key = data.substr(sizeof h, key.size());
    if (stored_key != key)
        return std::nullopt;
    const char *prog = data.data() + sizeof h + key.size();
    if (checksum(stored_key, prog, prog_bytes) != h.checksum)
        return std::nullopt;
    std::vector<sock_filter> out(h.instructions);
    memcpy(out.data(), prog, prog_bytes);
    return out;
}

std::optional<std::vector<sock_filter>> seccomp_cache_lookup(const std::string &cache_dir, std::string_view key) {
    UniqueFd dir = open_cache_dir(cache_dir, false);
    if (!dir)
        return std::nullopt;
    std::string name = seccomp_cache_name(key);
    UniqueFd fd(openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd)
        return std::nullopt;
    struct stat st;
    std::string data;
    size_t max_size = sizeof(Header) + key.size() + kMaxInstructions * sizeof(sock_filter);
    std::optional<std::vector<sock_filter>> prog;
    if (fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        static_cast<size_t>(st.st_size) <= max_size && read_all(fd.get(), data, static_cast<size_t>(st.st_size)))
        prog = seccomp_cache_decode(data, key);
    if (!prog) {
        log::debug("seccomp cache: entry " + cache_dir + "/" + name + " is damaged, removed");
        unlinkat(dir.get(), name.c_str(), 0);
        return std::nullopt;
    }
    // Recently used: the eviction keeps it.
    futimens(fd.get(), nullptr);
    return prog;
}

bool seccomp_cache_store(const std::string &cache_dir, std::string_view key, const std::vector<sock_filter> &program,
                         size_t max_entries) {
    UniqueFd dir = open_cache_dir(cache_dir, true);
    if (!dir)
        return false;
    std::string name = seccomp_cache_name(key);
    // An unnamed file, given its name once written: a writer killed at any
    // point leaves nothing behind. What has the name already was not taken
    // by the lookup (a symlink, say): replaced; EEXIST after that: another
    // writer has just stored the same.
    if (UniqueFd fd(openat(dir.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600)); fd) {
        std::string self = "/proc/self/fd/" + std::to_string(fd.get());
        auto publish = [&] { return linkat(AT_FDCWD, self.c_str(), dir.get(), name.c_str(), AT_SYMLINK_FOLLOW) == 0; };
        bool ok = write_all(fd.get(), seccomp_cache_encode(key, program));
        if (ok && !publish())
            ok = errno == EEXIST && unlinkat(dir.get(), name.c_str(), 0) == 0 && (publish() || errno == EEXIST);
        if (!ok) {
            log::debug("seccomp cache: could not write " + cache_dir + "/" + name);
            return false;
        }
        evict(dir.get(), max_entries);
        return true;
    }
    // A filesystem without O_TMPFILE: a named temporary file, which evict()
    // removes once old if its writer was killed.
    static std::atomic<unsigned> counter{0};
    std::string tmp = ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    UniqueFd fd(openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd)
        return false;
    bool ok = write_all(fd.get(), seccomp_cache_encode(key, program));
    fd.reset();
    if (!ok || renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) < 0) {
        unlinkat(dir.get(), tmp.c_str(), 0);
        log::debug("seccomp cache: could not write " + cache_dir + "/" + name);
        return false;
    }
    evict(dir.get(), max_entries);
    return true;
}

} // namespace crunpp::linux
