// SPDX-License-Identifier: GPL-2.0-or-later
// mkdir_all_in_root: what it makes stays inside the root, whether the
// missing part is the last component only (made in its parent directly) or
// more (the walk from the root), through symlinks planted in the rootfs.
#include <catch.hpp>

#include "crunpp/error.hpp"
#include "crunpp/unique_fd.hpp"
#include "src/libcrunpp/linux/mount/safe_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using crunpp::linux::mkdir_all_in_root;

namespace {

struct TempRoot {
    fs::path base;
    fs::path root;
    fs::path host; // outside the root: nothing may appear here
    crunpp::UniqueFd fd;
    TempRoot() {
        char tmpl[] = "/tmp/crunpp-safe-path.XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        base = tmpl;
        root = base / "root";
        host = base / "host";
        fs::create_directories(root);
        fs::create_directories(host);
        fd.reset(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        REQUIRE(fd);
    }
    ~TempRoot() { fs::remove_all(base); }
};

// The fd is the directory at `expected` (same inode).
bool is_dir_at(const crunpp::UniqueFd &fd, const fs::path &expected) {
    struct stat a {}, b {};
    return fd && fstat(fd.get(), &a) == 0 && stat(expected.c_str(), &b) == 0 && S_ISDIR(a.st_mode) &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

} // namespace

TEST_CASE("mkdir_all_in_root: a missing last component is made in its parent", "[safe_path]") {
    TempRoot t;
    fs::create_directories(t.root / "sys/fs/cgroup");
    crunpp::UniqueFd fd = mkdir_all_in_root(t.fd.get(), "sys/fs/cgroup/pids");
    CHECK(is_dir_at(fd, t.root / "sys/fs/cgroup/pids"));
    // Existing: the same directory again.
    CHECK(is_dir_at(mkdir_all_in_root(t.fd.get(), "sys/fs/cgroup/pids"), t.root / "sys/fs/cgroup/pids"));
}

TEST_CASE("mkdir_all_in_root: several missing components", "[safe_path]") {
    TempRoot t;
    CHECK(is_dir_at(mkdir_all_in_root(t.fd.get(), "a/b/c"), t.root / "a/b/c"));
}

TEST_CASE("mkdir_all_in_root: a parent that is an absolute symlink resolves in the root", "[safe_path]") {
    TempRoot t;
    // link -> <host> as an absolute path: in the root it means root/<host>.
    fs::create_directory_symlink(t.host, t.root / "link");
    fs::create_directories(t.root / t.host.relative_path());
    CHECK(is_dir_at(mkdir_all_in_root(t.fd.get(), "link/x"), t.root / t.host.relative_path() / "x"));
    CHECK(!fs::exists(t.host / "x"));
}

TEST_CASE("mkdir_all_in_root: a dangling symlink as the last component is created inside the root", "[safe_path]") {
    TempRoot t;
    fs::create_directories(t.root / "dir");
    fs::create_directory_symlink(t.host / "made", t.root / "dir/leaf");
    crunpp::UniqueFd fd = mkdir_all_in_root(t.fd.get(), "dir/leaf");
    CHECK(is_dir_at(fd, t.root / t.host.relative_path() / "made"));
    CHECK(!fs::exists(t.host / "made"));
}

TEST_CASE("mkdir_all_in_root: a file in the way is an error naming the path", "[safe_path]") {
    TempRoot t;
    fs::create_directories(t.root / "dir");
    { FILE *f = fopen((t.root / "dir/file").c_str(), "w"); REQUIRE(f); fclose(f); }
    REQUIRE_THROWS_WITH(mkdir_all_in_root(t.fd.get(), "dir/file/sub"), Catch::Contains("mkdir \"/dir/file"));
}
