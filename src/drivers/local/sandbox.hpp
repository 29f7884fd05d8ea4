// How the local cloud confines an instance: bubblewrap (`bwrap`) puts its
// processes into their own mount, PID, IPC and UTS namespaces, and the
// flavor becomes resource limits. Plain C++: this file only computes the
// command line and the limits; local_cloud forks and execs them.
//
// Inside the sandbox:
// - the host file system is mounted read-only; /root, /home, /run, /tmp,
//   /var/tmp and /dev/shm are empty tmpfs (the last three writable and
//   bounded), and every `hidden` path (the manager's data directory, the
//   instances root, the configuration file...) is covered by an empty
//   tmpfs or, for a file, by /dev/null;
// - the instance's own directory is mounted writable at its host path and
//   is its home and working directory; the manager's files in it
//   (instance.json, pid, user-data, parts, console.log) are mounted
//   read-only over themselves, so the instance can neither change nor
//   remove them;
// - it has its own /proc: it sees and signals only its own processes;
// - the network namespace is the host's: it reaches the reverse tunnel on
//   loopback and binds its own ports.
//
// Identity: a manager running as root gives every instance a distinct
// unprivileged uid (and gid) of its own; bwrap creates the namespaces as
// root and `setpriv` drops to that uid before anything of the user runs. A
// manager running as another user cannot switch uids: bwrap then creates a
// user namespace too, and the instance runs as the manager's uid (it can
// read what that user can read outside the hidden paths).
//
// Limits, applied by `prlimit` inside the sandbox: RLIMIT_AS is the
// flavor's memory (per process), RLIMIT_NPROC the process limit (counted
// per uid, and per user namespace since Linux 5.14, so a fork bomb stops
// at the limit without touching the manager's or other instances' count);
// the CPU share is a nice level: fewer vCPUs, nicer.
#pragma once

#include "domain/order.hpp"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fogbow {

enum class sandbox_mode { bwrap, none };

struct sandbox_settings {
  sandbox_mode mode = sandbox_mode::bwrap;
  /// The bwrap program: a name looked up in PATH, or a path.
  std::string bwrap = "bwrap";
  /// Host paths no instance may see (files or directories).
  std::vector<std::string> hidden;
};

/// What a flavor allows one instance.
struct sandbox_limits {
  std::uint64_t address_space_bytes = 0; ///< RLIMIT_AS of every process
  int max_processes = 0;                 ///< RLIMIT_NPROC
  int nice = 0;                          ///< scheduling priority
  std::uint64_t tmp_bytes = 0;           ///< size of its /tmp
};

sandbox_limits limits_for(const flavor& f);

/// First uid (and gid) of the instances of a manager running as root; an
/// instance gets sandbox_uid_base + a slot no other instance holds.
constexpr uid_t sandbox_uid_base = 2'000'000'000;
constexpr int sandbox_uid_slots = 1 << 20;

/// Everything the command line of one instance depends on.
struct sandbox_request {
  std::string home;                       ///< instance directory (absolute)
  std::vector<std::string> manager_files; ///< names in home, read-only
  std::string hostname;                   ///< the instance id
  bool switch_user = false; ///< the manager is root: drop to uid/gid
  uid_t uid = 0;            ///< the instance's uid (and gid)
  int passwd_fd = -1;       ///< /etc/passwd of the sandbox, read by bwrap
  int group_fd = -1;        ///< /etc/group of the sandbox
  sandbox_limits limits;
  std::vector<std::string> command; ///< what runs inside, in home
};

/// The full command line: bwrap, its options and the request's command.
/// `bwrap` is the resolved program path. Looks at the file system only to
/// tell which hidden paths exist and which are files.
std::vector<std::string> bwrap_argv(const std::string& bwrap,
                                    const sandbox_settings& settings,
                                    const sandbox_request& request);

/// The sandbox's /etc/passwd and /etc/group: root, the instance, nobody.
std::string sandbox_passwd(uid_t uid, const std::string& home);
std::string sandbox_group(uid_t gid);

/// `name` if it contains a '/', else its first match in PATH (or the
/// standard directories); empty when there is no such executable.
std::string find_program(const std::string& name);

/// Checks that instances can be sandboxed on this host: bwrap, setpriv and
/// prlimit are installed and bwrap can create its namespaces. Returns the
/// resolved bwrap path; throws cloud_failure(cloud_error) saying what is
/// missing. Does nothing (and returns "") in mode none.
std::string check_sandbox(const sandbox_settings& settings);

} // namespace fogbow
