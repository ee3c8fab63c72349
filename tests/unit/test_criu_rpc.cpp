// SPDX-License-Identifier: GPL-2.0-or-later
// The hand-written encoding of CRIU's RPC messages (src/libcrunpp/criu/rpc):
// the bytes are those protobuf gives for rpc.proto's field numbers.
#include <catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "../../src/libcrunpp/container/criu_common.hpp"
#include "../../src/libcrunpp/criu/rpc.hpp"
#include "crunpp/error.hpp"

using namespace crunpp;

namespace {
std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b)
        s += static_cast<char>(c);
    return s;
}
} // namespace

TEST_CASE("criu rpc: requests", "[criu]") {
    criu::Request version;
    version.type = criu::ReqType::Version;
    CHECK(criu::encode(version) == bytes({0x08, 0x0a}));

    criu::Request ack;
    ack.type = criu::ReqType::Notify;
    ack.notify_success = true;
    CHECK(criu::encode(ack) == bytes({0x08, 0x06, 0x18, 0x01}));

    criu::Request features;
    features.type = criu::ReqType::FeatureCheck;
    features.feature_mem_track = true;
    CHECK(criu::encode(features) == bytes({0x08, 0x09, 0x2a, 0x02, 0x08, 0x01}));
}

TEST_CASE("criu rpc: options", "[criu]") {
    criu::Opts o;
    o.images_dir_fd = 300; // a two-byte varint
    o.pid = 1;
    o.log_file = "d";
    o.ext_mnt = {{"/a", "/b"}};
    o.manage_cgroups_mode = criu::CgMode::Strict;
    criu::Request r;
    r.type = criu::ReqType::Dump;
    r.opts = &o;
    std::string e = criu::encode(r);
    // type DUMP, then opts (field 2, length-delimited)
    REQUIRE(e.substr(0, 2) == bytes({0x08, 0x01}));
    REQUIRE(static_cast<unsigned char>(e[2]) == 0x12);
    std::string opts = e.substr(4);
    REQUIRE(static_cast<unsigned char>(e[3]) == opts.size());
    // images_dir_fd = 300, pid = 1
    CHECK(opts.substr(0, 5) == bytes({0x08, 0xac, 0x02, 0x10, 0x01}));
    // log_file "d" (field 10)
    CHECK(opts.find(bytes({0x52, 0x01, 'd'})) != std::string::npos);
    // ext_mnt {key "/a", val "/b"} (field 23: tag 0xba 0x01)
    CHECK(opts.find(bytes({0xba, 0x01, 0x08, 0x0a, 0x02, '/', 'a', 0x12, 0x02, '/', 'b'})) != std::string::npos);
    // manage_cgroups_mode STRICT (field 34: tag 0x90 0x02)
    CHECK(opts.find(bytes({0x90, 0x02, 0x05})) != std::string::npos);

    // A negative int32 takes ten bytes, as protobuf sign-extends it.
    criu::Opts neg;
    neg.images_dir_fd = -1;
    r.opts = &neg;
    std::string n = criu::encode(r);
    CHECK(n.substr(4, 11) == bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

// What restore's --empty-ns, --lazy-pages, --lsm-profile and
// --lsm-mount-context become in the request (rpc.proto: empty_ns = 38,
// lazy_pages = 48, lsm_profile = 53, lsm_mount_context = 63).
TEST_CASE("criu rpc: empty_ns, lazy_pages and the LSM options", "[criu]") {
    criu::Opts o;
    o.empty_ns = 0x40000000; // CLONE_NEWNET
    o.lazy_pages = true;
    o.lsm_profile = "apparmor:p";
    o.lsm_mount_context = "ctx";
    criu::Request r;
    r.type = criu::ReqType::Restore;
    r.opts = &o;
    const std::string e = criu::encode(r);
    // empty_ns (tag 0xb0 0x02) as a varint
    CHECK(e.find(bytes({0xb0, 0x02, 0x80, 0x80, 0x80, 0x80, 0x04})) != std::string::npos);
    // lazy_pages = true (tag 0x80 0x03)
    CHECK(e.find(bytes({0x80, 0x03, 0x01})) != std::string::npos);
    // lsm_profile (tag 0xaa 0x03) and lsm_mount_context (tag 0xfa 0x03)
    CHECK(e.find(bytes({0xaa, 0x03, 0x0a, 'a', 'p', 'p', 'a', 'r', 'm', 'o', 'r', ':', 'p'})) != std::string::npos);
    CHECK(e.find(bytes({0xfa, 0x03, 0x03, 'c', 't', 'x'})) != std::string::npos);

    // Unset, none of them is sent.
    criu::Opts none;
    r.opts = &none;
    const std::string n = criu::encode(r);
    for (auto tag : {bytes({0xb0, 0x02}), bytes({0x80, 0x03}), bytes({0xaa, 0x03}), bytes({0xfa, 0x03})})
        CHECK(n.find(tag) == std::string::npos);
}

TEST_CASE("criu rpc: responses", "[criu]") {
    criu::Response r = criu::decode(bytes({0x08, 0x02, 0x10, 0x01, 0x22, 0x03, 0x08, 0xd2, 0x09}));
    CHECK(r.type == 2);
    CHECK(r.success);
    REQUIRE(r.restore_pid);
    CHECK(*r.restore_pid == 1234);

    std::string script = "setup-namespaces";
    std::string notify = bytes({0x08, 0x06, 0x10, 0x01, 0x2a, 0x14, 0x0a, 0x10}) + script + bytes({0x10, 0x7b});
    r = criu::decode(notify);
    CHECK(r.type == 6);
    CHECK(r.notify_script == script);
    CHECK(r.notify_pid == 123);

    r = criu::decode(bytes({0x08, 0x0a, 0x10, 0x01, 0x52, 0x06, 0x08, 0x03, 0x10, 0x11, 0x20, 0x01}));
    REQUIRE(r.version);
    CHECK(r.version->number() == 31701);
    CHECK(r.version->text() == "3.17.1");

    // A failure with its errno and message; an unknown fixed32 field skipped.
    r = criu::decode(bytes({0x08, 0x01, 0x10, 0x00, 0x38, 0x02, 0x4a, 0x02, 'n', 'o', 0x7d, 1, 2, 3, 4}));
    CHECK_FALSE(r.success);
    CHECK(r.cr_errno == 2);
    CHECK(r.cr_errmsg == "no");
}

TEST_CASE("criu rpc: malformed responses are errors", "[criu]") {
    CHECK_THROWS_AS(criu::decode(bytes({0x08})), Error);
    CHECK_THROWS_AS(criu::decode(bytes({0x08, 0x02, 0x22, 0x05, 0x08})), Error);
    CHECK_THROWS_AS(criu::decode(bytes({0x08, 0x02})), Error); // no success
    CHECK_THROWS_AS(criu::decode(bytes({0x0b})), Error);       // wire type 3
}

// checkpoint --status-fd, on CRIU's "status-ready": the reader gets one NUL
// and then the end, while the dump goes on.
TEST_CASE("criu: the status-ready report on --status-fd", "[criu]") {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0); // a missing end fails, not hangs
    int fd = p[1];
    container::report_status_ready(fd);
    CHECK(fd == -1);
    char buf[2] = {1, 1};
    CHECK(read(p[0], buf, sizeof buf) == 1);
    CHECK(buf[0] == 0);
    CHECK(read(p[0], buf, sizeof buf) == 0);
    close(p[0]);

    // A standard descriptor is not left free for the next open: it becomes
    // /dev/null (the pipe still sees its end).
    int saved = dup(STDOUT_FILENO);
    REQUIRE(saved >= 0);
    REQUIRE(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0); // a missing end fails, not hangs
    REQUIRE(dup2(p[1], STDOUT_FILENO) == STDOUT_FILENO);
    close(p[1]);
    fd = STDOUT_FILENO;
    container::report_status_ready(fd);
    char target[64] = {};
    ssize_t tn = readlink("/proc/self/fd/1", target, sizeof target - 1);
    ssize_t first = read(p[0], buf, 1);
    char nul = buf[0];
    ssize_t second = read(p[0], buf, 1);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(p[0]);
    CHECK(fd == -1);
    CHECK(tn > 0);
    CHECK(std::string(target) == "/dev/null");
    CHECK(first == 1);
    CHECK(nul == 0);
    CHECK(second == 0);
}
