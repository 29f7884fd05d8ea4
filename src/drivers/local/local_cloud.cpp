#include "drivers/local/local_cloud.hpp"

#include "domain/placement.hpp"
#include "drivers/tunnel/tunnel_agent.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <poll.h>
#include <random>
#include <sstream>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace fogbow {

namespace {

// The boot sequence of an instance: run the user data like cloud-init runs
// a script (directly when it has a shebang, else with sh), then keep the
// root process alive, as a VM stays up after its boot script ends.
// MIME multipart user data (cloud-init's format, used by managers with a
// tunnel) was split into parts/ at create time: its shell scripts run in
// order, as cloud-init runs them.
constexpr const char* boot_script =
  "if [ -d ./parts ]; then for p in ./parts/*; do "
  "case \"$(head -c 2 \"$p\")\" in '#!') \"$p\" ;; *) sh \"$p\" ;; esac; "
  "echo \"$p exited with $?\"; done; else "
  "case \"$(head -c 2 ./user-data)\" in '#!') ./user-data ;; "
  "*) sh ./user-data ;; esac; "
  "echo \"user-data exited with $?\"; fi; exec sleep infinity";

void write_atomically(const fs::path& path, const std::string& content);

/// Writes the shell-script parts of MIME multipart user data to parts/
/// (numbered, in order); other parts (cloud-config) are not run locally.
void write_parts(const fs::path& dir, const std::string& user_data) {
  auto parts = split_multipart(user_data);
  if (parts.empty())
    return;
  fs::create_directory(dir / "parts");
  int n = 0;
  for (auto& p : parts) {
    if (p.content_type != "text/x-shellscript")
      continue;
    char name[16];
    std::snprintf(name, sizeof(name), "%03d", ++n);
    auto path = dir / "parts" / name;
    write_atomically(path, p.body);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write
                            | fs::perms::owner_exec);
  }
}

constexpr auto stop_grace = std::chrono::seconds(2);
constexpr auto kill_wait = std::chrono::seconds(5);

[[noreturn]] void fail(errc code, const std::string& message) {
  throw cloud_failure(code, message);
}

std::string sys_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

bool write_all(int fd, const std::string& content) {
  size_t done = 0;
  while (done < content.size()) {
    auto n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void write_atomically(const fs::path& path, const std::string& content) {
  auto tmp = path;
  tmp += ".tmp";
  // The directory is the instance's home: whatever it left under the
  // temporary name (a link to a file of the manager's, say) is removed,
  // and a fresh file is created or nothing is written.
  unlink(tmp.c_str());
  int fd = open(tmp.c_str(),
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    fail(errc::cloud_error, sys_error("cannot create " + tmp.string()));
  bool ok = write_all(fd, content);
  ok = close(fd) == 0 && ok;
  if (!ok) {
    unlink(tmp.c_str());
    fail(errc::cloud_error, "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    fail(errc::cloud_error,
         "cannot rename " + tmp.string() + ": " + ec.message());
}

/// The content of a file the manager wrote into an instance directory:
/// only a regular file of the manager's own, not a link, a FIFO or a file
/// the instance planted; at most `limit` bytes.
std::optional<std::string> read_file(const fs::path& path,
                                     size_t limit = 1 << 16) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  struct stat st {};
  std::optional<std::string> content;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()) {
    content.emplace();
    char buf[4096];
    ssize_t n;
    while (
      content->size() < limit
      && ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)))
      if (n > 0)
        content->append(buf, static_cast<size_t>(n));
    if (content->size() > limit)
      content->resize(limit);
  }
  close(fd);
  return content;
}

nlohmann::json to_json(const instance& x, uid_t uid) {
  return {{"id", x.id},
          {"uid", uid},
          {"order_id", x.order_id},
          {"flavor",
           {{"name", x.size.name},
            {"vcpu", x.size.vcpu},
            {"memory_mb", x.size.memory_mb},
            {"disk_gb", x.size.disk_gb}}},
          {"image", x.image},
          {"created_at", x.created_at}};
}

/// The instance and the uid it runs as (0: the manager's own).
std::optional<std::pair<instance, uid_t>> from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    return std::nullopt;
  try {
    instance x;
    x.id = j.at("id").get<std::string>();
    x.order_id = j.at("order_id").get<std::string>();
    auto& f = j.at("flavor");
    x.size = {f.at("name").get<std::string>(), f.at("vcpu").get<int>(),
              f.at("memory_mb").get<int>(), f.at("disk_gb").get<int>()};
    x.image = j.at("image").get<std::string>();
    x.created_at = j.at("created_at").get<millis>();
    return std::pair{x, j.value("uid", uid_t{0})};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

/// Makes the instance's uid the owner of its home and of the scripts it
/// runs (they stay read-only for it inside the sandbox).
void hand_over(const fs::path& dir, uid_t uid) {
  auto give = [&](const fs::path& p) {
    if (lchown(p.c_str(), uid, uid) < 0)
      fail(errc::cloud_error, sys_error("cannot chown " + p.string()));
  };
  give(dir);
  give(dir / "user-data");
  if (fs::exists(dir / "parts")) {
    give(dir / "parts");
    for (auto& p : fs::directory_iterator{dir / "parts"})
      give(p.path());
  }
}

bool is_instance_name(const std::string& name) {
  constexpr std::string_view prefix = "local-";
  return name.size() == prefix.size() + 12 && name.starts_with(prefix)
         && std::all_of(name.begin() + prefix.size(), name.end(), [](char c) {
              return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            });
}

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

/// True when `pid` is the root process of the instance in `dir`: it leads
/// its own session and works in that directory. A reused pid fails this.
bool is_instance_root(pid_t pid, const fs::path& dir) {
  std::error_code ec;
  auto cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  return !ec && cwd == dir && getsid(pid) == pid;
}

/// Waits until the process behind `pidfd` has exited, at most `timeout`.
bool wait_exit(int pidfd, std::chrono::milliseconds timeout) {
  pollfd p{pidfd, POLLIN, 0};
  int rc;
  do
    rc = poll(&p, 1, static_cast<int>(timeout.count()));
  while (rc < 0 && errno == EINTR);
  return rc > 0;
}

/// Collects the exit status of our own child (a re-adopted instance of an
/// earlier manager process is not one: its status is lost to us).
std::string collect_status(int pidfd) {
  siginfo_t si{};
  int rc;
  do
    rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si,
                WEXITED);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 || si.si_pid == 0)
    return "process exited";
  if (si.si_code == CLD_EXITED)
    return "process exited with status " + std::to_string(si.si_status);
  return "killed by signal " + std::to_string(si.si_status);
}

/// Descriptors the sandboxed child hands to bwrap: its /etc/passwd and
/// /etc/group (see sandbox_request).
constexpr int passwd_child_fd = 4;
constexpr int group_child_fd = 5;

/// An in-memory file holding `content`, read from its start; -1 on error.
int memory_file(const char* name, const std::string& content) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0)
    return -1;
  if (!write_all(fd, content) || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/// Everything the child needs, prepared before fork: after fork in a
/// multithreaded process only async-signal-safe calls are allowed.
struct launch_plan {
  std::string dir;
  std::vector<std::string> env;
  std::vector<char*> envp;
  std::vector<std::string> args; ///< bwrap ..., or the boot shell alone
  std::vector<char*> argv;
  bool sandboxed = false;
  int nice = 0;
  int passwd_fd = -1; ///< the parent's; closed by the destructor
  int group_fd = -1;

  launch_plan(const fs::path& d, const instance& x)
      : dir(d.string()), env{"PATH=/usr/bin:/bin", "HOME=" + dir,
                             "FOGBOW_INSTANCE_ID=" + x.id,
                             "FOGBOW_ORDER_ID=" + x.order_id} {
    for (auto& s : env)
      envp.push_back(s.data());
    envp.push_back(nullptr);
    set_command(boot_command());
  }

  ~launch_plan() {
    if (passwd_fd >= 0)
      close(passwd_fd);
    if (group_fd >= 0)
      close(group_fd);
  }

  launch_plan(const launch_plan&) = delete;
  launch_plan& operator=(const launch_plan&) = delete;

  static std::vector<std::string> boot_command() {
    return {"/bin/sh", "-c", boot_script};
  }

  void set_command(std::vector<std::string> words) {
    args = std::move(words);
    argv.clear();
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
  }
};

[[noreturn]] void child_fail(int report_fd) {
  int err = errno;
  [[maybe_unused]] auto n = write(report_fd, &err, sizeof(err));
  _exit(127);
}

bool write_pid_file() {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  *--p = '\n';
  for (auto pid = getpid(); pid > 0; pid /= 10)
    *--p = static_cast<char>('0' + pid % 10);
  int fd = open("pid.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  bool ok = write(fd, p, end - p) == end - p;
  return close(fd) == 0 && ok && rename("pid.tmp", "pid") == 0;
}

/// The forked child: becomes the root of a new session in the instance
/// directory, records its pid, and execs the boot script. An errno is sent
/// through `report_fd` (close-on-exec) if anything fails.
[[noreturn]] void run_child(const launch_plan& plan, int report_fd) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    sigaction(s, &dfl, nullptr);
  if (setsid() < 0 || chdir(plan.dir.c_str()) < 0)
    child_fail(report_fd);
  int in = open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, 0) < 0)
    child_fail(report_fd);
  int out = open("console.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
    child_fail(report_fd);
  if (in > 2)
    close(in);
  if (out > 2)
    close(out);
  if (!write_pid_file())
    child_fail(report_fd);
  if (plan.sandboxed && setpriority(PRIO_PROCESS, 0, plan.nice) < 0)
    child_fail(report_fd);
  // Copies above the target numbers first, so that no dup2 below closes a
  // descriptor still to be moved.
  int report = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
  int passwd = plan.sandboxed ? fcntl(plan.passwd_fd, F_DUPFD, 10) : -1;
  int group = plan.sandboxed ? fcntl(plan.group_fd, F_DUPFD, 10) : -1;
  if (report < 0 || (plan.sandboxed && (passwd < 0 || group < 0)))
    child_fail(report_fd);
  if (dup2(report, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
    child_fail(report);
  if (plan.sandboxed
      && (dup2(passwd, passwd_child_fd) < 0 || dup2(group, group_child_fd) < 0))
    child_fail(3);
  close_range(plan.sandboxed ? group_child_fd + 1 : 4, ~0U, 0);
  execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  child_fail(3);
}

/// Forks the instance's root process; returns its pid once the exec
/// succeeded.
pid_t launch(const launch_plan& plan) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0)
    fail(errc::cloud_error, sys_error("pipe"));
  pid_t pid = fork();
  if (pid == 0)
    run_child(plan, report[1]);
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    fail(errc::cloud_error, sys_error("fork"));
  }
  int err = 0;
  ssize_t n;
  do
    n = read(report[0], &err, sizeof(err));
  while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n != 0) {
    waitpid(pid, nullptr, 0);
    errno = n == sizeof(err) ? err : EIO;
    fail(errc::cloud_error, sys_error("cannot start the instance process"));
  }
  return pid;
}

} // namespace

local_cloud::local_cloud(local_cloud_config cfg)
    : flavors_(std::move(cfg.flavors)), ip_(std::move(cfg.ip)),
      sandbox_(std::move(cfg.sandbox)), switch_user_(geteuid() == 0) {
  set_capacity(cfg.capacity);
  bwrap_ = check_sandbox(sandbox_);
  fs::create_directories(cfg.root_dir);
  root_ = fs::canonical(cfg.root_dir);
  sandbox_.hidden.push_back(root_.string());
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0)
    fail(errc::cloud_error, sys_error("epoll_create1"));
  try {
    for (auto& d : fs::directory_iterator{root_}) {
      auto name = d.path().filename().string();
      std::error_code ec;
      if (name.starts_with(".trash-"))
        fs::remove_all(d.path(), ec); // an erase that stopped half-way
      else if (d.is_directory() && is_instance_name(name))
        adopt(d.path());
    }
  } catch (...) {
    release();
    throw;
  }
}

local_cloud::~local_cloud() {
  release();
}

void local_cloud::release() {
  for (auto& [id, e] : entries_)
    if (e.pidfd >= 0)
      close(e.pidfd);
  close(epoll_fd_);
}

void local_cloud::adopt(const fs::path& dir) {
  std::error_code ec;
  auto meta = read_file(dir / "instance.json");
  if (!meta) {
    // Stopped before the metadata was committed: nothing was started.
    fs::remove_all(dir, ec);
    return;
  }
  auto parsed = from_json(*meta);
  if (!parsed || parsed->first.id != dir.filename().string())
    return; // not ours to interpret, and not ours to delete
  auto& [inst, uid] = *parsed;
  inst.ip = ip_;
  inst.state = instance_state::running;
  auto id = inst.id;
  auto& slot = entries_.emplace(id, entry{std::move(inst)}).first->second;
  slot.uid = uid;
  if (auto fault = read_file(dir / "fault")) {
    slot.inst.state = instance_state::failed;
    slot.inst.fault = *fault;
    return;
  }
  auto pid_text = read_file(dir / "pid");
  if (!pid_text) {
    // The manager stopped between the metadata and the fork (the child
    // writes its pid before anything else): nothing ran, so the instance
    // never existed for its order, which gets a fresh one instead of
    // failing for the manager's crash.
    entries_.erase(id);
    fs::remove_all(dir, ec);
    return;
  }
  slot.pid = static_cast<pid_t>(std::atoi(pid_text->c_str()));
  // Open the pidfd before checking, so the check is about the process the
  // pidfd refers to, not about a later holder of the same pid.
  slot.pidfd = slot.pid > 0 ? pidfd_open(slot.pid) : -1;
  if (slot.pidfd >= 0 && is_instance_root(slot.pid, dir)) {
    watch(slot);
    return;
  }
  std::string fault = "process " + std::to_string(slot.pid)
                      + " was gone when the manager started";
  if (slot.pidfd >= 0) {
    // Possibly our own zombie child (the manager object was recreated in
    // the same process): collect its status without blocking.
    siginfo_t si{};
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(slot.pidfd),
               &si, WEXITED | WNOHANG)
          == 0
        && si.si_pid != 0)
      fault = si.si_code == CLD_EXITED
                ? "process exited with status " + std::to_string(si.si_status)
                : "killed by signal " + std::to_string(si.si_status);
    close(slot.pidfd);
    slot.pidfd = -1;
  }
  mark_failed(slot, fault);
}

void local_cloud::watch(entry& e) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = e.pidfd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, e.pidfd, &ev) < 0)
    fail(errc::cloud_error, sys_error("epoll_ctl"));
}

void local_cloud::mark_failed(entry& e, const std::string& fault) {
  if (e.pidfd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, e.pidfd, nullptr);
    close(e.pidfd);
    e.pidfd = -1;
  }
  e.inst.state = instance_state::failed;
  e.inst.fault = fault;
  // Best effort: without the file, the next startup finds the dead pid and
  // fails the instance again, only with a vaguer fault.
  try {
    write_atomically(dir_of(e.inst.id) / "fault", fault);
  } catch (const cloud_failure&) {
  }
}

std::string local_cloud::exit_fault(entry& e) {
  // The root is dead (or a zombie child that holds its pid); nothing of a
  // crashed VM keeps running, so neither may the rest of its group.
  kill(-e.pid, SIGKILL);
  return collect_status(e.pidfd);
}

void local_cloud::stop(entry& e) {
  kill(-e.pid, SIGTERM);
  wait_exit(e.pidfd, stop_grace);
  kill(-e.pid, SIGKILL); // whatever ignored SIGTERM or outlived the root
  if (wait_exit(e.pidfd, kill_wait))
    collect_status(e.pidfd); // never blocks on a process stuck in the kernel
}

std::string local_cloud::new_id() const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (;;) {
    char buf[13];
    std::snprintf(buf, sizeof(buf), "%012llx",
                  static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
    std::string id = std::string{"local-"} + buf;
    if (!entries_.contains(id) && !fs::exists(dir_of(id)))
      return id;
  }
}

uid_t local_cloud::new_uid() const {
  std::vector<bool> taken(sandbox_uid_slots);
  for (auto& [id, e] : entries_)
    if (e.uid >= sandbox_uid_base && e.uid - sandbox_uid_base < taken.size())
      taken[e.uid - sandbox_uid_base] = true;
  auto free = std::find(taken.begin(), taken.end(), false);
  if (free == taken.end())
    fail(errc::no_capacity, "no free sandbox uid");
  return sandbox_uid_base + static_cast<uid_t>(free - taken.begin());
}

std::vector<std::string>
local_cloud::sandbox_argv(const entry& e, int passwd_fd, int group_fd) const {
  sandbox_request r;
  r.home = dir_of(e.inst.id).string();
  r.manager_files = {"instance.json", "pid", "user-data", "console.log"};
  if (fs::exists(dir_of(e.inst.id) / "parts"))
    r.manager_files.emplace_back("parts");
  r.hostname = e.inst.id;
  r.switch_user = switch_user_;
  r.uid = e.uid;
  r.passwd_fd = passwd_fd;
  r.group_fd = group_fd;
  r.limits = limits_for(e.inst.size);
  r.command = launch_plan::boot_command();
  return bwrap_argv(bwrap_, sandbox_, r);
}

fs::path local_cloud::dir_of(const std::string& id) const {
  return root_ / id;
}

instance local_cloud::create(const instance_spec& spec) {
  std::lock_guard guard{mtx_};
  for (auto& [id, e] : entries_)
    if (e.inst.order_id == spec.order_id)
      return e.inst;
  auto size = pick_flavor(flavors_, spec);
  auto used = capacity_;
  for (auto& [id, e] : entries_)
    if (e.inst.state != instance_state::failed)
      add_use(used, e.inst.size);
  check_room(used, size);
  entry e;
  e.inst.id = new_id();
  e.inst.order_id = spec.order_id;
  e.inst.size = size;
  e.inst.image = spec.image;
  e.inst.ip = ip_;
  e.inst.created_at = now_millis();
  bool sandboxed = sandbox_.mode == sandbox_mode::bwrap;
  if (sandboxed)
    e.uid = switch_user_ ? new_uid() : geteuid();
  auto dir = dir_of(e.inst.id);
  std::error_code ec;
  if (!fs::create_directory(dir, ec))
    fail(errc::cloud_error,
         "cannot create " + dir.string() + ": " + ec.message());
  try {
    fs::permissions(dir, fs::perms::owner_all, ec);
    write_atomically(dir / "user-data", spec.user_data);
    fs::permissions(dir / "user-data", fs::perms::owner_read
                                         | fs::perms::owner_write
                                         | fs::perms::owner_exec);
    write_parts(dir, spec.user_data);
    if (sandboxed && switch_user_)
      hand_over(dir, e.uid);
    // From here on a restart knows this instance; it adopts it once the
    // child has written its pid (see adopt()).
    write_atomically(
      dir / "instance.json",
      to_json(e.inst, sandboxed && switch_user_ ? e.uid : 0).dump(2));
    launch_plan plan{dir, e.inst};
    if (sandboxed) {
      plan.sandboxed = true;
      plan.nice = limits_for(e.inst.size).nice;
      plan.passwd_fd = memory_file("passwd", sandbox_passwd(e.uid, dir));
      plan.group_fd = memory_file("group", sandbox_group(e.uid));
      if (plan.passwd_fd < 0 || plan.group_fd < 0)
        fail(errc::cloud_error, sys_error("memfd_create"));
      plan.set_command(sandbox_argv(e, passwd_child_fd, group_child_fd));
    }
    e.pid = launch(plan);
  } catch (...) {
    fs::remove_all(dir, ec);
    throw;
  }
  e.pidfd = pidfd_open(e.pid);
  if (e.pidfd < 0) {
    auto msg = sys_error("pidfd_open");
    kill(-e.pid, SIGKILL);
    waitpid(e.pid, nullptr, 0);
    fs::remove_all(dir, ec);
    fail(errc::cloud_error, msg);
  }
  e.inst.state = instance_state::running;
  auto id = e.inst.id;
  auto& slot = entries_.emplace(id, std::move(e)).first->second;
  watch(slot);
  return slot.inst;
}

instance local_cloud::get(const std::string& id) const {
  std::lock_guard guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    fail(errc::not_found, "no instance " + id);
  return i->second.inst;
}

void local_cloud::erase(const std::string& id) {
  std::lock_guard guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    fail(errc::not_found, "no instance " + id);
  auto& e = i->second;
  if (e.pidfd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, e.pidfd, nullptr);
    stop(e);
    close(e.pidfd);
  }
  // Renaming first makes the removal atomic for a restart: a half-deleted
  // directory must not be re-adopted as an instance.
  auto trash = root_ / (".trash-" + id);
  std::error_code ec;
  fs::rename(dir_of(id), trash, ec);
  fs::remove_all(ec ? dir_of(id) : trash, ec);
  entries_.erase(i);
}

std::vector<instance> local_cloud::list() const {
  std::lock_guard guard{mtx_};
  std::vector<instance> out;
  out.reserve(entries_.size());
  for (auto& [id, e] : entries_)
    out.push_back(e.inst);
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) {
    return a.created_at < b.created_at;
  });
  return out;
}

cloud_resources local_cloud::resources() const {
  std::lock_guard guard{mtx_};
  auto r = capacity_;
  for (auto& [id, e] : entries_)
    if (e.inst.state != instance_state::failed)
      add_use(r, e.inst.size);
  return r;
}

void local_cloud::set_capacity(const cloud_resources& totals) {
  std::lock_guard guard{mtx_};
  capacity_ = cloud_resources{};
  capacity_.vcpu_total = totals.vcpu_total;
  capacity_.memory_mb_total = totals.memory_mb_total;
  capacity_.instances_total = totals.instances_total;
}

std::vector<instance> local_cloud::reap() {
  std::lock_guard guard{mtx_};
  std::vector<pollfd> fds;
  std::vector<entry*> owners;
  for (auto& [id, e] : entries_)
    if (e.pidfd >= 0) {
      fds.push_back({e.pidfd, POLLIN, 0});
      owners.push_back(&e);
    }
  std::vector<instance> failed;
  if (fds.empty() || poll(fds.data(), fds.size(), 0) <= 0)
    return failed;
  for (size_t i = 0; i < fds.size(); ++i)
    if (fds[i].revents != 0) {
      auto& e = *owners[i];
      mark_failed(e, exit_fault(e));
      failed.push_back(e.inst);
    }
  return failed;
}

} // namespace fogbow
