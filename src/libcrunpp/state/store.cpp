// SPDX-License-Identifier: GPL-2.0-or-later
// The state store on disk. Every path below the root is reached through
// directory fds and *at() calls with O_NOFOLLOW, so a symlink planted in the
// root cannot redirect crunpp elsewhere.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "crunpp/error.hpp"
#include "crunpp/log.hpp"
#include "crunpp/state.hpp"
#include "crunpp/version.hpp"
#include "../util/dir_entries.hpp"

namespace crunpp::state {
namespace {

constexpr const char *kStateFile = "state.json";
constexpr const char *kStateTemp = "state.json.tmp";
// Older crunpp locked this file, made in every container dir; where it
// exists it is locked too, so that both binaries exclude each other.
constexpr const char *kLegacyLockFile = "lock";
// Deep enough for anything the lifecycle code puts in a container dir.
constexpr int kMaxRemoveDepth = 16;

[[noreturn]] void throw_missing(std::string_view id) {
    throw Error("container \"" + std::string(id) + "\" does not exist");
}

// A name for a directory that is being built or torn down. It starts with
// '.', so it can never be a container id and list_ids() skips it.
std::string hidden_name(const char *what) {
    static std::atomic<unsigned> counter{0};
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::string(".") + what + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(ts.tv_nsec);
}

int flock_retry(int fd, int op) {
    int rc;
    do
        rc = ::flock(fd, op);
    while (rc < 0 && errno == EINTR);
    return rc;
}

void write_all(int fd, std::string_view data, const std::string &what) {
    while (!data.empty()) {
        ssize_t w = ::write(fd, data.data(), data.size());
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            throw_errno(what);
        data.remove_prefix(static_cast<size_t>(w));
    }
}

std::string read_all(int fd, const std::string &what) {
    constexpr size_t kMaxStateSize = 64u << 20; // matches the JSON parser's limit
    std::string buf;
    char chunk[8192];
    for (;;) {
        ssize_t r = ::read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            throw_errno(what);
        if (r == 0)
            return buf;
        if (buf.size() + static_cast<size_t>(r) > kMaxStateSize)
            throw Error(what + ": larger than " + std::to_string(kMaxStateSize) + " bytes");
        buf.append(chunk, static_cast<size_t>(r));
    }
}

// The state of the container whose directory is dirfd. A directory without
// state.json belongs to a create that has not saved yet (or crashed).
ContainerState read_state(int dirfd, std::string_view id, const std::string &dir) {
    std::string path = dir + "/" + kStateFile;
    UniqueFd fd(::openat(dirfd, kStateFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        if (errno != ENOENT)
            throw_errno("open " + path);
        ContainerState s;
        s.ociVersion = CRUNPP_OCI_VERSION;
        s.id = id;
        // Owner as runc reports it: whoever made the directory.
        struct stat st;
        if (::fstat(dirfd, &st) == 0)
            s.owner = st.st_uid;
        return s;
    }
    ContainerState s = from_json(read_all(fd.get(), "read " + path), path);
    if (s.id != id)
        throw Error(path + ": .id: \"" + s.id + "\" does not match the directory name");
    return s;
}

// Removes everything inside dirfd (not dirfd itself), without following
// symlinks. Names are collected first: unlinking while reading a directory
// may make readdir skip entries.
void remove_contents(int dirfd, const std::string &path, int depth) {
    if (depth > kMaxRemoveDepth)
        throw Error("remove " + path + ": nested deeper than " + std::to_string(kMaxRemoveDepth) + " levels");
    // From the start, should an earlier attempt have read this fd.
    if (::lseek(dirfd, 0, SEEK_SET) < 0)
        throw_errno("read directory " + path);
    std::vector<std::string> names;
    int read_err = util::for_each_dir_entry(dirfd, [&](std::string_view n, unsigned char) {
        names.emplace_back(n);
        return true;
    });
    if (read_err != 0)
        throw_errno("read directory " + path, read_err);
    for (const std::string &n : names) {
        std::string child = path + "/" + n;
        if (::unlinkat(dirfd, n.c_str(), 0) == 0 || errno == ENOENT)
            continue;
        if (errno != EISDIR)
            throw_errno("remove " + child);
        UniqueFd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub)
            throw_errno("open " + child);
        remove_contents(sub.get(), child, depth + 1);
        if (::unlinkat(dirfd, n.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
            throw_errno("remove " + child);
    }
}

// The lock of the container directory dirfd: the directory opened again,
// so that the lock is an open file of its own, which a child can close
// without closing dirfd (Container::close_inherited_lock). Locking the
// directory itself spares a lock file made and removed for every container.
UniqueFd open_dir_lock(int dirfd, const std::string &dir) {
    UniqueFd fd(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        throw_errno("open " + dir);
    if (flock_retry(fd.get(), LOCK_EX) < 0)
        throw_errno("lock " + dir);
    return fd;
}

// The lock file of a directory made by an older crunpp, locked; none when
// the directory has no such file.
UniqueFd lock_legacy_file(int dirfd, const std::string &dir) {
    UniqueFd fd(::openat(dirfd, kLegacyLockFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return fd;
        throw_errno("open " + dir + "/" + kLegacyLockFile);
    }
    if (flock_retry(fd.get(), LOCK_EX) < 0)
        throw_errno("lock " + dir + "/" + kLegacyLockFile);
    return fd;
}

// Whether the hidden directory NAME (".new-PID-..." or ".del-PID-...") was
// left by a crunpp that died in create() or remove(): its maker is gone and
// nobody holds its lock (a live creator or remover holds it until the end;
// a pid in another pid namespace shows as gone, the free lock still counts).
bool abandoned(int rootfd, const char *name) {
    char *end = nullptr;
    long pid = std::strtol(name + 5, &end, 10);
    if (pid <= 0 || !end || *end != '-' || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
        return false;
    UniqueFd dir(::openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir || ::flock(dir.get(), LOCK_EX | LOCK_NB) < 0)
        return false;
    UniqueFd legacy(::openat(dir.get(), kLegacyLockFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    return !legacy ? errno == ENOENT : ::flock(legacy.get(), LOCK_EX | LOCK_NB) == 0;
}

bool same_file(const struct stat &a, const struct stat &b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

} // namespace

Store::Store(std::string root) : root_(std::move(root)) {
    if (root_.empty())
        throw Error("state root: empty path");
    // Absolute, so that Container::dir() stays valid after a chdir.
    if (root_[0] != '/') {
        char *cwd = ::getcwd(nullptr, 0);
        if (!cwd)
            throw_errno("state root " + root_ + ": get the current directory");
        std::string abs = cwd;
        free(cwd);
        root_ = (abs == "/" ? "" : abs) + "/" + root_;
    }
    while (root_.size() > 1 && root_.back() == '/')
        root_.pop_back();
}

UniqueFd Store::open_root(bool create) const {
    if (create && ::mkdir(root_.c_str(), 0700) < 0 && errno != EEXIST) {
        // mkdir -p for the last two levels only: a missing /run/user/UID or
        // a mistyped --root deeper down is better reported than created.
        size_t slash = root_.rfind('/');
        if (errno != ENOENT || slash == 0 || slash == std::string::npos)
            throw_errno("create state root " + root_);
        std::string parent = root_.substr(0, slash);
        if (::mkdir(parent.c_str(), 0700) < 0 && errno != EEXIST)
            throw_errno("create state root " + root_ + ": create " + parent);
        if (::mkdir(root_.c_str(), 0700) < 0 && errno != EEXIST)
            throw_errno("create state root " + root_);
    }
    UniqueFd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd && (create || errno != ENOENT))
        throw_errno("open state root " + root_);
    return fd;
}

Container Store::create(std::string_view id) {
    check_id(id);
    Container c;
    c.id_ = id;
    c.dir_ = root_ + "/" + c.id_;
    c.rootfd_ = open_root(true);
    int rootfd = c.rootfd_.get();
    // Said at once (and a name too long for the filesystem); the rename of
    // the first save makes the id ours for sure.
    struct stat st;
    if (::fstatat(rootfd, c.id_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
        throw Error("container \"" + c.id_ + "\" already exists");
    if (errno != ENOENT)
        throw_errno("create state directory " + c.dir_);

    std::string tmp;
    for (int tries = 0;; tries++) {
        tmp = hidden_name("new");
        // 0711 whatever the umask (set here, not chmod: one metadata change
        // less): a container process mapped to another uid may need to
        // reach a file in here (the exec fifo) through an inherited dir fd.
        const mode_t umask_before = ::umask(0);
        int made = ::mkdirat(rootfd, tmp.c_str(), 0711);
        const int mkdir_errno = errno;
        ::umask(umask_before);
        if (made == 0)
            break;
        if (mkdir_errno != EEXIST || tries >= 8)
            throw_errno("create state directory in " + root_, mkdir_errno);
    }
    // From here on, the handle removes the directory if it is dropped
    // before its first save.
    c.unpublished_ = tmp;
    c.creator_ = ::getpid();
    c.dirfd_.reset(::openat(rootfd, tmp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!c.dirfd_)
        throw_errno("open " + root_ + "/" + tmp);
    c.lockfd_ = open_dir_lock(c.dirfd_.get(), root_ + "/" + tmp);

    c.has_state_file_ = false;
    ContainerState &s = c.state_;
    s.ociVersion = CRUNPP_OCI_VERSION;
    s.id = c.id_;
    s.status = Status::Creating;
    s.owner = ::geteuid();
    s.created = log::rfc3339_now();
    return c;
}

std::optional<Container> Store::try_open(std::string_view id) {
    check_id(id);
    Container c;
    c.id_ = id;
    c.dir_ = root_ + "/" + c.id_;
    c.rootfd_ = open_root(false);
    if (!c.rootfd_)
        return std::nullopt;
    int rootfd = c.rootfd_.get();
    c.dirfd_.reset(::openat(rootfd, c.id_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!c.dirfd_) {
        if (errno == ENOENT)
            return std::nullopt;
        if (errno == ENOTDIR || errno == ELOOP)
            throw Error("container \"" + c.id_ + "\": " + c.dir_ + " is not a directory");
        throw_errno("open " + c.dir_);
    }
    c.lockfd_ = open_dir_lock(c.dirfd_.get(), c.dir_);
    c.legacy_lockfd_ = lock_legacy_file(c.dirfd_.get(), c.dir_);
    // While we waited, the previous holder may have removed the container
    // (and another create may even have reused the id): the name must still
    // lead to the directory we locked.
    struct stat ours, named;
    if (::fstat(c.dirfd_.get(), &ours) < 0)
        throw_errno("stat " + c.dir_);
    if (::fstatat(rootfd, c.id_.c_str(), &named, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return std::nullopt;
        throw_errno("stat " + c.dir_);
    }
    if (!same_file(ours, named))
        return std::nullopt;
    c.state_ = read_state(c.dirfd_.get(), id, c.dir_);
    return c;
}

Container Store::open(std::string_view id) {
    std::optional<Container> c = try_open(id);
    if (!c)
        throw_missing(id);
    return std::move(*c);
}

std::optional<ContainerState> Store::read(std::string_view id) const {
    check_id(id);
    UniqueFd rootfd = open_root(false);
    if (!rootfd)
        return std::nullopt;
    std::string dir = root_ + "/" + std::string(id);
    UniqueFd dirfd(::openat(rootfd.get(), std::string(id).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dirfd) {
        if (errno == ENOENT)
            return std::nullopt;
        if (errno == ENOTDIR || errno == ELOOP)
            throw Error("container \"" + std::string(id) + "\": " + dir + " is not a directory");
        throw_errno("open " + dir);
    }
    return read_state(dirfd.get(), id, dir);
}

std::vector<std::string> Store::list_ids() const {
    std::vector<std::string> ids;
    UniqueFd rootfd = open_root(false);
    if (!rootfd)
        return ids;
    int read_err = util::for_each_dir_entry(rootfd.get(), [&](std::string_view name, unsigned char type) {
        const std::string n(name);
        if (!valid_id(n))
            return true;
        struct stat st;
        if (type == DT_DIR || (type == DT_UNKNOWN && ::fstatat(rootfd.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               S_ISDIR(st.st_mode)))
            ids.push_back(n);
        return true;
    });
    if (read_err != 0)
        throw_errno("read state root " + root_, read_err);
    std::sort(ids.begin(), ids.end());
    return ids;
}

void Store::collect_garbage() const {
    UniqueFd rootfd = open_root(false);
    if (!rootfd)
        return;
    std::vector<std::string> names;
    // Best effort: what a failed read leaves, the next delete finds.
    util::for_each_dir_entry(rootfd.get(), [&](std::string_view name, unsigned char) {
        if (name.starts_with(".new-") || name.starts_with(".del-")) {
            std::string n(name);
            if (abandoned(rootfd.get(), n.c_str()))
                names.push_back(std::move(n));
        }
        return true;
    });
    for (const std::string &n : names) {
        UniqueFd dirfd(::openat(rootfd.get(), n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dirfd)
            continue;
        try {
            remove_contents(dirfd.get(), root_ + "/" + n, 0);
        } catch (const Error &) { // best effort: the next delete tries again
            continue;
        }
        ::unlinkat(rootfd.get(), n.c_str(), AT_REMOVEDIR);
    }
}

bool Store::exists(std::string_view id) const {
    if (!valid_id(id))
        return false;
    UniqueFd rootfd = open_root(false);
    struct stat st;
    return rootfd && ::fstatat(rootfd.get(), std::string(id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st.st_mode);
}

// A moved-from handle has no rootfd_, so it discards nothing.
Container::Container(Container &&other) noexcept = default;

Container &Container::operator=(Container &&other) noexcept {
    if (this != &other) {
        discard_unpublished();
        id_ = std::move(other.id_);
        dir_ = std::move(other.dir_);
        rootfd_ = std::move(other.rootfd_);
        dirfd_ = std::move(other.dirfd_);
        lockfd_ = std::move(other.lockfd_);
        legacy_lockfd_ = std::move(other.legacy_lockfd_);
        state_ = std::move(other.state_);
        unpublished_ = std::move(other.unpublished_);
        creator_ = other.creator_;
        has_state_file_ = other.has_state_file_;
    }
    return *this;
}

Container::~Container() { discard_unpublished(); }

// A forked child's copy of the handle leaves the directory to its creator.
void Container::discard_unpublished() noexcept {
    if (unpublished_.empty() || creator_ != ::getpid() || !rootfd_)
        return;
    if (dirfd_) {
        try {
            remove_contents(dirfd_.get(), root_path() + "/" + unpublished_, 0);
        } catch (...) { // best effort: `delete` collects what stays
        }
    }
    ::unlinkat(rootfd_.get(), unpublished_.c_str(), AT_REMOVEDIR);
    unpublished_.clear();
    dirfd_.reset();
    lockfd_.reset();
}

// Under its id in one step, whole: with its state.json, and locked.
void Container::publish() {
    int rootfd = rootfd_.get();
    int rc = ::renameat2(rootfd, unpublished_.c_str(), rootfd, id_.c_str(), RENAME_NOREPLACE);
    if (rc < 0 && errno == EINVAL) {
        // A filesystem without RENAME_NOREPLACE: a plain rename cannot
        // replace a container dir either, as it is never empty.
        rc = ::renameat(rootfd, unpublished_.c_str(), rootfd, id_.c_str());
        if (rc < 0 && (errno == ENOTEMPTY || errno == ENOTDIR))
            errno = EEXIST;
    }
    if (rc < 0) {
        if (errno == EEXIST)
            throw Error("container \"" + id_ + "\" already exists");
        throw_errno("create state directory " + dir_);
    }
    unpublished_.clear();
}

void Container::save() {
    if (!dirfd_)
        throw Error("save state of container \"" + id_ + "\": the container was removed");
    std::string data = to_json(state_);
    if (!unpublished_.empty()) {
        // Nobody sees the directory yet: state.json is written in place and
        // appears with it.
        auto path = [&] { return root_path() + "/" + unpublished_ + "/" + kStateFile; };
        UniqueFd fd(::openat(dirfd_.get(), kStateFile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd)
            throw_errno("create " + path());
        write_all(fd.get(), data, "write " + path());
        if (::close(fd.release()) < 0)
            throw_errno("write " + path());
        publish();
        has_state_file_ = true;
        return;
    }
    std::string tmp_path = dir_ + "/" + kStateTemp;
    // Written in full under a temporary name, then swapped with state.json:
    // a reader sees the old or the new file, never a part. No fsync: the
    // state means nothing after a reboot. An exchange, not a rename over
    // state.json: ext4 (auto_da_alloc) and btrfs start writing back a file
    // renamed over another, block I/O on every save where the root is not
    // a tmpfs; the old contents go with the unlink, before any writeback.
    UniqueFd fd(::openat(dirfd_.get(), kStateTemp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd)
        throw_errno("create " + tmp_path);
    try {
        write_all(fd.get(), data, "write " + tmp_path);
        if (::close(fd.release()) < 0)
            throw_errno("write " + tmp_path);
        int rc = -1;
        if (has_state_file_) {
            rc = ::renameat2(dirfd_.get(), kStateTemp, dirfd_.get(), kStateFile, RENAME_EXCHANGE);
            // No state.json after all (a create that died before its first
            // save), or a filesystem without exchange: a plain rename.
            if (rc < 0 && errno != ENOENT && errno != EINVAL)
                throw_errno("exchange " + tmp_path + " with " + kStateFile);
        }
        if (rc == 0) {
            // A failure leaves the old state under the temporary name:
            // truncated by the next save, removed with the directory.
            ::unlinkat(dirfd_.get(), kStateTemp, 0);
        } else if (::renameat(dirfd_.get(), kStateTemp, dirfd_.get(), kStateFile) < 0) {
            throw_errno("rename " + tmp_path + " to " + kStateFile);
        }
        has_state_file_ = true;
    } catch (...) {
        ::unlinkat(dirfd_.get(), kStateTemp, 0);
        throw;
    }
}

void Container::remove() {
    if (!dirfd_)
        throw Error("remove container \"" + id_ + "\": already removed");
    if (!unpublished_.empty()) {
        // Never seen under its id: it only has to go.
        std::string path = root_path() + "/" + unpublished_;
        remove_contents(dirfd_.get(), path, 0);
        if (::unlinkat(rootfd_.get(), unpublished_.c_str(), AT_REMOVEDIR) < 0)
            throw_errno("remove " + path);
        unpublished_.clear();
    } else {
        // Hide it first: from here on open() and list_ids() no longer find
        // it, and the lock holders waiting behind us see it gone.
        std::string tomb = hidden_name("del");
        if (::renameat(rootfd_.get(), id_.c_str(), rootfd_.get(), tomb.c_str()) < 0)
            throw_errno("remove " + dir_);
        try {
            remove_contents(dirfd_.get(), dir_, 0);
            if (::unlinkat(rootfd_.get(), tomb.c_str(), AT_REMOVEDIR) < 0)
                throw_errno("remove " + dir_);
        } catch (...) {
            // Put it back under its id, so that it can be seen and removed
            // again (without its state.json it shows as being created).
            ::renameat(rootfd_.get(), tomb.c_str(), rootfd_.get(), id_.c_str());
            throw;
        }
    }
    dirfd_.reset();
    lockfd_.reset();
    legacy_lockfd_.reset();
    rootfd_.reset();
}

} // namespace crunpp::state
