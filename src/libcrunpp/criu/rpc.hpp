// SPDX-License-Identifier: GPL-2.0-or-later
// The few messages of CRIU's RPC protocol (criu's images/rpc.proto, proto2)
// that checkpoint and restore use, encoded and decoded by hand: the wire
// format of these fields is varints and length-delimited bytes only, which
// is smaller than a protobuf-c dependency and its generated code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crunpp::criu {

// criu_req_type
enum class ReqType : int {
    Empty = 0,
    Dump = 1,
    Restore = 2,
    Check = 3,
    PreDump = 4,
    Notify = 6,
    FeatureCheck = 9,
    Version = 10,
};
const char *req_type_name(int type);

// criu_cg_mode
enum class CgMode : int { Ignore = 0, None = 1, Props = 2, Soft = 3, Full = 4, Strict = 5, Default = 6 };

// criu_opts: what crunpp sets (field numbers in rpc.cpp).
struct Opts {
    int images_dir_fd = -1;
    int work_dir_fd = -1; // -1: the images directory
    int pid = 0;
    bool leave_running = false;
    bool ext_unix_sk = false;
    bool tcp_established = false;
    bool evasive_devices = false;
    bool shell_job = false;
    bool file_locks = false;
    int log_level = 4;
    std::string log_file;
    std::string page_server_address; // with page_server_port: criu_page_server_info
    int page_server_port = 0;
    bool notify_scripts = true;
    std::string root;
    std::string parent_img;
    bool track_mem = false;
    bool auto_dedup = false;
    std::vector<std::pair<std::string, std::string>> ext_mnt; // key, val
    bool manage_cgroups = true;
    std::vector<std::pair<std::string, std::string>> cg_root; // controller ("" for all), path
    bool rst_sibling = false;
    std::vector<std::pair<std::string, int>> inherit_fd; // key, fd in criu
    std::optional<CgMode> manage_cgroups_mode;
    std::vector<std::string> external;
    uint32_t empty_ns = 0;
    std::vector<std::pair<std::string, std::string>> join_ns; // ns, ns_file
    std::string freeze_cgroup;
    bool lazy_pages = false;
    bool orphan_pts_master = false;
    std::string lsm_profile;
    std::string lsm_mount_context;
};

struct Request {
    ReqType type = ReqType::Empty;
    const Opts *opts = nullptr;
    bool notify_success = false;
    bool keep_open = false;
    // FEATURE_CHECK: the features asked about.
    bool feature_mem_track = false;
    bool feature_lazy_pages = false;
};
std::string encode(const Request &r);

struct Version {
    int major = 0, minor = 0, sublevel = 0;
    std::string gitid;
    // 31700 for 3.17.0: the number runc compares.
    int number() const { return major * 10000 + minor * 100 + sublevel; }
    std::string text() const;
};

struct Response {
    int type = 0;
    bool success = false;
    std::optional<int> restore_pid; // criu_restore_resp.pid
    std::string notify_script;       // criu_notify
    int notify_pid = 0;
    int cr_errno = 0;
    std::string cr_errmsg;
    std::optional<Version> version;
    bool feature_mem_track = false;
    bool feature_lazy_pages = false;
};
// Throws Error on a malformed message.
Response decode(std::string_view data);

} // namespace crunpp::criu
