// SPDX-License-Identifier: GPL-2.0-or-later
// The OCI runtime-spec 1.3 configuration (config.json) for Linux as typed C++.
// Optional fields are std::optional where "absent" differs from a zero value.
// Names follow the JSON keys so that a reader of the spec finds them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crunpp::spec {

inline constexpr const char *kOciVersion = "1.3.0";

struct IdMapping {
    uint32_t containerID = 0;
    uint32_t hostID = 0;
    uint32_t size = 0;
};

struct Root {
    std::string path;
    bool readonly = false;
};

struct Mount {
    std::string destination;
    std::optional<std::string> type;
    std::optional<std::string> source;
    std::vector<std::string> options;
    std::vector<IdMapping> uidMappings;
    std::vector<IdMapping> gidMappings;
};

struct ConsoleSize {
    uint64_t height = 0;
    uint64_t width = 0;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additionalGids;
    std::optional<std::string> username; // Windows-only in the spec, kept for round trips
};

struct Capabilities {
    // nullopt: the set is not given (left as the runtime's default: empty).
    std::optional<std::vector<std::string>> bounding, effective, inheritable, permitted, ambient;
};

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE; nullopt for a name the spec does not know.
std::optional<int> rlimit_resource_from_name(std::string_view name);

struct Rlimit {
    std::string type; // "RLIMIT_NOFILE"
    int resource = -1; // the RLIMIT_* number, resolved at parse time
    uint64_t soft = 0;
    uint64_t hard = 0;
};

struct Scheduler {
    std::string policy; // "SCHED_OTHER" ...
    std::optional<int32_t> nice, priority;
    std::vector<std::string> flags;
    std::optional<uint64_t> runtime, deadline, period;
};

struct IoPriority {
    std::string ioClass; // JSON "class": IOPRIO_CLASS_RT|BE|IDLE
    int32_t priority = 0;
};

struct ExecCpuAffinity {
    std::optional<std::string> initial, final;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> consoleSize;
    User user;
    std::vector<std::string> args;
    std::optional<std::string> commandLine;
    std::vector<std::string> env;
    std::string cwd = "/";
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool noNewPrivileges = false;
    std::optional<std::string> apparmorProfile;
    std::optional<int> oomScoreAdj;
    std::optional<Scheduler> scheduler;
    std::optional<std::string> selinuxLabel;
    std::optional<IoPriority> ioPriority;
    std::optional<ExecCpuAffinity> execCPUAffinity;
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    // Absent: the runtime's own environment (runc, crun); present, even
    // empty: exactly these variables.
    std::optional<std::vector<std::string>> env;
    std::optional<int> timeout; // seconds, >= 1
};

struct Hooks {
    std::vector<Hook> prestart, createRuntime, createContainer, startContainer, poststart, poststop;
};

enum class NamespaceType { Mount, Pid, Network, Uts, Ipc, User, Cgroup, Time };
inline constexpr int kNamespaceTypeCount = 8;

// "mount", "pid", "network", ... and the CLONE_NEW* flag of each.
const char *namespace_type_name(NamespaceType t);
std::optional<NamespaceType> namespace_type_from_name(std::string_view name);
int namespace_clone_flag(NamespaceType t);

struct Namespace {
    NamespaceType type = NamespaceType::Mount;
    std::optional<std::string> path; // join an existing one (setns)
};

struct TimeOffset {
    int64_t secs = 0;
    uint32_t nanosecs = 0;
};

struct TimeOffsets {
    std::optional<TimeOffset> boottime, monotonic;
};

struct Device {
    std::string type; // "c", "b", "u", "p"
    std::string path;
    int64_t major = 0, minor = 0;
    std::optional<uint32_t> fileMode; // permission bits, 0..0777
    std::optional<uint32_t> uid, gid;
};

struct NetDevice {
    std::optional<std::string> name;
};

struct DeviceCgroup {
    bool allow = false;
    std::optional<std::string> type; // "a", "c", "b"
    std::optional<int64_t> major, minor;
    std::optional<std::string> access; // "rwm"
};

struct Memory {
    std::optional<int64_t> limit, reservation, swap, kernel, kernelTCP;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disableOOMKiller, useHierarchy, checkBeforeUpdate;
};

struct Cpu {
    std::optional<uint64_t> shares;
    std::optional<int64_t> quota;
    std::optional<uint64_t> burst, period;
    std::optional<int64_t> realtimeRuntime;
    std::optional<uint64_t> realtimePeriod;
    std::optional<std::string> cpus, mems;
    std::optional<int64_t> idle;
};

struct Pids {
    int64_t limit = 0;
};

struct WeightDevice {
    int64_t major = 0, minor = 0;
    std::optional<uint16_t> weight, leafWeight;
};

struct ThrottleDevice {
    int64_t major = 0, minor = 0;
    uint64_t rate = 0;
};

struct BlockIO {
    std::optional<uint16_t> weight, leafWeight;
    std::vector<WeightDevice> weightDevice;
    std::vector<ThrottleDevice> throttleReadBpsDevice, throttleWriteBpsDevice, throttleReadIOPSDevice,
        throttleWriteIOPSDevice;
};

struct HugepageLimit {
    std::string pageSize; // "2MB"
    uint64_t limit = 0;
};

struct InterfacePriority {
    std::string name;
    uint32_t priority = 0;
};

struct Network {
    std::optional<uint32_t> classID;
    std::vector<InterfacePriority> priorities;
};

struct Rdma {
    std::optional<uint32_t> hcaHandles, hcaObjects;
};

struct Resources {
    std::vector<DeviceCgroup> devices;
    std::optional<Memory> memory;
    std::optional<Cpu> cpu;
    std::optional<Pids> pids;
    std::optional<BlockIO> blockIO;
    std::vector<HugepageLimit> hugepageLimits;
    std::optional<Network> network;
    std::map<std::string, Rdma> rdma;
    std::map<std::string, std::string> unified;
};

struct IntelRdt {
    std::optional<std::string> closID;
    std::vector<std::string> schemata;
    std::optional<std::string> l3CacheSchema, memBwSchema;
    std::optional<bool> enableMonitoring;
};

struct MemoryPolicy {
    std::string mode; // "MPOL_BIND" ...
    std::optional<std::string> nodes;
    std::vector<std::string> flags;
};

enum class SeccompAction { Kill, KillProcess, KillThread, Trap, Errno, Trace, Allow, Log, Notify };
enum class SeccompOp { NotEqual, LessThan, LessEqual, Equal, GreaterEqual, GreaterThan, MaskedEqual };

const char *seccomp_action_name(SeccompAction a); // "SCMP_ACT_ALLOW"
std::optional<SeccompAction> seccomp_action_from_name(std::string_view name);
const char *seccomp_op_name(SeccompOp o); // "SCMP_CMP_EQ"
std::optional<SeccompOp> seccomp_op_from_name(std::string_view name);
// Every name the spec's enums allow, for validation and `features`.
const std::vector<std::string_view> &seccomp_arch_names();
const std::vector<std::string_view> &seccomp_flag_names();

struct SyscallArg {
    uint32_t index = 0;
    uint64_t value = 0;
    uint64_t valueTwo = 0;
    SeccompOp op = SeccompOp::Equal;
};

struct Syscall {
    std::vector<std::string> names;
    SeccompAction action = SeccompAction::Allow;
    std::optional<uint32_t> errnoRet;
    std::vector<SyscallArg> args;
};

struct Seccomp {
    SeccompAction defaultAction = SeccompAction::Allow;
    std::optional<uint32_t> defaultErrnoRet;
    std::vector<std::string> architectures;
    std::vector<std::string> flags;
    std::optional<std::string> listenerPath;
    std::optional<std::string> listenerMetadata;
    std::vector<Syscall> syscalls;
};

struct Personality {
    std::string domain; // "LINUX" | "LINUX32"
    std::vector<std::string> flags;
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uidMappings, gidMappings;
    std::optional<TimeOffsets> timeOffsets;
    std::vector<Device> devices;
    std::map<std::string, NetDevice> netDevices;
    std::optional<std::string> cgroupsPath;
    std::optional<Resources> resources;
    std::optional<IntelRdt> intelRdt;
    std::optional<MemoryPolicy> memoryPolicy;
    std::map<std::string, std::string> sysctl;
    std::optional<Seccomp> seccomp;
    std::optional<std::string> rootfsPropagation; // [r]private|[r]shared|[r]slave|[r]unbindable
    std::vector<std::string> maskedPaths, readonlyPaths;
    std::optional<std::string> mountLabel;
    std::optional<Personality> personality;

    const Namespace *find_namespace(NamespaceType t) const;
};

struct Config {
    std::string ociVersion;
    std::optional<Root> root;
    std::vector<Mount> mounts;
    std::optional<Process> process;
    std::optional<std::string> hostname, domainname;
    std::optional<Hooks> hooks;
    std::map<std::string, std::string> annotations;
    std::optional<Linux> linux;
};

// Parse and validate a config.json document. `origin` prefixes every error
// ("config.json: .process.cwd: must be an absolute path").
Config parse_config(std::string_view text, std::string_view origin = "config.json");
Config load_config(const std::string &path);

// Only the `process` object, as `exec --process FILE` reads it.
Process parse_process(std::string_view text, std::string_view origin = "process.json");

// Serialize back to JSON (stable key order, fields that are unset omitted).
std::string to_json(const Config &c, bool pretty = true);
std::string to_json(const Process &p, bool pretty = true);

// The default config of `crunpp spec`, as runc's: sh in a terminal, the
// default capabilities, masked and read-only paths, standard mounts.
// rootless: as `runc spec --rootless`: a user namespace mapping uid/gid to 0,
// no network namespace, sysfs as an rbind of /sys, no resources.
Config default_config(bool rootless, uint32_t host_uid = 0, uint32_t host_gid = 0);

} // namespace crunpp::spec
