// The `local` cloud: every instance is a real process group on this host,
// with its own directory, running the order's user data as a shell script
// the way cloud-init would, and then staying up like a booted VM.
//
// Plain C++ (no CAF): the actor in local_driver.hpp wraps it. All public
// member functions are thread-safe, because the driver's exit monitor
// thread calls reap() while the actor serves requests.
//
// On disk, <root_dir>/<instance id>/ holds:
//   instance.json  id, order_id, flavor, image, created_at (written first)
//   user-data      the script
//   pid            the root process id, written by the child before exec
//   console.log    stdout and stderr of the instance
//   fault          why it failed, once it has
// The directory is also the instance's home, writable by it: in a sandbox
// it cannot change the other files (see sandbox.hpp), and the manager reads
// back only regular files it owns, never following a link.
// instance.json is written atomically before the process is started, so a
// directory without it never had a process and is removed at startup.
//
// Instances outlive the manager: each runs in its own session, and a new
// local_cloud on the same root re-adopts the running ones (their root
// process must still have the instance directory as working directory and
// lead its own session; anything else is a dead or reused pid). An instance
// whose metadata exists but whose pid file does not was never started (the
// manager stopped between the two): it is adopted as failed, never started
// late, so nothing runs that the manager does not know of.
//
// An instance fails when its root process dies; the rest of its process
// group is then killed, like everything inside a crashed VM. A failed
// instance holds no capacity (nothing of it runs any more) but stays listed
// until erased, and create() for its order id keeps returning it: the
// caller erases it before asking for a replacement.
#pragma once

#include "domain/errors.hpp"
#include "domain/order.hpp"
#include "drivers/local/sandbox.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fogbow {

struct local_cloud_config {
  std::string root_dir;
  cloud_resources capacity; ///< totals; the `*_used` fields are ignored
  std::vector<flavor> flavors;
  std::string ip = "127.0.0.1";
  /// How instances are confined (see sandbox.hpp); root_dir is always
  /// among the paths they do not see.
  sandbox_settings sandbox;
};

class local_cloud {
public:
  /// Creates `cfg.root_dir` if needed and re-adopts the instances in it.
  /// Instances found dead there are adopted as failed (they are not
  /// reported by reap(): callers reconcile through list()). Throws
  /// cloud_failure saying what is missing when the sandbox cannot be set up
  /// on this host.
  explicit local_cloud(local_cloud_config cfg);

  /// Leaves every instance running (a restarted manager re-adopts them).
  ~local_cloud();

  local_cloud(const local_cloud&) = delete;
  local_cloud& operator=(const local_cloud&) = delete;

  /// Starts an instance for `spec.order_id`, or returns the one that order
  /// has already (running or failed). Throws invalid_argument,
  /// no_matching_flavor, no_capacity or cloud_error.
  instance create(const instance_spec& spec);

  /// Throws not_found.
  instance get(const std::string& id) const;

  /// Stops the whole process group (SIGTERM, SIGKILL after a grace period)
  /// and removes the directory. Throws not_found.
  void erase(const std::string& id);

  /// Every instance, running and failed, oldest first.
  std::vector<instance> list() const;

  /// Totals and what the running instances use.
  cloud_resources resources() const;

  /// Sets the totals; instances beyond a lowered limit keep running.
  void set_capacity(const cloud_resources& totals);

  /// Marks instances whose root process has died as failed and returns
  /// those (each only once).
  std::vector<instance> reap();

  /// Readable (poll/epoll) while some running instance's root process has
  /// died and reap() has not yet seen it. Owned by this object.
  int exit_fd() const { return epoll_fd_; }

private:
  struct entry {
    instance inst;
    pid_t pid = -1;
    int pidfd = -1; ///< open while running
    uid_t uid = 0;  ///< its own uid when the manager runs as root
  };

  void release(); ///< closes the descriptors; processes keep running
  void adopt(const std::filesystem::path& dir);
  void watch(entry& e);
  void mark_failed(entry& e, const std::string& fault);
  std::string exit_fault(entry& e);
  void stop(entry& e);
  std::string new_id() const;
  uid_t new_uid() const;
  std::vector<std::string> sandbox_argv(const entry& e, int passwd_fd,
                                        int group_fd) const;
  std::filesystem::path dir_of(const std::string& id) const;

  mutable std::mutex mtx_;
  std::filesystem::path root_; ///< canonical, so it compares with /proc cwd
  cloud_resources capacity_;
  std::vector<flavor> flavors_;
  std::string ip_;
  sandbox_settings sandbox_;
  std::string bwrap_; ///< resolved program; empty without a sandbox
  bool switch_user_;  ///< running as root: every instance gets its own uid
  std::map<std::string, entry> entries_; ///< by instance id
  int epoll_fd_ = -1;
};

} // namespace fogbow
