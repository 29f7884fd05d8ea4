// The local cloud with real processes in a temporary directory.
#include "drivers/local/local_cloud.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace fogbow;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in{p};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t pid_of(const fs::path& instance_dir) {
  return static_cast<pid_t>(std::atoi(slurp(instance_dir / "pid").c_str()));
}

/// Processes of group `pgid` that are still alive (zombies do not count:
/// they run nothing and are reaped by their parent, maybe init).
int live_members(pid_t pgid) {
  int n = 0;
  for (auto& d : fs::directory_iterator{"/proc"}) {
    auto stat = slurp(d.path() / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream rest{stat.substr(close + 2)};
    char state;
    pid_t ppid, pgrp;
    if (rest >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z')
      ++n;
  }
  return n;
}

bool eventually(const std::function<bool()>& pred,
                std::chrono::seconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

using temp_root = fogbow::test::temp_dir;

const std::vector<flavor> flavors{
  {"large", 4, 4096, 40}, {"small", 1, 512, 10}, {"medium", 2, 1024, 20}};

local_cloud_config config_for(const temp_root& root, int vcpu = 16,
                              int memory_mb = 16384, int instances = 10) {
  local_cloud_config cfg;
  cfg.root_dir = root.path.string();
  cfg.capacity.vcpu_total = vcpu;
  cfg.capacity.memory_mb_total = memory_mb;
  cfg.capacity.instances_total = instances;
  cfg.flavors = flavors;
  // The life cycle of instance processes, seen from the host (pids and
  // process groups the test's user data reports); confinement is tested
  // in sandbox.test.cpp and tests/integration/test_local_sandbox.py.
  cfg.sandbox.mode = sandbox_mode::none;
  return cfg;
}

instance_spec spec_for(std::string order_id, std::string user_data = "",
                       std::string requirements = "") {
  instance_spec s;
  s.order_id = std::move(order_id);
  s.requirements = std::move(requirements);
  s.member_id = "site-a";
  s.image = "debian-12";
  s.user_data = std::move(user_data);
  return s;
}

std::optional<errc> failure_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const cloud_failure& e) {
    return e.code;
  }
  return std::nullopt;
}

bool readable_within(int fd, std::chrono::seconds limit) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(limit.count() * 1000)) == 1;
}

} // namespace

TEST_CASE("local cloud: create runs the user data in the instance directory") {
  temp_root root;
  local_cloud cloud{config_for(root)};
  auto x = cloud.create(spec_for("order-1", "echo hello > booted\n"
                                            "echo $FOGBOW_ORDER_ID > order\n"
                                            "echo $FOGBOW_INSTANCE_ID > id\n"));
  CHECK(x.state == instance_state::running);
  CHECK(x.order_id == "order-1");
  CHECK(x.id.starts_with("local-"));
  CHECK(x.id.size() == 18);
  CHECK(x.ip == "127.0.0.1");
  CHECK(x.image == "debian-12");
  CHECK(x.size.name == "small"); // the smallest flavor, whatever the order
  auto dir = root.path / x.id;
  REQUIRE(eventually([&] { return fs::exists(dir / "id"); }));
  CHECK(slurp(dir / "booted") == "hello\n");
  CHECK(slurp(dir / "order") == "order-1\n");
  CHECK(slurp(dir / "id") == x.id + "\n");
  REQUIRE(eventually([&] {
    return slurp(dir / "console.log").find("user-data exited with 0")
           != std::string::npos;
  }));
  // The boot script has ended, yet the instance keeps running.
  CHECK(kill(pid_of(dir), 0) == 0);
  CHECK(cloud.get(x.id) == x);
}

TEST_CASE("local cloud: a user data script with a shebang is executed") {
  temp_root root;
  local_cloud cloud{config_for(root)};
  auto x = cloud.create(spec_for("o", "#!/bin/sh\necho $0 > self\n"));
  auto dir = root.path / x.id;
  REQUIRE(eventually([&] { return fs::exists(dir / "self"); }));
  CHECK(slurp(dir / "self") == "./user-data\n");
}

TEST_CASE("local cloud: create is idempotent per order id") {
  temp_root root;
  local_cloud cloud{config_for(root)};
  auto a = cloud.create(spec_for("order-1"));
  auto b = cloud.create(spec_for("order-1", "echo other"));
  CHECK(a == b);
  auto c = cloud.create(spec_for("order-2"));
  CHECK(c.id != a.id);
  CHECK(cloud.list().size() == 2);
  CHECK(cloud.resources().instances_used == 2);
}

TEST_CASE("local cloud: the smallest matching flavor is picked") {
  temp_root root;
  local_cloud cloud{config_for(root)};
  CHECK(cloud.create(spec_for("a", "", "Glue2vCPU >= 2")).size.name
        == "medium");
  CHECK(cloud.create(spec_for("b", "", "Glue2RAM > 1024")).size.name
        == "large");
  CHECK(
    cloud.create(spec_for("c", "", "Glue2CloudComputeManagerID == \"site-a\""))
      .size.name
    == "small");
}

TEST_CASE("local cloud: requirements no flavor satisfies are refused") {
  temp_root root;
  local_cloud cloud{config_for(root)};
  CHECK(failure_of([&] { cloud.create(spec_for("a", "", "Glue2vCPU >= 64")); })
        == errc::no_matching_flavor);
  CHECK(failure_of([&] {
          cloud.create(
            spec_for("b", "", "Glue2CloudComputeManagerID == \"site-b\""));
        })
        == errc::no_matching_flavor);
  CHECK(failure_of([&] { cloud.create(spec_for("c", "", "Glue2Foo > 1")); })
        == errc::invalid_argument);
  CHECK(cloud.list().empty());
  CHECK(fs::is_empty(root.path)); // refused orders leave nothing behind
}

TEST_CASE("local cloud: the instance limit is enforced") {
  temp_root root;
  local_cloud cloud{config_for(root, 16, 16384, 2)};
  cloud.create(spec_for("a"));
  cloud.create(spec_for("b"));
  CHECK(failure_of([&] { cloud.create(spec_for("c")); }) == errc::no_capacity);
  CHECK(cloud.list().size() == 2);
  cloud.erase(cloud.list().front().id);
  CHECK(cloud.create(spec_for("c")).order_id == "c");
}

TEST_CASE("local cloud: vCPUs and memory are enforced") {
  temp_root root;
  SUBCASE("vCPUs") {
    local_cloud cloud{config_for(root, 3, 16384, 10)};
    cloud.create(spec_for("a", "", "Glue2vCPU >= 2"));
    CHECK(failure_of([&] { cloud.create(spec_for("b", "", "Glue2vCPU >= 2")); })
          == errc::no_capacity);
    cloud.create(spec_for("c"));
    auto r = cloud.resources();
    CHECK(r.vcpu_used == 3);
    CHECK(r.vcpu_total == 3);
    CHECK(r.memory_mb_used == 1024 + 512);
    CHECK(r.instances_used == 2);
  }
  SUBCASE("memory") {
    local_cloud cloud{config_for(root, 16, 1600, 10)};
    auto big = spec_for("a", "", "Glue2RAM >= 1000");
    cloud.create(big);
    big.order_id = "b";
    CHECK(failure_of([&] { cloud.create(big); }) == errc::no_capacity);
    cloud.create(spec_for("c"));
    CHECK(failure_of([&] { cloud.create(spec_for("d")); })
          == errc::no_capacity);
    CHECK(cloud.resources().memory_mb_used == 1536);
  }
}

TEST_CASE("local cloud: set_capacity changes the totals only") {
  temp_root root;
  local_cloud cloud{config_for(root)};
  cloud.create(spec_for("a"));
  cloud_resources totals;
  totals.vcpu_total = 1;
  totals.memory_mb_total = 512;
  totals.instances_total = 1;
  totals.vcpu_used = 99; // ignored
  cloud.set_capacity(totals);
  auto r = cloud.resources();
  CHECK(r.vcpu_total == 1);
  CHECK(r.vcpu_used == 1);
  CHECK(r.instances_used == 1);
  CHECK(failure_of([&] { cloud.create(spec_for("b")); }) == errc::no_capacity);
  totals.instances_total = 2;
  totals.vcpu_total = 2;
  totals.memory_mb_total = 1024;
  cloud.set_capacity(totals);
  CHECK(cloud.create(spec_for("b")).state == instance_state::running);
}

TEST_CASE("local cloud: erase kills the whole process group") {
  temp_root root;
  local_cloud cloud{config_for(root)};
  auto x =
    cloud.create(spec_for("order-1", "sleep 1000 &\necho $! > bg.pid\n"
                                     "trap '' TERM\necho started > started\n"
                                     "while :; do sleep 1; done\n"));
  auto dir = root.path / x.id;
  REQUIRE(eventually([&] { return fs::exists(dir / "started"); }));
  pid_t root_pid = pid_of(dir);
  pid_t bg = static_cast<pid_t>(std::atoi(slurp(dir / "bg.pid").c_str()));
  CHECK(getpgid(bg) == root_pid);
  CHECK(live_members(root_pid) >= 3);
  cloud.erase(x.id);
  CHECK(eventually([&] { return live_members(root_pid) == 0; }));
  CHECK_FALSE(fs::exists(dir));
  CHECK(failure_of([&] { cloud.get(x.id); }) == errc::not_found);
  CHECK(failure_of([&] { cloud.erase(x.id); }) == errc::not_found);
  CHECK(cloud.list().empty());
  CHECK(cloud.resources().instances_used == 0);
}

TEST_CASE("local cloud: a killed root process fails the instance") {
  temp_root root;
  local_cloud cloud{config_for(root, 16, 16384, 1)};
  auto x =
    cloud.create(spec_for("order-1", "sleep 1000 &\necho started > started\n"));
  auto dir = root.path / x.id;
  REQUIRE(eventually([&] { return fs::exists(dir / "started"); }));
  pid_t pid = pid_of(dir);
  CHECK(live_members(pid) >= 2);
  CHECK(cloud.reap().empty());
  REQUIRE(kill(pid, SIGKILL) == 0);
  REQUIRE(readable_within(cloud.exit_fd(), std::chrono::seconds(10)));
  auto failed = cloud.reap();
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].id == x.id);
  CHECK(failed[0].state == instance_state::failed);
  CHECK(failed[0].fault == "killed by signal 9");
  CHECK(cloud.reap().empty()); // reported once
  CHECK(cloud.get(x.id).state == instance_state::failed);
  // Nothing of a crashed instance keeps running, and it frees capacity...
  CHECK(eventually([&] { return live_members(pid) == 0; }));
  CHECK(cloud.resources().instances_used == 0);
  // ...but it stays listed, and its order keeps it until it is erased.
  CHECK(cloud.create(spec_for("order-1")).state == instance_state::failed);
  CHECK(cloud.create(spec_for("order-2")).state == instance_state::running);
  cloud.erase(x.id);
  CHECK(cloud.list().size() == 1);
}

TEST_CASE("local cloud: a new local cloud re-adopts running instances") {
  temp_root root;
  instance a, b;
  {
    local_cloud cloud{config_for(root)};
    a = cloud.create(spec_for("order-a", "sleep 1000 &\n"));
    b = cloud.create(spec_for("order-b"));
  } // the manager goes away; its instances do not
  pid_t pid_a = pid_of(root.path / a.id);
  pid_t pid_b = pid_of(root.path / b.id);
  CHECK(kill(pid_a, 0) == 0);
  CHECK(kill(pid_b, 0) == 0);
  {
    local_cloud cloud{config_for(root)};
    CHECK(cloud.list().size() == 2);
    CHECK(cloud.get(a.id) == a);
    CHECK(cloud.get(b.id) == b);
    CHECK(cloud.create(spec_for("order-a")) == a); // no duplicate
    CHECK(cloud.list().size() == 2);
    CHECK(pid_of(root.path / a.id) == pid_a);
    CHECK(cloud.resources().instances_used == 2);
    // Adopted instances are watched like created ones.
    REQUIRE(kill(pid_b, SIGKILL) == 0);
    REQUIRE(readable_within(cloud.exit_fd(), std::chrono::seconds(10)));
    auto failed = cloud.reap();
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].id == b.id);
  }
  {
    local_cloud cloud{config_for(root)};
    auto now_b = cloud.get(b.id);
    CHECK(now_b.state == instance_state::failed);
    CHECK(now_b.fault == "killed by signal 9"); // kept on disk
    CHECK(cloud.get(a.id) == a);
    cloud.erase(a.id);
    CHECK(eventually([&] { return live_members(pid_a) == 0; }));
  }
}

TEST_CASE("local cloud: instances that died while no manager ran are failed") {
  temp_root root;
  instance a, b;
  {
    local_cloud cloud{config_for(root)};
    a = cloud.create(spec_for("order-a"));
    b = cloud.create(spec_for("order-b"));
  }
  pid_t pid_b = pid_of(root.path / b.id);
  REQUIRE(kill(pid_b, SIGKILL) == 0);
  REQUIRE(eventually([&] { return live_members(pid_b) == 0; }));
  local_cloud cloud{config_for(root)};
  CHECK(cloud.get(a.id).state == instance_state::running);
  auto now_b = cloud.get(b.id);
  CHECK(now_b.state == instance_state::failed);
  CHECK_FALSE(now_b.fault.empty());
  CHECK(cloud.reap().empty()); // found at startup: callers use list()
  CHECK(cloud.resources().instances_used == 1);
  CHECK(cloud.create(spec_for("order-b")).id == b.id);
}

TEST_CASE("local cloud: half-created instances are resolved at startup") {
  temp_root root;
  // The manager stopped before committing the metadata: nothing ran.
  fs::create_directory(root.path / "local-00000000000a");
  std::ofstream{root.path / "local-00000000000a" / "user-data"} << "true";
  // The manager stopped between the metadata and the process: nothing
  // ran either, and the order must get a fresh instance, not a failure.
  fs::create_directory(root.path / "local-00000000000b");
  std::ofstream{root.path / "local-00000000000b" / "instance.json"}
    << R"({"id": "local-00000000000b", "order_id": "order-b",
           "flavor": {"name": "small", "vcpu": 1, "memory_mb": 512,
                      "disk_gb": 10},
           "image": "debian-12", "created_at": 1})";
  // Something that is not an instance is left alone.
  fs::create_directory(root.path / "notes");
  local_cloud cloud{config_for(root)};
  CHECK_FALSE(fs::exists(root.path / "local-00000000000a"));
  CHECK_FALSE(fs::exists(root.path / "local-00000000000b"));
  CHECK(fs::exists(root.path / "notes"));
  CHECK(cloud.list().empty());
  auto fresh = cloud.create(spec_for("order-b"));
  CHECK(fresh.id != "local-00000000000b");
  CHECK(fresh.state == instance_state::running);
}
