// The local driver's sandbox: its command line, its limits, and the refusal
// to start where it cannot be set up.
#include "drivers/local/sandbox.hpp"
#include "drivers/local/local_cloud.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace fogbow;

namespace {

using args = std::vector<std::string>;

/// Index of the option `words` (consecutive) in `argv`, or -1.
long find_words(const args& argv, const args& words) {
  auto it = std::search(argv.begin(), argv.end(), words.begin(), words.end());
  return it == argv.end() ? -1 : it - argv.begin();
}

long separator(const args& argv) {
  return std::find(argv.begin(), argv.end(), "--") - argv.begin();
}

sandbox_request request_for(const std::string& home, bool switch_user) {
  sandbox_request r;
  r.home = home;
  r.manager_files = {"instance.json", "pid"};
  r.hostname = "local-0123456789ab";
  r.switch_user = switch_user;
  r.uid = 2'000'000'007;
  r.passwd_fd = 4;
  r.group_fd = 5;
  r.limits = limits_for({"small", 1, 512, 10});
  r.command = {"/bin/sh", "-c", "echo hi"};
  return r;
}

} // namespace

/// A directory outside /tmp (which the sandbox hides as a whole), removed
/// at the end.
struct work_dir {
  fs::path path =
    fs::current_path() / ("sandbox-test-" + std::to_string(getpid()));
  work_dir() { fs::create_directories(path); }
  ~work_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TEST_CASE("sandbox: the command line confines the instance") {
  work_dir root;
  auto data = root.path / "data";
  auto instances = data / "instances";
  auto home = instances / "local-0123456789ab";
  fs::create_directories(home);
  auto config_file = root.path / "fogbow.toml";
  std::ofstream{config_file} << "[manager]\n";
  sandbox_settings s;
  s.hidden = {data.string(), config_file.string(), instances.string(),
              (root.path / "missing").string()};
  auto argv = bwrap_argv("/usr/bin/bwrap", s, request_for(home.string(), true));
  auto end = separator(argv);
  REQUIRE(end < static_cast<long>(argv.size()));
  CHECK(argv[0] == "/usr/bin/bwrap");
  // Namespaces: PID, IPC and UTS of its own, the host's network.
  for (auto opt : {"--unshare-pid", "--unshare-ipc", "--unshare-uts"})
    CHECK(find_words(argv, {opt}) >= 0);
  CHECK(find_words(argv, {"--unshare-net"}) < 0);
  CHECK(find_words(argv, {"--unshare-all"}) < 0);
  CHECK(find_words(argv, {"--share-net"}) < 0);
  // The host read-only, /root and /tmp hidden, a /proc of its own.
  CHECK(find_words(argv, {"--ro-bind", "/", "/"}) >= 0);
  CHECK(find_words(argv, {"--proc", "/proc"}) >= 0);
  CHECK(find_words(argv, {"--tmpfs", "/root"}) >= 0);
  CHECK(find_words(argv, {"--tmpfs", "/tmp"}) >= 0);
  // The manager's data (the instances root inside it needs no mask of its
  // own) and its configuration file are hidden; a missing path is skipped.
  auto data_mask = find_words(argv, {"--tmpfs", data.string()});
  CHECK(data_mask >= 0);
  CHECK(find_words(argv, {"--tmpfs", instances.string()}) < 0);
  CHECK(find_words(argv, {"--ro-bind", "/dev/null", config_file.string()})
        >= 0);
  CHECK(std::find(argv.begin(), argv.end(), (root.path / "missing").string())
        == argv.end());
  // Below a directory hidden as a whole, nothing needs a mask of its own.
  fogbow::test::temp_dir under_tmp;
  s.hidden = {under_tmp.path.string()};
  CHECK(find_words(bwrap_argv("bwrap", s, request_for("/x/y", true)),
                   {"--tmpfs", under_tmp.path.string()})
        < 0);
  // Its home: writable at its host path, after the masks, with the
  // manager's files read-only over it, and its working directory.
  auto home_bind = find_words(argv, {"--bind", home.string(), home.string()});
  CHECK(home_bind > data_mask);
  auto pid = (home / "pid").string();
  CHECK(find_words(argv, {"--ro-bind", pid, pid}) > home_bind);
  CHECK(find_words(argv, {"--perms", "0711", "--dir", instances.string()})
        > data_mask);
  CHECK(find_words(argv, {"--chdir", home.string()}) >= 0);
  CHECK(find_words(argv, {"--ro-bind-data", "4", "/etc/passwd"}) >= 0);
  // As root: no user namespace, and setpriv drops to the instance's uid
  // before prlimit applies the flavor and the command runs.
  CHECK(find_words(argv, {"--unshare-user"}) < 0);
  CHECK(find_words(argv, {"--cap-add", "CAP_SETUID"}) >= 0);
  auto drop = find_words(argv, {"setpriv", "--reuid", "2000000007", "--regid",
                                "2000000007", "--clear-groups"});
  CHECK(drop == end + 1);
  auto limit =
    find_words(argv, {"prlimit", "--as=536870912", "--nproc=128", "--"});
  CHECK(limit > drop);
  CHECK(args(argv.end() - 3, argv.end()) == args{"/bin/sh", "-c", "echo hi"});
}

TEST_CASE("sandbox: a manager that is not root confines in a user namespace") {
  fogbow::test::temp_dir root;
  sandbox_settings s;
  auto r = request_for((root.path / "i").string(), false);
  r.uid = 1000;
  auto argv = bwrap_argv("bwrap", s, r);
  CHECK(find_words(argv, {"--unshare-user", "--disable-userns", "--uid", "1000",
                          "--gid", "1000"})
        >= 0);
  CHECK(find_words(argv, {"setpriv"}) < 0);
  CHECK(find_words(argv, {"--cap-add"}) < 0);
  CHECK(argv[separator(argv) + 1] == "prlimit");
}

TEST_CASE("sandbox: limits follow the flavor") {
  auto small = limits_for({"small", 1, 512, 10});
  auto large = limits_for({"large", 4, 2048, 40});
  CHECK(small.address_space_bytes == 512ull << 20);
  CHECK(large.address_space_bytes == 2048ull << 20);
  CHECK(small.max_processes < large.max_processes);
  // More vCPUs, less nice (more CPU weight); all nicer than the manager.
  CHECK(large.nice < small.nice);
  CHECK(large.nice > 0);
  CHECK(small.nice <= 19);
}

TEST_CASE("sandbox: passwd and group name the instance's uid") {
  auto passwd = sandbox_passwd(2'000'000'003, "/data/instances/local-x");
  CHECK(passwd.find("instance:x:2000000003:2000000003:fogbow instance:"
                    "/data/instances/local-x:/bin/sh\n")
        != std::string::npos);
  CHECK(sandbox_group(2'000'000'003).find("instance:x:2000000003:")
        != std::string::npos);
}

TEST_CASE("sandbox: without bwrap the local cloud refuses to start") {
  fogbow::test::temp_dir root;
  local_cloud_config cfg;
  cfg.root_dir = (root.path / "instances").string();
  cfg.sandbox.bwrap = (root.path / "no-such-bwrap").string();
  std::string message;
  try {
    local_cloud cloud{cfg};
  } catch (const cloud_failure& e) {
    CHECK(e.code == errc::cloud_error);
    message = e.what();
  }
  CHECK(message.find("bubblewrap") != std::string::npos);
  CHECK(message.find("no-such-bwrap") != std::string::npos);
  CHECK(message.find("sandbox = \"none\"") != std::string::npos);
  CHECK_FALSE(fs::exists(root.path / "instances")); // nothing was changed
  // The operator's explicit choice: no sandbox, no bwrap needed.
  cfg.sandbox.mode = sandbox_mode::none;
  CHECK_NOTHROW(local_cloud{cfg});
}

TEST_CASE("sandbox: a bwrap that cannot create namespaces is refused") {
  fogbow::test::temp_dir root;
  auto fake = root.path / "bwrap";
  std::ofstream{fake} << "#!/bin/sh\necho 'bwrap: No permissions to create "
                         "new namespace' >&2\nexit 1\n";
  fs::permissions(fake, fs::perms::owner_all);
  local_cloud_config cfg;
  cfg.root_dir = (root.path / "instances").string();
  cfg.sandbox.bwrap = fake.string();
  std::string message;
  try {
    local_cloud cloud{cfg};
  } catch (const cloud_failure& e) {
    message = e.what();
  }
  CHECK(message.find("No permissions to create new namespace")
        != std::string::npos);
  CHECK(message.find("user namespaces") != std::string::npos);
}
