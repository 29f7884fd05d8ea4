#include "drivers/local/sandbox.hpp"

#include "drivers/local/local_cloud.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fs = std::filesystem;

namespace fogbow {

namespace {

constexpr std::uint64_t mib = std::uint64_t{1024} * 1024;

/// Empty tmpfs that hide host directories; nothing needs room there.
constexpr std::uint64_t mask_bytes = mib;

/// Writable scratch space besides /tmp.
constexpr std::uint64_t scratch_bytes = 16 * mib;

/// True when `path` is `dir` or lies under it (both lexically normal).
bool is_within(const fs::path& path, const fs::path& dir) {
  auto [d, p] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return d == dir.end();
}

void add(std::vector<std::string>& argv,
         std::initializer_list<std::string> words) {
  argv.insert(argv.end(), words);
}

void add_tmpfs(std::vector<std::string>& argv, const std::string& path,
               std::uint64_t bytes, const char* perms) {
  add(argv,
      {"--perms", perms, "--size", std::to_string(bytes), "--tmpfs", path});
}

/// Hides the `hidden` paths that exist and are not hidden already by an
/// earlier mask; returns every masked directory, system ones included.
std::vector<fs::path> add_masks(std::vector<std::string>& argv,
                                const std::vector<std::string>& hidden) {
  std::vector<fs::path> masked{"/root", "/home",    "/run",
                               "/tmp",  "/var/tmp", "/dev/shm"};
  std::vector<fs::path> wanted;
  for (auto& h : hidden)
    if (!h.empty())
      wanted.push_back(fs::absolute(h).lexically_normal());
  // Parents before children, so a child already hidden is skipped.
  std::sort(wanted.begin(), wanted.end());
  for (auto& path : wanted) {
    if (std::any_of(masked.begin(), masked.end(),
                    [&](auto& m) { return is_within(path, m); }))
      continue;
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status))
      continue;
    if (fs::is_directory(status)) {
      add_tmpfs(argv, path.string(), mask_bytes, "0755");
      masked.push_back(path);
    } else {
      add(argv, {"--ro-bind", "/dev/null", path.string()});
    }
  }
  return masked;
}

/// Directories bwrap creates between a mask and the home it mounts are
/// root's and private unless made traversable: the instance reaches its
/// home by absolute path ($HOME) too.
void add_home_parents(std::vector<std::string>& argv, const fs::path& home,
                      const std::vector<fs::path>& masked) {
  fs::path mask;
  for (auto& m : masked)
    if (is_within(home, m) && home != m
        && std::distance(m.begin(), m.end())
             > std::distance(mask.begin(), mask.end()))
      mask = m;
  if (mask.empty())
    return;
  fs::path dir = mask;
  auto rest = home.lexically_relative(mask);
  for (auto part = rest.begin(); std::next(part) != rest.end(); ++part) {
    dir /= *part;
    add(argv, {"--perms", "0711", "--dir", dir.string()});
  }
}

} // namespace

sandbox_limits limits_for(const flavor& f) {
  sandbox_limits l;
  auto memory = static_cast<std::uint64_t>(std::max(f.memory_mb, 64)) * mib;
  l.address_space_bytes = memory;
  int vcpu = std::max(f.vcpu, 1);
  l.max_processes = 128 * vcpu;
  // Each nice level is about 1.25 times less CPU weight: three levels per
  // doubling of vCPUs keep the shares roughly proportional, and every
  // instance stays below the manager (nice 0).
  int doublings = 0;
  for (int v = vcpu; v > 1; v /= 2)
    ++doublings;
  l.nice = std::clamp(10 - 3 * doublings, 1, 19);
  l.tmp_bytes = std::max<std::uint64_t>(memory / 4, scratch_bytes);
  return l;
}

std::string sandbox_passwd(uid_t uid, const std::string& home) {
  auto id = std::to_string(uid);
  return "root:x:0:0:root:/root:/bin/sh\n"
         "instance:x:"
         + id + ":" + id + ":fogbow instance:" + home
         + ":/bin/sh\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
}

std::string sandbox_group(uid_t gid) {
  return "root:x:0:\ninstance:x:" + std::to_string(gid)
         + ":\nnogroup:x:65534:\n";
}

std::vector<std::string> bwrap_argv(const std::string& bwrap,
                                    const sandbox_settings& settings,
                                    const sandbox_request& r) {
  std::vector<std::string> argv{bwrap};
  auto id = std::to_string(r.uid);
  if (r.switch_user)
    add(argv, {"--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"});
  else
    add(argv, {"--unshare-user", "--disable-userns", "--uid", id, "--gid", id});
  add(argv, {"--unshare-pid", "--unshare-ipc", "--unshare-uts",
             "--unshare-cgroup-try", "--hostname", r.hostname});
  add(argv, {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"});
  add_tmpfs(argv, "/root", mask_bytes, "0755");
  add_tmpfs(argv, "/home", mask_bytes, "0755");
  add_tmpfs(argv, "/run", mask_bytes, "0755");
  add_tmpfs(argv, "/tmp", r.limits.tmp_bytes, "1777");
  add_tmpfs(argv, "/var/tmp", scratch_bytes, "1777");
  add_tmpfs(argv, "/dev/shm", scratch_bytes, "1777");
  auto masked = add_masks(argv, settings.hidden);
  fs::path home = fs::path{r.home}.lexically_normal();
  add_home_parents(argv, home, masked);
  add(argv, {"--bind", home.string(), home.string()});
  for (auto& name : r.manager_files) {
    auto path = (home / name).string();
    add(argv, {"--ro-bind", path, path});
  }
  add(argv, {"--perms", "0644", "--ro-bind-data", std::to_string(r.passwd_fd),
             "/etc/passwd", "--perms", "0644", "--ro-bind-data",
             std::to_string(r.group_fd), "/etc/group", "--chdir", home.string(),
             "--"});
  if (r.switch_user)
    add(argv, {"setpriv", "--reuid", id, "--regid", id, "--clear-groups",
               "--inh-caps=-all", "--no-new-privs"});
  add(argv, {"prlimit", "--as=" + std::to_string(r.limits.address_space_bytes),
             "--nproc=" + std::to_string(r.limits.max_processes), "--"});
  argv.insert(argv.end(), r.command.begin(), r.command.end());
  return argv;
}

std::string find_program(const std::string& name) {
  auto executable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos)
    return executable(name) ? name : "";
  std::string path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  if (auto env = std::getenv("PATH"))
    path = std::string{env} + ":" + path;
  size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos)
      end = path.size();
    auto dir = path.substr(start, end - start);
    if (!dir.empty() && executable(fs::path{dir} / name))
      return (fs::path{dir} / name).string();
    start = end + 1;
  }
  return "";
}

namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw cloud_failure(errc::cloud_error,
                      "the local driver cannot sandbox instances on this "
                      "host: "
                        + what
                        + " (or set sandbox = \"none\" under "
                          "[manager.driver] to run instances unconfined, "
                          "as the manager's user)");
}

/// Runs a minimal sandbox; returns what bwrap said on failure, "" when it
/// worked.
std::string probe(const std::string& bwrap) {
  std::vector<std::string> words{bwrap};
  if (geteuid() != 0)
    words.emplace_back("--unshare-user");
  for (auto w : {"--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc",
                 "--dev", "/dev", "--", "/bin/true"})
    words.emplace_back(w);
  std::vector<char*> argv;
  argv.reserve(words.size() + 1);
  for (auto& w : words)
    argv.push_back(w.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0)
    return std::string{"pipe: "} + std::strerror(errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc =
    posix_spawn(&pid, bwrap.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string said;
  std::array<char, 512> buf;
  ssize_t n;
  while ((n = read(out[0], buf.data(), buf.size())) > 0
         || (n < 0 && errno == EINTR))
    if (n > 0 && said.size() < 4096)
      said.append(buf.data(), static_cast<size_t>(n));
  close(out[0]);
  if (rc != 0)
    return "cannot run " + bwrap + ": " + std::strerror(rc);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return "";
  while (!said.empty() && (said.back() == '\n' || said.back() == ' '))
    said.pop_back();
  return said.empty() ? "bwrap failed" : said;
}

} // namespace

std::string check_sandbox(const sandbox_settings& settings) {
  if (settings.mode == sandbox_mode::none)
    return "";
  auto bwrap = find_program(settings.bwrap);
  if (bwrap.empty())
    refuse("bubblewrap ('" + settings.bwrap
           + "') is not installed (Debian: apt-get install bubblewrap)");
  if (find_program("prlimit").empty())
    refuse("prlimit is not installed (Debian: util-linux)");
  if (geteuid() == 0 && find_program("setpriv").empty())
    refuse("setpriv is not installed (Debian: util-linux)");
  if (auto err = probe(bwrap); !err.empty())
    refuse("bwrap cannot create its namespaces (are user namespaces "
           "disabled?): "
           + err);
  return bwrap;
}

} // namespace fogbow
