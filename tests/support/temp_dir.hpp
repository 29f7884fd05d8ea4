#pragma once

// Temporary folders for tests. A folder that a local cloud ran instances in
// must also lose their processes: instances outlive their manager by design
// (like VMs), a test's must not.

#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fogbow::test {

/// Kills every process whose working directory lies below `dir`, and reaps
/// those that are our children.
inline void kill_processes_under(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  auto prefix = dir.string() + "/";
  std::vector<pid_t> killed;
  for (auto& d : fs::directory_iterator{"/proc"}) {
    std::error_code ec;
    auto cwd = fs::read_symlink(d.path() / "cwd", ec).string();
    auto pid = static_cast<pid_t>(std::atoi(d.path().filename().c_str()));
    if (!ec && cwd.starts_with(prefix) && kill(pid, SIGKILL) == 0)
      killed.push_back(pid);
  }
  for (auto pid : killed)
    waitpid(pid, nullptr, 0); // ECHILD at once when not our child
}

/// A fresh folder under /tmp, removed (with any process working in it) on
/// destruction.
struct temp_dir {
  std::filesystem::path path;

  explicit temp_dir(const char* prefix = "fogbow-test") {
    auto tmpl = std::string{"/tmp/"} + prefix + "-XXXXXX";
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = std::filesystem::canonical(tmpl);
  }

  ~temp_dir() {
    kill_processes_under(path);
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string file(const char* name) const { return (path / name).string(); }
};

} // namespace fogbow::test
